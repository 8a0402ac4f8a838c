//! The randomness rustls asks its provider for, read from the operating system a block at a
//! time.
//!
//! rustls fills three values of every TLS 1.3 handshake through the provider's
//! [`SecureRandom`]: the server's `Random` in the ServerHello, and the session ticket's nonce
//! and age mask (TLS 1.2 adds a session ID). `ring`'s provider asks the kernel for each, so a
//! STARTTLS session made three `getrandom` system calls for 68 bytes. [`BlockRandom`] reads
//! 512 bytes at once per thread and hands them out in order, each byte once, overwriting what
//! it handed out: the same kernel generator, one system call every seven or so handshakes.
//!
//! Every one of those values travels to the client and none is a key. What must stay secret
//! (the key exchange's private key, the signature's nonce, the ticket keys and the nonce each
//! ticket is sealed with) does not come from here: `ring` (and `graviola`, for an X25519 key,
//! see `x25519.rs`) draws it from the kernel itself, each time.

use std::cell::RefCell;

use ring::rand::{SecureRandom as _, SystemRandom};
use rustls::crypto::{GetRandomFailed, SecureRandom};

/// Bytes read from the kernel at once.
const BLOCK: usize = 512;

/// A fill longer than this goes straight to the kernel, so that a block serves several
/// handshakes (rustls asks for 32 bytes at most).
const LARGEST_FROM_BLOCK: usize = BLOCK / 8;

/// The provider's randomness: see the module documentation.
#[derive(Debug)]
pub(crate) struct BlockRandom;

/// What one thread has read and not yet handed out: `bytes[next..]`.
struct Block {
    bytes: [u8; BLOCK],
    next: usize,
}

thread_local! {
    static UNUSED: RefCell<Block> = const {
        RefCell::new(Block {
            bytes: [0; BLOCK],
            next: BLOCK,
        })
    };
}

impl SecureRandom for BlockRandom {
    fn fill(&self, out: &mut [u8]) -> Result<(), GetRandomFailed> {
        if out.len() > LARGEST_FROM_BLOCK {
            return from_kernel(out);
        }
        UNUSED.with_borrow_mut(|block| block.take(out))
    }
}

impl Block {
    fn take(&mut self, out: &mut [u8]) -> Result<(), GetRandomFailed> {
        if BLOCK - self.next < out.len() {
            from_kernel(&mut self.bytes)?;
            self.next = 0;
        }
        let taken = &mut self.bytes[self.next..self.next + out.len()];
        out.copy_from_slice(taken);
        // Handed out once, and not left in memory after.
        taken.fill(0);
        self.next += out.len();
        Ok(())
    }
}

fn from_kernel(out: &mut [u8]) -> Result<(), GetRandomFailed> {
    SystemRandom::new().fill(out).map_err(|_| GetRandomFailed)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Draws `count` values of `len` bytes on this thread.
    fn draws(count: usize, len: usize) -> Vec<Vec<u8>> {
        (0..count)
            .map(|_| {
                let mut value = vec![0; len];
                BlockRandom.fill(&mut value).unwrap();
                value
            })
            .collect()
    }

    #[test]
    fn no_value_repeats_within_or_across_blocks() {
        // 100 x 32 bytes is more than six blocks' worth.
        let mut values = draws(100, 32);
        values.sort();
        values.dedup();
        assert_eq!(values.len(), 100);
        assert!(values.iter().all(|v| v.iter().any(|&b| b != 0)));
    }

    #[test]
    fn odd_sizes_and_large_fills_are_filled() {
        for len in [1, 4, 31, LARGEST_FROM_BLOCK, LARGEST_FROM_BLOCK + 1, 4096] {
            let values = draws(3, len);
            assert!(values.iter().all(|v| v.len() == len));
            if len >= 16 {
                assert_ne!(values[0], values[1], "{len} bytes");
                // An all-zero run of 16 bytes from a working generator: odds of 2^-128.
                assert!(values.iter().all(|v| v.iter().any(|&b| b != 0)), "{len}");
            }
        }
    }

    #[test]
    fn handed_out_bytes_are_wiped_from_the_block() {
        let mut block = Block {
            bytes: [0; BLOCK],
            next: BLOCK,
        };
        let mut first = [0; 32];
        block.take(&mut first).unwrap();
        assert_eq!(block.next, 32);
        assert!(block.bytes[..32].iter().all(|&b| b == 0));
        assert!(block.bytes[32..].iter().any(|&b| b != 0));
        // A fill that no longer fits reads a new block.
        block.next = BLOCK - 3;
        let mut second = [0; 4];
        block.take(&mut second).unwrap();
        assert_eq!(block.next, 4);
    }
}

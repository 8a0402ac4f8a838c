//! Finding an ASCII word in text while ignoring ASCII case, without copying the text.
//!
//! Search runs one word over every stored message, so the haystack is never lower-cased into
//! a buffer. Instead:
//!
//! - in text with no upper-case ASCII letter (checked 64 bytes at a time, a loop the compiler
//!   vectorises, and usually answered by the first capital), the needle is looked for as it
//!   is, with `memchr::memmem`;
//! - in other text, the needle's rarest byte (by a rough English letter frequency) is looked
//!   for in both cases with `memchr2`, and only at those candidates are the second-rarest byte
//!   and then the whole needle compared.

use memchr::memchr2;
use memchr::memmem::Finder;

/// English letters from the most to the least frequent (a rough order is enough: it only
/// decides which byte is looked for first).
const LETTERS_BY_FREQUENCY: &[u8] = b"etaoinsrhldcumfpgwybvkxjqz";

/// A lower-case ASCII needle, ready to be found in many haystacks.
#[derive(Clone, Debug)]
pub(crate) struct CaselessFinder {
    needle: Box<[u8]>,
    exact: Finder<'static>,
    /// Offset of the byte searched for with `memchr2`, and of the one checked next.
    rarest: usize,
    second: usize,
}

impl CaselessFinder {
    /// A finder for `needle`, which must be non-empty, ASCII and lower case (as cleaned search
    /// words are); `None` otherwise.
    pub(crate) fn new(needle: &str) -> Option<Self> {
        let bytes = needle.as_bytes();
        if bytes.is_empty() || !needle.is_ascii() || bytes.iter().any(u8::is_ascii_uppercase) {
            return None;
        }
        let mut by_rarity: Vec<usize> = (0..bytes.len()).collect();
        by_rarity.sort_by_key(|&i| std::cmp::Reverse(rarity(bytes[i])));
        Some(Self {
            exact: Finder::new(bytes).into_owned(),
            rarest: by_rarity[0],
            second: by_rarity.get(1).copied().unwrap_or(by_rarity[0]),
            needle: bytes.into(),
        })
    }

    /// The needle's length in bytes.
    pub(crate) fn len(&self) -> usize {
        self.needle.len()
    }

    /// Whether `haystack` contains the needle, ASCII letters compared without case (other
    /// bytes exactly).
    pub(crate) fn is_in(&self, haystack: &[u8]) -> bool {
        if has_ascii_uppercase(haystack) {
            self.is_in_any_case(haystack)
        } else {
            self.exact.find(haystack).is_some()
        }
    }

    fn is_in_any_case(&self, haystack: &[u8]) -> bool {
        let needle = &self.needle[..];
        if haystack.len() < needle.len() {
            return false;
        }
        let rare = needle[self.rarest];
        let (second, second_at) = (needle[self.second], self.second);
        // Positions where the rarest byte may sit for the whole needle to fit.
        let last_start = haystack.len() - needle.len();
        let mut from = self.rarest;
        let end = last_start + self.rarest + 1;
        while let Some(found) = memchr2(rare, rare.to_ascii_uppercase(), &haystack[from..end]) {
            let start = from + found - self.rarest;
            if haystack[start + second_at].to_ascii_lowercase() == second
                && haystack[start..start + needle.len()].eq_ignore_ascii_case(needle)
            {
                return true;
            }
            from += found + 1;
        }
        false
    }
}

/// Whether `bytes` hold an upper-case ASCII letter: 64 bytes at a time without an early exit
/// inside a block, so that the inner loop is vectorised.
fn has_ascii_uppercase(bytes: &[u8]) -> bool {
    bytes.chunks(64).any(|block| {
        block
            .iter()
            .fold(false, |seen, byte| seen | byte.is_ascii_uppercase())
    })
}

/// How rare a byte is in text: letters by their frequency, digits and punctuation rarer than
/// most letters.
fn rarity(byte: u8) -> usize {
    match LETTERS_BY_FREQUENCY.iter().position(|&b| b == byte) {
        Some(rank) => rank,
        None if byte.is_ascii_digit() => 12,
        None => 20,
    }
}

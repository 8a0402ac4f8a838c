//! MD5-crypt (`$1$`) and Apache's variant of it (`$apr1$`).
//!
//! Poul-Henning Kamp's algorithm from FreeBSD, as glibc and Apache's `apr_md5_encode` implement
//! it. The two formats differ only in the magic string mixed into the first digest. No
//! maintained RustCrypto crate covers either, and the algorithm is short, so it lives here; the
//! fixtures made by `htpasswd -m` and `mkpasswd -m md5crypt` pin it to the real tools.

use md5::{Digest, Md5};

/// Which of the two MD5-crypt formats a hash uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Md5Variant {
    /// `$1$`, glibc's MD5-crypt.
    Crypt,
    /// `$apr1$`, Apache's default for `htpasswd`.
    Apache,
}

impl Md5Variant {
    /// The magic string that starts a hash of this variant, and that the algorithm hashes in.
    pub(crate) const fn magic(self) -> &'static str {
        match self {
            Self::Crypt => "$1$",
            Self::Apache => "$apr1$",
        }
    }
}

/// The longest salt the algorithm uses; longer salts are cut here by every implementation.
pub(crate) const MAX_SALT_LEN: usize = 8;

/// Length of the encoded checksum after the salt.
pub(crate) const CHECKSUM_LEN: usize = 22;

/// The `./0-9A-Za-z` alphabet that crypt(3) uses for its own base-64 encoding.
pub(crate) const CRYPT_ALPHABET: &[u8; 64] =
    b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Computes the 22-character checksum that follows `$magic$salt$` for `password`.
pub(crate) fn checksum(variant: Md5Variant, password: &[u8], salt: &[u8]) -> [u8; CHECKSUM_LEN] {
    let salt = &salt[..salt.len().min(MAX_SALT_LEN)];
    let mut digest = initial_digest(variant, password, salt);
    for round in 0..1000 {
        digest = stretch(round, password, salt, &digest);
    }
    encode(&digest)
}

/// Steps 1 to 3 of the algorithm: password, magic, salt, the alternate digest and the odd
/// bit-pattern loop over the password length.
fn initial_digest(variant: Md5Variant, password: &[u8], salt: &[u8]) -> [u8; 16] {
    let alternate: [u8; 16] = Md5::new()
        .chain_update(password)
        .chain_update(salt)
        .chain_update(password)
        .finalize()
        .into();

    let mut ctx = Md5::new();
    ctx.update(password);
    ctx.update(variant.magic().as_bytes());
    ctx.update(salt);
    let mut remaining = password.len();
    while remaining > 0 {
        let take = remaining.min(alternate.len());
        ctx.update(&alternate[..take]);
        remaining -= take;
    }
    let first = password.first().copied().unwrap_or(0);
    let mut bits = password.len();
    while bits > 0 {
        ctx.update([if bits & 1 == 1 { 0 } else { first }]);
        bits >>= 1;
    }
    ctx.finalize().into()
}

/// One of the 1000 stretching rounds.
fn stretch(round: u32, password: &[u8], salt: &[u8], previous: &[u8; 16]) -> [u8; 16] {
    let mut ctx = Md5::new();
    if round % 2 == 1 {
        ctx.update(password);
    } else {
        ctx.update(previous);
    }
    if !round.is_multiple_of(3) {
        ctx.update(salt);
    }
    if !round.is_multiple_of(7) {
        ctx.update(password);
    }
    if round % 2 == 1 {
        ctx.update(previous);
    } else {
        ctx.update(password);
    }
    ctx.finalize().into()
}

/// The final byte shuffle and crypt base-64 encoding: five groups of three bytes, then one.
fn encode(digest: &[u8; 16]) -> [u8; CHECKSUM_LEN] {
    const GROUPS: [[usize; 3]; 5] = [[0, 6, 12], [1, 7, 13], [2, 8, 14], [3, 9, 15], [4, 10, 5]];
    let mut out = [0u8; CHECKSUM_LEN];
    for (group, slot) in GROUPS.iter().zip(out.chunks_mut(4)) {
        let value = u32::from(digest[group[0]]) << 16
            | u32::from(digest[group[1]]) << 8
            | u32::from(digest[group[2]]);
        write_base64(value, slot);
    }
    write_base64(u32::from(digest[11]), &mut out[20..]);
    out
}

/// Writes the low `6 * out.len()` bits of `value`, least significant first.
fn write_base64(mut value: u32, out: &mut [u8]) {
    for byte in out {
        *byte = CRYPT_ALPHABET[(value & 0x3f) as usize];
        value >>= 6;
    }
}

//! One stored password: recognising its format, checking its shape at load time, verifying a
//! candidate against it.
//!
//! Everything that can be wrong with a stored hash is found by [`StoredPassword::parse`], so a
//! broken entry stops start-up with its line number instead of silently never matching.
//! Verification then only computes and compares; plain text and the fast hashes (`{SHA}`,
//! `{SSHA}`, MD5-crypt) are compared in constant time, and the slow ones through their crates'
//! constant-time checks.

use std::fmt;

use argon2::{Argon2, PasswordHash, PasswordVerifier as _};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use sha1::{Digest as _, Sha1};
use sha2::Sha256;
use sha_crypt::ShaCrypt;
use subtle::ConstantTimeEq as _;

use crate::md5crypt::{self, Md5Variant, CRYPT_ALPHABET};

/// The format of a stored password, as recognised from its prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Scheme {
    /// No known prefix, or `{PLAIN}`: the password itself.
    Plain,
    /// `$apr1$`: Apache's MD5 (`htpasswd -m`, the default).
    Apr1,
    /// `$1$`: MD5-crypt.
    Md5Crypt,
    /// `$2y$`, `$2a$`, `$2b$`: bcrypt.
    Bcrypt,
    /// `{SHA}`: base64 of an unsalted SHA-1 digest (`htpasswd -s`).
    Sha1,
    /// `{SSHA}`: base64 of SHA-1(password + salt) followed by the salt.
    Ssha,
    /// `$5$`: SHA-256-crypt.
    Sha256Crypt,
    /// `$6$`: SHA-512-crypt.
    Sha512Crypt,
    /// `$argon2id$`, `$argon2i$`, `$argon2d$`: an Argon2 PHC string.
    Argon2,
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Plain => "plain-text",
            Self::Apr1 => "$apr1$ (Apache MD5)",
            Self::Md5Crypt => "$1$ (MD5-crypt)",
            Self::Bcrypt => "bcrypt",
            Self::Sha1 => "{SHA}",
            Self::Ssha => "{SSHA}",
            Self::Sha256Crypt => "$5$ (SHA-256-crypt)",
            Self::Sha512Crypt => "$6$ (SHA-512-crypt)",
            Self::Argon2 => "argon2",
        })
    }
}

/// Why a secret could not be accepted; the loader adds the place and the user name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rejection {
    Empty,
    Malformed(Scheme, &'static str),
    Unsupported(&'static str),
}

/// Hash formats that tools write but this crate does not verify. Taking them as plain-text
/// passwords would lock the user out with no hint, so they are refused by name.
const UNSUPPORTED: &[(&str, &str)] = &[
    ("$y$", "yescrypt"),
    ("$gy$", "gost-yescrypt"),
    ("$7$", "scrypt"),
    ("$scrypt$", "scrypt"),
    ("$2x$", "$2x$ (buggy bcrypt)"),
    ("$3$", "NT-Hash"),
    ("$md5$", "SunMD5"),
    ("$md5,", "SunMD5"),
    ("$sha1$", "SHA-1-crypt"),
    ("$pbkdf2", "PBKDF2"),
];

/// A parsed, validated stored password. Always kept inside a [`crate::Secret`].
#[derive(Debug, Clone)]
pub(crate) enum StoredPassword {
    Plain(Vec<u8>),
    Sha1([u8; 20]),
    Ssha {
        digest: [u8; 20],
        salt: Vec<u8>,
    },
    Md5Crypt {
        variant: Md5Variant,
        salt: String,
        checksum: String,
    },
    Bcrypt(String),
    ShaCrypt {
        scheme: Scheme,
        hash: String,
    },
    Argon2(Box<PasswordHash>),
}

impl StoredPassword {
    /// Recognises the format of `secret` and checks its shape.
    pub(crate) fn parse(secret: &str) -> Result<Self, Rejection> {
        if secret.is_empty() {
            return Err(Rejection::Empty);
        }
        if let Some((_, name)) = UNSUPPORTED
            .iter()
            .find(|(prefix, _)| secret.starts_with(prefix))
        {
            return Err(Rejection::Unsupported(name));
        }
        if let Some(plain) = secret.strip_prefix("{PLAIN}") {
            return parse_plain(plain);
        }
        if let Some(body) = secret.strip_prefix("{SHA}") {
            return parse_sha1(body);
        }
        if let Some(body) = secret.strip_prefix("{SSHA}") {
            return parse_ssha(body);
        }
        if let Some(body) = secret.strip_prefix("$apr1$") {
            return parse_md5crypt(Md5Variant::Apache, body);
        }
        if let Some(body) = secret.strip_prefix("$1$") {
            return parse_md5crypt(Md5Variant::Crypt, body);
        }
        if ["$2y$", "$2a$", "$2b$"]
            .iter()
            .any(|prefix| secret.starts_with(prefix))
        {
            return parse_bcrypt(secret);
        }
        if let Some(body) = secret.strip_prefix("$5$") {
            return parse_sha_crypt(Scheme::Sha256Crypt, secret, body);
        }
        if let Some(body) = secret.strip_prefix("$6$") {
            return parse_sha_crypt(Scheme::Sha512Crypt, secret, body);
        }
        if secret.starts_with("$argon2") {
            return parse_argon2(secret);
        }
        parse_plain(secret)
    }

    /// The format.
    pub(crate) fn scheme(&self) -> Scheme {
        match self {
            Self::Plain(_) => Scheme::Plain,
            Self::Sha1(_) => Scheme::Sha1,
            Self::Ssha { .. } => Scheme::Ssha,
            Self::Md5Crypt { variant, .. } => md5_scheme(*variant),
            Self::Bcrypt(_) => Scheme::Bcrypt,
            Self::ShaCrypt { scheme, .. } => *scheme,
            Self::Argon2(_) => Scheme::Argon2,
        }
    }

    /// The password itself, for users stored in plain text (CRAM-MD5 needs it).
    pub(crate) fn plain(&self) -> Option<&[u8]> {
        match self {
            Self::Plain(password) => Some(password),
            _ => None,
        }
    }

    /// Checks `candidate` against the stored password.
    pub(crate) fn verify(&self, candidate: &[u8]) -> bool {
        match self {
            Self::Plain(password) => plain_eq(password, candidate),
            Self::Sha1(digest) => digest.ct_eq(&Sha1::digest(candidate)[..]).into(),
            Self::Ssha { digest, salt } => {
                let computed = Sha1::new()
                    .chain_update(candidate)
                    .chain_update(salt)
                    .finalize();
                digest.ct_eq(&computed[..]).into()
            }
            Self::Md5Crypt {
                variant,
                salt,
                checksum,
            } => {
                let computed = md5crypt::checksum(*variant, candidate, salt.as_bytes());
                checksum.as_bytes().ct_eq(&computed).into()
            }
            Self::Bcrypt(hash) => bcrypt::verify(candidate, hash).unwrap_or(false),
            Self::ShaCrypt { hash, .. } => ShaCrypt::default()
                .verify_password(candidate, hash.as_str())
                .is_ok(),
            Self::Argon2(hash) => Argon2::default()
                .verify_password(candidate, &**hash)
                .is_ok(),
        }
    }
}

/// Compares two plain-text passwords in constant time, including their lengths: both sides
/// are hashed first, so the comparison always covers 32 bytes.
pub(crate) fn plain_eq(stored: &[u8], candidate: &[u8]) -> bool {
    Sha256::digest(stored)
        .ct_eq(&Sha256::digest(candidate))
        .into()
}

fn parse_plain(plain: &str) -> Result<StoredPassword, Rejection> {
    if plain.is_empty() {
        return Err(Rejection::Empty);
    }
    Ok(StoredPassword::Plain(plain.as_bytes().to_vec()))
}

fn parse_sha1(body: &str) -> Result<StoredPassword, Rejection> {
    let bad = |problem| Rejection::Malformed(Scheme::Sha1, problem);
    let bytes = BASE64.decode(body).map_err(|_| bad("not valid base64"))?;
    let digest = bytes
        .try_into()
        .map_err(|_| bad("not a 20-byte SHA-1 digest"))?;
    Ok(StoredPassword::Sha1(digest))
}

fn parse_ssha(body: &str) -> Result<StoredPassword, Rejection> {
    let bad = |problem| Rejection::Malformed(Scheme::Ssha, problem);
    let bytes = BASE64.decode(body).map_err(|_| bad("not valid base64"))?;
    if bytes.len() <= 20 {
        return Err(bad("shorter than a 20-byte SHA-1 digest plus a salt"));
    }
    let (digest, salt) = bytes.split_at(20);
    let digest = digest
        .try_into()
        .map_err(|_| bad("not a 20-byte SHA-1 digest"))?;
    Ok(StoredPassword::Ssha {
        digest,
        salt: salt.to_vec(),
    })
}

fn md5_scheme(variant: Md5Variant) -> Scheme {
    match variant {
        Md5Variant::Apache => Scheme::Apr1,
        Md5Variant::Crypt => Scheme::Md5Crypt,
    }
}

fn parse_md5crypt(variant: Md5Variant, body: &str) -> Result<StoredPassword, Rejection> {
    let scheme = md5_scheme(variant);
    let bad = |problem| Rejection::Malformed(scheme, problem);
    let (salt, checksum) = body.split_once('$').ok_or(bad("no '$' after the salt"))?;
    if salt.is_empty() || salt.len() > md5crypt::MAX_SALT_LEN {
        return Err(bad("the salt must be 1 to 8 characters"));
    }
    if checksum.len() != md5crypt::CHECKSUM_LEN || !is_crypt_base64(checksum) {
        return Err(bad("the checksum must be 22 characters of ./0-9A-Za-z"));
    }
    Ok(StoredPassword::Md5Crypt {
        variant,
        salt: salt.to_owned(),
        checksum: checksum.to_owned(),
    })
}

fn parse_bcrypt(hash: &str) -> Result<StoredPassword, Rejection> {
    let bad = |problem| Rejection::Malformed(Scheme::Bcrypt, problem);
    if hash.len() != 60 {
        return Err(bad("a bcrypt hash is exactly 60 characters"));
    }
    let parts: bcrypt::HashParts = hash
        .parse()
        .map_err(|_| bad("cost, salt or hash unreadable"))?;
    if !(4..=31).contains(&parts.get_cost()) {
        return Err(bad("the cost must be 4 to 31"));
    }
    Ok(StoredPassword::Bcrypt(hash.to_owned()))
}

/// `$5$[rounds=N$]salt$checksum` (and `$6$`), as glibc writes them.
fn parse_sha_crypt(scheme: Scheme, hash: &str, body: &str) -> Result<StoredPassword, Rejection> {
    let bad = |problem| Rejection::Malformed(scheme, problem);
    let body = match body.strip_prefix("rounds=") {
        Some(rest) => {
            let (rounds, rest) = rest.split_once('$').ok_or(bad("no '$' after rounds="))?;
            let rounds: u32 = rounds.parse().map_err(|_| bad("rounds= is not a number"))?;
            sha_crypt::Params::new(rounds).map_err(|_| bad("rounds= must be 1000 to 999999999"))?;
            rest
        }
        None => body,
    };
    let (salt, checksum) = body.split_once('$').ok_or(bad("no '$' after the salt"))?;
    if salt.is_empty() || salt.len() > 16 {
        return Err(bad("the salt must be 1 to 16 characters"));
    }
    let expected_len = if scheme == Scheme::Sha256Crypt {
        43
    } else {
        86
    };
    if checksum.len() != expected_len || !is_crypt_base64(checksum) {
        return Err(bad("the checksum has the wrong length or characters"));
    }
    Ok(StoredPassword::ShaCrypt {
        scheme,
        hash: hash.to_owned(),
    })
}

fn parse_argon2(hash: &str) -> Result<StoredPassword, Rejection> {
    let bad = |problem| Rejection::Malformed(Scheme::Argon2, problem);
    let parsed = PasswordHash::new(hash).map_err(|_| bad("not a valid PHC string"))?;
    argon2::Algorithm::try_from(parsed.algorithm.as_str())
        .map_err(|_| bad("not argon2id, argon2i or argon2d"))?;
    if let Some(version) = parsed.version {
        argon2::Version::try_from(version).map_err(|_| bad("unknown version (v=)"))?;
    }
    argon2::Params::try_from(&parsed).map_err(|_| bad("invalid m=, t= or p= parameters"))?;
    match (&parsed.salt, &parsed.hash) {
        (Some(salt), Some(_)) if salt.len() >= 8 => Ok(StoredPassword::Argon2(Box::new(parsed))),
        (Some(_), Some(_)) => Err(bad("the salt is shorter than 8 bytes")),
        _ => Err(bad("the salt or the hash is missing")),
    }
}

fn is_crypt_base64(text: &str) -> bool {
    text.bytes().all(|byte| CRYPT_ALPHABET.contains(&byte))
}

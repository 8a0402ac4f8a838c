//! Making new entries: [`hash_password`] and [`format_htpasswd_line`], behind
//! `mailsink hash-password`, so a system without Apache's tools can still write a password file.

use std::fmt;

use argon2::{Argon2, PasswordHasher as _};

use crate::error::HashError;

/// The bcrypt cost written by [`hash_password`]: about 50-100 ms per check on a small machine,
/// which the login cache pays once per distinct credential.
pub const BCRYPT_COST: u32 = 10;

/// bcrypt uses at most this many bytes of a password.
const BCRYPT_MAX_PASSWORD: usize = 72;

/// The schemes [`hash_password`] can write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HashScheme {
    /// `$2y$10$...`, the same form as `htpasswd -B -C 10`.
    Bcrypt,
    /// `$argon2id$v=19$m=19456,t=2,p=1$...`, the argon2 crate's defaults (OWASP's minimum).
    Argon2id,
}

impl fmt::Display for HashScheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Bcrypt => "bcrypt",
            Self::Argon2id => "argon2id",
        })
    }
}

/// Hashes `password` with a fresh random salt, in a form [`crate::Credentials`] loads.
///
/// # Errors
/// The password is empty, too long for bcrypt (over 72 bytes, which bcrypt would silently
/// cut), or the system's random source failed.
pub fn hash_password(scheme: HashScheme, password: &[u8]) -> Result<String, HashError> {
    if password.is_empty() {
        return Err(HashError::EmptyPassword);
    }
    match scheme {
        HashScheme::Bcrypt => hash_bcrypt(password),
        HashScheme::Argon2id => hash_argon2id(password),
    }
}

fn hash_bcrypt(password: &[u8]) -> Result<String, HashError> {
    if password.len() > BCRYPT_MAX_PASSWORD {
        return Err(HashError::PasswordTooLong {
            max_bytes: BCRYPT_MAX_PASSWORD,
        });
    }
    bcrypt::hash_with_result(password, BCRYPT_COST)
        .map(|parts| parts.format_for_version(bcrypt::Version::TwoY))
        .map_err(|e| HashError::Backend {
            scheme: HashScheme::Bcrypt,
            reason: e.to_string(),
        })
}

fn hash_argon2id(password: &[u8]) -> Result<String, HashError> {
    Argon2::default()
        .hash_password(password)
        .map(|hash| hash.to_string())
        .map_err(|e| HashError::Backend {
            scheme: HashScheme::Argon2id,
            reason: e.to_string(),
        })
}

/// Formats one password-file line, `user:hash`, without a line end.
///
/// # Errors
/// The user name is empty, starts with `#`, or holds a `:`, whitespace or a control character:
/// the line would not load back as this user (in a file or in `MP_SMTP_AUTH`). A hash holding
/// whitespace or control characters is refused the same way.
pub fn format_htpasswd_line(user: &str, hash: &str) -> Result<String, HashError> {
    if user.is_empty() {
        return Err(HashError::InvalidUserName("empty"));
    }
    if user.starts_with('#') {
        return Err(HashError::InvalidUserName(
            "starts with '#', which marks a comment",
        ));
    }
    if user.contains(':') {
        return Err(HashError::InvalidUserName("contains ':'"));
    }
    if user.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(HashError::InvalidUserName(
            "contains whitespace or a control character",
        ));
    }
    if hash.is_empty() || hash.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(HashError::InvalidHash);
    }
    Ok(format!("{user}:{hash}"))
}

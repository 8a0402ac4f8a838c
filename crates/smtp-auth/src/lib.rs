//! htpasswd-style credentials for SMTP AUTH: loading, verifying, caching, hashing.
//!
//! A pure library: no sockets, no threads of its own, and nothing secret in logs or `Debug`.
//! The server loads a [`Credentials`] set from `--smtp-auth-file` ([`Credentials::from_file`])
//! or `MP_SMTP_AUTH` ([`Credentials::parse_inline`]), wraps it in a [`Verifier`] shared by all
//! worker threads, and calls [`Verifier::replace`] when the file is reloaded.
//!
//! ```
//! use smtp_auth::{Credentials, Verifier};
//!
//! let credentials = Credentials::parse_inline("alice:{PLAIN}wonderland bob:builder")?;
//! let verifier = Verifier::new(credentials);
//! assert!(verifier.verify("alice", b"wonderland"));
//! assert!(!verifier.verify("bob", b"wonderland"));
//! // On SIGHUP or a file change: load again, keep the old set if the new one is broken.
//! verifier.replace(Credentials::parse_inline("alice:looking-glass")?);
//! assert!(!verifier.verify("alice", b"wonderland"));
//! # Ok::<(), smtp_auth::LoadError>(())
//! ```
//!
//! # Formats
//!
//! | prefix | scheme | written by |
//! |---|---|---|
//! | `$apr1$` | Apache MD5 | `htpasswd -m` (its default) |
//! | `$2y$`, `$2a$`, `$2b$` | bcrypt | `htpasswd -B`, `mkpasswd -m bcrypt`, [`hash_password`] |
//! | `{SHA}` | base64 SHA-1, unsalted | `htpasswd -s` |
//! | `{SSHA}` | base64 of SHA-1(password + salt) + salt | `slappasswd`, Dovecot |
//! | `$1$` | MD5-crypt | `mkpasswd -m md5crypt` |
//! | `$5$`, `$6$` (optional `rounds=`) | SHA-256/512-crypt | `htpasswd -2`/`-5`, `mkpasswd` |
//! | `$argon2id$`, `$argon2i$`, `$argon2d$` | Argon2 PHC string | `argon2 -e`, [`hash_password`] |
//! | `{PLAIN}` or no known prefix | plain text | `htpasswd -p` |
//!
//! Not supported: htpasswd's 8-character DES (`-d`), which cannot be told apart from a
//! 13-character plain-text password and so is read as one; and yescrypt, scrypt, `$2x$` and
//! the like, which are refused at load time by name rather than mistaken for plain text.
//!
//! A line with a known prefix and a broken body is an error that names the file and line;
//! Mailpit skips such a line silently and the user can never log in.
//!
//! # Timing
//!
//! Plain text, `{SHA}`, `{SSHA}` and MD5-crypt are compared in constant time; the slow schemes
//! use their crates' constant-time checks. A right password is checked in full once, then
//! answered from [`Verifier`]'s keyed cache (see its module for why that is safe).

mod credentials;
mod error;
mod generate;
mod md5crypt;
mod secret;
mod stored;
mod verifier;

pub use credentials::Credentials;
pub use error::{HashError, LoadError, LoadErrorKind, Origin};
pub use generate::{format_htpasswd_line, hash_password, HashScheme, BCRYPT_COST};
pub use secret::Secret;
pub use stored::Scheme;
pub use verifier::{Verifier, CACHE_CAPACITY};

#[cfg(test)]
mod tests;

//! [`Credentials`]: the users and their stored passwords, loaded from a file or `MP_SMTP_AUTH`.
//!
//! File format: one `user:secret` entry per line, split at the first `:`. Leading and trailing
//! whitespace, a CRLF line end and a UTF-8 byte-order mark are ignored; blank lines and lines
//! starting with `#` are skipped. `MP_SMTP_AUTH` holds `user:secret` entries separated by any
//! whitespace, as Mailpit reads it. In both, a user listed twice keeps the later entry.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use hmac::{Hmac, KeyInit as _, Mac as _};
use md5::Md5;

use crate::error::{LoadError, LoadErrorKind, Origin};
use crate::secret::Secret;
use crate::stored::{self, Rejection, Scheme, StoredPassword};

/// Windows editors may start a UTF-8 file with a byte-order mark; it is not part of a name.
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// A set of users and their stored passwords.
///
/// Immutable once loaded: a reload builds a new value and swaps it in (see
/// [`crate::Verifier::replace`]). `Debug` lists the user names only.
#[derive(Clone)]
pub struct Credentials {
    users: HashMap<String, Secret<StoredPassword>>,
}

impl Credentials {
    /// Loads a password file (`--smtp-auth-file`).
    ///
    /// # Errors
    /// The file cannot be read, or a line is malformed (the error names the file and line), or
    /// the file lists no user.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, LoadError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| LoadError::unreadable(path.to_owned(), e))?;
        let origin = Origin::File(path.to_owned());
        let text = bytes.strip_prefix(UTF8_BOM).unwrap_or(&bytes);
        let mut users = HashMap::new();
        for (index, line) in text.split(|&byte| byte == b'\n').enumerate() {
            let number = index + 1;
            let line = std::str::from_utf8(line)
                .map_err(|_| LoadError::at(&origin, number, LoadErrorKind::NotUtf8))?
                .trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (user, stored) =
                parse_entry(line).map_err(|kind| LoadError::at(&origin, number, kind))?;
            insert(&mut users, &origin, number, user, stored);
        }
        Self::from_users(origin, users)
    }

    /// Parses inline credentials (`MP_SMTP_AUTH`): `user:secret` entries separated by any
    /// whitespace.
    ///
    /// # Errors
    /// An entry is malformed (the error names `MP_SMTP_AUTH` and the 1-based entry number), or
    /// there is no entry at all.
    pub fn parse_inline(text: &str) -> Result<Self, LoadError> {
        let origin = Origin::Inline;
        let mut users = HashMap::new();
        for (index, entry) in text.split_whitespace().enumerate() {
            let number = index + 1;
            let (user, stored) =
                parse_entry(entry).map_err(|kind| LoadError::at(&origin, number, kind))?;
            insert(&mut users, &origin, number, user, stored);
        }
        Self::from_users(origin, users)
    }

    fn from_users(
        origin: Origin,
        users: HashMap<String, Secret<StoredPassword>>,
    ) -> Result<Self, LoadError> {
        if users.is_empty() {
            return Err(LoadError::whole(origin, LoadErrorKind::NoUsers));
        }
        Ok(Self { users })
    }

    /// How many users are stored.
    pub fn len(&self) -> usize {
        self.users.len()
    }

    /// True when no user is stored (never the case for a successfully loaded set).
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    /// The user names, in no particular order.
    pub fn usernames(&self) -> impl Iterator<Item = &str> {
        self.users.keys().map(String::as_str)
    }

    /// The format `user`'s password is stored in, if the user exists.
    pub fn scheme(&self, user: &str) -> Option<Scheme> {
        self.users
            .get(user)
            .map(|stored| stored.expose_secret().scheme())
    }

    /// True when at least one user is stored in plain text, which CRAM-MD5 needs: the server
    /// offers CRAM-MD5 only then.
    pub fn has_plain_users(&self) -> bool {
        self.users
            .values()
            .any(|stored| stored.expose_secret().plain().is_some())
    }

    /// Checks `password` for `user`. An unknown user gets `false` after a plain-text comparison
    /// against a dummy, so it costs about what a plain-text user costs (a slow hash is not
    /// imitated: that would hand out free CPU burns).
    pub fn verify(&self, user: &str, password: &[u8]) -> bool {
        match self.users.get(user) {
            Some(stored) => stored.expose_secret().verify(password),
            None => {
                let _ = stored::plain_eq(b"no such user", password);
                false
            }
        }
    }

    /// Checks a CRAM-MD5 response (RFC 2195): `response_hex` must be the lowercase or uppercase
    /// hex HMAC-MD5 of `challenge` keyed with `user`'s password. Only users stored in plain
    /// text can pass; a hashed or unknown user gets `false`.
    pub fn verify_cram_md5(&self, user: &str, challenge: &[u8], response_hex: &str) -> bool {
        let Some(expected) = decode_hex_16(response_hex) else {
            return false;
        };
        let Some(password) = self.users.get(user).and_then(|s| s.expose_secret().plain()) else {
            return false;
        };
        let Ok(mut mac) = Hmac::<Md5>::new_from_slice(password) else {
            return false;
        };
        mac.update(challenge);
        mac.verify_slice(&expected).is_ok()
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<&str> = self.usernames().collect();
        names.sort_unstable();
        f.debug_struct("Credentials")
            .field("users", &names)
            .finish()
    }
}

/// Splits `user:secret` and parses the secret.
fn parse_entry(entry: &str) -> Result<(String, StoredPassword), LoadErrorKind> {
    let (user, secret) = entry.split_once(':').ok_or(LoadErrorKind::MissingColon)?;
    if user.trim().is_empty() {
        return Err(LoadErrorKind::EmptyUser);
    }
    let user = user.to_owned();
    match StoredPassword::parse(secret) {
        Ok(stored) => Ok((user, stored)),
        Err(Rejection::Empty) => Err(LoadErrorKind::EmptySecret { user }),
        Err(Rejection::Malformed(scheme, problem)) => Err(LoadErrorKind::MalformedHash {
            user,
            scheme,
            problem,
        }),
        Err(Rejection::Unsupported(scheme)) => {
            Err(LoadErrorKind::UnsupportedScheme { user, scheme })
        }
    }
}

fn insert(
    users: &mut HashMap<String, Secret<StoredPassword>>,
    origin: &Origin,
    position: usize,
    user: String,
    stored: StoredPassword,
) {
    let scheme = stored.scheme();
    if users.insert(user.clone(), Secret::new(stored)).is_some() {
        log::debug!("{origin} #{position}: user {user:?} listed again, the later entry wins");
    }
    log::trace!("{origin} #{position}: user {user:?} stored as {scheme}");
}

/// Decodes exactly 32 hex digits (either case) into 16 bytes.
fn decode_hex_16(text: &str) -> Option<[u8; 16]> {
    let digits = text.as_bytes();
    if digits.len() != 32 {
        return None;
    }
    let mut out = [0u8; 16];
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        *byte = hex_value(pair[0])? << 4 | hex_value(pair[1])?;
    }
    Some(out)
}

/// The value of one hexadecimal digit, either case (the standard library's reading of it).
fn hex_value(digit: u8) -> Option<u8> {
    char::from(digit)
        .to_digit(16)
        .and_then(|value| u8::try_from(value).ok())
}

//! Errors: [`LoadError`] for reading credentials, [`HashError`] for making a new hash.
//!
//! No error carries a password or a hash. An error names the source (a file path or
//! `MP_SMTP_AUTH`), the 1-based line or entry number, and, where one was read, the user name.

use std::fmt;
use std::io;
use std::path::PathBuf;

use crate::generate::HashScheme;
use crate::stored::Scheme;

/// Where a set of credentials came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A password file (`--smtp-auth-file`, `MP_SMTP_AUTH_FILE`).
    File(PathBuf),
    /// The `MP_SMTP_AUTH` environment variable.
    Inline,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(path) => write!(f, "{}", path.display()),
            Self::Inline => f.write_str("MP_SMTP_AUTH"),
        }
    }
}

/// Credentials could not be loaded; the server refuses to start (or keeps the old set on
/// reload).
#[derive(Debug)]
pub struct LoadError {
    origin: Origin,
    position: Option<usize>,
    kind: LoadErrorKind,
}

impl LoadError {
    pub(crate) fn unreadable(path: PathBuf, error: io::Error) -> Self {
        Self {
            origin: Origin::File(path),
            position: None,
            kind: LoadErrorKind::Unreadable(error),
        }
    }

    pub(crate) fn whole(origin: Origin, kind: LoadErrorKind) -> Self {
        Self {
            origin,
            position: None,
            kind,
        }
    }

    pub(crate) fn at(origin: &Origin, position: usize, kind: LoadErrorKind) -> Self {
        Self {
            origin: origin.clone(),
            position: Some(position),
            kind,
        }
    }

    /// The file or `MP_SMTP_AUTH`.
    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// The 1-based line number (in a file) or entry number (in `MP_SMTP_AUTH`); `None` when
    /// the file could not be read at all.
    pub fn position(&self) -> Option<usize> {
        self.position
    }

    /// What is wrong.
    pub fn kind(&self) -> &LoadErrorKind {
        &self.kind
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let place = match self.origin {
            Origin::File(_) => "line",
            Origin::Inline => "entry",
        };
        match (&self.kind, self.position) {
            (LoadErrorKind::Unreadable(error), _) => {
                write!(
                    f,
                    "password file not found or readable: {} ({error})",
                    self.origin
                )
            }
            (kind, Some(position)) => write!(f, "{} {place} {position}: {kind}", self.origin),
            (kind, None) => write!(f, "{}: {kind}", self.origin),
        }
    }
}

impl std::error::Error for LoadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            LoadErrorKind::Unreadable(error) => Some(error),
            _ => None,
        }
    }
}

/// What is wrong with a password file or an `MP_SMTP_AUTH` entry.
#[derive(Debug)]
#[non_exhaustive]
pub enum LoadErrorKind {
    /// The file could not be opened or read.
    Unreadable(io::Error),
    /// The file or the variable lists no user at all (an empty file is refused so that a
    /// reload caught halfway through an editor's save keeps the old users).
    NoUsers,
    /// The line is not valid UTF-8.
    NotUtf8,
    /// No `:` separates the user name from the password or hash.
    MissingColon,
    /// The user name before the `:` is empty.
    EmptyUser,
    /// Nothing follows the `:` (or `{PLAIN}`).
    EmptySecret {
        /// The user whose entry is empty.
        user: String,
    },
    /// The secret starts with a known hash prefix but the rest does not parse.
    MalformedHash {
        /// The user whose hash is broken.
        user: String,
        /// The scheme the prefix names.
        scheme: Scheme,
        /// Which part is wrong.
        problem: &'static str,
    },
    /// The secret is a hash in a recognised format that is not supported (yescrypt, scrypt,
    /// `$2x$`, ...); it is refused rather than taken as a plain-text password.
    UnsupportedScheme {
        /// The user whose hash is refused.
        user: String,
        /// The format's name.
        scheme: &'static str,
    },
}

impl fmt::Display for LoadErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unreadable(error) => write!(f, "cannot read: {error}"),
            Self::NoUsers => f.write_str("no user defined"),
            Self::NotUtf8 => f.write_str("not valid UTF-8"),
            Self::MissingColon => f.write_str("no ':' between user name and password"),
            Self::EmptyUser => f.write_str("empty user name"),
            Self::EmptySecret { user } => write!(f, "user {user:?} has an empty password"),
            Self::MalformedHash {
                user,
                scheme,
                problem,
            } => {
                write!(f, "user {user:?} has a malformed {scheme} hash: {problem}")
            }
            Self::UnsupportedScheme { user, scheme } => {
                write!(
                    f,
                    "user {user:?} has a {scheme} hash, which is not supported"
                )
            }
        }
    }
}

/// A new hash could not be made.
#[derive(Debug)]
#[non_exhaustive]
pub enum HashError {
    /// The password is empty; the loader would refuse such an entry anyway.
    EmptyPassword,
    /// The password is longer than the scheme can use (bcrypt reads 72 bytes at most), so
    /// part of it would be silently ignored.
    PasswordTooLong {
        /// The longest password the scheme uses in full.
        max_bytes: usize,
    },
    /// The user name cannot be written in a password file or in `MP_SMTP_AUTH`.
    InvalidUserName(&'static str),
    /// The hash is empty or holds whitespace or a control character, so the line would not
    /// load back.
    InvalidHash,
    /// The hashing library failed (for example, the system's random source was unavailable).
    Backend {
        /// The scheme being computed.
        scheme: HashScheme,
        /// The library's own message (it never contains the password).
        reason: String,
    },
}

impl fmt::Display for HashError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EmptyPassword => f.write_str("the password is empty"),
            Self::PasswordTooLong { max_bytes } => {
                write!(f, "the password is longer than {max_bytes} bytes")
            }
            Self::InvalidUserName(why) => write!(f, "invalid user name: {why}"),
            Self::InvalidHash => f.write_str("the hash is empty or holds whitespace"),
            Self::Backend { scheme, reason } => write!(f, "{scheme} hashing failed: {reason}"),
        }
    }
}

impl std::error::Error for HashError {}

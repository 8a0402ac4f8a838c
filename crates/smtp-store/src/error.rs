//! Why a store request failed.
//!
//! The store knows nothing about SMTP or HTTP: callers map these to their own wire replies, using
//! [`StoreError::is_insufficient_storage`] to tell "try again, storage is short" from "the store
//! is gone".

use std::fmt;
use std::io;

/// A store request that did not succeed. Nothing was stored.
#[derive(Debug)]
#[non_exhaustive]
pub enum StoreError {
    /// The store has shut down (or its thread died): it takes no more requests.
    Closed,
    /// The storage is full (a durable store whose disk or quota ran out).
    Full,
    /// Writing or reading the storage failed.
    Io(io::Error),
}

impl StoreError {
    /// True when the failure is the storage itself (full or failing), a transient condition the
    /// client should retry later ("insufficient system storage"); false when the store is closed.
    #[must_use]
    pub fn is_insufficient_storage(&self) -> bool {
        match self {
            Self::Full | Self::Io(_) => true,
            Self::Closed => false,
        }
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Closed => f.write_str("the message store is closed"),
            Self::Full => f.write_str("the message store is full"),
            Self::Io(err) => write!(f, "message store I/O error: {err}"),
        }
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io(err) => Some(err),
            Self::Closed | Self::Full => None,
        }
    }
}

/// An out-of-space error becomes [`StoreError::Full`]; every other one stays [`StoreError::Io`].
impl From<io::Error> for StoreError {
    fn from(err: io::Error) -> Self {
        match err.kind() {
            io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => Self::Full,
            _ => Self::Io(err),
        }
    }
}

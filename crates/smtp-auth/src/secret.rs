//! [`Secret`]: a wrapper that keeps passwords and hashes out of `Debug` output.

use std::fmt;

/// A value that must never be printed: a password, a stored hash, a salt.
///
/// `Debug` prints `Secret(<redacted>)` in every build profile, so a secret can sit inside a
/// `#[derive(Debug)]` struct or reach a `{:?}` in a log line without leaking. There is no
/// `Display`; reading the value takes an explicit [`Secret::expose_secret`] call, which is
/// easy to find in review. It deliberately has no `PartialEq`: comparing secrets must be
/// constant-time, which a derived `==` is not.
#[derive(Clone)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    /// Wraps a value.
    pub const fn new(value: T) -> Self {
        Self(value)
    }

    /// Borrows the wrapped value. Callers must not log or print it.
    pub const fn expose_secret(&self) -> &T {
        &self.0
    }
}

impl<T> From<T> for Secret<T> {
    fn from(value: T) -> Self {
        Self(value)
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

//! [`Secret`]: a value whose `Debug` never shows it, in every build profile.

use std::fmt;

/// Wraps passwords and other credentials. `Debug` prints `Secret(<redacted>)`; there is no
/// `Display`. Read the value with [`Secret::expose`], which makes every use easy to find.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    pub fn new(value: T) -> Self {
        Self(value)
    }

    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

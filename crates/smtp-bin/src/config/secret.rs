//! A string that never shows itself in `Debug` output.

use std::fmt;

/// Secret text, such as inline credentials from `MP_SMTP_AUTH`.
///
/// `Debug` prints `Secret(<redacted>)` in every build, so a `{:?}` of a whole configuration is safe
/// to log. There is no `Display`: reading the text takes an explicit [`Secret::expose`].
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// Wraps `text`.
    pub fn new(text: String) -> Self {
        Self(text)
    }

    /// The secret text itself: pass it on, never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

//! SMTP replies: a three-digit [`ReplyCode`], an optional RFC 3463 [`EnhancedStatus`] and text.
//!
//! Replies are values; [`Reply::write_to`] renders one onto the output buffer. Multi-line replies
//! (EHLO, HELP) are rendered by [`write_multiline`].

use std::borrow::Cow;
use std::fmt;

/// A three-digit SMTP reply code (RFC 5321 section 4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReplyCode(u16);

impl ReplyCode {
    pub const SERVICE_READY: Self = Self(220);
    pub const CLOSING: Self = Self(221);
    pub const AUTH_OK: Self = Self(235);
    pub const OK: Self = Self(250);
    pub const CANNOT_VRFY: Self = Self(252);
    pub const HELP: Self = Self(214);
    pub const AUTH_CONTINUE: Self = Self(334);
    pub const START_INPUT: Self = Self(354);
    pub const UNAVAILABLE: Self = Self(421);
    pub const LOCAL_ERROR: Self = Self(451);
    pub const INSUFFICIENT_STORAGE: Self = Self(452);
    pub const SYNTAX_ERROR: Self = Self(500);
    pub const PARAM_SYNTAX: Self = Self(501);
    pub const NOT_IMPLEMENTED: Self = Self(502);
    pub const BAD_SEQUENCE: Self = Self(503);
    pub const PARAM_NOT_IMPLEMENTED: Self = Self(504);
    pub const AUTH_REQUIRED: Self = Self(530);
    pub const AUTH_INVALID: Self = Self(535);
    pub const MAILBOX_UNAVAILABLE: Self = Self(550);
    pub const EXCEEDED_STORAGE: Self = Self(552);
    pub const MAILBOX_NAME_NOT_ALLOWED: Self = Self(553);
    pub const PARAMS_NOT_RECOGNIZED: Self = Self(555);

    /// Builds a code from a number in `200..=599`.
    pub fn new(code: u16) -> Option<Self> {
        (200..=599).contains(&code).then_some(Self(code))
    }

    pub fn get(self) -> u16 {
        self.0
    }

    /// 2xx and 3xx.
    pub fn is_positive(self) -> bool {
        self.0 < 400
    }
}

impl fmt::Display for ReplyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl ReplyCode {
    /// Appends the three digits (every code is 200..=599).
    fn write_to(self, out: &mut Vec<u8>) {
        push_decimal(out, u64::from(self.0));
    }
}

/// An RFC 3463 enhanced status code `class.subject.detail`, such as `5.5.1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EnhancedStatus {
    class: u8,
    subject: u16,
    detail: u16,
}

impl EnhancedStatus {
    /// `class` must be 2, 4 or 5.
    pub const fn new(class: u8, subject: u16, detail: u16) -> Self {
        Self {
            class,
            subject,
            detail,
        }
    }
}

impl fmt::Display for EnhancedStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.class, self.subject, self.detail)
    }
}

impl EnhancedStatus {
    /// Appends `class.subject.detail`, as [`fmt::Display`] writes it.
    fn write_to(self, out: &mut Vec<u8>) {
        push_decimal(out, u64::from(self.class));
        out.push(b'.');
        push_decimal(out, u64::from(self.subject));
        out.push(b'.');
        push_decimal(out, u64::from(self.detail));
    }
}

/// Appends `n` in decimal. Replies are written for every command, and `core::fmt` cost more
/// than the rest of writing a reply.
pub(crate) fn push_decimal(out: &mut Vec<u8>, n: u64) {
    // Most numbers in a reply are one digit (the parts of `2.0.0`).
    if n < 10 {
        out.push(b'0' + n as u8);
        return;
    }
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    let mut rest = n;
    loop {
        start -= 1;
        // `rest % 10` is below 10: the cast keeps it.
        digits[start] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[start..]);
}

/// One SMTP reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    code: ReplyCode,
    status: Option<EnhancedStatus>,
    text: Cow<'static, str>,
}

impl Reply {
    /// A reply with an enhanced status code (every reply after the greeting has one, RFC 2034).
    pub fn new(
        code: ReplyCode,
        status: EnhancedStatus,
        text: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self {
            code,
            status: Some(status),
            text: text.into(),
        }
    }

    /// A reply without an enhanced status code: the greeting, HELO, 334 and 354.
    pub fn bare(code: ReplyCode, text: impl Into<Cow<'static, str>>) -> Self {
        Self {
            code,
            status: None,
            text: text.into(),
        }
    }

    pub fn code(&self) -> ReplyCode {
        self.code
    }

    pub fn status(&self) -> Option<EnhancedStatus> {
        self.status
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// Does this reply end the connection (421, 221)?
    pub fn closes(&self) -> bool {
        matches!(self.code.0, 221 | 421)
    }

    /// Appends the reply, CRLF-terminated, to `out`. Line breaks in the text cannot occur:
    /// constructors only ever receive single-line texts from this crate.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        // `250 2.0.0` has no text: no space after the status either.
        let text: &[&str] = if self.text.is_empty() {
            &[]
        } else {
            &[&self.text]
        };
        write_parts(out, self.code, true, self.status, text);
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = Vec::new();
        self.write_to(&mut out);
        f.write_str(String::from_utf8_lossy(&out).trim_end())
    }
}

/// Writes one reply line made of `parts` (`code`, then `-` or a space as `last` says, the
/// enhanced status if any and a space unless there is no text, the text). Replies that name
/// the host or the message (the greeting, QUIT, a timeout, queued-as) are written from their
/// pieces rather than formatted into a string first; the EHLO reply writes its `SIZE` and
/// `AUTH` lines, which carry a number or a list, by hand in the same form.
pub(crate) fn write_parts(
    out: &mut Vec<u8>,
    code: ReplyCode,
    last: bool,
    status: Option<EnhancedStatus>,
    parts: &[&str],
) {
    code.write_to(out);
    out.push(if last { b' ' } else { b'-' });
    if let Some(status) = status {
        status.write_to(out);
        if !parts.is_empty() {
            out.push(b' ');
        }
    }
    for part in parts {
        out.extend_from_slice(part.as_bytes());
    }
    out.extend_from_slice(b"\r\n");
}

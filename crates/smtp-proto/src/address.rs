//! Envelope addresses (RFC 5321 section 4.1.2, RFC 6531 for UTF-8): parse, don't validate.
//!
//! A [`Mailbox`] is only ever built by [`parse_path`], so holding one means the text obeyed the
//! grammar: a dot-string or quoted local part, `@`, and a domain or address literal. Source routes
//! (`<@relay1,@relay2:user@example.com>`) are accepted and dropped, as RFC 5321 section 4.1.1.3
//! tells servers to. Non-ASCII is allowed only when the transaction declared `SMTPUTF8`.

use std::fmt;

/// Length limits from RFC 5321 section 4.5.3.1 (in octets).
pub const MAX_LOCAL_PART: usize = 64;
pub const MAX_DOMAIN: usize = 255;
pub const MAX_PATH: usize = 256;

/// An envelope mailbox `local@domain`, kept exactly as the client spelled it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Mailbox {
    text: String,
    at: usize,
}

impl Mailbox {
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The address text, without a copy.
    #[must_use]
    pub fn into_string(self) -> String {
        self.text
    }

    pub fn local_part(&self) -> &str {
        &self.text[..self.at]
    }

    /// The domain; empty for the bare `postmaster` recipient.
    pub fn domain(&self) -> &str {
        self.text.get(self.at + 1..).unwrap_or("")
    }

    /// `<postmaster>` without a domain, which RFC 5321 section 4.1.1.3 requires servers to accept
    /// as a recipient.
    pub(crate) fn postmaster(text: &str) -> Self {
        Self {
            text: text.to_owned(),
            at: text.len(),
        }
    }

    /// True when the mailbox holds any non-ASCII character (needs SMTPUTF8).
    pub fn is_utf8(&self) -> bool {
        !self.text.is_ascii()
    }
}

impl fmt::Display for Mailbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// The MAIL FROM path: a mailbox, or the null path `<>` used by bounces.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ReversePath {
    Null,
    Mailbox(Mailbox),
}

impl ReversePath {
    /// The address text; empty for the null path.
    pub fn as_str(&self) -> &str {
        match self {
            ReversePath::Null => "",
            ReversePath::Mailbox(m) => m.as_str(),
        }
    }

    /// The address text, without a copy; empty for the null path.
    #[must_use]
    pub fn into_string(self) -> String {
        match self {
            ReversePath::Null => String::new(),
            ReversePath::Mailbox(m) => m.into_string(),
        }
    }
}

/// Why a path did not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressError {
    /// Not `<...>`, or a character the grammar does not allow.
    Syntax,
    /// Longer than the RFC 5321 limits.
    TooLong,
    /// Non-ASCII without SMTPUTF8.
    Utf8NotDeclared,
}

/// Parses `<path>` at the start of `input`, returning the path and the rest of the input
/// (which holds the ESMTP parameters). `null_ok` allows `<>`; `utf8` allows non-ASCII.
pub fn parse_path(
    input: &str,
    null_ok: bool,
    utf8: bool,
) -> Result<(Option<Mailbox>, &str), AddressError> {
    let inner_start = input.strip_prefix('<').ok_or(AddressError::Syntax)?;
    let close = find_close(inner_start).ok_or(AddressError::Syntax)?;
    let inner = &inner_start[..close];
    let rest = &inner_start[close + 1..];
    if !rest.is_empty() && !rest.starts_with(' ') {
        return Err(AddressError::Syntax);
    }
    if inner.is_empty() {
        return if null_ok {
            Ok((None, rest))
        } else {
            Err(AddressError::Syntax)
        };
    }
    let mailbox = parse_mailbox(strip_source_route(inner)?, utf8)?;
    Ok((Some(mailbox), rest))
}

/// Finds the `>` that closes the path, skipping over a quoted local part.
fn find_close(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut i = 0;
    let mut quoted = false;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if quoted => i += 1,
            b'"' => quoted = !quoted,
            b'>' if !quoted => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

/// `@one,@two:user@example.com` -> `user@example.com` (RFC 5321 A-d-l, accepted and ignored).
fn strip_source_route(inner: &str) -> Result<&str, AddressError> {
    if !inner.starts_with('@') {
        return Ok(inner);
    }
    let colon = inner.find(':').ok_or(AddressError::Syntax)?;
    for hop in inner[..colon].split(',') {
        let domain = hop.strip_prefix('@').ok_or(AddressError::Syntax)?;
        if !is_domain(domain, true) {
            return Err(AddressError::Syntax);
        }
    }
    Ok(&inner[colon + 1..])
}

fn parse_mailbox(text: &str, utf8: bool) -> Result<Mailbox, AddressError> {
    let at = text.rfind('@').ok_or(AddressError::Syntax)?;
    let (local, domain) = (&text[..at], &text[at + 1..]);
    if !is_local_part(local) || !(is_domain(domain, true) || is_address_literal(domain)) {
        return Err(AddressError::Syntax);
    }
    if local.len() > MAX_LOCAL_PART || domain.len() > MAX_DOMAIN || text.len() > MAX_PATH {
        return Err(AddressError::TooLong);
    }
    if !utf8 && !text.is_ascii() {
        return Err(AddressError::Utf8NotDeclared);
    }
    Ok(Mailbox {
        text: text.to_owned(),
        at,
    })
}

/// RFC 5321 `atext` (RFC 5322), extended by RFC 6531 with every non-ASCII character.
fn is_atext(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c) || !c.is_ascii()
}

fn is_local_part(local: &str) -> bool {
    if let Some(quoted) = local.strip_prefix('"') {
        return is_quoted_content(quoted);
    }
    !local.is_empty()
        && local
            .split('.')
            .all(|atom| !atom.is_empty() && atom.chars().all(is_atext))
}

/// The content of a quoted string after the opening quote, including the closing quote.
fn is_quoted_content(s: &str) -> bool {
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return chars.next().is_none(),
            '\\' => match chars.next() {
                Some(' '..='~') => {}
                _ => return false,
            },
            ' ' | '!' | '#'..='[' | ']'..='~' => {}
            c if !c.is_ascii() => {}
            _ => return false,
        }
    }
    false
}

/// A domain: dot-separated labels of letters, digits, `-` and (leniently) `_`, or non-ASCII
/// labels (U-labels, checked for SMTPUTF8 by the caller).
pub(crate) fn is_domain(domain: &str, allow_utf8: bool) -> bool {
    !domain.is_empty()
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| {
                    c.is_ascii_alphanumeric()
                        || c == '-'
                        || c == '_'
                        || (allow_utf8 && !c.is_ascii())
                })
        })
}

/// `[192.0.2.1]`, `[IPv6:2001:db8::1]` (RFC 5321 section 4.1.3).
fn is_address_literal(domain: &str) -> bool {
    let Some(inner) = domain.strip_prefix('[').and_then(|d| d.strip_suffix(']')) else {
        return false;
    };
    match inner.get(..5) {
        Some(tag) if tag.eq_ignore_ascii_case("IPv6:") => {
            inner[5..].parse::<std::net::Ipv6Addr>().is_ok()
        }
        _ => inner.parse::<std::net::Ipv4Addr>().is_ok(),
    }
}

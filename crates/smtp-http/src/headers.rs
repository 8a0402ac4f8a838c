//! The header section of a stored message, read as Go's `net/mail` reads it for Mailpit's
//! `GET /api/v1/message/{ID}/headers`: a map from canonical field name to every value.
//!
//! Names are canonicalised as Go's `textproto.CanonicalMIMEHeaderKey` does (`message-id` →
//! `Message-Id`); folded values are unfolded with single spaces and trimmed; values stay as sent
//! (encoded words are not decoded). Go refuses a malformed line and Mailpit then answers `400`;
//! here a line without a colon is skipped, so a broken message still shows what can be read.

use std::collections::BTreeMap;

/// Field name → values in order of appearance; keys sorted, as Go's JSON encoder sorts them.
pub(crate) type HeaderMap = BTreeMap<String, Vec<String>>;

/// Every header field of `raw` (up to the first empty line).
pub(crate) fn header_map(raw: &[u8]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in fields(raw) {
        map.entry(canonical_key(&name)).or_default().push(value);
    }
    map
}

/// The first value of a field, its name compared ignoring ASCII case.
pub(crate) fn first_value(raw: &[u8], name: &str) -> Option<String> {
    fields(raw)
        .into_iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, value)| value)
}

/// `(name, unfolded value)` for each header field.
fn fields(raw: &[u8]) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in raw.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            break;
        }
        let text = String::from_utf8_lossy(line);
        if line[0] == b' ' || line[0] == b'\t' {
            if let Some((_, value)) = fields.last_mut() {
                append_continuation(value, text.trim());
            }
            continue;
        }
        if let Some((name, value)) = text.split_once(':') {
            if !name.is_empty() && !name.contains([' ', '\t']) {
                fields.push((name.to_owned(), value.trim().to_owned()));
            }
        }
    }
    fields
}

fn append_continuation(value: &mut String, more: &str) {
    if more.is_empty() {
        return;
    }
    if !value.is_empty() {
        value.push(' ');
    }
    value.push_str(more);
}

/// Go's `CanonicalMIMEHeaderKey`: the first letter and each letter after `-` upper case, the
/// rest lower case; a name holding a byte that is not a token character is left as it is.
pub(crate) fn canonical_key(name: &str) -> String {
    let valid = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    if !valid {
        return name.to_owned();
    }
    let mut upper = true;
    name.chars()
        .map(|c| {
            let out = if upper {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            };
            upper = c == '-';
            out
        })
        .collect()
}

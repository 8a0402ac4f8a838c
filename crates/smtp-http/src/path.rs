//! Request-target handling: split path and query, percent-decode, and clean paths as Go does.
//!
//! Mailpit routes through Go's `http.ServeMux`, which answers a path that is not in canonical
//! form (doubled slashes, `.` or `..` segments) with `301 Moved Permanently` to the cleaned
//! path, query kept. [`clean`] is that cleaning; the router redirects when it changes anything.
//! Routing and every prefix check use the same decoded path, so `/%61pi/` cannot slip past a
//! check written for `/api/`.

/// A request-target split into its decoded path and its raw query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Target {
    /// The percent-decoded path.
    pub path: String,
    /// The query after `?`, still encoded (empty when absent).
    pub raw_query: String,
}

/// Why a request-target was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TargetError {
    /// Not an origin-form target (`*`, an absolute URI, or empty).
    NotOriginForm,
    /// A `%` not followed by two hex digits, or a decoded path that is not UTF-8.
    BadEncoding,
}

impl Target {
    pub(crate) fn parse(target: &str) -> Result<Self, TargetError> {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let path = path.split_once('#').map_or(path, |(p, _)| p);
        if !path.starts_with('/') {
            return Err(TargetError::NotOriginForm);
        }
        let decoded = percent_decode(path.as_bytes()).ok_or(TargetError::BadEncoding)?;
        let path = String::from_utf8(decoded).map_err(|_| TargetError::BadEncoding)?;
        Ok(Self {
            path,
            raw_query: query.to_owned(),
        })
    }

    /// The first value of a query parameter, decoded (`+` is a space), as Go's `Query().Get`.
    pub(crate) fn query(&self, name: &str) -> Option<String> {
        query_pairs(&self.raw_query)
            .find(|(key, _)| key == name)
            .map(|(_, value)| value)
    }
}

/// `key=value` pairs of a query string, decoded; undecodable pairs are skipped, as Go does.
pub(crate) fn query_pairs(query: &str) -> impl Iterator<Item = (String, String)> + '_ {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .filter_map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            Some((form_decode(key)?, form_decode(value)?))
        })
}

fn form_decode(text: &str) -> Option<String> {
    let plus_as_space = text.replace('+', " ");
    String::from_utf8(percent_decode(plus_as_space.as_bytes())?).ok()
}

/// Decodes `%XX` escapes; `None` for a malformed escape.
pub(crate) fn percent_decode(input: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(input.len());
    let mut bytes = input.iter();
    while let Some(&byte) = bytes.next() {
        if byte == b'%' {
            let high = hex_value(*bytes.next()?)?;
            let low = hex_value(*bytes.next()?)?;
            out.push(high << 4 | low);
        } else {
            out.push(byte);
        }
    }
    Some(out)
}

/// The value of one hexadecimal digit, either case (the standard library's reading of it).
fn hex_value(digit: u8) -> Option<u8> {
    char::from(digit)
        .to_digit(16)
        .and_then(|value| u8::try_from(value).ok())
}

/// The canonical form of an absolute path, as Go's `path.Clean` plus ServeMux's rule of keeping
/// a trailing slash: doubled slashes collapse, `.` segments go, `..` removes the segment before
/// it (never above the root).
pub(crate) fn clean(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            other => segments.push(other),
        }
    }
    let mut cleaned = String::with_capacity(path.len());
    for segment in &segments {
        cleaned.push('/');
        cleaned.push_str(segment);
    }
    if cleaned.is_empty() || path.ends_with('/') {
        cleaned.push('/');
    }
    cleaned
}

/// A decoded path made safe for a `Location:` header: bytes outside the characters a path may
/// hold unescaped (RFC 3986 `pchar` and `/`) are percent-encoded.
pub(crate) fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for &byte in path.as_bytes() {
        let plain = byte.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/".contains(&byte);
        if plain {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

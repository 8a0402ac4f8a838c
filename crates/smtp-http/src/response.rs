//! An HTTP response: status, header fields and a body held in memory.
//!
//! The server writes it with a `Content-Length`; large bodies (a raw message) are shared with
//! the store as a [`SharedBytes`] instead of being copied.

use smtp_store::SharedBytes;

use serde::Serialize;

/// A response body. Its `Debug` output gives the length only: bodies stay out of logs.
#[derive(Clone, Default, PartialEq, Eq)]
pub enum Body {
    #[default]
    Empty,
    Bytes(Vec<u8>),
    /// Bytes shared with the store (a raw message), written without a copy.
    Shared(SharedBytes),
    /// Bytes built into the program (the web page): never copied, not even at start.
    Static(&'static [u8]),
}

impl Body {
    /// The body's bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Self::Empty => &[],
            Self::Bytes(bytes) => bytes,
            Self::Shared(bytes) => bytes,
            Self::Static(bytes) => bytes,
        }
    }
}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Body({} bytes)", self.as_bytes().len())
    }
}

/// A response to one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Body,
}

impl Response {
    /// An empty response with this status.
    #[must_use]
    pub fn new(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Body::Empty,
        }
    }

    /// A `text/plain` response.
    #[must_use]
    pub fn text(status: u16, text: impl Into<String>) -> Self {
        Self::new(status)
            .with_header("Content-Type", "text/plain; charset=utf-8")
            .with_body(Body::Bytes(text.into().into_bytes()))
    }

    /// An `application/json` response, newline-terminated as Go's encoder writes it.
    #[must_use]
    pub fn json(status: u16, value: &impl Serialize) -> Self {
        match serde_json::to_vec(value) {
            Ok(mut bytes) => {
                bytes.push(b'\n');
                Self::new(status)
                    .with_header("Content-Type", "application/json")
                    .with_body(Body::Bytes(bytes))
            }
            // Only a map with non-string keys can fail, and the API has none.
            Err(err) => Self::text(500, format!("JSON encoding failed: {err}\n")),
        }
    }

    /// The same response with one more header field (an existing one of that name is replaced).
    #[must_use]
    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.set_header(name, value);
        self
    }

    /// The same response with this body.
    #[must_use]
    pub fn with_body(mut self, body: Body) -> Self {
        self.body = body;
        self
    }

    /// Sets a header field, replacing one of the same name (compared ignoring ASCII case).
    pub fn set_header(&mut self, name: &str, value: impl Into<String>) {
        let value = value.into();
        match self
            .headers
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            Some(slot) => slot.1 = value,
            None => self.headers.push((name.to_owned(), value)),
        }
    }

    /// The status code.
    #[must_use]
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The value of a header field, its name compared ignoring ASCII case.
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every header field, in the order set.
    #[must_use]
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// The body.
    #[must_use]
    pub fn body(&self) -> &Body {
        &self.body
    }

    /// Drops the body (answering `HEAD`); `Content-Length` still says what `GET` would send.
    #[must_use]
    pub fn without_body(mut self) -> Self {
        let length = self.body.as_bytes().len();
        self.body = Body::Empty;
        self.with_header("Content-Length", length.to_string())
    }
}

/// The reason phrase for a status code (RFC 9110 section 15).
#[must_use]
pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        411 => "Length Required",
        413 => "Content Too Large",
        414 => "URI Too Long",
        417 => "Expectation Failed",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        507 => "Insufficient Storage",
        _ => "Unknown",
    }
}

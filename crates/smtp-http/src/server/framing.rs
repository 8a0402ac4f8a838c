//! HTTP/1.1 message framing, pure: where a request's head ends, how long its body is, and
//! chunked decoding, all under hard limits. Bytes in, a decision out; no IO.
//!
//! Incomplete input is not an error (`Ok(None)`, or a decoder that consumed what it could);
//! every refusal is a [`FrameError`] that names its status code, so the connection answers it
//! and closes rather than dropping the client.

use crate::request::Method;

/// Hard limits on one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Limits {
    /// Request line and header fields together.
    pub max_head: usize,
    /// Header fields.
    pub max_headers: usize,
    /// The (decoded) body.
    pub max_body: usize,
}

/// The parsed head of a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Head {
    pub method: Method,
    pub target: String,
    pub headers: Vec<(String, String)>,
    /// Bytes of the buffer the head took.
    pub len: usize,
    pub body: BodyKind,
    /// The client wants the connection kept open after the response.
    pub keep_alive: bool,
    /// `Expect: 100-continue`: the client waits for an interim `100` before sending the body.
    pub expect_continue: bool,
}

/// How the body is framed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BodyKind {
    Empty,
    Length(usize),
    Chunked,
}

/// Why a request cannot be served; each maps to its status code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FrameError {
    /// `400`: not HTTP, or contradictory framing.
    Malformed(&'static str),
    /// `413`: the body is larger than the limit.
    BodyTooLarge,
    /// `431`: the head is larger than the limit, or has too many fields.
    HeadTooLarge,
    /// `501`: a transfer coding other than `chunked`.
    UnsupportedCoding,
    /// `505`: not HTTP/1.0 or HTTP/1.1.
    Version,
}

impl FrameError {
    pub(crate) fn status(self) -> u16 {
        match self {
            Self::Malformed(_) => 400,
            Self::BodyTooLarge => 413,
            Self::HeadTooLarge => 431,
            Self::UnsupportedCoding => 501,
            Self::Version => 505,
        }
    }

    pub(crate) fn text(self) -> &'static str {
        match self {
            Self::Malformed(why) => why,
            Self::BodyTooLarge => "request body too large",
            Self::HeadTooLarge => "request header fields too large",
            Self::UnsupportedCoding => "transfer coding not supported",
            Self::Version => "HTTP version not supported",
        }
    }
}

/// The head at the start of `buf`: `Ok(None)` until it is complete.
pub(crate) fn parse_head(buf: &[u8], limits: &Limits) -> Result<Option<Head>, FrameError> {
    let mut fields = vec![httparse::EMPTY_HEADER; limits.max_headers];
    let mut request = httparse::Request::new(&mut fields);
    let len = match request.parse(buf) {
        Ok(httparse::Status::Complete(len)) if len <= limits.max_head => len,
        Ok(httparse::Status::Complete(_)) => return Err(FrameError::HeadTooLarge),
        Ok(httparse::Status::Partial) if buf.len() > limits.max_head => {
            return Err(FrameError::HeadTooLarge)
        }
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err(FrameError::HeadTooLarge),
        Err(httparse::Error::Version) => return Err(FrameError::Version),
        Err(_) => return Err(FrameError::Malformed("malformed request")),
    };
    let version = request.version.unwrap_or(1);
    let method = Method::parse(request.method.unwrap_or_default());
    let target = request.path.unwrap_or_default().to_owned();
    let headers: Vec<(String, String)> = request
        .headers
        .iter()
        .map(|h| {
            (
                h.name.to_owned(),
                String::from_utf8_lossy(h.value).trim().to_owned(),
            )
        })
        .collect();
    let body = body_kind(&headers, limits)?;
    let expect_continue =
        values(&headers, "Expect").any(|v| v.eq_ignore_ascii_case("100-continue"));
    Ok(Some(Head {
        method,
        target,
        keep_alive: keep_alive(version, &headers),
        expect_continue,
        headers,
        len,
        body,
    }))
}

fn values<'h>(headers: &'h [(String, String)], name: &'h str) -> impl Iterator<Item = &'h str> {
    headers
        .iter()
        .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// RFC 9112 section 6: `Transfer-Encoding` wins and must end in `chunked`; a request with both
/// it and `Content-Length` is refused (the request-smuggling ambiguity); lengths must agree.
fn body_kind(headers: &[(String, String)], limits: &Limits) -> Result<BodyKind, FrameError> {
    let codings: Vec<&str> = values(headers, "Transfer-Encoding")
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    let lengths: Vec<&str> = values(headers, "Content-Length")
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    if !codings.is_empty() {
        if !lengths.is_empty() {
            return Err(FrameError::Malformed(
                "both Transfer-Encoding and Content-Length",
            ));
        }
        return match codings.as_slice() {
            [only] if only.eq_ignore_ascii_case("chunked") => Ok(BodyKind::Chunked),
            _ => Err(FrameError::UnsupportedCoding),
        };
    }
    let Some(first) = lengths.first() else {
        return Ok(BodyKind::Empty);
    };
    let digits = !first.is_empty() && first.bytes().all(|b| b.is_ascii_digit());
    if !digits || lengths.iter().any(|l| l != first) {
        return Err(FrameError::Malformed("invalid Content-Length"));
    }
    match first.parse::<usize>() {
        Ok(0) => Ok(BodyKind::Empty),
        Ok(n) if n <= limits.max_body => Ok(BodyKind::Length(n)),
        // Too many digits to parse is too large too.
        Ok(_) | Err(_) => Err(FrameError::BodyTooLarge),
    }
}

fn keep_alive(version: u8, headers: &[(String, String)]) -> bool {
    let tokens = || {
        values(headers, "Connection")
            .flat_map(|v| v.split(','))
            .map(str::trim)
    };
    if tokens().any(|t| t.eq_ignore_ascii_case("close")) {
        return false;
    }
    version >= 1 || tokens().any(|t| t.eq_ignore_ascii_case("keep-alive"))
}

/// Longest chunk-size line (with extensions) or trailer line accepted.
const MAX_CHUNK_LINE: usize = 4096;
/// Most trailer bytes accepted (they are read and dropped).
const MAX_TRAILERS: usize = 16 * 1024;

/// Decodes a chunked body incrementally: [`Chunked::feed`] what has arrived, until
/// [`Chunked::is_done`].
#[derive(Debug)]
pub(crate) struct Chunked {
    state: ChunkState,
    body: Vec<u8>,
    trailer_bytes: usize,
    max_body: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ChunkState {
    Size,
    Data(usize),
    DataEnd,
    Trailer,
    Done,
}

impl Chunked {
    pub(crate) fn new(max_body: usize) -> Self {
        Self {
            state: ChunkState::Size,
            body: Vec::new(),
            trailer_bytes: 0,
            max_body,
        }
    }

    pub(crate) fn is_done(&self) -> bool {
        self.state == ChunkState::Done
    }

    pub(crate) fn into_body(self) -> Vec<u8> {
        self.body
    }

    /// Consumes as much of `input` as it can; returns how many bytes it took.
    pub(crate) fn feed(&mut self, input: &[u8]) -> Result<usize, FrameError> {
        let mut used = 0;
        while used < input.len() && !self.is_done() {
            let step = self.step(&input[used..])?;
            if step == 0 {
                break;
            }
            used += step;
        }
        Ok(used)
    }

    /// One state's worth of input; 0 when more bytes are needed.
    fn step(&mut self, input: &[u8]) -> Result<usize, FrameError> {
        match self.state {
            ChunkState::Size => {
                let Some((line, used)) = line(input)? else {
                    return Ok(0);
                };
                let size = chunk_size(line)?;
                if size > self.max_body - self.body.len() {
                    return Err(FrameError::BodyTooLarge);
                }
                self.state = if size == 0 {
                    ChunkState::Trailer
                } else {
                    ChunkState::Data(size)
                };
                Ok(used)
            }
            ChunkState::Data(left) => {
                let take = left.min(input.len());
                if self.body.len() + take > self.max_body {
                    return Err(FrameError::BodyTooLarge);
                }
                self.body.extend_from_slice(&input[..take]);
                self.state = match left - take {
                    0 => ChunkState::DataEnd,
                    rest => ChunkState::Data(rest),
                };
                Ok(take)
            }
            ChunkState::DataEnd => {
                let Some((line, used)) = line(input)? else {
                    return Ok(0);
                };
                if !line.is_empty() {
                    return Err(FrameError::Malformed("chunk data longer than its size"));
                }
                self.state = ChunkState::Size;
                Ok(used)
            }
            ChunkState::Trailer => {
                let Some((line, used)) = line(input)? else {
                    return Ok(0);
                };
                self.trailer_bytes += used;
                if self.trailer_bytes > MAX_TRAILERS {
                    return Err(FrameError::HeadTooLarge);
                }
                if line.is_empty() {
                    self.state = ChunkState::Done;
                }
                Ok(used)
            }
            ChunkState::Done => Ok(0),
        }
    }
}

/// The first line of `input` without its line ending, and the bytes it took with it.
fn line(input: &[u8]) -> Result<Option<(&[u8], usize)>, FrameError> {
    match input.iter().position(|&b| b == b'\n') {
        Some(end) if end > MAX_CHUNK_LINE => Err(FrameError::Malformed("chunk line too long")),
        Some(end) => {
            let line = &input[..end];
            Ok(Some((line.strip_suffix(b"\r").unwrap_or(line), end + 1)))
        }
        None if input.len() > MAX_CHUNK_LINE => Err(FrameError::Malformed("chunk line too long")),
        None => Ok(None),
    }
}

fn chunk_size(line: &[u8]) -> Result<usize, FrameError> {
    let digits = line.split(|&b| b == b';').next().unwrap_or_default();
    let digits = std::str::from_utf8(digits)
        .map_err(|_| FrameError::Malformed("invalid chunk size"))?
        .trim();
    if digits.is_empty() || digits.len() > 15 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(FrameError::Malformed("invalid chunk size"));
    }
    usize::from_str_radix(digits, 16).map_err(|_| FrameError::Malformed("invalid chunk size"))
}

//! Line framing: find the end of one command line before anything parses it.
//!
//! A command line ends at LF; a CR right before the LF is part of the terminator. Bare-LF command
//! lines are accepted (many hand-written clients send them) and that leniency is safe because it
//! never applies to message data: DATA ends only on `<CRLF>.<CRLF>` (see [`crate::data`]).
//!
//! Framing has three outcomes: a complete line, "need more bytes", or a line longer than the
//! limit. An oversized line is not an error that loses sync: the caller discards bytes up to and
//! including the next LF, then refuses the line, and the next command parses normally.

/// The result of looking for one line at the start of a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame {
    /// A whole line: `len` bytes including the terminator; `content` bytes without it.
    Line { len: usize, content: usize },
    /// No LF yet, and the bytes so far are within the limit.
    Incomplete,
    /// No LF within `limit` bytes: the line is too long.
    TooLong,
}

/// Looks for one line in `buf`, whose length including the terminator may be at most `limit`.
pub fn frame(buf: &[u8], limit: usize) -> Frame {
    let window = &buf[..buf.len().min(limit)];
    match window.iter().position(|&b| b == b'\n') {
        Some(lf) => {
            let content = if lf > 0 && window[lf - 1] == b'\r' {
                lf - 1
            } else {
                lf
            };
            Frame::Line {
                len: lf + 1,
                content,
            }
        }
        None if buf.len() >= limit => Frame::TooLong,
        None => Frame::Incomplete,
    }
}

/// While discarding an oversized line: how many bytes of `buf` to drop, and whether the line
/// ended inside `buf` (so discarding is over).
pub fn skip_line(buf: &[u8]) -> (usize, bool) {
    match buf.iter().position(|&b| b == b'\n') {
        Some(lf) => (lf + 1, true),
        None => (buf.len(), false),
    }
}

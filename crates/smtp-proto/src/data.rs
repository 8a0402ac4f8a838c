//! Message data receivers: DATA with dot-unstuffing (RFC 5321 section 4.5.2) and BDAT chunks
//! (RFC 3030).
//!
//! DATA ends only on `<CRLF>.<CRLF>`. A bare LF or a bare CR never starts or ends a line, so the
//! SMTP smuggling vectors (`<LF>.<LF>`, `<LF>.<CRLF>`, `<CR>.<CR>`, `<CRLF>.<LF>`, ...) are kept
//! inside the message as sent and never end it. A line that starts (after CRLF) with a dot loses
//! that dot. Bytes beyond the size limit are counted and dropped, so memory stays at the limit
//! however much the client sends, and the reply (552) comes only after the terminator, keeping the
//! client and server in step.

/// Where the DATA scanner is relative to line structure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scan {
    /// Just after CRLF (or at the very start of the data).
    LineStart,
    /// Inside a line.
    Middle,
    /// Inside a line, just after a CR.
    Cr,
    /// A dot at the start of a line, held back.
    Dot,
    /// `.` then CR at the start of a line: one LF away from the end.
    DotCr,
}

/// Bytes reserved for a message whose size was not announced.
const UNHINTED_RESERVE: u64 = 4096;

/// Collects message bytes up to a limit and counts the rest.
#[derive(Debug)]
pub(crate) struct Body {
    bytes: Vec<u8>,
    limit: u64,
    received: u64,
}

impl Body {
    pub(crate) fn new(limit: u64, size_hint: Option<u64>) -> Self {
        // Without a SIZE= hint, room for a small message: growing from nothing took about ten
        // reallocations (and copies) for a message of a few KiB.
        let reserve = size_hint
            .unwrap_or(UNHINTED_RESERVE)
            .min(limit)
            .min(1 << 20);
        Self {
            bytes: Vec::with_capacity(usize::try_from(reserve).unwrap_or(0)),
            limit,
            received: 0,
        }
    }

    pub(crate) fn push(&mut self, chunk: &[u8]) {
        self.received = self.received.saturating_add(chunk.len() as u64);
        if self.received <= self.limit {
            self.bytes.extend_from_slice(chunk);
        } else if !self.bytes.is_empty() {
            // Over the limit: free what we held, from now on we only count.
            self.bytes = Vec::new();
        }
    }

    /// True once more than `limit` bytes arrived.
    pub(crate) fn overflowed(&self) -> bool {
        self.received > self.limit
    }

    pub(crate) fn received(&self) -> u64 {
        self.received
    }

    pub(crate) fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

/// The DATA receiver: feed it bytes until it reports the end of the message.
#[derive(Debug)]
pub(crate) struct DataReceiver {
    scan: Scan,
    body: Body,
}

impl DataReceiver {
    pub(crate) fn new(body: Body) -> Self {
        Self {
            scan: Scan::LineStart,
            body,
        }
    }

    /// Consumes bytes from `input`. Returns `Some(n)` when the terminator ended within the first
    /// `n` bytes (the rest belongs to the next command), `None` when all of `input` was message data.
    pub(crate) fn feed(&mut self, input: &[u8]) -> Option<usize> {
        let mut i = 0;
        while i < input.len() {
            if self.scan == Scan::Middle {
                // Fast path: copy ordinary lines in one go, up to a CR that needs the automaton.
                let run = ordinary_run(&input[i..]);
                self.body.push(&input[i..i + run]);
                i += run;
                if i == input.len() {
                    break;
                }
            }
            let byte = input[i];
            i += 1;
            if self.step(byte) {
                return Some(i);
            }
        }
        None
    }

    /// One byte of the line-structure automaton; true at the end of the message.
    fn step(&mut self, byte: u8) -> bool {
        self.scan = match (self.scan, byte) {
            (Scan::LineStart, b'.') => Scan::Dot,
            (Scan::Dot, b'\r') => Scan::DotCr,
            (Scan::DotCr, b'\n') => return true,
            // The held dot was stuffing: drop it, keep the CR, rescan the byte after it.
            (Scan::DotCr, _) => {
                self.body.push(b"\r");
                return self.step_in_line(byte);
            }
            (Scan::Dot, _) => return self.step_in_line(byte),
            (Scan::Cr, b'\n') => {
                self.body.push(b"\n");
                Scan::LineStart
            }
            _ => return self.step_in_line(byte),
        };
        false
    }

    /// A byte that is ordinary line content (a CR may begin a line ending).
    fn step_in_line(&mut self, byte: u8) -> bool {
        self.body.push(&[byte]);
        self.scan = if byte == b'\r' {
            Scan::Cr
        } else {
            Scan::Middle
        };
        false
    }

    pub(crate) fn into_body(self) -> Body {
        self.body
    }
}

/// How many bytes from the start of `input` (inside a line) are plain content: everything up to
/// the first CR that is not `CR LF` followed, in `input`, by a byte other than a dot. Such a
/// line ending starts an ordinary line, so it needs no state; a CR at the end of `input`, a
/// bare CR, or a line starting with a dot is left for the automaton.
fn ordinary_run(input: &[u8]) -> usize {
    let mut from = 0;
    while let Some(found) = memchr::memchr(b'\r', &input[from..]) {
        let cr = from + found;
        match input.get(cr + 1..cr + 3) {
            Some([b'\n', next]) if *next != b'.' => from = cr + 2,
            _ => return cr,
        }
    }
    input.len()
}

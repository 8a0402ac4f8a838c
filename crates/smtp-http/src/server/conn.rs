//! One connection, start to finish, on one worker: read a request, answer it, repeat while
//! the connection is kept alive.
//!
//! Timeouts: the whole request (head and body) must arrive within `read_timeout` of its first
//! byte (Go's `ReadTimeout`, 30 s in Mailpit), so a client trickling bytes cannot hold a worker;
//! a kept-alive connection may sit idle for `idle_timeout` between requests, but gives its
//! worker up (closes) as soon as other connections wait for one; each write must progress
//! within `write_timeout`. A request the framing refuses is answered with its status
//! and `Connection: close`, then the connection is closed gently (see [`close_gently`]).

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant, SystemTime};

use super::framing::{parse_head, BodyKind, Chunked, FrameError, Head, Limits};
use super::{Handler, HttpConfig};
use crate::request::Request;
use crate::response::{reason, Response};

/// Bytes read per `read` call.
const READ_CHUNK: usize = 16 * 1024;
/// Bodies smaller than this are sent in the same write as the head.
const COALESCE: usize = 16 * 1024;
/// How long, and how much, to read and discard after refusing a request before closing.
const LINGER: Duration = Duration::from_millis(500);
const LINGER_BYTES: usize = 1024 * 1024;
/// How often a kept-alive connection waiting for its next request checks whether its worker is
/// needed elsewhere.
const IDLE_POLL: Duration = Duration::from_millis(200);

/// What the worker passes in besides the socket.
pub(crate) struct Context<'a> {
    pub config: &'a HttpConfig,
    pub handler: &'a Handler,
    /// True when other connections wait for a worker: then this one is not kept alive.
    pub crowded: &'a dyn Fn() -> bool,
    /// True once the server is shutting down.
    pub stopping: &'a dyn Fn() -> bool,
}

/// How reading one request ended.
enum Incoming {
    Request(Box<Request>, bool),
    /// The client closed, or stayed idle too long, between requests: close quietly.
    Closed,
    /// Refuse with this status and text, then close.
    Refuse(u16, &'static str),
}

pub(crate) fn serve(stream: &TcpStream, peer: SocketAddr, cx: &Context<'_>) {
    let _ = stream.set_nodelay(true);
    let _ = stream.set_write_timeout(Some(cx.config.write_timeout));
    let limits = Limits {
        max_head: cx.config.max_head_bytes,
        max_headers: cx.config.max_headers,
        max_body: cx.config.max_body_bytes,
    };
    let mut buf = Vec::with_capacity(READ_CHUNK);
    let mut first = true;
    loop {
        // A fresh connection gets the whole read timeout for its first byte; a kept-alive one
        // waits at most the idle timeout, and less when other connections need its worker.
        let wait = if first {
            Wait {
                idle: cx.config.read_timeout,
                give_way: None,
            }
        } else {
            Wait {
                idle: cx.config.idle_timeout,
                give_way: Some(&|| (cx.crowded)() || (cx.stopping)()),
            }
        };
        first = false;
        match read_request(
            stream,
            peer,
            &mut buf,
            &limits,
            &wait,
            cx.config.read_timeout,
        ) {
            Ok(Incoming::Request(request, keep_alive)) => {
                let response = respond(cx.handler, &request);
                let keep = keep_alive && !(cx.crowded)() && !(cx.stopping)();
                let keep = keep.then_some(cx.config.idle_timeout);
                if write_response(&mut &*stream, &response, keep).is_err() || keep.is_none() {
                    return;
                }
            }
            Ok(Incoming::Closed) => return,
            Ok(Incoming::Refuse(status, text)) => {
                let response = Response::text(status, format!("{text}\n"));
                let _ = write_response(&mut &*stream, &response, None);
                return close_gently(stream);
            }
            Err(err) => {
                log::debug!("[http] {peer}: {err}");
                return;
            }
        }
    }
}

/// Calls the handler; a panic becomes a `500` instead of a dropped connection.
fn respond(handler: &Handler, request: &Request) -> Response {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handler(request))) {
        Ok(response) => response,
        Err(_) => {
            log::error!("[http] the handler panicked on {:?}", request.target);
            Response::text(500, "internal server error\n")
        }
    }
}

/// Reads the next request from `buf` and the stream. Bytes of a pipelined next request stay in
/// `buf`.
/// How long to wait for the first byte of a request.
struct Wait<'a> {
    idle: Duration,
    /// Checked while waiting: when it says so, stop waiting and close.
    give_way: Option<&'a dyn Fn() -> bool>,
}

/// Reads one request; once its first byte is in, the rest must follow within `read_timeout`.
fn read_request(
    stream: &TcpStream,
    peer: SocketAddr,
    buf: &mut Vec<u8>,
    limits: &Limits,
    wait: &Wait<'_>,
    read_timeout: Duration,
) -> io::Result<Incoming> {
    let Some(started) = wait_for_bytes(stream, buf, wait)? else {
        return Ok(Incoming::Closed);
    };
    let deadline = started + read_timeout;
    let head = loop {
        match parse_head(buf, limits) {
            Ok(Some(head)) => break head,
            Ok(None) => {}
            Err(err) => return Ok(refuse(err)),
        }
        match fill(stream, buf, deadline)? {
            Fill::Data => {}
            Fill::Eof => return Ok(Incoming::Closed),
            Fill::TimedOut => return Ok(Incoming::Refuse(408, "request timeout")),
        }
    };
    buf.drain(..head.len);
    if head.expect_continue && head.body != BodyKind::Empty {
        (&mut &*stream).write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
    }
    let body = match read_body(stream, buf, &head, limits, deadline)? {
        Ok(body) => body,
        Err(incoming) => return Ok(incoming),
    };
    let request = Request {
        method: head.method,
        target: head.target,
        headers: head.headers,
        body,
        peer,
    };
    Ok(Incoming::Request(Box::new(request), head.keep_alive))
}

fn refuse(err: FrameError) -> Incoming {
    Incoming::Refuse(err.status(), err.text())
}

/// Waits for the first byte of a request; `None` when the client closed, idled too long, or the
/// worker must give way.
fn wait_for_bytes(
    stream: &TcpStream,
    buf: &mut Vec<u8>,
    wait: &Wait<'_>,
) -> io::Result<Option<Instant>> {
    if !buf.is_empty() {
        return Ok(Some(Instant::now()));
    }
    let deadline = Instant::now() + wait.idle;
    loop {
        let slice = match wait.give_way {
            Some(_) => deadline.min(Instant::now() + IDLE_POLL),
            None => deadline,
        };
        match fill(stream, buf, slice)? {
            Fill::Data => return Ok(Some(Instant::now())),
            Fill::Eof => return Ok(None),
            Fill::TimedOut if Instant::now() >= deadline => return Ok(None),
            Fill::TimedOut if wait.give_way.is_some_and(|give_way| give_way()) => return Ok(None),
            Fill::TimedOut => {}
        }
    }
}

fn read_body(
    stream: &TcpStream,
    buf: &mut Vec<u8>,
    head: &Head,
    limits: &Limits,
    deadline: Instant,
) -> io::Result<Result<Vec<u8>, Incoming>> {
    match head.body {
        BodyKind::Empty => Ok(Ok(Vec::new())),
        BodyKind::Length(len) => {
            while buf.len() < len {
                match fill(stream, buf, deadline)? {
                    Fill::Data => {}
                    Fill::Eof => return Ok(Err(Incoming::Closed)),
                    Fill::TimedOut => return Ok(Err(Incoming::Refuse(408, "request timeout"))),
                }
            }
            Ok(Ok(buf.drain(..len).collect()))
        }
        BodyKind::Chunked => {
            let mut chunked = Chunked::new(limits.max_body);
            loop {
                match chunked.feed(buf) {
                    Ok(used) => drop(buf.drain(..used)),
                    Err(err) => return Ok(Err(refuse(err))),
                }
                if chunked.is_done() {
                    return Ok(Ok(chunked.into_body()));
                }
                match fill(stream, buf, deadline)? {
                    Fill::Data => {}
                    Fill::Eof => return Ok(Err(Incoming::Closed)),
                    Fill::TimedOut => return Ok(Err(Incoming::Refuse(408, "request timeout"))),
                }
            }
        }
    }
}

enum Fill {
    Data,
    Eof,
    TimedOut,
}

/// One `read` into `buf`, waiting no later than `deadline`.
fn fill(stream: &TcpStream, buf: &mut Vec<u8>, deadline: Instant) -> io::Result<Fill> {
    let Some(left) = deadline
        .checked_duration_since(Instant::now())
        .filter(|d| !d.is_zero())
    else {
        return Ok(Fill::TimedOut);
    };
    stream.set_read_timeout(Some(left))?;
    let mut chunk = [0u8; READ_CHUNK];
    match (&mut &*stream).read(&mut chunk) {
        Ok(0) => Ok(Fill::Eof),
        Ok(n) => {
            buf.extend_from_slice(&chunk[..n]);
            Ok(Fill::Data)
        }
        Err(err)
            if matches!(
                err.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ) =>
        {
            Ok(Fill::TimedOut)
        }
        Err(err) if err.kind() == io::ErrorKind::Interrupted => Ok(Fill::Data),
        Err(err) => Err(err),
    }
}

/// Writes the status line, the header fields (with `Content-Length`, `Date` and `Connection`)
/// and the body. `keep_alive` is how long the connection will wait for the next request, or
/// `None` when it closes after this response.
pub(crate) fn write_response(
    stream: &mut impl Write,
    response: &Response,
    keep_alive: Option<Duration>,
) -> io::Result<()> {
    let body = response.body().as_bytes();
    let mut head = format!(
        "HTTP/1.1 {} {}\r\n",
        response.status(),
        reason(response.status())
    );
    for (name, value) in response.headers() {
        if !name.eq_ignore_ascii_case("Connection") {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    if response.header("Content-Length").is_none() {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str(&format!(
        "Date: {}\r\n",
        crate::time::http_date(SystemTime::now())
    ));
    match keep_alive {
        Some(idle) => head.push_str(&format!(
            "Connection: keep-alive\r\nKeep-Alive: timeout={}\r\n\r\n",
            idle.as_secs().max(1)
        )),
        None => head.push_str("Connection: close\r\n\r\n"),
    }
    if body.len() < COALESCE {
        let mut whole = head.into_bytes();
        whole.extend_from_slice(body);
        stream.write_all(&whole)?;
    } else {
        stream.write_all(head.as_bytes())?;
        stream.write_all(body)?;
    }
    stream.flush()
}

/// Closes after a refusal without losing the response: stop writing, read and discard what the
/// client may still be sending (briefly), then close. Closing with unread bytes would make the
/// kernel reset the connection, and the client could lose the response.
fn close_gently(stream: &TcpStream) {
    let _ = stream.shutdown(Shutdown::Write);
    let deadline = Instant::now() + LINGER;
    let mut discarded = 0;
    let mut sink = Vec::new();
    while discarded < LINGER_BYTES {
        sink.clear();
        match fill(stream, &mut sink, deadline) {
            Ok(Fill::Data) => discarded += sink.len(),
            _ => return,
        }
    }
}

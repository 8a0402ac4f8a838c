//! The connection driver: the one loop that runs an `smtp_proto::Session` over a socket.
//!
//! ```text
//! loop {
//!     write all pending replies                       (a pipelined group goes out together)
//!     answer each event: store / STARTTLS / verify    (then write what that produced)
//!     stop if the session is closed
//!     read with the timeout for what the session expects, feed the bytes
//! }
//! ```
//!
//! Everything protocol-shaped lives in the session; this file owns the socket, the clock and the
//! calls into the store, TLS and AUTH.

use std::cell::RefCell;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use smtp_proto::{
    AuthPolicy, ConnectionInfo, Event, Expect, Mailbox, Message, Proof, Session, StoreFailure,
};
use smtp_tls::Transport;

use crate::pool::Job;
use crate::services::{AuthMode, Services};

/// Bytes read per `read` call. Sessions copy what they keep, so one buffer per thread suffices.
const READ_BUFFER: usize = 16 * 1024;

thread_local! {
    /// The serving thread's read buffer, kept across its connections: zeroing a fresh 16 KiB
    /// for every connection was an eighth of the instructions spent on a 1 KiB message.
    static READ_BUF: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Runs one connection from accept to close. Errors only end the connection.
pub(crate) fn serve(services: &Services, job: Job) {
    let Job {
        stream,
        peer,
        implicit_tls,
        options_set,
    } = job;
    // The registry holds the socket too: it closes (and the FIN goes) when both let go, at
    // the end of this function.
    let stream = Arc::new(stream);
    let _guard = services.connections.register(&stream);
    let timeouts = &services.timeouts;
    if !options_set {
        let _ = stream.set_nodelay(true);
        let _ = stream.set_write_timeout(Some(timeouts.socket_write()));
    }
    // What the socket starts with; unknown (to be set before the first read) when not inherited.
    let read_timeout_set = options_set.then_some(timeouts.socket_read());
    services.metrics.session_opened();
    let transport = if implicit_tls {
        let Some(tls) = &services.tls else { return };
        let in_force = timeouts.in_force(read_timeout_set);
        match Transport::accept_implicit(stream, &tls.current(), timeouts.handshake, in_force) {
            Ok(transport) => {
                services.metrics.tls_handshake(true);
                transport
            }
            Err(err) => {
                services.metrics.tls_handshake(false);
                log::debug!("{peer}: implicit TLS handshake failed: {err}");
                return;
            }
        }
    } else {
        Transport::from(stream)
    };
    let config = services.session_config();
    // Made only where CRAM-MD5 can be offered: it costs a clock read and a formatted string.
    let cram_md5 = matches!(config.auth, AuthPolicy::Enabled { cram_md5: true, .. });
    let info = ConnectionInfo {
        tls: transport.is_tls(),
        challenge_token: if cram_md5 {
            services.challenge_token()
        } else {
            String::new()
        },
    };
    let session = Session::new(config, info);
    let mut conn = Connection {
        services,
        peer,
        transport: Some(transport),
        session,
        deadline: None,
        input_came: false,
        read_timeout_set,
        output: Vec::new(),
    };
    match conn.run() {
        Ok(()) => log::debug!("{peer}: connection closed"),
        Err(err) => log::debug!("{peer}: connection ended: {err}"),
    }
    if let Some(mut transport) = conn.transport.take() {
        let _ = transport.close_notify();
    }
}

/// What a read waits for; each has its own timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wait {
    Command,
    Data,
}

struct Connection<'a> {
    services: &'a Services,
    peer: SocketAddr,
    /// `None` only while a STARTTLS upgrade holds the stream.
    transport: Option<Transport>,
    session: Session,
    /// When the input now awaited must have come, and what it is (see
    /// [`Connection::deadline`]).
    deadline: Option<(Wait, Instant)>,
    /// Bytes have come since `deadline` was set.
    input_came: bool,
    /// The socket's read timeout as last set; `None` when unknown or to be set again (the last
    /// read ended at it, before `deadline`).
    read_timeout_set: Option<Duration>,
    /// Replies on their way out; swapped with the session's buffer, so neither allocates anew.
    output: Vec<u8>,
}

impl Connection<'_> {
    fn run(&mut self) -> io::Result<()> {
        READ_BUF.with_borrow_mut(|buf| {
            if buf.len() != READ_BUFFER {
                *buf = vec![0u8; READ_BUFFER];
            }
            self.run_with(buf)
        })
    }

    fn run_with(&mut self, buf: &mut [u8]) -> io::Result<()> {
        loop {
            self.flush()?;
            while let Some(event) = self.session.poll_event() {
                self.answer(event)?;
                self.flush()?;
            }
            if self.session.is_closed() {
                return Ok(());
            }
            let now = Instant::now();
            let deadline = self.deadline(now);
            let left = deadline
                .saturating_duration_since(now)
                .max(Duration::from_millis(1));
            // The socket's timeout may be shorter than what is left: the read then ends early
            // and is made again. So it is set only when it could overrun the deadline by more
            // than a little, or has just run out early, and a client that keeps to the timeouts
            // costs no `setsockopt` at all (switching to the data timeout and back cost two
            // per message).
            let slack = (left / 10).min(Duration::from_millis(100));
            if self.read_timeout_set.is_none_or(|set| set > left + slack) {
                self.transport()?.tcp().set_read_timeout(Some(left))?;
                self.read_timeout_set = Some(left);
            }
            let transport = self.transport()?;
            match transport.read(buf) {
                Ok(0) => self.end_of_input(),
                Ok(n) => {
                    self.input_came = true;
                    self.session.handle_input(&buf[..n]);
                }
                Err(err) if is_timeout(&err) => {
                    if self.services.connections.stopping() {
                        self.session.handle_shutdown();
                    } else if Instant::now() < deadline {
                        // Ended early: read again, with the time left.
                        self.read_timeout_set = None;
                    } else {
                        log::debug!(
                            "{}: timed out waiting for {:?}",
                            self.peer,
                            self.session.expects()
                        );
                        self.session.handle_timeout();
                    }
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => {
                    self.end_of_input();
                    self.flush()?;
                    return Err(err);
                }
            }
        }
    }

    fn end_of_input(&mut self) {
        if self.services.connections.stopping() {
            self.session.handle_shutdown();
        } else {
            self.session.handle_eof();
        }
    }

    /// When the input now awaited must have come: a whole command line within the command
    /// timeout (so a byte-at-a-time client cannot hold a worker for ever), and message data
    /// without a pause longer than the data timeout. Set anew when the wait changes, or once
    /// bytes have come (for a command, once they have completed the line), so a read that ends
    /// early leaves it be.
    fn deadline(&mut self, now: Instant) -> Instant {
        let timeouts = &self.services.timeouts;
        let (wait, timeout) = match self.session.expects() {
            Expect::Data => (Wait::Data, timeouts.data),
            Expect::Command | Expect::AuthResponse | Expect::Decision | Expect::Nothing => {
                (Wait::Command, timeouts.command)
            }
        };
        // Message data: each pause. A command: each line, from the read that began it.
        let next = self.input_came && (wait == Wait::Data || self.session.buffered() == 0);
        match self.deadline {
            Some((was, deadline)) if was == wait && !next => deadline,
            _ => {
                self.input_came = false;
                let deadline = now + timeout;
                self.deadline = Some((wait, deadline));
                deadline
            }
        }
    }

    fn transport(&mut self) -> io::Result<&mut Transport> {
        self.transport.as_mut().ok_or_else(lost_in_starttls)
    }

    /// Writes every pending reply and the trace lines that go with them.
    fn flush(&mut self) -> io::Result<()> {
        if self.services.trace {
            while let Some(line) = self.session.poll_transcript() {
                crate::trace::line(self.peer, &line);
            }
        }
        if self.session.poll_output_into(&mut self.output) {
            let Self {
                transport, output, ..
            } = self;
            let transport = transport.as_mut().ok_or_else(lost_in_starttls)?;
            if self.session.is_closed() {
                transport.write_last(output)?;
            } else {
                transport.write_all(output)?;
                transport.flush()?;
            }
        }
        Ok(())
    }

    fn answer(&mut self, event: Event) -> io::Result<()> {
        match event {
            Event::Message(message) => self.store(message),
            Event::StartTls => self.start_tls()?,
            Event::Authenticate(request) => {
                let ok = match (&self.services.auth, &request.proof) {
                    (AuthMode::AcceptAny, _) => true,
                    (AuthMode::Verify(verifier), Proof::Password(password)) => {
                        verifier.verify(&request.username, password.expose())
                    }
                    (AuthMode::Verify(verifier), Proof::CramMd5 { challenge, digest }) => {
                        verifier.verify_cram_md5(&request.username, challenge, digest)
                    }
                    (AuthMode::Disabled, _) => false,
                };
                if ok {
                    log::debug!(
                        "{}: AUTH {} as {:?}",
                        self.peer,
                        request.mechanism.name(),
                        request.username
                    );
                    self.session.auth_succeeded(&request.username);
                } else {
                    self.services.metrics.auth_failed();
                    log::warn!(
                        "{}: AUTH {} failed for user {:?}",
                        self.peer,
                        request.mechanism.name(),
                        request.username
                    );
                    self.session.auth_failed();
                }
            }
        }
        Ok(())
    }

    fn store(&mut self, message: Message) {
        let Message { envelope, data } = message;
        let size = data.len();
        let envelope = smtp_store::Envelope {
            remote_addr: self.peer,
            helo: envelope.helo.unwrap_or_default(),
            esmtp: envelope.esmtp,
            tls: envelope.tls,
            auth_user: envelope.auth_user,
            mail_from: envelope.mail_from.into_string(),
            rcpt_to: envelope
                .rcpt_to
                .into_iter()
                .map(Mailbox::into_string)
                .collect(),
            smtputf8: envelope.smtputf8,
        };
        match self.services.store.deliver(envelope, data) {
            Ok(id) => {
                self.services.metrics.message_accepted(size);
                log::debug!("{}: stored message {id} ({size} bytes)", self.peer);
                self.session.message_stored(id.as_str());
            }
            Err(err) => {
                self.services.metrics.message_refused();
                log::warn!("{}: could not store a message: {err}", self.peer);
                let failure = if err.is_insufficient_storage() {
                    StoreFailure::InsufficientStorage
                } else {
                    StoreFailure::LocalError
                };
                self.session.message_failed(failure);
            }
        }
    }

    /// STARTTLS: the `220` is already written; plaintext the session buffered was discarded.
    fn start_tls(&mut self) -> io::Result<()> {
        let (Some(tls), Some(transport)) = (&self.services.tls, self.transport.take()) else {
            return Err(io::Error::other("STARTTLS without TLS configured"));
        };
        let in_force = self.services.timeouts.in_force(self.read_timeout_set);
        match transport.upgrade(&tls.current(), self.services.timeouts.handshake, in_force) {
            Ok(transport) => {
                self.services.metrics.tls_handshake(true);
                self.transport = Some(transport);
                self.session.tls_established();
                Ok(())
            }
            Err(err) => {
                self.services.metrics.tls_handshake(false);
                log::debug!("{}: STARTTLS handshake failed: {err}", self.peer);
                Err(io::Error::other(format!(
                    "STARTTLS handshake failed: {err}"
                )))
            }
        }
    }
}

/// A blocking socket call gave up after its timeout (Unix says `EAGAIN`, Windows `WSAETIMEDOUT`).
pub(crate) fn is_timeout(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

fn lost_in_starttls() -> io::Error {
    io::Error::new(io::ErrorKind::NotConnected, "connection lost in STARTTLS")
}

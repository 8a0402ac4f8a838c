//! The SMTP server session: an enum of modes, a transaction, and one `match` per input.
//!
//! See the crate documentation for the state graph and the driver loop.

use std::collections::VecDeque;
use std::sync::Arc;

use crate::address::{Mailbox, ReversePath};
use crate::command::{self, BodyType, Command, MailParams};
use crate::config::{
    AuthPolicy, Config, ConnectionInfo, TlsPolicy, MAX_AUTH_LINE, MAX_COMMAND_LINE,
};
use crate::data::{Body, DataReceiver};
use crate::event::{Envelope, Event, Expect, Message, StoreFailure, TranscriptLine};
use crate::line::{self, Frame};
use crate::reply::{self, EnhancedStatus, Reply, ReplyCode};
use crate::sasl::{self, Mechanism, SaslError};

mod replies;

/// Room for replies: they are small, and this holds a whole pipelined batch of them.
const OUTPUT_CAPACITY: usize = 512;

/// What input comes next.
#[derive(Debug)]
enum Mode {
    /// A command line.
    Command,
    /// Discarding an oversized line up to its LF, then `500`.
    SkipLine,
    /// DATA body until `<CRLF>.<CRLF>`.
    Data(DataReceiver),
    /// A BDAT chunk of `remaining` octets. `refusal` is the reply owed once the chunk has been
    /// read when the chunk is being discarded.
    Chunk {
        remaining: u64,
        last: bool,
        refusal: Option<Reply>,
    },
    /// A SASL response line.
    AuthResponse(AuthStep),
    /// An [`Event`] is out; no input is processed until the driver decides.
    AwaitDecision,
    /// STARTTLS accepted: every plaintext byte is discarded until the handshake is done.
    AwaitTls,
    Closed,
}

/// Where an AUTH exchange is.
#[derive(Debug)]
enum AuthStep {
    Plain,
    LoginUser,
    LoginPassword { username: String },
    CramMd5 { challenge: Vec<u8> },
}

/// An open mail transaction (after MAIL FROM).
#[derive(Debug)]
struct Transaction {
    from: ReversePath,
    params: MailParams,
    rcpts: Vec<Mailbox>,
    /// BDAT chunks received so far, once the first BDAT arrived.
    chunks: Option<Body>,
}

/// The client's EHLO/HELO.
#[derive(Debug)]
struct Greeting {
    name: String,
    extended: bool,
}

/// One SMTP server session. Feed it bytes with [`Session::handle_input`]; drain
/// [`Session::poll_output`], [`Session::poll_event`] and [`Session::poll_transcript`]; answer
/// events with the decision methods.
#[derive(Debug)]
pub struct Session {
    config: Arc<Config>,
    challenge_token: String,
    mode: Mode,
    greeting: Option<Greeting>,
    tls: bool,
    auth_user: Option<String>,
    auth_failures: u32,
    tx: Option<Transaction>,
    input: Vec<u8>,
    output: Vec<u8>,
    events: VecDeque<Event>,
    transcript: VecDeque<TranscriptLine>,
}

impl Session {
    /// A new session; the `220` greeting is queued at once. For implicit TLS create the session
    /// after the handshake, with `info.tls` set.
    pub fn new(config: Arc<Config>, info: ConnectionInfo) -> Self {
        let mut session = Self {
            config,
            challenge_token: info.challenge_token,
            mode: Mode::Command,
            greeting: None,
            tls: info.tls,
            auth_user: None,
            auth_failures: 0,
            tx: None,
            input: Vec::new(),
            output: Vec::with_capacity(OUTPUT_CAPACITY),
            events: VecDeque::new(),
            transcript: VecDeque::new(),
        };
        session.reply_as_host(ReplyCode::SERVICE_READY, None, " ESMTP Service ready");
        session
    }

    // ---- inputs -------------------------------------------------------------------------

    /// Bytes from the client. Processes every complete command they finish, until the session
    /// needs a decision from the driver.
    pub fn handle_input(&mut self, bytes: &[u8]) {
        if self.discards_input() {
            return;
        }
        if self.input.is_empty() {
            // Nothing held from before: run the caller's bytes where they are and keep only
            // what is left (a partial line, or what follows a point of decision). Message data
            // then goes from the driver's read buffer straight into the message.
            let used = self.run(bytes);
            if !self.discards_input() {
                self.input.extend_from_slice(&bytes[used..]);
            }
        } else {
            self.input.extend_from_slice(bytes);
            self.process();
        }
    }

    /// The client closed its side.
    pub fn handle_eof(&mut self) {
        self.close();
    }

    /// The client was silent for longer than the driver's timeout for [`Session::expects`].
    pub fn handle_timeout(&mut self) {
        if self.is_closed() {
            return;
        }
        self.reply_as_host(
            ReplyCode::UNAVAILABLE,
            Some(EnhancedStatus::new(4, 4, 2)),
            " ESMTP Service closing transmission channel after timeout exceeded",
        );
        self.close();
    }

    /// The server is shutting down and this session ran out of grace time.
    pub fn handle_shutdown(&mut self) {
        if self.is_closed() {
            return;
        }
        self.reply(Reply::new(
            ReplyCode::UNAVAILABLE,
            EnhancedStatus::new(4, 3, 2),
            "Service shutting down, try again later",
        ));
        self.close();
    }

    // ---- decisions ----------------------------------------------------------------------

    /// The message from [`Event::Message`] is stored under `id`.
    pub fn message_stored(&mut self, id: &str) {
        let start = self.output.len();
        let parts = ["Ok: queued as ", id];
        let status = Some(EnhancedStatus::new(2, 0, 0));
        reply::write_parts(&mut self.output, ReplyCode::OK, true, status, &parts);
        self.trace_written(start);
        self.resume();
    }

    /// The message from [`Event::Message`] could not be stored.
    pub fn message_failed(&mut self, failure: StoreFailure) {
        self.reply(replies::store_failed(failure));
        self.resume();
    }

    /// The TLS handshake after [`Event::StartTls`] succeeded: RFC 3207 section 4.2 says forget
    /// everything learnt before it. The client must EHLO again.
    pub fn tls_established(&mut self) {
        self.tls = true;
        self.greeting = None;
        self.tx = None;
        self.auth_user = None;
        self.input.clear();
        self.mode = Mode::Command;
    }

    /// The credentials from [`Event::Authenticate`] are valid.
    pub fn auth_succeeded(&mut self, username: &str) {
        self.auth_user = Some(username.to_owned());
        self.reply(Reply::new(
            ReplyCode::AUTH_OK,
            EnhancedStatus::new(2, 7, 0),
            "Authentication successful",
        ));
        self.resume();
    }

    /// The credentials from [`Event::Authenticate`] are not valid.
    pub fn auth_failed(&mut self) {
        self.fail_auth();
        self.resume();
    }

    // ---- outputs ------------------------------------------------------------------------

    /// Reply bytes to send. Write them all before reading again: that is how replies to a
    /// pipelined group go out together (RFC 2920).
    #[must_use]
    pub fn poll_output(&mut self) -> Option<Vec<u8>> {
        (!self.output.is_empty()).then(|| std::mem::take(&mut self.output))
    }

    /// [`poll_output`](Self::poll_output) without an allocation per batch of replies: `buf` is
    /// cleared and swapped with the pending bytes, so the session writes its next replies into
    /// `buf`'s old allocation. Returns whether there were any bytes.
    pub fn poll_output_into(&mut self, buf: &mut Vec<u8>) -> bool {
        buf.clear();
        if self.output.is_empty() {
            return false;
        }
        std::mem::swap(&mut self.output, buf);
        // `buf` may have come without room (a driver's first flush): give it a new session's,
        // once, rather than growing it reply by reply.
        self.output.reserve(OUTPUT_CAPACITY);
        true
    }

    /// The next thing only the driver can do.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// The next transcript line, when [`Config::transcript`] is on.
    #[must_use]
    pub fn poll_transcript(&mut self) -> Option<TranscriptLine> {
        self.transcript.pop_front()
    }

    /// What the session waits for.
    pub fn expects(&self) -> Expect {
        match self.mode {
            Mode::Command | Mode::SkipLine => Expect::Command,
            Mode::Data(_) | Mode::Chunk { .. } => Expect::Data,
            Mode::AuthResponse(_) => Expect::AuthResponse,
            Mode::AwaitDecision | Mode::AwaitTls => Expect::Decision,
            Mode::Closed => Expect::Nothing,
        }
    }

    /// The session is over; flush the output, then close the connection.
    pub fn is_closed(&self) -> bool {
        matches!(self.mode, Mode::Closed)
    }

    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// Bytes received but not yet processed (bounded by the line limits while reading commands).
    pub fn buffered(&self) -> usize {
        self.input.len()
    }

    // ---- the machine --------------------------------------------------------------------

    fn resume(&mut self) {
        if matches!(self.mode, Mode::AwaitDecision) {
            self.mode = Mode::Command;
        }
        self.process();
    }

    /// Runs the buffered input through the current mode until it runs out or a decision is due.
    fn process(&mut self) {
        let mut input = std::mem::take(&mut self.input);
        let used = self.run(&input);
        if self.discards_input() {
            input.clear();
        } else {
            input.drain(..used);
        }
        self.input = input;
    }

    /// Whether input is dropped unread: after STARTTLS until the handshake (CVE-2011-0411:
    /// plaintext pipelined after STARTTLS is never executed), and once the session is closed.
    fn discards_input(&self) -> bool {
        matches!(self.mode, Mode::AwaitTls | Mode::Closed)
    }

    /// Runs `input` through the current mode until it runs out or a decision is due; returns
    /// how many of its bytes were used. `self.input` is empty meanwhile (the caller holds it).
    fn run(&mut self, input: &[u8]) -> usize {
        let mut pos = 0;
        while pos < input.len() {
            let rest = &input[pos..];
            let used = match &mut self.mode {
                Mode::Command => self.step_line(rest, MAX_COMMAND_LINE),
                Mode::AuthResponse(_) => self.step_line(rest, MAX_AUTH_LINE),
                Mode::SkipLine => Some(self.step_skip(rest)),
                Mode::Data(receiver) => match receiver.feed(rest) {
                    Some(n) => {
                        self.finish_data();
                        Some(n)
                    }
                    None => Some(rest.len()),
                },
                Mode::Chunk { .. } => Some(self.step_chunk(rest)),
                Mode::AwaitDecision | Mode::AwaitTls | Mode::Closed => None,
            };
            match used {
                Some(n) => pos += n,
                None => break,
            }
        }
        pos
    }

    /// Frames one line; `None` when more bytes are needed.
    fn step_line(&mut self, rest: &[u8], limit: usize) -> Option<usize> {
        match line::frame(rest, limit) {
            Frame::Line { len, content } => {
                let line = &rest[..content];
                match std::mem::replace(&mut self.mode, Mode::Command) {
                    Mode::AuthResponse(step) => {
                        self.trace_client(|| "<AUTH response redacted>".to_owned());
                        self.on_auth_line(step, line);
                    }
                    _ => self.on_command_line(line),
                }
                Some(len)
            }
            Frame::Incomplete => None,
            Frame::TooLong => {
                // The skipping mode consumes the line, up to and including its LF.
                self.mode = Mode::SkipLine;
                Some(0)
            }
        }
    }

    fn step_skip(&mut self, rest: &[u8]) -> usize {
        let (used, done) = line::skip_line(rest);
        if done {
            self.mode = Mode::Command;
            self.trace_client(|| "<line too long, discarded>".to_owned());
            self.reply(Reply::new(
                ReplyCode::SYNTAX_ERROR,
                EnhancedStatus::new(5, 5, 2),
                "Line too long",
            ));
        }
        used
    }

    fn on_command_line(&mut self, line: &[u8]) {
        self.trace_client(|| replies::redact_command(line));
        match command::parse(line) {
            Ok(command) => self.on_command(command),
            Err(err) => self.reply(err.reply()),
        }
    }

    /// One command, in a state where commands are read. Every arm yields a reply or an event.
    fn on_command(&mut self, command: Command<'_>) {
        if let Some(refusal) = self.gate(&command) {
            return match command {
                Command::Bdat { size, last } => self.start_chunk(size, last, Some(refusal)),
                _ => self.reply(refusal),
            };
        }
        match command {
            Command::Ehlo(name) => self.on_ehlo(name, true),
            Command::Helo(name) => self.on_ehlo(name, false),
            Command::Mail { from, params } => self.on_mail(from, params),
            Command::Rcpt { to } => self.on_rcpt(to),
            Command::Data => self.on_data(),
            Command::Bdat { size, last } => {
                let refusal = self.bdat_refusal(size);
                self.start_chunk(size, last, refusal);
            }
            Command::Rset => {
                self.tx = None;
                self.reply(replies::ok());
            }
            Command::Noop => self.reply(replies::ok()),
            Command::Quit => {
                self.reply_as_host(
                    ReplyCode::CLOSING,
                    Some(EnhancedStatus::new(2, 0, 0)),
                    " ESMTP Service closing transmission channel",
                );
                self.close();
            }
            Command::Help => self.reply(replies::help(&self.config)),
            Command::Vrfy => self.reply(replies::cannot_vrfy()),
            Command::Expn => self.reply(replies::not_implemented()),
            Command::StartTls => self.on_starttls(),
            Command::Auth { mechanism, initial } => self.on_auth(mechanism, initial),
        }
    }

    /// Policy refusals that apply before a command's own logic: STARTTLS required (RFC 3207
    /// section 4) and AUTH required (RFC 4954 section 6).
    fn gate(&self, command: &Command<'_>) -> Option<Reply> {
        let exempt_from_tls = matches!(
            command,
            Command::Ehlo(_) | Command::Helo(_) | Command::Noop | Command::StartTls | Command::Quit
        );
        if self.config.tls == TlsPolicy::Required && !self.tls && !exempt_from_tls {
            return Some(replies::must_starttls());
        }
        let needs_auth = matches!(
            command,
            Command::Mail { .. } | Command::Rcpt { .. } | Command::Data | Command::Bdat { .. }
        );
        let auth_required = matches!(self.config.auth, AuthPolicy::Enabled { required: true, .. });
        if needs_auth && auth_required && self.auth_user.is_none() {
            return Some(replies::auth_required());
        }
        None
    }

    fn on_ehlo(&mut self, name: &str, extended: bool) {
        self.tx = None;
        self.greeting = Some(Greeting {
            name: name.to_owned(),
            extended,
        });
        let (tls, auth_usable) = (self.tls, self.auth_usable());
        let start = self.output.len();
        if extended {
            replies::write_ehlo(&mut self.output, &self.config, name, tls, auth_usable);
        } else {
            let parts = [self.config.hostname.as_str(), " greets ", name];
            reply::write_parts(&mut self.output, ReplyCode::OK, true, None, &parts);
        }
        self.trace_written(start);
    }

    fn on_mail(&mut self, from: ReversePath, params: MailParams) {
        if self.tx.is_some() {
            return self.reply(replies::bad_sequence("nested MAIL command"));
        }
        if params
            .size
            .is_some_and(|size| size > self.config.message_limit())
        {
            return self.reply(replies::too_big(self.config.message_limit()));
        }
        self.tx = Some(Transaction {
            from,
            params,
            rcpts: Vec::new(),
            chunks: None,
        });
        self.reply(Reply::new(
            ReplyCode::OK,
            EnhancedStatus::new(2, 1, 0),
            "Ok",
        ));
    }

    fn on_rcpt(&mut self, to: Mailbox) {
        let Some(tx) = self.tx.as_mut() else {
            return self.reply(replies::bad_sequence("MAIL required before RCPT"));
        };
        let reply = if to.is_utf8() && !tx.params.smtputf8 {
            command::ParseError::Utf8NotDeclared.reply()
        } else if tx.rcpts.len() >= self.config.max_recipients {
            Reply::new(
                ReplyCode::INSUFFICIENT_STORAGE,
                EnhancedStatus::new(4, 5, 3),
                "Too many recipients",
            )
        } else if self
            .config
            .recipient_filter
            .as_ref()
            .is_some_and(|filter| !filter.allows(to.as_str()))
        {
            Reply::new(
                ReplyCode::MAILBOX_UNAVAILABLE,
                EnhancedStatus::new(5, 1, 0),
                "Requested action not taken: mailbox unavailable",
            )
        } else {
            tx.rcpts.push(to);
            Reply::new(ReplyCode::OK, EnhancedStatus::new(2, 1, 5), "Ok")
        };
        self.reply(reply);
    }

    fn on_data(&mut self) {
        let reply = match &self.tx {
            Some(tx) if !tx.rcpts.is_empty() && tx.chunks.is_some() => {
                replies::bad_sequence("DATA not allowed after BDAT")
            }
            Some(tx) if tx.params.body == BodyType::BinaryMime => {
                replies::bad_sequence("BINARYMIME requires BDAT")
            }
            Some(tx) if !tx.rcpts.is_empty() => {
                let body = Body::new(self.config.message_limit(), tx.params.size);
                self.mode = Mode::Data(DataReceiver::new(body));
                Reply::bare(
                    ReplyCode::START_INPUT,
                    "Start mail input; end with <CR><LF>.<CR><LF>",
                )
            }
            _ => replies::bad_sequence("MAIL & RCPT required before DATA"),
        };
        self.reply(reply);
    }

    fn finish_data(&mut self) {
        let Mode::Data(receiver) = std::mem::replace(&mut self.mode, Mode::Command) else {
            return;
        };
        let body = receiver.into_body();
        self.trace_client(|| format!("<message data: {} octets>", body.received()));
        self.deliver(body, false);
    }

    /// BDAT refused before its chunk is read: the chunk is still consumed, then this reply.
    fn bdat_refusal(&self, size: u64) -> Option<Reply> {
        match &self.tx {
            Some(tx) if !tx.rcpts.is_empty() => {
                let so_far = tx.chunks.as_ref().map_or(0, Body::received);
                (so_far.saturating_add(size) > self.config.message_limit())
                    .then(|| replies::too_big(self.config.message_limit()))
            }
            _ => Some(replies::bad_sequence("MAIL & RCPT required before BDAT")),
        }
    }

    fn start_chunk(&mut self, size: u64, last: bool, refusal: Option<Reply>) {
        if refusal.is_none() {
            if let Some(tx) = self.tx.as_mut() {
                let limit = self.config.message_limit();
                tx.chunks
                    .get_or_insert_with(|| Body::new(limit, tx.params.size));
            }
        } else if matches!(
            refusal.as_ref().map(Reply::code),
            Some(ReplyCode::EXCEEDED_STORAGE)
        ) {
            // An oversized chunk aborts the transaction (RFC 3030 section 4.2).
            self.tx = None;
        }
        self.mode = Mode::Chunk {
            remaining: size,
            last,
            refusal,
        };
        if size == 0 {
            self.finish_chunk();
        }
    }

    fn step_chunk(&mut self, rest: &[u8]) -> usize {
        let Mode::Chunk {
            remaining, refusal, ..
        } = &mut self.mode
        else {
            return 0;
        };
        let take = usize::try_from(*remaining).map_or(rest.len(), |r| r.min(rest.len()));
        if refusal.is_none() {
            if let Some(body) = self.tx.as_mut().and_then(|tx| tx.chunks.as_mut()) {
                body.push(&rest[..take]);
            }
        }
        *remaining -= take as u64;
        if *remaining == 0 {
            self.finish_chunk();
        }
        take
    }

    fn finish_chunk(&mut self) {
        let Mode::Chunk { last, refusal, .. } = std::mem::replace(&mut self.mode, Mode::Command)
        else {
            return;
        };
        if let Some(refusal) = refusal {
            return self.reply(refusal);
        }
        let received = self
            .tx
            .as_ref()
            .and_then(|tx| tx.chunks.as_ref())
            .map_or(0, Body::received);
        if !last {
            self.trace_client(|| format!("<chunk: {received} octets so far>"));
            let text = format!("Ok: {received} octets received");
            return self.reply(Reply::new(
                ReplyCode::OK,
                EnhancedStatus::new(2, 0, 0),
                text,
            ));
        }
        let Some(body) = self.tx.as_mut().and_then(|tx| tx.chunks.take()) else {
            return;
        };
        self.trace_client(|| format!("<message data: {received} octets>"));
        self.deliver(body, true);
    }

    /// Ends the transaction: refuse an oversized message, or hand it to the driver.
    fn deliver(&mut self, body: Body, chunked: bool) {
        let Some(tx) = self.tx.take() else {
            return;
        };
        if body.overflowed() {
            return self.reply(replies::too_big(self.config.message_limit()));
        }
        let envelope = Envelope {
            helo: self.greeting.as_ref().map(|g| g.name.clone()),
            esmtp: self.greeting.as_ref().is_some_and(|g| g.extended),
            tls: self.tls,
            auth_user: self.auth_user.clone(),
            mail_from: tx.from,
            rcpt_to: tx.rcpts,
            body: tx.params.body,
            smtputf8: tx.params.smtputf8,
            chunked,
        };
        self.events.push_back(Event::Message(Message {
            envelope,
            data: body.into_bytes(),
        }));
        self.mode = Mode::AwaitDecision;
    }

    fn on_starttls(&mut self) {
        if self.config.tls == TlsPolicy::Unavailable {
            return self.reply(replies::not_implemented());
        }
        if self.tls {
            return self.reply(replies::bad_sequence("TLS already in use"));
        }
        self.reply(Reply::new(
            ReplyCode::SERVICE_READY,
            EnhancedStatus::new(2, 0, 0),
            "Ready to start TLS",
        ));
        self.events.push_back(Event::StartTls);
        self.mode = Mode::AwaitTls;
    }

    /// AUTH may succeed on this connection now: configured, and over TLS unless plaintext is allowed.
    fn auth_usable(&self) -> bool {
        match self.config.auth {
            AuthPolicy::Disabled => false,
            AuthPolicy::Enabled {
                allow_plaintext, ..
            } => self.tls || allow_plaintext,
        }
    }

    fn on_auth(&mut self, mechanism: &str, initial: Option<&str>) {
        if self.config.auth == AuthPolicy::Disabled {
            return self.reply(replies::not_implemented());
        }
        if self.auth_user.is_some() {
            return self.reply(replies::bad_sequence(
                "already authenticated for this session",
            ));
        }
        if self.tx.is_some() {
            return self.reply(replies::bad_sequence(
                "AUTH not permitted during mail transaction",
            ));
        }
        if !self.auth_usable() {
            return self.reply(replies::must_starttls());
        }
        let Some(mechanism) =
            Mechanism::from_name(mechanism).filter(|m| self.config.mechanisms().contains(m))
        else {
            return self.reply(Reply::new(
                ReplyCode::PARAM_NOT_IMPLEMENTED,
                EnhancedStatus::new(5, 5, 4),
                "Unrecognized authentication type",
            ));
        };
        match (mechanism, initial) {
            (Mechanism::Plain, Some(line)) => self.on_auth_line(AuthStep::Plain, line.as_bytes()),
            (Mechanism::Plain, None) => self.challenge(AuthStep::Plain, b""),
            (Mechanism::Login, Some(line)) => {
                self.on_auth_line(AuthStep::LoginUser, line.as_bytes())
            }
            (Mechanism::Login, None) => self.challenge(AuthStep::LoginUser, b"Username:"),
            (Mechanism::CramMd5, Some(_)) => self.reply(replies::sasl_error(SaslError::Parse)),
            (Mechanism::CramMd5, None) => {
                let challenge =
                    format!("<{}@{}>", self.challenge_token, self.config.hostname).into_bytes();
                self.challenge(
                    AuthStep::CramMd5 {
                        challenge: challenge.clone(),
                    },
                    &challenge,
                );
            }
        }
    }

    fn challenge(&mut self, step: AuthStep, text: &[u8]) {
        self.reply(Reply::bare(ReplyCode::AUTH_CONTINUE, sasl::encode(text)));
        self.mode = Mode::AuthResponse(step);
    }

    fn on_auth_line(&mut self, step: AuthStep, line: &[u8]) {
        let line = String::from_utf8_lossy(line);
        if line.trim() == "*" {
            return self.reply(Reply::new(
                ReplyCode::PARAM_SYNTAX,
                EnhancedStatus::new(5, 7, 0),
                "Authentication cancelled",
            ));
        }
        let decoded = match sasl::decode(&line) {
            Ok(decoded) => decoded,
            Err(err) => return self.reply(replies::sasl_error(err)),
        };
        let request = match step {
            AuthStep::Plain => sasl::plain(&decoded),
            AuthStep::CramMd5 { challenge } => sasl::cram_md5(&decoded, &challenge),
            AuthStep::LoginUser => {
                return match sasl::utf8(&decoded) {
                    Ok(username) if !username.is_empty() => {
                        self.challenge(AuthStep::LoginPassword { username }, b"Password:");
                    }
                    Ok(_) | Err(_) => self.reply(replies::sasl_error(SaslError::Parse)),
                };
            }
            AuthStep::LoginPassword { username } => Ok(sasl::AuthRequest {
                mechanism: Mechanism::Login,
                username,
                proof: sasl::Proof::Password(crate::Secret::new(decoded)),
            }),
        };
        match request {
            Ok(request) => {
                self.events.push_back(Event::Authenticate(request));
                self.mode = Mode::AwaitDecision;
            }
            Err(SaslError::AuthzidMismatch) => self.fail_auth(),
            Err(err) => self.reply(replies::sasl_error(err)),
        }
    }

    fn fail_auth(&mut self) {
        self.auth_failures += 1;
        if self.auth_failures >= self.config.max_auth_failures {
            self.reply(Reply::new(
                ReplyCode::UNAVAILABLE,
                EnhancedStatus::new(4, 7, 0),
                "Too many failed authentication attempts, closing connection",
            ));
            return self.close();
        }
        self.reply(Reply::new(
            ReplyCode::AUTH_INVALID,
            EnhancedStatus::new(5, 7, 8),
            "Authentication credentials invalid",
        ));
    }

    // ---- helpers --------------------------------------------------------------------------

    fn reply(&mut self, reply: Reply) {
        let start = self.output.len();
        reply.write_to(&mut self.output);
        self.trace_written(start);
    }

    /// A one-line reply that names this host and software (`HOSTNAME APP_NAME`, then `tail`),
    /// written from its pieces.
    fn reply_as_host(&mut self, code: ReplyCode, status: Option<EnhancedStatus>, tail: &str) {
        let start = self.output.len();
        let config = &self.config;
        let parts = [
            config.hostname.as_str(),
            " ",
            config.app_name.as_str(),
            tail,
        ];
        reply::write_parts(&mut self.output, code, true, status, &parts);
        self.trace_written(start);
    }

    /// Records the reply lines written since `start` in the transcript, as the client sees
    /// them (without the line ending and trailing spaces).
    fn trace_written(&mut self, start: usize) {
        if self.config.transcript {
            let written = self.output.get(start..).unwrap_or_default();
            for line in written
                .split(|&b| b == b'\n')
                .filter(|line| !line.is_empty())
            {
                self.transcript.push_back(TranscriptLine {
                    from_client: false,
                    text: String::from_utf8_lossy(line).trim_end().to_owned(),
                });
            }
        }
    }

    /// Records a client line in the transcript; `text` is only made when one is kept.
    fn trace_client(&mut self, text: impl FnOnce() -> String) {
        if self.config.transcript {
            self.transcript.push_back(TranscriptLine {
                from_client: true,
                text: text(),
            });
        }
    }

    fn close(&mut self) {
        self.mode = Mode::Closed;
        self.tx = None;
        self.input = Vec::new();
    }
}

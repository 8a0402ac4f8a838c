//! A sans-IO SMTP server session (RFC 5321 with PIPELINING, CHUNKING, 8BITMIME, SMTPUTF8,
//! ENHANCEDSTATUSCODES, STARTTLS and AUTH).
//!
//! A [`Session`] is a value you feed bytes and drain replies and events from. It never touches a
//! socket, a file, a clock, a thread or a logger (a `clippy.toml` in this crate forbids them), so
//! every behaviour is testable by feeding bytes: see `tests/transcripts/`.
//!
//! # The driver loop
//!
//! One loop, in `smtp-bin`'s `driver.rs`, runs a session over a connection:
//!
//! ```text
//! session = Session::new(config, info)        // queues the 220 greeting
//! loop {
//!     write every byte of session.poll_output()          // replies of a pipelined group go out together
//!     while let Some(event) = session.poll_event() {     // things only the driver can do
//!         Message      -> store it, then message_stored(id) / message_failed(..)
//!         StartTls     -> write output, handshake, then tls_established()
//!         Authenticate -> verify, then auth_succeeded(user) / auth_failed()
//!         write every byte of session.poll_output()
//!     }
//!     if session.is_closed() { break }
//!     read with the timeout for session.expects()
//!         n bytes  -> session.handle_input(&buf[..n])
//!         EOF      -> session.handle_eof()
//!         timeout  -> session.handle_timeout()
//! }
//! ```
//!
//! Writing all pending output before every read is what RFC 2920 asks of a pipelining server:
//! replies are grouped while input is buffered and flushed before the server would wait.
//! (`smtp-bin` drains with `poll_output_into`, which swaps the pending bytes into a buffer the
//! driver keeps, so a busy connection does not allocate for every batch of replies.)
//!
//! # States
//!
//! The session is a mode ("what input comes next") plus a transaction:
//!
//! ```text
//!                 EHLO/HELO/RSET (any time: abort transaction)
//!   ┌──────────┐  MAIL   ┌───────────┐  RCPT   ┌────────────┐  DATA  ┌──────────┐
//!   │ no tx    │ ──────▶ │ tx: from  │ ──────▶ │ tx: + rcpts│ ─────▶ │ Data     │── CRLF.CRLF ─┐
//!   └──────────┘         └───────────┘         └────────────┘        └──────────┘              │
//!        ▲                                        │ BDAT n [LAST]                               │
//!        │                                        ▼                                             ▼
//!        │                                  ┌──────────┐ LAST  ┌────────────────┐  message_stored
//!        └──────────────────────────────────│ Chunk(n) │ ────▶ │ AwaitDecision  │ ─────────────┐
//!                                           └──────────┘       └────────────────┘              │
//!        ◀─────────────────────────────────────── 250 queued as ID ◀───────────────────────────┘
//!
//!   STARTTLS ─▶ AwaitTls (plaintext discarded) ─ tls_established ─▶ no tx, no EHLO, tls = true
//!   AUTH ─▶ AuthResponse (334 ...) ─▶ AwaitDecision ─ auth_succeeded/auth_failed ─▶ Command
//!   QUIT, timeout, shutdown, too many AUTH failures ─▶ Closed
//! ```
//!
//! `docs/state-machine.md` draws the same graph with every reply code.

mod address;
mod command;
mod config;
mod data;
mod event;
mod line;
mod reply;
mod sasl;
mod secret;
mod session;

pub use address::{AddressError, Mailbox, ReversePath};
pub use command::{parse as parse_command, BodyType, Command, MailParams, ParseError};
pub use config::{
    AuthPolicy, Config, ConnectionInfo, RecipientFilter, TlsPolicy, HARD_MESSAGE_CEILING,
    MAX_AUTH_LINE, MAX_COMMAND_LINE,
};
pub use event::{Envelope, Event, Expect, Message, StoreFailure, TranscriptLine};
pub use line::{frame, Frame};
pub use reply::{EnhancedStatus, Reply, ReplyCode};
pub use sasl::{AuthRequest, Mechanism, Proof};
pub use secret::Secret;
pub use session::Session;

#[cfg(test)]
mod tests;

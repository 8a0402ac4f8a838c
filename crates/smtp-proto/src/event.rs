//! What a session asks its driver to do, and what the driver can answer.

use crate::address::{Mailbox, ReversePath};
use crate::command::BodyType;
use crate::sasl::AuthRequest;

/// Something only the driver can do. Each event stops the session until the driver answers it
/// with the decision method named on the variant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A complete message to store. Answer with [`crate::Session::message_stored`] or
    /// [`crate::Session::message_failed`]; the client gets its `250` only after the former.
    Message(Message),
    /// `220` has been queued: write it, then run the TLS handshake and answer with
    /// [`crate::Session::tls_established`] (or drop the connection if it fails).
    StartTls,
    /// Verify credentials; answer with [`crate::Session::auth_succeeded`] or
    /// [`crate::Session::auth_failed`].
    Authenticate(AuthRequest),
}

/// A received message: its envelope and the data exactly as sent, after dot-unstuffing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub envelope: Envelope,
    pub data: Vec<u8>,
}

/// The SMTP facts of one transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// The EHLO/HELO name, if the client gave one.
    pub helo: Option<String>,
    /// The client said EHLO (ESMTP) rather than HELO.
    pub esmtp: bool,
    pub tls: bool,
    pub auth_user: Option<String>,
    pub mail_from: ReversePath,
    pub rcpt_to: Vec<Mailbox>,
    pub body: BodyType,
    pub smtputf8: bool,
    /// Delivered with BDAT rather than DATA.
    pub chunked: bool,
}

/// Why the driver could not store a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreFailure {
    /// Disk full or a write error: `452 4.3.1`.
    InsufficientStorage,
    /// The store is gone or refused for another reason: `451 4.3.0`.
    LocalError,
}

/// One line of the SMTP dialogue, for `--smtp-trace`. AUTH payloads and message data are never
/// included, only described.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranscriptLine {
    pub from_client: bool,
    pub text: String,
}

/// What the session waits for, so the driver can pick a timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// A command line (RFC 5321 "MAIL/RCPT/server timeout": 5 minutes).
    Command,
    /// Message data, DATA or BDAT (RFC 5321 "data block": 3 minutes).
    Data,
    /// A SASL response line.
    AuthResponse,
    /// An answer from the driver to an [`Event`]: do not read.
    Decision,
    /// Nothing: the session is closed.
    Nothing,
}

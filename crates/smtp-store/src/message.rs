//! The data the store keeps: the SMTP envelope, the stored message, and query results.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::SystemTime;

use crate::id::MessageId;
use crate::summary::Summary;

/// What the SMTP session learned about a message besides its content.
///
/// Plain data, filled in by the server; the store trusts nothing in it to be well-formed and
/// keeps line breaks out of the headers it writes from it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    /// The client's address (the IP goes into the `Received:` header; no reverse DNS).
    pub remote_addr: SocketAddr,
    /// The name the client gave in HELO or EHLO.
    pub helo: String,
    /// The client greeted with EHLO (ESMTP) rather than HELO.
    pub esmtp: bool,
    /// The message came over TLS (STARTTLS or implicit TLS).
    pub tls: bool,
    /// The user the client authenticated as, if it did.
    pub auth_user: Option<String>,
    /// The MAIL FROM address without angle brackets; `""` for the null reverse-path `<>`.
    pub mail_from: String,
    /// The RCPT TO addresses without angle brackets, in the order given.
    pub rcpt_to: Vec<String>,
    /// MAIL FROM carried the SMTPUTF8 parameter (RFC 6531).
    pub smtputf8: bool,
}

/// One stored message: its ID, arrival time, envelope and the exact bytes kept.
///
/// Shared as `Arc<StoredMessage>`: readers get a cheap handle to an immutable snapshot, and the
/// bytes are freed as soon as the store and every reader have dropped theirs.
#[derive(Clone)]
pub struct StoredMessage {
    id: MessageId,
    received: SystemTime,
    envelope: Envelope,
    raw: Arc<[u8]>,
    summary: Arc<Summary>,
    read: bool,
}

impl StoredMessage {
    /// A new, unread message. `raw` is the message as stored, added headers included.
    #[must_use]
    pub fn new(id: MessageId, received: SystemTime, envelope: Envelope, raw: Arc<[u8]>) -> Self {
        Self {
            id,
            received,
            envelope,
            raw,
            summary: Arc::default(),
            read: false,
        }
    }

    /// The same message with its parsed summary attached.
    #[must_use]
    pub fn with_summary(mut self, summary: Summary) -> Self {
        self.summary = Arc::new(summary);
        self
    }

    /// The parsed view the API shows.
    #[must_use]
    pub fn summary(&self) -> &Summary {
        &self.summary
    }

    /// The message's ID.
    #[must_use]
    pub fn id(&self) -> MessageId {
        self.id
    }

    /// When the store's caller received the end of the message.
    #[must_use]
    pub fn received(&self) -> SystemTime {
        self.received
    }

    /// The SMTP envelope.
    #[must_use]
    pub fn envelope(&self) -> &Envelope {
        &self.envelope
    }

    /// The full message as stored, including the headers the store added.
    #[must_use]
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }

    /// The same bytes as a shared buffer, for a caller that must hold them past this message.
    #[must_use]
    pub fn raw_shared(&self) -> Arc<[u8]> {
        Arc::clone(&self.raw)
    }

    /// Size of [`raw`](Self::raw) in bytes.
    #[must_use]
    pub fn size(&self) -> usize {
        self.raw.len()
    }

    /// Whether the message has been marked read.
    #[must_use]
    pub fn is_read(&self) -> bool {
        self.read
    }

    pub(crate) fn set_read(&mut self, read: bool) {
        self.read = read;
    }
}

/// Never prints the message bytes: bodies stay out of logs.
impl fmt::Debug for StoredMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredMessage")
            .field("id", &self.id)
            .field("received", &self.received)
            .field("envelope", &self.envelope)
            .field("size", &self.size())
            .field("read", &self.read)
            .finish_non_exhaustive()
    }
}

/// How many messages the store holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// All messages.
    pub total: usize,
    /// Messages not marked read.
    pub unread: usize,
}

/// One page of the message list, newest first, with the counts taken at the same moment.
#[derive(Clone, Debug, Default)]
pub struct Page {
    /// The store's counts when the page was taken.
    pub counts: Counts,
    /// The messages on this page, newest first.
    pub messages: Vec<Arc<StoredMessage>>,
}

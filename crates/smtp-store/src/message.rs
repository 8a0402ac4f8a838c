//! The data the store keeps: the SMTP envelope, the stored message, and query results.
//!
//! # Where the bytes are
//!
//! A [`StoredMessage`] is a small handle: the envelope, the parsed [`Summary`], the size and the
//! read flag, plus the message's bytes in one of two places:
//!
//! - **memory** (the default store): the bytes themselves, shared as [`SharedBytes`];
//! - **a Maildir file**: only the file's current path (shared with the store, which updates it
//!   when marking read moves the file). The bytes are read from disk when asked for, on the
//!   asking thread, never on the storage thread, and are cached in that one copy of the message
//!   (every [`StoreHandle::get`](crate::StoreHandle::get) hands out a fresh copy, so the store's
//!   index never holds file contents).
//!
//! [`StoredMessage::raw`] works for both; [`StoredMessage::read_raw`] also reports a failed read.

use std::fmt;
use std::fs;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::SystemTime;

use crate::id::MessageId;
use crate::summary::Summary;

/// A message's bytes, shared by the store, the API's responses and the Maildir writer without a
/// copy. An `Arc<Vec<u8>>` rather than an `Arc<[u8]>`: the composed message's `Vec` moves in as
/// it is, where `Arc::<[u8]>::from` would copy every byte into an allocation of its own (once
/// more per delivery, and per Maildir read).
pub type SharedBytes = Arc<Vec<u8>>;

/// How often a reader retries a file that moved while it was opening it.
const READ_ATTEMPTS: usize = 3;

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

/// One stored message: its ID, arrival time, envelope, summary and bytes (see the module doc for
/// where the bytes live).
///
/// Handed out as `Arc<StoredMessage>`: each is a snapshot, so a later change in the store (the
/// read flag) does not show in a copy already handed out.
pub struct StoredMessage {
    meta: Arc<Meta>,
    read: bool,
    /// The file's bytes once this copy has read them (Maildir only).
    loaded: OnceLock<SharedBytes>,
}

/// The parts of a message that never change after it is stored.
#[derive(Clone)]
struct Meta {
    id: MessageId,
    received: SystemTime,
    envelope: Envelope,
    summary: Summary,
    size: usize,
    content: Content,
}

#[derive(Clone)]
enum Content {
    Memory(SharedBytes),
    File(Arc<FileLocation>),
}

/// Where a Maildir message's file is now. The storage thread updates it when it renames the
/// file; readers take the path and open it (retrying if it moved in between).
#[derive(Debug)]
pub(crate) struct FileLocation {
    path: Mutex<PathBuf>,
}

impl FileLocation {
    pub(crate) fn new(path: PathBuf) -> Arc<Self> {
        Arc::new(Self {
            path: Mutex::new(path),
        })
    }

    pub(crate) fn path(&self) -> PathBuf {
        self.path
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn set_path(&self, path: PathBuf) {
        *self.path.lock().unwrap_or_else(PoisonError::into_inner) = path;
    }

    /// The file's bytes. A file renamed between taking its path and opening it is looked up
    /// again; a file that is gone reads as `NotFound`.
    fn read(&self) -> io::Result<Vec<u8>> {
        let mut path = self.path();
        for _ in 1..READ_ATTEMPTS {
            match fs::read(&path) {
                Err(err) if err.kind() == io::ErrorKind::NotFound => {
                    let now = self.path();
                    if now == path {
                        return Err(err);
                    }
                    path = now;
                }
                other => return other,
            }
        }
        fs::read(&path)
    }
}

impl StoredMessage {
    /// A new, unread message kept in memory. `raw` is the message as stored, added headers
    /// included.
    #[must_use]
    pub fn new(id: MessageId, received: SystemTime, envelope: Envelope, raw: SharedBytes) -> Self {
        let size = raw.len();
        Self::from_meta(
            Meta {
                id,
                received,
                envelope,
                summary: Summary::default(),
                size,
                content: Content::Memory(raw),
            },
            false,
        )
    }

    /// A message whose bytes are in the file at `location`.
    pub(crate) fn on_disk(
        id: MessageId,
        received: SystemTime,
        envelope: Envelope,
        summary: Summary,
        size: usize,
        location: Arc<FileLocation>,
        read: bool,
    ) -> Self {
        let meta = Meta {
            id,
            received,
            envelope,
            summary,
            size,
            content: Content::File(location),
        };
        Self::from_meta(meta, read)
    }

    fn from_meta(meta: Meta, read: bool) -> Self {
        Self {
            meta: Arc::new(meta),
            read,
            loaded: OnceLock::new(),
        }
    }

    /// The same message with its parsed summary attached.
    #[must_use]
    pub fn with_summary(mut self, summary: Summary) -> Self {
        Arc::make_mut(&mut self.meta).summary = summary;
        self
    }

    /// The parsed view the API shows.
    #[must_use]
    pub fn summary(&self) -> &Summary {
        &self.meta.summary
    }

    /// The text body as search reads it, in pieces (see [`BodyText`](crate::BodyText)). Never
    /// reads a Maildir file: the summary of a message on disk holds its body text itself.
    pub fn body_text(&self) -> impl Iterator<Item = &str> {
        let raw = self.memory_bytes().unwrap_or_default();
        self.meta.summary.body.pieces(raw)
    }

    /// [`Self::body_text`] as bytes, not checked again for UTF-8 (they were when stored).
    pub fn body_bytes(&self) -> impl Iterator<Item = &[u8]> {
        let raw = self.memory_bytes().unwrap_or_default();
        self.meta.summary.body.byte_pieces(raw)
    }

    /// The message's ID.
    #[must_use]
    pub fn id(&self) -> MessageId {
        self.meta.id
    }

    /// When the store's caller received the end of the message (for a message read back from a
    /// Maildir: the time in its ID).
    #[must_use]
    pub fn received(&self) -> SystemTime {
        self.meta.received
    }

    /// The SMTP envelope (for a message read back from a Maildir: recovered from its headers,
    /// see [`Store::start`](crate::Store::start)).
    #[must_use]
    pub fn envelope(&self) -> &Envelope {
        &self.meta.envelope
    }

    /// The full message as stored, including the headers the store added.
    ///
    /// For a Maildir message the file is read on the first call and kept in this copy. If it
    /// cannot be read (deleted meanwhile, or an I/O error, which is logged) this is empty: use
    /// [`read_raw`](Self::read_raw) to tell the cases apart.
    #[must_use]
    pub fn raw(&self) -> &[u8] {
        match &self.meta.content {
            Content::Memory(bytes) => bytes,
            Content::File(_) => self.loaded().map_or(&[], |bytes| bytes),
        }
    }

    /// The same bytes as a shared buffer, for a caller that must hold them past this message;
    /// empty if a Maildir file cannot be read (see [`raw`](Self::raw)).
    #[must_use]
    pub fn raw_shared(&self) -> SharedBytes {
        match &self.meta.content {
            Content::Memory(bytes) => Arc::clone(bytes),
            Content::File(_) => self
                .loaded()
                .map_or_else(|| Arc::new(Vec::new()), Arc::clone),
        }
    }

    /// The message's bytes, reading its Maildir file if this copy has not yet.
    ///
    /// # Errors
    /// Reading the file failed; `NotFound` when it was deleted after this copy was taken. A
    /// message kept in memory never fails.
    pub fn read_raw(&self) -> io::Result<SharedBytes> {
        match &self.meta.content {
            Content::Memory(bytes) => Ok(Arc::clone(bytes)),
            Content::File(location) => {
                if let Some(bytes) = self.loaded.get() {
                    return Ok(Arc::clone(bytes));
                }
                let bytes: SharedBytes = Arc::new(location.read()?);
                Ok(Arc::clone(self.loaded.get_or_init(|| bytes)))
            }
        }
    }

    /// Size of [`raw`](Self::raw) in bytes (known without reading a Maildir file).
    #[must_use]
    pub fn size(&self) -> usize {
        self.meta.size
    }

    /// Whether the message has been marked read.
    #[must_use]
    pub fn is_read(&self) -> bool {
        self.read
    }

    pub(crate) fn set_read(&mut self, read: bool) {
        self.read = read;
    }

    /// The Maildir file's location, for a message stored on disk.
    pub(crate) fn location(&self) -> Option<&Arc<FileLocation>> {
        match &self.meta.content {
            Content::File(location) => Some(location),
            Content::Memory(_) => None,
        }
    }

    /// The bytes of a message still held in memory (before the Maildir store wrote them).
    pub(crate) fn memory_bytes(&self) -> Option<&[u8]> {
        match &self.meta.content {
            Content::Memory(bytes) => Some(bytes),
            Content::File(_) => None,
        }
    }

    /// Whether the bytes are in a file rather than in memory.
    pub(crate) fn is_on_disk(&self) -> bool {
        matches!(self.meta.content, Content::File(_))
    }

    /// This message with its bytes moved out of memory into the file at `location`.
    /// The body text search reads is copied out of the bytes first (see
    /// [`BodyText`](crate::summary::BodyText)).
    pub(crate) fn moved_to_disk(mut self, location: Arc<FileLocation>) -> Self {
        let meta = Arc::make_mut(&mut self.meta);
        if let Content::Memory(raw) = &meta.content {
            meta.summary.body.detach(raw);
        }
        meta.content = Content::File(location);
        self
    }

    fn loaded(&self) -> Option<&SharedBytes> {
        if self.loaded.get().is_none() {
            if let Err(err) = self.read_raw() {
                if err.kind() != io::ErrorKind::NotFound {
                    log::warn!("[db] cannot read message {}: {err}", self.meta.id);
                }
            }
        }
        self.loaded.get()
    }
}

/// A copy shares the unchanging parts and the file location, but not bytes already read from
/// the file: each copy reads for itself, so the store's own copies never hold file contents.
impl Clone for StoredMessage {
    fn clone(&self) -> Self {
        Self {
            meta: Arc::clone(&self.meta),
            read: self.read,
            loaded: OnceLock::new(),
        }
    }
}

/// Never prints the message bytes: bodies stay out of logs.
impl fmt::Debug for StoredMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("StoredMessage");
        debug
            .field("id", &self.meta.id)
            .field("received", &self.meta.received)
            .field("envelope", &self.meta.envelope)
            .field("size", &self.meta.size)
            .field("read", &self.read);
        if let Content::File(location) = &self.meta.content {
            debug.field("path", &location.path());
        }
        debug.finish_non_exhaustive()
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
    /// Every tag any kept message carries, sorted (Mailpit's `tags` in a list).
    pub tags: Vec<String>,
}

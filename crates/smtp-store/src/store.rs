//! The owner ([`Store`]) and the cloneable client ([`StoreHandle`]) of the storage thread.

use std::io;
use std::path::PathBuf;
use std::sync::{Arc, PoisonError, RwLock};
use std::thread::{self, JoinHandle};
use std::time::{Duration, SystemTime};

use crossbeam_channel::Sender;

use crate::actor::{self, Delivery, Names, Request};
use crate::backend::Backend;
use crate::error::StoreError;
use crate::id::MessageId;
use crate::memory::Selection;
use crate::message::{Counts, Envelope, Page, SharedBytes, StoredMessage};

/// Mailpit's default for `--max`: the number of messages kept.
pub const DEFAULT_MAX_MESSAGES: usize = 500;
/// The storage thread's name, as shown by debuggers, `top -H` and panic messages.
pub const THREAD_NAME: &str = "mailsink-store";
/// Requests that may wait in the queue; senders block (back-pressure) when it is full. Two
/// Maildir groups' worth; the slots are allocated (and touched) when the store starts.
const QUEUE_CAPACITY: usize = 256;
/// A delivery to memory waits for the storage thread when this many requests are already
/// queued, so messages queued without an answer stay few (and their bytes bounded).
const UNANSWERED_DELIVERIES: usize = 16;
/// A message to memory of up to this size (as received) is composed and summarized by the
/// storage thread, larger ones and every message to a Maildir by the delivering thread (see
/// [`StoreHandle::deliver`]).
pub(crate) const BUILT_BY_STORE_UP_TO: usize = 64 * 1024;

/// How the store is set up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreConfig {
    /// Most messages kept; the oldest are pruned on insert. 0 means no limit.
    pub max_messages: usize,
    /// Messages older than this are pruned (checked at start, then at least every minute);
    /// `None` keeps messages whatever their age.
    pub max_age: Option<Duration>,
    /// Keep messages in this Maildir (created if missing) instead of in memory: durable, read
    /// back at start, and readable by other mail tools. See [`Store::start`].
    pub maildir: Option<PathBuf>,
    /// This host's name, written in `Received:` (`by HOSTNAME`) and in added `Message-ID:`s.
    pub hostname: String,
    /// The software name written in `Received:` (`by HOSTNAME (APP)`).
    pub app_name: String,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            max_messages: DEFAULT_MAX_MESSAGES,
            max_age: None,
            maildir: None,
            hostname: "localhost".to_owned(),
            app_name: "mailsink".to_owned(),
        }
    }
}

/// Owns the storage thread: start it, hand out handles, shut it down.
///
/// Dropping the `Store` shuts it down too (see [`Store::shutdown`]).
#[derive(Debug)]
pub struct Store {
    shared: Arc<Shared>,
    /// `None` only after the thread was joined.
    thread: Option<JoinHandle<()>>,
}

/// A cheap, cloneable client of the store, usable from any thread.
#[derive(Clone, Debug)]
pub struct StoreHandle {
    shared: Arc<Shared>,
}

/// What every handle shares: the one request sender and the names used in added headers.
#[derive(Debug)]
struct Shared {
    /// The only sender into the storage thread's queue; `None` once the store is closed. Sending
    /// happens under the read lock, closing takes the write lock, so no request can slip into the
    /// queue after the close and be left unanswered.
    requests: RwLock<Option<Sender<Request>>>,
    /// Deliveries wait for the storage thread's answer (a Maildir: the file must be on disk).
    durable: bool,
    /// For the headers a sender adds (the storage thread has its own copy).
    names: Names,
}

impl Store {
    /// Opens the store and spawns the storage thread (named [`THREAD_NAME`]).
    ///
    /// The memory store starts empty. A Maildir store ([`StoreConfig::maildir`]) first creates
    /// the directory if needed and loads every message in its `new/` and `cur/`, parsing them
    /// on a few threads, then prunes to the limits. Messages other tools wrote are included.
    /// Each message gets back the ID in its file name (other tools' files get one from their
    /// modification time), its read state from the `S` flag, and an envelope recovered from the
    /// `Return-Path:` and `Received:` headers the store wrote (the client's port and AUTH user
    /// name are not kept in the file).
    ///
    /// # Errors
    /// The Maildir cannot be created or listed, or the OS refused to create a thread.
    pub fn start(config: StoreConfig) -> io::Result<Self> {
        let backend = open_backend(&config)?;
        let (sender, receiver) = crossbeam_channel::bounded(QUEUE_CAPACITY);
        let names = Names {
            hostname: config.hostname,
            app_name: config.app_name,
        };
        let shared = Arc::new(Shared {
            requests: RwLock::new(Some(sender)),
            durable: config.maildir.is_some(),
            names: names.clone(),
        });
        let close_on_exit = CloseOnExit(Arc::clone(&shared));
        let thread = thread::Builder::new()
            .name(THREAD_NAME.to_owned())
            .spawn(move || {
                // Declared before `run` takes the receiver, so it drops after the receiver even
                // when `run` unwinds: see `CloseOnExit`.
                let _close_on_exit = close_on_exit;
                actor::run(&receiver, backend, &names);
            })?;
        Ok(Self {
            shared,
            thread: Some(thread),
        })
    }

    /// A new client of this store.
    #[must_use]
    pub fn handle(&self) -> StoreHandle {
        StoreHandle {
            shared: Arc::clone(&self.shared),
        }
    }

    /// Closes the store and waits for the storage thread to finish.
    ///
    /// Every request already queued is answered first; requests made afterwards, through any
    /// handle, fail with [`StoreError::Closed`]. Handles may outlive the store.
    ///
    /// # Errors
    /// The storage thread panicked; the payload is the panic's.
    pub fn shutdown(mut self) -> thread::Result<()> {
        self.stop()
    }

    fn stop(&mut self) -> thread::Result<()> {
        // Order matters: close the queue first, so the thread's loop can end, then join.
        self.shared.close();
        match self.thread.take() {
            Some(thread) => thread.join(),
            None => Ok(()),
        }
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        if self.stop().is_err() {
            log::error!("the storage thread panicked");
        }
    }
}

impl StoreHandle {
    /// A memory store's handle whose requests go to `requests` instead of a storage thread,
    /// for tests that play the storage thread themselves.
    #[cfg(test)]
    pub(crate) fn detached(requests: Sender<Request>) -> Self {
        Self {
            shared: Arc::new(Shared {
                requests: RwLock::new(Some(requests)),
                durable: false,
                names: Names {
                    hostname: "localhost".to_owned(),
                    app_name: "mailsink".to_owned(),
                },
            }),
        }
    }

    /// Stores a message received over SMTP and returns its new ID.
    ///
    /// `data` is the DATA (or BDAT) content exactly as received, after dot-unstuffing. What is
    /// stored is those bytes behind the trace headers the store adds
    /// ([`compose`](crate::compose)), with their parsed [`Summary`](crate::Summary). A message
    /// to memory of up to 64 KiB is composed and summarized by the storage thread, before it
    /// enters the index, so every read still sees it whole: working message after message,
    /// that thread finds the composer's and the parser's code and data in its caches, where a
    /// session's thread comes to them from a TLS handshake that has pushed them out
    /// (docs/benchmarks.md, thirteenth round). Larger messages, and every message to a Maildir,
    /// are composed and summarized here, on the calling thread: one large parse on the storage
    /// thread would hold up every API request queued behind it, and a parse in a Maildir group
    /// its `fsync`. The SMTP session may answer `250` once this is `Ok`:
    ///
    /// - a Maildir store returns once the storage thread has written the file and synced it and
    ///   its directory;
    /// - the memory store returns once the message is in the storage thread's queue, without
    ///   waiting for the thread to take it (two thread switches fewer per message). Queued is as
    ///   good as stored: the queue is served in order, so any request made after this returns
    ///   (an API read once the client has its `250`) is answered after the message is in, and a
    ///   closing store still serves everything queued. When the storage thread falls behind (16
    ///   requests queued), deliveries wait for it again, so unanswered messages never pile up
    ///   in memory.
    ///
    /// # Errors
    /// The store is closed, or (Maildir) the message could not be written: [`StoreError::Full`]
    /// when the disk or quota is full, [`StoreError::Io`] otherwise. Nothing is left on disk.
    pub fn deliver(&self, envelope: Envelope, data: Vec<u8>) -> Result<MessageId, StoreError> {
        let received = SystemTime::now();
        let id = MessageId::generate_at(received);
        let built_here = self.shared.durable || data.len() > BUILT_BY_STORE_UP_TO;
        let mut message = Delivery::Received {
            id,
            received,
            envelope,
            data,
        };
        if built_here {
            message = Delivery::Ready(message.into_stored(&self.shared.names));
        }
        if self.shared.durable || self.shared.queued() >= UNANSWERED_DELIVERIES {
            self.call(|reply| Request::Deliver {
                message,
                reply: Some(reply),
            })??;
        } else {
            // Queued is as good as stored: see above.
            self.shared.send(Request::Deliver {
                message,
                reply: None,
            })?;
        }
        Ok(id)
    }

    /// How many messages are stored, and how many of them are unread.
    ///
    /// # Errors
    /// The store is closed.
    pub fn count(&self) -> Result<Counts, StoreError> {
        self.call(|reply| Request::Counts { reply })
    }

    /// Up to `limit` messages, newest first, skipping the `start` newest; with the counts taken
    /// at the same moment.
    ///
    /// # Errors
    /// The store is closed.
    pub fn list(&self, start: usize, limit: usize) -> Result<Page, StoreError> {
        self.call(|reply| Request::List {
            start,
            limit,
            reply,
        })
    }

    /// The message with this ID, if it is stored.
    ///
    /// # Errors
    /// The store is closed.
    pub fn get(&self, id: MessageId) -> Result<Option<Arc<StoredMessage>>, StoreError> {
        self.call(|reply| Request::Get { id, reply })
    }

    /// The raw bytes of a message, as stored (added headers included); `None` if there is no
    /// such message (or it was deleted while being read). A Maildir message is read from its file
    /// on the calling thread.
    ///
    /// # Errors
    /// The store is closed, or (Maildir) reading the file failed.
    pub fn raw(&self, id: MessageId) -> Result<Option<SharedBytes>, StoreError> {
        let Some(message) = self.get(id)? else {
            return Ok(None);
        };
        match message.read_raw() {
            Ok(bytes) => Ok(Some(bytes)),
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(StoreError::Io(err)),
        }
    }

    /// The newest message, if any.
    ///
    /// # Errors
    /// The store is closed.
    pub fn latest(&self) -> Result<Option<Arc<StoredMessage>>, StoreError> {
        self.call(|reply| Request::Latest { reply })
    }

    /// Marks these messages read (or unread); returns how many changed. Unknown IDs are skipped.
    ///
    /// # Errors
    /// The store is closed.
    pub fn set_read(&self, ids: &[MessageId], read: bool) -> Result<usize, StoreError> {
        let selection = Selection::Ids(ids.to_vec());
        self.call(|reply| Request::SetRead {
            selection,
            read,
            reply,
        })
    }

    /// Marks every message read (or unread); returns how many changed.
    ///
    /// # Errors
    /// The store is closed.
    pub fn set_all_read(&self, read: bool) -> Result<usize, StoreError> {
        self.call(|reply| Request::SetRead {
            selection: Selection::All,
            read,
            reply,
        })
    }

    /// Deletes these messages; returns how many existed. Unknown IDs are skipped.
    ///
    /// # Errors
    /// The store is closed.
    pub fn delete(&self, ids: &[MessageId]) -> Result<usize, StoreError> {
        let selection = Selection::Ids(ids.to_vec());
        self.call(|reply| Request::Delete { selection, reply })
    }

    /// Deletes every message; returns how many there were.
    ///
    /// # Errors
    /// The store is closed.
    pub fn delete_all(&self) -> Result<usize, StoreError> {
        self.call(|reply| Request::Delete {
            selection: Selection::All,
            reply,
        })
    }

    /// Sends a request carrying a fresh reply channel and waits for the answer.
    fn call<T>(&self, request: impl FnOnce(Sender<T>) -> Request) -> Result<T, StoreError> {
        let (reply, answer) = crossbeam_channel::bounded(1);
        self.shared.send(request(reply))?;
        // The storage thread answers every request it dequeues; if it died instead, the reply
        // sender was dropped with the request and this returns at once.
        answer.recv().map_err(|_| StoreError::Closed)
    }
}

impl Shared {
    /// Requests waiting in the queue now.
    fn queued(&self) -> usize {
        let requests = self.requests.read().unwrap_or_else(PoisonError::into_inner);
        requests.as_ref().map_or(0, Sender::len)
    }

    fn send(&self, request: Request) -> Result<(), StoreError> {
        let requests = self.requests.read().unwrap_or_else(PoisonError::into_inner);
        let sender = requests.as_ref().ok_or(StoreError::Closed)?;
        sender.send(request).map_err(|_| StoreError::Closed)
    }

    /// Drops the only sender: the storage thread drains the queue, then its loop ends.
    fn close(&self) {
        let sender = self
            .requests
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        drop(sender);
    }
}

/// The backend `config` asks for; a Maildir is opened and loaded here, on the caller's thread,
/// so that a bad directory fails the start.
fn open_backend(config: &StoreConfig) -> io::Result<Backend> {
    let Some(dir) = &config.maildir else {
        return Ok(Backend::memory(config.max_messages, config.max_age));
    };
    let backend = Backend::maildir(dir, &config.hostname, config.max_messages, config.max_age)
        .map_err(|err| {
            io::Error::new(
                err.kind(),
                format!("cannot open Maildir {}: {err}", dir.display()),
            )
        })?;
    log::info!(
        "[db] using Maildir {} ({} messages)",
        dir.display(),
        backend.counts().total
    );
    Ok(backend)
}

/// Owned by the storage thread; closes the store however the thread ends.
///
/// On a normal exit the store is already closed. If the thread panicked, its receiver is dropped
/// first (it was moved into the loop), which wakes any sender blocked on a full queue; then this
/// drops the last sender, which frees the queue and every reply sender still in it, so no
/// requester waits forever.
struct CloseOnExit(Arc<Shared>);

impl Drop for CloseOnExit {
    fn drop(&mut self) {
        self.0.close();
    }
}

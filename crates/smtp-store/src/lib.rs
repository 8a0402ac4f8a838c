//! The message store: one thread owns every stored message; everyone else asks it.
//!
//! # Threads and channels
//!
//! ```text
//!  SMTP workers, HTTP workers          storage thread "mailsink-store"
//!  (StoreHandle clones)                (owns the index; no locks)
//!
//!  deliver(): compose bytes here ─┐
//!  count(), list(), get(), ...  ──┼─► bounded(1024) ─► for request in queue {
//!                                 │                        apply to the index
//!         reply ◄── bounded(1) ◄──┘ (one per request) ◄─── answer on the request's reply channel
//!                                                      }
//! ```
//!
//! - [`Store::start`] spawns the named thread and owns it; [`Store::handle`] gives out
//!   [`StoreHandle`]s, cheap to clone and `Send + Sync`.
//! - Each request carries its own `bounded(1)` reply channel, so answers never cross and a caller
//!   blocks only on its own answer. The request queue is bounded: when it is full, callers wait
//!   (back-pressure) instead of memory growing.
//! - [`StoreHandle::deliver`] builds the stored bytes ([`compose`]) on the calling thread, so the
//!   storage thread only inserts; it returns after the storage thread has acknowledged, and only
//!   then may the SMTP session answer `250`.
//! - The store keeps the newest [`StoreConfig::max_messages`] (0: all), pruning the oldest on
//!   insert. Messages are shared as `Arc<StoredMessage>`, so a reader's copy is a snapshot and a
//!   pruned message's memory goes as soon as its last reader drops it.
//!
//! # Shutdown order
//!
//! 1. [`Store::shutdown`] (or dropping the [`Store`]) closes the queue: it takes the only request
//!    sender out of the state the handles share, under a write lock. Handles send under the read
//!    lock, so after this no request can enter the queue; later calls fail with
//!    [`StoreError::Closed`]. Handles may outlive the store: the close does not wait for them.
//! 2. The storage thread answers every request still queued (it was accepted, so it is served),
//!    sees the queue disconnected, and returns.
//! 3. `shutdown` joins the thread. A caller that must not lose acknowledged mail stops its SMTP
//!    workers before this, so that every `250` was preceded by a stored message.
//!
//! If the storage thread ever panicked, its exit guard closes the queue the same way, and every
//! waiting caller gets [`StoreError::Closed`] instead of blocking forever.
//!
//! # A durable store later
//!
//! The Maildir store (`--maildir`) fits behind the same handle: the storage thread writes each
//! delivered message (tmp file, then rename) before answering, and can batch the fsyncs of the
//! deliveries already queued (drain with `try_iter`, write all, fsync once, answer all). Its
//! failures travel back as [`StoreError::Full`] or [`StoreError::Io`].

mod actor;
pub mod compose;
mod error;
mod id;
mod memory;
mod message;
mod store;
pub mod summary;
#[cfg(test)]
mod tests;

pub use error::StoreError;
pub use id::{IdGenerator, InvalidMessageId, MessageId};
pub use message::{Counts, Envelope, Page, StoredMessage};
pub use store::{Store, StoreConfig, StoreHandle, DEFAULT_MAX_MESSAGES, THREAD_NAME};
pub use summary::{Address, Attachment, Checksums, Summary};

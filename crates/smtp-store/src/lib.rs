//! The message store: one thread owns every stored message; everyone else asks it.
//!
//! # Threads and channels
//!
//! ```text
//!  SMTP workers, HTTP workers          storage thread "mailsink-store"
//!  (StoreHandle clones)                (owns the index and the Maildir; no locks)
//!
//!  deliver(): (compose + summarize)┐
//!  count(), list(), get(), ...  ───┼─► bounded(256) ──► loop {
//!                                  │                       take a request (and, for a delivery,
//!                                  │                         every delivery queued behind it)
//!                                  │                       compose + summarize (memory,
//!                                  │                         up to 64 KiB)
//!                                  │                       write + sync files (Maildir)
//!                                  │                       apply to the index
//!         reply ◄── bounded(1) ◄───┘ (one per request, ◄── answer each on its reply channel
//!                                     none for a delivery to memory)
//!                                                       }
//! ```
//!
//! - [`Store::start`] opens the backend (loading a Maildir), spawns the named thread and owns
//!   it; [`Store::handle`] gives out [`StoreHandle`]s, cheap to clone and `Send + Sync`.
//! - Each request carries its own `bounded(1)` reply channel, so answers never cross and a caller
//!   blocks only on its own answer. The request queue is bounded: when it is full, callers wait
//!   (back-pressure) instead of memory growing.
//! - [`StoreHandle::deliver`] hands a message to memory of up to 64 KiB over as received; the
//!   storage thread builds the stored bytes ([`compose`]) and the parsed [`Summary`]
//!   ([`summary`]) before the message enters the index (its caches stay warm for that work).
//!   Larger messages, and every message to a Maildir, are composed and summarized on the
//!   calling thread, so the storage thread never parses for long. With a
//!   Maildir it returns after the storage thread has written and synced the file; in memory,
//!   once the message is queued (the queue is served in order, so a later read sees it).
//!   Only then may the SMTP session answer `250`.
//! - Two backends behind the same handle. The default keeps messages in memory. With
//!   [`StoreConfig::maildir`] every message is a file in a standard Maildir, written with
//!   tmp-then-rename and group-committed `fsync`s before it is acknowledged, its read state the
//!   `S` flag, and the index rebuilt from the files at start (see `maildir/mod.rs`). Only
//!   summaries, paths and flags stay in memory; bytes are read from the file when asked for.
//!   Write failures come back as [`StoreError::Full`] or [`StoreError::Io`], with no file left.
//! - The store keeps the newest [`StoreConfig::max_messages`] (0: all), pruning the oldest on
//!   insert, and with [`StoreConfig::max_age`] sweeps out old messages at start and then
//!   periodically. Readers get `Arc<StoredMessage>` snapshots: a later change in the store does
//!   not show in a copy already handed out.
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

mod actor;
mod backend;
pub mod compose;
mod error;
mod id;
mod maildir;
mod memory;
mod message;
mod store;
pub mod summary;
#[cfg(test)]
mod tests;

pub use error::StoreError;
pub use id::{IdGenerator, InvalidMessageId, MessageId};
pub use message::{Counts, Envelope, Page, SharedBytes, StoredMessage};
pub use store::{Store, StoreConfig, StoreHandle, DEFAULT_MAX_MESSAGES, THREAD_NAME};
pub use summary::{
    bodies, part, summarize, Address, Attachment, Bodies, BodyText, Checksums, Part, Summary,
};

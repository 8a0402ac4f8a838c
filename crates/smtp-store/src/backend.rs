//! What the storage thread owns: the index, and the Maildir when the store is durable.
//!
//! A delivery, a flag change or a deletion goes to the files first and to the index only once
//! the files agree, so the index never shows a message that is not on disk, and a restart shows
//! what the index showed (read state included). Pruning is the exception: it drops messages from
//! the index first and then unlinks their files; a file that cannot be unlinked is logged and
//! comes back at the next start.

use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::error::StoreError;
use crate::id::MessageId;
use crate::maildir::{Maildir, Touched};
use crate::memory::{Memory, Selection};
use crate::message::{Counts, FileLocation, Page, StoredMessage};

/// The shortest interval between two `--max-age` sweeps.
const MIN_SWEEP: Duration = Duration::from_millis(100);
/// The longest interval between two `--max-age` sweeps.
const MAX_SWEEP: Duration = Duration::from_secs(60);

/// The index, the optional Maildir behind it, and the age limit.
#[derive(Debug)]
pub(crate) struct Backend {
    index: Memory,
    maildir: Option<Maildir>,
    max_age: Option<Duration>,
}

impl Backend {
    /// An empty in-memory store.
    pub(crate) fn memory(max_messages: usize, max_age: Option<Duration>) -> Self {
        Self {
            index: Memory::new(max_messages),
            maildir: None,
            max_age,
        }
    }

    /// A durable store on the Maildir at `root` (created if missing), with every message already
    /// there loaded, then pruned to the limits.
    pub(crate) fn maildir(
        root: &Path,
        host: &str,
        max_messages: usize,
        max_age: Option<Duration>,
    ) -> io::Result<Self> {
        let maildir = Maildir::open(root, host)?;
        let mut index = Memory::new(max_messages);
        for message in maildir.load()? {
            index.insert(message);
        }
        let mut backend = Self {
            index,
            maildir: Some(maildir),
            max_age,
        };
        let pruned = backend.index.prune_excess();
        backend.discard(pruned);
        backend.prune_expired();
        Ok(backend)
    }

    /// How often the storage thread sweeps out messages older than the age limit, if set.
    pub(crate) fn sweep_interval(&self) -> Option<Duration> {
        self.max_age.map(|age| age.clamp(MIN_SWEEP, MAX_SWEEP))
    }

    /// Stores a group of messages that arrived together; one result per message, in order.
    pub(crate) fn deliver(&mut self, messages: Vec<StoredMessage>) -> Vec<Result<(), StoreError>> {
        let (kept, results) = match &self.maildir {
            None => {
                let results = messages.iter().map(|_| Ok(())).collect();
                (messages, results)
            }
            Some(maildir) => write(maildir, messages),
        };
        for message in kept {
            log::debug!("[db] stored {} ({} bytes)", message.id(), message.size());
            self.index.insert(message);
        }
        let pruned = self.index.prune_excess();
        self.discard(pruned);
        results
    }

    pub(crate) fn counts(&self) -> Counts {
        self.index.counts()
    }

    pub(crate) fn page(&self, start: usize, limit: usize) -> Page {
        self.index.page(start, limit)
    }

    pub(crate) fn get(&self, id: MessageId) -> Option<Arc<StoredMessage>> {
        self.index.get(id)
    }

    pub(crate) fn latest(&self) -> Option<Arc<StoredMessage>> {
        self.index.latest()
    }

    /// Marks messages read or unread; with a Maildir, a message whose file cannot be renamed
    /// keeps its state (and is logged).
    pub(crate) fn set_read(&mut self, selection: &Selection, read: bool) -> usize {
        let Some(maildir) = &self.maildir else {
            return self.index.set_read(selection, read);
        };
        let mut touched = Touched::default();
        let changed = self.index.set_read_with(selection, read, |message| {
            on_file(message, &mut touched, |location| {
                maildir.set_seen(location, read)
            })
        });
        maildir.sync(touched);
        changed
    }

    /// Deletes messages; with a Maildir, a message whose file cannot be removed stays.
    pub(crate) fn delete(&mut self, selection: &Selection) -> usize {
        let Some(maildir) = &self.maildir else {
            return self.index.delete(selection);
        };
        let mut touched = Touched::default();
        let removed = self.index.delete_with(selection, |message| {
            on_file(message, &mut touched, |location| maildir.remove(location))
        });
        maildir.sync(touched);
        removed
    }

    /// Removes the messages older than the age limit.
    pub(crate) fn prune_expired(&mut self) {
        let Some(max_age) = self.max_age else {
            return;
        };
        let Some(cutoff) = SystemTime::now().checked_sub(max_age) else {
            return;
        };
        let pruned = self.index.prune_before(cutoff);
        if !pruned.is_empty() {
            log::debug!(
                "[db] pruned {} messages older than {max_age:?}",
                pruned.len()
            );
        }
        self.discard(pruned);
    }

    /// Removes the files of messages already taken out of the index by pruning. A file that
    /// cannot be removed is logged; it comes back at the next start.
    fn discard(&self, pruned: Vec<Arc<StoredMessage>>) {
        let Some(maildir) = &self.maildir else {
            return;
        };
        let mut touched = Touched::default();
        for message in &pruned {
            on_file(message, &mut touched, |location| maildir.remove(location));
        }
        maildir.sync(touched);
    }
}

/// Applies a file operation to a Maildir message; true if it succeeded (failures are logged).
fn on_file(
    message: &StoredMessage,
    touched: &mut Touched,
    operation: impl FnOnce(&FileLocation) -> io::Result<Touched>,
) -> bool {
    let Some(location) = message.location() else {
        return true;
    };
    match operation(location) {
        Ok(changed) => {
            touched.new |= changed.new;
            touched.cur |= changed.cur;
            true
        }
        Err(err) => {
            log::warn!("[db] {}: {err}", location.path().display());
            false
        }
    }
}

/// Writes a group to the Maildir. Returns the messages now on disk (their bytes dropped from
/// memory) and one result per message given.
fn write(
    maildir: &Maildir,
    messages: Vec<StoredMessage>,
) -> (Vec<StoredMessage>, Vec<Result<(), StoreError>>) {
    let batch: Vec<(MessageId, &[u8])> = messages
        .iter()
        .map(|m| (m.id(), m.memory_bytes().unwrap_or_default()))
        .collect();
    let written = maildir.write_batch(&batch);
    drop(batch);
    let mut kept = Vec::with_capacity(messages.len());
    let mut results = Vec::with_capacity(messages.len());
    for (message, outcome) in messages.into_iter().zip(written) {
        match outcome {
            Ok(path) => {
                kept.push(message.moved_to_disk(FileLocation::new(path)));
                results.push(Ok(()));
            }
            Err(err) => {
                log::warn!("[db] cannot store {}: {err}", message.id());
                results.push(Err(StoreError::from(err)));
            }
        }
    }
    (kept, results)
}

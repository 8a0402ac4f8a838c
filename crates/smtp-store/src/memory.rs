//! The in-memory index: every kept message, ordered by ID, oldest pruned first.
//!
//! Plain data with no threads or channels, owned by the storage thread. Both stores use it: the
//! memory store keeps the bytes in the entries, the Maildir store keeps file locations and does
//! its file operations through the `_with` methods, which change an entry only when the file
//! operation succeeded.
//!
//! Entries are `Arc<StoredMessage>`, changed copy-on-write (`Arc::make_mut`): a page of 100,000
//! messages hands out 100,000 reference counts, not copies, and a reader's copy never changes
//! under it. A message on disk is still handed out as a fresh copy, so that file contents a
//! reader caches in it never stay in the index.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::SystemTime;

use crate::id::MessageId;
use crate::message::{Counts, Page, StoredMessage};

/// Which messages a bulk request applies to.
#[derive(Debug)]
pub(crate) enum Selection {
    All,
    Ids(Vec<MessageId>),
}

/// Messages keyed by ID (IDs sort by arrival), with the unread count kept alongside.
///
/// Readers get a fresh `Arc` copy of an entry (cheap: the entry is a handle), so a copy handed
/// out is a snapshot and the index's own entries are never shared.
#[derive(Debug)]
pub(crate) struct Memory {
    messages: BTreeMap<MessageId, Arc<StoredMessage>>,
    unread: usize,
    /// Every tag in use, with how many kept messages carry it, so a page can list them
    /// without a scan.
    tags: BTreeMap<String, usize>,
    /// Most messages kept; 0 means no limit.
    max_messages: usize,
}

impl Memory {
    pub(crate) fn new(max_messages: usize) -> Self {
        Self {
            messages: BTreeMap::new(),
            unread: 0,
            tags: BTreeMap::new(),
            max_messages,
        }
    }

    /// Stores `message` (replacing one with the same ID) without pruning.
    pub(crate) fn insert(&mut self, message: StoredMessage) {
        self.count_in(&message);
        if let Some(old) = self.messages.insert(message.id(), Arc::new(message)) {
            self.count_out(&old);
        }
    }

    /// Removes the oldest messages beyond the limit and returns them, oldest first.
    pub(crate) fn prune_excess(&mut self) -> Vec<Arc<StoredMessage>> {
        let mut pruned = Vec::new();
        while self.max_messages != 0 && self.messages.len() > self.max_messages {
            let Some((_, oldest)) = self.messages.pop_first() else {
                break;
            };
            self.count_out(&oldest);
            pruned.push(oldest);
        }
        pruned
    }

    /// Removes the messages received before `cutoff` and returns them, oldest first.
    pub(crate) fn prune_before(&mut self, cutoff: SystemTime) -> Vec<Arc<StoredMessage>> {
        let mut pruned = Vec::new();
        while let Some(entry) = self.messages.first_entry() {
            if entry.get().received() >= cutoff {
                break;
            }
            let oldest = entry.remove();
            self.count_out(&oldest);
            pruned.push(oldest);
        }
        pruned
    }

    pub(crate) fn counts(&self) -> Counts {
        Counts {
            total: self.messages.len(),
            unread: self.unread,
        }
    }

    /// Up to `limit` messages, newest first, after skipping the `start` newest.
    pub(crate) fn page(&self, start: usize, limit: usize) -> Page {
        let messages = self
            .messages
            .values()
            .rev()
            .skip(start)
            .take(limit)
            .map(share)
            .collect();
        Page {
            counts: self.counts(),
            messages,
            tags: self.tags.keys().cloned().collect(),
        }
    }

    pub(crate) fn get(&self, id: MessageId) -> Option<Arc<StoredMessage>> {
        self.messages.get(&id).map(share)
    }

    pub(crate) fn latest(&self) -> Option<Arc<StoredMessage>> {
        self.messages.last_key_value().map(|(_, m)| share(m))
    }

    /// Marks the selected messages read or unread; returns how many changed state.
    pub(crate) fn set_read(&mut self, selection: &Selection, read: bool) -> usize {
        self.set_read_with(selection, read, |_| true)
    }

    /// Like [`set_read`](Self::set_read), but each change happens only if `apply` (called with
    /// the message before the change) returns true.
    pub(crate) fn set_read_with(
        &mut self,
        selection: &Selection,
        read: bool,
        mut apply: impl FnMut(&StoredMessage) -> bool,
    ) -> usize {
        let mut changed = 0;
        for id in self.selected(selection) {
            let Some(entry) = self.messages.get_mut(&id) else {
                continue;
            };
            if entry.is_read() == read || !apply(entry) {
                continue;
            }
            Arc::make_mut(entry).set_read(read);
            if read {
                self.unread = self.unread.saturating_sub(1);
            } else {
                self.unread += 1;
            }
            changed += 1;
        }
        changed
    }

    /// Removes the selected messages; returns how many existed.
    pub(crate) fn delete(&mut self, selection: &Selection) -> usize {
        self.delete_with(selection, |_| true)
    }

    /// Like [`delete`](Self::delete), but a message is removed only if `remove` (called with it
    /// first) returns true.
    pub(crate) fn delete_with(
        &mut self,
        selection: &Selection,
        mut remove: impl FnMut(&StoredMessage) -> bool,
    ) -> usize {
        let mut removed = 0;
        for id in self.selected(selection) {
            let Some(message) = self.messages.get(&id) else {
                continue;
            };
            if !remove(message) {
                continue;
            }
            if let Some(old) = self.messages.remove(&id) {
                self.count_out(&old);
                removed += 1;
            }
        }
        removed
    }

    fn selected(&self, selection: &Selection) -> Vec<MessageId> {
        match selection {
            Selection::All => self.messages.keys().copied().collect(),
            Selection::Ids(ids) => ids.clone(),
        }
    }

    fn count_in(&mut self, message: &StoredMessage) {
        if !message.is_read() {
            self.unread += 1;
        }
        for tag in &message.summary().tags {
            *self.tags.entry(tag.clone()).or_default() += 1;
        }
    }

    fn count_out(&mut self, message: &StoredMessage) {
        if !message.is_read() {
            self.unread = self.unread.saturating_sub(1);
        }
        for tag in &message.summary().tags {
            if let Some(count) = self.tags.get_mut(tag) {
                *count -= 1;
                if *count == 0 {
                    self.tags.remove(tag);
                }
            }
        }
    }
}

/// A reader's copy of an entry: the entry itself for a message in memory, a fresh copy for one
/// on disk (see the module documentation).
fn share(message: &Arc<StoredMessage>) -> Arc<StoredMessage> {
    if message.is_on_disk() {
        Arc::new(StoredMessage::clone(message))
    } else {
        Arc::clone(message)
    }
}

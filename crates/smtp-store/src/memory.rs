//! The in-memory index: every kept message, ordered by ID, newest pruned last.
//!
//! Plain data with no threads or channels, owned by the storage thread. A durable backend keeps
//! this same index and adds its writes around it.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::id::MessageId;
use crate::message::{Counts, Page, StoredMessage};

/// Which messages a bulk request applies to.
#[derive(Debug)]
pub(crate) enum Selection {
    All,
    Ids(Vec<MessageId>),
}

/// Messages keyed by ID (IDs sort by arrival), with the unread count kept alongside.
#[derive(Debug)]
pub(crate) struct Memory {
    messages: BTreeMap<MessageId, Arc<StoredMessage>>,
    unread: usize,
    /// Most messages kept; 0 means no limit.
    max_messages: usize,
}

impl Memory {
    pub(crate) fn new(max_messages: usize) -> Self {
        Self {
            messages: BTreeMap::new(),
            unread: 0,
            max_messages,
        }
    }

    /// Stores `message`, then drops the oldest messages beyond the limit; returns how many.
    pub(crate) fn insert(&mut self, message: StoredMessage) -> usize {
        let message = Arc::new(message);
        self.count_in(&message);
        if let Some(old) = self.messages.insert(message.id(), message) {
            self.count_out(&old);
        }
        self.prune()
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
            .cloned()
            .collect();
        Page {
            counts: self.counts(),
            messages,
        }
    }

    pub(crate) fn get(&self, id: MessageId) -> Option<Arc<StoredMessage>> {
        self.messages.get(&id).cloned()
    }

    pub(crate) fn latest(&self) -> Option<Arc<StoredMessage>> {
        self.messages.last_key_value().map(|(_, m)| Arc::clone(m))
    }

    /// Marks the selected messages read or unread; returns how many changed state.
    pub(crate) fn set_read(&mut self, selection: &Selection, read: bool) -> usize {
        let ids: Vec<MessageId> = match selection {
            Selection::All => self.messages.keys().copied().collect(),
            Selection::Ids(ids) => ids.clone(),
        };
        ids.into_iter()
            .filter(|&id| self.set_one_read(id, read))
            .count()
    }

    /// Removes the selected messages; returns how many existed.
    pub(crate) fn delete(&mut self, selection: &Selection) -> usize {
        match selection {
            Selection::All => {
                let removed = self.messages.len();
                self.messages.clear();
                self.unread = 0;
                removed
            }
            Selection::Ids(ids) => ids.iter().filter(|&&id| self.remove(id)).count(),
        }
    }

    fn set_one_read(&mut self, id: MessageId, read: bool) -> bool {
        let Some(entry) = self.messages.get_mut(&id) else {
            return false;
        };
        if entry.is_read() == read {
            return false;
        }
        // Readers holding the old Arc keep their snapshot; the index gets a fresh one.
        Arc::make_mut(entry).set_read(read);
        if read {
            self.unread = self.unread.saturating_sub(1);
        } else {
            self.unread += 1;
        }
        true
    }

    fn remove(&mut self, id: MessageId) -> bool {
        match self.messages.remove(&id) {
            Some(old) => {
                self.count_out(&old);
                true
            }
            None => false,
        }
    }

    fn prune(&mut self) -> usize {
        let mut pruned = 0;
        while self.max_messages != 0 && self.messages.len() > self.max_messages {
            let Some((_, oldest)) = self.messages.pop_first() else {
                break;
            };
            self.count_out(&oldest);
            pruned += 1;
        }
        pruned
    }

    fn count_in(&mut self, message: &StoredMessage) {
        if !message.is_read() {
            self.unread += 1;
        }
    }

    fn count_out(&mut self, message: &StoredMessage) {
        if !message.is_read() {
            self.unread = self.unread.saturating_sub(1);
        }
    }
}

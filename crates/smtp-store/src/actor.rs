//! The storage thread's side: the requests it takes and the loop that answers them.
//!
//! One thread owns the index and serves requests one at a time, in arrival order, so the index
//! needs no lock. Every request carries its own reply sender; the loop answers each and moves on.

use std::sync::Arc;

use crossbeam_channel::{Receiver, Sender};

use crate::error::StoreError;
use crate::id::MessageId;
use crate::memory::{Memory, Selection};
use crate::message::{Counts, Page, StoredMessage};

/// A request to the storage thread, with the sender its answer goes back on.
#[derive(Debug)]
pub(crate) enum Request {
    Deliver {
        message: StoredMessage,
        reply: Sender<Result<(), StoreError>>,
    },
    Counts {
        reply: Sender<Counts>,
    },
    List {
        start: usize,
        limit: usize,
        reply: Sender<Page>,
    },
    Get {
        id: MessageId,
        reply: Sender<Option<Arc<StoredMessage>>>,
    },
    Latest {
        reply: Sender<Option<Arc<StoredMessage>>>,
    },
    SetRead {
        selection: Selection,
        read: bool,
        reply: Sender<usize>,
    },
    Delete {
        selection: Selection,
        reply: Sender<usize>,
    },
}

/// The storage thread's body. Returns once every sender is gone and the queue is drained, so
/// every request accepted into the queue is answered.
pub(crate) fn run(requests: Receiver<Request>, max_messages: usize) {
    let mut memory = Memory::new(max_messages);
    log::debug!("storage thread started (max {max_messages} messages, 0 = no limit)");
    for request in requests {
        serve(&mut memory, request);
    }
    let counts = memory.counts();
    log::debug!("storage thread stopped with {} messages", counts.total);
}

/// Applies one request and answers it. A requester that has gone away no longer wants its
/// answer, so a failed reply is not an error.
fn serve(memory: &mut Memory, request: Request) {
    match request {
        Request::Deliver { message, reply } => {
            let _ = reply.send(deliver(memory, message));
        }
        Request::Counts { reply } => {
            let _ = reply.send(memory.counts());
        }
        Request::List {
            start,
            limit,
            reply,
        } => {
            let _ = reply.send(memory.page(start, limit));
        }
        Request::Get { id, reply } => {
            let _ = reply.send(memory.get(id));
        }
        Request::Latest { reply } => {
            let _ = reply.send(memory.latest());
        }
        Request::SetRead {
            selection,
            read,
            reply,
        } => {
            let _ = reply.send(memory.set_read(&selection, read));
        }
        Request::Delete { selection, reply } => {
            let _ = reply.send(memory.delete(&selection));
        }
    }
}

/// Keeps a delivered message. The memory store cannot fail; a durable store writes (and, with
/// group commit, syncs) here before the answer goes back, and its errors travel in the reply.
fn deliver(memory: &mut Memory, message: StoredMessage) -> Result<(), StoreError> {
    let id = message.id();
    let size = message.size();
    let pruned = memory.insert(message);
    log::debug!("stored {id} ({size} bytes), pruned {pruned}");
    Ok(())
}

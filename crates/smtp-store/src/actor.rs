//! The storage thread's side: the requests it takes and the loop that answers them.
//!
//! One thread owns the [`Backend`] and serves requests one at a time, in arrival order, so the
//! index needs no lock. Every request carries its own reply sender; the loop answers each and
//! moves on.
//!
//! **Group commit.** A delivery takes every delivery queued right behind it (up to
//! [`MAX_GROUP`]) and stores them together: a durable store then writes them all and syncs its
//! directory once, and every one is acknowledged only once all of them are on disk. The first
//! request of another kind ends the group; it is served right after, so requests still take
//! effect in arrival order.
//!
//! **Age limit.** With a maximum age, the loop waits for requests only until the next sweep is
//! due (`recv_deadline`), sweeps, and carries on; a busy queue does not postpone a sweep.

use std::fmt;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

use crate::backend::Backend;
use crate::compose::{self, Stamp};
use crate::error::StoreError;
use crate::id::MessageId;
use crate::memory::Selection;
use crate::message::{Counts, Envelope, Page, StoredMessage};
use crate::summary;

/// The most deliveries stored (and synced) as one group.
const MAX_GROUP: usize = 128;

/// A request to the storage thread, with the sender its answer goes back on.
#[derive(Debug)]
pub(crate) enum Request {
    /// A message to store; `reply` is `None` when the caller does not wait (the memory store,
    /// see [`StoreHandle::deliver`](crate::StoreHandle::deliver)).
    Deliver {
        message: Delivery,
        reply: Option<Sender<Result<(), StoreError>>>,
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

/// A message on its way into the store.
pub(crate) enum Delivery {
    /// Composed and summarized by the sender.
    Ready(StoredMessage),
    /// As received: the storage thread composes and summarizes it (see
    /// [`StoreHandle::deliver`](crate::StoreHandle::deliver)).
    Received {
        id: MessageId,
        received: SystemTime,
        envelope: Envelope,
        data: Vec<u8>,
    },
}

impl Delivery {
    /// The message as stored: composed and summarized now if it was not yet (by whichever
    /// thread calls this). Composing that panics leaves the message as received
    /// ([`compose::compose_or_as_received`]); the summary is guarded the same way.
    pub(crate) fn into_stored(self, names: &Names) -> StoredMessage {
        let (id, received, envelope, data) = match self {
            Self::Ready(message) => return message,
            Self::Received {
                id,
                received,
                envelope,
                data,
            } => (id, received, envelope, data),
        };
        let stamp = Stamp {
            id,
            received,
            hostname: &names.hostname,
            app_name: &names.app_name,
        };
        let composed = compose::compose_or_as_received(&envelope, &data, &stamp);
        drop(data);
        let message = StoredMessage::new(id, received, envelope, Arc::new(composed));
        let summary = summary::summarize(message.raw());
        message.with_summary(summary)
    }
}

impl fmt::Debug for Delivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ready(message) => f.debug_tuple("Ready").field(message).finish(),
            // The message data stays out, as `StoredMessage`'s `Debug` keeps it out.
            Self::Received { id, data, .. } => f
                .debug_struct("Received")
                .field("id", id)
                .field("size", &data.len())
                .finish_non_exhaustive(),
        }
    }
}

/// The names the storage thread writes into the headers it adds.
#[derive(Debug, Clone)]
pub(crate) struct Names {
    /// This host's name (`by HOSTNAME`, `Message-ID: <ID@HOSTNAME>`).
    pub(crate) hostname: String,
    /// The software's name (`by HOSTNAME (APP)`).
    pub(crate) app_name: String,
}

/// The storage thread's body. Returns once every sender is gone and the queue is drained, so
/// every request accepted into the queue is answered.
pub(crate) fn run(requests: &Receiver<Request>, mut backend: Backend, names: &Names) {
    log::debug!("storage thread started");
    let sweep_every = backend.sweep_interval();
    let mut next_sweep = sweep_every.map(|every| Instant::now() + every);
    loop {
        if let (Some(every), Some(due)) = (sweep_every, next_sweep) {
            if Instant::now() >= due {
                backend.prune_expired();
                next_sweep = Some(Instant::now() + every);
            }
        }
        let received = match next_sweep {
            Some(due) => requests.recv_deadline(due),
            None => requests.recv().map_err(|_| RecvTimeoutError::Disconnected),
        };
        let mut next = match received {
            Ok(request) => Some(request),
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => break,
        };
        while let Some(request) = next {
            next = serve(&mut backend, request, requests, names);
        }
    }
    log::debug!(
        "storage thread stopped with {} messages",
        backend.counts().total
    );
}

/// Applies one request and answers it; returns a request it took from the queue but did not
/// serve (the one that ended a delivery group). A requester that has gone away no longer wants
/// its answer, so a failed reply is not an error.
fn serve(
    backend: &mut Backend,
    request: Request,
    queue: &Receiver<Request>,
    names: &Names,
) -> Option<Request> {
    match request {
        Request::Deliver { message, reply } => {
            return deliver_group(backend, message, reply, queue, names)
        }
        Request::Counts { reply } => {
            let _ = reply.send(backend.counts());
        }
        Request::List {
            start,
            limit,
            reply,
        } => {
            let _ = reply.send(backend.page(start, limit));
        }
        Request::Get { id, reply } => {
            let _ = reply.send(backend.get(id));
        }
        Request::Latest { reply } => {
            let _ = reply.send(backend.latest());
        }
        Request::SetRead {
            selection,
            read,
            reply,
        } => {
            let _ = reply.send(backend.set_read(&selection, read));
        }
        Request::Delete { selection, reply } => {
            let _ = reply.send(backend.delete(&selection));
        }
    }
    None
}

/// Stores `first` with the deliveries queued behind it, then acknowledges each.
fn deliver_group(
    backend: &mut Backend,
    first: Delivery,
    reply: Option<Sender<Result<(), StoreError>>>,
    queue: &Receiver<Request>,
    names: &Names,
) -> Option<Request> {
    let mut messages = vec![first];
    let mut replies = vec![reply];
    let mut held = None;
    while messages.len() < MAX_GROUP {
        match queue.try_recv() {
            Ok(Request::Deliver { message, reply }) => {
                messages.push(message);
                replies.push(reply);
            }
            Ok(other) => {
                held = Some(other);
                break;
            }
            Err(_) => break,
        }
    }
    if messages.len() > 1 {
        log::trace!("[db] storing a group of {} messages", messages.len());
    }
    let messages = messages
        .into_iter()
        .map(|delivery| delivery.into_stored(names))
        .collect();
    for (reply, result) in replies.into_iter().zip(backend.deliver(messages)) {
        match reply {
            Some(reply) => {
                let _ = reply.send(result);
            }
            None => {
                if let Err(err) = result {
                    log::error!("[db] a message could not be stored: {err}");
                }
            }
        }
    }
    held
}

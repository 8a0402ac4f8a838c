//! The registry of open connections, used to end them at shutdown.
//!
//! Each worker registers its socket (a second `Arc` on it, not a second file descriptor) for the
//! life of the session. At shutdown the server first stops accepting, waits for sessions to finish
//! on their own, and when the grace time runs out shuts down the read side of every registered
//! socket: the blocked `read` returns, the driver sees [`Connections::stopping`] and answers
//! `421 4.3.2` before closing.

use std::collections::HashMap;
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

#[derive(Debug, Default)]
pub(crate) struct Connections {
    open: Mutex<HashMap<u64, Arc<TcpStream>>>,
    next_id: AtomicU64,
    stopping: AtomicBool,
}

/// Removes its connection from the registry when dropped.
#[derive(Debug)]
pub(crate) struct Registration<'a> {
    registry: &'a Connections,
    id: u64,
}

impl Drop for Registration<'_> {
    fn drop(&mut self) {
        // The socket may close with this handle (sending its FIN): not under the lock.
        let handle = self.registry.lock().remove(&self.id);
        drop(handle);
    }
}

impl Connections {
    /// Keeps `stream` until the registration drops: the socket closes when both it and the
    /// session's handle are gone.
    pub(crate) fn register(&self, stream: &Arc<TcpStream>) -> Registration<'_> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.lock().insert(id, Arc::clone(stream));
        Registration { registry: self, id }
    }

    pub(crate) fn open(&self) -> usize {
        self.lock().len()
    }

    pub(crate) fn stopping(&self) -> bool {
        self.stopping.load(Ordering::Acquire)
    }

    pub(crate) fn begin_shutdown(&self) {
        self.stopping.store(true, Ordering::Release);
    }

    /// Wakes every session blocked in `read` so it can say goodbye and close.
    pub(crate) fn interrupt_all(&self) {
        for stream in self.lock().values() {
            let _ = stream.shutdown(Shutdown::Read);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<TcpStream>>> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

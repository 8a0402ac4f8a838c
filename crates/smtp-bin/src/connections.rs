//! The registry of open connections, used to end them at shutdown.
//!
//! Each worker registers a clone of its socket for the life of the session. At shutdown the
//! server first stops accepting, waits for sessions to finish on their own, and when the grace
//! time runs out shuts down the read side of every registered socket: the blocked `read` returns,
//! the driver sees [`Connections::stopping`] and answers `421 4.3.2` before closing.

use std::collections::HashMap;
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

#[derive(Debug, Default)]
pub(crate) struct Connections {
    open: Mutex<HashMap<u64, TcpStream>>,
    next_id: AtomicU64,
    stopping: AtomicBool,
}

/// Removes its connection from the registry when dropped.
#[derive(Debug)]
pub(crate) struct Registration<'a> {
    registry: &'a Connections,
    id: Option<u64>,
}

impl Drop for Registration<'_> {
    fn drop(&mut self) {
        if let Some(id) = self.id {
            self.registry.lock().remove(&id);
        }
    }
}

impl Connections {
    pub(crate) fn register(&self, stream: &TcpStream) -> Registration<'_> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let registered = match stream.try_clone() {
            Ok(clone) => {
                self.lock().insert(id, clone);
                Some(id)
            }
            Err(err) => {
                log::warn!("cannot track a connection for shutdown: {err}");
                None
            }
        };
        Registration {
            registry: self,
            id: registered,
        }
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

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, TcpStream>> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

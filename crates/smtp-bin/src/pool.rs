//! The fixed pool of connection workers, fed by a bounded channel.
//!
//! Workers are spawned on demand up to `max` and then live until shutdown, so an idle server
//! holds few threads while a busy one is capped. The acceptor calls [`Pool::submit`]; when every
//! worker is busy and the queue is full it gets the connection back and refuses it with `421`.

use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};

use crossbeam_channel::{Receiver, Sender, TrySendError};

/// How long the acceptor waits for freshly spawned workers before refusing a connection.
const STARTUP_GRACE: std::time::Duration = std::time::Duration::from_millis(250);

/// Stack size for workers: sessions keep their buffers on the heap.
const WORKER_STACK: usize = 512 * 1024;

/// One accepted connection waiting for a worker.
#[derive(Debug)]
pub(crate) struct Job {
    pub stream: TcpStream,
    pub peer: SocketAddr,
    /// Accepted on an implicit-TLS listener: handshake before the greeting.
    pub implicit_tls: bool,
    /// The socket already has the options the driver wants (inherited from its listener).
    pub options_set: bool,
}

type Handler = dyn Fn(Job) + Send + Sync;

#[derive(Debug, Default)]
struct Counters {
    spawned: AtomicUsize,
    /// Workers spawned plus sessions lent to acceptors: at most `max`.
    places: AtomicUsize,
    /// Spawned but not yet waiting for their first job.
    starting: AtomicUsize,
    idle: AtomicUsize,
    busy: AtomicUsize,
}

/// A fixed-size pool of named worker threads.
pub(crate) struct Pool {
    // Field order: the sender drops before the workers are joined (see `shutdown`).
    sender: Option<Sender<Job>>,
    receiver: Receiver<Job>,
    counters: Arc<Counters>,
    workers: Mutex<Vec<JoinHandle<()>>>,
    handler: Arc<Handler>,
    max: usize,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("max", &self.max)
            .field("counters", &self.counters)
            .finish_non_exhaustive()
    }
}

impl Pool {
    pub(crate) fn new(max: usize, queue: usize, handler: Arc<Handler>) -> Self {
        let (sender, receiver) = crossbeam_channel::bounded(queue);
        Self {
            sender: Some(sender),
            receiver,
            counters: Arc::default(),
            workers: Mutex::new(Vec::new()),
            handler,
            max: max.max(1),
        }
    }

    /// Queues a connection, spawning a worker if none is idle and the cap allows. Gives the job
    /// back when the pool is saturated (or shutting down).
    pub(crate) fn submit(&self, job: Job) -> Result<(), Job> {
        let Some(sender) = &self.sender else {
            return Err(job);
        };
        // Every queued job needs an idle worker of its own, or a new one while the cap allows.
        if self.counters.idle.load(Ordering::Acquire) <= sender.len() {
            self.spawn_worker();
        }
        match sender.try_send(job) {
            Ok(()) => Ok(()),
            Err(TrySendError::Disconnected(job)) => Err(job),
            // Workers spawned a moment ago may not be waiting yet: during a burst, give them a
            // short while before calling the pool saturated.
            Err(TrySendError::Full(job)) if self.capacity_coming() => sender
                .send_timeout(job, STARTUP_GRACE)
                .map_err(|err| err.into_inner()),
            Err(TrySendError::Full(job)) => Err(job),
        }
    }

    /// A worker is about to take a job: one is idle, starting up, or may still be spawned.
    fn capacity_coming(&self) -> bool {
        self.counters.places.load(Ordering::Acquire) < self.max
            || self.counters.idle.load(Ordering::Acquire) > 0
            || self.counters.starting.load(Ordering::Acquire) > 0
    }

    /// Serves `job` on the calling thread (an acceptor's, see `acceptor.rs`) when no session
    /// runs and the cap leaves a place: the place is lent for the session, as if to one more
    /// worker. Gives the job back otherwise.
    pub(crate) fn try_serve_here(&self, job: Job) -> Result<(), Job> {
        if self.busy() > 0 || !self.claim_place() {
            return Err(job);
        }
        run_session(&self.counters, &*self.handler, job);
        self.counters.places.fetch_sub(1, Ordering::AcqRel);
        // Connections queued meanwhile may have found no worker and no place to start one in.
        if let Some(sender) = &self.sender {
            if self.counters.idle.load(Ordering::Acquire) < sender.len() {
                self.spawn_worker();
            }
        }
        Ok(())
    }

    /// Counts one more place taken (a worker, or a session lent to an acceptor), within `max`.
    fn claim_place(&self) -> bool {
        self.counters
            .places
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max).then_some(n + 1)
            })
            .is_ok()
    }

    /// Connections being served right now.
    pub(crate) fn busy(&self) -> usize {
        self.counters.busy.load(Ordering::Acquire)
    }

    /// Worker threads alive.
    pub(crate) fn threads(&self) -> usize {
        self.counters.spawned.load(Ordering::Acquire)
    }

    fn spawn_worker(&self) {
        if !self.claim_place() {
            return;
        }
        let index = self.counters.spawned.fetch_add(1, Ordering::AcqRel);
        self.counters.starting.fetch_add(1, Ordering::AcqRel);
        let receiver = self.receiver.clone();
        let counters = Arc::clone(&self.counters);
        let handler = Arc::clone(&self.handler);
        let spawned = thread::Builder::new()
            .name(format!("mailsink-smtp-{index}"))
            .stack_size(WORKER_STACK)
            .spawn(move || worker(&receiver, &counters, &*handler));
        match spawned {
            Ok(handle) => self
                .workers
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(handle),
            Err(err) => {
                self.counters.places.fetch_sub(1, Ordering::AcqRel);
                self.counters.spawned.fetch_sub(1, Ordering::AcqRel);
                self.counters.starting.fetch_sub(1, Ordering::AcqRel);
                log::error!("cannot spawn an SMTP worker thread: {err}");
            }
        }
    }

    /// Stops taking jobs, lets queued and running sessions finish, and joins every worker.
    pub(crate) fn shutdown(&mut self) {
        self.sender = None;
        let workers =
            std::mem::take(&mut *self.workers.lock().unwrap_or_else(PoisonError::into_inner));
        for handle in workers {
            if handle.join().is_err() {
                log::error!("an SMTP worker panicked");
            }
        }
    }
}

fn worker(receiver: &Receiver<Job>, counters: &Counters, handler: &Handler) {
    counters.starting.fetch_sub(1, Ordering::AcqRel);
    loop {
        counters.idle.fetch_add(1, Ordering::AcqRel);
        let job = receiver.recv();
        counters.idle.fetch_sub(1, Ordering::AcqRel);
        let Ok(job) = job else { return };
        run_session(counters, handler, job);
    }
}

/// Runs one session, counted busy; a panic in it must not take the thread (and its future
/// sessions) down.
fn run_session(counters: &Counters, handler: &Handler, job: Job) {
    counters.busy.fetch_add(1, Ordering::AcqRel);
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handler(job)));
    counters.busy.fetch_sub(1, Ordering::AcqRel);
    if outcome.is_err() {
        log::error!("an SMTP session panicked; the connection was dropped");
    }
}

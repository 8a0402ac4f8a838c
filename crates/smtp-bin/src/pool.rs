//! The fixed pool of connection threads, and how connections reach them.
//!
//! There is no acceptor thread handing connections over: every free pool thread waits in
//! `accept()` itself, and the kernel wakes one of them per connection, which then serves it. The
//! greeting goes out from the thread the kernel woke, with no hand-off first; at c=1 a hand-off
//! cost half the time per connection (side measurement, docs/benchmarks.md). A thread that takes
//! the last free place at a listener first makes sure another will accept there (spawning one
//! while the cap allows). When none can (every thread serving, the cap reached) it stays at the
//! listener and queues the connection for the next thread to finish its session; when the queue
//! is full too, the connection is refused with `421` (DESIGN section 2).
//!
//! Threads are spawned on demand, up to `max` serving plus one per listener, and then live until
//! shutdown, so an idle server holds one thread per listener.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{fence, AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TrySendError};

use crate::driver::is_timeout;

/// Stack size for workers: sessions keep their buffers on the heap.
const WORKER_STACK: usize = 512 * 1024;

/// How long shutdown keeps waking threads blocked in a listener's `accept()`.
const ACCEPT_EXIT: Duration = Duration::from_secs(2);

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

/// A listening socket, what its connections start with, and who waits at it.
#[derive(Debug)]
pub(crate) struct Listening {
    listener: TcpListener,
    implicit_tls: bool,
    options_set: bool,
    stopping: AtomicBool,
    /// Threads in (or on their way into) `accept()` here.
    accepting: AtomicUsize,
}

impl Listening {
    /// `options_set`: accepted sockets inherit the driver's options from `listener`.
    pub(crate) fn new(listener: TcpListener, implicit_tls: bool, options_set: bool) -> Self {
        Self {
            listener,
            implicit_tls,
            options_set,
            stopping: AtomicBool::new(false),
            accepting: AtomicUsize::new(0),
        }
    }

    pub(crate) fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Accepts no more connections: sets the flag and wakes every thread blocked in `accept()`
    /// here with a connection of our own to `wake`, for a bounded time.
    pub(crate) fn stop(&self, wake: SocketAddr) {
        self.stopping.store(true, Ordering::SeqCst);
        let until = Instant::now() + ACCEPT_EXIT;
        loop {
            let waiting = self.accepting.load(Ordering::SeqCst);
            if waiting == 0 {
                return;
            }
            if Instant::now() > until {
                log::error!("[smtpd] {waiting} threads still wait at a stopped listener");
                return;
            }
            // Each connection wakes one waiting thread, which sees the flag and leaves.
            for _ in 0..waiting {
                let _ = TcpStream::connect_timeout(&wake, Duration::from_secs(1));
            }
            let settle = Instant::now() + Duration::from_millis(100);
            while self.accepting.load(Ordering::SeqCst) > 0 && Instant::now() < settle {
                thread::sleep(Duration::from_millis(1));
            }
        }
    }

    fn stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    fn job(&self, stream: TcpStream, peer: SocketAddr) -> Job {
        Job {
            stream,
            peer,
            implicit_tls: self.implicit_tls,
            options_set: self.options_set,
        }
    }
}

type Handler = dyn Fn(Job) + Send + Sync;

#[derive(Debug, Default)]
struct Counters {
    spawned: AtomicUsize,
    busy: AtomicUsize,
}

/// A fixed-size pool of named threads that accept and serve.
pub(crate) struct Pool {
    shared: Arc<Shared>,
}

/// What every pool thread reaches.
struct Shared {
    listeners: Mutex<Vec<Arc<Listening>>>,
    /// Connections accepted while every thread was busy. `None` once shut down.
    sender: Mutex<Option<Sender<Job>>>,
    receiver: Receiver<Job>,
    counters: Counters,
    /// Runs one session.
    handler: Arc<Handler>,
    /// Says `421` and closes: the pool is saturated.
    refuse: Arc<Handler>,
    /// Connections served at once.
    max: usize,
    /// Threads at most: `max` serving and one waiting at each listener.
    cap: AtomicUsize,
    workers: Mutex<Vec<JoinHandle<()>>>,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("max", &self.shared.max)
            .field("counters", &self.shared.counters)
            .finish_non_exhaustive()
    }
}

impl Pool {
    pub(crate) fn new(
        max: usize,
        queue: usize,
        handler: Arc<Handler>,
        refuse: Arc<Handler>,
    ) -> Self {
        let (sender, receiver) = crossbeam_channel::bounded(queue.max(1));
        let max = max.max(1);
        Self {
            shared: Arc::new(Shared {
                listeners: Mutex::default(),
                sender: Mutex::new(Some(sender)),
                receiver,
                counters: Counters::default(),
                handler,
                refuse,
                max,
                cap: AtomicUsize::new(max),
                workers: Mutex::default(),
            }),
        }
    }

    /// Starts accepting on `listening`: one more thread allowed, and one started for it.
    pub(crate) fn listen(&self, listening: Arc<Listening>) -> std::io::Result<()> {
        self.shared.cap.fetch_add(1, Ordering::AcqRel);
        lock(&self.shared.listeners).push(listening);
        if Shared::spawn_worker(&self.shared) {
            Ok(())
        } else {
            Err(std::io::Error::other("cannot spawn an SMTP thread"))
        }
    }

    /// Connections being served right now.
    pub(crate) fn busy(&self) -> usize {
        self.shared.counters.busy.load(Ordering::Acquire)
    }

    /// Pool threads alive.
    pub(crate) fn threads(&self) -> usize {
        self.shared.counters.spawned.load(Ordering::Acquire)
    }

    /// Lets queued and running sessions finish and joins every thread. Stop the listeners
    /// first ([`Listening::stop`]).
    pub(crate) fn shutdown(&self) {
        self.shared.close();
        loop {
            let handle = lock(&self.shared.workers).pop();
            let Some(handle) = handle else { return };
            if handle.join().is_err() {
                log::error!("an SMTP worker panicked");
            }
        }
    }
}

impl Drop for Pool {
    /// Without a `shutdown`, threads still end once the listeners stop: the queue closes.
    fn drop(&mut self) {
        self.shared.close();
    }
}

impl Shared {
    fn close(&self) {
        lock(&self.sender).take();
        lock(&self.listeners).clear();
    }

    /// Spawns a thread if the cap allows; false if it does not or the spawn failed.
    fn spawn_worker(shared: &Arc<Shared>) -> bool {
        let cap = shared.cap.load(Ordering::Acquire);
        let claimed =
            shared
                .counters
                .spawned
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                    (n < cap).then_some(n + 1)
                });
        let Ok(index) = claimed else { return false };
        let for_thread = Arc::clone(shared);
        let spawned = thread::Builder::new()
            .name(format!("mailsink-smtp-{index}"))
            .stack_size(WORKER_STACK)
            .spawn(move || for_thread.work());
        match spawned {
            Ok(handle) => {
                lock(&shared.workers).push(handle);
                true
            }
            Err(err) => {
                shared.counters.spawned.fetch_sub(1, Ordering::AcqRel);
                log::error!("cannot spawn an SMTP worker thread: {err}");
                false
            }
        }
    }

    /// A pool thread: serves what is queued, otherwise waits at a listener, until shutdown.
    fn work(self: Arc<Self>) {
        loop {
            if let Ok(job) = self.receiver.try_recv() {
                self.counters.busy.fetch_add(1, Ordering::AcqRel);
                self.serve(job);
                continue;
            }
            let job = match self.least_attended() {
                Some(listening) => self.accept_on(&listening),
                // Every listener stopped: finish what is queued, then end.
                None => match self.receiver.recv() {
                    Ok(job) => {
                        self.counters.busy.fetch_add(1, Ordering::AcqRel);
                        Some(job)
                    }
                    Err(_) => return,
                },
            };
            if let Some(job) = job {
                self.serve(job);
            }
        }
    }

    /// The running listener with the fewest threads waiting at it (each needs one).
    fn least_attended(&self) -> Option<Arc<Listening>> {
        lock(&self.listeners)
            .iter()
            .filter(|listening| !listening.stopping())
            .min_by_key(|listening| listening.accepting.load(Ordering::Acquire))
            .cloned()
    }

    /// Waits at `listening` for a connection this thread may serve (counted busy), or a queued
    /// one it may take instead; `None` once the listener stops.
    fn accept_on(self: &Arc<Self>, listening: &Listening) -> Option<Job> {
        loop {
            listening.accepting.fetch_add(1, Ordering::SeqCst);
            // Pairs with the fence in `enqueue`: a connection queued by a thread that saw no
            // one else waiting here is seen now, or that thread sees this one and takes it.
            fence(Ordering::SeqCst);
            if let Some(job) = self.take_queued() {
                listening.accepting.fetch_sub(1, Ordering::SeqCst);
                return Some(job);
            }
            let accepted = if listening.stopping() {
                None
            } else {
                Some(listening.listener.accept())
            };
            let others = listening.accepting.fetch_sub(1, Ordering::SeqCst) - 1;
            // Stopped: whatever was accepted (our own wake-up call) is dropped.
            let accepted = accepted.filter(|_| !listening.stopping())?;
            let job = match accepted {
                Ok((stream, peer)) => listening.job(stream, peer),
                // The listener's receive timeout (set for the sockets it accepts) ran out.
                Err(err) if is_timeout(&err) => continue,
                Err(err) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    log::warn!("[smtpd] accept failed: {err}");
                    thread::sleep(Duration::from_millis(50));
                    continue;
                }
            };
            // Leave only with a place to serve in, and someone else waiting here.
            if self.reserve() {
                if others > 0 || Self::spawn_worker(self) {
                    if let Some(job) = self.oldest_first(job) {
                        return Some(job);
                    }
                    self.counters.busy.fetch_sub(1, Ordering::AcqRel);
                    continue;
                }
                self.counters.busy.fetch_sub(1, Ordering::AcqRel);
            }
            self.enqueue(job, listening);
        }
    }

    /// Counts one more connection served, if that stays within `max`.
    fn reserve(&self) -> bool {
        self.counters
            .busy
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max).then_some(n + 1)
            })
            .is_ok()
    }

    /// A queued connection, counted busy, when there is a place to serve it in.
    fn take_queued(&self) -> Option<Job> {
        if self.receiver.is_empty() || !self.reserve() {
            return None;
        }
        let job = self.receiver.try_recv().ok();
        if job.is_none() {
            self.counters.busy.fetch_sub(1, Ordering::AcqRel);
        }
        job
    }

    /// Serves connections in the order they came: with some queued, `job` joins the queue and
    /// the oldest is taken instead. `None` when other threads took them all meanwhile.
    fn oldest_first(&self, job: Job) -> Option<Job> {
        if self.receiver.is_empty() {
            return Some(job);
        }
        let sent = match lock(&self.sender).as_ref() {
            Some(sender) => sender.try_send(job),
            None => return Some(job),
        };
        match sent {
            Ok(()) => self.receiver.try_recv().ok(),
            Err(TrySendError::Full(job) | TrySendError::Disconnected(job)) => Some(job),
        }
    }

    /// Queues a connection for the next thread to finish, or refuses it when the queue is full.
    fn enqueue(&self, job: Job, listening: &Listening) {
        let refused = match lock(&self.sender).as_ref() {
            Some(sender) => sender.try_send(job).err().map(TrySendError::into_inner),
            None => Some(job),
        };
        if let Some(job) = refused {
            (self.refuse)(job);
            return;
        }
        fence(Ordering::SeqCst);
        // A thread that finished its session may have gone to wait at this listener before
        // the connection was queued: it will not look at the queue again until a connection
        // comes. It is waiting here, so this thread may leave to serve the queued one.
        if listening.accepting.load(Ordering::SeqCst) > 0 {
            if let Some(job) = self.take_queued() {
                self.serve(job);
            }
        }
    }

    /// Runs one session; a panic in it must not take the thread (and its future sessions) down.
    fn serve(&self, job: Job) {
        let outcome =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (self.handler)(job)));
        self.counters.busy.fetch_sub(1, Ordering::AcqRel);
        if outcome.is_err() {
            log::error!("an SMTP session panicked; the connection was dropped");
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

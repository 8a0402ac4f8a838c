//! The socket side: a blocking HTTP/1.1 server whose worker threads start on demand.
//!
//! ```text
//!  acceptor "mailsink-http-accept" ── bounded(queue) ──▶ worker "mailsink-http-0..N"
//!      │ no worker free: spawn one (up to `workers`)        one connection at a time, start
//!      │ queue full: "503 Service Unavailable", close       to finish (conn.rs), calling the
//!      ▼                                                   handler for each request
//!  TcpListener::accept
//! ```
//!
//! - Workers start on demand: none exist at start, so an idle server holds only the acceptor
//!   (each thread costs stack pages and a malloc arena). The acceptor spawns one when it queues
//!   a connection and no worker is free, up to `workers`; once spawned, a worker lives until
//!   shutdown. A spawn failure is logged; the connection is still queued if some worker
//!   exists, and answered `503` if none does.
//! - A worker counts as free from its spawn until it takes a connection. With the queue full,
//!   the acceptor waits briefly (`STARTUP_GRACE`) while some worker is free, so a burst is not
//!   refused just because fresh workers are not waiting yet; otherwise it answers `503`.
//! - A kept-alive connection holds its worker, so when queued connections outnumber the free
//!   workers, the worker closes it: after the current response, or while it idles between
//!   requests.
//! - Shutdown: stop the acceptor (a flag, then a connection of our own wakes its `accept`),
//!   close the queue, shut the read side of every open connection (a request being answered
//!   still gets its response), join every spawned worker. Dropping the server does the same.
//!
//! The server knows nothing about routes: it calls a [`Handler`] (in mailsink, the
//! [`crate::Router`]).

mod conn;
pub(crate) mod framing;

use std::collections::HashMap;
use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender, TrySendError};

use crate::request::Request;
use crate::response::Response;

pub(crate) use conn::write_response;

/// How long the acceptor waits for a free (idle or starting) worker before refusing a connection.
const STARTUP_GRACE: Duration = Duration::from_millis(250);

/// Answers one request; called from the worker threads.
pub type Handler = dyn Fn(&Request) -> Response + Send + Sync;

/// How the server runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpConfig {
    /// Most worker threads (connections served at once); they are spawned on demand.
    pub workers: usize,
    /// Accepted connections that may wait for a worker before new ones get `503`.
    pub queue: usize,
    /// Largest request line plus header fields (`431` beyond).
    pub max_head_bytes: usize,
    /// Most header fields in one request (`431` beyond).
    pub max_headers: usize,
    /// Largest request body (`413` beyond).
    pub max_body_bytes: usize,
    /// A whole request must arrive within this of its first byte (`408` otherwise).
    pub read_timeout: Duration,
    /// A kept-alive connection may wait this long for its next request.
    pub idle_timeout: Duration,
    /// Each write must progress within this.
    pub write_timeout: Duration,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            workers: 8,
            queue: 64,
            max_head_bytes: 64 * 1024,
            max_headers: 100,
            max_body_bytes: 64 * 1024 * 1024,
            read_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(30),
            write_timeout: Duration::from_secs(30),
        }
    }
}

/// A running HTTP server.
pub struct HttpServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for HttpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpServer")
            .field("addr", &self.addr)
            .field("workers", &self.workers())
            .field("max_workers", &self.shared.max_workers)
            .finish_non_exhaustive()
    }
}

/// What the acceptor, the workers and the owner share.
struct Shared {
    stopping: AtomicBool,
    /// The queue's sender; taken (closing the queue) at shutdown.
    sender: Mutex<Option<Sender<Accepted>>>,
    /// A second handle on each open connection's socket (not a second file descriptor), so
    /// shutdown can wake a worker blocked in `read`.
    open: Mutex<HashMap<u64, Arc<TcpStream>>>,
    next_id: AtomicU64,
    /// The cap on worker threads (`HttpConfig::workers`, at least 1).
    max_workers: usize,
    /// Worker threads spawned so far; only the acceptor raises it.
    spawned: AtomicUsize,
    /// Spawned workers not serving a connection: waiting for one, or still starting (counted
    /// from their spawn, so a burst does not spawn or refuse as if they were not coming).
    free: AtomicUsize,
    /// Every worker spawned so far, joined at shutdown.
    workers: Mutex<Vec<JoinHandle<()>>>,
}

struct Accepted {
    stream: TcpStream,
    peer: SocketAddr,
}

impl HttpServer {
    /// Starts serving `listener` with `handler`. Only the acceptor thread starts now; worker
    /// threads, up to `config.workers`, start as connections arrive.
    ///
    /// # Errors
    /// The OS refused to create the acceptor thread, or to report the listener's address.
    pub fn start(
        listener: TcpListener,
        handler: Arc<Handler>,
        config: HttpConfig,
    ) -> io::Result<Self> {
        let addr = listener.local_addr()?;
        let (sender, receiver) = crossbeam_channel::bounded(config.queue.max(1));
        let shared = Arc::new(Shared {
            stopping: AtomicBool::new(false),
            sender: Mutex::new(Some(sender)),
            open: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(0),
            max_workers: config.workers.max(1),
            spawned: AtomicUsize::new(0),
            free: AtomicUsize::new(0),
            workers: Mutex::new(Vec::new()),
        });
        let acceptor = Acceptor {
            listener,
            shared: Arc::clone(&shared),
            template: Worker {
                receiver,
                shared: Arc::clone(&shared),
                handler,
                config: Arc::new(config),
            },
        };
        let acceptor = thread::Builder::new()
            .name("mailsink-http-accept".to_owned())
            .spawn(move || acceptor.run())?;
        Ok(Self {
            addr,
            shared,
            acceptor: Some(acceptor),
        })
    }

    /// The bound address (useful with port 0).
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Worker threads spawned so far: 0 until the first connection, never more than
    /// `HttpConfig::workers`.
    #[must_use]
    pub fn workers(&self) -> usize {
        self.shared.spawned.load(Ordering::Acquire)
    }

    /// Stops accepting, ends every open connection once its current response is written, and
    /// joins every thread.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        self.shared.stopping.store(true, Ordering::Release);
        if let Some(acceptor) = self.acceptor.take() {
            // Wake the blocking accept() with a connection of our own.
            let _ = TcpStream::connect_timeout(&loopback(self.addr), Duration::from_secs(1));
            if acceptor.join().is_err() {
                log::error!("[http] the acceptor thread panicked");
            }
        }
        // The acceptor is gone, so no worker is spawned from here on.
        drop(lock(&self.shared.sender).take());
        for stream in lock(&self.shared.open).values() {
            let _ = stream.shutdown(Shutdown::Read);
        }
        let workers = std::mem::take(&mut *lock(&self.shared.workers));
        for worker in workers {
            if worker.join().is_err() {
                log::error!("[http] a worker thread panicked");
            }
        }
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The acceptor thread: accepts, spawns workers as needed, queues.
struct Acceptor {
    listener: TcpListener,
    shared: Arc<Shared>,
    /// Cloned into each worker it spawns.
    template: Worker,
}

impl Acceptor {
    fn run(self) {
        loop {
            let accepted = self.listener.accept();
            if self.shared.stopping.load(Ordering::Acquire) {
                return;
            }
            match accepted {
                Ok((stream, peer)) => {
                    let sender = lock(&self.shared.sender).clone();
                    let Some(sender) = sender else { return };
                    self.submit(&sender, Accepted { stream, peer });
                }
                Err(err) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    log::warn!("[http] accept failed: {err}");
                    thread::sleep(Duration::from_millis(50));
                }
            }
        }
    }

    /// Queues a connection, spawning a worker first if none is free for it.
    fn submit(&self, sender: &Sender<Accepted>, job: Accepted) {
        let shared = &self.shared;
        // Every queued connection needs a free worker of its own, or a new one within the cap.
        if shared.free.load(Ordering::Acquire) <= sender.len() {
            self.spawn_worker();
        }
        if shared.spawned.load(Ordering::Acquire) == 0 {
            // No worker could be spawned: nobody would ever take the connection.
            return busy(job);
        }
        match sender.try_send(job) {
            Ok(()) => {}
            // Workers spawned a moment ago may not be waiting yet: give them a short while.
            Err(TrySendError::Full(job)) if shared.free.load(Ordering::Acquire) > 0 => {
                if let Err(err) = sender.send_timeout(job, STARTUP_GRACE) {
                    busy(err.into_inner());
                }
            }
            Err(TrySendError::Full(job) | TrySendError::Disconnected(job)) => busy(job),
        }
    }

    /// Spawns one more worker unless the cap is reached.
    fn spawn_worker(&self) {
        let shared = &self.shared;
        let index = shared.spawned.load(Ordering::Acquire);
        if index >= shared.max_workers {
            return;
        }
        shared.spawned.fetch_add(1, Ordering::AcqRel);
        shared.free.fetch_add(1, Ordering::AcqRel);
        let worker = self.template.clone();
        let spawned = thread::Builder::new()
            .name(format!("mailsink-http-{index}"))
            .spawn(move || worker.run());
        match spawned {
            Ok(handle) => lock(&shared.workers).push(handle),
            Err(err) => {
                shared.spawned.fetch_sub(1, Ordering::AcqRel);
                shared.free.fetch_sub(1, Ordering::AcqRel);
                log::error!("[http] cannot spawn a worker thread: {err}");
            }
        }
    }
}

/// Every worker is busy and the queue is full (or no worker could be spawned): say so and
/// close.
fn busy(job: Accepted) {
    log::warn!("[http] {}: too many connections, answered 503", job.peer);
    let mut stream = job.stream;
    let _ = stream.set_write_timeout(Some(Duration::from_secs(1)));
    let response = Response::text(503, "too many connections, try again later\n")
        .with_header("Retry-After", "1");
    let _ = write_response(&mut stream, &response, None);
    let _ = stream.flush();
    let _ = stream.shutdown(Shutdown::Write);
}

#[derive(Clone)]
struct Worker {
    receiver: Receiver<Accepted>,
    shared: Arc<Shared>,
    handler: Arc<Handler>,
    config: Arc<HttpConfig>,
}

impl Worker {
    fn run(self) {
        let free = &self.shared.free;
        // Others wait and no free worker is there for them: give way.
        let crowded = || self.receiver.len() > free.load(Ordering::Acquire);
        let stopping = || self.shared.stopping.load(Ordering::Acquire);
        let cx = conn::Context {
            config: &self.config,
            handler: &*self.handler,
            crowded: &crowded,
            stopping: &stopping,
        };
        while let Ok(job) = self.receiver.recv() {
            free.fetch_sub(1, Ordering::AcqRel);
            self.serve(job, &cx);
            free.fetch_add(1, Ordering::AcqRel);
        }
    }

    fn serve(&self, job: Accepted, cx: &conn::Context<'_>) {
        // The socket closes when this handle and the registry's have both gone.
        let stream = Arc::new(job.stream);
        let id = self.register(&stream);
        // A panic in one connection must not take the worker down with it.
        let served = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            conn::serve(&stream, job.peer, cx);
        }));
        // Dropped after the lock is released: the socket may close with it.
        let registered = lock(&self.shared.open).remove(&id);
        drop(registered);
        if served.is_err() {
            log::error!("[http] a connection handler panicked; the connection was dropped");
        }
    }

    /// Keeps a handle on the socket so shutdown can wake a worker blocked in `read`.
    fn register(&self, stream: &Arc<TcpStream>) -> u64 {
        let id = self.shared.next_id.fetch_add(1, Ordering::Relaxed);
        lock(&self.shared.open).insert(id, Arc::clone(stream));
        if self.shared.stopping.load(Ordering::Acquire) {
            let _ = stream.shutdown(Shutdown::Read);
        }
        id
    }
}

fn loopback(addr: SocketAddr) -> SocketAddr {
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, addr.port())
}

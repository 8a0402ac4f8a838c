//! The socket side: a blocking HTTP/1.1 server on a fixed pool of worker threads.
//!
//! ```text
//!  acceptor "mailsink-http-accept" ── bounded(queue) ──▶ worker "mailsink-http-0..N"
//!      │ queue full: "503 Service Unavailable", close       one connection at a time, start
//!      ▼                                                   to finish (conn.rs), calling the
//!  TcpListener::accept                                     handler for each request
//! ```
//!
//! - The pool is fixed: `workers` threads are spawned at start and live until shutdown.
//! - A kept-alive connection holds its worker, so when other connections wait in the queue the
//!   worker closes it: after the current response, or while it idles between requests.
//! - Shutdown: stop the acceptor (a flag, then a connection of our own wakes its `accept`),
//!   close the queue, shut the read side of every open connection (a request being answered
//!   still gets its response), join the workers. Dropping the server does the same.
//!
//! The server knows nothing about routes: it calls a [`Handler`] (in mailsink, the
//! [`crate::Router`]).

mod conn;
pub(crate) mod framing;

use std::collections::HashMap;
use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender, TrySendError};

use crate::request::Request;
use crate::response::Response;

pub(crate) use conn::write_response;

/// Answers one request; called from the worker threads.
pub type Handler = dyn Fn(&Request) -> Response + Send + Sync;

/// How the server runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpConfig {
    /// Worker threads: connections served at once.
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
    workers: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for HttpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpServer")
            .field("addr", &self.addr)
            .field("workers", &self.workers.len())
            .finish_non_exhaustive()
    }
}

/// What the acceptor, the workers and the owner share.
struct Shared {
    stopping: AtomicBool,
    /// The queue's sender; taken (closing the queue) at shutdown.
    sender: Mutex<Option<Sender<Accepted>>>,
    open: Mutex<HashMap<u64, TcpStream>>,
    next_id: AtomicU64,
}

struct Accepted {
    stream: TcpStream,
    peer: SocketAddr,
}

impl HttpServer {
    /// Starts serving `listener` with `handler` on `config.workers` threads.
    ///
    /// # Errors
    /// The OS refused to create a thread, or to report the listener's address.
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
        });
        let mut server = Self {
            addr,
            shared: Arc::clone(&shared),
            acceptor: None,
            workers: Vec::new(),
        };
        let config = Arc::new(config);
        for index in 0..config.workers.max(1) {
            let worker = Worker {
                receiver: receiver.clone(),
                shared: Arc::clone(&shared),
                handler: Arc::clone(&handler),
                config: Arc::clone(&config),
            };
            let handle = thread::Builder::new()
                .name(format!("mailsink-http-{index}"))
                .spawn(move || worker.run())?;
            server.workers.push(handle);
        }
        let handle = thread::Builder::new()
            .name("mailsink-http-accept".to_owned())
            .spawn(move || accept_loop(&listener, &shared))?;
        server.acceptor = Some(handle);
        Ok(server)
    }

    /// The bound address (useful with port 0).
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
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
        drop(lock(&self.shared.sender).take());
        for stream in lock(&self.shared.open).values() {
            let _ = stream.shutdown(Shutdown::Read);
        }
        for worker in self.workers.drain(..) {
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

fn accept_loop(listener: &TcpListener, shared: &Shared) {
    loop {
        let accepted = listener.accept();
        if shared.stopping.load(Ordering::Acquire) {
            return;
        }
        match accepted {
            Ok((stream, peer)) => {
                let sender = lock(&shared.sender).clone();
                let Some(sender) = sender else { return };
                match sender.try_send(Accepted { stream, peer }) {
                    Ok(()) => {}
                    Err(TrySendError::Full(job) | TrySendError::Disconnected(job)) => busy(job),
                }
            }
            Err(err) => {
                // Out of file descriptors and the like: back off instead of spinning.
                log::warn!("[http] accept failed: {err}");
                thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

/// Every worker is busy and the queue is full: say so and close.
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

struct Worker {
    receiver: Receiver<Accepted>,
    shared: Arc<Shared>,
    handler: Arc<Handler>,
    config: Arc<HttpConfig>,
}

impl Worker {
    fn run(self) {
        let crowded = || !self.receiver.is_empty();
        let stopping = || self.shared.stopping.load(Ordering::Acquire);
        let cx = conn::Context {
            config: &self.config,
            handler: &*self.handler,
            crowded: &crowded,
            stopping: &stopping,
        };
        while let Ok(job) = self.receiver.recv() {
            let id = self.register(&job.stream);
            // A panic in one connection must not take the worker down with it.
            let served = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                conn::serve(job.stream, job.peer, &cx);
            }));
            if let Some(id) = id {
                lock(&self.shared.open).remove(&id);
            }
            if served.is_err() {
                log::error!("[http] a connection handler panicked; the connection was dropped");
            }
        }
    }

    /// Keeps a clone of the socket so shutdown can wake a worker blocked in `read`.
    fn register(&self, stream: &TcpStream) -> Option<u64> {
        let clone = stream.try_clone().ok()?;
        let id = self.shared.next_id.fetch_add(1, Ordering::Relaxed);
        lock(&self.shared.open).insert(id, clone);
        if self.shared.stopping.load(Ordering::Acquire) {
            let _ = stream.shutdown(Shutdown::Read);
        }
        Some(id)
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

//! The threads that accept connections on one listener and hand them to the pool.
//!
//! An idle server has one accepting thread per listener. A connection that arrives while no
//! session is running anywhere is served by the thread that accepted it: handing it to a pool
//! worker means waking a parked thread, the largest single cost of a lone connection (a side
//! measurement at c=1 put a connection that skipped it at +23 % throughput, docs/benchmarks.md).
//! So that the listener is never left unattended, a second accepting thread is started the first
//! time this happens, and at most one of the two serves at a time. The session takes one of the
//! pool's places (`--smtp-max-connections`) while it lasts. Every other connection goes to the
//! pool ([`Pool::submit`]), which queues it or refuses it with `421`; under load that is nearly
//! all of them, and the pool's spinning workers take them without a wake-up.

use std::io::{self, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::driver::is_timeout;
use crate::pool::{Job, Pool};
use crate::services::Services;

/// How long [`Acceptors::stop`] keeps waking threads blocked in `accept()`.
const STOP_LIMIT: Duration = Duration::from_secs(2);

/// The accepting threads of one listener.
#[derive(Debug)]
pub(crate) struct Acceptors {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    listener: TcpListener,
    /// An address that reaches the listener, to wake threads blocked in `accept()`.
    wake: SocketAddr,
    pool: Arc<Pool>,
    services: Arc<Services>,
    /// Connections on this listener start with a TLS handshake.
    implicit_tls: bool,
    /// Accepted sockets inherit the driver's options from the listener.
    options_set: bool,
    stopping: AtomicBool,
    /// Threads in, or on their way into, `accept()`.
    accepting: AtomicUsize,
    /// One of the threads is serving a connection itself.
    serving: AtomicBool,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl Acceptors {
    /// Starts the first accepting thread on `listener`; `wake` reaches it (a loopback address).
    pub(crate) fn start(
        listener: TcpListener,
        wake: SocketAddr,
        pool: Arc<Pool>,
        services: Arc<Services>,
        implicit_tls: bool,
        options_set: bool,
    ) -> io::Result<Self> {
        let shared = Arc::new(Shared {
            listener,
            wake,
            pool,
            services,
            implicit_tls,
            options_set,
            stopping: AtomicBool::new(false),
            accepting: AtomicUsize::new(0),
            serving: AtomicBool::new(false),
            threads: Mutex::default(),
        });
        Shared::spawn(&shared, &mut shared.lock_threads())?;
        Ok(Self { shared })
    }

    /// Accepts no more connections: wakes every thread blocked in `accept()` (with connections
    /// of our own, for a bounded time). A thread serving a connection ends when its session does.
    pub(crate) fn stop(&self) {
        let shared = &self.shared;
        shared.stopping.store(true, Ordering::SeqCst);
        let until = Instant::now() + STOP_LIMIT;
        loop {
            let waiting = shared.accepting.load(Ordering::SeqCst);
            if waiting == 0 {
                return;
            }
            if Instant::now() > until {
                log::error!("[smtpd] {waiting} threads still wait at a stopped listener");
                return;
            }
            for _ in 0..waiting {
                let _ = TcpStream::connect_timeout(&shared.wake, Duration::from_secs(1));
            }
            let settle = Instant::now() + Duration::from_millis(100);
            while shared.accepting.load(Ordering::SeqCst) > 0 && Instant::now() < settle {
                thread::sleep(Duration::from_millis(1));
            }
        }
    }

    /// Waits for every thread to end: call [`Acceptors::stop`] first, and interrupt sessions
    /// (one may be served here) before.
    pub(crate) fn join(self) {
        let threads = std::mem::take(&mut *self.shared.lock_threads());
        for handle in threads {
            if handle.join().is_err() {
                log::error!("an acceptor thread panicked");
            }
        }
    }
}

impl Shared {
    fn spawn(shared: &Arc<Self>, threads: &mut Vec<JoinHandle<()>>) -> io::Result<()> {
        let port = shared.wake.port();
        let for_thread = Arc::clone(shared);
        let handle = thread::Builder::new()
            .name(format!("mailsink-accept-{port}"))
            .spawn(move || for_thread.run())?;
        threads.push(handle);
        Ok(())
    }

    fn run(self: Arc<Self>) {
        loop {
            self.accepting.fetch_add(1, Ordering::SeqCst);
            let accepted = (!self.stopping()).then(|| self.listener.accept());
            self.accepting.fetch_sub(1, Ordering::SeqCst);
            // Stopped: whatever was accepted (our own wake-up call) is dropped.
            let Some(accepted) = accepted.filter(|_| !self.stopping()) else {
                return;
            };
            match accepted {
                Ok((stream, peer)) => self.take(stream, peer),
                // The listener's receive timeout (set for the sockets it accepts) ran out.
                Err(err) if is_timeout(&err) => {}
                Err(err) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    log::warn!("[smtpd] accept failed: {err}");
                    thread::sleep(Duration::from_millis(50));
                }
            }
        }
    }

    /// Serves the connection here when the server is quiet, otherwise hands it to the pool.
    fn take(self: &Arc<Self>, stream: TcpStream, peer: SocketAddr) {
        let job = Job {
            stream,
            peer,
            implicit_tls: self.implicit_tls,
            options_set: self.options_set,
        };
        let job = if self.pool.busy() == 0 && self.standby() && self.claim_serving() {
            let served = self.pool.try_serve_here(job);
            self.serving.store(false, Ordering::Release);
            match served {
                Ok(()) => return,
                Err(job) => job,
            }
        } else {
            job
        };
        if let Err(job) = self.pool.submit(job) {
            self.services.metrics.connection_refused();
            refuse(job);
        }
    }

    fn claim_serving(&self) -> bool {
        self.serving
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// Whether a second thread exists to accept while this one serves (started the first time).
    fn standby(self: &Arc<Self>) -> bool {
        let mut threads = self.lock_threads();
        if threads.len() >= 2 {
            return true;
        }
        match Self::spawn(self, &mut threads) {
            Ok(()) => true,
            Err(err) => {
                log::warn!("[smtpd] cannot start a second accepting thread: {err}");
                false
            }
        }
    }

    fn stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    fn lock_threads(&self) -> MutexGuard<'_, Vec<JoinHandle<()>>> {
        self.threads.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Every worker is busy and the queue is full: say so and close (DESIGN section 2).
fn refuse(job: Job) {
    log::warn!("[smtpd] {}: too many connections, refused", job.peer);
    let mut stream = job.stream;
    if !job.implicit_tls {
        let _ = stream.set_write_timeout(Some(Duration::from_secs(1)));
        let _ = stream.write_all(b"421 4.3.2 Too many connections, try again later\r\n");
    }
    let _ = stream.shutdown(Shutdown::Both);
}

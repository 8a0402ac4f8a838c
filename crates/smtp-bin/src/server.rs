//! Start-up and shutdown: listeners, acceptor threads, the worker pool, the store, reloads.
//!
//! ```text
//!  acceptor (smtp) ──┐                     ┌─ worker 0 ─┐
//!  acceptor (smtps) ─┴─▶ bounded channel ──┼─ worker 1 ─┼─▶ StoreHandle ─▶ bounded channel ─▶ store thread
//!       │ full: 421 4.3.2                  └─ worker N ─┘     (each request has its reply channel)
//! ```
//!
//! A connection that arrives while no session runs is served by the acceptor that took it,
//! without the hand-over (see `acceptor.rs`).
//!
//! Shutdown order: stop the acceptors (no new sessions) and the HTTP API (see `http.rs`), wait
//! up to the grace time for sessions to end, interrupt the rest (they answer `421 4.3.2`), join
//! the acceptors and the workers, then close and join the store, so every message that got `250`
//! has been handed over before the process exits.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crossbeam_channel::Sender;
use smtp_auth::{Credentials, Verifier};
use smtp_proto::{AuthPolicy, RecipientFilter, TlsPolicy};
use smtp_store::{Store, StoreConfig, StoreHandle};
use smtp_tls::ReloadableTls;

use crate::acceptor::Acceptors;
use crate::config::{AuthSource, Config, TlsSource};
use crate::metrics::SmtpCounters;
use crate::pool::Pool;
use crate::reload::{Reloader, WatchedCredentials};
use crate::services::{AuthMode, Services, Timeouts};

#[cfg(test)]
mod tests;

/// Connections that may wait for a free worker before the acceptor answers `421`: as many as
/// there are workers, at most this many.
const MAX_ACCEPT_QUEUE: usize = 64;

/// Why the server did not start; the binary prints it on one line and exits 1.
#[derive(Debug)]
pub enum StartError {
    Bind {
        what: &'static str,
        addr: SocketAddr,
        source: io::Error,
    },
    Tls(smtp_tls::TlsError),
    Auth(smtp_auth::LoadError),
    /// The `--ui-auth-file` / `MP_UI_AUTH` credentials did not load.
    UiAuth(smtp_auth::LoadError),
    Thread(io::Error),
    /// The message store could not start (a Maildir that cannot be created or read).
    Store(io::Error),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Bind { what, addr, source } => {
                write!(f, "[{what}] cannot listen on {addr}: {source}")
            }
            Self::Tls(err) => write!(f, "[smtp] {err}"),
            Self::Auth(err) => write!(f, "[smtp] {err}"),
            Self::UiAuth(err) => write!(f, "[http] {err}"),
            Self::Thread(err) => write!(f, "cannot start a thread: {err}"),
            Self::Store(err) => write!(f, "[db] {err}"),
        }
    }
}

impl std::error::Error for StartError {}

/// A running `mailsink` SMTP server.
#[derive(Debug)]
pub struct Server {
    smtp_addr: SocketAddr,
    smtps_addr: Option<SocketAddr>,
    services: Arc<Services>,
    acceptors: Vec<Acceptors>,
    pool: Arc<Pool>,
    reloader: Arc<Reloader>,
    watcher: Option<(Sender<()>, JoinHandle<()>)>,
    http_addr: SocketAddr,
    /// The HTTP API; dropped (stopped) before the store, since it can deliver and delete.
    http: Option<smtp_http::HttpServer>,
    // Dropped last: the store closes only after every worker that could deliver is gone.
    store: Option<Store>,
}

#[derive(Debug)]
struct RegexFilter(regex::Regex);

impl RecipientFilter for RegexFilter {
    fn allows(&self, recipient: &str) -> bool {
        self.0.is_match(recipient)
    }
}

impl Server {
    /// Binds the listeners and starts every thread.
    pub fn start(config: &Config) -> Result<Server, StartError> {
        let tls = load_tls(config)?;
        let (auth, auth_file) = load_auth(config)?;
        let store = Store::start(StoreConfig {
            max_messages: config.max_messages,
            max_age: config.max_age,
            maildir: config.maildir.clone(),
            hostname: config.hostname.clone(),
            app_name: "mailsink".to_owned(),
        })
        .map_err(StartError::Store)?;
        let session_config = session_config(config, &auth);
        let timeouts = Timeouts {
            command: config.command_timeout,
            data: config.data_timeout,
            handshake: config.tls_handshake_timeout,
            tls: tls.is_some(),
        };
        let services = Arc::new(Services::new(
            session_config,
            store.handle(),
            tls,
            auth,
            timeouts,
            config.smtp_trace,
        ));
        let handler_services = Arc::clone(&services);
        let pool = Arc::new(Pool::new(
            config.max_connections,
            config.max_connections.clamp(1, MAX_ACCEPT_QUEUE),
            Arc::new(move |job| crate::driver::serve(&handler_services, job)),
        ));
        let smtp_listener = bind("smtp", config.smtp_addr, config.smtp_fallback_addr())?;
        let smtp_addr = smtp_listener.local_addr().map_err(StartError::Thread)?;
        let smtps_listener = match config.smtps_addr {
            Some(addr) => Some(bind("smtp", addr, None)?),
            None => None,
        };
        let smtps_addr = match &smtps_listener {
            Some(l) => Some(l.local_addr().map_err(StartError::Thread)?),
            None => None,
        };
        let (http, ui_auth_file) =
            crate::http::start(config, store.handle(), Arc::clone(&services.metrics))?;
        let http_addr = http.local_addr();
        let reloader = Arc::new(Reloader::new(
            Arc::clone(&services),
            auth_file,
            ui_auth_file,
        ));
        let mut server = Server {
            smtp_addr,
            smtps_addr,
            services,
            acceptors: Vec::new(),
            pool,
            reloader,
            watcher: None,
            http_addr,
            http: Some(http),
            store: Some(store),
        };
        if server.reloader.has_files() {
            server.watcher = Some(server.reloader.watch().map_err(StartError::Thread)?);
        }
        server.spawn_acceptor(smtp_listener, config.require_tls)?;
        if let Some(listener) = smtps_listener {
            server.spawn_acceptor(listener, true)?;
        }
        log::info!(
            "[smtpd] starting on {smtp_addr} ({})",
            config.tls_mode().as_str()
        );
        if let Some(addr) = smtps_addr {
            log::info!("[smtpd] starting on {addr} (SSL/TLS required)");
        }
        Ok(server)
    }

    /// The bound SMTP address (useful with port 0).
    pub fn smtp_addr(&self) -> SocketAddr {
        self.smtp_addr
    }

    /// The bound implicit-TLS address of `--smtps`, if any.
    pub fn smtps_addr(&self) -> Option<SocketAddr> {
        self.smtps_addr
    }

    /// The bound HTTP API address (`--listen`; useful with port 0).
    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }

    /// A handle to the message store.
    pub fn store(&self) -> StoreHandle {
        self.services.store.clone()
    }

    pub fn metrics(&self) -> SmtpCounters {
        self.services.metrics.snapshot()
    }

    /// Worker threads alive and connections open right now.
    pub fn load(&self) -> (usize, usize) {
        (self.pool.threads(), self.pool.busy())
    }

    /// Loads the certificate and credentials again (SIGHUP). A broken new file keeps the old
    /// one and is reported in one log line.
    pub fn reload(&self) {
        self.reloader.reload_all();
    }

    /// Stops accepting, lets sessions finish for up to `grace`, then ends the rest with `421`,
    /// and closes the store after the last worker.
    pub fn shutdown(mut self, grace: Duration) {
        self.stop_acceptors();
        // HTTP requests can deliver and delete: the API stops (answering what it is answering)
        // long before the store closes.
        if let Some(http) = self.http.take() {
            http.shutdown();
        }
        self.stop_watcher();
        let deadline = Instant::now() + grace;
        while self.services.connections.open() > 0 && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(20));
        }
        self.services.connections.begin_shutdown();
        self.services.connections.interrupt_all();
        self.join_acceptors();
        if let Some(pool) = Arc::get_mut(&mut self.pool) {
            pool.shutdown();
        }
        if let Some(store) = self.store.take() {
            if store.shutdown().is_err() {
                log::error!("the store thread panicked");
            }
        }
    }

    fn spawn_acceptor(
        &mut self,
        listener: TcpListener,
        implicit_tls: bool,
    ) -> Result<(), StartError> {
        let addr = listener.local_addr().map_err(StartError::Thread)?;
        let options_set = inherited_options(&listener, &self.services.timeouts);
        let acceptors = Acceptors::start(
            listener,
            loopback(addr),
            Arc::clone(&self.pool),
            Arc::clone(&self.services),
            implicit_tls,
            options_set,
        )
        .map_err(StartError::Thread)?;
        self.acceptors.push(acceptors);
        Ok(())
    }

    fn stop_watcher(&mut self) {
        if let Some((stop, handle)) = self.watcher.take() {
            drop(stop);
            if handle.join().is_err() {
                log::error!("the file watcher panicked");
            }
        }
    }

    fn stop_acceptors(&mut self) {
        for acceptors in &self.acceptors {
            acceptors.stop();
        }
    }

    /// After [`Server::stop_acceptors`] and the sessions' interruption.
    fn join_acceptors(&mut self) {
        for acceptors in self.acceptors.drain(..) {
            acceptors.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop_watcher();
        if !self.acceptors.is_empty() {
            self.stop_acceptors();
            self.services.connections.begin_shutdown();
            self.services.connections.interrupt_all();
            self.join_acceptors();
        }
    }
}

/// Gives `listener` the options the driver wants on every connection (no Nagle delay, the
/// command timeout for writes, [`Timeouts::socket_read`] for reads), when the sockets it
/// accepts inherit them: Linux copies the listening socket into each accepted one, which saves
/// three `setsockopt` calls per connection. Returns false where they must be set on each socket
/// instead.
#[cfg(target_os = "linux")]
fn inherited_options(listener: &TcpListener, timeouts: &Timeouts) -> bool {
    use rustix::net::sockopt;
    let read = Some(timeouts.socket_read());
    let write = Some(timeouts.socket_write());
    sockopt::set_tcp_nodelay(listener, true).is_ok()
        && sockopt::set_socket_timeout(listener, sockopt::Timeout::Recv, read).is_ok()
        && sockopt::set_socket_timeout(listener, sockopt::Timeout::Send, write).is_ok()
}

#[cfg(not(target_os = "linux"))]
fn inherited_options(_listener: &TcpListener, _timeouts: &Timeouts) -> bool {
    false
}

fn loopback(addr: SocketAddr) -> SocketAddr {
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, addr.port())
}

pub(crate) fn bind(
    what: &'static str,
    addr: SocketAddr,
    fallback: Option<SocketAddr>,
) -> Result<TcpListener, StartError> {
    match TcpListener::bind(addr) {
        Ok(listener) => Ok(listener),
        Err(err) => match fallback {
            // `[::]` on a host with IPv6 switched off: Mailpit falls back to 0.0.0.0 too.
            Some(fallback) => {
                log::debug!("[{what}] {addr} unavailable ({err}), using {fallback}");
                TcpListener::bind(fallback).map_err(|source| StartError::Bind {
                    what,
                    addr: fallback,
                    source,
                })
            }
            None => Err(StartError::Bind {
                what,
                addr,
                source: err,
            }),
        },
    }
}

fn load_tls(config: &Config) -> Result<Option<Arc<ReloadableTls>>, StartError> {
    let Some(source) = &config.tls else {
        return Ok(None);
    };
    let source = match source {
        TlsSource::Files { cert, key } => smtp_tls::TlsSource::Files {
            cert: cert.clone(),
            key: key.clone(),
        },
        TlsSource::SelfSigned { names } => smtp_tls::TlsSource::SelfSigned {
            names: names
                .iter()
                .map(|name| smtp_tls::SanName::parse(name))
                .collect::<Result<_, _>>()
                .map_err(StartError::Tls)?,
        },
    };
    let tls = ReloadableTls::load(source).map_err(StartError::Tls)?;
    if matches!(config.tls, Some(TlsSource::SelfSigned { .. })) {
        log::info!(
            "[smtpd] self-signed certificate, SHA-256 fingerprint {}",
            tls.fingerprint()
        );
    }
    Ok(Some(Arc::new(tls)))
}

/// The credentials mode, and the file to watch.
fn load_auth(config: &Config) -> Result<(AuthMode, Option<WatchedCredentials>), StartError> {
    if config.auth_accept_any {
        return Ok((AuthMode::AcceptAny, None));
    }
    let Some(source) = &config.auth else {
        return Ok((AuthMode::Disabled, None));
    };
    let (verifier, watched) = load_credentials(source, "smtpd").map_err(StartError::Auth)?;
    Ok((AuthMode::Verify(verifier), watched))
}

/// Credentials from a file or inline text; a file comes back to be watched, with its content
/// stamp taken *before* it was read, so a change between this read and the watcher's start is
/// still seen. `scope` names where they are used in the reload's log lines.
pub(crate) fn load_credentials(
    source: &AuthSource,
    scope: &'static str,
) -> Result<(Arc<Verifier>, Option<WatchedCredentials>), smtp_auth::LoadError> {
    match source {
        AuthSource::File(path) => {
            let stamp = crate::reload::stamp(path);
            let verifier = Arc::new(Verifier::new(Credentials::from_file(path)?));
            let watched =
                WatchedCredentials::new(scope, path.clone(), stamp, Arc::clone(&verifier));
            Ok((verifier, Some(watched)))
        }
        AuthSource::Inline(text) => {
            let credentials = Credentials::parse_inline(text.expose_secret())?;
            Ok((Arc::new(Verifier::new(credentials)), None))
        }
    }
}

fn session_config(config: &Config, auth: &AuthMode) -> smtp_proto::Config {
    let mut session = smtp_proto::Config::new(config.hostname.clone());
    if let Some(label) = &config.label {
        session.app_name = format!("mailsink ({label})");
    }
    session.max_message_size = config.max_message_size;
    session.max_recipients = config.max_recipients;
    session.recipient_filter = config
        .allowed_recipients
        .clone()
        .map(|re| Arc::new(RegexFilter(re)) as Arc<dyn RecipientFilter>);
    session.tls = match (&config.tls, config.require_starttls) {
        (None, _) => TlsPolicy::Unavailable,
        (Some(_), true) => TlsPolicy::Required,
        (Some(_), false) => TlsPolicy::Optional,
    };
    session.auth = match auth {
        AuthMode::Disabled => AuthPolicy::Disabled,
        AuthMode::AcceptAny => AuthPolicy::Enabled {
            required: false,
            allow_plaintext: config.auth_allow_insecure,
            cram_md5: false,
        },
        AuthMode::Verify(verifier) => AuthPolicy::Enabled {
            required: true,
            allow_plaintext: config.auth_allow_insecure,
            cram_md5: verifier.has_plain_users(),
        },
    };
    session.transcript = config.smtp_trace;
    session
}

//! What every connection worker shares: the session settings, the store, TLS, AUTH, timeouts,
//! the connection registry and the counters.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use smtp_auth::Verifier;
use smtp_store::StoreHandle;
use smtp_tls::ReloadableTls;

use crate::connections::Connections;
use crate::metrics::Metrics;

/// How AUTH is decided.
#[derive(Debug)]
pub(crate) enum AuthMode {
    Disabled,
    /// `--smtp-auth-accept-any`.
    AcceptAny,
    /// Credentials from `--smtp-auth-file` or `MP_SMTP_AUTH`.
    Verify(Arc<Verifier>),
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Timeouts {
    /// A whole command line must arrive within this.
    pub command: Duration,
    /// Message data may pause this long between reads.
    pub data: Duration,
    /// A TLS handshake must finish within this.
    pub handshake: Duration,
    /// TLS is configured (STARTTLS or implicit TLS): handshakes happen.
    pub tls: bool,
}

impl Timeouts {
    /// The read timeout a socket starts with: the shortest of the waits (a command, message
    /// data, and a TLS handshake where TLS is configured), so that waiting for any of them
    /// needs no `setsockopt` (the driver reads again when a read ends before its deadline, and
    /// a handshake only sets a timeout that could overrun its own). Without TLS the handshake's
    /// does not count: an idle listener and an idle client wake no more often than they must.
    pub fn socket_read(&self) -> Duration {
        let read = self.command.min(self.data);
        if self.tls {
            read.min(self.handshake)
        } else {
            read
        }
    }

    /// The write timeout a socket keeps: the command timeout.
    pub fn socket_write(&self) -> Duration {
        self.command
    }

    /// What a handshake is told the socket has: `read` as the driver last set it (`None`, not
    /// known, counts as none: the handshake sets its own and the driver sets one again before
    /// its next read), and the write timeout every socket keeps.
    pub fn in_force(&self, read: Option<Duration>) -> smtp_tls::SocketTimeouts {
        smtp_tls::SocketTimeouts {
            read,
            write: Some(self.socket_write()),
        }
    }
}

#[derive(Debug)]
pub(crate) struct Services {
    session_config: RwLock<Arc<smtp_proto::Config>>,
    pub store: StoreHandle,
    pub tls: Option<Arc<ReloadableTls>>,
    pub auth: AuthMode,
    pub timeouts: Timeouts,
    pub trace: bool,
    pub connections: Connections,
    pub metrics: Arc<Metrics>,
    challenges: AtomicU64,
    /// The process id for challenge tokens, asked once (glibc does not cache `getpid`).
    pid: u32,
}

impl Services {
    pub(crate) fn new(
        session_config: smtp_proto::Config,
        store: StoreHandle,
        tls: Option<Arc<ReloadableTls>>,
        auth: AuthMode,
        timeouts: Timeouts,
        trace: bool,
    ) -> Self {
        Self {
            session_config: RwLock::new(Arc::new(session_config)),
            store,
            tls,
            auth,
            timeouts,
            trace,
            connections: Connections::default(),
            metrics: Arc::default(),
            challenges: AtomicU64::new(0),
            pid: std::process::id(),
        }
    }

    /// The settings new sessions start with.
    pub(crate) fn session_config(&self) -> Arc<smtp_proto::Config> {
        Arc::clone(
            &self
                .session_config
                .read()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }

    /// Replaces the settings for sessions started from now on (after a credentials reload).
    pub(crate) fn update_session_config(&self, update: impl FnOnce(&mut smtp_proto::Config)) {
        let mut guard = self
            .session_config
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let mut config = (**guard).clone();
        update(&mut config);
        *guard = Arc::new(config);
    }

    /// A token unique to this process and connection for the CRAM-MD5 challenge
    /// (`<pid.counter.nanos@host>`, as RFC 2195 suggests).
    pub(crate) fn challenge_token(&self) -> String {
        let n = self.challenges.fetch_add(1, Ordering::Relaxed);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        format!("{}.{n}.{nanos}", self.pid)
    }
}

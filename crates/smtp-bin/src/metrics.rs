//! Counters for logs and the `/metrics` endpoint: plain atomics, updated by the workers.

use std::sync::atomic::{AtomicU64, Ordering};

pub use smtp_http::SmtpCounters;

#[derive(Debug, Default)]
pub struct Metrics {
    sessions: AtomicU64,
    messages_accepted: AtomicU64,
    bytes_accepted: AtomicU64,
    messages_refused: AtomicU64,
    tls_handshakes: AtomicU64,
    tls_failures: AtomicU64,
    auth_failures: AtomicU64,
    connections_refused: AtomicU64,
}

impl Metrics {
    pub(crate) fn session_opened(&self) {
        self.sessions.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn message_accepted(&self, bytes: usize) {
        self.messages_accepted.fetch_add(1, Ordering::Relaxed);
        self.bytes_accepted
            .fetch_add(bytes as u64, Ordering::Relaxed);
    }

    pub(crate) fn message_refused(&self) {
        self.messages_refused.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn tls_handshake(&self, ok: bool) {
        let counter = if ok {
            &self.tls_handshakes
        } else {
            &self.tls_failures
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn auth_failed(&self) {
        self.auth_failures.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn connection_refused(&self) {
        self.connections_refused.fetch_add(1, Ordering::Relaxed);
    }

    /// A copy of the counters now, in the shape `/metrics` and `/api/v1/info` report.
    pub fn snapshot(&self) -> SmtpCounters {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        SmtpCounters {
            sessions: get(&self.sessions),
            messages_accepted: get(&self.messages_accepted),
            bytes_accepted: get(&self.bytes_accepted),
            messages_refused: get(&self.messages_refused),
            tls_handshakes: get(&self.tls_handshakes),
            tls_failures: get(&self.tls_failures),
            auth_failures: get(&self.auth_failures),
            connections_refused: get(&self.connections_refused),
        }
    }
}

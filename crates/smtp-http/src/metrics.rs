//! `GET /metrics`: the Prometheus text exposition format (version 0.0.4).
//!
//! The SMTP counters live in the binary; it hands the router a closure ([`CountersFn`]) that
//! reads them, so this crate depends on nothing SMTP-specific.

use std::fmt::Write as _;
use std::sync::Arc;

/// The SMTP side's counters at one moment, since start.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SmtpCounters {
    /// SMTP sessions started.
    pub sessions: u64,
    /// Messages accepted (`250` after DATA/BDAT).
    pub messages_accepted: u64,
    /// Bytes of the accepted messages.
    pub bytes_accepted: u64,
    /// Messages refused (size, recipients, storage).
    pub messages_refused: u64,
    /// TLS handshakes completed.
    pub tls_handshakes: u64,
    /// TLS handshakes that failed.
    pub tls_failures: u64,
    /// Failed AUTH attempts.
    pub auth_failures: u64,
    /// Connections refused with `421` because every worker was busy.
    pub connections_refused: u64,
}

/// Reads the SMTP counters; called once per `/metrics` or `/api/v1/info` request.
pub type CountersFn = Arc<dyn Fn() -> SmtpCounters + Send + Sync>;

/// What the store holds, for the gauges.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct StoreGauges {
    pub messages: usize,
    pub unread: usize,
    pub bytes: u64,
}

/// The exposition text.
pub(crate) fn render(smtp: &SmtpCounters, store: &StoreGauges, uptime_seconds: u64) -> String {
    let mut out = String::new();
    let counters: [(&str, &str, u64); 6] = [
        (
            "mailsink_smtp_sessions_total",
            "SMTP sessions started.",
            smtp.sessions,
        ),
        (
            "mailsink_smtp_messages_accepted_total",
            "Messages accepted over SMTP.",
            smtp.messages_accepted,
        ),
        (
            "mailsink_smtp_accepted_bytes_total",
            "Bytes of the messages accepted over SMTP.",
            smtp.bytes_accepted,
        ),
        (
            "mailsink_smtp_messages_refused_total",
            "Messages refused over SMTP.",
            smtp.messages_refused,
        ),
        (
            "mailsink_smtp_auth_failures_total",
            "Failed SMTP AUTH attempts.",
            smtp.auth_failures,
        ),
        (
            "mailsink_smtp_connections_refused_total",
            "Connections refused because every worker was busy.",
            smtp.connections_refused,
        ),
    ];
    for (name, help, value) in counters {
        metric(&mut out, name, help, "counter", &[("", value)]);
    }
    metric(
        &mut out,
        "mailsink_smtp_tls_handshakes_total",
        "TLS handshakes on the SMTP ports, by outcome.",
        "counter",
        &[
            ("{result=\"ok\"}", smtp.tls_handshakes),
            ("{result=\"failed\"}", smtp.tls_failures),
        ],
    );
    let gauges: [(&str, &str, u64); 4] = [
        (
            "mailsink_store_messages",
            "Messages stored.",
            to_u64(store.messages),
        ),
        (
            "mailsink_store_unread_messages",
            "Stored messages not yet read.",
            to_u64(store.unread),
        ),
        (
            "mailsink_store_size_bytes",
            "Bytes of the stored messages.",
            store.bytes,
        ),
        (
            "mailsink_uptime_seconds",
            "Seconds since the server started.",
            uptime_seconds,
        ),
    ];
    for (name, help, value) in gauges {
        metric(&mut out, name, help, "gauge", &[("", value)]);
    }
    out
}

fn metric(out: &mut String, name: &str, help: &str, kind: &str, samples: &[(&str, u64)]) {
    // Writing to a String cannot fail.
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
    for (labels, value) in samples {
        let _ = writeln!(out, "{name}{labels} {value}");
    }
}

fn to_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// Resident memory of this process in bytes (Linux `/proc`), 0 where unknown.
pub(crate) fn resident_memory() -> u64 {
    let Ok(statm) = std::fs::read_to_string("/proc/self/statm") else {
        return 0;
    };
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    // The page size is 4 KiB on every Linux platform mailsink targets.
    pages * 4096
}

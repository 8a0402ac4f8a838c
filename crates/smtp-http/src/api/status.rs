//! The server itself: `GET /api/v1/info`, `GET /api/v1/webui`, `/metrics`, `/readyz`.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use super::{ApiError, Call};
use crate::json::{AppInformation, RuntimeStats, WebUiConfiguration};
use crate::metrics::{self, SmtpCounters, StoreGauges};
use crate::response::{Body, Response};

/// `GET /api/v1/info`: version, store totals, tags with their counts, runtime counters.
pub(super) fn info(call: &Call<'_>) -> Result<Response, ApiError> {
    let router = call.router;
    let page = router.config.store.list(0, usize::MAX)?;
    let mut tags: BTreeMap<String, usize> = BTreeMap::new();
    for tag in page.messages.iter().flat_map(|m| &m.summary().tags) {
        *tags.entry(tag.clone()).or_default() += 1;
    }
    let smtp = counters(call);
    let info = AppInformation {
        version: router.config.version.clone(),
        // No release check: mailsink never calls out to the network.
        latest_version: "disabled".to_owned(),
        database: router.config.database.clone(),
        database_size: page.messages.iter().map(|m| to_u64(m.size())).sum(),
        messages: page.counts.total,
        unread: page.counts.unread,
        tags,
        runtime_stats: RuntimeStats {
            uptime: router.started.elapsed().as_secs(),
            memory: metrics::resident_memory(),
            messages_deleted: router.deleted.load(Ordering::Relaxed),
            smtp_accepted: smtp.messages_accepted,
            smtp_accepted_size: smtp.bytes_accepted,
            smtp_rejected: smtp.messages_refused,
            smtp_ignored: 0,
        },
    };
    Ok(Response::json(200, &info))
}

/// `GET /api/v1/webui`: the web page's settings; relaying, SpamAssassin and chaos are not
/// mailsink features and read as off.
pub(super) fn webui(call: &Call<'_>) -> Response {
    Response::json(
        200,
        &WebUiConfiguration {
            label: call.router.config.label.clone(),
            disable_html_check: true,
            ..WebUiConfiguration::default()
        },
    )
}

/// `GET /metrics`: Prometheus text.
pub(super) fn metrics(call: &Call<'_>) -> Result<Response, ApiError> {
    let page = call.router.config.store.list(0, usize::MAX)?;
    let gauges = StoreGauges {
        messages: page.counts.total,
        unread: page.counts.unread,
        bytes: page.messages.iter().map(|m| to_u64(m.size())).sum(),
    };
    let text = metrics::render(
        &counters(call),
        &gauges,
        call.router.started.elapsed().as_secs(),
    );
    Ok(Response::new(200)
        .with_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
        .with_body(Body::Bytes(text.into_bytes())))
}

/// `GET /readyz`: `200` while the store answers, `503` once it is gone.
pub(super) fn readyz(call: &Call<'_>) -> Response {
    match call.router.config.store.count() {
        Ok(_) => Response::text(200, "ok\n"),
        Err(err) => Response::text(503, format!("{err}\n")),
    }
}

fn counters(call: &Call<'_>) -> SmtpCounters {
    call.router
        .config
        .counters
        .as_ref()
        .map(|read| read())
        .unwrap_or_default()
}

fn to_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

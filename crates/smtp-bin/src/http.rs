//! The HTTP API's place in the server: the router's settings from the configuration
//! (`--listen`, `--ui-auth-file`/`MP_UI_AUTH`, `--api-cors`, `--label`), the SMTP counters it
//! reports, and the listener. The API itself is `smtp-http`.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use smtp_http::{Cors, HttpConfig, HttpServer, Request, Router, RouterConfig};
use smtp_store::StoreHandle;

use crate::config::Config;
use crate::metrics::Metrics;
use crate::reload::WatchedCredentials;
use crate::server::{bind, load_credentials, StartError};

/// Room for what the send API wraps around a message of the largest size: base64 grows an
/// attachment by a third, and the JSON around it adds a little.
const SEND_OVERHEAD: u64 = 1024 * 1024;

/// Binds `--listen` and starts the HTTP server over `store`; returns it with the
/// `--ui-auth-file` credentials to watch, if there is one.
pub(crate) fn start(
    config: &Config,
    store: StoreHandle,
    metrics: Arc<Metrics>,
) -> Result<(HttpServer, Option<WatchedCredentials>), StartError> {
    let (router, ui_auth_file) = router_config(config, store, metrics)?;
    let router = Arc::new(Router::new(router));
    let listener = bind("http", config.http_addr, config.http_fallback_addr())?;
    let addr = listener.local_addr().map_err(StartError::Thread)?;
    let limit = config.message_size_limit() / 3 * 4 + SEND_OVERHEAD;
    let http_config = HttpConfig {
        max_body_bytes: usize::try_from(limit).unwrap_or(usize::MAX),
        ..HttpConfig::default()
    };
    let handler = move |request: &Request| router.handle(request);
    let server =
        HttpServer::start(listener, Arc::new(handler), http_config).map_err(StartError::Thread)?;
    log::info!("[http] starting on {addr}");
    log::info!("[http] accessible via http://{}/", reachable(addr));
    Ok((server, ui_auth_file))
}

fn router_config(
    config: &Config,
    store: StoreHandle,
    metrics: Arc<Metrics>,
) -> Result<(RouterConfig, Option<WatchedCredentials>), StartError> {
    let mut router = RouterConfig::new(store);
    let mut ui_auth_file = None;
    if let Some(source) = &config.ui_auth {
        let (verifier, watched) = load_credentials(source, "http").map_err(StartError::UiAuth)?;
        router.auth = Some(verifier);
        ui_auth_file = watched;
        log::info!("[http] enabling basic authentication");
    }
    router.cors = config
        .api_cors
        .as_deref()
        .map(Cors::parse)
        .unwrap_or_default();
    router.counters = Some(Arc::new(move || metrics.snapshot()));
    router.version = env!("CARGO_PKG_VERSION").to_owned();
    router.database = config
        .maildir
        .as_ref()
        .map(|dir| dir.display().to_string())
        .unwrap_or_default();
    router.label = config.label.clone().unwrap_or_default();
    Ok((router, ui_auth_file))
}

/// The address to print for people: `localhost` for a wildcard bind, as Mailpit prints it.
fn reachable(addr: SocketAddr) -> String {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => format!("localhost:{}", addr.port()),
        IpAddr::V6(ip) if ip.is_unspecified() => format!("localhost:{}", addr.port()),
        _ => addr.to_string(),
    }
}

//! The rustls `ServerConfig` for SMTP: `ring` only, TLS 1.2 and 1.3, resumption, no ALPN and
//! no client certificates.

use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::server::ServerSessionMemoryCache;
use rustls::sign::SingleCertAndKey;
use rustls::ServerConfig;

use crate::error::TlsError;
use crate::identity::Identity;

/// Sessions the server remembers for TLS 1.2 session-ID resumption (clients without
/// ticket support). Each entry is a few hundred bytes.
const SESSION_CACHE_ENTRIES: usize = 1024;

/// The only crypto provider this crate uses: `ring` builds with just a C compiler, which
/// matters for cross-compiled test rigs.
pub(crate) fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Builds the configuration every new connection uses until the next reload.
///
/// Each call gets its own ticket keys and session cache, so sessions from before a
/// certificate rotation are not resumed after it.
pub(crate) fn server_config(
    identity: &Identity,
    provider: Arc<CryptoProvider>,
) -> Result<Arc<ServerConfig>, TlsError> {
    let resolver = Arc::new(SingleCertAndKey::from(Arc::clone(&identity.certified_key)));
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(TlsError::Config)?
        .with_no_client_auth()
        .with_cert_resolver(resolver);
    config.ticketer = rustls::crypto::ring::Ticketer::new().map_err(TlsError::Config)?;
    config.session_storage = ServerSessionMemoryCache::new(SESSION_CACHE_ENTRIES);
    // One TLS 1.3 ticket per handshake (as Go's crypto/tls, so Mailpit, sends), not rustls's
    // two: an SMTP client resumes with its latest ticket, and each ticket costs an encryption
    // and a record on every full handshake.
    config.send_tls13_tickets = 1;
    Ok(Arc::new(config))
}

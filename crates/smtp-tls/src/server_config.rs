//! The rustls `ServerConfig`s for SMTP: `ring` only, TLS 1.2 and 1.3, resumption, no ALPN and
//! no client certificates, and the cipher suite chosen as Go's `crypto/tls` (so Mailpit)
//! chooses it.
//!
//! rustls picks a cipher suite from one fixed order per `ServerConfig`, so [`TlsConfig`] holds
//! two that differ only in that order, and each handshake takes the one its ClientHello calls
//! for ([`TlsConfig::for_client`]). The rule is Go's: a client whose first choice is AES-GCM
//! gets AES-128-GCM, when this machine has AES instructions; every other client gets
//! ChaCha20-Poly1305 if it offers it. AES-128-GCM and ChaCha20-Poly1305 both hash with
//! SHA-256, for which x86-64 and ARMv8 have instructions; AES-256-GCM, the first choice of
//! most clients, hashes with SHA-384, which runs in software on most machines and was the
//! costliest function of a STARTTLS session in `perf` (docs/benchmarks.md, seventh round).

use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::server::{ServerSessionMemoryCache, StoresServerSessions};
use rustls::sign::SingleCertAndKey;
use rustls::{CipherSuite, ServerConfig, SupportedCipherSuite};

use crate::error::TlsError;
use crate::identity::Identity;
use crate::random::BlockRandom;
use crate::x25519;

/// Sessions the server remembers for TLS 1.2 session-ID resumption (clients without
/// ticket support). Each entry is a few hundred bytes.
const SESSION_CACHE_ENTRIES: usize = 1024;

/// The server's order with AES instructions and a client that prefers AES-GCM: Go's
/// `defaultCipherSuitesTLS13` and `cipherSuitesPreferenceOrder` (ECDSA before RSA; rustls
/// drops the ones the certificate cannot sign for).
const AES_FIRST: &[CipherSuite] = &[
    CipherSuite::TLS13_AES_128_GCM_SHA256,
    CipherSuite::TLS13_CHACHA20_POLY1305_SHA256,
    CipherSuite::TLS13_AES_256_GCM_SHA384,
    CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
];

/// The order otherwise: Go's `defaultCipherSuitesTLS13NoAES` and
/// `cipherSuitesPreferenceOrderNoAES`.
const CHACHA_FIRST: &[CipherSuite] = &[
    CipherSuite::TLS13_CHACHA20_POLY1305_SHA256,
    CipherSuite::TLS13_AES_128_GCM_SHA256,
    CipherSuite::TLS13_AES_256_GCM_SHA384,
    CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
];

/// The only crypto provider this crate uses: `ring` builds with just a C compiler, which
/// matters for cross-compiled test rigs. Two parts are replaced: the randomness rustls asks
/// the provider for is read from the kernel a block at a time ([`BlockRandom`]), and X25519
/// is done by `graviola` where the CPU runs it ([`x25519::kx_groups`]).
pub(crate) fn provider() -> Arc<CryptoProvider> {
    Arc::new(CryptoProvider {
        secure_random: &BlockRandom,
        kx_groups: x25519::kx_groups(),
        ..rustls::crypto::ring::default_provider()
    })
}

/// What a handshake starting now is configured with: one certificate, two cipher suite
/// orders.
#[derive(Debug)]
pub struct TlsConfig {
    /// AES-128-GCM first.
    pub(crate) aes_first: Arc<ServerConfig>,
    /// ChaCha20-Poly1305 first.
    pub(crate) chacha_first: Arc<ServerConfig>,
    /// Whether this machine has the instructions AES-GCM is fast with.
    aes_hardware: bool,
}

impl TlsConfig {
    /// Whether this machine has the instructions AES-GCM is fast with (AES and carry-less
    /// multiplication), so that AES-128-GCM goes first for clients that prefer AES-GCM.
    pub fn aes_hardware(&self) -> bool {
        self.aes_hardware
    }

    /// The configuration for a client offering `suites`, in its order of preference.
    pub(crate) fn for_client(&self, suites: &[CipherSuite]) -> &Arc<ServerConfig> {
        if aes_preferred(self.aes_hardware, suites) {
            &self.aes_first
        } else {
            &self.chacha_first
        }
    }
}

/// Go's rule: AES-GCM first only when this machine runs it in hardware and the client's first
/// choice among the suites the server knows is AES-GCM, which says the client does too.
pub(crate) fn aes_preferred(aes_hardware: bool, client_suites: &[CipherSuite]) -> bool {
    aes_hardware
        && client_suites
            .iter()
            .find(|suite| AES_FIRST.contains(suite))
            .is_some_and(|suite| !is_chacha(*suite))
}

fn is_chacha(suite: CipherSuite) -> bool {
    matches!(
        suite,
        CipherSuite::TLS13_CHACHA20_POLY1305_SHA256
            | CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
            | CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256
    )
}

/// Whether the CPU has AES and carry-less multiplication instructions (what `ring` uses for
/// AES-GCM), as Go's `hasAESGCMHardwareSupport`.
pub(crate) fn aes_hardware() -> bool {
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    {
        std::arch::is_x86_feature_detected!("aes")
            && std::arch::is_x86_feature_detected!("pclmulqdq")
    }
    #[cfg(target_arch = "aarch64")]
    {
        std::arch::is_aarch64_feature_detected!("aes")
    }
    #[cfg(not(any(target_arch = "x86", target_arch = "x86_64", target_arch = "aarch64")))]
    {
        false
    }
}

/// Builds the configurations every new connection uses until the next reload.
///
/// Each call gets its own ticket keys and session cache, shared by both orders, so a session
/// resumes whichever order its client gets, and sessions from before a certificate rotation
/// are not resumed after it.
pub(crate) fn server_config(
    identity: &Identity,
    provider: &CryptoProvider,
) -> Result<TlsConfig, TlsError> {
    let ticketer = rustls::crypto::ring::Ticketer::new().map_err(TlsError::Config)?;
    let session_storage: Arc<dyn StoresServerSessions> =
        ServerSessionMemoryCache::new(SESSION_CACHE_ENTRIES);
    let [aes_first, chacha_first] = [AES_FIRST, CHACHA_FIRST].map(|order| {
        let mut config = one_order(identity, provider, order)?;
        config.ticketer = Arc::clone(&ticketer);
        config.session_storage = Arc::clone(&session_storage);
        Ok::<_, TlsError>(Arc::new(config))
    });
    Ok(TlsConfig {
        aes_first: aes_first?,
        chacha_first: chacha_first?,
        aes_hardware: aes_hardware(),
    })
}

/// A configuration that picks the first suite of `order` the client offers, without
/// resumption (the caller gives both orders the same).
fn one_order(
    identity: &Identity,
    provider: &CryptoProvider,
    order: &[CipherSuite],
) -> Result<ServerConfig, TlsError> {
    let suites: Vec<SupportedCipherSuite> = order
        .iter()
        .filter_map(|name| {
            provider
                .cipher_suites
                .iter()
                .find(|suite| suite.suite() == *name)
                .copied()
        })
        .collect();
    let provider = CryptoProvider {
        cipher_suites: suites,
        ..provider.clone()
    };
    let resolver = Arc::new(SingleCertAndKey::from(Arc::clone(&identity.certified_key)));
    let mut config = ServerConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(TlsError::Config)?
        .with_no_client_auth()
        .with_cert_resolver(resolver);
    config.ignore_client_order = true;
    // One TLS 1.3 ticket per handshake (as Go's crypto/tls, so Mailpit, sends), not rustls's
    // two: an SMTP client resumes with its latest ticket, and each ticket costs an encryption
    // and a record on every full handshake.
    config.send_tls13_tickets = 1;
    Ok(config)
}

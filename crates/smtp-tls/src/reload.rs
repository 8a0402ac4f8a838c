//! Certificate rotation without a restart: the current [`TlsConfig`] behind a lock, swapped
//! by [`ReloadableTls::reload`].
//!
//! Each connection takes an `Arc<TlsConfig>` from [`ReloadableTls::current`] when it
//! starts its handshake and keeps it, so a reload changes what new connections get and leaves
//! open ones untouched. A reload that fails keeps the old configuration.

use std::fmt;
use std::fs::{self, Metadata};
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::SystemTime;

use rustls::crypto::CryptoProvider;

use crate::error::TlsError;
use crate::identity::{Fingerprint, Identity};
use crate::server_config::{provider, server_config, TlsConfig};
use crate::source::TlsSource;

/// The server's TLS configuration, reloadable while connections are open.
///
/// Share it between threads in an `Arc`. Typical use: the acceptor or worker calls
/// [`current`](Self::current) per connection; a signal thread calls
/// [`reload`](Self::reload) on SIGHUP; a timer thread polls
/// [`files_changed`](Self::files_changed) every few seconds and reloads when it is true.
pub struct ReloadableTls {
    source: TlsSource,
    provider: Arc<CryptoProvider>,
    current: RwLock<Current>,
    /// What the files looked like when they were last read. The lock also serialises
    /// reloads, so an older load can never overwrite a newer one.
    seen: Mutex<Stamps>,
}

/// The configuration new connections get, and the fingerprint of its leaf certificate.
struct Current {
    config: Arc<TlsConfig>,
    fingerprint: Fingerprint,
}

impl ReloadableTls {
    /// Loads the certificate and key, or generates the self-signed certificate.
    pub fn load(source: TlsSource) -> Result<Self, TlsError> {
        let provider = provider();
        let seen = Stamps::of(&source);
        let current = build(&source, &provider)?;
        Ok(Self {
            source,
            provider,
            current: RwLock::new(current),
            seen: Mutex::new(seen),
        })
    }

    /// The configuration for a connection starting now.
    pub fn current(&self) -> Arc<TlsConfig> {
        Arc::clone(
            &self
                .current
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .config,
        )
    }

    /// The SHA-256 fingerprint of the leaf certificate new connections get, for the log.
    pub fn fingerprint(&self) -> Fingerprint {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .fingerprint
    }

    /// Where the certificate comes from.
    pub fn source(&self) -> &TlsSource {
        &self.source
    }

    /// Reads the files again and, if the new pair is good, gives it to new connections.
    ///
    /// On error the previous configuration stays in use. The files' state is recorded
    /// either way, so [`files_changed`](Self::files_changed) reports a broken pair once,
    /// not on every poll. A self-signed certificate is made once per process: reloading
    /// it does nothing.
    pub fn reload(&self) -> Result<(), TlsError> {
        if let TlsSource::SelfSigned { .. } = self.source {
            return Ok(());
        }
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        // Stamp before reading: a write racing with the read shows up as a change later.
        *seen = Stamps::of(&self.source);
        let next = build(&self.source, &self.provider)?;
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = next;
        Ok(())
    }

    /// Whether the certificate or key file has changed (modification time, size or, on Unix,
    /// inode) since it was last read. Always false for a self-signed certificate.
    pub fn files_changed(&self) -> bool {
        let now = Stamps::of(&self.source);
        now != *self.seen.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl fmt::Debug for ReloadableTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReloadableTls")
            .field("source", &self.source)
            .field("fingerprint", &self.fingerprint())
            .finish_non_exhaustive()
    }
}

fn build(source: &TlsSource, provider: &Arc<CryptoProvider>) -> Result<Current, TlsError> {
    let identity = Identity::load(source, provider)?;
    let config = server_config(&identity, provider)?;
    Ok(Current {
        config: Arc::new(config),
        fingerprint: identity.fingerprint,
    })
}

/// The observed state of the certificate and key files; `None` for a file that cannot be
/// examined (missing, say), and for both when the certificate is self-signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamps {
    cert: Option<FileStamp>,
    key: Option<FileStamp>,
}

impl Stamps {
    fn of(source: &TlsSource) -> Self {
        match source {
            TlsSource::Files { cert, key } => Self {
                cert: FileStamp::of(cert),
                key: FileStamp::of(key),
            },
            TlsSource::SelfSigned { .. } => Self {
                cert: None,
                key: None,
            },
        }
    }
}

/// What identifies one version of a file without reading it. Symbolic links are followed,
/// so a Kubernetes secret volume, which swaps a link, counts as a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileStamp {
    modified: Option<SystemTime>,
    len: u64,
    inode: u64,
}

impl FileStamp {
    fn of(path: &Path) -> Option<Self> {
        let meta = fs::metadata(path).ok()?;
        Some(Self {
            modified: meta.modified().ok(),
            len: meta.len(),
            inode: inode(&meta),
        })
    }
}

#[cfg(unix)]
fn inode(meta: &Metadata) -> u64 {
    std::os::unix::fs::MetadataExt::ino(meta)
}

#[cfg(not(unix))]
fn inode(_meta: &Metadata) -> u64 {
    0
}

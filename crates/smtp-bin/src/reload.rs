//! Rotation without restart: the certificate and the credentials file are loaded again on
//! SIGHUP and when they change on disk. A broken new file keeps the old one and logs one line;
//! open connections are never touched, new ones get the new material.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use smtp_auth::Credentials;
use smtp_proto::AuthPolicy;

use crate::services::{AuthMode, Services};

/// How often files are checked for changes.
const WATCH_INTERVAL: Duration = Duration::from_secs(2);

#[derive(Debug)]
pub(crate) struct Reloader {
    services: Arc<Services>,
    auth_file: Option<PathBuf>,
    /// The credentials file's [`stamp`] when it was last loaded.
    auth_stamp: Mutex<Option<u64>>,
}

impl Reloader {
    /// `auth_file` comes with the [`stamp`] it had *before* the credentials in use were read
    /// from it, so a change racing with start-up is still noticed.
    pub(crate) fn new(services: Arc<Services>, auth_file: Option<(PathBuf, Option<u64>)>) -> Self {
        let (auth_file, auth_stamp) = match auth_file {
            Some((path, stamp)) => (Some(path), stamp),
            None => (None, None),
        };
        Self {
            services,
            auth_file,
            auth_stamp: Mutex::new(auth_stamp),
        }
    }

    /// SIGHUP: everything, whether it changed or not.
    pub(crate) fn reload_all(&self) {
        self.reload_tls();
        self.reload_credentials();
    }

    fn reload_tls(&self) {
        let Some(tls) = &self.services.tls else {
            return;
        };
        match tls.reload() {
            Ok(()) => log::info!("[smtpd] TLS certificate loaded ({})", tls.fingerprint()),
            Err(err) => {
                log::error!("[smtpd] TLS reload failed, keeping the old certificate: {err}")
            }
        }
    }

    fn reload_credentials(&self) {
        let (AuthMode::Verify(verifier), Some(path)) = (&self.services.auth, &self.auth_file)
        else {
            return;
        };
        // Stamp first, also on failure: a broken file is reported once, not every poll.
        *self
            .auth_stamp
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = stamp(path);
        match Credentials::from_file(path) {
            Ok(credentials) => {
                let cram = credentials.has_plain_users();
                verifier.replace(credentials);
                self.services.update_session_config(|config| {
                    if let AuthPolicy::Enabled { cram_md5, .. } = &mut config.auth {
                        *cram_md5 = cram;
                    }
                });
                log::info!(
                    "[smtpd] credentials loaded ({} users)",
                    verifier.user_count()
                );
            }
            Err(err) => {
                log::error!("[smtpd] credentials reload failed, keeping the old ones: {err}")
            }
        }
    }

    /// Whether there are files to watch: a credentials file, or a certificate and key read from
    /// files (a self-signed certificate has none). Without any, no watcher thread is needed.
    pub(crate) fn has_files(&self) -> bool {
        let tls_files = self
            .services
            .tls
            .as_ref()
            .is_some_and(|tls| matches!(tls.source(), smtp_tls::TlsSource::Files { .. }));
        self.auth_file.is_some() || tls_files
    }

    /// Starts the thread that polls the files; it ends when the returned sender is dropped.
    pub(crate) fn watch(self: &Arc<Self>) -> std::io::Result<(Sender<()>, JoinHandle<()>)> {
        let (stop, stopped) = crossbeam_channel::bounded(0);
        let this = Arc::clone(self);
        let handle = thread::Builder::new()
            .name("mailsink-watch".to_owned())
            .spawn(move || this.watch_loop(&stopped))?;
        Ok((stop, handle))
    }

    fn watch_loop(&self, stopped: &Receiver<()>) {
        loop {
            match stopped.recv_timeout(WATCH_INTERVAL) {
                Err(RecvTimeoutError::Timeout) => {}
                Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
            }
            if self
                .services
                .tls
                .as_ref()
                .is_some_and(|tls| tls.files_changed())
            {
                log::info!("[smtpd] certificate or key changed on disk");
                self.reload_tls();
            }
            if let Some(path) = &self.auth_file {
                let now = stamp(path);
                let mut last = self
                    .auth_stamp
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                if now != *last {
                    *last = now;
                    drop(last);
                    log::info!("[smtpd] credentials file changed on disk");
                    self.reload_credentials();
                }
            }
        }
    }
}

/// A hash of the file's contents. Credentials files are small, and a content hash notices a
/// rewrite that keeps the length and lands within one file-time tick, which mtime and size miss.
pub(crate) fn stamp(path: &Path) -> Option<u64> {
    let bytes = std::fs::read(path).ok()?;
    let mut hasher = std::hash::DefaultHasher::new();
    bytes.hash(&mut hasher);
    Some(hasher.finish())
}

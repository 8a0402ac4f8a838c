//! Rotation without restart: the certificate and the credentials file are loaded again on
//! SIGHUP and when they change on disk. A broken new file keeps the old one and logs one line;
//! open connections are never touched, new ones get the new material.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, SystemTime};

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
}

impl Reloader {
    pub(crate) fn new(services: Arc<Services>, auth_file: Option<PathBuf>) -> Self {
        Self {
            services,
            auth_file,
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
        let mut auth_stamp = self.auth_file.as_deref().and_then(stamp);
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
                if now != auth_stamp {
                    auth_stamp = now;
                    log::info!("[smtpd] credentials file changed on disk");
                    self.reload_credentials();
                }
            }
        }
    }
}

/// Modification time and length: enough to notice an edited or replaced file.
fn stamp(path: &Path) -> Option<(SystemTime, u64)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

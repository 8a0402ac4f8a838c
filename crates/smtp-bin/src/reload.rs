//! Rotation without restart: the certificate and the credentials files (SMTP's
//! `--smtp-auth-file` and the API's `--ui-auth-file`) are loaded again on SIGHUP and when they
//! change on disk. A broken new file keeps the old one and logs one line; open connections are
//! never touched, new ones (and new API requests) get the new material.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use smtp_auth::{Credentials, Verifier};
use smtp_proto::AuthPolicy;

use crate::services::Services;

/// How often files are checked for changes.
const WATCH_INTERVAL: Duration = Duration::from_secs(2);

/// A credentials file in use, and the verifier that answers from it.
#[derive(Debug)]
pub(crate) struct WatchedCredentials {
    /// Where it is used, as the log lines name it: `smtpd` or `http`.
    scope: &'static str,
    path: PathBuf,
    verifier: Arc<Verifier>,
    /// The file's [`stamp`] when it was last loaded.
    stamp: Mutex<Option<u64>>,
}

impl WatchedCredentials {
    /// `stamp` is the one the file had *before* the credentials in `verifier` were read from
    /// it, so a change racing with start-up is still noticed.
    pub(crate) fn new(
        scope: &'static str,
        path: PathBuf,
        stamp: Option<u64>,
        verifier: Arc<Verifier>,
    ) -> Self {
        Self {
            scope,
            path,
            verifier,
            stamp: Mutex::new(stamp),
        }
    }

    /// Loads the file into the verifier; on failure the old credentials stay. Returns whether
    /// new ones were loaded.
    fn reload(&self) -> bool {
        // Stamp first, also on failure: a broken file is reported once, not every poll.
        *self.stamp.lock().unwrap_or_else(PoisonError::into_inner) = stamp(&self.path);
        match Credentials::from_file(&self.path) {
            Ok(credentials) => {
                self.verifier.replace(credentials);
                log::info!(
                    "[{}] credentials loaded ({} users)",
                    self.scope,
                    self.verifier.user_count()
                );
                true
            }
            Err(err) => {
                log::error!(
                    "[{}] credentials reload failed, keeping the old ones: {err}",
                    self.scope
                );
                false
            }
        }
    }

    /// Whether the file's contents differ from the last ones loaded (or tried); the new stamp
    /// is taken as seen.
    fn changed(&self) -> bool {
        let now = stamp(&self.path);
        let mut last = self.stamp.lock().unwrap_or_else(PoisonError::into_inner);
        if now == *last {
            return false;
        }
        *last = now;
        true
    }
}

#[derive(Debug)]
pub(crate) struct Reloader {
    services: Arc<Services>,
    smtp_auth: Option<WatchedCredentials>,
    ui_auth: Option<WatchedCredentials>,
}

impl Reloader {
    pub(crate) fn new(
        services: Arc<Services>,
        smtp_auth: Option<WatchedCredentials>,
        ui_auth: Option<WatchedCredentials>,
    ) -> Self {
        Self {
            services,
            smtp_auth,
            ui_auth,
        }
    }

    /// SIGHUP: everything, whether it changed or not.
    pub(crate) fn reload_all(&self) {
        self.reload_tls();
        self.reload_smtp_auth();
        if let Some(ui) = &self.ui_auth {
            ui.reload();
        }
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

    /// The SMTP credentials, and with them whether CRAM-MD5 is offered (it needs a user stored
    /// in plain text).
    fn reload_smtp_auth(&self) {
        let Some(smtp) = &self.smtp_auth else {
            return;
        };
        if !smtp.reload() {
            return;
        }
        let cram = smtp.verifier.has_plain_users();
        self.services.update_session_config(|config| {
            if let AuthPolicy::Enabled { cram_md5, .. } = &mut config.auth {
                *cram_md5 = cram;
            }
        });
    }

    /// Whether there are files to watch: a credentials file, or a certificate and key read from
    /// files (a self-signed certificate has none). Without any, no watcher thread is needed.
    pub(crate) fn has_files(&self) -> bool {
        let tls_files = self
            .services
            .tls
            .as_ref()
            .is_some_and(|tls| matches!(tls.source(), smtp_tls::TlsSource::Files { .. }));
        self.smtp_auth.is_some() || self.ui_auth.is_some() || tls_files
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
            if self.smtp_auth.as_ref().is_some_and(|f| f.changed()) {
                log::info!("[smtpd] credentials file changed on disk");
                self.reload_smtp_auth();
            }
            if let Some(ui) = self.ui_auth.as_ref().filter(|f| f.changed()) {
                log::info!("[http] credentials file changed on disk");
                ui.reload();
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

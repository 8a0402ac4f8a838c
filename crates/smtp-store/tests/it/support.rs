//! Helpers: temporary directories, envelopes, starting a store, listing Maildir files.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use smtp_store::{Envelope, MessageId, Store, StoreConfig, StoreHandle};

/// A directory under the system temp dir, removed on drop.
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("smtp-store-it-{tag}-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

pub fn envelope(rcpt: &[&str]) -> Envelope {
    Envelope {
        remote_addr: "192.0.2.7:40000".parse().unwrap(),
        helo: "client.test".to_owned(),
        esmtp: true,
        tls: false,
        auth_user: None,
        mail_from: "sender@client.test".to_owned(),
        rcpt_to: rcpt.iter().map(|r| (*r).to_owned()).collect(),
        smtputf8: false,
    }
}

pub fn maildir_config(dir: &Path) -> StoreConfig {
    StoreConfig {
        maildir: Some(dir.to_path_buf()),
        max_messages: 0,
        hostname: "mx.test".to_owned(),
        ..StoreConfig::default()
    }
}

pub fn start(config: StoreConfig) -> Store {
    Store::start(config).unwrap()
}

pub fn deliver(handle: &StoreHandle, subject: &str) -> MessageId {
    let data = format!("To: r@x.test\r\nSubject: {subject}\r\n\r\nbody of {subject}\r\n");
    handle
        .deliver(envelope(&["r@x.test"]), data.into_bytes())
        .unwrap()
}

/// The file names in `dir/sub`, sorted.
pub fn files(dir: &Path, sub: &str) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir.join(sub))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Polls `done` every 50 ms until it is true or `limit` has passed; returns whether it became
/// true.
pub fn eventually(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + limit;
    while std::time::Instant::now() < deadline {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    done()
}

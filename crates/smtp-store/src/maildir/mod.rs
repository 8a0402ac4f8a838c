//! The durable store's files: a standard Maildir that `mutt -f DIR`, Dovecot or notmuch can
//! read alongside the server.
//!
//! # Writing (on the storage thread, with group commit)
//!
//! The storage thread hands [`Maildir::write_batch`] every delivery that was queued together.
//! For the whole batch it
//!
//! 1. creates each file in `tmp/` (`O_EXCL`) and writes it,
//! 2. makes their data durable: one `syncfs(2)` for the group, an `fdatasync` for a lone file,
//! 3. renames each into `new/`,
//! 4. `fsync`s `new/` once,
//!
//! and only then are the deliveries acknowledged (and `250` sent). A message whose step fails
//! has its file removed (from `tmp/`, or from `new/` if the directory sync failed), so a failure
//! leaves no partial file and no message that the client will send again. Out of space is
//! [`StoreError::Full`](crate::StoreError::Full); the next batch simply tries again, so the store
//! recovers as soon as there is room.
//!
//! # Read state, deletion, start-up
//!
//! Read is the standard `S` flag: marking read renames the file into `cur/` as `NAME:2,S`,
//! marking unread renames it to `NAME:2,` (other flags are kept). Deleting unlinks. Each request
//! `fsync`s the directories it changed once. At start the index is rebuilt from `new/` and `cur/`
//! (see [`scan`]); file names are described in [`name`].

pub(crate) mod name;
mod scan;

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::id::MessageId;
use crate::message::{FileLocation, StoredMessage};
use name::Name;

/// A `tmp/` file older than this was abandoned by its writer (the Maildir specification's 36
/// hours) and is removed at start.
const STALE_TMP: Duration = Duration::from_secs(36 * 60 * 60);

/// One Maildir directory and the names of its three subdirectories.
#[derive(Debug)]
pub(crate) struct Maildir {
    tmp: PathBuf,
    new: PathBuf,
    cur: PathBuf,
    /// The host part of new file names (already made safe).
    host: String,
}

/// Which of the directories a request changed, so each is synced once.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Touched {
    pub new: bool,
    pub cur: bool,
}

impl Maildir {
    /// Opens the Maildir at `root`, creating it and its `tmp/`, `new/` and `cur/` as needed
    /// (mode 0700: mail is private), and removes what a crash left in `tmp/`.
    pub(crate) fn open(root: &Path, host: &str) -> io::Result<Self> {
        let maildir = Self {
            tmp: root.join("tmp"),
            new: root.join("new"),
            cur: root.join("cur"),
            host: name::sanitize_host(host),
        };
        for dir in [&maildir.tmp, &maildir.new, &maildir.cur] {
            create_private_dir(dir)?;
        }
        maildir.clean_tmp();
        Ok(maildir)
    }

    /// Every message in `new/` and `cur/`, parsed in parallel.
    pub(crate) fn load(&self) -> io::Result<Vec<StoredMessage>> {
        scan::load(&self.new, &self.cur)
    }

    /// Writes a group of messages durably into `new/` (see the module doc). Returns, for each
    /// message in order, its file's path or why it is not stored.
    pub(crate) fn write_batch(&self, batch: &[(MessageId, &[u8])]) -> Vec<io::Result<PathBuf>> {
        // Every write first, then every sync: the file system can flush the group together.
        let written: Vec<io::Result<Staged>> = batch
            .iter()
            .map(|&(id, bytes)| self.write_tmp(id, bytes))
            .collect();
        let synced: Vec<io::Result<Staged>> = if sync_all_at_once(&written) {
            written
        } else {
            written
                .into_iter()
                .map(|staged| staged.and_then(Staged::sync))
                .collect()
        };
        let mut results: Vec<io::Result<PathBuf>> = synced
            .into_iter()
            .map(|staged| staged.and_then(Staged::publish))
            .collect();
        if results.iter().any(Result::is_ok) {
            if let Err(err) = sync_dir(&self.new) {
                // Whether the names survive a crash is unknown: take them back and report the
                // failure, rather than acknowledge what may be lost.
                for result in &mut results {
                    if let Ok(path) = result {
                        remove_quietly(path);
                        *result = Err(copy_error(&err));
                    }
                }
            }
        }
        results
    }

    /// Sets or clears the seen flag of the message at `location`, moving it into `cur/`.
    pub(crate) fn set_seen(&self, location: &FileLocation, seen: bool) -> io::Result<Touched> {
        let from = location.path();
        let file_name = from
            .file_name()
            .and_then(|name| name.to_str())
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "not a Maildir file name"))?;
        let to = self.cur.join(Name::parse(file_name).with_seen(seen));
        fs::rename(&from, &to)?;
        location.set_path(to);
        Ok(Touched {
            new: from.parent() == Some(self.new.as_path()),
            cur: true,
        })
    }

    /// Unlinks the message at `location`; a file that is already gone counts as removed.
    pub(crate) fn remove(&self, location: &FileLocation) -> io::Result<Touched> {
        let path = location.path();
        match fs::remove_file(&path) {
            Err(err) if err.kind() != io::ErrorKind::NotFound => Err(err),
            _ => Ok(Touched {
                new: path.parent() == Some(self.new.as_path()),
                cur: path.parent() == Some(self.cur.as_path()),
            }),
        }
    }

    /// Syncs the directories a request changed, so renames and unlinks survive a crash. A
    /// failure is logged: the change is made, only its durability is in doubt.
    pub(crate) fn sync(&self, touched: Touched) {
        for (changed, dir) in [(touched.new, &self.new), (touched.cur, &self.cur)] {
            if changed {
                if let Err(err) = sync_dir(dir) {
                    log::warn!("[db] cannot sync {}: {err}", dir.display());
                }
            }
        }
    }

    /// Creates and fills a file in `tmp/`.
    fn write_tmp(&self, id: MessageId, bytes: &[u8]) -> io::Result<Staged> {
        let file_name = name::file_name(id, &self.host);
        let tmp = self.tmp.join(&file_name);
        let file = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        let mut staged = Staged {
            file,
            tmp,
            new: self.new.join(file_name),
        };
        match staged.file.write_all(bytes) {
            Ok(()) => Ok(staged),
            Err(err) => Err(staged.abandon(err)),
        }
    }

    /// Removes this store's files left in `tmp/` by a crash (never acknowledged, so never
    /// promised to anyone) and other tools' files older than [`STALE_TMP`].
    fn clean_tmp(&self) {
        let Ok(entries) = fs::read_dir(&self.tmp) else {
            return;
        };
        let now = SystemTime::now();
        for entry in entries.flatten() {
            let file_name = entry.file_name();
            let ours = file_name
                .to_str()
                .is_some_and(|name| Name::parse(name).id().is_some());
            let stale = entry
                .metadata()
                .and_then(|meta| meta.modified())
                .is_ok_and(|modified| now.duration_since(modified).unwrap_or_default() > STALE_TMP);
            if ours || stale {
                remove_quietly(&entry.path());
            }
        }
    }
}

/// A message written in `tmp/`, not yet in `new/`.
struct Staged {
    file: File,
    tmp: PathBuf,
    new: PathBuf,
}

impl Staged {
    fn sync(self) -> io::Result<Self> {
        match self.file.sync_data() {
            Ok(()) => Ok(self),
            Err(err) => Err(self.abandon(err)),
        }
    }

    fn publish(self) -> io::Result<PathBuf> {
        match fs::rename(&self.tmp, &self.new) {
            Ok(()) => Ok(self.new),
            Err(err) => Err(self.abandon(err)),
        }
    }

    /// Removes the file and passes `err` on.
    fn abandon(self, err: io::Error) -> io::Error {
        drop(self.file);
        remove_quietly(&self.tmp);
        err
    }
}

fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Makes a directory's entries durable (an `fsync` of the directory itself).
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Removes a file whose content is being abandoned; if even that fails there is nothing more
/// to do than say so.
fn remove_quietly(path: &Path) {
    if let Err(err) = fs::remove_file(path) {
        if err.kind() != io::ErrorKind::NotFound {
            log::warn!("[db] cannot remove {}: {err}", path.display());
        }
    }
}

/// The same error again, for each message it failed (`io::Error` is not `Clone`).
fn copy_error(err: &io::Error) -> io::Error {
    io::Error::new(err.kind(), err.to_string())
}

/// Group commit: with several files written, one `syncfs(2)` flushes them all in one journal
/// commit, where an `fdatasync` per file pays a commit each (measured on this machine: 10 files,
/// 38.8 ms one by one against 3.8 ms at once). Returns false when the files must be synced one
/// by one instead: a single file, another OS, or a `syncfs` error (then each file's own sync
/// says which one failed).
fn sync_all_at_once(written: &[io::Result<Staged>]) -> bool {
    let mut ok = written.iter().filter_map(|staged| staged.as_ref().ok());
    let Some(first) = ok.next() else { return true };
    if ok.next().is_none() {
        return false;
    }
    syncfs(&first.file)
}

#[cfg(target_os = "linux")]
fn syncfs(file: &File) -> bool {
    rustix::fs::syncfs(file).is_ok()
}

#[cfg(not(target_os = "linux"))]
fn syncfs(_file: &File) -> bool {
    false
}

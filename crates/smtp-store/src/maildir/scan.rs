//! Rebuilding the index at start: every file in `new/` and `cur/`, parsed in parallel.
//!
//! Each file is read once, parsed once (for its summary and its envelope, see
//! [`summary::analyze`]) and dropped: the index keeps the summary, the path, the size and the
//! read flag, never the bytes. Files are shared out to [`THREADS`] threads that claim them in
//! chunks, in inode order.
//! Dot files and anything that is not a regular file are skipped, as the Maildir specification
//! asks; a file that cannot be read is logged and skipped.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::name::{self, Name};
use crate::message::{FileLocation, StoredMessage};
use crate::summary;

/// Start-up threads. After a reboot the files are not in the page cache and the start waits
/// on the disk, not on the CPU: the more reads in flight, the better a disk orders and overlaps
/// them (100,000 files, page cache dropped, on this project's 2-core test machine: 2.4 s with
/// 8 threads, 1.8 s with 32, no better with 64). With the files cached the threads just take
/// turns on the cores (0.6-0.7 s either way).
const THREADS: usize = 32;
/// Files a thread claims at a time.
const CHUNK: usize = 64;
/// The start-up threads' name.
const THREAD_NAME: &str = "mailsink-scan";

/// One file found in `new/` or `cur/`.
struct Found {
    path: PathBuf,
    file_name: String,
    /// The inode number: reading in inode order keeps a cold disk's reads close together.
    inode: u64,
}

/// Every message in the two directories, in no particular order.
pub(super) fn load(new: &Path, cur: &Path) -> io::Result<Vec<StoredMessage>> {
    let mut found = list(new)?;
    found.extend(list(cur)?);
    found.sort_unstable_by_key(|f| f.inode);
    let threads = THREADS.min(found.len().div_ceil(CHUNK).max(1));
    let next = AtomicUsize::new(0);
    thread::scope(|scope| {
        let workers = (0..threads)
            .map(|_| {
                thread::Builder::new()
                    .name(THREAD_NAME.to_owned())
                    .spawn_scoped(scope, || load_claimed(&found, &next))
            })
            .collect::<io::Result<Vec<_>>>()?;
        let mut messages = Vec::with_capacity(found.len());
        for worker in workers {
            let loaded = worker
                .join()
                .map_err(|_| io::Error::other("a Maildir start-up thread panicked"))?;
            messages.extend(loaded);
        }
        Ok(messages)
    })
}

/// Loads chunks of `found` until none is left.
fn load_claimed(found: &[Found], next: &AtomicUsize) -> Vec<StoredMessage> {
    let mut loaded = Vec::new();
    loop {
        let start = next.fetch_add(CHUNK, Ordering::Relaxed);
        let Some(chunk) = found.get(start..found.len().min(start + CHUNK)) else {
            return loaded;
        };
        if chunk.is_empty() {
            return loaded;
        }
        loaded.extend(chunk.iter().filter_map(load_one));
    }
}

/// The regular, non-dot files in `dir`.
fn list(dir: &Path) -> io::Result<Vec<Found>> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let file_name = entry.file_name().to_string_lossy().into_owned();
        if file_name.starts_with('.') || !entry.file_type().is_ok_and(|t| t.is_file()) {
            continue;
        }
        found.push(Found {
            path: entry.path(),
            file_name,
            inode: inode(&entry),
        });
    }
    Ok(found)
}

fn load_one(found: &Found) -> Option<StoredMessage> {
    let bytes = match fs::read(&found.path) {
        Ok(bytes) => bytes,
        Err(err) => {
            log::warn!("[db] skipping {}: {err}", found.path.display());
            return None;
        }
    };
    let name = Name::parse(&found.file_name);
    let id = match name.id() {
        Some(id) => id,
        None => name::foreign_id(name.unique, modified(&found.path)),
    };
    let (summary, envelope) = summary::analyze(&bytes);
    Some(StoredMessage::on_disk(
        id,
        UNIX_EPOCH + Duration::from_millis(id.timestamp_ms()),
        envelope,
        summary,
        bytes.len(),
        FileLocation::new(found.path.clone()),
        name.is_seen(),
    ))
}

#[cfg(unix)]
fn inode(entry: &fs::DirEntry) -> u64 {
    std::os::unix::fs::DirEntryExt::ino(entry)
}

#[cfg(not(unix))]
fn inode(_: &fs::DirEntry) -> u64 {
    0
}

/// The file's modification time (the Unix epoch if it has none).
fn modified(path: &Path) -> SystemTime {
    fs::metadata(path)
        .and_then(|meta| meta.modified())
        .unwrap_or(UNIX_EPOCH)
}

//! The Maildir store on real directories: files and flags on disk, restarts, other tools'
//! files, group commit, write errors and a full disk, pruning.

use std::collections::HashSet;
use std::fs;
use std::path::Path;
use std::process::Command;
use std::thread;
use std::time::{Duration, SystemTime};

use smtp_store::{Counts, MessageId, StoreConfig, StoreError};

use crate::support::{deliver, envelope, eventually, files, maildir_config, start, TempDir};

#[test]
fn delivered_messages_are_files_in_new() {
    let dir = TempDir::new("new");
    let store = start(maildir_config(dir.path()));
    let handle = store.handle();
    let id = deliver(&handle, "first");
    let names = files(dir.path(), "new");
    assert_eq!(names.len(), 1);
    let name = &names[0];
    // SECONDS.ID.HOST, the ID being the one the SMTP reply gives.
    let seconds = id.timestamp_ms() / 1000;
    assert_eq!(name, &format!("{seconds}.{id}.mx.test"));
    assert!(files(dir.path(), "tmp").is_empty());
    assert!(files(dir.path(), "cur").is_empty());
    let on_disk = fs::read(dir.path().join("new").join(name)).unwrap();
    let message = handle.get(id).unwrap().unwrap();
    assert_eq!(message.raw(), on_disk);
    assert_eq!(message.size(), on_disk.len());
    assert_eq!(*handle.raw(id).unwrap().unwrap(), on_disk);
    assert_eq!(message.summary().subject, "first");
    // What search reads of the body is kept in memory, not read from the file.
    fs::remove_file(dir.path().join("new").join(name)).unwrap();
    let fresh = handle.get(id).unwrap().unwrap();
    assert_eq!(fresh.body_text().collect::<String>(), "body of first\r\n");
    assert!(fresh.raw().is_empty(), "the file is gone");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(dir.path().join("new"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700);
    }
}

#[test]
fn read_state_is_the_seen_flag_in_cur() {
    let dir = TempDir::new("flags");
    let store = start(maildir_config(dir.path()));
    let handle = store.handle();
    let id = deliver(&handle, "flagged");
    let unique = files(dir.path(), "new").remove(0);
    let snapshot = handle.get(id).unwrap().unwrap();

    assert_eq!(handle.set_read(&[id], true).unwrap(), 1);
    assert!(files(dir.path(), "new").is_empty());
    assert_eq!(files(dir.path(), "cur"), [format!("{unique}:2,S")]);
    // A copy taken before the file moved still reads it.
    assert!(snapshot.raw().ends_with(b"body of flagged\r\n"));

    assert_eq!(handle.set_read(&[id], false).unwrap(), 1);
    assert_eq!(files(dir.path(), "cur"), [format!("{unique}:2,")]);
    assert_eq!(handle.set_all_read(true).unwrap(), 1);
    assert_eq!(files(dir.path(), "cur"), [format!("{unique}:2,S")]);
}

#[test]
fn restart_keeps_every_message_and_its_read_state() {
    let dir = TempDir::new("restart");
    let (sent, before) = {
        let store = start(maildir_config(dir.path()));
        let handle = store.handle();
        let sent: Vec<MessageId> = (0..6).map(|i| deliver(&handle, &format!("m{i}"))).collect();
        handle.set_read(&[sent[1], sent[4]], true).unwrap();
        handle.set_read(&[sent[4]], false).unwrap();
        handle.set_read(&[sent[5]], true).unwrap();
        handle.delete(&[sent[2]]).unwrap();
        let before = handle.list(0, 100).unwrap();
        store.shutdown().unwrap();
        (sent, before)
    };
    let store = start(maildir_config(dir.path()));
    let handle = store.handle();
    let after = handle.list(0, 100).unwrap();
    assert_eq!(
        after.counts,
        Counts {
            total: 5,
            unread: 3
        }
    );
    assert_eq!(after.counts, before.counts);
    assert_eq!(after.messages.len(), before.messages.len());
    for (old, new) in before.messages.iter().zip(&after.messages) {
        assert_eq!(new.id(), old.id(), "same IDs, same order");
        assert_eq!(new.is_read(), old.is_read(), "{}", new.id());
        assert_eq!(new.raw(), old.raw());
        assert_eq!(new.size(), old.size());
        assert_eq!(new.summary(), old.summary());
        assert_eq!(new.received(), old.received() - subsec_ms(old.received()));
        // The envelope comes back from the headers, all but the port and the AUTH name.
        let env = new.envelope();
        assert_eq!(env.mail_from, "sender@client.test");
        assert_eq!(env.rcpt_to, ["r@x.test"]);
        assert_eq!(env.helo, "client.test");
        assert_eq!(env.remote_addr.ip().to_string(), "192.0.2.7");
        assert!(env.esmtp && !env.tls && env.auth_user.is_none());
    }
    assert!(handle.get(sent[2]).unwrap().is_none());
    assert!(handle.get(sent[1]).unwrap().unwrap().is_read());
    assert!(!handle.get(sent[4]).unwrap().unwrap().is_read());
    // New deliveries after a restart sort after the old ones.
    let later = deliver(&handle, "after restart");
    assert_eq!(handle.latest().unwrap().unwrap().id(), later);
}

/// Received times in memory have sub-millisecond precision; the ID (and so a restart) keeps
/// milliseconds.
fn subsec_ms(time: SystemTime) -> Duration {
    let since = time.duration_since(SystemTime::UNIX_EPOCH).unwrap();
    Duration::from_nanos(u64::from(since.subsec_nanos() % 1_000_000))
}

#[test]
fn a_maildir_written_by_another_tool_is_read() {
    let dir = TempDir::new("foreign");
    for sub in ["tmp", "new", "cur"] {
        fs::create_dir(dir.path().join(sub)).unwrap();
    }
    let message = |subject: &str| {
        format!("From: Other Tool <tool@example.org>\nTo: you@example.org\nSubject: {subject}\n\nhello\n")
    };
    let now = SystemTime::now();
    let write = |rel: &str, subject: &str, age_s: u64| {
        let path = dir.path().join(rel);
        fs::write(&path, message(subject)).unwrap();
        let file = fs::File::options().write(true).open(&path).unwrap();
        file.set_modified(now - Duration::from_secs(age_s)).unwrap();
    };
    write("new/1700000000.M1P2Q3.otherhost", "unseen, oldest", 300);
    write("cur/1700000001.M4P5Q6.otherhost:2,S", "seen", 200);
    write(
        "cur/1700000002.M7P8Q9.otherhost:2,FS",
        "flagged and seen",
        100,
    );
    write("cur/1700000003.M1P1Q1.otherhost:2,", "in cur, unseen", 50);
    fs::write(dir.path().join("cur/.hidden"), message("dot file")).unwrap();
    fs::create_dir(dir.path().join("cur/subdir")).unwrap();

    let ids = |dir: &Path| {
        let store = start(maildir_config(dir));
        let page = store.handle().list(0, 10).unwrap();
        page.messages
            .iter()
            .map(|m| (m.id(), m.summary().subject.clone(), m.is_read()))
            .collect::<Vec<_>>()
    };
    let first = ids(dir.path());
    let subjects: Vec<(&str, bool)> = first.iter().map(|(_, s, r)| (s.as_str(), *r)).collect();
    // Newest first, by modification time.
    assert_eq!(
        subjects,
        [
            ("in cur, unseen", false),
            ("flagged and seen", true),
            ("seen", true),
            ("unseen, oldest", false),
        ]
    );
    // The IDs come from the files, so they are the same at every start.
    assert_eq!(ids(dir.path()), first);
    let oldest = first[3].0;
    let age = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_millis()
        - 300_000;
    assert!(u128::from(oldest.timestamp_ms()).abs_diff(age) < 2_000);

    // Changing flags keeps the unique name and the other flags.
    let store = start(maildir_config(dir.path()));
    let handle = store.handle();
    let flagged = first[1].0;
    assert_eq!(handle.set_read(&[flagged, oldest], false).unwrap(), 1);
    assert_eq!(handle.set_read(&[oldest], true).unwrap(), 1);
    assert_eq!(
        files(dir.path(), "cur"),
        [
            ".hidden",
            "1700000000.M1P2Q3.otherhost:2,S",
            "1700000001.M4P5Q6.otherhost:2,S",
            "1700000002.M7P8Q9.otherhost:2,F",
            "1700000003.M1P1Q1.otherhost:2,",
            "subdir",
        ]
    );
    assert!(files(dir.path(), "new").is_empty());
    assert_eq!(
        handle.raw(oldest).unwrap().unwrap().as_ref(),
        message("unseen, oldest").as_bytes()
    );
    let env = handle.get(oldest).unwrap().unwrap().envelope().clone();
    assert_eq!(env.mail_from, "tool@example.org", "from the From: field");
    assert_eq!(env.rcpt_to, ["you@example.org"]);
}

#[test]
fn group_commit_acknowledges_every_concurrent_delivery_on_disk() {
    let dir = TempDir::new("group");
    let store = start(maildir_config(dir.path()));
    let acknowledged: Vec<MessageId> = thread::scope(|s| {
        let workers: Vec<_> = (0..16)
            .map(|t| {
                let handle = store.handle();
                s.spawn(move || {
                    (0..25)
                        .map(|i| deliver(&handle, &format!("{t}-{i}")))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    assert_eq!(acknowledged.len(), 400);
    // Every acknowledged message is a complete file in new/, named by its ID.
    let on_disk: HashSet<String> = files(dir.path(), "new").into_iter().collect();
    assert_eq!(on_disk.len(), 400);
    for id in &acknowledged {
        let name = format!("{}.{id}.mx.test", id.timestamp_ms() / 1000);
        assert!(on_disk.contains(&name), "{name} missing");
    }
    assert!(files(dir.path(), "tmp").is_empty());
    store.shutdown().unwrap();
    let store = start(maildir_config(dir.path()));
    assert_eq!(store.handle().count().unwrap().total, 400);
}

#[test]
fn a_write_error_answers_io_and_leaves_no_file() {
    let dir = TempDir::new("ioerr");
    let store = start(maildir_config(dir.path()));
    let handle = store.handle();
    // Root ignores permissions, so break the Maildir instead: tmp/ becomes a plain file.
    let tmp = dir.path().join("tmp");
    fs::remove_dir(&tmp).unwrap();
    fs::write(&tmp, b"not a directory").unwrap();
    let err = handle
        .deliver(
            envelope(&["r@x.test"]),
            b"Subject: lost\r\n\r\nx\r\n".to_vec(),
        )
        .unwrap_err();
    assert!(matches!(err, StoreError::Io(_)), "{err:?}");
    assert!(err.is_insufficient_storage(), "answered 452 4.3.1");
    assert!(files(dir.path(), "new").is_empty());
    assert_eq!(handle.count().unwrap().total, 0, "not in the index either");
    // Repaired, the same store takes mail again.
    fs::remove_file(&tmp).unwrap();
    fs::create_dir(&tmp).unwrap();
    let id = deliver(&handle, "recovered");
    assert_eq!(handle.count().unwrap().total, 1);
    assert_eq!(handle.latest().unwrap().unwrap().id(), id);
}

/// A 64 KiB tmpfs mounted over a directory, unmounted on drop.
struct Tmpfs<'a>(&'a Path);

impl<'a> Tmpfs<'a> {
    /// `None` when this process may not mount (not root); a root that cannot mount fails.
    fn mount(dir: &'a Path) -> Option<Self> {
        let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
        let root = status
            .lines()
            .find(|l| l.starts_with("Uid:"))
            .is_some_and(|l| l.split_whitespace().nth(2) == Some("0"));
        if !root {
            return None;
        }
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs"])
            .arg(dir)
            .status()
            .unwrap();
        assert!(mounted.success(), "root could not mount a tmpfs");
        Some(Self(dir))
    }
}

impl Drop for Tmpfs<'_> {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.0).status();
    }
}

#[test]
fn a_full_disk_answers_full_leaves_no_partial_file_and_recovers() {
    let dir = TempDir::new("full");
    let Some(_tmpfs) = Tmpfs::mount(dir.path()) else {
        eprintln!("skipped: mounting a tmpfs needs root");
        return;
    };
    let store = start(maildir_config(dir.path()));
    let handle = store.handle();
    let body = "x".repeat(76);
    let big = |n: usize| {
        let lines = format!("{body}\r\n").repeat(n);
        format!("Subject: big\r\n\r\n{lines}").into_bytes()
    };
    let mut stored = 0;
    let err = loop {
        match handle.deliver(envelope(&["r@x.test"]), big(250)) {
            Ok(_) => stored += 1,
            Err(err) => break err,
        }
        assert!(
            stored < 10,
            "a 64 KiB tmpfs took {stored} messages of 19 KiB"
        );
    };
    assert!(matches!(err, StoreError::Full), "{err:?}");
    assert!(err.is_insufficient_storage());
    assert!(stored >= 1);
    assert!(files(dir.path(), "tmp").is_empty(), "no partial file left");
    let complete = files(dir.path(), "new");
    assert_eq!(complete.len(), stored);
    for name in &complete {
        let size = fs::metadata(dir.path().join("new").join(name))
            .unwrap()
            .len();
        assert!(size > 19_000, "{name} is complete");
    }
    assert_eq!(handle.count().unwrap().total, stored);
    // Space comes back: the store takes mail again.
    assert_eq!(handle.delete_all().unwrap(), stored);
    assert!(files(dir.path(), "new").is_empty());
    handle.deliver(envelope(&["r@x.test"]), big(250)).unwrap();
    assert_eq!(files(dir.path(), "new").len(), 1);
    store.shutdown().unwrap();
}

#[test]
fn max_prunes_the_oldest_files() {
    let dir = TempDir::new("max");
    let config = StoreConfig {
        max_messages: 3,
        ..maildir_config(dir.path())
    };
    let store = start(config.clone());
    let handle = store.handle();
    let sent: Vec<MessageId> = (0..5).map(|i| deliver(&handle, &i.to_string())).collect();
    handle.set_read(&[sent[4]], true).unwrap();
    let kept: Vec<MessageId> = handle
        .list(0, 10)
        .unwrap()
        .messages
        .iter()
        .map(|m| m.id())
        .collect();
    assert_eq!(kept, [sent[4], sent[3], sent[2]]);
    assert_eq!(
        files(dir.path(), "new").len() + files(dir.path(), "cur").len(),
        3
    );
    assert!(files(dir.path(), "new")
        .iter()
        .all(|n| !n.contains(sent[0].as_str())));
    store.shutdown().unwrap();
    // A lower limit at start prunes there too.
    let store = start(StoreConfig {
        max_messages: 1,
        ..config
    });
    assert_eq!(store.handle().latest().unwrap().unwrap().id(), sent[4]);
    assert!(files(dir.path(), "new").is_empty());
    assert_eq!(files(dir.path(), "cur").len(), 1);
}

#[test]
fn max_age_prunes_old_files_at_start_and_periodically() {
    let dir = TempDir::new("age");
    {
        let store = start(maildir_config(dir.path()));
        deliver(&store.handle(), "young");
    }
    // A file from another tool, two hours old.
    let old = dir.path().join("cur/1600000000.M1P1.elsewhere:2,S");
    fs::write(&old, "Subject: old\n\nold\n").unwrap();
    fs::File::options()
        .write(true)
        .open(&old)
        .unwrap()
        .set_modified(SystemTime::now() - Duration::from_secs(7200))
        .unwrap();
    let store = start(StoreConfig {
        max_age: Some(Duration::from_secs(3600)),
        ..maildir_config(dir.path())
    });
    assert_eq!(store.handle().count().unwrap().total, 1, "pruned at start");
    assert!(!old.exists());
    store.shutdown().unwrap();

    // With a one-second limit the sweep removes the message, without any request.
    let store = start(StoreConfig {
        max_age: Some(Duration::from_secs(1)),
        ..maildir_config(dir.path())
    });
    let handle = store.handle();
    deliver(&handle, "short-lived");
    assert!(!files(dir.path(), "new").is_empty());
    assert!(eventually(Duration::from_secs(10), || files(
        dir.path(),
        "new"
    )
    .is_empty()));
    assert_eq!(handle.count().unwrap().total, 0);
}

#[test]
fn deleting_unlinks_and_a_deleted_message_reads_as_gone() {
    let dir = TempDir::new("delete");
    let store = start(maildir_config(dir.path()));
    let handle = store.handle();
    let a = deliver(&handle, "a");
    let b = deliver(&handle, "b");
    handle.set_read(&[b], true).unwrap();
    let snapshot = handle.get(a).unwrap().unwrap();
    assert_eq!(handle.delete(&[a]).unwrap(), 1);
    assert!(files(dir.path(), "new").is_empty());
    assert_eq!(handle.raw(a).unwrap(), None);
    let err = snapshot.read_raw().unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    assert!(snapshot.raw().is_empty());
    assert_eq!(handle.delete_all().unwrap(), 1);
    assert!(files(dir.path(), "cur").is_empty());
}

#[test]
fn an_unusable_maildir_fails_the_start() {
    let dir = TempDir::new("unusable");
    let file = dir.path().join("plain-file");
    fs::write(&file, b"x").unwrap();
    let err = smtp_store::Store::start(maildir_config(&file)).unwrap_err();
    assert!(err.to_string().contains("cannot open Maildir"), "{err}");
    assert!(err.to_string().contains("plain-file"), "{err}");
}

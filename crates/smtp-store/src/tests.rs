//! Unit tests: message IDs, the memory store behind its thread, shutdown, errors.

use std::collections::HashSet;
use std::io;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::{
    Counts, Envelope, IdGenerator, MessageId, Store, StoreConfig, StoreError, StoreHandle,
    StoredMessage, THREAD_NAME,
};

/// Numbers below a bound, drawn from a fixed seed (xorshift64), for generated test inputs that
/// are the same on every run, so a failure is reproducible.
pub(crate) fn draws(seed: u64) -> impl FnMut(usize) -> usize {
    let mut state = seed;
    move |bound| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        usize::try_from(state % bound as u64).unwrap_or(0)
    }
}

fn envelope(rcpt: &str) -> Envelope {
    Envelope {
        remote_addr: "127.0.0.1:5000".parse().unwrap(),
        helo: "client.test".to_owned(),
        esmtp: true,
        tls: false,
        auth_user: None,
        mail_from: "from@client.test".to_owned(),
        rcpt_to: vec![rcpt.to_owned()],
        smtputf8: false,
    }
}

fn start(max_messages: usize) -> Store {
    Store::start(StoreConfig {
        max_messages,
        ..StoreConfig::default()
    })
    .unwrap()
}

fn deliver(handle: &StoreHandle, body: &str) -> MessageId {
    let data = format!("To: r@x.test\r\nSubject: {body}\r\n\r\n{body}\r\n");
    handle
        .deliver(envelope("r@x.test"), data.into_bytes())
        .unwrap()
}

fn ids(messages: &[Arc<StoredMessage>]) -> Vec<MessageId> {
    messages.iter().map(|m| m.id()).collect()
}

// ---- message IDs ----

#[test]
fn ids_unique_and_ordered_across_threads() {
    let generator = Arc::new(IdGenerator::new());
    let per_thread: Vec<Vec<MessageId>> = thread::scope(|s| {
        let workers: Vec<_> = (0..4)
            .map(|_| {
                let generator = Arc::clone(&generator);
                s.spawn(move || (0..25_000).map(|_| generator.next()).collect::<Vec<_>>())
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let mut all = HashSet::new();
    for sequence in &per_thread {
        assert!(sequence.windows(2).all(|w| w[0] < w[1]), "not increasing");
        assert!(sequence.windows(2).all(|w| w[0].as_str() < w[1].as_str()));
        all.extend(sequence.iter().copied());
    }
    assert_eq!(all.len(), 100_000);
}

#[test]
fn ids_within_one_millisecond_and_when_the_clock_steps_back() {
    let generator = IdGenerator::with_seed(u128::MAX);
    let t = UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
    let first = generator.next_at(t);
    let second = generator.next_at(t);
    let earlier = generator.next_at(t - Duration::from_secs(60));
    assert!(first < second && second < earlier);
    assert_eq!(first.timestamp_ms(), 1_700_000_000_123);
    // The seed's random part was all ones: the second ID carried into the next millisecond.
    assert_eq!(second.timestamp_ms(), 1_700_000_000_124);
    let later = generator.next_at(t + Duration::from_secs(1));
    assert_eq!(later.timestamp_ms(), 1_700_000_001_123);
    assert!(earlier < later);
}

#[test]
fn id_text_form() {
    let generator = IdGenerator::with_seed(0);
    let id = generator.next_at(UNIX_EPOCH + Duration::from_millis(1_469_918_176_385));
    // The timestamp of the ULID specification's example.
    assert!(id.as_str().starts_with("01ARYZ6S41"), "{id}");
    assert_eq!(id.as_str().len(), 26);
    assert!(id.as_str().bytes().all(|b| b.is_ascii_alphanumeric()));
    assert_eq!(id.to_string().parse::<MessageId>(), Ok(id));
    assert_eq!(id.as_str().to_lowercase().parse::<MessageId>(), Ok(id));
    assert_eq!(AsRef::<str>::as_ref(&id), id.to_string());
    let max: MessageId = "7ZZZZZZZZZZZZZZZZZZZZZZZZZ".parse().unwrap();
    assert_eq!(max.timestamp_ms(), (1 << 48) - 1);
}

#[test]
fn invalid_id_text_rejected() {
    for bad in [
        "",
        "01ARYZ6S41",
        "01ARYZ6S41TSV4RRFFQ69G5FAVX",
        "01ARYZ6S41TSV4RRFFQ69G5FAU", // U is not in the alphabet
        "01ARYZ6S41TSV4RRFFQ69G5FA/",
        "81ARYZ6S41TSV4RRFFQ69G5FAV", // more than 128 bits
        "01ARYZ6S41TSV4RRFFQ69G5FAé",
    ] {
        assert!(bad.parse::<MessageId>().is_err(), "{bad:?}");
    }
}

#[test]
fn global_ids_carry_the_arrival_time() {
    let before = SystemTime::now();
    let id = MessageId::generate();
    let ms = before.duration_since(UNIX_EPOCH).unwrap().as_millis();
    assert!(u128::from(id.timestamp_ms()) >= ms);
    assert!(MessageId::generate() > id);
}

// ---- the store ----

#[test]
fn delivered_message_is_stored_as_composed() {
    let store = start(10);
    let handle = store.handle();
    let id = deliver(&handle, "hello");
    let message = handle.get(id).unwrap().unwrap();
    assert_eq!(message.id(), id);
    assert_eq!(message.envelope(), &envelope("r@x.test"));
    assert!(!message.is_read());
    assert_eq!(message.size(), message.raw().len());
    let raw = String::from_utf8(message.raw().to_vec()).unwrap();
    assert!(raw.starts_with("Return-Path: <from@client.test>\r\nReceived: from client.test"));
    assert!(raw.contains(&format!("by localhost (mailsink) with ESMTP id {id}\r\n")));
    assert!(raw.ends_with("Subject: hello\r\n\r\nhello\r\n"));
    let age = SystemTime::now()
        .duration_since(message.received())
        .unwrap();
    assert!(age < Duration::from_secs(60));
    assert!(handle.get(MessageId::generate()).unwrap().is_none());
}

#[test]
fn oldest_pruned_beyond_max() {
    let store = start(3);
    let handle = store.handle();
    let sent: Vec<MessageId> = (0..5).map(|i| deliver(&handle, &i.to_string())).collect();
    let page = handle.list(0, 10).unwrap();
    assert_eq!(ids(&page.messages), [sent[4], sent[3], sent[2]]);
    assert_eq!(
        page.counts,
        Counts {
            total: 3,
            unread: 3
        }
    );
    assert!(handle.get(sent[0]).unwrap().is_none());
}

#[test]
fn a_delivery_to_memory_is_seen_by_every_later_request() {
    let store = start(0);
    let handles: Vec<StoreHandle> = (0..4).map(|_| store.handle()).collect();
    for round in 0..200 {
        let id = deliver(&handles[round % 4], &round.to_string());
        // Another handle, as an HTTP worker would be, asking right after the delivery returned.
        let reader = &handles[(round + 1) % 4];
        assert_eq!(reader.latest().unwrap().unwrap().id(), id);
        assert_eq!(reader.count().unwrap().total, round + 1);
    }
}

#[test]
fn pruned_messages_are_freed() {
    let store = start(1);
    let handle = store.handle();
    let first = deliver(&handle, "first");
    let kept = handle.get(first).unwrap().unwrap();
    let weak = Arc::downgrade(&kept);
    drop(kept);
    deliver(&handle, "second");
    // A delivery to memory returns once queued; the next request is served after it.
    assert_eq!(handle.count().unwrap().total, 1);
    assert!(
        weak.upgrade().is_none(),
        "the store still holds a pruned message"
    );
}

#[test]
fn zero_means_no_limit() {
    let store = start(0);
    let handle = store.handle();
    for i in 0..600 {
        deliver(&handle, &i.to_string());
    }
    assert_eq!(
        handle.count().unwrap(),
        Counts {
            total: 600,
            unread: 600
        }
    );
}

#[test]
fn list_is_newest_first_and_pages() {
    let store = start(0);
    let handle = store.handle();
    let sent: Vec<MessageId> = (0..7).map(|i| deliver(&handle, &i.to_string())).collect();
    let newest_first: Vec<MessageId> = sent.iter().rev().copied().collect();
    assert_eq!(
        ids(&handle.list(0, 3).unwrap().messages),
        newest_first[0..3]
    );
    assert_eq!(
        ids(&handle.list(3, 3).unwrap().messages),
        newest_first[3..6]
    );
    assert_eq!(ids(&handle.list(6, 3).unwrap().messages), newest_first[6..]);
    assert!(handle.list(7, 3).unwrap().messages.is_empty());
    assert!(handle.list(0, 0).unwrap().messages.is_empty());
    assert_eq!(handle.list(99, 1).unwrap().counts.total, 7);
    assert_eq!(handle.latest().unwrap().unwrap().id(), sent[6]);
}

#[test]
fn pages_share_the_stored_messages_instead_of_copying_them() {
    let store = start(0);
    let handle = store.handle();
    let id = deliver(&handle, "shared");
    let first = handle.list(0, 10).unwrap().messages.remove(0);
    let again = handle.get(id).unwrap().unwrap();
    assert!(Arc::ptr_eq(&first, &again), "one message, handed out twice");
    handle.set_read(&[id], true).unwrap();
    let after = handle.get(id).unwrap().unwrap();
    assert!(after.is_read() && !first.is_read(), "copy on write");
    assert!(!Arc::ptr_eq(&first, &after));
}

#[test]
fn read_state_and_counts() {
    let store = start(0);
    let handle = store.handle();
    let sent: Vec<MessageId> = (0..4).map(|i| deliver(&handle, &i.to_string())).collect();
    let snapshot = handle.get(sent[0]).unwrap().unwrap();
    let unknown = MessageId::generate();
    assert_eq!(
        handle.set_read(&[sent[0], sent[1], unknown], true).unwrap(),
        2
    );
    assert_eq!(
        handle.set_read(&[sent[0]], true).unwrap(),
        0,
        "already read"
    );
    assert_eq!(
        handle.count().unwrap(),
        Counts {
            total: 4,
            unread: 2
        }
    );
    assert!(handle.get(sent[0]).unwrap().unwrap().is_read());
    assert!(!snapshot.is_read(), "a reader's snapshot does not change");
    assert_eq!(handle.set_read(&[sent[1]], false).unwrap(), 1);
    assert_eq!(handle.set_all_read(true).unwrap(), 3);
    assert_eq!(
        handle.count().unwrap(),
        Counts {
            total: 4,
            unread: 0
        }
    );
    assert_eq!(handle.set_all_read(false).unwrap(), 4);
    assert_eq!(handle.count().unwrap().unread, 4);
}

#[test]
fn delete_and_delete_all() {
    let store = start(0);
    let handle = store.handle();
    let sent: Vec<MessageId> = (0..5).map(|i| deliver(&handle, &i.to_string())).collect();
    handle.set_read(&[sent[1]], true).unwrap();
    assert_eq!(
        handle
            .delete(&[sent[1], sent[2], MessageId::generate()])
            .unwrap(),
        2
    );
    assert_eq!(
        handle.count().unwrap(),
        Counts {
            total: 3,
            unread: 3
        }
    );
    assert!(handle.get(sent[1]).unwrap().is_none());
    assert_eq!(
        ids(&handle.list(0, 10).unwrap().messages),
        [sent[4], sent[3], sent[0]]
    );
    assert_eq!(handle.delete_all().unwrap(), 3);
    assert_eq!(handle.count().unwrap(), Counts::default());
    assert!(handle.latest().unwrap().is_none());
    let after = deliver(&handle, "after");
    assert_eq!(handle.latest().unwrap().unwrap().id(), after);
}

#[test]
fn concurrent_deliveries_all_stored() {
    let store = start(0);
    let delivered: Vec<MessageId> = thread::scope(|s| {
        let workers: Vec<_> = (0..8)
            .map(|t| {
                let handle = store.handle();
                s.spawn(move || {
                    (0..50)
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
    let handle = store.handle();
    assert_eq!(handle.count().unwrap().total, 400);
    let stored: HashSet<MessageId> = ids(&handle.list(0, 1000).unwrap().messages)
        .into_iter()
        .collect();
    assert_eq!(stored, delivered.into_iter().collect());
}

#[test]
fn shutdown_joins_and_later_calls_fail_closed() {
    let store = start(0);
    let handle = store.handle();
    let id = deliver(&handle, "before");
    assert!(handle.get(id).unwrap().is_some());
    store.shutdown().unwrap();
    let err = handle
        .deliver(envelope("r@x.test"), b"late".to_vec())
        .unwrap_err();
    assert!(matches!(err, StoreError::Closed));
    assert!(!err.is_insufficient_storage());
    assert!(matches!(handle.count(), Err(StoreError::Closed)));
}

/// Deliveries racing the shutdown each end with a stored message or `Closed`: none hangs.
#[test]
fn shutdown_during_deliveries_answers_every_caller() {
    let store = start(0);
    let handles: Vec<StoreHandle> = (0..4).map(|_| store.handle()).collect();
    thread::scope(|s| {
        let workers: Vec<_> = handles
            .iter()
            .map(|handle| {
                s.spawn(move || loop {
                    match handle.deliver(envelope("r@x.test"), b"x".to_vec()) {
                        Ok(_) => {}
                        Err(StoreError::Closed) => break,
                        Err(other) => panic!("unexpected {other}"),
                    }
                })
            })
            .collect();
        // Let the workers get going (bounded, so a broken store fails instead of hanging),
        // then close under them.
        let deadline = Instant::now() + Duration::from_secs(30);
        while handles[0].count().unwrap().total < 100 {
            assert!(Instant::now() < deadline, "deliveries did not start");
            thread::yield_now();
        }
        store.shutdown().unwrap();
        for worker in workers {
            worker.join().unwrap();
        }
    });
}

#[test]
fn dropping_the_store_shuts_it_down() {
    let store = start(0);
    let handle = store.handle();
    drop(store);
    assert!(matches!(handle.latest(), Err(StoreError::Closed)));
}

#[cfg(target_os = "linux")]
#[test]
fn storage_thread_is_named() {
    let store = start(0);
    // A round trip proves the thread runs its loop, so it has named itself.
    store.handle().count().unwrap();
    let names: Vec<String> = std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|task| std::fs::read_to_string(task.unwrap().path().join("comm")).ok())
        .map(|name| name.trim_end().to_owned())
        .collect();
    assert!(names.iter().any(|n| n == THREAD_NAME), "{names:?}");
    drop(store);
}

// ---- errors and debug output ----

#[test]
fn storage_errors_are_transient() {
    let full = StoreError::from(io::Error::from(io::ErrorKind::StorageFull));
    assert!(matches!(full, StoreError::Full));
    assert!(full.is_insufficient_storage());
    let other = StoreError::from(io::Error::from(io::ErrorKind::PermissionDenied));
    assert!(matches!(other, StoreError::Io(_)));
    assert!(other.is_insufficient_storage());
    assert!(std::error::Error::source(&other).is_some());
}

#[test]
fn debug_output_leaves_the_body_out() {
    let store = start(0);
    let handle = store.handle();
    let id = handle
        .deliver(
            envelope("r@x.test"),
            b"Subject: s\r\n\r\nsecret body".to_vec(),
        )
        .unwrap();
    let message = handle.get(id).unwrap().unwrap();
    let debug = format!("{message:?}");
    assert!(!debug.contains("secret"), "{debug}");
    assert!(debug.contains(id.as_str()));
}

// ---- summaries, the age limit ----

#[test]
fn delivered_messages_carry_their_summary() {
    let store = start(0);
    let handle = store.handle();
    let data =
        b"From: \"A. Sender\" <a@x.test>\r\nTo: r@x.test\r\nSubject: =?UTF-8?Q?caf=C3=A9?=\r\n\
                 X-Tags: one, two\r\n\r\nHello   there\r\n";
    let id = handle.deliver(envelope("r@x.test"), data.to_vec()).unwrap();
    let message = handle.get(id).unwrap().unwrap();
    let summary = message.summary();
    assert_eq!(summary.subject, "café");
    assert_eq!(summary.from.as_ref().unwrap().name, "A. Sender");
    // The Return-Path and Message-ID the store added are in the summary.
    assert_eq!(summary.return_path, "from@client.test");
    assert_eq!(summary.message_id, format!("{id}@localhost"));
    assert_eq!(summary.snippet, "Hello there");
    assert_eq!(summary.tags, ["one", "two"]);
    assert!(!summary.parse_error);
}

#[test]
fn small_messages_are_built_by_the_storage_thread_and_large_ones_before() {
    let small = b"Subject: small\r\n\r\nA few words.\r\n".to_vec();
    let mut large = b"Subject: large\r\n\r\n".to_vec();
    while large.len() <= crate::store::BUILT_BY_STORE_UP_TO {
        large.extend_from_slice(b"A line of the body of a large message.\r\n");
    }
    // What goes into the queue: the small one as received, the large one composed and
    // summarized.
    let (requests, queue) = crossbeam_channel::unbounded();
    let detached = StoreHandle::detached(requests);
    for data in [&small, &large] {
        detached
            .deliver(envelope("r@x.test"), data.clone())
            .unwrap();
    }
    let queued: Vec<Option<String>> = queue
        .try_iter()
        .map(|request| match request {
            crate::actor::Request::Deliver { message, .. } => match message {
                crate::actor::Delivery::Ready(message) => Some(message.summary().subject.clone()),
                crate::actor::Delivery::Received { data, .. } => {
                    assert_eq!(data, small);
                    None
                }
            },
            other => panic!("not a delivery: {other:?}"),
        })
        .collect();
    assert_eq!(queued, [None, Some("large".to_owned())]);
    // What is stored, either way: the message behind the added headers, and the summary of
    // those bytes.
    let store = start(0);
    let handle = store.handle();
    for (data, subject) in [(small, "small"), (large, "large")] {
        let id = handle.deliver(envelope("r@x.test"), data.clone()).unwrap();
        let message = handle.get(id).unwrap().unwrap();
        let raw = message.raw();
        assert!(raw.starts_with(b"Return-Path: <from@client.test>\r\nReceived: from client.test"));
        assert!(raw.ends_with(&data));
        assert!(String::from_utf8_lossy(raw).contains(&format!("id {id}")));
        assert_eq!(message.summary().subject, subject);
        assert_eq!(message.summary(), &crate::summarize(raw));
    }
}

#[test]
fn memory_store_prunes_by_age() {
    let store = Store::start(StoreConfig {
        max_messages: 0,
        max_age: Some(Duration::from_millis(300)),
        ..StoreConfig::default()
    })
    .unwrap();
    let handle = store.handle();
    deliver(&handle, "old");
    assert_eq!(handle.count().unwrap().total, 1);
    let deadline = Instant::now() + Duration::from_secs(10);
    while handle.count().unwrap().total != 0 {
        assert!(Instant::now() < deadline, "not pruned");
        thread::sleep(Duration::from_millis(20));
    }
    let fresh = deliver(&handle, "fresh");
    assert_eq!(handle.latest().unwrap().unwrap().id(), fresh);
}

#[test]
fn memory_raw_reads_never_fail() {
    let store = start(0);
    let handle = store.handle();
    let id = deliver(&handle, "raw");
    let message = handle.get(id).unwrap().unwrap();
    assert_eq!(message.read_raw().unwrap().as_ref(), message.raw());
    assert_eq!(handle.raw(id).unwrap().unwrap(), message.raw_shared());
    assert_eq!(handle.raw(MessageId::generate()).unwrap(), None);
}

// ---- Maildir file names ----

#[test]
fn maildir_names_round_trip_the_id() {
    use crate::maildir::name::{file_name, sanitize_host, Name};
    let id = MessageId::generate();
    let name = file_name(id, &sanitize_host("mx/1:25"));
    assert_eq!(
        name,
        format!("{}.{id}.mx\\0571\\07225", id.timestamp_ms() / 1000)
    );
    let parsed = Name::parse(&name);
    assert_eq!(parsed.id(), Some(id));
    assert!(!parsed.is_seen());
    let seen = parsed.with_seen(true);
    assert_eq!(seen, format!("{name}:2,S"));
    assert_eq!(Name::parse(&seen).id(), Some(id));
    assert!(Name::parse(&seen).is_seen());
    assert_eq!(Name::parse(&seen).with_seen(false), format!("{name}:2,"));
    assert_eq!(sanitize_host(""), "localhost");
}

#[test]
fn maildir_flags_stay_sorted_and_unique() {
    use crate::maildir::name::Name;
    assert_eq!(Name::parse("u:2,TF").with_seen(true), "u:2,FST");
    assert_eq!(Name::parse("u:2,FSS").with_seen(true), "u:2,FS");
    assert_eq!(Name::parse("u:2,RS").with_seen(false), "u:2,R");
    assert_eq!(Name::parse("u").with_seen(false), "u:2,");
}

#[test]
fn other_tools_names_carry_no_id() {
    use crate::maildir::name::Name;
    let id = MessageId::generate();
    let seconds = id.timestamp_ms() / 1000;
    for foreign in [
        "1700000000.M1P2Q3.host".to_owned(),
        format!("{seconds}.{id}"),
        format!("{}.{id}.host", seconds + 1),
        format!("x{seconds}.{id}.host"),
        String::new(),
    ] {
        assert_eq!(Name::parse(&foreign).id(), None, "{foreign}");
    }
}

#[test]
fn foreign_ids_are_stable_and_time_ordered() {
    use crate::maildir::name::foreign_id;
    let t = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let a = foreign_id("1700000000.M1P2.host", t);
    assert_eq!(a, foreign_id("1700000000.M1P2.host", t));
    assert_eq!(a.timestamp_ms(), 1_700_000_000_000);
    assert_ne!(a, foreign_id("1700000000.M1P3.host", t));
    assert!(foreign_id("any", t + Duration::from_secs(1)) > a);
    assert_eq!(
        foreign_id("before", UNIX_EPOCH - Duration::from_secs(5)).timestamp_ms(),
        0
    );
}

/// Deliveries to memory do not wait for the storage thread, but only while it keeps up: with
/// 16 requests queued, the next delivery waits for its answer.
#[test]
fn unanswered_deliveries_stay_few_when_the_store_falls_behind() {
    let (requests, queue) = crossbeam_channel::bounded(256);
    let handle = StoreHandle::detached(requests);
    let (done, progress) = crossbeam_channel::unbounded();
    let sender = std::thread::spawn(move || {
        for i in 0..17 {
            deliver(&handle, &i.to_string());
            done.send(i).unwrap();
        }
    });
    for expected in 0..16 {
        assert_eq!(progress.recv_timeout(Duration::from_secs(5)), Ok(expected));
    }
    // The 17th waits: nothing has taken the queued requests.
    assert!(progress.recv_timeout(Duration::from_millis(300)).is_err());
    assert_eq!(queue.len(), 17);
    let mut waiting = 0;
    for request in queue.try_iter() {
        if let crate::actor::Request::Deliver {
            reply: Some(reply), ..
        } = request
        {
            reply.send(Ok(())).unwrap();
            waiting += 1;
        }
    }
    assert_eq!(waiting, 1, "only the last delivery asked for an answer");
    assert_eq!(progress.recv_timeout(Duration::from_secs(5)), Ok(16));
    sender.join().unwrap();
}

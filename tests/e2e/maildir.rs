//! The durable store end to end: the real `mailsink` binary with `--maildir`, Python's
//! `smtplib` as the client, `kill -9` right after the last `250`, and a restarted server that
//! must still have every acknowledged message (and, across a clean restart, its read state).

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpStream};
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mailsink_tests::{free_port, mailsink_bin, python, wait_bounded, TempDir, TestServer};

/// Four connections at once (so the store groups their commits), ten messages each, then
/// SIGKILL to the server as soon as the last `250` has arrived: no QUIT, no clean shutdown.
const SEND_THEN_KILL: &str = r#"
import os, signal, smtplib, sys, threading
port, pid = int(sys.argv[1]), int(sys.argv[2])
replies, lock = [], threading.Lock()

def client(t):
    s = smtplib.SMTP("127.0.0.1", port)
    s.ehlo("crash.test")
    for i in range(10):
        msg = (f"From: Sender <sender@example.com>\r\nTo: rcpt@example.com\r\n"
               f"Subject: durable {t}-{i}\r\n\r\nbody {t}-{i}\r\n").encode()
        s.mail("sender@example.com")
        s.rcpt("rcpt@example.com")
        code, reply = s.data(msg)
        with lock:
            replies.append(f"{t}-{i} {code} {reply.decode()}")

threads = [threading.Thread(target=client, args=(t,)) for t in range(4)]
for t in threads: t.start()
for t in threads: t.join()
os.kill(pid, signal.SIGKILL)
print("\n".join(replies))
"#;

#[test]
fn kill_9_right_after_250_loses_nothing() {
    let dir = TempDir::new("kill9");
    let port = free_port();
    let child = Command::new(mailsink_bin())
        .args(["--listen", "127.0.0.1:0"])
        .args(["--smtp", &format!("127.0.0.1:{port}"), "--maildir"])
        .arg(dir.path())
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn mailsink");
    wait_for_port(SocketAddr::from(([127, 0, 0, 1], port)));
    let out = python(
        SEND_THEN_KILL,
        &[&port.to_string(), &child.id().to_string()],
    );
    let status = wait_bounded(child, Duration::from_secs(10)).status;
    assert_eq!(
        status.signal(),
        Some(9),
        "the server was killed, not stopped"
    );

    // "t-i 250 2.0.0 Ok: queued as ID" for each message.
    let acknowledged: BTreeMap<String, String> = out
        .lines()
        .map(|line| {
            let (label, reply) = line.split_once(' ').expect("label and reply");
            let id = reply
                .strip_prefix("250 2.0.0 Ok: queued as ")
                .unwrap_or_else(|| panic!("not a 250: {line}"));
            (id.to_owned(), label.to_owned())
        })
        .collect();
    assert_eq!(acknowledged.len(), 40);
    assert!(dir
        .path()
        .join("tmp")
        .read_dir()
        .expect("tmp/")
        .next()
        .is_none());

    let server = TestServer::start(&["--maildir", dir.path_str()]);
    let messages = server.messages();
    assert_eq!(messages.len(), 40, "every acknowledged message survived");
    for message in &messages {
        let label = acknowledged
            .get(message.id().as_str())
            .unwrap_or_else(|| panic!("{} was never acknowledged", message.id()));
        assert_eq!(message.summary().subject, format!("durable {label}"));
        let body = format!("\r\n\r\nbody {label}\r\n");
        assert!(message.raw().ends_with(body.as_bytes()));
        assert_eq!(message.envelope().mail_from, "sender@example.com");
        assert_eq!(message.envelope().rcpt_to, ["rcpt@example.com"]);
        assert_eq!(message.envelope().helo, "crash.test");
    }

    // Read state survives a restart too, as the S flag other mail tools see.
    let first = messages[0].id();
    assert_eq!(
        server.store().set_read(&[first], true).expect("set read"),
        1
    );
    server.stop(Duration::ZERO);
    let cur: Vec<String> = std::fs::read_dir(dir.path().join("cur"))
        .expect("cur/")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(cur.len(), 1);
    let prefix = format!("{}.{first}.", first.timestamp_ms() / 1000);
    assert!(
        cur[0].starts_with(&prefix) && cur[0].ends_with(":2,S"),
        "{cur:?}"
    );
    let server = TestServer::start(&["--maildir", dir.path_str()]);
    let counts = server.store().count().expect("count");
    assert_eq!((counts.total, counts.unread), (40, 39));
    let reread = server
        .store()
        .get(first)
        .expect("get")
        .expect("still there");
    assert!(reread.is_read());
}

#[test]
fn max_prunes_the_maildir_through_the_binary_flags() {
    let dir = TempDir::new("max");
    let server = TestServer::start(&["--maildir", dir.path_str(), "--max", "2"]);
    let script = r#"
import smtplib, sys
with smtplib.SMTP("127.0.0.1", int(sys.argv[1])) as s:
    for i in range(3):
        s.sendmail("a@example.com", ["b@example.com"], f"Subject: m{i}\r\n\r\nx\r\n".encode())
"#;
    python(script, &[&server.port().to_string()]);
    let subjects: Vec<String> = server
        .messages()
        .iter()
        .map(|m| m.summary().subject.clone())
        .collect();
    assert_eq!(subjects, ["m1", "m2"]);
    let files = std::fs::read_dir(dir.path().join("new"))
        .expect("new/")
        .count();
    assert_eq!(files, 2, "the oldest file was removed");
}

fn wait_for_port(addr: SocketAddr) {
    let started = Instant::now();
    while TcpStream::connect(addr).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "server did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

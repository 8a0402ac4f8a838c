//! Connection lifecycle: the connection cap (421), the timeouts, and a clean SIGTERM shutdown.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mailsink_tests::{
    free_port, mailsink_bin, path_str, wait_bounded, RawClient, Reaper, TempDir, TestServer,
};

#[test]
fn beyond_the_worker_pool_and_queue_clients_get_421() {
    // One worker and a queue of one: the third concurrent client is refused.
    let server = TestServer::start(&["--smtp-max-connections", "1"]);
    let mut first = RawClient::connect(server.addr);
    assert!(first.line().starts_with("220 "));
    let mut queued = RawClient::connect(server.addr);
    let mut refused = RawClient::connect(server.addr);
    let started = Instant::now();
    assert_eq!(
        refused.line(),
        "421 4.3.2 Too many connections, try again later"
    );
    assert!(refused.closed());
    assert!(started.elapsed() < Duration::from_secs(5));
    // When the first client leaves, the queued one is served.
    first.send(b"QUIT\r\n");
    assert!(first.line().starts_with("221 "));
    assert!(
        queued.line().starts_with("220 "),
        "the queued client is served once a worker frees up"
    );
    queued.send(b"QUIT\r\n");
    assert!(queued.line().starts_with("221 "));
    assert_eq!(server.server().metrics().connections_refused, 1);
}

#[test]
fn idle_and_slow_clients_are_timed_out() {
    let server = TestServer::start(&["--smtp-timeout", "1"]);
    let mut idle = RawClient::connect(server.addr);
    assert!(idle.line().starts_with("220 "));
    let started = Instant::now();
    let goodbye = idle.line();
    assert!(goodbye.starts_with("421 4.4.2 "), "{goodbye}");
    assert!(started.elapsed() >= Duration::from_millis(900));
    assert!(idle.closed());

    // Slowloris: a byte every 200 ms never completes a line within the command timeout.
    let mut slow = RawClient::connect(server.addr);
    assert!(slow.line().starts_with("220 "));
    let started = Instant::now();
    let mut closed_by_server = false;
    for byte in b"NOOP NOOP NOOP NOOP NOOP NOOP NOOP NOOP".iter() {
        if std::io::Write::write_all(&mut slow.stream(), &[*byte]).is_err() {
            closed_by_server = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
        if started.elapsed() > Duration::from_secs(4) {
            break;
        }
    }
    let reply = slow.line();
    assert!(
        closed_by_server || reply.starts_with("421 4.4.2 "),
        "{reply}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "dropped by the command timeout"
    );
}

/// The command and data timeouts each bound their own wait, whichever is shorter: the socket
/// starts with the shorter one, and a read that ends before its wait's deadline is made again.
#[test]
fn waiting_for_a_command_and_for_message_data_each_have_their_timeout() {
    let server = TestServer::start(&["--smtp-timeout", "2", "--smtp-data-timeout", "1"]);
    let transaction = |client: &mut RawClient| {
        for command in ["MAIL FROM:<a@x.test>", "RCPT TO:<b@y.test>", "DATA"] {
            client.send(format!("{command}\r\n").as_bytes());
            let reply = client.line();
            assert!(
                reply.starts_with("250 ") || reply.starts_with("354 "),
                "{reply}"
            );
        }
    };
    // A client that has sent one message, `body`, and has its `250`.
    let after_a_message = |body: &str| {
        let mut client = RawClient::connect(server.addr);
        assert!(client.line().starts_with("220 "));
        client.send(b"HELO c\r\n");
        assert!(client.line().starts_with("250 "));
        transaction(&mut client);
        client.send(format!("{body}\r\n.\r\n").as_bytes());
        assert!(client.line().starts_with("250 "));
        client
    };

    // Idle after a message until the command timeout: closed then, not at the data timeout,
    // and not a data timeout later (a read that ends early leaves the deadline where it was).
    let mut client = after_a_message("Subject: one\r\n\r\nbody");
    assert_timed_out_within(&mut client, 1900..2700);

    // Idle for longer than the data timeout between messages: still open.
    let mut client = after_a_message("Subject: two\r\n\r\nbody");
    std::thread::sleep(Duration::from_millis(1400));
    client.send(b"NOOP\r\n");
    assert_eq!(client.line(), "250 2.0.0 Ok");

    // A pause inside message data longer than the data timeout ends the session.
    let mut client = after_a_message("Subject: three\r\n\r\nbody");
    transaction(&mut client);
    client.send(b"Subject: four\r\n");
    assert_timed_out_within(&mut client, 900..1800);
    assert_eq!(server.messages().len(), 3);
}

/// The client's next line is the timeout's `421`, and it comes within `millis` from now.
fn assert_timed_out_within(client: &mut RawClient, millis: std::ops::Range<u64>) {
    let started = Instant::now();
    let goodbye = client.line();
    assert!(goodbye.starts_with("421 4.4.2 "), "{goodbye}");
    let waited = started.elapsed();
    let within = Duration::from_millis(millis.start)..Duration::from_millis(millis.end);
    assert!(within.contains(&waited), "closed after {waited:?}");
}

#[test]
fn sigterm_ends_open_sessions_with_421_and_exits_0() {
    let port = free_port();
    let child = Command::new(mailsink_bin())
        .args([
            "--smtp",
            &format!("127.0.0.1:{port}"),
            "--shutdown-timeout",
            "1",
            "--listen",
            "127.0.0.1:0",
        ])
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn mailsink");
    let addr = format!("127.0.0.1:{port}").parse().expect("addr");
    let mut client = connect_retry(addr);
    assert!(client.line().starts_with("220 "));
    client.send(b"EHLO c\r\n");
    client.reply();
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(kill.success());
    let goodbye = client.line();
    assert_eq!(goodbye, "421 4.3.2 Service shutting down, try again later");
    let out = wait_bounded(child, Duration::from_secs(10));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The port is free again: nothing was left running.
    assert!(std::net::TcpStream::connect(addr).is_err());
}

#[test]
fn a_panicking_free_server_survives_garbage() {
    let server = TestServer::start(&[]);
    let mut client = RawClient::connect(server.addr);
    client.line();
    let mut junk: Vec<u8> = (0..=255u8).cycle().take(64 * 1024).collect();
    junk.extend_from_slice(b"\r\nNOOP\r\n");
    client.send(&junk);
    let mut last = String::new();
    for _ in 0..1000 {
        last = client.line();
        if last == "250 2.0.0 Ok" || last.is_empty() {
            break;
        }
    }
    assert_eq!(last, "250 2.0.0 Ok");
}

fn connect_retry(addr: std::net::SocketAddr) -> RawClient {
    let started = Instant::now();
    while std::net::TcpStream::connect(addr).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "server did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    RawClient::connect(addr)
}

/// The names of a process's threads (Linux truncates them to 15 bytes), sorted.
fn thread_names(pid: u32) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/task"))
        .expect("the process's threads")
        .map(|task| {
            let comm = task.expect("a thread").path().join("comm");
            std::fs::read_to_string(comm)
                .unwrap_or_default()
                .trim()
                .to_owned()
        })
        .collect();
    names.sort();
    names
}

/// The process's thread names once `done` holds for them (`Err` with the last names if it does
/// not within 10 s).
fn threads_once(pid: u32, done: impl Fn(&[String]) -> bool) -> Result<Vec<String>, Vec<String>> {
    let started = Instant::now();
    loop {
        let names = thread_names(pid);
        if done(&names) {
            return Ok(names);
        }
        if started.elapsed() > Duration::from_secs(10) {
            return Err(names);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// An idle server holds only the threads it needs: no HTTP worker before the first request, no
/// SMTP worker before sessions overlap (a lone one is served by the acceptor, which starts a
/// second acceptor to keep the listener attended), no file watcher without files to watch.
#[test]
fn an_idle_server_starts_workers_and_the_watcher_only_when_needed() {
    let start = |extra: &[&str]| {
        let port = free_port();
        let mut args = vec![
            "--smtp".to_owned(),
            format!("127.0.0.1:{port}"),
            "--listen".to_owned(),
            "127.0.0.1:0".to_owned(),
        ];
        args.extend(extra.iter().map(|a| (*a).to_owned()));
        let child = Command::new(mailsink_bin())
            .args(&args)
            .env_clear()
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn mailsink");
        let mut reaper = Reaper::new(child);
        let pid = reaper.child().id();
        // Up once both acceptors run (no connection yet: that would start a worker).
        threads_once(pid, |names| {
            ["mailsink-accept", "mailsink-http-a"]
                .iter()
                .all(|acceptor| names.iter().any(|name| name == acceptor))
        })
        .unwrap_or_else(|names| panic!("no acceptors: {names:?}"));
        let addr = format!("127.0.0.1:{port}").parse().expect("addr");
        (reaper, addr)
    };
    let (mut plain, addr) = start(&[]);
    let pid = plain.child().id();
    std::thread::sleep(Duration::from_millis(200));
    let before = thread_names(pid);
    assert_eq!(
        before,
        [
            "mailsink",
            "mailsink-accept",
            "mailsink-http-a",
            "mailsink-store"
        ],
        "threads of an idle server"
    );
    // The acceptor is up (waited for above): no probe connection, which would overlap this one.
    let mut client = RawClient::connect(addr);
    assert!(client.line().starts_with("220 "));
    client.send(b"QUIT\r\n");
    client.line();
    // A thread is named by itself once it runs, so one just spawned may still show its parent's.
    let names = threads_once(pid, |names| {
        names
            .iter()
            .filter(|name| *name == "mailsink-accept")
            .count()
            == 2
    })
    .unwrap_or_else(|names| {
        panic!(
            "a lone session was served by the acceptor, with a second one standing by: {names:?}"
        )
    });
    assert!(
        !names.iter().any(|name| name.starts_with("mailsink-smtp")),
        "a lone session needs no worker: {names:?}"
    );

    let dir = TempDir::new("watch");
    let users = dir.path().join("users");
    std::fs::write(&users, "user:{PLAIN}secret\n").expect("credentials file");
    let users = path_str(&users);
    let (mut with_file, _) = start(&["--smtp-auth-file", users, "--smtp-auth-allow-insecure"]);
    threads_once(with_file.child().id(), |names| {
        names.iter().any(|name| name == "mailsink-watch")
    })
    .unwrap_or_else(|names| panic!("a credentials file is watched: {names:?}"));
}

/// A session served by the acceptor that took it must not leave the listener unattended: the
/// clients that come while it lasts are greeted at once (by the second acceptor, through the
/// workers).
#[test]
fn a_session_on_the_acceptor_leaves_the_listener_attended() {
    let server = TestServer::start(&[]);
    let mut first = RawClient::connect(server.addr);
    assert!(first.line().starts_with("220 "));
    let started = Instant::now();
    let mut others: Vec<RawClient> = (0..3).map(|_| RawClient::connect(server.addr)).collect();
    for client in &mut others {
        assert!(client.line().starts_with("220 "));
    }
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "greeted in {:?}",
        started.elapsed()
    );
    for client in others.iter_mut().chain(std::iter::once(&mut first)) {
        client.send(b"QUIT\r\n");
        assert!(client.line().starts_with("221 "));
    }
}

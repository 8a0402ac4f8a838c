//! Abuse over loopback, each case bounded in count and time: connection floods, endless lines,
//! huge messages (memory stays bounded), pipelined floods, junk in addresses, and clients that
//! vanish in the middle of every state. After each, the server still serves.

use std::io::Write;
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mailsink_tests::{mailsink_bin, python, wait_bounded, RawClient, TestServer};

/// Sends one small message with smtplib: proof the server still serves.
fn still_serves(server: &TestServer) {
    let script = r#"
import smtplib, sys
with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=10) as s:
    s.sendmail("a@example.com", ["b@example.com"], b"Subject: alive\r\n\r\nok\r\n")
"#;
    python(script, &[&server.port().to_string()]);
}

#[test]
fn a_connection_flood_gets_421_quickly_and_service_resumes() {
    let server = TestServer::start(&["--smtp-max-connections", "4"]);
    // 4 workers busy, 4 queued, the rest refused.
    let mut held: Vec<TcpStream> = (0..8)
        .map(|_| TcpStream::connect(server.addr).expect("connect"))
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    let mut refused = 0;
    for _ in 0..20 {
        let mut client = RawClient::connect(server.addr);
        if client.line() == "421 4.3.2 Too many connections, try again later" {
            refused += 1;
        }
    }
    assert_eq!(
        refused, 20,
        "every client beyond the pool and queue is refused"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "refusals are quick: {:?}",
        started.elapsed()
    );
    held.clear();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut client = RawClient::connect(server.addr);
        if client.line().starts_with("220 ") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the server serves again once the flood ends"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    still_serves(&server);
}

#[test]
fn ten_thousand_pipelined_commands_in_one_write() {
    let server = TestServer::start(&[]);
    let mut client = RawClient::connect(server.addr);
    client.line();
    let mut burst = b"EHLO flood\r\n".to_vec();
    for i in 0..10_000 {
        burst.extend_from_slice(if i % 2 == 0 { b"NOOP\r\n" } else { b"RSET\r\n" });
    }
    burst.extend_from_slice(b"QUIT\r\n");
    let writer = client.stream().try_clone().expect("clone");
    let sender = std::thread::spawn(move || {
        let mut writer = writer;
        writer.write_all(&burst).expect("write burst");
    });
    client.reply();
    for i in 0..10_000 {
        assert_eq!(client.line(), "250 2.0.0 Ok", "reply {i}");
    }
    assert!(client.line().starts_with("221 "));
    sender.join().expect("sender");
}

#[test]
fn endless_command_line_is_refused_and_resynchronised() {
    let server = TestServer::start(&[]);
    let mut client = RawClient::connect(server.addr);
    client.line();
    let chunk = vec![b'A'; 64 * 1024];
    for _ in 0..32 {
        client.send(&chunk);
    }
    client.send(b"\r\nNOOP\r\n");
    assert_eq!(client.line(), "500 5.5.2 Line too long");
    assert_eq!(client.line(), "250 2.0.0 Ok");
}

#[test]
fn invalid_utf8_and_nul_in_addresses_are_refused() {
    let server = TestServer::start(&[]);
    let mut client = RawClient::connect(server.addr);
    client.line();
    client.send(b"EHLO c\r\n");
    client.reply();
    client.send(b"MAIL FROM:<\xff\xfe@example.com>\r\n");
    assert!(client.line().starts_with("501 5.5.4"));
    client.send(b"MAIL FROM:<a\x00b@example.com>\r\n");
    assert!(client.line().starts_with("501 5.5.4"));
    client.send(b"MAIL FROM:<a@example.com>\r\nRCPT TO:<\xc3\x28@example.com>\r\n");
    assert_eq!(client.line(), "250 2.1.0 Ok");
    assert!(client.line().starts_with("501 5.5.4"));
    still_serves(&server);
}

#[test]
fn clients_vanishing_mid_state_leave_nothing_behind() {
    let server = TestServer::start(&[]);
    let prefixes: &[&[u8]] = &[
        b"EHL",
        b"EHLO c\r\nMAIL FROM:<a@exam",
        b"EHLO c\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\nSubject: cut\r\n\r\nhalf a mess",
        b"EHLO c\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nBDAT 100 LAST\r\nonly part of the chunk",
        b"EHLO c\r\nAUTH PLAIN\r\n",
        b"\x16\x03\x01\x00\xc8\x01\x00",
    ];
    for prefix in prefixes {
        let mut stream = TcpStream::connect(server.addr).expect("connect");
        stream.write_all(prefix).expect("write");
        drop(stream);
    }
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        server.messages().is_empty(),
        "no half message is ever stored"
    );
    still_serves(&server);
    assert_eq!(server.messages().len(), 1);
}

/// Peak resident memory of a process, in KiB (VmHWM).
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}

#[test]
fn a_message_far_above_the_limit_keeps_memory_bounded() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let child = Command::new(mailsink_bin())
        .args([
            "--smtp",
            &format!("127.0.0.1:{port}"),
            "--max-message-size",
            "1",
            "--quiet",
        ])
        .args(["--listen", "127.0.0.1:0"])
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let addr = format!("127.0.0.1:{port}").parse().expect("addr");
    let started = Instant::now();
    while TcpStream::connect(addr).is_err() {
        assert!(started.elapsed() < Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut client = RawClient::connect(addr);
    client.line();
    client.send(b"EHLO c\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n");
    client.reply();
    client.line();
    client.line();
    assert!(client.line().starts_with("354"));
    // 256 MiB of one endless line, far above the 1 MiB limit.
    let block = vec![b'z'; 1 << 20];
    for _ in 0..256 {
        client.send(&block);
    }
    client.send(b"\r\n.\r\nQUIT\r\n");
    assert!(client.line().starts_with("552 5.3.4"));
    assert!(client.line().starts_with("221 "));
    let peak = peak_rss_kib(child.id());
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let out = wait_bounded(child, Duration::from_secs(10));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        peak < 48 * 1024,
        "peak RSS {peak} KiB while receiving 256 MiB with a 1 MiB limit"
    );
}

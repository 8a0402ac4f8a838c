//! TLS end to end (issue 3): optional and required STARTTLS, implicit TLS on `--smtp` and on an
//! extra `--smtps` listener, and `sans:` self-signed certificates, driven by clients no one here
//! wrote (Python's `smtplib` and `ssl`, `openssl s_client`, `curl`, `swaks`); the attacks and
//! broken clients (STARTTLS injection, plaintext to an implicit-TLS port, stalled and abandoned
//! handshakes) over raw sockets; and certificate rotation while connections are open.
//!
//! Every certificate is made by the test itself with `openssl req` in a temporary directory of
//! its own, and every client verifies the server against it (never "accept anything"). Each test
//! is bounded: clients carry timeouts and external tools run under `wait_bounded`.

use std::fs;
use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Output, Stdio};
use std::time::{Duration, Instant};

use mailsink_tests::{
    path_str, python, require_tool, wait_bounded, RawClient, TempDir, TestServer,
};
use smtp_store::StoredMessage;

/// How long any external tool may run before the test fails.
const TOOL_LIMIT: Duration = Duration::from_secs(30);

/// Shared by every Python script below.
const PRELUDE: &str = r#"
import hashlib, smtplib, socket, ssl, sys, time
HOST = "127.0.0.1"
MSG = (b"From: tls@example.com\r\n"
       b"To: rcpt@example.com\r\n"
       b"Subject: over TLS\r\n"
       b"\r\n"
       b"a body that only TLS should carry\r\n")

def context(cafile):
    return ssl.create_default_context(cafile=cafile)

def fingerprint(tls_socket):
    return hashlib.sha256(tls_socket.getpeercert(binary_form=True)).hexdigest()

def send(s, label):
    s.mail("tls@example.com")
    s.rcpt("rcpt@example.com")
    code, reply = s.data(MSG)
    print(label, code, reply.decode(), flush=True)

def starttls_fingerprint(port, cafile):
    with smtplib.SMTP(HOST, port, timeout=10) as s:
        s.ehlo("probe.example")
        s.starttls(context=context(cafile))
        s.ehlo("probe.example")
        return fingerprint(s.sock)
"#;

// ---------------------------------------------------------------------------------------------
// Optional STARTTLS, required STARTTLS, implicit TLS: Python's smtplib.
// ---------------------------------------------------------------------------------------------

/// `argv`: port, CA file. STARTTLS, then a message; prints what the dialogue showed.
const SMTPLIB_STARTTLS: &str = r#"
port, ca = int(sys.argv[1]), sys.argv[2]
with smtplib.SMTP(HOST, port, timeout=10) as s:
    s.ehlo("client.example")
    print("before", s.has_extn("starttls"))
    code, reply = s.docmd("STARTTLS", "now")
    print("with-argument", code, reply.decode())
    code, reply = s.starttls(context=context(ca))
    print("starttls", code, reply.decode())
    s.ehlo("client.example")
    print("after", s.has_extn("starttls"))
    print("version", s.sock.version())
    code, reply = s.docmd("STARTTLS")
    print("again", code, reply.decode())
    send(s, "data")
"#;

#[test]
fn optional_starttls_with_smtplib_resets_the_session_and_stores_over_esmtps() {
    let dir = TempDir::new("optional");
    let pair = CertPair::generate(&dir, "server", Curve::P256);
    let server = start_with_cert(&pair, &[]);
    let out = run_script(&server, &pair, SMTPLIB_STARTTLS);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0], "before True",
        "EHLO lists STARTTLS before TLS: {out}"
    );
    assert_eq!(
        lines[1], "with-argument 501 5.5.2 Syntax error (no parameters allowed)",
        "{out}"
    );
    assert_eq!(lines[2], "starttls 220 2.0.0 Ready to start TLS", "{out}");
    assert_eq!(
        lines[3], "after False",
        "RFC 3207: STARTTLS is no longer offered after TLS: {out}"
    );
    assert!(
        lines[4] == "version TLSv1.3" || lines[4] == "version TLSv1.2",
        "{out}"
    );
    assert_eq!(
        lines[5], "again 503 5.5.1 Bad sequence of commands (TLS already in use)",
        "{out}"
    );
    let stored = only_message(&server);
    assert_eq!(
        lines[6],
        format!("data 250 2.0.0 Ok: queued as {}", stored.id()),
        "{out}"
    );
    assert_stored_over_tls(&stored, "client.example");
}

/// `argv`: port, CA file. Opens a transaction, goes TLS and, without a new EHLO, checks that
/// the transaction is gone, then sends a message.
const SMTPLIB_FORGETS: &str = r#"
port, ca = int(sys.argv[1]), sys.argv[2]
with smtplib.SMTP(HOST, port, timeout=10) as s:
    s.ehlo("plaintext.example")
    code, reply = s.mail("early@example.com")
    print("mail", code, reply.decode())
    s.starttls(context=context(ca))
    code, reply = s.docmd("RCPT", "TO:<rcpt@example.com>")
    print("rcpt", code, reply.decode())
    send(s, "data")
"#;

/// RFC 3207 section 4.2: after the handshake the server discards what it knew from the client:
/// the open transaction and the EHLO argument.
#[test]
fn starttls_discards_the_transaction_and_the_plaintext_greeting() {
    let dir = TempDir::new("forgets");
    let pair = CertPair::generate(&dir, "server", Curve::P256);
    let server = start_with_cert(&pair, &[]);
    let out = run_script(&server, &pair, SMTPLIB_FORGETS);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "mail 250 2.1.0 Ok", "{out}");
    assert_eq!(
        lines[1], "rcpt 503 5.5.1 Bad sequence of commands (MAIL required before RCPT)",
        "{out}"
    );
    let stored = only_message(&server);
    assert_eq!(
        lines[2],
        format!("data 250 2.0.0 Ok: queued as {}", stored.id()),
        "{out}"
    );
    assert!(stored.envelope().tls);
    assert_ne!(
        stored.envelope().helo,
        "plaintext.example",
        "the plaintext EHLO name was kept"
    );
    let raw = String::from_utf8_lossy(stored.raw());
    assert!(!raw.contains("plaintext.example"), "{raw}");
}

#[test]
fn starttls_without_a_certificate_is_not_implemented() {
    let server = TestServer::start(&[]);
    let mut client = RawClient::connect(server.addr);
    assert!(client.line().starts_with("220 "));
    client.send(b"EHLO c\r\n");
    let ehlo = client.reply();
    assert!(
        !ehlo.contains("STARTTLS"),
        "no certificate, no STARTTLS in EHLO: {ehlo}"
    );
    client.send(b"STARTTLS\r\n");
    assert_eq!(client.line(), "502 5.5.1 Command not implemented");
    client.send(b"NOOP\r\n");
    assert_eq!(
        client.line(),
        "250 2.0.0 Ok",
        "the session carries on in plaintext"
    );
}

/// `argv`: port, CA file. Every refused command before TLS, then a message after it.
const SMTPLIB_REQUIRED: &str = r#"
port, ca = int(sys.argv[1]), sys.argv[2]
with smtplib.SMTP(HOST, port, timeout=10) as s:
    s.ehlo("client.example")
    print("offered", s.has_extn("starttls"))
    for verb, arg in [("MAIL", "FROM:<a@example.com>"), ("RCPT", "TO:<b@example.com>"), ("RSET", ""), ("DATA", "")]:
        code, reply = s.docmd(verb, arg)
        print(verb, code, reply.decode())
    code, reply = s.docmd("NOOP")
    print("NOOP", code, reply.decode())
    s.starttls(context=context(ca))
    s.ehlo("client.example")
    code, reply = s.docmd("RSET")
    print("RSET-after", code, reply.decode())
    send(s, "data")
"#;

#[test]
fn required_starttls_refuses_mail_rcpt_rset_data_until_tls_then_delivers() {
    let dir = TempDir::new("required");
    let pair = CertPair::generate(&dir, "server", Curve::P256);
    let server = start_with_cert(&pair, &["--smtp-require-starttls"]);
    let out = run_script(&server, &pair, SMTPLIB_REQUIRED);
    let refused = "530 5.7.0 Must issue a STARTTLS command first";
    let stored = only_message(&server);
    let expected = [
        "offered True".to_owned(),
        format!("MAIL {refused}"),
        format!("RCPT {refused}"),
        format!("RSET {refused}"),
        format!("DATA {refused}"),
        "NOOP 250 2.0.0 Ok".to_owned(),
        "RSET-after 250 2.0.0 Ok".to_owned(),
        format!("data 250 2.0.0 Ok: queued as {}", stored.id()),
    ];
    assert_eq!(out.lines().collect::<Vec<_>>(), expected);
    assert_stored_over_tls(&stored, "client.example");
}

/// `argv`: port, CA file. Implicit TLS: the banner comes over TLS, STARTTLS is not offered.
const SMTPLIB_SSL: &str = r#"
port, ca = int(sys.argv[1]), sys.argv[2]
with smtplib.SMTP_SSL(HOST, port, timeout=10, context=context(ca)) as s:
    print("version", s.sock.version())
    s.ehlo("implicit.example")
    print("offered", s.has_extn("starttls"))
    send(s, "data")
"#;

#[test]
fn require_tls_makes_the_smtp_port_implicit_tls_for_smtp_ssl() {
    let dir = TempDir::new("implicit");
    let pair = CertPair::generate(&dir, "server", Curve::P256);
    let server = start_with_cert(&pair, &["--smtp-require-tls"]);
    let out = run_script(&server, &pair, SMTPLIB_SSL);
    let stored = only_message(&server);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("version TLSv1."), "{out}");
    assert_eq!(lines[1], "offered False", "no STARTTLS inside TLS: {out}");
    assert_eq!(
        lines[2],
        format!("data 250 2.0.0 Ok: queued as {}", stored.id()),
        "{out}"
    );
    assert_stored_over_tls(&stored, "implicit.example");
}

#[test]
fn smtps_listener_serves_implicit_tls_beside_an_optional_starttls_port() {
    let dir = TempDir::new("smtps");
    let pair = CertPair::generate(&dir, "server", Curve::P256);
    let server = start_with_smtps(&pair, &[]);
    let smtps = smtps_addr(&server);
    assert_ne!(smtps.port(), server.port());

    let implicit = python(
        &script(SMTPLIB_SSL),
        &[&smtps.port().to_string(), pair.cert_str()],
    );
    assert!(implicit.contains("offered False"), "{implicit}");
    let starttls = run_script(&server, &pair, SMTPLIB_STARTTLS);
    assert!(
        starttls.contains("before True") && starttls.contains("after False"),
        "{starttls}"
    );

    let messages = server.messages();
    assert_eq!(messages.len(), 2);
    assert_stored_over_tls(&messages[0], "implicit.example");
    assert_stored_over_tls(&messages[1], "client.example");
    assert!(
        implicit.contains(&format!("queued as {}", messages[0].id())),
        "{implicit}"
    );
}

// ---------------------------------------------------------------------------------------------
// openssl s_client, curl, swaks.
// ---------------------------------------------------------------------------------------------

#[test]
fn openssl_s_client_verifies_both_modes_and_sees_ehlo_without_starttls() {
    let dir = TempDir::new("s-client");
    let pair = CertPair::generate(&dir, "server", Curve::P256);
    let other = CertPair::generate(&dir, "other", Curve::P256);
    let server = start_with_smtps(&pair, &[]);
    let smtps = smtps_addr(&server);

    let starttls = s_client(server.addr, &["-starttls", "smtp"], &pair.cert);
    assert_s_client_dialogue(&starttls);
    let implicit = s_client(smtps, &[], &pair.cert);
    assert_s_client_dialogue(&implicit);
    assert!(
        stdout(&implicit).contains("mailsink ESMTP Service ready"),
        "the banner comes after TLS"
    );

    // The verification above is real: another certificate as the only trust anchor fails.
    let refused = s_client(server.addr, &["-starttls", "smtp"], &other.cert);
    assert!(
        !refused.status.success(),
        "s_client must reject an unknown certificate: {}",
        stdout(&refused)
    );
    assert!(!stdout(&refused).contains("Verify return code: 0 (ok)"));
}

#[test]
fn curl_delivers_over_starttls_with_ssl_reqd_and_over_smtps() {
    let curl = require_tool("curl");
    let dir = TempDir::new("curl");
    let pair = CertPair::generate(&dir, "server", Curve::P256);
    let server = start_with_smtps(&pair, &[]);
    let smtps = smtps_addr(&server);
    let mail = dir.path().join("mail.eml");
    let text =
        "From: curl@example.com\r\nTo: rcpt@example.com\r\nSubject: via curl\r\n\r\nhello\r\n";
    write(&mail, text.as_bytes());

    for url in [
        format!("smtp://127.0.0.1:{}/curl.example", server.port()),
        format!("smtps://127.0.0.1:{}/curl.example", smtps.port()),
    ] {
        let mut cmd = Command::new(&curl);
        cmd.args([
            "--silent",
            "--show-error",
            "--ssl-reqd",
            "--max-time",
            "20",
            "--cacert",
        ])
        .arg(&pair.cert)
        .args([
            "--mail-from",
            "curl@example.com",
            "--mail-rcpt",
            "rcpt@example.com",
            "--upload-file",
        ])
        .arg(&mail)
        .arg(&url);
        let out = run(cmd, b"");
        assert!(
            out.status.success(),
            "curl {url} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let messages = server.messages();
    assert_eq!(messages.len(), 2);
    for stored in &messages {
        assert_stored_over_tls(stored, "curl.example");
        assert!(String::from_utf8_lossy(stored.raw()).contains("Subject: via curl"));
    }
}

#[test]
fn swaks_delivers_with_starttls_and_with_tls_on_connect() {
    let swaks = require_tool("swaks");
    let dir = TempDir::new("swaks");
    let pair = CertPair::generate(&dir, "server", Curve::P256);
    let server = start_with_smtps(&pair, &[]);
    let smtps = smtps_addr(&server);

    for (flag, addr) in [("--tls", server.addr), ("--tlsc", smtps)] {
        let mut cmd = Command::new(&swaks);
        cmd.args([
            "--to",
            "rcpt@example.com",
            "--from",
            "swaks@example.com",
            "--helo",
            "swaks.example",
        ])
        .args([
            "--server",
            &addr.to_string(),
            flag,
            "--tls-verify",
            "--tls-ca-path",
        ])
        .arg(&pair.cert)
        .args(["--header", "Subject: via swaks", "--timeout", "10"]);
        let out = run(cmd, b"");
        let transcript = stdout(&out);
        assert!(out.status.success(), "swaks {flag} failed: {transcript}");
        assert!(transcript.contains("=== TLS started"), "{transcript}");
        let stored = server.messages().pop().unwrap();
        assert!(
            transcript.contains(&format!("250 2.0.0 Ok: queued as {}", stored.id())),
            "{transcript}"
        );
        assert_stored_over_tls(&stored, "swaks.example");
    }
    assert_eq!(server.messages().len(), 2);
}

// ---------------------------------------------------------------------------------------------
// Attacks and broken clients.
// ---------------------------------------------------------------------------------------------

/// `argv`: port, CA file. Pipelines a MAIL behind STARTTLS in one write, reads exactly the `220`
/// line byte by byte, then goes TLS on the same socket.
const STARTTLS_INJECTION: &str = r#"
port, ca = int(sys.argv[1]), sys.argv[2]
raw = socket.create_connection((HOST, port), timeout=10)

def plain_line():
    line = b""
    while not line.endswith(b"\n"):
        byte = raw.recv(1)
        if not byte:
            raise SystemExit("server closed in plaintext after " + repr(line))
        line += byte
    return line.decode().rstrip("\r\n")

def plain_reply():
    while True:
        line = plain_line()
        if line[3:4] != "-":
            return line

plain_reply()
raw.sendall(b"EHLO x\r\n")
plain_reply()
raw.sendall(b"STARTTLS\r\nMAIL FROM:<x@y>\r\n")
print("starttls", plain_line())
tls = context(ca).wrap_socket(raw, server_hostname=HOST)
replies = tls.makefile("rb")
tls.sendall(b"EHLO x\r\n")
ehlo = []
while True:
    line = replies.readline().decode().rstrip("\r\n")
    ehlo.append(line)
    if line[3:4] != "-":
        break
print("first", ehlo[0])
print("offered", any("STARTTLS" in line for line in ehlo))
tls.sendall(b"MAIL FROM:<a@b>\r\n")
print("mail", replies.readline().decode().rstrip("\r\n"))
tls.sendall(b"QUIT\r\n")
print("quit", replies.readline().decode().rstrip("\r\n"))
"#;

/// CVE-2011-0411 (Postfix and others): plaintext pipelined after STARTTLS must be discarded,
/// never executed inside the TLS session.
#[test]
fn cve_2011_0411_plaintext_pipelined_after_starttls_is_discarded() {
    let dir = TempDir::new("cve");
    let pair = CertPair::generate(&dir, "server", Curve::P256);
    let server = start_with_cert(&pair, &[]);
    let out = run_script(&server, &pair, STARTTLS_INJECTION);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "starttls 220 2.0.0 Ready to start TLS", "{out}");
    assert!(
        lines[1].starts_with("first 250-") && lines[1].ends_with(" greets x"),
        "the first reply inside TLS answers EHLO, not the injected MAIL: {out}"
    );
    assert_eq!(lines[2], "offered False", "{out}");
    assert_eq!(
        lines[3], "mail 250 2.1.0 Ok",
        "a fresh MAIL is not 'nested': {out}"
    );
    assert!(lines[4].starts_with("quit 221 2.0.0 "), "{out}");
    assert!(server.messages().is_empty());
}

#[test]
fn a_plaintext_client_on_an_implicit_tls_port_is_closed_at_once() {
    let dir = TempDir::new("plaintext");
    let pair = CertPair::generate(&dir, "server", Curve::P256);
    let implicit_smtp = start_with_cert(&pair, &["--smtp-require-tls"]);
    let beside = start_with_smtps(&pair, &[]);
    for addr in [implicit_smtp.addr, smtps_addr(&beside)] {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let started = Instant::now();
        stream.write_all(b"EHLO x\r\n").unwrap();
        let (received, ending) = read_until_closed(&mut stream);
        let elapsed = started.elapsed();
        assert!(
            received.is_empty(),
            "{addr}: nothing comes back in plaintext: {received:?}"
        );
        assert!(ending.is_some(), "{addr}: the server must close, not wait");
        assert!(
            elapsed < Duration::from_secs(2),
            "{addr}: closed at once, not after {elapsed:?}"
        );
    }
}

#[test]
fn stalled_handshakes_are_closed_after_the_handshake_timeout() {
    let dir = TempDir::new("stalled");
    let pair = CertPair::generate(&dir, "server", Curve::P256);
    let server = start_with_smtps(&pair, &["--smtp-tls-handshake-timeout", "0.5"]);
    let smtps = smtps_addr(&server);

    // Each clock starts before the server's can: before connecting, or before STARTTLS is
    // sent; so a close seen before 0.5 s would be a close before the timeout.
    // Implicit TLS: the first byte of a handshake record, then nothing.
    let started = Instant::now();
    let mut one_byte = TcpStream::connect(smtps).unwrap();
    one_byte.write_all(&[0x16]).unwrap();
    assert_closed_after_timeout(&mut one_byte, started, "implicit TLS after one byte");

    // Implicit TLS: connected, silent.
    let started = Instant::now();
    let mut silent = TcpStream::connect(smtps).unwrap();
    assert_closed_after_timeout(&mut silent, started, "implicit TLS, silent client");

    // STARTTLS: the 220, then one byte of a handshake and nothing more.
    let mut client = RawClient::connect(server.addr);
    assert!(client.line().starts_with("220 "));
    let started = Instant::now();
    client.send(b"STARTTLS\r\n");
    assert_eq!(client.line(), "220 2.0.0 Ready to start TLS");
    let mut stream = client.stream().try_clone().unwrap();
    stream.write_all(&[0x16]).unwrap();
    assert_closed_after_timeout(&mut stream, started, "STARTTLS after one byte");

    // Sockets start with the shortest wait as their read timeout, here the handshake's; a
    // client idle between commands for longer is still waited for (the command timeout).
    let mut idle = RawClient::connect(server.addr);
    assert!(idle.line().starts_with("220 "));
    std::thread::sleep(Duration::from_millis(1300));
    idle.send(b"NOOP\r\n");
    assert_eq!(idle.line(), "250 2.0.0 Ok");
}

/// `argv`: port, CA file, mode (`implicit` or `starttls`), count. On `count` connections in
/// turn, sends the first half of a real ClientHello and hangs up (FIN); prints the longest time
/// the server took to close its side.
const HALF_HANDSHAKES: &str = r#"
port, ca, mode, count = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
hello_out = ssl.MemoryBIO()
engine = context(ca).wrap_bio(ssl.MemoryBIO(), hello_out, server_hostname=HOST)
try:
    engine.do_handshake()
except ssl.SSLWantReadError:
    pass
hello = hello_out.read()
assert hello[0] == 0x16 and len(hello) > 100, hello
slowest = 0.0
for _ in range(count):
    s = socket.create_connection((HOST, port), timeout=10)
    if mode == "starttls":
        f = s.makefile("rb")
        f.readline()
        s.sendall(b"STARTTLS\r\n")
        assert f.readline().startswith(b"220 2.0.0"), "no 220 for STARTTLS"
    s.sendall(hello[: len(hello) // 2])
    s.shutdown(socket.SHUT_WR)
    dropped = time.monotonic()
    try:
        while s.recv(1024):
            pass
    except ConnectionResetError:
        pass
    slowest = max(slowest, time.monotonic() - dropped)
    s.close()
print("%.3f" % slowest)
"#;

#[test]
fn clients_dropping_mid_handshake_do_not_disturb_the_server() {
    let dir = TempDir::new("dropped");
    let pair = CertPair::generate(&dir, "server", Curve::P256);
    // Two workers and the default 10 s handshake timeout: a worker must be freed as soon as its
    // client hangs up, not when the timeout expires.
    let server = start_with_smtps(&pair, &["--smtp-max-connections", "2"]);
    let smtps = smtps_addr(&server);
    let ca = pair.cert_str();
    for (port, mode) in [(smtps.port(), "implicit"), (server.port(), "starttls")] {
        let out = python(
            &script(HALF_HANDSHAKES),
            &[&port.to_string(), ca, mode, "5"],
        );
        let slowest: f64 = out.trim().parse().unwrap();
        assert!(
            slowest < 2.0,
            "{mode}: the server held an abandoned handshake for {slowest} s"
        );
    }
    let implicit = python(&script(SMTPLIB_SSL), &[&smtps.port().to_string(), ca]);
    let starttls = python(&script(SMTPLIB_STARTTLS), &[&server.port().to_string(), ca]);
    assert!(
        implicit.contains("data 250 2.0.0 Ok: queued as "),
        "{implicit}"
    );
    assert!(
        starttls.contains("data 250 2.0.0 Ok: queued as "),
        "{starttls}"
    );
    assert_eq!(server.messages().len(), 2);
    let metrics = server.server().metrics();
    assert_eq!(
        metrics.tls_failures, 10,
        "every abandoned handshake is counted: {metrics:?}"
    );
    assert_eq!(metrics.tls_handshakes, 2, "{metrics:?}");
    assert_eq!(metrics.connections_refused, 0, "{metrics:?}");
    wait_for(
        "every worker to be free again",
        Duration::from_secs(3),
        || server.server().load().1 == 0,
    );
}

// ---------------------------------------------------------------------------------------------
// Rotation without restart.
// ---------------------------------------------------------------------------------------------

/// `argv`: port, CA file. Holds a STARTTLS session open: prints the certificate fingerprint,
/// waits for `go` on stdin, then sends a message on the same connection.
const HELD_SESSION: &str = r#"
port, ca = int(sys.argv[1]), sys.argv[2]
s = smtplib.SMTP(HOST, port, timeout=15)
s.ehlo("held.example")
s.starttls(context=context(ca))
s.ehlo("held.example")
print("fp", fingerprint(s.sock), flush=True)
if sys.stdin.readline().strip() != "go":
    raise SystemExit("not told to go on")
send(s, "data")
s.quit()
"#;

/// `argv`: port, CA file. Prints the fingerprint of the certificate a new STARTTLS connection gets.
const NEW_CONNECTION_FINGERPRINT: &str = r#"
print(starttls_fingerprint(int(sys.argv[1]), sys.argv[2]))
"#;

/// `argv`: port, CA file, expected fingerprint, seconds. Polls new connections until one gets
/// the expected certificate; prints `seen SECONDS` or `timeout LAST`.
const AWAIT_FINGERPRINT: &str = r#"
port, ca, expected, limit = int(sys.argv[1]), sys.argv[2], sys.argv[3], float(sys.argv[4])
started = time.monotonic()
while True:
    seen = starttls_fingerprint(port, ca)
    waited = time.monotonic() - started
    if seen == expected:
        print("seen %.2f" % waited)
        break
    if waited > limit:
        print("timeout", seen)
        break
    time.sleep(0.2)
"#;

#[test]
fn reload_rotates_the_certificate_for_new_connections_and_keeps_open_ones() {
    let setup = Rotation::new("reload");
    let server = start_with_cert(&setup.live, &[]);
    let port = server.port().to_string();
    let mut held = HeldSession::open(&port, &setup.bundle);
    assert_eq!(
        held.fingerprint,
        setup.a.fingerprint(),
        "the open connection has certificate A"
    );

    setup.install(&setup.b);
    server.server().reload();
    let now = python(
        &script(NEW_CONNECTION_FINGERPRINT),
        &[&port, setup.bundle_str()],
    );
    assert_eq!(
        now.trim(),
        setup.b.fingerprint(),
        "a new connection gets certificate B"
    );

    let reply = held.go();
    let stored = only_message(&server);
    assert_eq!(
        reply,
        format!("data 250 2.0.0 Ok: queued as {}", stored.id()),
        "the old connection still sends"
    );
    assert_stored_over_tls(&stored, "held.example");
}

#[test]
fn a_broken_new_pair_keeps_the_old_certificate_until_the_files_are_fixed() {
    let setup = Rotation::new("broken");
    let server = start_with_cert(&setup.live, &[]);
    let port = server.port().to_string();

    let garbage = "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n";
    copy(&setup.b.cert, &setup.live.cert);
    write(&setup.live.key, garbage.as_bytes());
    server.server().reload();
    let now = python(
        &script(NEW_CONNECTION_FINGERPRINT),
        &[&port, setup.bundle_str()],
    );
    assert_eq!(
        now.trim(),
        setup.a.fingerprint(),
        "a broken pair keeps certificate A"
    );
    let sent = python(&script(SMTPLIB_STARTTLS), &[&port, setup.bundle_str()]);
    assert!(sent.contains("data 250 2.0.0 Ok: queued as "), "{sent}");

    // The watcher notices the repaired key file on its own.
    copy(&setup.b.key, &setup.live.key);
    setup.await_fingerprint(&server, &setup.b);
}

#[test]
fn changed_files_alone_rotate_the_certificate_within_a_few_seconds() {
    let setup = Rotation::new("watch");
    let server = start_with_cert(&setup.live, &[]);
    let port = server.port().to_string();
    let mut held = HeldSession::open(&port, &setup.bundle);
    assert_eq!(held.fingerprint, setup.a.fingerprint());

    setup.install(&setup.b);
    setup.await_fingerprint(&server, &setup.b);
    assert!(
        held.go().starts_with("data 250 2.0.0 Ok: queued as "),
        "the old connection still sends"
    );
}

// ---------------------------------------------------------------------------------------------
// `sans:` self-signed certificates.
// ---------------------------------------------------------------------------------------------

#[test]
fn sans_certificate_has_an_ip_san_and_a_dns_san_that_clients_accept() {
    let dir = TempDir::new("sans");
    let sans = "sans:localhost,127.0.0.1";
    let server = TestServer::start(&["--smtp-tls-cert", sans, "--smtp-tls-key", sans]);

    // Fetch the certificate without trusting it, then inspect it.
    let mut cmd = Command::new(require_tool("openssl"));
    cmd.args([
        "s_client",
        "-connect",
        &server.addr.to_string(),
        "-starttls",
        "smtp",
        "-showcerts",
    ])
    .args(["-crlf", "-ign_eof"]);
    let fetched = run(cmd, b"QUIT\n");
    let presented = first_pem_certificate(&stdout(&fetched));
    let cert_file = dir.path().join("presented.pem");
    write(&cert_file, presented.as_bytes());
    let mut cmd = Command::new(require_tool("openssl"));
    cmd.args(["x509", "-noout", "-text", "-in"]).arg(&cert_file);
    let text = stdout(&run(cmd, b""));
    let san_line = text
        .lines()
        .skip_while(|line| !line.contains("X509v3 Subject Alternative Name"))
        .nth(1)
        .unwrap_or_else(|| panic!("no SAN extension: {text}"))
        .trim()
        .to_owned();
    let mut names: Vec<&str> = san_line.split(", ").collect();
    names.sort_unstable();
    assert_eq!(
        names,
        ["DNS:localhost", "IP Address:127.0.0.1"],
        "IPs go in IP SANs: {text}"
    );
    assert!(
        text.contains("id-ecPublicKey") && text.contains("prime256v1"),
        "ECDSA P-256: {text}"
    );

    // With that certificate as the trust anchor, clients verify both names.
    let ok = s_client_with(
        server.addr,
        &["-starttls", "smtp", "-verify_hostname", "localhost"],
        &cert_file,
    );
    assert!(
        stdout(&ok).contains("Verify return code: 0 (ok)"),
        "{}",
        stdout(&ok)
    );
    let out = python(
        &script(SMTPLIB_STARTTLS),
        &[&server.port().to_string(), path_str(&cert_file)],
    );
    assert!(
        out.contains("data 250 2.0.0 Ok: queued as "),
        "Python checks 127.0.0.1 against the IP SAN: {out}"
    );
    assert_stored_over_tls(&only_message(&server), "client.example");
}

// ---------------------------------------------------------------------------------------------
// Helpers.
// ---------------------------------------------------------------------------------------------

fn script(body: &str) -> String {
    [PRELUDE, body].concat()
}

/// Runs a Python script (after the prelude) against `server`, trusting `pair`'s certificate.
fn run_script(server: &TestServer, pair: &CertPair, body: &str) -> String {
    python(
        &script(body),
        &[&server.port().to_string(), pair.cert_str()],
    )
}

fn start_with_cert(pair: &CertPair, extra: &[&str]) -> TestServer {
    let mut args = vec![
        "--smtp-tls-cert",
        pair.cert_str(),
        "--smtp-tls-key",
        pair.key_str(),
    ];
    args.extend_from_slice(extra);
    TestServer::start(&args)
}

/// A server with optional STARTTLS on `--smtp` and implicit TLS on an extra `--smtps` listener.
fn start_with_smtps(pair: &CertPair, extra: &[&str]) -> TestServer {
    let mut args = vec!["--smtps", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    start_with_cert(pair, &args)
}

fn smtps_addr(server: &TestServer) -> SocketAddr {
    server.server().smtps_addr().expect("an --smtps listener")
}

fn only_message(server: &TestServer) -> std::sync::Arc<StoredMessage> {
    let mut messages = server.messages();
    assert_eq!(messages.len(), 1, "exactly one message stored");
    messages.remove(0)
}

/// The envelope says TLS and the `Received:` header says ESMTPS (RFC 3848).
fn assert_stored_over_tls(stored: &StoredMessage, helo: &str) {
    let envelope = stored.envelope();
    assert!(envelope.tls, "the envelope records TLS");
    assert_eq!(envelope.helo, helo);
    let raw = String::from_utf8_lossy(stored.raw());
    let received = raw
        .split("\r\n")
        .skip_while(|l| !l.starts_with("Received:"))
        .take(3)
        .collect::<Vec<_>>();
    assert!(
        received.concat().contains(" with ESMTPS id "),
        "Received says ESMTPS: {raw}"
    );
}

/// Reads until the peer closes (EOF or reset) or the read timeout; returns what arrived and
/// how the connection ended (`None`: still open at the timeout).
fn read_until_closed(stream: &mut TcpStream) -> (Vec<u8>, Option<&'static str>) {
    let mut received = Vec::new();
    let mut buf = [0u8; 512];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return (received, Some("EOF")),
            Ok(n) => received.extend_from_slice(&buf[..n]),
            // The server drops the socket with our unread bytes in it, which Linux reports to
            // the peer as a reset rather than a FIN: still "closed at once".
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return (received, Some("reset")),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return (received, None)
            }
            Err(e) => panic!("unexpected read error: {e}"),
        }
    }
}

/// The handshake timeout in the test is 0.5 s: the server closes after about that long (socket
/// timeouts may fire a hair early, hence 450 ms), and well before 3 s.
fn assert_closed_after_timeout(stream: &mut TcpStream, started: Instant, what: &str) {
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("set a read timeout");
    let (received, ending) = read_until_closed(stream);
    let elapsed = started.elapsed();
    assert!(received.is_empty(), "{what}: unexpected bytes {received:?}");
    assert!(ending.is_some(), "{what}: not closed within 5 s");
    assert!(
        elapsed >= Duration::from_millis(450),
        "{what}: closed before the timeout ({elapsed:?})"
    );
    assert!(
        elapsed < Duration::from_secs(3),
        "{what}: closed long after the timeout ({elapsed:?})"
    );
}

fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs a tool with `input` on stdin (then closed), bounded by [`TOOL_LIMIT`].
fn run(mut cmd: Command, input: &[u8]) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
    let mut stdin = child.stdin.take().expect("piped stdin");
    stdin.write_all(input).expect("write the tool's input");
    wait_bounded(child, TOOL_LIMIT)
}

fn stdout(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `openssl s_client` verifying the server against `ca` (and 127.0.0.1 against its IP SAN),
/// sending `EHLO x` and `QUIT` once TLS is up and printing what comes back until the close.
fn s_client(addr: SocketAddr, extra: &[&str], ca: &Path) -> Output {
    s_client_with(addr, &[extra, &["-verify_ip", "127.0.0.1"]].concat(), ca)
}

fn s_client_with(addr: SocketAddr, extra: &[&str], ca: &Path) -> Output {
    let mut cmd = Command::new(require_tool("openssl"));
    cmd.args([
        "s_client",
        "-connect",
        &addr.to_string(),
        "-verify_return_error",
        "-crlf",
        "-ign_eof",
    ])
    .args(extra)
    .arg("-CAfile")
    .arg(ca);
    run(cmd, b"EHLO x\nQUIT\n")
}

/// Verification succeeded, and the EHLO sent over TLS got a reply without STARTTLS.
fn assert_s_client_dialogue(out: &Output) {
    let text = stdout(out);
    assert!(out.status.success(), "s_client failed: {text}");
    assert!(text.contains("Verify return code: 0 (ok)"), "{text}");
    // s_client -starttls reads the plaintext EHLO reply itself (and echoes its last line);
    // the reply that greets `x` is the one to the EHLO sent over TLS.
    let lines: Vec<&str> = text.lines().collect();
    let start = lines
        .iter()
        .position(|l| l.starts_with("250-") && l.ends_with(" greets x"))
        .unwrap_or_else(|| panic!("no EHLO reply over TLS: {text}"));
    let end = start
        + lines[start..]
            .iter()
            .position(|l| l.as_bytes().get(3) == Some(&b' '))
            .unwrap_or_else(|| panic!("unfinished EHLO reply: {text}"));
    let ehlo = &lines[start..=end];
    assert!(
        ehlo.iter().all(|l| !l.contains("STARTTLS")),
        "STARTTLS offered inside TLS: {ehlo:?}"
    );
    assert!(ehlo.contains(&"250-PIPELINING"), "{ehlo:?}");
    assert!(
        lines[end + 1..].iter().any(|l| l.starts_with("221 2.0.0 ")),
        "QUIT answered: {text}"
    );
}

fn first_pem_certificate(text: &str) -> String {
    let begin = text
        .find("-----BEGIN CERTIFICATE-----")
        .unwrap_or_else(|| panic!("no certificate: {text}"));
    let end_marker = "-----END CERTIFICATE-----";
    let end = begin + text[begin..].find(end_marker).expect("a whole PEM block") + end_marker.len();
    format!("{}\n", &text[begin..end])
}

fn read(path: &Path) -> Vec<u8> {
    fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn write(path: &Path, bytes: &[u8]) {
    fs::write(path, bytes).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

/// Overwrites `to` in place (same inode), as `cp` does.
fn copy(from: &Path, to: &Path) {
    write(to, &read(from));
}

#[derive(Clone, Copy)]
enum Curve {
    P256,
    P384,
}

/// A self-signed certificate for `localhost` and `127.0.0.1` and its key, as PEM files.
struct CertPair {
    cert: PathBuf,
    key: PathBuf,
}

impl CertPair {
    fn generate(dir: &TempDir, name: &str, curve: Curve) -> Self {
        let cert = dir.path().join(format!("{name}.crt"));
        let key = dir.path().join(format!("{name}.key"));
        let curve = match curve {
            Curve::P256 => "ec_paramgen_curve:P-256",
            Curve::P384 => "ec_paramgen_curve:P-384",
        };
        let mut cmd = Command::new(require_tool("openssl"));
        cmd.args([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", curve, "-nodes", "-days", "2",
        ])
        .args([
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert);
        let out = run(cmd, b"");
        assert!(out.status.success(), "openssl req failed: {}", stdout(&out));
        Self { cert, key }
    }

    fn cert_str(&self) -> &str {
        path_str(&self.cert)
    }

    fn key_str(&self) -> &str {
        path_str(&self.key)
    }

    /// SHA-256 of the certificate's DER, in lowercase hex, as Python's `getpeercert` gives it.
    fn fingerprint(&self) -> String {
        let script = "import hashlib, ssl, sys\n\
                      print(hashlib.sha256(ssl.PEM_cert_to_DER_cert(open(sys.argv[1]).read())).hexdigest())";
        python(script, &[self.cert_str()]).trim().to_owned()
    }
}

/// Two certificates with different keys (A: P-256, B: P-384), the live files the server reads
/// (holding A at first), and a CA bundle trusting both.
struct Rotation {
    /// Holds the files; removed with the setup.
    _dir: TempDir,
    a: CertPair,
    b: CertPair,
    live: CertPair,
    bundle: PathBuf,
}

impl Rotation {
    fn new(tag: &str) -> Self {
        let dir = TempDir::new(tag);
        let a = CertPair::generate(&dir, "a", Curve::P256);
        let b = CertPair::generate(&dir, "b", Curve::P384);
        let live = CertPair {
            cert: dir.path().join("live.crt"),
            key: dir.path().join("live.key"),
        };
        let bundle = dir.path().join("bundle.pem");
        write(&bundle, &[read(&a.cert), read(&b.cert)].concat());
        let setup = Self {
            _dir: dir,
            a,
            b,
            live,
            bundle,
        };
        setup.install(&setup.a);
        setup
    }

    /// Overwrites the live files in place with `pair`, key first.
    fn install(&self, pair: &CertPair) {
        copy(&pair.key, &self.live.key);
        copy(&pair.cert, &self.live.cert);
    }

    fn bundle_str(&self) -> &str {
        path_str(&self.bundle)
    }

    /// The watcher polls every 2 s; a change must show within about three polls.
    fn await_fingerprint(&self, server: &TestServer, pair: &CertPair) {
        let expected = pair.fingerprint();
        let args = [
            &server.port().to_string(),
            self.bundle_str(),
            &expected,
            "6",
        ];
        let out = python(&script(AWAIT_FINGERPRINT), &args);
        assert!(
            out.starts_with("seen "),
            "new connections never got the new certificate: {out}"
        );
    }
}

/// A Python `smtplib` session held open over STARTTLS while the test rotates certificates.
struct HeldSession {
    child: Option<Child>,
    lines: BufReader<ChildStdout>,
    fingerprint: String,
}

impl HeldSession {
    fn open(port: &str, ca: &Path) -> Self {
        let mut child = Command::new(require_tool("python3"))
            .arg("-c")
            .arg(script(HELD_SESSION))
            .arg(port)
            .arg(ca)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn python3");
        let mut lines = BufReader::new(child.stdout.take().expect("piped stdout"));
        let mut first = String::new();
        lines.read_line(&mut first).expect("read the held session");
        let mut session = Self {
            child: Some(child),
            lines,
            fingerprint: String::new(),
        };
        session.fingerprint = match first.trim().strip_prefix("fp ") {
            Some(fp) => fp.to_owned(),
            None => panic!(
                "the held session did not start: {first:?} {}",
                session.finish()
            ),
        };
        session
    }

    /// Lets the session send its message; returns its reply line.
    fn go(&mut self) -> String {
        let child = self.child.as_mut().expect("the held session runs");
        let mut stdin = child.stdin.take().expect("piped stdin");
        stdin
            .write_all(b"go\n")
            .expect("tell the held session to go on");
        drop(stdin);
        let mut reply = String::new();
        self.lines
            .read_line(&mut reply)
            .expect("read the held session");
        let status = self.finish();
        assert!(status.is_empty(), "the held session failed: {status}");
        reply.trim().to_owned()
    }

    /// Waits for the process; returns its stderr if it failed.
    fn finish(&mut self) -> String {
        let Some(child) = self.child.take() else {
            return String::new();
        };
        let out = wait_bounded(child, TOOL_LIMIT);
        if out.status.success() {
            String::new()
        } else {
            String::from_utf8_lossy(&out.stderr).into_owned()
        }
    }
}

impl Drop for HeldSession {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

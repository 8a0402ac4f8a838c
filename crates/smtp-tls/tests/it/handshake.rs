//! Handshakes over loopback: STARTTLS and implicit TLS with rustls and `openssl s_client`,
//! and every way a client can fail to complete one: plaintext, silence, a stall, a
//! trickle, a drop, an old protocol version.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::Command;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use rustls::pki_types::ServerName;
use rustls::version::{TLS12, TLS13};
use rustls::{ClientConnection, HandshakeKind, SupportedProtocolVersion};
use smtp_tls::{HandshakeError, ReloadableTls, SocketTimeouts, TlsSource, Transport};

use crate::support::{
    any_cert_client, client_handshake, connect, listen, next, read_line, run_bounded,
    serve_implicit, talk, IO_TIMEOUT,
};

/// No test here waits this long for something that should be immediate.
const PROMPT: Duration = Duration::from_secs(2);

fn self_signed() -> Arc<ReloadableTls> {
    let source = TlsSource::from_flags("sans:localhost,127.0.0.1", "").unwrap();
    Arc::new(ReloadableTls::load(source).unwrap())
}

/// The server side of one implicit-TLS attempt: its outcome and how long it took.
type Attempt = thread::JoinHandle<(Result<Transport, HandshakeError>, Duration)>;

/// Accepts one connection and runs `accept_implicit` on it with `timeout`, timing it.
fn implicit_once(timeout: Duration) -> (SocketAddr, Attempt) {
    let tls = self_signed();
    let (listener, addr) = listen();
    let server = thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        let in_force = SocketTimeouts::of(&tcp).unwrap();
        let start = Instant::now();
        let result = Transport::accept_implicit(tcp, &tls.current(), timeout, in_force);
        (result, start.elapsed())
    });
    (addr, server)
}

/// `openssl s_client -connect ADDR ARGS...` against one implicit-TLS accept, with nothing to
/// send: the server's outcome and what s_client printed on standard error.
fn s_client_implicit(args: &[&str]) -> (Result<Transport, HandshakeError>, String, bool) {
    let (addr, server) = implicit_once(Duration::from_secs(5));
    let connect_to = addr.to_string();
    let mut s_client = Command::new("openssl");
    s_client
        .args(["s_client", "-connect", &connect_to])
        .args(args);
    let output = run_bounded(&mut s_client, b"", IO_TIMEOUT);
    let (result, _) = server.join().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (result, stderr, output.status.success())
}

/// The first flight of a real TLS 1.3 client: its ClientHello.
fn client_hello() -> Vec<u8> {
    let name = ServerName::try_from("localhost").unwrap();
    let mut conn = ClientConnection::new(any_cert_client(&[&TLS13]), name).unwrap();
    let mut hello = Vec::new();
    conn.write_tls(&mut hello).unwrap();
    assert_eq!(hello[0], 0x16);
    hello
}

#[test]
fn starttls_upgrades_after_a_plaintext_exchange() {
    let tls = self_signed();
    let (listener, addr) = listen();
    let server = thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(7))).unwrap();
        let mut plain = Transport::from(tcp);
        plain.write_all(b"220 ready\r\n").unwrap();
        assert_eq!(read_line(&mut plain), "EHLO client.test\r\n");
        plain
            .write_all(b"250-server.test\r\n250 STARTTLS\r\n")
            .unwrap();
        assert_eq!(read_line(&mut plain), "STARTTLS\r\n");
        plain
            .write_all(b"220 2.0.0 Ready to start TLS\r\n")
            .unwrap();
        assert!(!plain.is_tls() && plain.tls_info().is_none());

        let in_force = SocketTimeouts::of(plain.tcp()).unwrap();
        let mut secure = plain
            .upgrade(&tls.current(), Duration::from_secs(5), in_force)
            .unwrap();
        assert!(secure.is_tls());
        assert_eq!(
            secure.tcp().read_timeout().unwrap(),
            Some(Duration::from_secs(7))
        );
        let line = read_line(&mut secure);
        secure.write_all(b"250 over TLS\r\n").unwrap();
        secure.flush().unwrap();
        secure.shutdown().unwrap();
        let info = secure.tls_info().unwrap();
        let again = secure.upgrade(&tls.current(), Duration::from_secs(5), in_force);
        (line, info, again.err())
    });

    let mut tcp = connect(addr);
    assert_eq!(read_line(&mut tcp), "220 ready\r\n");
    tcp.write_all(b"EHLO client.test\r\n").unwrap();
    assert_eq!(read_line(&mut tcp), "250-server.test\r\n");
    assert_eq!(read_line(&mut tcp), "250 STARTTLS\r\n");
    tcp.write_all(b"STARTTLS\r\n").unwrap();
    assert_eq!(read_line(&mut tcp), "220 2.0.0 Ready to start TLS\r\n");
    let mut client = client_handshake(tcp, any_cert_client(&[&TLS13]), "localhost").unwrap();
    client.write_all(b"EHLO client.test\r\n").unwrap();
    assert_eq!(read_line(&mut client), "250 over TLS\r\n");
    // `shutdown` sent close_notify: a clean end of stream, not a truncation error.
    assert_eq!(client.read(&mut [0; 16]).unwrap(), 0);

    let (line, info, again) = server.join().unwrap();
    assert_eq!(line, "EHLO client.test\r\n");
    assert_eq!(info.version, "TLSv1.3");
    assert!(info.cipher.starts_with("TLS13_"), "{info}");
    assert_eq!(
        info.to_string(),
        format!("version=TLSv1.3 cipher={}", info.cipher)
    );
    assert!(
        matches!(again, Some(HandshakeError::AlreadyTls)),
        "{again:?}"
    );
}

/// CVE-2011-0411 at this layer: plaintext pipelined after STARTTLS is not part of the TLS
/// session. If the caller failed to discard it, the handshake fails; it is never read as
/// if it had come over TLS.
#[test]
fn plaintext_pipelined_after_starttls_never_enters_the_tls_session() {
    let tls = self_signed();
    let (listener, addr) = listen();
    let server = thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        let mut plain = Transport::from(tcp);
        assert_eq!(read_line(&mut plain), "STARTTLS\r\n");
        plain
            .write_all(b"220 2.0.0 Ready to start TLS\r\n")
            .unwrap();
        let in_force = SocketTimeouts::of(plain.tcp()).unwrap();
        plain
            .upgrade(&tls.current(), Duration::from_secs(5), in_force)
            .map(|_| ())
    });
    let mut tcp = connect(addr);
    tcp.write_all(b"STARTTLS\r\nMAIL FROM:<x@y>\r\n").unwrap();
    assert_eq!(read_line(&mut tcp), "220 2.0.0 Ready to start TLS\r\n");
    let result = server.join().unwrap();
    assert!(matches!(result, Err(HandshakeError::Tls(_))), "{result:?}");
}

#[test]
fn a_plaintext_client_on_an_implicit_tls_port_is_closed_at_once() {
    let (addr, server) = implicit_once(Duration::from_secs(10));
    let mut tcp = connect(addr);
    tcp.write_all(b"EHLO client.test\r\n").unwrap();
    let start = Instant::now();
    // Closed with unread data, so the client may see a reset instead of an end of stream.
    let seen = tcp.read(&mut [0; 64]);
    let client_waited = start.elapsed();
    assert!(matches!(seen, Ok(0)) || seen.is_err(), "{seen:?}");
    assert!(
        client_waited < PROMPT,
        "the client waited {client_waited:?}"
    );

    let (result, elapsed) = server.join().unwrap();
    assert!(
        matches!(result, Err(HandshakeError::NotTls { first_byte: b'E' })),
        "{result:?}"
    );
    assert!(elapsed < PROMPT, "took {elapsed:?}");
    let message = result.err().unwrap().to_string();
    assert!(
        message.starts_with("client did not start a TLS handshake (first byte 0x45"),
        "{message}"
    );
}

#[test]
fn a_stalled_handshake_fails_at_the_deadline() {
    let timeout = Duration::from_millis(300);
    let (addr, server) = implicit_once(timeout);
    let mut tcp = connect(addr);
    tcp.write_all(&[0x16]).unwrap();
    let (result, elapsed) = server.join().unwrap();
    assert!(
        matches!(result, Err(HandshakeError::TimedOut { after }) if after == timeout),
        "{result:?}"
    );
    assert!(elapsed >= timeout && elapsed < PROMPT, "took {elapsed:?}");
    drop(tcp);
}

#[test]
fn a_silent_client_fails_at_the_deadline() {
    let timeout = Duration::from_millis(300);
    let (addr, server) = implicit_once(timeout);
    let tcp = connect(addr);
    let (result, elapsed) = server.join().unwrap();
    assert!(
        matches!(result, Err(HandshakeError::TimedOut { .. })),
        "{result:?}"
    );
    assert!(elapsed >= timeout && elapsed < PROMPT, "took {elapsed:?}");
    drop(tcp);
}

/// The deadline is for the whole handshake: a client sending one byte every 50 ms never
/// lets a single read time out, yet is dropped when the deadline passes.
#[test]
fn a_trickling_client_fails_at_the_total_deadline() {
    let timeout = Duration::from_millis(500);
    let (addr, server) = implicit_once(timeout);
    let mut tcp = connect(addr);
    let trickler = thread::spawn(move || {
        for byte in client_hello() {
            if tcp.write_all(&[byte]).is_err() {
                return;
            }
            thread::sleep(Duration::from_millis(50));
        }
    });
    let (result, elapsed) = server.join().unwrap();
    assert!(
        matches!(result, Err(HandshakeError::TimedOut { .. })),
        "{result:?}"
    );
    assert!(elapsed >= timeout && elapsed < PROMPT, "took {elapsed:?}");
    trickler.join().unwrap();
}

/// The handshake works from the timeouts the caller says the socket has: where they already
/// keep to its deadline it sets none (the socket's real ones, 7 s here, stay), and where they
/// could overrun it (none at all) it sets its own and puts back what it was told.
#[test]
fn a_handshake_sets_only_the_timeouts_it_needs_and_puts_back_what_it_was_told() {
    let short = Some(Duration::from_secs(1));
    let kept = SocketTimeouts {
        read: short,
        write: short,
    };
    let unbounded = SocketTimeouts {
        read: None,
        write: None,
    };
    let real = Some(Duration::from_secs(7));
    for (told, after) in [(kept, (real, real)), (unbounded, (None, None))] {
        let tls = self_signed();
        let (listener, addr) = listen();
        let server = thread::spawn(move || {
            let (tcp, _) = listener.accept().unwrap();
            tcp.set_read_timeout(real).unwrap();
            tcp.set_write_timeout(real).unwrap();
            let transport =
                Transport::accept_implicit(tcp, &tls.current(), Duration::from_secs(5), told)
                    .unwrap();
            let tcp = transport.tcp();
            (tcp.read_timeout().unwrap(), tcp.write_timeout().unwrap())
        });
        let client = client_handshake(connect(addr), any_cert_client(&[&TLS13]), "localhost");
        assert_eq!(server.join().unwrap(), after, "told {told:?}");
        drop(client);
    }
}

#[test]
fn a_client_dropping_inside_its_hello_is_noticed_at_once() {
    let (addr, server) = implicit_once(Duration::from_secs(10));
    let mut tcp = connect(addr);
    tcp.write_all(&client_hello()[..10]).unwrap();
    drop(tcp);
    let (result, elapsed) = server.join().unwrap();
    assert!(matches!(result, Err(HandshakeError::Closed)), "{result:?}");
    assert!(elapsed < PROMPT, "took {elapsed:?}");
}

#[test]
fn a_client_dropping_after_the_server_hello_is_noticed_at_once() {
    let (addr, server) = implicit_once(Duration::from_secs(10));
    let mut tcp = connect(addr);
    tcp.write_all(&client_hello()).unwrap();
    let mut flight = [0; 512];
    assert!(tcp.read(&mut flight).unwrap() > 0);
    assert_eq!(flight[0], 0x16, "ServerHello");
    drop(tcp);
    let (result, elapsed) = server.join().unwrap();
    assert!(matches!(result, Err(HandshakeError::Closed)), "{result:?}");
    assert!(elapsed < PROMPT, "took {elapsed:?}");
}

/// A TLS 1.0 ClientHello (no `supported_versions` extension) offering an ECDHE suite and
/// the signature scheme of the server's P-256 key, so the version is the only mismatch.
fn tls10_client_hello() -> Vec<u8> {
    let mut body = vec![0x03, 0x01]; // client_version: TLS 1.0
    body.extend([0x42; 32]); // random
    body.push(0); // empty session id
    body.extend([0x00, 0x02, 0xc0, 0x13]); // TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA
    body.extend([0x01, 0x00]); // null compression
    body.extend([0x00, 0x08]); // extensions: signature_algorithms = [ecdsa_secp256r1_sha256]
    body.extend([0x00, 0x0d, 0x00, 0x04, 0x00, 0x02, 0x04, 0x03]);
    let mut handshake = vec![0x01, 0x00, 0x00, u8::try_from(body.len()).unwrap()];
    handshake.extend(body);
    let mut record = vec![
        0x16,
        0x03,
        0x01,
        0x00,
        u8::try_from(handshake.len()).unwrap(),
    ];
    record.extend(handshake);
    record
}

#[test]
fn a_tls10_client_is_refused_with_a_protocol_version_alert() {
    let (addr, server) = implicit_once(Duration::from_secs(5));
    let mut tcp = connect(addr);
    tcp.write_all(&tls10_client_hello()).unwrap();
    let mut alert = Vec::new();
    let _ = tcp.read_to_end(&mut alert);
    let (result, _) = server.join().unwrap();
    assert!(matches!(result, Err(HandshakeError::Tls(_))), "{result:?}");
    // An alert record: fatal (2), protocol_version (70).
    assert_eq!(alert.first(), Some(&0x15), "{alert:02x?}");
    assert_eq!(alert.get(5..7), Some(&[2, 70][..]), "{alert:02x?}");
}

#[test]
fn openssl_s_client_with_tls11_is_refused() {
    let (result, stderr, success) =
        s_client_implicit(&["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"]);
    assert!(matches!(result, Err(HandshakeError::Tls(_))), "{result:?}");
    assert!(!success);
    // A TLS 1.1 ClientHello has no signature_algorithms, so rustls may refuse it for that
    // (alert 40) before it checks the version (alert 70); either way with an alert.
    assert!(
        stderr.contains("SSL alert number 40") || stderr.contains("SSL alert number 70"),
        "{stderr}"
    );
}

#[test]
fn openssl_s_client_completes_implicit_tls() {
    let (result, stderr, _) = s_client_implicit(&["-servername", "localhost", "-brief"]);
    let transport = result.unwrap();
    assert_eq!(transport.tls_info().unwrap().version, "TLSv1.3");
    assert!(stderr.contains("Protocol version: TLSv1.3"), "{stderr}");
}

#[test]
fn openssl_clients_get_the_cipher_suite_go_would_choose() {
    // (s_client's arguments, the suite as OpenSSL names it, as rustls names it), with AES
    // instructions and without.
    let aes = self_signed().current().aes_hardware();
    let either =
        |with: [&'static str; 2], without: [&'static str; 2]| if aes { with } else { without };
    let tls13_aes128 = ["TLS_AES_128_GCM_SHA256", "TLS13_AES_128_GCM_SHA256"];
    let tls13_chacha = [
        "TLS_CHACHA20_POLY1305_SHA256",
        "TLS13_CHACHA20_POLY1305_SHA256",
    ];
    let tls12_aes128 = [
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    ];
    let tls12_chacha = [
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    ];
    let cases: [(&[&str], [&str; 2]); 5] = [
        // OpenSSL's default order leads with AES-256-GCM: it gets AES-128-GCM, which hashes
        // with SHA-256 instead of SHA-384.
        (&["-tls1_3"], either(tls13_aes128, tls13_chacha)),
        // A client that leads with ChaCha20 (no AES instructions) keeps it.
        (
            &[
                "-tls1_3",
                "-ciphersuites",
                "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256",
            ],
            tls13_chacha,
        ),
        // Only what the client offers is ever chosen.
        (
            &["-tls1_3", "-ciphersuites", "TLS_AES_256_GCM_SHA384"],
            ["TLS_AES_256_GCM_SHA384", "TLS13_AES_256_GCM_SHA384"],
        ),
        (
            &[
                "-tls1_2",
                "-cipher",
                "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256",
            ],
            either(tls12_aes128, tls12_chacha),
        ),
        (
            &[
                "-tls1_2",
                "-cipher",
                "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256",
            ],
            tls12_chacha,
        ),
    ];
    for (args, [openssl_name, rustls_name]) in cases {
        let (result, stderr, _) = s_client_implicit(&[&["-brief"], args].concat());
        let info = result.unwrap().tls_info().unwrap();
        assert_eq!(info.cipher, rustls_name, "{args:?}");
        assert!(
            stderr.contains(&format!("Ciphersuite: {openssl_name}\n")),
            "{args:?}: {stderr}"
        );
    }
}

/// Every key exchange group agrees with OpenSSL in both versions: X25519 (done by `graviola`
/// where the CPU runs it, by `ring` elsewhere), P-256 and P-384 (`ring`). A wrong secret fails
/// the handshake's Finished check on one side or the other.
#[test]
fn openssl_clients_agree_on_every_key_exchange_group() {
    // (version, the groups the client offers, the key OpenSSL reports). Over TLS 1.2 OpenSSL
    // also checks the certificate's curve against its groups, so P-256 is always offered
    // there, after the group under test.
    let cases = [
        ("-tls1_3", "X25519", "X25519, 253 bits"),
        ("-tls1_3", "P-256", "ECDH, prime256v1, 256 bits"),
        ("-tls1_3", "P-384", "ECDH, secp384r1, 384 bits"),
        ("-tls1_2", "X25519:P-256", "X25519, 253 bits"),
        ("-tls1_2", "P-256", "ECDH, prime256v1, 256 bits"),
        ("-tls1_2", "P-384:P-256", "ECDH, secp384r1, 384 bits"),
    ];
    for (version, groups, key) in cases {
        let (result, stderr, _) = s_client_implicit(&["-brief", version, "-groups", groups]);
        assert!(result.is_ok(), "{version} {groups}: {result:?}");
        assert!(
            stderr.contains(&format!("Server Temp Key: {key}\n")),
            "{version} {groups}: {stderr}"
        );
    }
}

/// A minimal STARTTLS server for `openssl s_client -starttls smtp`.
fn starttls_server(listener: TcpListener, tls: Arc<ReloadableTls>) -> (String, String) {
    let (tcp, _) = listener.accept().unwrap();
    tcp.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    let mut plain = Transport::from(tcp);
    plain.write_all(b"220 server.test ESMTP\r\n").unwrap();
    let ehlo = read_line(&mut plain);
    plain
        .write_all(b"250-server.test\r\n250 STARTTLS\r\n")
        .unwrap();
    assert_eq!(read_line(&mut plain), "STARTTLS\r\n");
    plain
        .write_all(b"220 2.0.0 Ready to start TLS\r\n")
        .unwrap();
    let in_force = SocketTimeouts::of(plain.tcp()).unwrap();
    let mut secure = plain
        .upgrade(&tls.current(), Duration::from_secs(5), in_force)
        .unwrap();
    let after = read_line(&mut secure);
    secure.write_all(b"221 2.0.0 Bye\r\n").unwrap();
    secure.shutdown().unwrap();
    (ehlo, after)
}

#[test]
fn openssl_s_client_completes_starttls() {
    let tls = self_signed();
    let (listener, addr) = listen();
    let server = thread::spawn(move || starttls_server(listener, tls));
    let connect_to = addr.to_string();
    let mut s_client = Command::new("openssl");
    s_client.args([
        "s_client",
        "-connect",
        &connect_to,
        "-starttls",
        "smtp",
        "-crlf",
        "-brief",
    ]);
    // Not QUIT: s_client reads a line starting with Q as its own command to quit.
    let output = run_bounded(&mut s_client, b"NOOP\n", IO_TIMEOUT);
    let (ehlo, after) = server.join().unwrap();
    assert!(ehlo.starts_with("EHLO "), "{ehlo}");
    assert_eq!(after, "NOOP\r\n");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("Protocol version: TLSv1.3"), "{stderr}");
}

fn resumes(version: &'static SupportedProtocolVersion) {
    let tls = self_signed();
    let (listener, addr) = listen();
    let (results, acceptor) = serve_implicit(listener, 2, move || tls.current(), IO_TIMEOUT);
    let client_config = any_cert_client(&[version]);
    let mut kinds = Vec::new();
    for _ in 0..2 {
        let mut client =
            client_handshake(connect(addr), Arc::clone(&client_config), "localhost").unwrap();
        talk(&mut client, "NOOP\r\n");
        next(&results).unwrap();
        kinds.push(client.conn.handshake_kind());
    }
    acceptor.join().unwrap();
    assert_eq!(
        kinds,
        [Some(HandshakeKind::Full), Some(HandshakeKind::Resumed)]
    );
}

#[test]
fn tls13_sessions_resume() {
    resumes(&TLS13);
}

#[test]
fn tls12_sessions_resume() {
    resumes(&TLS12);
}

#[test]
fn a_tcp_stream_is_plain_until_upgraded() {
    let (listener, addr) = listen();
    let client = TcpStream::connect(addr).unwrap();
    let (tcp, _) = listener.accept().unwrap();
    let transport = Transport::from(tcp);
    assert!(!transport.is_tls());
    assert_eq!(
        transport.tcp().peer_addr().unwrap(),
        client.local_addr().unwrap()
    );
}

/// Whether anything from the server reaches `client` within `wait`, without the client
/// sending a byte.
fn server_spoke_within(client: &crate::support::Client, wait: Duration) -> bool {
    client.sock.set_read_timeout(Some(wait)).unwrap();
    let spoke = match client.sock.peek(&mut [0; 1]) {
        Ok(n) => n > 0,
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => false,
        Err(e) => panic!("peek: {e}"),
    };
    client.sock.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    spoke
}

/// After STARTTLS the client speaks next (EHLO), so the TLS 1.3 session ticket leaves as soon
/// as the handshake ends: its packet acknowledges the client's Finished, which a client with
/// Nagle's algorithm on (smtplib, swaks, OpenSSL clients) waits for before it sends EHLO.
/// Held back for the first reply, as it once was, it cost every such session the kernel's
/// 40 ms delayed ACK. `write_last` then sends the last reply and the `close_notify` together,
/// before any `shutdown`. (That they leave in one write is counted with `strace` in
/// docs/benchmarks.md: a test cannot tell one write from two that follow each other within
/// microseconds.)
#[test]
fn after_starttls_the_ticket_leaves_at_once_and_close_notify_leaves_with_the_last() {
    let tls = self_signed();
    let (listener, addr) = listen();
    let (client_done, server_may_close) = std::sync::mpsc::channel::<()>();
    let server = thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        tcp.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        let in_force = SocketTimeouts::of(&tcp).unwrap();
        let mut transport = Transport::from(tcp)
            .upgrade(&tls.current(), IO_TIMEOUT, in_force)
            .unwrap();
        let first = read_line(&mut transport);
        transport
            .write_all(format!("250 {first}").as_bytes())
            .unwrap();
        transport.flush().unwrap();
        assert_eq!(read_line(&mut transport), "QUIT\r\n");
        transport.write_last(b"221 bye\r\n").unwrap();
        server_may_close.recv_timeout(IO_TIMEOUT).unwrap();
        transport.shutdown().unwrap();
    });
    let mut client =
        client_handshake(connect(addr), any_cert_client(&[&TLS13]), "localhost").unwrap();
    assert!(
        server_spoke_within(&client, IO_TIMEOUT),
        "no ticket after the STARTTLS handshake"
    );
    client.write_all(b"NOOP\r\n").unwrap();
    client.flush().unwrap();
    assert_eq!(read_line(&mut client), "250 NOOP\r\n");

    client.write_all(b"QUIT\r\n").unwrap();
    client.flush().unwrap();
    let mut last = String::new();
    client.read_to_string(&mut last).unwrap();
    assert_eq!(last, "221 bye\r\n");
    client_done.send(()).unwrap();
    server.join().unwrap();
}

/// `close_notify` and then dropping the transport ends the TLS session cleanly: the client
/// reads the end of the stream, not a truncation; a second `close_notify` sends nothing more.
#[test]
fn close_notify_then_drop_is_a_clean_end_of_the_tls_session() {
    let tls = self_signed();
    let (listener, addr) = listen();
    let server = thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        let in_force = SocketTimeouts::of(&tcp).unwrap();
        let mut transport =
            Transport::accept_implicit(tcp, &tls.current(), IO_TIMEOUT, in_force).unwrap();
        let line = read_line(&mut transport);
        transport.write_all(b"221 bye\r\n").unwrap();
        transport.flush().unwrap();
        transport.close_notify().unwrap();
        transport.close_notify().unwrap();
        line
    });
    let mut client =
        client_handshake(connect(addr), any_cert_client(&[&TLS13]), "localhost").unwrap();
    client.write_all(b"QUIT\r\n").unwrap();
    assert_eq!(read_line(&mut client), "221 bye\r\n");
    assert_eq!(server.join().unwrap(), "QUIT\r\n");
    assert_eq!(client.read(&mut [0; 16]).unwrap(), 0);
}

/// After implicit TLS the server speaks next (its banner), and that write carries the ACK and
/// the ticket: nothing is sent before it.
#[test]
fn after_implicit_tls_the_ticket_leaves_with_the_banner() {
    let tls = self_signed();
    let (listener, addr) = listen();
    let (client_looked, server_may_speak) = std::sync::mpsc::channel::<()>();
    let server = thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        let in_force = SocketTimeouts::of(&tcp).unwrap();
        let mut transport =
            Transport::accept_implicit(tcp, &tls.current(), IO_TIMEOUT, in_force).unwrap();
        server_may_speak.recv_timeout(IO_TIMEOUT).unwrap();
        transport.write_all(b"220 ready\r\n").unwrap();
        transport.flush().unwrap();
    });
    let mut client =
        client_handshake(connect(addr), any_cert_client(&[&TLS13]), "localhost").unwrap();
    assert!(
        !server_spoke_within(&client, Duration::from_millis(300)),
        "the server wrote before its banner"
    );
    client_looked.send(()).unwrap();
    assert_eq!(read_line(&mut client), "220 ready\r\n");
    server.join().unwrap();
}

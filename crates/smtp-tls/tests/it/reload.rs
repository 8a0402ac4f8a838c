//! Rotation without restart: new connections get the new certificate, open connections keep
//! working, and a broken pair keeps the old configuration and is reported once.

use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::thread::{self, JoinHandle};

use rustls::pki_types::CertificateDer;
use rustls::{ClientConfig, HandshakeKind};
use smtp_tls::{Fingerprint, ReloadableTls, SocketTimeouts, TlsError, TlsSource, Transport};

use crate::support::{
    any_cert_client, client_handshake, connect, listen, peer_leaf, rcgen_pair, read_line, Client,
    Pair, TempDir, IO_TIMEOUT,
};

/// Serves `connections` implicit-TLS connections, each with the configuration current when
/// it was accepted, echoing every line until the client closes.
fn serve(listener: TcpListener, tls: Arc<ReloadableTls>, connections: usize) -> JoinHandle<()> {
    thread::spawn(move || {
        let mut workers = Vec::new();
        for _ in 0..connections {
            let (tcp, _) = listener.accept().unwrap();
            let config = tls.current();
            workers.push(thread::spawn(move || {
                let in_force = SocketTimeouts::of(&tcp).unwrap();
                let mut transport =
                    Transport::accept_implicit(tcp, &config, IO_TIMEOUT, in_force).unwrap();
                transport.tcp().set_read_timeout(Some(IO_TIMEOUT)).unwrap();
                echo_lines(&mut transport);
            }));
        }
        for worker in workers {
            worker.join().unwrap();
        }
    })
}

fn echo_lines(transport: &mut Transport) {
    let mut line = Vec::new();
    let mut byte = [0];
    while let Ok(1) = transport.read(&mut byte) {
        line.push(byte[0]);
        if byte[0] == b'\n' {
            transport.write_all(b"250 ").unwrap();
            transport.write_all(&line).unwrap();
            transport.flush().unwrap();
            line.clear();
        }
    }
}

fn open(addr: SocketAddr, config: &Arc<ClientConfig>) -> Client {
    client_handshake(connect(addr), Arc::clone(config), "localhost").unwrap()
}

fn exchange(client: &mut Client, line: &str) {
    client.write_all(line.as_bytes()).unwrap();
    client.flush().unwrap();
    assert_eq!(read_line(client), format!("250 {line}"));
}

fn close(mut client: Client) {
    client.conn.send_close_notify();
    client.flush().unwrap();
}

fn p256() -> Pair {
    rcgen_pair(&rcgen::PKCS_ECDSA_P256_SHA256)
}

fn leaf_of(client: &Client) -> CertificateDer<'static> {
    peer_leaf(client)
}

#[test]
fn rotation_serves_new_connections_the_new_certificate_and_keeps_open_ones() {
    let dir = TempDir::new();
    let (first, second) = (p256(), p256());
    let (cert, key) = first.write_to(&dir);
    let tls = Arc::new(ReloadableTls::load(TlsSource::Files { cert, key }).unwrap());
    assert_eq!(tls.fingerprint(), Fingerprint::of(&first.cert_der));
    assert!(!tls.files_changed());

    let (listener, addr) = listen();
    let server = serve(listener, Arc::clone(&tls), 2);
    // One client configuration throughout: it will try to resume its first session.
    let client_config = any_cert_client(&[&rustls::version::TLS13]);
    let mut before = open(addr, &client_config);
    exchange(&mut before, "EHLO before\r\n");
    assert_eq!(leaf_of(&before), first.cert_der);

    second.write_to(&dir);
    assert!(tls.files_changed());
    tls.reload().unwrap();
    assert!(!tls.files_changed());
    assert_eq!(tls.fingerprint(), Fingerprint::of(&second.cert_der));

    let mut after = open(addr, &client_config);
    exchange(&mut after, "EHLO after\r\n");
    // A ticket from before the rotation is not honoured: a full handshake, new certificate.
    assert_eq!(after.conn.handshake_kind(), Some(HandshakeKind::Full));
    assert_eq!(leaf_of(&after), second.cert_der);
    exchange(&mut before, "NOOP still open\r\n");

    close(before);
    close(after);
    server.join().unwrap();
}

#[test]
fn a_broken_pair_keeps_the_old_configuration_and_is_reported_once() {
    let dir = TempDir::new();
    let good = p256();
    let (cert, key) = good.write_to(&dir);
    let tls = ReloadableTls::load(TlsSource::Files {
        cert: cert.clone(),
        key: key.clone(),
    })
    .unwrap();
    let config = tls.current();

    // A key that belongs to another certificate: refused, then quiet until the files change.
    dir.write("key.pem", p256().key_pem);
    assert!(tls.files_changed());
    let error = tls.reload().unwrap_err();
    assert!(matches!(error, TlsError::KeyMismatch { .. }), "{error:?}");
    assert!(!tls.files_changed());
    assert!(Arc::ptr_eq(&tls.current(), &config));

    // The key file vanishing midway through a rotation.
    fs::remove_file(&key).unwrap();
    assert!(tls.files_changed());
    assert!(matches!(tls.reload(), Err(TlsError::Unreadable { .. })));
    assert!(!tls.files_changed());
    assert!(Arc::ptr_eq(&tls.current(), &config));
    assert_eq!(tls.fingerprint(), Fingerprint::of(&good.cert_der));

    // The rotation completes with a matching pair.
    let fixed = p256();
    fixed.write_to(&dir);
    assert!(tls.files_changed());
    tls.reload().unwrap();
    assert!(!Arc::ptr_eq(&tls.current(), &config));
    assert_eq!(tls.fingerprint(), Fingerprint::of(&fixed.cert_der));

    // And new connections get it.
    let (listener, addr) = listen();
    let tls = Arc::new(tls);
    let server = serve(listener, Arc::clone(&tls), 1);
    let mut client = open(addr, &any_cert_client(&[&rustls::version::TLS13]));
    exchange(&mut client, "NOOP\r\n");
    assert_eq!(leaf_of(&client), fixed.cert_der);
    close(client);
    server.join().unwrap();
}

#[test]
fn rewriting_a_file_in_place_counts_as_a_change() {
    let dir = TempDir::new();
    let pair = p256();
    let (cert, key) = pair.write_to(&dir);
    let tls = ReloadableTls::load(TlsSource::Files {
        cert: cert.clone(),
        key,
    })
    .unwrap();
    assert!(!tls.files_changed());
    // Same inode; the size changes (a trailing newline is still valid PEM).
    fs::write(&cert, format!("{}\n", pair.cert_pem)).unwrap();
    assert!(tls.files_changed());
    tls.reload().unwrap();
    assert!(!tls.files_changed());
}

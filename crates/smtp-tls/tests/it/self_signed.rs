//! `sans:` certificates as real clients see them: verified by name and IP by rustls, and
//! shown by `openssl x509` with IPs as IP SANs and the fingerprint we log.

use std::sync::Arc;
use std::time::Duration;

use smtp_tls::{ReloadableTls, TlsSource};

use crate::support::{
    any_cert_client, client_handshake, connect, listen, next, openssl, peer_leaf, serve_implicit,
    talk, trusting_client, TempDir,
};

/// Serves one connection from `tls` and returns the certificate the client received.
fn served_certificate(tls: Arc<ReloadableTls>) -> rustls::pki_types::CertificateDer<'static> {
    let (listener, addr) = listen();
    let (results, acceptor) =
        serve_implicit(listener, 1, move || tls.current(), Duration::from_secs(5));
    let mut client = client_handshake(
        connect(addr),
        any_cert_client(&[&rustls::version::TLS13]),
        "localhost",
    )
    .unwrap();
    talk(&mut client, "NOOP\r\n");
    next(&results).unwrap();
    acceptor.join().unwrap();
    peer_leaf(&client)
}

fn load_sans(names: &str) -> Arc<ReloadableTls> {
    let source = TlsSource::from_flags(&format!("sans:{names}"), &format!("sans:{names}")).unwrap();
    Arc::new(ReloadableTls::load(source).unwrap())
}

/// A client that trusts the certificate connects by each of its names and by IP, and is
/// refused for a name the certificate does not carry.
#[test]
fn a_client_trusting_the_certificate_verifies_names_and_ips() {
    let tls = load_sans("mail.test,127.0.0.1,::1");
    let anchor = served_certificate(Arc::clone(&tls));
    for (name, ok) in [
        ("mail.test", true),
        ("127.0.0.1", true),
        ("other.test", false),
    ] {
        let (listener, addr) = listen();
        let tls = Arc::clone(&tls);
        let (results, acceptor) =
            serve_implicit(listener, 1, move || tls.current(), Duration::from_secs(5));
        let outcome = client_handshake(connect(addr), trusting_client(anchor.clone()), name);
        match outcome {
            Ok(mut client) => {
                assert!(ok, "{name} was accepted");
                talk(&mut client, "NOOP\r\n");
                next(&results).unwrap();
            }
            Err(error) => {
                assert!(!ok, "{name}: {error}");
                assert!(
                    matches!(error, rustls::Error::InvalidCertificate(_)),
                    "{error:?}"
                );
                assert!(next(&results).is_err());
            }
        }
        acceptor.join().unwrap();
    }
}

#[test]
fn openssl_shows_ip_sans_and_the_logged_fingerprint() {
    let tls = load_sans("localhost,127.0.0.1");
    let der = served_certificate(Arc::clone(&tls));
    let dir = TempDir::new();
    dir.write("cert.der", &der);
    let text = openssl(
        &dir,
        &[
            "x509", "-inform", "DER", "-in", "cert.der", "-noout", "-text",
        ],
    )
    .stdout;
    let text = String::from_utf8(text).unwrap();
    assert!(
        text.contains("DNS:localhost, IP Address:127.0.0.1"),
        "{text}"
    );
    assert!(!text.contains("DNS:127.0.0.1"), "{text}");
    assert!(
        text.contains("Public-Key: (256 bit)") && text.contains("NIST CURVE: P-256"),
        "{text}"
    );
    assert!(text.contains("TLS Web Server Authentication"), "{text}");

    let fingerprint = openssl(
        &dir,
        &[
            "x509",
            "-inform",
            "DER",
            "-in",
            "cert.der",
            "-noout",
            "-fingerprint",
            "-sha256",
        ],
    )
    .stdout;
    let fingerprint = String::from_utf8(fingerprint).unwrap();
    assert_eq!(
        fingerprint.trim(),
        format!("sha256 Fingerprint={}", tls.fingerprint())
    );
}

//! Loading: every supported key type and encoding makes a working server, a chain is sent
//! whole, and each broken pair is refused with an error that names the file.

use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, SignatureAlgorithm};
use rustls::pki_types::CertificateDer;
use rustls::version::{TLS12, TLS13};
use rustls::SupportedProtocolVersion;
use smtp_tls::{ReloadableTls, TlsError, TlsSource};

use crate::support::{
    any_cert_client, client_handshake, connect, listen, next, openssl, openssl_pair, rcgen_pair,
    serve_implicit, talk, TempDir,
};

/// `openssl` commands writing `key.pem`, with the PEM label each must produce.
const OPENSSL_KEYS: &[(&str, &[&str], &str)] = &[
    (
        "RSA PKCS#1",
        &["genrsa", "-traditional", "-out", "key.pem", "2048"],
        "RSA PRIVATE KEY",
    ),
    (
        "RSA PKCS#8",
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            "key.pem",
        ],
        "PRIVATE KEY",
    ),
    (
        "P-256 SEC1",
        &[
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
            "key.pem",
        ],
        "EC PRIVATE KEY",
    ),
    (
        "P-384 SEC1",
        &[
            "ecparam",
            "-name",
            "secp384r1",
            "-genkey",
            "-noout",
            "-out",
            "key.pem",
        ],
        "EC PRIVATE KEY",
    ),
    (
        "P-256 PKCS#8",
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            "key.pem",
        ],
        "PRIVATE KEY",
    ),
    (
        "Ed25519 PKCS#8",
        &["genpkey", "-algorithm", "ed25519", "-out", "key.pem"],
        "PRIVATE KEY",
    ),
];

const RCGEN_KEYS: &[(&str, &SignatureAlgorithm)] = &[
    ("P-256", &rcgen::PKCS_ECDSA_P256_SHA256),
    ("P-384", &rcgen::PKCS_ECDSA_P384_SHA384),
    ("Ed25519", &rcgen::PKCS_ED25519),
];

/// Serves one implicit-TLS connection from `source` to a client limited to `version`, and
/// returns the certificate chain the client received and the negotiated version.
fn handshake_with(
    source: &TlsSource,
    version: &'static SupportedProtocolVersion,
) -> (Vec<CertificateDer<'static>>, &'static str) {
    let tls = ReloadableTls::load(source.clone()).unwrap();
    let (listener, addr) = listen();
    let (results, acceptor) =
        serve_implicit(listener, 1, move || tls.current(), Duration::from_secs(5));
    let mut client =
        client_handshake(connect(addr), any_cert_client(&[version]), "localhost").unwrap();
    talk(&mut client, "EHLO client.test\r\n");
    let served = next(&results).unwrap();
    acceptor.join().unwrap();
    assert_eq!(served.line, "EHLO client.test\r\n");
    let chain = client
        .conn
        .peer_certificates()
        .unwrap()
        .iter()
        .map(|c| c.clone().into_owned());
    (chain.collect(), served.info.version)
}

fn files(cert: &std::path::Path, key: &std::path::Path) -> TlsSource {
    TlsSource::Files {
        cert: cert.into(),
        key: key.into(),
    }
}

#[test]
fn openssl_keys_of_every_supported_kind_serve_tls12_and_tls13() {
    for (kind, keygen, label) in OPENSSL_KEYS {
        let dir = TempDir::new();
        let (cert, key, der) = openssl_pair(&dir, keygen);
        let pem = std::fs::read_to_string(&key).unwrap();
        assert!(
            pem.starts_with(&format!("-----BEGIN {label}-----")),
            "{kind}: {pem:.40}"
        );
        for (version, expected) in [(&TLS13, "TLSv1.3"), (&TLS12, "TLSv1.2")] {
            let (chain, negotiated) = handshake_with(&files(&cert, &key), version);
            assert_eq!(chain, std::slice::from_ref(&der), "{kind} {expected}");
            assert_eq!(negotiated, expected, "{kind}");
        }
    }
}

#[test]
fn rcgen_keys_of_every_supported_kind_serve_tls13() {
    for (kind, algorithm) in RCGEN_KEYS {
        let dir = TempDir::new();
        let pair = rcgen_pair(algorithm);
        let (cert, key) = pair.write_to(&dir);
        let (chain, _) = handshake_with(&files(&cert, &key), &TLS13);
        assert_eq!(chain, [pair.cert_der], "{kind}");
    }
}

#[test]
fn cert_and_key_may_share_one_file() {
    let dir = TempDir::new();
    let pair = rcgen_pair(&rcgen::PKCS_ECDSA_P256_SHA256);
    let both = dir.write("both.pem", format!("{}{}", pair.key_pem, pair.cert_pem));
    let (chain, _) = handshake_with(&files(&both, &both), &TLS13);
    assert_eq!(chain, [pair.cert_der]);
}

#[test]
fn the_whole_chain_is_sent_leaf_first() {
    let ca_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let leaf_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let leaf_params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    let leaf = leaf_params.signed_by(&leaf_key, &issuer).unwrap();

    let dir = TempDir::new();
    let cert = dir.write("chain.pem", format!("{}{}", leaf.pem(), ca_cert.pem()));
    let key = dir.write("key.pem", leaf_key.serialize_pem());
    let (chain, _) = handshake_with(&files(&cert, &key), &TLS13);
    assert_eq!(chain, [leaf.der().clone(), ca_cert.der().clone()]);
}

fn load_error(cert: &std::path::Path, key: &std::path::Path) -> TlsError {
    ReloadableTls::load(files(cert, key)).unwrap_err()
}

#[test]
fn a_key_of_another_certificate_is_refused() {
    let dir = TempDir::new();
    let (cert, _) = rcgen_pair(&rcgen::PKCS_ECDSA_P256_SHA256).write_to(&dir);
    let other = dir.write(
        "other-key.pem",
        rcgen_pair(&rcgen::PKCS_ECDSA_P256_SHA256).key_pem,
    );
    let error = load_error(&cert, &other);
    assert!(matches!(error, TlsError::KeyMismatch { .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        format!(
            "certificate and key do not match ({} and {})",
            cert.display(),
            other.display()
        )
    );
}

#[test]
fn a_key_file_without_a_key_is_refused() {
    let dir = TempDir::new();
    let (cert, _) = rcgen_pair(&rcgen::PKCS_ECDSA_P256_SHA256).write_to(&dir);
    for (name, contents) in [
        ("cert-only.pem", std::fs::read_to_string(&cert).unwrap()),
        ("empty.pem", String::new()),
    ] {
        let key = dir.write(name, contents);
        assert_eq!(
            load_error(&cert, &key).to_string(),
            format!("no private key found in {}", key.display())
        );
    }
}

#[test]
fn a_cert_file_without_a_certificate_is_refused() {
    let dir = TempDir::new();
    let (_, key) = rcgen_pair(&rcgen::PKCS_ECDSA_P256_SHA256).write_to(&dir);
    assert_eq!(
        load_error(&key, &key).to_string(),
        format!("no certificate found in {}", key.display())
    );
}

#[test]
fn a_missing_file_is_named() {
    let dir = TempDir::new();
    let (cert, key) = rcgen_pair(&rcgen::PKCS_ECDSA_P256_SHA256).write_to(&dir);
    let missing = dir.path("missing.pem");
    for (cert, key) in [(&missing, &key), (&cert, &missing)] {
        let error = load_error(cert, key);
        assert!(matches!(error, TlsError::Unreadable { .. }), "{error:?}");
        let message = error.to_string();
        assert!(
            message.starts_with(&format!("cannot read {}: ", missing.display())),
            "{message}"
        );
    }
}

#[test]
fn encrypted_keys_are_refused_with_advice() {
    let dir = TempDir::new();
    openssl(
        &dir,
        &[
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
            "plain.pem",
        ],
    );
    // PKCS#8 `ENCRYPTED PRIVATE KEY`, and a traditional key with a `Proc-Type` header.
    openssl(
        &dir,
        &[
            "pkcs8",
            "-topk8",
            "-in",
            "plain.pem",
            "-out",
            "pkcs8.pem",
            "-passout",
            "pass:hunter2",
        ],
    );
    openssl(
        &dir,
        &[
            "ec",
            "-in",
            "plain.pem",
            "-aes128",
            "-out",
            "legacy.pem",
            "-passout",
            "pass:hunter2",
        ],
    );
    let cert = dir.write(
        "cert.pem",
        rcgen_pair(&rcgen::PKCS_ECDSA_P256_SHA256).cert_pem,
    );
    for name in ["pkcs8.pem", "legacy.pem"] {
        let key = dir.path(name);
        let message = load_error(&cert, &key).to_string();
        let expected = format!(
            "the private key in {} is encrypted; give an unencrypted key",
            key.display()
        );
        assert!(message.starts_with(&expected), "{name}: {message}");
    }
}

#[test]
fn a_curve_ring_cannot_sign_with_is_refused_by_name() {
    let dir = TempDir::new();
    let (cert, key, _) = openssl_pair(
        &dir,
        &[
            "ecparam",
            "-name",
            "secp521r1",
            "-genkey",
            "-noout",
            "-out",
            "key.pem",
        ],
    );
    let error = load_error(&cert, &key);
    assert!(
        matches!(error, TlsError::UnsupportedKey { .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.starts_with(&format!("unsupported private key in {}: ", key.display())),
        "{message}"
    );
}

#[test]
fn malformed_pem_is_described_without_quoting_it() {
    let dir = TempDir::new();
    let (cert, _) = rcgen_pair(&rcgen::PKCS_ECDSA_P256_SHA256).write_to(&dir);
    let secret = "c2VjcmV0IGtleSBtYXRlcmlhbA*not*base64";
    let cases = [
        (
            "bad-base64.pem",
            format!("-----BEGIN PRIVATE KEY-----\n{secret}\n-----END PRIVATE KEY-----\n"),
            "a section is not valid base64",
        ),
        (
            "no-end.pem",
            format!("-----BEGIN PRIVATE KEY-----\n{secret}\n"),
            "a section has no END line",
        ),
    ];
    for (name, contents, problem) in cases {
        let key = dir.write(name, contents);
        let error = load_error(&cert, &key);
        assert_eq!(
            error.to_string(),
            format!("{} is not valid PEM: {problem}", key.display())
        );
        assert!(!format!("{error:?}").contains("c2VjcmV0"), "{error:?}");
    }
}

#[test]
fn debug_output_shows_the_source_and_fingerprint_but_no_key() {
    let dir = TempDir::new();
    let pair = rcgen_pair(&rcgen::PKCS_ECDSA_P256_SHA256);
    let (cert, key) = pair.write_to(&dir);
    let tls = ReloadableTls::load(files(&cert, &key)).unwrap();
    let debug = format!("{tls:?}");
    assert!(debug.contains(&tls.fingerprint().to_string()), "{debug}");
    let key_body: String = pair
        .key_pem
        .lines()
        .nth(1)
        .unwrap()
        .chars()
        .take(24)
        .collect();
    assert!(!debug.contains(&key_body), "{debug}");
    assert!(debug.contains(&cert.display().to_string()), "{debug}");
}

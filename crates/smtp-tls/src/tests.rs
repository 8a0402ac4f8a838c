//! Unit tests: flag parsing, the fingerprint format, the self-signed certificate's contents
//! and the server configuration's settings. Handshakes over sockets are in `tests/it`.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rustls::CipherSuite;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use webpki::{anchor_from_trusted_cert, EndEntityCert, KeyUsage};

use crate::identity::Identity;
use crate::server_config::{aes_preferred, provider, server_config};
use crate::{Fingerprint, ReloadableTls, SanName, TlsError, TlsSource};

fn self_signed(names: &str) -> Identity {
    let source = TlsSource::from_flags(&format!("sans:{names}"), "").unwrap();
    Identity::load(&source, &provider()).unwrap()
}

fn leaf(identity: &Identity) -> CertificateDer<'static> {
    identity.certified_key.cert[0].clone()
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

#[test]
fn plain_flags_are_file_paths() {
    let source = TlsSource::from_flags("/etc/cert.pem", "/etc/key.pem").unwrap();
    assert_eq!(
        source,
        TlsSource::Files {
            cert: "/etc/cert.pem".into(),
            key: "/etc/key.pem".into()
        }
    );
}

#[test]
fn sans_may_be_given_in_either_flag() {
    let expected = TlsSource::SelfSigned {
        names: vec![
            SanName::Dns("mail.test".into()),
            SanName::Ip(ip("127.0.0.1")),
        ],
    };
    assert_eq!(
        TlsSource::from_flags("sans:mail.test,127.0.0.1", "key.pem").unwrap(),
        expected
    );
    assert_eq!(
        TlsSource::from_flags("cert.pem", "sans:mail.test,127.0.0.1").unwrap(),
        expected
    );
    assert_eq!(
        TlsSource::from_flags("sans:mail.test, 127.0.0.1", " sans:mail.test,127.0.0.1,").unwrap(),
        expected
    );
}

#[test]
fn sans_lists_that_differ_are_refused() {
    let error = TlsSource::from_flags("sans:a.test", "sans:b.test").unwrap_err();
    assert!(matches!(error, TlsError::SansDiffer), "{error:?}");
}

#[test]
fn empty_sans_is_refused() {
    for flag in ["sans:", "sans: , ,"] {
        let error = TlsSource::from_flags(flag, flag).unwrap_err();
        assert!(matches!(error, TlsError::NoSanNames), "{flag}: {error:?}");
    }
}

#[test]
fn san_names_parse_as_ip_or_dns() {
    assert_eq!(SanName::parse("::1").unwrap(), SanName::Ip(ip("::1")));
    assert_eq!(
        SanName::parse("[2001:db8::1]").unwrap(),
        SanName::Ip(ip("2001:db8::1"))
    );
    assert_eq!(
        SanName::parse("192.0.2.7").unwrap(),
        SanName::Ip(ip("192.0.2.7"))
    );
    assert_eq!(
        SanName::parse("localhost").unwrap(),
        SanName::Dns("localhost".into())
    );
    assert_eq!(
        SanName::parse("*.mail.test").unwrap(),
        SanName::Dns("*.mail.test".into())
    );
    for bad in ["has space.test", "", "bad_*.test", "ünicode.test", "a..b"] {
        let error = SanName::parse(bad).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!("{bad:?} in sans: is neither an IP address nor a DNS name")
        );
    }
}

#[test]
fn fingerprint_is_upper_case_hex_pairs_joined_by_colons() {
    // SHA-256 of the empty input.
    let expected = "E3:B0:C4:42:98:FC:1C:14:9A:FB:F4:C8:99:6F:B9:24:\
                    27:AE:41:E4:64:9B:93:4C:A4:95:99:1B:78:52:B8:55";
    assert_eq!(Fingerprint::of(b"").to_string(), expected);
    assert_eq!(
        format!("{:?}", Fingerprint::of(b"")),
        format!("Fingerprint({expected})")
    );
}

#[test]
fn self_signed_puts_ips_in_ip_sans_and_names_in_dns_sans() {
    let identity = self_signed("localhost,127.0.0.1,::1");
    let der = leaf(&identity);
    let cert = EndEntityCert::try_from(&der).unwrap();
    for name in ["localhost", "127.0.0.1", "::1"] {
        let server_name = ServerName::try_from(name).unwrap();
        cert.verify_is_valid_for_subject_name(&server_name).unwrap();
    }
    for name in ["other.test", "127.0.0.2"] {
        let server_name = ServerName::try_from(name).unwrap();
        assert!(
            cert.verify_is_valid_for_subject_name(&server_name).is_err(),
            "{name}"
        );
    }
}

#[test]
fn self_signed_verifies_as_a_server_certificate_valid_now() {
    let identity = self_signed("mail.test");
    let der = leaf(&identity);
    let cert = EndEntityCert::try_from(&der).unwrap();
    let anchors = [anchor_from_trusted_cert(&der).unwrap()];
    let verify_at = |time: SystemTime| {
        cert.verify_for_usage(
            webpki::ALL_VERIFICATION_ALGS,
            &anchors,
            &[],
            UnixTime::since_unix_epoch(time.duration_since(SystemTime::UNIX_EPOCH).unwrap()),
            KeyUsage::server_auth(),
            None,
            None,
        )
        .map(|_| ())
    };
    let now = SystemTime::now();
    verify_at(now).unwrap();
    verify_at(now + Duration::from_secs(396 * 24 * 3600)).unwrap();
    assert!(verify_at(now + Duration::from_secs(399 * 24 * 3600)).is_err());
    assert!(verify_at(now - Duration::from_secs(2 * 3600)).is_err());
}

#[test]
fn self_signed_fingerprint_is_of_the_leaf_and_fresh_each_time() {
    let first = self_signed("localhost");
    let second = self_signed("localhost");
    assert_eq!(first.fingerprint, Fingerprint::of(&leaf(&first)));
    assert_ne!(first.fingerprint, second.fingerprint);
}

#[test]
fn both_orders_resume_with_the_same_keys_and_negotiate_no_alpn() {
    let tls = server_config(&self_signed("localhost"), &provider()).unwrap();
    for config in [&tls.aes_first, &tls.chacha_first] {
        assert!(config.ticketer.enabled());
        assert!(config.session_storage.can_cache());
        assert!(config.alpn_protocols.is_empty());
        assert_eq!(config.max_early_data_size, 0);
        assert_eq!(config.send_tls13_tickets, 1);
        assert!(config.ignore_client_order);
        let random = format!("{:?}", config.crypto_provider().secure_random);
        assert_eq!(random, "BlockRandom");
    }
    // A ticket one order issued opens under the other.
    assert!(Arc::ptr_eq(
        &tls.aes_first.ticketer,
        &tls.chacha_first.ticketer
    ));
    assert!(Arc::ptr_eq(
        &tls.aes_first.session_storage,
        &tls.chacha_first.session_storage
    ));
}

/// The suites a configuration offers, in its order.
fn order(config: &rustls::ServerConfig) -> Vec<CipherSuite> {
    config
        .crypto_provider()
        .cipher_suites
        .iter()
        .map(|suite| suite.suite())
        .collect()
}

#[test]
fn both_orders_offer_every_suite_ring_has_and_lead_with_go_s_choice() {
    let tls = server_config(&self_signed("localhost"), &provider()).unwrap();
    let mut everything: Vec<_> = rustls::crypto::ring::ALL_CIPHER_SUITES
        .iter()
        .map(|suite| suite.suite())
        .collect();
    everything.sort_by_key(|suite| u16::from(*suite));
    for config in [&tls.aes_first, &tls.chacha_first] {
        let mut offered = order(config);
        offered.sort_by_key(|suite| u16::from(*suite));
        assert_eq!(offered, everything);
    }
    let aes = order(&tls.aes_first);
    let chacha = order(&tls.chacha_first);
    assert_eq!(
        aes[..3],
        [
            CipherSuite::TLS13_AES_128_GCM_SHA256,
            CipherSuite::TLS13_CHACHA20_POLY1305_SHA256,
            CipherSuite::TLS13_AES_256_GCM_SHA384
        ]
    );
    assert_eq!(
        chacha[..3],
        [
            CipherSuite::TLS13_CHACHA20_POLY1305_SHA256,
            CipherSuite::TLS13_AES_128_GCM_SHA256,
            CipherSuite::TLS13_AES_256_GCM_SHA384
        ]
    );
    assert_eq!(aes[3], CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256);
    assert_eq!(
        chacha[3],
        CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
    );
}

#[test]
fn aes_goes_first_only_for_a_client_that_prefers_it_on_a_machine_with_aes_instructions() {
    use CipherSuite::*;
    let firefox_like = [
        TLS13_AES_128_GCM_SHA256,
        TLS13_CHACHA20_POLY1305_SHA256,
        TLS13_AES_256_GCM_SHA384,
    ];
    let openssl_like = [
        TLS13_AES_256_GCM_SHA384,
        TLS13_CHACHA20_POLY1305_SHA256,
        TLS13_AES_128_GCM_SHA256,
    ];
    let no_aes_client = [TLS13_CHACHA20_POLY1305_SHA256, TLS13_AES_128_GCM_SHA256];
    let tls12_chacha = [
        TLS_EMPTY_RENEGOTIATION_INFO_SCSV,
        TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    ];
    // Suites rustls does not have (CBC, say) are passed over, as Go passes over unknown ones.
    let cbc_then_aes = [
        TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
        TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    ];
    let cbc_then_chacha = [
        TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
        TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    ];
    for client in [&firefox_like[..], &openssl_like, &cbc_then_aes] {
        assert!(aes_preferred(true, client), "{client:?}");
        assert!(!aes_preferred(false, client), "{client:?}");
    }
    for client in [&no_aes_client[..], &tls12_chacha, &cbc_then_chacha, &[]] {
        assert!(!aes_preferred(true, client), "{client:?}");
        assert!(!aes_preferred(false, client), "{client:?}");
    }
}

#[test]
fn reloading_a_self_signed_certificate_keeps_it() {
    let tls = ReloadableTls::load(TlsSource::from_flags("sans:localhost", "").unwrap()).unwrap();
    let before = (tls.fingerprint(), tls.current());
    assert!(!tls.files_changed());
    tls.reload().unwrap();
    assert_eq!(tls.fingerprint(), before.0);
    assert!(Arc::ptr_eq(&tls.current(), &before.1));
}

#[test]
fn source_display_names_the_files_or_the_names() {
    let files = TlsSource::from_flags("c.pem", "k.pem").unwrap();
    assert_eq!(files.to_string(), "c.pem and k.pem");
    let sans = TlsSource::from_flags("sans:localhost,[::1]", "").unwrap();
    assert_eq!(sans.to_string(), "self-signed for localhost,::1");
}

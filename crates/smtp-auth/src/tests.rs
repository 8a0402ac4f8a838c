//! Unit tests for the private parts: MD5-crypt, hash recognition, the cache, hex decoding.
//! Behaviour through the public API (real-tool fixtures, loading, reload) is in `tests/it`.

use crate::md5crypt::{self, Md5Variant};
use crate::stored::{plain_eq, Rejection, Scheme, StoredPassword};
use crate::verifier::CACHE_CAPACITY;
use crate::{Credentials, Secret, Verifier};

/// Vectors from `openssl passwd -1 -salt SALT PASSWORD` and `openssl passwd -apr1 ...`.
const MD5_VECTORS: &[(Md5Variant, &str, &str, &str)] = &[
    (
        Md5Variant::Crypt,
        "password",
        "saltsalt",
        "qjXMvbEw8oaL.CzflDtaK/",
    ),
    (
        Md5Variant::Apache,
        "password",
        "saltsalt",
        "yAAkm4libquA.ZWLHbSBq/",
    ),
    (Md5Variant::Crypt, "", "ab", "rn6aQS/o7141mj179E/zA."),
    // 40 bytes: the alternate digest is fed in more than one 16-byte chunk.
    (
        Md5Variant::Apache,
        "a forty-byte password, longer than 16 b!",
        "x/y.Z9",
        "y8/VXxrB6Y/eukCfmbXHV.",
    ),
    (
        Md5Variant::Crypt,
        "pässwörd",
        "12345678",
        "mQ1/t.WwP76MO4VquZEL.0",
    ),
];

#[test]
fn md5crypt_matches_openssl() {
    for &(variant, password, salt, expected) in MD5_VECTORS {
        let computed = md5crypt::checksum(variant, password.as_bytes(), salt.as_bytes());
        assert_eq!(
            std::str::from_utf8(&computed).unwrap(),
            expected,
            "{variant:?} {password:?}"
        );
    }
}

#[test]
fn md5crypt_salt_is_cut_at_eight_characters() {
    let short = md5crypt::checksum(Md5Variant::Crypt, b"password", b"saltsalt");
    let long = md5crypt::checksum(Md5Variant::Crypt, b"password", b"saltsaltEXTRA");
    assert_eq!(short, long);
}

#[test]
fn stored_md5crypt_verifies_through_parse() {
    let stored = StoredPassword::parse("$1$saltsalt$qjXMvbEw8oaL.CzflDtaK/").unwrap();
    assert_eq!(stored.scheme(), Scheme::Md5Crypt);
    assert!(stored.verify(b"password"));
    assert!(!stored.verify(b"Password"));
}

#[test]
fn prefixes_pick_their_scheme() {
    let cases = [
        ("hunter2", Scheme::Plain),
        ("{PLAIN}hunter2", Scheme::Plain),
        // A 13-character DES hash is indistinguishable from a plain password.
        ("abJnggxhB/yWI", Scheme::Plain),
        ("{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=", Scheme::Sha1),
        ("$apr1$saltsalt$yAAkm4libquA.ZWLHbSBq/", Scheme::Apr1),
    ];
    for (secret, scheme) in cases {
        assert_eq!(
            StoredPassword::parse(secret).unwrap().scheme(),
            scheme,
            "{secret}"
        );
    }
}

#[test]
fn plain_prefix_is_stripped() {
    let stored = StoredPassword::parse("{PLAIN}hunter2").unwrap();
    assert_eq!(stored.plain(), Some(&b"hunter2"[..]));
    assert!(stored.verify(b"hunter2"));
    assert!(!stored.verify(b"{PLAIN}hunter2"));
}

#[test]
fn sha1_of_password_verifies() {
    // base64(SHA-1("password")), as `htpasswd -s` writes it.
    let stored = StoredPassword::parse("{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=").unwrap();
    assert!(stored.verify(b"password"));
    assert!(!stored.verify(b"password "));
}

#[test]
fn broken_bodies_are_rejected_with_their_scheme() {
    let cases = [
        ("{SHA}not base64!", Scheme::Sha1),
        ("{SHA}c2hvcnQ=", Scheme::Sha1),
        ("{SSHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=", Scheme::Ssha),
        ("{SSHA}%%%", Scheme::Ssha),
        ("$apr1$saltsalt", Scheme::Apr1),
        ("$apr1$saltsalt$short", Scheme::Apr1),
        ("$apr1$ninechars$yAAkm4libquA.ZWLHbSBq/", Scheme::Apr1),
        ("$1$$qjXMvbEw8oaL.CzflDtaK/", Scheme::Md5Crypt),
        ("$1$saltsalt$qjXMvbEw8oaL.CzflDtaK!", Scheme::Md5Crypt),
        ("$2y$05$tooshort", Scheme::Bcrypt),
        (
            "$2y$xx$zVmj.01Xnoy6xkb2OFDhPuSjAm445QtG/EF0C/zSGiGrZh/N8vnu.",
            Scheme::Bcrypt,
        ),
        (
            "$2y$99$zVmj.01Xnoy6xkb2OFDhPuSjAm445QtG/EF0C/zSGiGrZh/N8vnu.",
            Scheme::Bcrypt,
        ),
        ("$5$salt", Scheme::Sha256Crypt),
        ("$5$salt$tooshort", Scheme::Sha256Crypt),
        (
            "$5$rounds=10$salt$YBj3Jyyj4o64q.uKPJ3ydOdxo8kwXMjZzP.7O.y/TR6",
            Scheme::Sha256Crypt,
        ),
        (
            "$5$rounds=x$salt$YBj3Jyyj4o64q.uKPJ3ydOdxo8kwXMjZzP.7O.y/TR6",
            Scheme::Sha256Crypt,
        ),
        (
            "$6$salt$YBj3Jyyj4o64q.uKPJ3ydOdxo8kwXMjZzP.7O.y/TR6",
            Scheme::Sha512Crypt,
        ),
        ("$argon2id$v=19$m=1024,t=2,p=1$c2FsdA", Scheme::Argon2),
        (
            "$argon2id$v=19$m=1024,t=2,p=1$c2FsdA$sNzHk2OKXpwae8GqP4pvFSuKaJJgprIaxNWg0fS1oLI",
            Scheme::Argon2,
        ),
        (
            "$argon2x$v=19$m=1024,t=2,p=1$c2FsdHNhbHQ$sNzHk2OKXpwae8GqP4pvFSuKaJJgprIaxNWg0fS1oLI",
            Scheme::Argon2,
        ),
        (
            "$argon2id$v=19$m=1,t=2,p=1$c2FsdHNhbHQ$sNzHk2OKXpwae8GqP4pvFSuKaJJgprIaxNWg0fS1oLI",
            Scheme::Argon2,
        ),
        ("$argon2id$garbage", Scheme::Argon2),
    ];
    for (secret, scheme) in cases {
        match StoredPassword::parse(secret) {
            Err(Rejection::Malformed(found, _)) => assert_eq!(found, scheme, "{secret}"),
            other => panic!("{secret}: expected a malformed {scheme}, got {other:?}"),
        }
    }
}

#[test]
fn known_unsupported_hashes_are_refused_by_name() {
    let yescrypt = "$y$j9T$F5Jx5fExrKuPp53xLKQ..1$X3DX6M94c7o.9agCG9G317fhZg9SqC.5i5rd.RhAtQ7";
    assert_eq!(
        StoredPassword::parse(yescrypt).unwrap_err(),
        Rejection::Unsupported("yescrypt")
    );
    let two_x = "$2x$05$zVmj.01Xnoy6xkb2OFDhPuSjAm445QtG/EF0C/zSGiGrZh/N8vnu.";
    assert!(matches!(
        StoredPassword::parse(two_x),
        Err(Rejection::Unsupported(_))
    ));
}

#[test]
fn empty_secrets_are_rejected() {
    assert_eq!(StoredPassword::parse("").unwrap_err(), Rejection::Empty);
    assert_eq!(
        StoredPassword::parse("{PLAIN}").unwrap_err(),
        Rejection::Empty
    );
}

#[test]
fn plain_comparison_checks_every_byte_and_the_length() {
    assert!(plain_eq(b"secret", b"secret"));
    assert!(!plain_eq(b"secret", b"secreT"));
    assert!(!plain_eq(b"secret", b"secret\0"));
    assert!(!plain_eq(b"secret", b""));
}

#[test]
fn secret_debug_is_redacted() {
    let secret = Secret::new(String::from("hunter2"));
    assert_eq!(format!("{secret:?}"), "Secret(<redacted>)");
    assert_eq!(format!("{secret:#?}"), "Secret(<redacted>)");
    assert_eq!(secret.expose_secret(), "hunter2");
}

#[test]
fn stored_password_debug_inside_secret_hides_the_hash() {
    let stored =
        Secret::new(StoredPassword::parse("$apr1$saltsalt$yAAkm4libquA.ZWLHbSBq/").unwrap());
    let printed = format!("{stored:?}");
    assert!(!printed.contains("saltsalt"), "{printed}");
}

#[test]
fn cache_holds_at_most_its_capacity() {
    let count = CACHE_CAPACITY + 50;
    let inline: String = (0..count).map(|i| format!("user{i}:pw{i} ")).collect();
    let verifier = Verifier::new(Credentials::parse_inline(&inline).unwrap());
    for i in 0..count {
        assert!(verifier.verify(&format!("user{i}"), format!("pw{i}").as_bytes()));
    }
    assert_eq!(verifier.cached_logins(), CACHE_CAPACITY);
}

#[test]
fn cache_tags_keep_user_and_password_apart() {
    let verifier = Verifier::new(Credentials::parse_inline("a:bc ab:c").unwrap());
    let first = verifier.tag("a", b"bc").unwrap();
    let second = verifier.tag("ab", b"c").unwrap();
    assert_ne!(first, second);
    assert_eq!(first, verifier.tag("a", b"bc").unwrap());
}

#[test]
fn cache_keys_differ_between_verifiers() {
    let one = Verifier::new(Credentials::parse_inline("a:b").unwrap());
    let two = Verifier::new(Credentials::parse_inline("a:b").unwrap());
    assert_ne!(one.tag("a", b"b").unwrap(), two.tag("a", b"b").unwrap());
}

#[test]
fn cram_md5_response_hex_must_be_32_digits() {
    let credentials = Credentials::parse_inline("tim:tanstaaftanstaaf").unwrap();
    let challenge = b"<1896.697170952@postoffice.reston.mci.net>";
    let good = "b913a602c7eda7a495b4e6e7334d3890";
    assert!(credentials.verify_cram_md5("tim", challenge, good));
    assert!(credentials.verify_cram_md5("tim", challenge, &good.to_uppercase()));
    assert!(!credentials.verify_cram_md5("tim", challenge, &good[..30]));
    assert!(!credentials.verify_cram_md5("tim", challenge, &format!("{good}00")));
    assert!(!credentials.verify_cram_md5("tim", challenge, "zz13a602c7eda7a495b4e6e7334d3890"));
}

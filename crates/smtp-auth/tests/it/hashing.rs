//! `hash_password` and `format_htpasswd_line` write what the loader reads back.

use smtp_auth::{format_htpasswd_line, hash_password, Credentials, HashError, HashScheme, Scheme};

use crate::write_temp;

#[test]
fn bcrypt_output_round_trips_through_the_loader() {
    let hash = hash_password(HashScheme::Bcrypt, "pässword 1".as_bytes()).unwrap();
    assert!(hash.starts_with("$2y$10$"), "{hash}");
    let line = format_htpasswd_line("alice", &hash).unwrap();
    let path = write_temp("bcrypt-round-trip.txt", format!("{line}\n").as_bytes());
    let credentials = Credentials::from_file(path).unwrap();
    assert_eq!(credentials.scheme("alice"), Some(Scheme::Bcrypt));
    assert!(credentials.verify("alice", "pässword 1".as_bytes()));
    assert!(!credentials.verify("alice", b"password 1"));
}

#[test]
fn argon2id_output_round_trips_through_the_loader() {
    let hash = hash_password(HashScheme::Argon2id, b"s3cret").unwrap();
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    let credentials =
        Credentials::parse_inline(&format_htpasswd_line("bob", &hash).unwrap()).unwrap();
    assert_eq!(credentials.scheme("bob"), Some(Scheme::Argon2));
    assert!(credentials.verify("bob", b"s3cret"));
    assert!(!credentials.verify("bob", b"s3cret "));
}

#[test]
fn every_hash_gets_a_fresh_salt() {
    let first = hash_password(HashScheme::Argon2id, b"same").unwrap();
    let second = hash_password(HashScheme::Argon2id, b"same").unwrap();
    assert_ne!(first, second);
}

#[test]
fn passwords_bcrypt_would_cut_or_empty_ones_are_refused() {
    assert!(hash_password(HashScheme::Bcrypt, &[b'a'; 72]).is_ok());
    assert!(matches!(
        hash_password(HashScheme::Bcrypt, &[b'a'; 73]),
        Err(HashError::PasswordTooLong { max_bytes: 72 })
    ));
    assert!(matches!(
        hash_password(HashScheme::Argon2id, b""),
        Err(HashError::EmptyPassword)
    ));
}

#[test]
fn user_names_that_would_not_load_back_are_refused() {
    for user in ["", "a:b", "a b", "#admin", "tab\tname", "nl\n"] {
        assert!(
            matches!(
                format_htpasswd_line(user, "x"),
                Err(HashError::InvalidUserName(_))
            ),
            "{user:?}"
        );
    }
    assert!(matches!(
        format_htpasswd_line("alice", "a b"),
        Err(HashError::InvalidHash)
    ));
    assert_eq!(
        format_htpasswd_line("alice", "$2y$10$abc").unwrap(),
        "alice:$2y$10$abc"
    );
}

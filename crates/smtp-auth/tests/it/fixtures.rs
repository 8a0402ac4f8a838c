//! Every hash written by the real tools verifies its password and refuses wrong ones.

use std::collections::BTreeMap;

use smtp_auth::{Credentials, Scheme};

use crate::fixtures_dir;

/// The fixture files and the users in each, with the scheme each must be read as.
const FILES: &[(&str, &[(&str, Scheme)])] = &[
    (
        "htpasswd.txt",
        &[
            ("apr1", Scheme::Apr1),
            ("bcrypt", Scheme::Bcrypt),
            ("sha1", Scheme::Sha1),
            ("sha256", Scheme::Sha256Crypt),
            ("sha256rounds", Scheme::Sha256Crypt),
            ("sha512", Scheme::Sha512Crypt),
            ("plain", Scheme::Plain),
        ],
    ),
    (
        "mkpasswd.txt",
        &[
            ("md5crypt", Scheme::Md5Crypt),
            ("sha256crypt", Scheme::Sha256Crypt),
            ("sha512crypt", Scheme::Sha512Crypt),
            ("sha512rounds", Scheme::Sha512Crypt),
            ("bcrypt2b", Scheme::Bcrypt),
            ("bcrypt2a", Scheme::Bcrypt),
        ],
    ),
    (
        "argon2.txt",
        &[
            ("argon2id", Scheme::Argon2),
            ("argon2i", Scheme::Argon2),
            ("argon2d", Scheme::Argon2),
        ],
    ),
    (
        "openssl.txt",
        &[("ssha", Scheme::Ssha), ("plainprefix", Scheme::Plain)],
    ),
];

/// `passwords.tsv`: user, tab, password.
fn passwords() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(fixtures_dir().join("passwords.tsv")).unwrap();
    text.lines()
        .map(|line| {
            let (user, password) = line.split_once('\t').unwrap();
            (user.to_owned(), password.to_owned())
        })
        .collect()
}

#[test]
fn every_fixture_user_is_listed_with_a_password() {
    let listed: usize = FILES.iter().map(|(_, users)| users.len()).sum();
    assert_eq!(passwords().len(), listed);
}

#[test]
fn real_tool_hashes_verify_the_right_password_only() {
    let passwords = passwords();
    for (file, users) in FILES {
        let credentials = Credentials::from_file(fixtures_dir().join(file)).unwrap();
        assert_eq!(credentials.len(), users.len(), "{file}");
        for (user, scheme) in *users {
            let password = &passwords[*user];
            assert_eq!(credentials.scheme(user), Some(*scheme), "{file}: {user}");
            assert!(
                credentials.verify(user, password.as_bytes()),
                "{file}: {user} refused"
            );
            for wrong in wrong_passwords(password) {
                assert!(
                    !credentials.verify(user, wrong.as_bytes()),
                    "{file}: {user} took {wrong:?}"
                );
            }
        }
    }
}

/// Near misses: one character more, one less, a changed case, and nothing.
fn wrong_passwords(right: &str) -> Vec<String> {
    let mut shorter = right.to_owned();
    shorter.pop();
    vec![
        format!("{right}x"),
        shorter,
        right.to_uppercase(),
        String::new(),
    ]
}

#[test]
fn only_plain_text_users_count_as_plain() {
    let htpasswd = Credentials::from_file(fixtures_dir().join("htpasswd.txt")).unwrap();
    assert!(htpasswd.has_plain_users());
    let mkpasswd = Credentials::from_file(fixtures_dir().join("mkpasswd.txt")).unwrap();
    assert!(!mkpasswd.has_plain_users());
}

//! Loading files and `MP_SMTP_AUTH`: errors with places, comments, duplicates, redaction.

use smtp_auth::{Credentials, LoadError, LoadErrorKind, Origin, Scheme};

use crate::write_temp;

fn file_error(name: &str, contents: &str) -> LoadError {
    Credentials::from_file(write_temp(name, contents.as_bytes())).unwrap_err()
}

#[test]
fn comments_blank_lines_crlf_and_a_bom_are_ignored() {
    let path = write_temp(
        "comments.txt",
        b"\xEF\xBB\xBFalice:zero\n# users\r\n\r\n  alice:one  \r\n\t# bob:two\nbob:three\n",
    );
    let credentials = Credentials::from_file(path).unwrap();
    assert_eq!(credentials.len(), 2);
    assert!(credentials.verify("alice", b"one"));
    assert!(credentials.verify("bob", b"three"));
    assert!(!credentials.verify("bob", b"two"));
}

#[test]
fn a_line_without_colon_names_file_and_line() {
    let error = file_error("no-colon.txt", "alice:one\n\n# comment\njust-a-secret\n");
    assert!(matches!(error.kind(), LoadErrorKind::MissingColon));
    assert_eq!(error.position(), Some(4));
    let message = error.to_string();
    assert!(message.contains("no-colon.txt line 4"), "{message}");
    assert!(!message.contains("just-a-secret"), "{message}");
}

#[test]
fn an_empty_user_name_is_refused() {
    let error = file_error("empty-user.txt", "alice:one\n:two\n");
    assert!(matches!(error.kind(), LoadErrorKind::EmptyUser));
    assert_eq!(error.position(), Some(2));
    assert!(
        error.to_string().ends_with("line 2: empty user name"),
        "{error}"
    );
}

#[test]
fn an_empty_password_is_refused() {
    let error = file_error("empty-secret.txt", "alice:\n");
    assert!(matches!(error.kind(), LoadErrorKind::EmptySecret { user } if user == "alice"));
}

#[test]
fn broken_hash_bodies_name_the_line_scheme_and_user_but_not_the_hash() {
    let cases = [
        ("{SHA}!!!notbase64", Scheme::Sha1),
        ("{SSHA}AAAA", Scheme::Ssha),
        ("$2y$05$zVmj.01Xnoy6xkb2OFDhPuSjAm445QtG", Scheme::Bcrypt),
        ("$apr1$salt", Scheme::Apr1),
        ("$1$salt$short", Scheme::Md5Crypt),
        ("$5$salt$short", Scheme::Sha256Crypt),
        ("$6$rounds=abc$salt$short", Scheme::Sha512Crypt),
        ("$argon2id$v=19$m=1024,t=2,p=1$", Scheme::Argon2),
    ];
    for (index, (hash, scheme)) in cases.iter().enumerate() {
        let error = file_error(
            &format!("broken-{index}.txt"),
            &format!("# c\nok:fine\nbob:{hash}\n"),
        );
        match error.kind() {
            LoadErrorKind::MalformedHash {
                user,
                scheme: found,
                ..
            } => {
                assert_eq!(user, "bob");
                assert_eq!(found, scheme, "{hash}");
            }
            other => panic!("{hash}: unexpected {other:?}"),
        }
        assert_eq!(error.position(), Some(3), "{hash}");
        let message = error.to_string();
        assert!(
            message.contains(&format!("broken-{index}.txt line 3")),
            "{message}"
        );
        assert!(!message.contains(hash), "{message}");
        assert!(!format!("{error:?}").contains(hash), "{error:?}");
    }
}

#[test]
fn yescrypt_is_refused_rather_than_read_as_plain_text() {
    let error = file_error(
        "yescrypt.txt",
        "bob:$y$j9T$F5Jx5fExrKuPp53xLKQ..1$X3DX6M94c7o\n",
    );
    assert!(matches!(
        error.kind(),
        LoadErrorKind::UnsupportedScheme {
            scheme: "yescrypt",
            ..
        }
    ));
    assert_eq!(error.position(), Some(1));
}

#[test]
fn invalid_utf8_names_the_line() {
    let path = write_temp("latin1.txt", b"alice:one\nbob:p\xe4ss\n");
    let error = Credentials::from_file(path).unwrap_err();
    assert!(matches!(error.kind(), LoadErrorKind::NotUtf8));
    assert_eq!(error.position(), Some(2));
}

#[test]
fn a_missing_file_says_so_with_its_path() {
    let path = std::path::Path::new("/nonexistent/smtp-auth/passwords");
    let error = Credentials::from_file(path).unwrap_err();
    assert!(matches!(error.kind(), LoadErrorKind::Unreadable(_)));
    assert_eq!(error.position(), None);
    assert_eq!(error.origin(), &Origin::File(path.to_owned()));
    let message = error.to_string();
    assert!(
        message
            .starts_with("password file not found or readable: /nonexistent/smtp-auth/passwords"),
        "{message}"
    );
    assert!(std::error::Error::source(&error).is_some());
}

#[test]
fn a_file_with_only_comments_is_refused() {
    let error = file_error("only-comments.txt", "# nobody here\n\n");
    assert!(matches!(error.kind(), LoadErrorKind::NoUsers));
}

#[test]
fn inline_entries_are_split_on_any_whitespace() {
    let credentials =
        Credentials::parse_inline(" alice:one\tbob:two\n\ncarol:{PLAIN}three  ").unwrap();
    assert_eq!(credentials.len(), 3);
    assert!(credentials.verify("alice", b"one"));
    assert!(credentials.verify("bob", b"two"));
    assert!(credentials.verify("carol", b"three"));
}

#[test]
fn inline_accepts_hashes() {
    let credentials =
        Credentials::parse_inline("alice:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g= bob:plain").unwrap();
    assert_eq!(credentials.scheme("alice"), Some(Scheme::Sha1));
    assert!(credentials.verify("alice", b"password"));
}

#[test]
fn inline_errors_name_the_entry_number() {
    let error = Credentials::parse_inline("alice:one   bob:two\ncarol-secret").unwrap_err();
    assert_eq!(error.origin(), &Origin::Inline);
    assert_eq!(error.position(), Some(3));
    assert_eq!(
        error.to_string(),
        "MP_SMTP_AUTH entry 3: no ':' between user name and password"
    );
}

#[test]
fn inline_without_entries_is_refused() {
    let error = Credentials::parse_inline("  \n ").unwrap_err();
    assert!(matches!(error.kind(), LoadErrorKind::NoUsers));
}

#[test]
fn the_last_duplicate_wins() {
    let inline = Credentials::parse_inline("alice:first bob:x alice:second").unwrap();
    assert_eq!(inline.len(), 2);
    assert!(inline.verify("alice", b"second"));
    assert!(!inline.verify("alice", b"first"));

    let path = write_temp("duplicate.txt", b"alice:first\nalice:second\n");
    let file = Credentials::from_file(path).unwrap();
    assert!(file.verify("alice", b"second"));
    assert!(!file.verify("alice", b"first"));
}

#[test]
fn passwords_may_contain_colons() {
    let credentials = Credentials::parse_inline("alice:a:b:c").unwrap();
    assert!(credentials.verify("alice", b"a:b:c"));
    assert!(!credentials.verify("alice", b"c"));
}

#[test]
fn unknown_users_are_refused() {
    let credentials = Credentials::parse_inline("alice:one").unwrap();
    assert!(!credentials.verify("bob", b"one"));
    assert!(!credentials.verify("", b""));
    assert_eq!(credentials.scheme("bob"), None);
}

#[test]
fn debug_lists_user_names_but_no_secret() {
    let credentials =
        Credentials::parse_inline("zed:plain-secret amy:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=")
            .unwrap();
    let printed = format!("{credentials:?} {credentials:#?}");
    assert!(
        printed.contains(r#"Credentials { users: ["amy", "zed"] }"#),
        "{printed}"
    );
    assert!(!printed.contains("plain-secret"), "{printed}");
    assert!(!printed.contains("W6ph5"), "{printed}");
}

#[test]
fn cram_md5_matches_rfc_2195() {
    // RFC 2195 section 2: user tim, shared secret tanstaaftanstaaf.
    let credentials = Credentials::parse_inline("tim:tanstaaftanstaaf").unwrap();
    let challenge = b"<1896.697170952@postoffice.reston.mci.net>";
    assert!(credentials.verify_cram_md5("tim", challenge, "b913a602c7eda7a495b4e6e7334d3890"));
    assert!(!credentials.verify_cram_md5("tim", challenge, "b913a602c7eda7a495b4e6e7334d3891"));
    assert!(!credentials.verify_cram_md5(
        "tim",
        b"<other@challenge>",
        "b913a602c7eda7a495b4e6e7334d3890"
    ));
    assert!(!credentials.verify_cram_md5("tom", challenge, "b913a602c7eda7a495b4e6e7334d3890"));
}

#[test]
fn cram_md5_refuses_hashed_users() {
    // {SHA} of "tanstaaftanstaaf": the right response cannot be checked without the password.
    let credentials = Credentials::parse_inline("tim:{SHA}HuBr0dbbiKEV0LCm4RYYIaf29J0=").unwrap();
    assert!(credentials.verify("tim", b"tanstaaftanstaaf"));
    assert!(!credentials.has_plain_users());
    let challenge = b"<1896.697170952@postoffice.reston.mci.net>";
    assert!(!credentials.verify_cram_md5("tim", challenge, "b913a602c7eda7a495b4e6e7334d3890"));
}

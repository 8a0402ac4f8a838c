//! SMTP AUTH end to end (issue 4): every policy row with Python's `smtplib`, each format Apache's
//! `htpasswd` writes, `swaks` and `curl`, the cap on failed attempts, the verified-login cache,
//! reloads (explicit and on file change), start-up errors, `mailsink hash-password`, and
//! credentials kept out of the logs.
//!
//! Credentials files are written by the real tools (`htpasswd`, `mailsink hash-password`) into a
//! directory of the test's own. TLS uses a self-signed `sans:localhost` certificate and clients
//! that do not verify it.

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use mailsink_tests::{
    mailsink_bin, path_str, python, require_tool, run_mailsink, wait_bounded, RawClient, TempDir,
    TestServer,
};
use smtp_store::StoredMessage;

/// A self-signed certificate made at start-up: optional STARTTLS, required once credentials exist.
const TLS: [&str; 4] = [
    "--smtp-tls-cert",
    "sans:localhost",
    "--smtp-tls-key",
    "sans:localhost",
];
const AUTH_OK: &str = "235 2.7.0 Authentication successful";
const AUTH_INVALID: &str = "535 5.7.8 Authentication credentials invalid";

// ---- policy rows with smtplib ---------------------------------------------------------------

/// The AUTH user each stored message was sent as, in store order.
fn auth_users(messages: &[Arc<StoredMessage>]) -> Vec<Option<String>> {
    messages
        .iter()
        .map(|m| m.envelope().auth_user.clone())
        .collect()
}

#[test]
fn credentials_file_requires_starttls_then_auth_and_marks_esmtpsa() {
    let dir = TempDir::new("policy-file");
    let file = dir.join("users");
    htpasswd(&file, "B", "alice", "secret");
    let server = TestServer::start(&with_tls(&["--smtp-auth-file", path_str(&file)]));

    let login = smtplib_login(server.port(), Channel::StartTls, "alice", "secret", None);
    assert_eq!(
        login.before_tls, "-",
        "no AUTH offered before TLS: {login:?}"
    );
    assert_eq!(
        login.after_tls.as_deref(),
        Some("PLAIN LOGIN"),
        "no CRAM-MD5 without a plain-text user"
    );
    assert_eq!(login.reply, AUTH_OK);
    assert!(
        login.queued.starts_with("250 2.0.0 Ok: queued as "),
        "{login:?}"
    );

    let messages = server.messages();
    assert_eq!(messages.len(), 1);
    let envelope = messages[0].envelope();
    assert_eq!(envelope.auth_user.as_deref(), Some("alice"));
    assert!(envelope.tls);
    let raw = String::from_utf8_lossy(messages[0].raw()).into_owned();
    assert!(
        raw.contains(&format!("with ESMTPSA id {}", messages[0].id())),
        "{raw}"
    );

    // The refusals on the way, in Mailpit's words.
    let script = r#"
import base64, smtplib, ssl, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=20)
s.ehlo("client.example")
print(s.docmd("AUTH", "PLAIN " + base64.b64encode(b"\0alice\0secret").decode()))
print(s.docmd("MAIL", "FROM:<a@example.com>"))
s.starttls(context=ssl._create_unverified_context())
s.ehlo("client.example")
print(s.docmd("MAIL", "FROM:<a@example.com>"))
print(s.docmd("RCPT", "TO:<b@example.com>"))
print(s.docmd("DATA"))
print(s.login("alice", "secret"))
print(s.docmd("MAIL", "FROM:<a@example.com>"))
s.quit()
"#;
    let out = python(script, &[&server.port().to_string()]);
    let expected = [
        "(530, b'5.7.0 Must issue a STARTTLS command first')",
        "(530, b'5.7.0 Must issue a STARTTLS command first')",
        "(530, b'5.7.0 Authentication required')",
        "(530, b'5.7.0 Authentication required')",
        "(530, b'5.7.0 Authentication required')",
        "(235, b'2.7.0 Authentication successful')",
        "(250, b'2.1.0 Ok')",
    ];
    assert_eq!(out.lines().collect::<Vec<_>>(), expected);
    assert_eq!(
        server.messages().len(),
        1,
        "no message slipped through unauthenticated"
    );
}

#[test]
fn cram_md5_is_offered_only_when_a_plain_text_user_exists() {
    let dir = TempDir::new("policy-cram");
    let file = dir.join("users");
    htpasswd(&file, "B", "alice", "secret");
    htpasswd(&file, "p", "carol", "plain-pw");
    let server = TestServer::start(&with_tls(&["--smtp-auth-file", path_str(&file)]));

    // smtplib prefers CRAM-MD5 when offered: the plain-text user logs in with it.
    let carol = smtplib_login(server.port(), Channel::StartTls, "carol", "plain-pw", None);
    assert_eq!(carol.before_tls, "-");
    assert_eq!(carol.after_tls.as_deref(), Some("PLAIN LOGIN CRAM-MD5"));
    assert_eq!(carol.reply, AUTH_OK);
    // A hashed user cannot answer CRAM-MD5 (535), and smtplib falls back to PLAIN.
    let alice = smtplib_login(
        server.port(),
        Channel::StartTls,
        "alice",
        "secret",
        Some("CRAM-MD5"),
    );
    assert_eq!(alice.reply, AUTH_INVALID);
    let alice = smtplib_login(server.port(), Channel::StartTls, "alice", "secret", None);
    assert_eq!(alice.reply, AUTH_OK);

    let users = auth_users(&server.messages());
    assert_eq!(users, [Some("carol".to_owned()), Some("alice".to_owned())]);
}

#[test]
fn allow_insecure_offers_auth_in_plaintext_and_marks_esmtpa() {
    let dir = TempDir::new("policy-insecure");
    let file = dir.join("users");
    htpasswd(&file, "B", "alice", "secret");
    let server = TestServer::start(&[
        "--smtp-auth-file",
        path_str(&file),
        "--smtp-auth-allow-insecure",
    ]);

    let login = smtplib_login(server.port(), Channel::Plain, "alice", "secret", None);
    assert_eq!(login.before_tls, "PLAIN LOGIN");
    assert_eq!(login.reply, AUTH_OK);
    let messages = server.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].envelope().auth_user.as_deref(), Some("alice"));
    assert!(!messages[0].envelope().tls);
    let raw = String::from_utf8_lossy(messages[0].raw()).into_owned();
    assert!(
        raw.contains(&format!("with ESMTPA id {}", messages[0].id())),
        "{raw}"
    );

    // Still required: no mail without a login.
    let anonymous = smtplib_login(server.port(), Channel::Plain, "-", "", None);
    assert!(
        anonymous
            .queued
            .starts_with("530 5.7.0 Authentication required"),
        "{anonymous:?}"
    );
    assert_eq!(server.messages().len(), 1);

    // With a certificate too, STARTTLS stays optional and AUTH is offered on both sides of it.
    let server = TestServer::start(&with_tls(&[
        "--smtp-auth-file",
        path_str(&file),
        "--smtp-auth-allow-insecure",
    ]));
    let login = smtplib_login(server.port(), Channel::StartTls, "alice", "secret", None);
    assert_eq!(login.before_tls, "PLAIN LOGIN");
    assert_eq!(login.after_tls.as_deref(), Some("PLAIN LOGIN"));
    assert_eq!(login.reply, AUTH_OK);
    let raw = String::from_utf8_lossy(server.messages()[0].raw()).into_owned();
    assert!(raw.contains("with ESMTPSA id"), "{raw}");
}

#[test]
fn accept_any_makes_auth_optional_and_accepts_anything() {
    let server = TestServer::start(&["--smtp-auth-accept-any", "--smtp-auth-allow-insecure"]);

    let anonymous = smtplib_login(server.port(), Channel::Plain, "-", "", None);
    assert_eq!(anonymous.before_tls, "PLAIN LOGIN");
    assert!(
        anonymous.queued.starts_with("250 2.0.0 Ok: queued as "),
        "{anonymous:?}"
    );
    let anyone = smtplib_login(server.port(), Channel::Plain, "anyone", "whatever", None);
    assert_eq!(anyone.reply, AUTH_OK);
    let by_login = smtplib_login(
        server.port(),
        Channel::Plain,
        "someone",
        "else",
        Some("LOGIN"),
    );
    assert_eq!(by_login.reply, AUTH_OK);

    let messages = server.messages();
    let users = auth_users(&messages);
    assert_eq!(
        users,
        [None, Some("anyone".to_owned()), Some("someone".to_owned())]
    );
    let raw = String::from_utf8_lossy(messages[0].raw()).into_owned();
    assert!(
        raw.contains(&format!("with ESMTP id {}", messages[0].id())),
        "{raw}"
    );

    // With a certificate and no allow-insecure, AUTH waits for TLS but stays optional.
    let server = TestServer::start(&with_tls(&["--smtp-auth-accept-any"]));
    let anonymous = smtplib_login(server.port(), Channel::Plain, "-", "", None);
    assert_eq!(anonymous.before_tls, "-");
    assert!(
        anonymous.queued.starts_with("250 2.0.0 Ok: queued as "),
        "{anonymous:?}"
    );
    let anyone = smtplib_login(server.port(), Channel::StartTls, "anyone", "x", None);
    assert_eq!(anyone.after_tls.as_deref(), Some("PLAIN LOGIN"));
    assert_eq!(anyone.reply, AUTH_OK);
    assert_eq!(server.messages().len(), 2);
}

#[test]
fn inline_credentials_from_mp_smtp_auth() {
    let server = TestServer::start_with_env(&TLS, &[("MP_SMTP_AUTH", "alice:secret bob:pw2")]);

    let alice = smtplib_login(server.port(), Channel::StartTls, "alice", "secret", None);
    assert_eq!(alice.before_tls, "-");
    assert_eq!(
        alice.after_tls.as_deref(),
        Some("PLAIN LOGIN CRAM-MD5"),
        "inline users are plain text"
    );
    assert_eq!(alice.reply, AUTH_OK);
    let bob = smtplib_login(
        server.port(),
        Channel::StartTls,
        "bob",
        "pw2",
        Some("PLAIN"),
    );
    assert_eq!(bob.reply, AUTH_OK);
    let crossed = smtplib_login(
        server.port(),
        Channel::StartTls,
        "alice",
        "pw2",
        Some("PLAIN LOGIN"),
    );
    assert_eq!(crossed.reply, AUTH_INVALID);

    let users = auth_users(&server.messages());
    assert_eq!(users, [Some("alice".to_owned()), Some("bob".to_owned())]);
}

// ---- every htpasswd format ------------------------------------------------------------------

#[test]
fn every_htpasswd_format_logs_in_with_the_right_password_only() {
    // bcrypt, apr1 (htpasswd's default), {SHA}, SHA-512-crypt, SHA-256-crypt, plain text.
    for (flag, prefix) in [
        ("B", "$2y$"),
        ("m", "$apr1$"),
        ("s", "{SHA}"),
        ("5", "$6$"),
        ("2", "$5$"),
        ("p", ""),
    ] {
        let dir = TempDir::new(&format!("format-{flag}"));
        let file = dir.join("users");
        let password = format!("pw-for-{flag}");
        htpasswd(&file, flag, "alice", &password);
        let line = std::fs::read_to_string(&file).unwrap();
        assert!(
            line.starts_with(&format!("alice:{prefix}")),
            "-{flag} wrote {line:?}"
        );
        let server = TestServer::start(&with_tls(&["--smtp-auth-file", path_str(&file)]));

        let right = smtplib_login(server.port(), Channel::StartTls, "alice", &password, None);
        assert_eq!(right.reply, AUTH_OK, "htpasswd -{flag}: {right:?}");
        // PLAIN then LOGIN (smtplib tries each offered mechanism before giving up).
        let wrong = smtplib_login(
            server.port(),
            Channel::StartTls,
            "alice",
            "pw-wrong",
            Some("PLAIN LOGIN"),
        );
        assert_eq!(wrong.reply, AUTH_INVALID, "htpasswd -{flag}: {wrong:?}");
        let messages = server.messages();
        assert_eq!(messages.len(), 1, "htpasswd -{flag}");
        assert_eq!(messages[0].envelope().auth_user.as_deref(), Some("alice"));
    }
}

// ---- swaks and curl -------------------------------------------------------------------------

#[test]
fn swaks_logs_in_with_plain_login_and_cram_md5() {
    require_tool("swaks");
    let dir = TempDir::new("swaks");
    let file = dir.join("users");
    htpasswd(&file, "B", "bob", "bob-pw");
    htpasswd(&file, "p", "carol", "carol-pw");
    let server = TestServer::start(&with_tls(&["--smtp-auth-file", path_str(&file)]));

    for (mechanism, user, password) in [
        ("PLAIN", "bob", "bob-pw"),
        ("LOGIN", "bob", "bob-pw"),
        ("CRAM-MD5", "carol", "carol-pw"),
    ] {
        let out = swaks(server.port(), mechanism, user, password);
        assert!(out.success, "swaks --auth {mechanism}: {}", out.transcript);
        assert!(out.transcript.contains(AUTH_OK), "{}", out.transcript);
    }
    // A user stored as a hash cannot answer a CRAM-MD5 challenge: 535, not an error.
    let hashed = swaks(server.port(), "CRAM-MD5", "bob", "bob-pw");
    assert!(!hashed.success, "{}", hashed.transcript);
    assert!(
        hashed.transcript.contains(AUTH_INVALID),
        "{}",
        hashed.transcript
    );
    let wrong = swaks(server.port(), "LOGIN", "bob", "not-bobs");
    assert!(!wrong.success, "{}", wrong.transcript);
    assert!(
        wrong.transcript.contains(AUTH_INVALID),
        "{}",
        wrong.transcript
    );

    let messages = server.messages();
    let users = auth_users(&messages);
    assert_eq!(
        users,
        [
            Some("bob".to_owned()),
            Some("bob".to_owned()),
            Some("carol".to_owned())
        ]
    );
    assert!(messages.iter().all(|m| m.envelope().tls));
    let raw = String::from_utf8_lossy(messages[2].raw()).into_owned();
    assert!(raw.contains("Subject: swaks CRAM-MD5"), "{raw}");
}

#[test]
fn curl_delivers_with_user_over_required_starttls() {
    let curl = require_tool("curl");
    let dir = TempDir::new("curl");
    let file = dir.join("users");
    htpasswd(&file, "B", "alice", "secret");
    let message = dir.join("message.eml");
    std::fs::write(&message, "From: alice@example.com\r\nTo: r@example.com\r\nSubject: via curl\r\n\r\nhello from curl\r\n").unwrap();
    let server = TestServer::start(&with_tls(&["--smtp-auth-file", path_str(&file)]));

    let run = |user: &str| {
        Command::new(&curl)
            .args([
                "-sS",
                "--max-time",
                "20",
                "--ssl-reqd",
                "-k",
                "--user",
                user,
            ])
            .arg(format!("smtp://127.0.0.1:{}/client.example", server.port()))
            .args([
                "--mail-from",
                "alice@example.com",
                "--mail-rcpt",
                "r@example.com",
                "--upload-file",
            ])
            .arg(&message)
            .output()
            .unwrap()
    };
    let ok = run("alice:secret");
    assert!(
        ok.status.success(),
        "curl: {}",
        String::from_utf8_lossy(&ok.stderr)
    );
    // curl exits 67 when the server refuses the login.
    let refused = run("alice:wrong");
    assert_eq!(
        refused.status.code(),
        Some(67),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );

    let messages = server.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].envelope().auth_user.as_deref(), Some("alice"));
    assert!(messages[0].envelope().tls);
    let raw = String::from_utf8_lossy(messages[0].raw()).into_owned();
    assert!(
        raw.contains("with ESMTPSA id") && raw.contains("hello from curl"),
        "{raw}"
    );
}

// ---- abuse limit and cache ------------------------------------------------------------------

#[test]
fn third_failed_attempt_gets_421_and_closes_but_a_new_connection_can_log_in() {
    let dir = TempDir::new("three-strikes");
    let file = dir.join("users");
    htpasswd(&file, "B", "alice", "secret");
    let server = TestServer::start(&[
        "--smtp-auth-file",
        path_str(&file),
        "--smtp-auth-allow-insecure",
    ]);

    let mut client = greeted(server.addr);
    assert_eq!(auth_plain(&mut client, "alice", "wrong-1"), AUTH_INVALID);
    client.send(b"AUTH LOGIN\r\n");
    assert_eq!(client.line(), "334 VXNlcm5hbWU6");
    client.send(format!("{}\r\n", b64(b"alice")).as_bytes());
    assert_eq!(client.line(), "334 UGFzc3dvcmQ6");
    client.send(format!("{}\r\n", b64(b"wrong-2")).as_bytes());
    assert_eq!(client.line(), AUTH_INVALID);
    client.send(b"AUTH PLAIN\r\n");
    assert_eq!(client.line(), "334 ");
    client.send(format!("{}\r\n", b64(b"\0alice\0wrong-3")).as_bytes());
    let third = client.line();
    assert!(third.starts_with("421 4.7.0 "), "{third}");
    assert!(
        client.closed(),
        "the connection closes after the third failure"
    );

    assert_eq!(login_once(server.addr, "alice", "secret"), AUTH_OK);
}

#[test]
fn the_login_cache_cannot_be_fooled_by_a_wrong_password_after_a_right_one() {
    let dir = TempDir::new("cache");
    let file = dir.join("users");
    htpasswd(&file, "B", "alice", "secret");
    htpasswd(&file, "5", "bob", "bob-pw");
    let server = TestServer::start(&[
        "--smtp-auth-file",
        path_str(&file),
        "--smtp-auth-allow-insecure",
    ]);

    for _ in 0..2 {
        assert_eq!(login_once(server.addr, "alice", "secret"), AUTH_OK);
        for wrong in ["secreT", "secret ", "secre", "", "bob-pw"] {
            assert_eq!(
                login_once(server.addr, "alice", wrong),
                AUTH_INVALID,
                "alice with {wrong:?}"
            );
        }
        // The right password under another user's name is not a verified pair either.
        assert_eq!(login_once(server.addr, "bob", "secret"), AUTH_INVALID);
        assert_eq!(login_once(server.addr, "bob", "bob-pw"), AUTH_OK);
    }
    // Over smtplib and TLS-free LOGIN too: the answer does not depend on the mechanism.
    let wrong = smtplib_login(
        server.port(),
        Channel::Plain,
        "alice",
        "wrong",
        Some("LOGIN"),
    );
    assert_eq!(wrong.reply, AUTH_INVALID);
}

// ---- reload ---------------------------------------------------------------------------------

#[test]
fn reload_takes_new_credentials_and_keeps_old_ones_when_the_file_is_broken() {
    let dir = TempDir::new("reload");
    let file = dir.join("users");
    htpasswd(&file, "B", "alice", "one");
    let server = TestServer::start(&[
        "--smtp-auth-file",
        path_str(&file),
        "--smtp-auth-allow-insecure",
    ]);
    assert_eq!(login_once(server.addr, "alice", "one"), AUTH_OK);

    htpasswd(&file, "B", "alice", "two");
    server.server().reload();
    assert_eq!(login_once(server.addr, "alice", "two"), AUTH_OK);
    assert_eq!(
        login_once(server.addr, "alice", "one"),
        AUTH_INVALID,
        "the cached verdict for `one` went with the reload"
    );

    let good = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, format!("{good}a line with no colon\n")).unwrap();
    server.server().reload();
    assert_eq!(
        login_once(server.addr, "alice", "two"),
        AUTH_OK,
        "a broken file keeps the old credentials"
    );
    assert_eq!(login_once(server.addr, "alice", "one"), AUTH_INVALID);

    // CRAM-MD5 is offered to new connections once the reloaded file holds a plain-text user.
    assert_eq!(ehlo_auth(server.addr), "AUTH PLAIN LOGIN");
    std::fs::write(&file, good).unwrap();
    htpasswd(&file, "p", "carol", "carol-pw");
    server.server().reload();
    assert_eq!(ehlo_auth(server.addr), "AUTH PLAIN LOGIN CRAM-MD5");
    assert_eq!(login_once(server.addr, "carol", "carol-pw"), AUTH_OK);
    assert_eq!(login_once(server.addr, "alice", "two"), AUTH_OK);
}

#[test]
fn a_changed_file_is_reloaded_without_being_asked() {
    let dir = TempDir::new("watch");
    let file = dir.join("users");
    htpasswd(&file, "B", "alice", "one");
    let server = TestServer::start(&[
        "--smtp-auth-file",
        path_str(&file),
        "--smtp-auth-allow-insecure",
    ]);
    assert_eq!(login_once(server.addr, "alice", "one"), AUTH_OK);
    // A new bcrypt line for the same user keeps the file's length: only its contents change.
    htpasswd(&file, "B", "alice", "two");
    let started = Instant::now();
    while login_once(server.addr, "alice", "two") != AUTH_OK {
        assert!(
            started.elapsed() < Duration::from_secs(6),
            "the changed file was not picked up"
        );
        thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(login_once(server.addr, "alice", "one"), AUTH_INVALID);
}

/// A change made between start-up's read of the file and the watcher's first look is still
/// picked up: the watcher's baseline is the stamp taken *before* the read, not one taken when its
/// thread starts (which would make such a change the baseline and hide it until the next one).
/// A race, so sixteen servers are started at once, each file rewritten the moment its server is up.
#[test]
fn a_change_right_after_start_is_not_missed() {
    let dir = TempDir::new("watch-race");
    let bob = htpasswd_line("B", "bob", "two");
    let files: Vec<_> = (0..16).map(|i| dir.join(&format!("users-{i}"))).collect();
    for file in &files {
        htpasswd(file, "B", "alice", "one");
    }
    // Each file is rewritten the moment its server is up: at once, and to another length, so
    // only a missing baseline can hide the change.
    let start_then_change = |file: &PathBuf| {
        let alice = std::fs::read_to_string(file).unwrap();
        let server = TestServer::start(&[
            "--smtp-auth-file",
            path_str(file),
            "--smtp-auth-allow-insecure",
        ]);
        std::fs::write(file, format!("{alice}{bob}\n")).unwrap();
        server
    };
    let runs: Vec<TestServer> = thread::scope(|scope| {
        let starts: Vec<_> = files
            .iter()
            .map(|file| scope.spawn(|| start_then_change(file)))
            .collect();
        starts.into_iter().map(|s| s.join().unwrap()).collect()
    });
    let started = Instant::now();
    for server in &runs {
        while login_once(server.addr, "bob", "two") != AUTH_OK {
            assert!(
                started.elapsed() < Duration::from_secs(6),
                "a change made just after start-up was never picked up"
            );
            thread::sleep(Duration::from_millis(200));
        }
    }
}

#[test]
fn a_broken_file_at_reload_logs_one_line_with_its_number_and_keeps_the_old_users() {
    let dir = TempDir::new("reload-log");
    let file = dir.join("users");
    htpasswd(&file, "B", "alice", "secret");
    let mut daemon = Daemon::start(&[
        "--smtp-auth-file",
        path_str(&file),
        "--smtp-auth-allow-insecure",
    ]);

    let good = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, format!("{good}# a comment\n{{SHA}}no-user-name\n")).unwrap();
    daemon.signal("HUP");
    let logged = daemon.wait_for("credentials reload failed");
    assert!(
        logged.contains(path_str(&file)) && logged.contains("line 3"),
        "{logged}"
    );
    assert_eq!(login_once(daemon.addr, "alice", "secret"), AUTH_OK);

    let (status, stderr) = daemon.stop();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert_eq!(
        stderr.matches("credentials reload failed").count(),
        1,
        "{stderr}"
    );
}

// ---- start-up -------------------------------------------------------------------------------

#[test]
fn a_malformed_file_at_start_up_exits_1_naming_the_file_and_line() {
    let dir = TempDir::new("startup");
    let file = dir.join("users");
    htpasswd(&file, "B", "alice", "secret");
    let good = std::fs::read_to_string(&file).unwrap();
    let cases = [
        (format!("{good}a line with no colon\n"), "line 2"),
        (format!("# users\n\n{good}:no-name\n"), "line 4"),
        (format!("{good}bob:{{SHA}}not*base64\n"), "line 2"),
        (format!("bob:$2y$05$too-short\n{good}"), "line 1"),
    ];
    for (text, line) in cases {
        std::fs::write(&file, &text).unwrap();
        let out = run_mailsink(
            &[
                "--smtp",
                "127.0.0.1:0",
                "--smtp-auth-file",
                path_str(&file),
                "--smtp-auth-allow-insecure",
            ],
            &[],
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{text:?}: {stderr}");
        assert_eq!(
            stderr.trim_end().lines().count(),
            1,
            "one line for {text:?}: {stderr}"
        );
        assert!(
            stderr.contains(path_str(&file)) && stderr.contains(line),
            "{line} of {text:?}: {stderr}"
        );
        assert!(!stderr.contains("$2y$"), "no hash is printed: {stderr}");
    }
}

// ---- hash-password --------------------------------------------------------------------------

#[test]
fn hash_password_lines_verify_with_htpasswd_and_log_in() {
    let dir = TempDir::new("hash-password");
    let file = dir.join("users");
    let alice = hash_password(&["hash-password", "alice"], "correct horse battery");
    let carol = hash_password(&["hash-password", "--bcrypt", "carol"], "carol-pw");
    let bob = hash_password(&["hash-password", "--argon2", "bob"], "bob-pw");
    assert!(alice.starts_with("alice:$2"), "{alice}");
    assert!(carol.starts_with("carol:$2"), "{carol}");
    assert!(bob.starts_with("bob:$argon2id$"), "{bob}");
    let empty = run_with_stdin(&["hash-password", "dave"], "\n");
    assert_eq!(empty.status.code(), Some(1), "an empty password is refused");
    assert!(empty.stdout.is_empty());
    std::fs::write(&file, format!("{alice}\n{carol}\n{bob}\n")).unwrap();

    // Apache's own tool agrees with the bcrypt lines.
    let verify = |user: &str, password: &str| {
        let out = Command::new(require_tool("htpasswd"))
            .arg("-vb")
            .arg(&file)
            .args([user, password])
            .output()
            .unwrap();
        out.status.success()
    };
    assert!(verify("alice", "correct horse battery"));
    assert!(!verify("alice", "correct horse"));
    assert!(verify("carol", "carol-pw"));

    let server = TestServer::start(&[
        "--smtp-auth-file",
        path_str(&file),
        "--smtp-auth-allow-insecure",
    ]);
    assert_eq!(
        login_once(server.addr, "alice", "correct horse battery"),
        AUTH_OK
    );
    assert_eq!(login_once(server.addr, "carol", "carol-pw"), AUTH_OK);
    assert_eq!(login_once(server.addr, "bob", "bob-pw"), AUTH_OK);
    assert_eq!(login_once(server.addr, "bob", "alice-pw"), AUTH_INVALID);
    assert_eq!(
        login_once(server.addr, "alice", "correct horse"),
        AUTH_INVALID
    );
}

// ---- logs -----------------------------------------------------------------------------------

#[test]
fn credentials_never_reach_the_log_but_the_failed_user_does() {
    const RIGHT: &str = "Tr0ub4dor-right";
    const WRONG: &str = "wr0ng-Guess-9";
    let dir = TempDir::new("logs");
    let file = dir.join("users");
    htpasswd(&file, "B", "alice", RIGHT);
    let hash = std::fs::read_to_string(&file).unwrap();
    let hash = hash.trim().trim_start_matches("alice:");
    let daemon = Daemon::start(&[
        "--verbose",
        "--smtp-trace",
        "--smtp-auth-allow-insecure",
        "--smtp-auth-file",
        path_str(&file),
    ]);

    let port = daemon.addr.port();
    assert_eq!(
        smtplib_login(port, Channel::Plain, "alice", RIGHT, None).reply,
        AUTH_OK
    );
    // PLAIN then LOGIN: both the one-line payload and the separate LOGIN lines are exercised.
    assert_eq!(
        smtplib_login(port, Channel::Plain, "mallory", WRONG, None).reply,
        AUTH_INVALID
    );
    assert_eq!(
        smtplib_login(port, Channel::Plain, "alice", WRONG, Some("LOGIN")).reply,
        AUTH_INVALID
    );

    let (status, stderr) = daemon.stop();
    assert_eq!(status.code(), Some(0), "{stderr}");
    let secrets = [
        RIGHT.to_owned(),
        WRONG.to_owned(),
        hash.to_owned(),
        b64(format!("\0alice\0{RIGHT}").as_bytes()),
        b64(format!("\0mallory\0{WRONG}").as_bytes()),
        b64(RIGHT.as_bytes()),
        b64(WRONG.as_bytes()),
    ];
    for secret in secrets {
        assert!(!stderr.contains(&secret), "{secret:?} was logged: {stderr}");
    }
    assert!(
        stderr.contains("AUTH PLAIN <redacted>"),
        "the trace is on: {stderr}"
    );
    assert!(
        stderr.contains("mallory") && stderr.contains("127.0.0.1"),
        "failures name user and peer: {stderr}"
    );
}

// ---- helpers --------------------------------------------------------------------------------

fn with_tls<'a>(args: &[&'a str]) -> Vec<&'a str> {
    TLS.iter().chain(args).copied().collect()
}

/// Adds or replaces `user` in the file with Apache's `htpasswd -b<format>` (`-c` creates it).
fn htpasswd(file: &Path, format: &str, user: &str, password: &str) {
    let create = if file.exists() { "" } else { "c" };
    let out = Command::new(require_tool("htpasswd"))
        .arg(format!("-b{create}{format}"))
        .arg(file)
        .args([user, password])
        .output()
        .expect("run htpasswd");
    assert!(
        out.status.success(),
        "htpasswd -{format}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// One `user:hash` line from `htpasswd -nb<format>`, without touching any file.
fn htpasswd_line(format: &str, user: &str, password: &str) -> String {
    let out = Command::new(require_tool("htpasswd"))
        .arg(format!("-nb{format}"))
        .args([user, password])
        .output()
        .expect("run htpasswd");
    assert!(out.status.success(), "htpasswd -n{format}");
    String::from_utf8(out.stdout)
        .expect("htpasswd prints UTF-8")
        .trim()
        .to_owned()
}

/// Standard base64 with padding, as SASL wants it.
fn b64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A plaintext connection past the banner and EHLO.
fn greeted(addr: SocketAddr) -> RawClient {
    let mut client = RawClient::connect(addr);
    let banner = client.line();
    assert!(banner.starts_with("220 "), "{banner}");
    client.send(b"EHLO client.example\r\n");
    let ehlo = client.reply();
    assert!(ehlo.starts_with("250-"), "{ehlo}");
    client
}

/// The `AUTH ...` line of a new plaintext connection's EHLO reply, `-` when there is none.
fn ehlo_auth(addr: SocketAddr) -> String {
    let mut client = RawClient::connect(addr);
    client.line();
    client.send(b"EHLO client.example\r\nQUIT\r\n");
    let ehlo = client.reply();
    ehlo.lines()
        .find_map(|line| line.get(4..).filter(|rest| rest.starts_with("AUTH ")))
        .unwrap_or("-")
        .to_owned()
}

/// `AUTH PLAIN` with an initial response; the reply line.
fn auth_plain(client: &mut RawClient, user: &str, password: &str) -> String {
    let payload = b64(format!("\0{user}\0{password}").as_bytes());
    client.send(format!("AUTH PLAIN {payload}\r\n").as_bytes());
    client.line()
}

/// One `AUTH PLAIN` on a new plaintext connection (the server allows insecure AUTH).
fn login_once(addr: SocketAddr, user: &str, password: &str) -> String {
    let mut client = greeted(addr);
    let reply = auth_plain(&mut client, user, password);
    client.send(b"QUIT\r\n");
    reply
}

#[derive(Debug, Clone, Copy)]
enum Channel {
    Plain,
    StartTls,
}

/// What one smtplib session saw.
#[derive(Debug)]
struct Login {
    /// The EHLO `AUTH` mechanisms before TLS, `-` when not offered.
    before_tls: String,
    /// The same after STARTTLS.
    after_tls: Option<String>,
    /// The reply to `login()` (the last one when smtplib tried several mechanisms).
    reply: String,
    /// The reply to the message (or the first refusal on the way), when one was sent.
    queued: String,
}

/// EHLO, optional STARTTLS, `login()` (skipped for user `-`), and, unless the login failed, one
/// message. `mechanisms` narrows what smtplib believes is offered.
const SMTPLIB_SESSION: &str = r#"
import smtplib, ssl, sys
port, channel, user, password, mechanisms = sys.argv[1:6]
s = smtplib.SMTP("127.0.0.1", int(port), timeout=20)
s.ehlo("client.example")
print("before:", s.esmtp_features.get("auth", "-").strip())
if channel == "starttls":
    s.starttls(context=ssl._create_unverified_context())
    s.ehlo("client.example")
    print("after:", s.esmtp_features.get("auth", "-").strip())
if mechanisms != "-":
    s.esmtp_features["auth"] = mechanisms
if user != "-":
    try:
        code, text = s.login(user, password)
    except smtplib.SMTPAuthenticationError as e:
        code, text = e.smtp_code, e.smtp_error
    except smtplib.SMTPServerDisconnected:
        code, text = 0, b"disconnected"
    print("login:", code, text.decode())
    if code != 235:
        sys.exit(0)
for cmd, arg in (("MAIL", "FROM:<sender@example.com>"), ("RCPT", "TO:<rcpt@example.com>")):
    code, text = s.docmd(cmd, arg)
    if code != 250:
        print("queued:", code, text.decode())
        sys.exit(0)
code, text = s.data(b"Subject: auth test\r\n\r\nhello\r\n")
print("queued:", code, text.decode())
s.quit()
"#;

fn smtplib_login(
    port: u16,
    channel: Channel,
    user: &str,
    password: &str,
    mechanisms: Option<&str>,
) -> Login {
    let channel = match channel {
        Channel::Plain => "plain",
        Channel::StartTls => "starttls",
    };
    let out = python(
        SMTPLIB_SESSION,
        &[
            &port.to_string(),
            channel,
            user,
            password,
            mechanisms.unwrap_or("-"),
        ],
    );
    let field = |name: &str| {
        out.lines()
            .find_map(|line| {
                line.strip_prefix(name)
                    .and_then(|rest| rest.strip_prefix(": "))
            })
            .map(str::to_owned)
    };
    Login {
        before_tls: field("before").unwrap_or_default(),
        after_tls: field("after"),
        reply: field("login").unwrap_or_default(),
        queued: field("queued").unwrap_or_default(),
    }
}

#[derive(Debug)]
struct Swaks {
    success: bool,
    transcript: String,
}

/// `swaks --tls --auth MECHANISM` delivering one message.
fn swaks(port: u16, mechanism: &str, user: &str, password: &str) -> Swaks {
    let out = Command::new(require_tool("swaks"))
        .args([
            "--server",
            &format!("127.0.0.1:{port}"),
            "--tls",
            "--timeout",
            "20",
        ])
        .args([
            "--auth",
            mechanism,
            "--auth-user",
            user,
            "--auth-password",
            password,
        ])
        .args(["--from", "swaks@example.com", "--to", "r@example.com"])
        .args([
            "--header",
            &format!("Subject: swaks {mechanism}"),
            "--body",
            "hello from swaks",
        ])
        .output()
        .expect("run swaks");
    Swaks {
        success: out.status.success(),
        transcript: format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

/// `mailsink hash-password ...` with the password on standard input; the printed line.
fn hash_password(args: &[&str], password: &str) -> String {
    let out = run_with_stdin(args, &format!("{password}\n"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(!stdout.contains(password), "{stdout}");
    stdout.trim_end().to_owned()
}

/// Runs the `mailsink` binary with `input` on standard input (bounded in time).
fn run_with_stdin(args: &[&str], input: &str) -> Output {
    let mut child = Command::new(mailsink_bin())
        .args(args)
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn mailsink");
    let mut stdin = child.stdin.take().expect("piped stdin");
    stdin
        .write_all(input.as_bytes())
        .expect("write the password");
    drop(stdin);
    wait_bounded(child, Duration::from_secs(30))
}

/// The `mailsink` binary as a process on an ephemeral port, its standard error collected.
#[derive(Debug)]
struct Daemon {
    child: Child,
    stderr: Receiver<String>,
    seen: Vec<String>,
    addr: SocketAddr,
}

impl Daemon {
    fn start(args: &[&str]) -> Self {
        let mut child = Command::new(mailsink_bin())
            .args(["--smtp", "127.0.0.1:0", "--listen", "127.0.0.1:0"])
            .args(args)
            .env_clear()
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn mailsink");
        let pipe = child.stderr.take().expect("piped stderr");
        let (lines, stderr) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(pipe).lines() {
                let Ok(line) = line else { return };
                if lines.send(line).is_err() {
                    return;
                }
            }
        });
        let mut daemon = Self {
            child,
            stderr,
            seen: Vec::new(),
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        };
        let started = daemon.wait_for("[smtpd] starting on ");
        let addr = started
            .split("starting on ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next());
        daemon.addr = addr
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("no address in {started:?}"));
        daemon
    }

    /// The next standard-error line containing `needle` (waiting up to 10 s).
    fn wait_for(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stderr.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => {
                    panic!("no {needle:?} on stderr; so far:\n{}", self.seen.join("\n"))
                }
            }
        }
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{name}");
    }

    /// SIGTERM, then the exit status and everything written to standard error.
    fn stop(mut self) -> (ExitStatus, String) {
        self.signal("TERM");
        let deadline = Instant::now() + Duration::from_secs(15);
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait for mailsink") {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "mailsink did not stop on SIGTERM"
            );
            thread::sleep(Duration::from_millis(20));
        };
        let mut seen = std::mem::take(&mut self.seen);
        while let Ok(line) = self.stderr.recv_timeout(Duration::from_secs(5)) {
            seen.push(line);
        }
        (status, seen.join("\n"))
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

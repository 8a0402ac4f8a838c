//! Python's `smtplib`: plain delivery, the `250 ... queued as <ID>` ID, the added headers, and
//! what a message looks like when stored.

use mailsink_tests::{body_after_added_headers, python, TestServer};

const SEND: &str = r#"
import smtplib, sys
port = int(sys.argv[1])
msg = (b"From: Alice <alice@example.com>\r\n"
       b"To: bob@example.com\r\n"
       b"Subject: smtplib test\r\n"
       b"\r\n"
       b"line one\r\n"
       b".starts with a dot\r\n"
       b"bare\nlf stays\r\n")
with smtplib.SMTP("127.0.0.1", port) as s:
    s.ehlo("client.example")
    s.mail("alice@example.com")
    s.rcpt("bob@example.com")
    s.rcpt("hidden@example.com")
    code, reply = s.data(msg)
    print(code, reply.decode())
"#;

#[test]
fn smtplib_delivers_and_the_reply_names_the_stored_id() {
    let server = TestServer::start(&[]);
    let out = python(SEND, &[&server.port().to_string()]);
    let messages = server.messages();
    assert_eq!(messages.len(), 1);
    let stored = &messages[0];
    assert_eq!(
        out.trim(),
        format!("250 2.0.0 Ok: queued as {}", stored.id())
    );
    let env = stored.envelope();
    assert_eq!(env.mail_from, "alice@example.com");
    assert_eq!(env.rcpt_to, ["bob@example.com", "hidden@example.com"]);
    assert_eq!(env.helo, "client.example");

    let raw = String::from_utf8_lossy(stored.raw()).into_owned();
    assert!(
        raw.starts_with(
            "Return-Path: <alice@example.com>\r\nReceived: from client.example ([127.0.0.1])"
        ),
        "{raw}"
    );
    assert!(raw.contains("with ESMTP id"), "{raw}");
    assert!(
        raw.contains(&format!("Message-ID: <{}@", stored.id())),
        "a Message-ID is added: {raw}"
    );
    assert!(
        raw.contains("Bcc: hidden@example.com\r\n"),
        "the unlisted recipient is in Bcc: {raw}"
    );
    // smtplib dot-stuffs bytes but leaves a bare LF alone: the server keeps exactly what arrived
    // after unstuffing, bare LF included.
    let body = body_after_added_headers(stored.raw());
    assert_eq!(
        String::from_utf8_lossy(body),
        "From: Alice <alice@example.com>\r\nTo: bob@example.com\r\nSubject: smtplib test\r\n\r\nline one\r\n.starts with a dot\r\nbare\nlf stays\r\n"
    );
}

#[test]
fn smtplib_sees_mailpit_codes_for_refusals() {
    let server = TestServer::start(&[
        "--smtp-max-recipients",
        "1",
        "--smtp-allowed-recipients",
        "@allowed\\.test$",
    ]);
    let script = r#"
import smtplib, sys
with smtplib.SMTP("127.0.0.1", int(sys.argv[1])) as s:
    s.ehlo("c")
    print(s.rcpt("x@allowed.test"))
    print(s.mail("a@example.com"))
    print(s.rcpt("x@elsewhere.test"))
    print(s.rcpt("x@allowed.test"))
    print(s.rcpt("y@allowed.test"))
    print(s.docmd("EXPN", "list"))
    print(s.docmd("FOO"))
"#;
    let out = python(script, &[&server.port().to_string()]);
    let expected = [
        "(503, b'5.5.1 Bad sequence of commands (MAIL required before RCPT)')",
        "(250, b'2.1.0 Ok')",
        "(550, b'5.1.0 Requested action not taken: mailbox unavailable')",
        "(250, b'2.1.5 Ok')",
        "(452, b'4.5.3 Too many recipients')",
        "(502, b'5.5.1 Command not implemented')",
        "(500, b'5.5.2 Syntax error, command unrecognized')",
    ];
    assert_eq!(out.lines().collect::<Vec<_>>(), expected);
    assert!(server.messages().is_empty());
}

#[test]
fn smtplib_utf8_addresses_with_smtputf8() {
    let server = TestServer::start(&[]);
    let script = r#"
import smtplib, sys
with smtplib.SMTP("127.0.0.1", int(sys.argv[1])) as s:
    s.ehlo("c")
    assert s.has_extn("smtputf8")
    s.sendmail("José@exämple.com", ["用户@例子.测试"], "Subject: utf8\r\n\r\nhi\r\n".encode(), mail_options=["SMTPUTF8"])
"#;
    python(script, &[&server.port().to_string()]);
    let messages = server.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].envelope().mail_from, "José@exämple.com");
    assert_eq!(messages[0].envelope().rcpt_to, ["用户@例子.测试"]);
    assert!(messages[0].envelope().smtputf8);
}

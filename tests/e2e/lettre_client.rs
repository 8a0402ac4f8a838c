//! The `lettre` crate as a client: several messages over one reused connection, each stored with
//! exactly its own bytes (mailtutan keeps the previous message's bytes on a reused connection).

use lettre::message::Mailbox;
use lettre::{Message, SmtpTransport, Transport};
use mailsink_tests::{body_after_added_headers, TestServer};

/// A plaintext SMTP transport (lettre is built without TLS features here).
pub(crate) fn transport(port: u16) -> SmtpTransport {
    SmtpTransport::builder_dangerous("127.0.0.1")
        .port(port)
        .build()
}

/// What lettre puts on the wire for a message: its formatted bytes and a CRLF before the dot.
pub(crate) fn wire_bytes(message: &Message) -> Vec<u8> {
    let mut wire = message.formatted();
    wire.extend_from_slice(b"\r\n");
    wire
}

pub(crate) fn message(from: &str, to: &str, subject: &str, body: String) -> Message {
    Message::builder()
        .from(from.parse::<Mailbox>().expect("from"))
        .to(to.parse::<Mailbox>().expect("to"))
        .subject(subject)
        .body(body)
        .expect("message")
}

#[test]
fn lettre_sends_several_messages_on_one_connection() {
    let server = TestServer::start(&[]);
    let mailer = transport(server.port());
    let mut sent = Vec::new();
    for i in 0..5 {
        let body = format!("message number {i}\n.dot line\n{}\n", "x".repeat(i * 300));
        let msg = message(
            "sender@example.com",
            "rcpt@example.com",
            &format!("lettre {i}"),
            body,
        );
        sent.push(wire_bytes(&msg));
        mailer.send(&msg).expect("lettre send");
    }
    let sessions = server.server().metrics().sessions;
    assert_eq!(sessions, 1, "lettre's pool reused one connection");
    let messages = server.messages();
    assert_eq!(messages.len(), 5);
    for (stored, sent) in messages.iter().zip(&sent) {
        assert_eq!(
            body_after_added_headers(stored.raw()),
            sent.as_slice(),
            "stored exactly what was sent"
        );
    }
}

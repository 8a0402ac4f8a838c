//! The send API's MIME builder, checked by parsing what it writes with a real MIME parser.

use mail_parser::{MessageParser, MimeHeaders};

use super::support::at;
use crate::mime::{quoted_printable, sniff, FilePart, Mailbox, Outgoing};

fn mailbox(name: &str, email: &str) -> Mailbox {
    Mailbox {
        name: name.to_owned(),
        email: email.to_owned(),
    }
}

fn outgoing() -> Outgoing {
    Outgoing {
        from: mailbox("Sender, Inc.", "from@example.com"),
        to: vec![
            mailbox("", "to@example.com"),
            mailbox("Ünïcode Name", "u@example.com"),
        ],
        subject: "Plain subject".to_owned(),
        text: "Line one\nLine two".to_owned(),
        ..Outgoing::default()
    }
}

fn content_type(raw: &[u8]) -> String {
    let parsed = MessageParser::default().parse(raw).unwrap();
    let ct = parsed.root_part().content_type().unwrap();
    format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or_default())
}

#[test]
fn a_text_only_message_is_one_text_part() {
    let raw = outgoing().build(at(0), "B");
    let text = String::from_utf8(raw.clone()).unwrap();
    assert!(
        text.starts_with("Date: Thu, 1 Jan 1970 00:00:00 +0000\r\n"),
        "{text}"
    );
    assert!(
        text.contains("From: \"Sender, Inc.\" <from@example.com>\r\n"),
        "{text}"
    );
    assert!(
        text.contains("To: <to@example.com>,\r\n =?UTF-8?B?"),
        "{text}"
    );
    assert!(text.contains("MIME-Version: 1.0\r\n"));
    assert_eq!(content_type(&raw), "text/plain");
    let parsed = MessageParser::default().parse(&raw).unwrap();
    assert_eq!(parsed.body_text(0).unwrap(), "Line one\r\nLine two\r\n");
    let to: Vec<_> = parsed
        .to()
        .unwrap()
        .iter()
        .map(|a| (a.name(), a.address()))
        .collect();
    assert_eq!(
        to,
        [
            (None, Some("to@example.com")),
            (Some("Ünïcode Name"), Some("u@example.com"))
        ]
    );
}

#[test]
fn text_and_html_make_an_alternative() {
    let mut message = outgoing();
    message.html = "<p>Hi</p>".to_owned();
    let raw = message.build(at(0), "B");
    assert_eq!(content_type(&raw), "multipart/alternative");
    let parsed = MessageParser::default().parse(&raw).unwrap();
    assert_eq!(parsed.body_html(0).unwrap().trim_end(), "<p>Hi</p>");
    message.text.clear();
    assert_eq!(content_type(&message.build(at(0), "B")), "text/html");
}

#[test]
fn attachments_make_a_mixed_and_inline_parts_a_related() {
    let mut message = outgoing();
    message.html = "<img src=\"cid:logo\">".to_owned();
    message.files = vec![
        FilePart {
            content: vec![0, 1, 2, 255],
            file_name: "data.bin".to_owned(),
            content_type: "application/octet-stream".to_owned(),
            content_id: String::new(),
        },
        FilePart {
            content: b"\x89PNG\r\n\x1a\nrest".to_vec(),
            file_name: "logo.png".to_owned(),
            content_type: "image/png".to_owned(),
            content_id: "logo".to_owned(),
        },
        FilePart {
            content: "ü".repeat(100).into_bytes(),
            file_name: "naïve \"quoted\".txt".to_owned(),
            content_type: "text/plain".to_owned(),
            content_id: String::new(),
        },
    ];
    let raw = message.build(at(0), "B");
    assert_eq!(content_type(&raw), "multipart/mixed");
    let parsed = MessageParser::default().parse(&raw).unwrap();
    let names: Vec<_> = parsed
        .attachments()
        .map(|a| a.attachment_name().unwrap_or_default().to_owned())
        .collect();
    assert!(names.contains(&"data.bin".to_owned()), "{names:?}");
    assert!(
        names.contains(&"naïve \"quoted\".txt".to_owned()),
        "{names:?}"
    );
    let data = parsed
        .attachments()
        .find(|a| a.attachment_name() == Some("data.bin"))
        .unwrap();
    assert_eq!(data.contents(), [0, 1, 2, 255]);
    let logo = parsed
        .attachments()
        .find(|a| a.content_id() == Some("logo"))
        .unwrap();
    assert_eq!(logo.contents(), b"\x89PNG\r\n\x1a\nrest");
    let text = String::from_utf8(raw).unwrap();
    assert!(text.contains("multipart/related"), "{text}");
    assert!(text.lines().all(|l| l.len() <= 998), "no line too long");
}

#[test]
fn non_ascii_subjects_are_encoded_words_that_decode_back() {
    let mut message = outgoing();
    message.subject = "Grüße aus Köln — ".repeat(6);
    let raw = message.build(at(0), "B");
    let text = String::from_utf8(raw.clone()).unwrap();
    let subject_lines: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("Subject:"))
        .take_while(|l| l.starts_with("Subject:") || l.starts_with(' '))
        .collect();
    assert!(subject_lines.len() > 1, "folded: {subject_lines:?}");
    assert!(
        subject_lines.iter().all(|l| l.len() <= 78),
        "{subject_lines:?}"
    );
    let parsed = MessageParser::default().parse(&raw).unwrap();
    assert_eq!(parsed.subject(), Some(message.subject.as_str()));
}

#[test]
fn quoted_printable_is_safe_and_reversible() {
    let long = "x".repeat(200);
    let encoded = quoted_printable(&format!("a=b tail \nüñ\r\n{long}"));
    assert!(encoded.lines().all(|l| l.len() <= 76), "{encoded}");
    assert!(
        encoded.starts_with("a=3Db tail=20\r\n=C3=BC=C3=B1\r\n"),
        "{encoded}"
    );
    let raw = format!("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n{encoded}");
    let parsed = MessageParser::default().parse(raw.as_bytes()).unwrap();
    assert_eq!(
        parsed.body_text(0).unwrap(),
        format!("a=b tail \r\nüñ\r\n{long}\r\n")
    );
}

#[test]
fn sniffing_names_common_types() {
    assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), "image/png");
    assert_eq!(sniff(b"\xff\xd8\xff\xe0"), "image/jpeg");
    assert_eq!(sniff(b"%PDF-1.7"), "application/pdf");
    assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), "image/webp");
    assert_eq!(
        sniff("plain text ✓\n".as_bytes()),
        "text/plain; charset=utf-8"
    );
    assert_eq!(sniff(&[0, 159, 146, 150]), "application/octet-stream");
}

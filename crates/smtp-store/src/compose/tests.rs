//! Golden cases for the stored bytes: trace headers, Message-ID, Bcc, Return-Path, odd messages.

use std::time::{Duration, UNIX_EPOCH};

use super::date::{civil_from_days, Rfc5322};
use super::fields::header_fields;
use super::{compose, Stamp};
use crate::message::Envelope;

const ID: &str = "01KB3Y0000ABCDEFGHJKMNPQRS";
/// 2026-11-27 21:30:00 UTC.
const RECEIVED_SECS: u64 = 1_795_815_000;
const DATE: &str = "Fri, 27 Nov 2026 21:30:00 +0000";

fn envelope(rcpt_to: &[&str]) -> Envelope {
    Envelope {
        remote_addr: "192.0.2.7:40000".parse().unwrap(),
        helo: "client.example".to_owned(),
        esmtp: true,
        tls: false,
        auth_user: None,
        mail_from: "sender@example.com".to_owned(),
        rcpt_to: rcpt_to.iter().map(|r| (*r).to_owned()).collect(),
        smtputf8: false,
    }
}

fn stamp() -> Stamp<'static> {
    Stamp {
        id: ID.parse().unwrap(),
        received: UNIX_EPOCH + Duration::from_secs(RECEIVED_SECS),
        hostname: "mx.test",
        app_name: "mailsink",
    }
}

fn run(envelope: &Envelope, data: &[u8]) -> String {
    String::from_utf8(compose(envelope, data, &stamp())).unwrap()
}

/// The header lines compose added, for a message whose own bytes are `data` unchanged.
fn added(envelope: &Envelope, data: &[u8]) -> String {
    let out = compose(envelope, data, &stamp());
    assert!(out.ends_with(data), "original bytes changed");
    String::from_utf8(out[..out.len() - data.len()].to_vec()).unwrap()
}

fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

#[test]
fn ehlo_single_recipient_golden() {
    let data = b"From: a@example.com\r\nTo: rcpt@example.org\r\nSubject: hi\r\n\r\nbody\r\n";
    let expected = format!(
        "Return-Path: <sender@example.com>\r\n\
         Received: from client.example ([192.0.2.7])\r\n\
         \tby mx.test (mailsink) with ESMTP id {ID}\r\n\
         \tfor <rcpt@example.org>; {DATE}\r\n\
         Message-ID: <{ID}@mx.test>\r\n\
         From: a@example.com\r\nTo: rcpt@example.org\r\nSubject: hi\r\n\r\nbody\r\n"
    );
    assert_eq!(run(&envelope(&["rcpt@example.org"]), data), expected);
}

#[test]
fn many_recipients_have_no_for_clause() {
    let data = b"To: a@x.test, b@x.test\r\nMessage-ID: <m@x>\r\n\r\n";
    let expected = format!(
        "Return-Path: <sender@example.com>\r\n\
         Received: from client.example ([192.0.2.7])\r\n\
         \tby mx.test (mailsink) with ESMTP id {ID}; {DATE}\r\n"
    );
    assert_eq!(added(&envelope(&["a@x.test", "b@x.test"]), data), expected);
}

#[test]
fn protocol_words_follow_rfc3848_and_rfc6531() {
    let cases = [
        // (esmtp, tls, auth, smtputf8, word)
        (false, false, false, false, "SMTP"),
        (false, true, true, true, "SMTP"),
        (true, false, false, false, "ESMTP"),
        (true, true, false, false, "ESMTPS"),
        (true, false, true, false, "ESMTPA"),
        (true, true, true, false, "ESMTPSA"),
        (true, false, false, true, "UTF8SMTP"),
        (true, true, false, true, "UTF8SMTPS"),
        (true, false, true, true, "UTF8SMTPA"),
        (true, true, true, true, "UTF8SMTPSA"),
    ];
    for (esmtp, tls, auth, smtputf8, word) in cases {
        let mut env = envelope(&["r@x.test"]);
        env.esmtp = esmtp;
        env.tls = tls;
        env.auth_user = auth.then(|| "alice".to_owned());
        env.smtputf8 = smtputf8;
        let out = run(&env, b"");
        assert!(
            out.contains(&format!(" with {word} id {ID}")),
            "{word}: {out}"
        );
    }
}

#[test]
fn address_literals_for_ipv6_and_mapped_ipv4() {
    let mut env = envelope(&["r@x.test"]);
    env.remote_addr = "[2001:db8::1]:25".parse().unwrap();
    assert!(run(&env, b"").contains("from client.example ([IPv6:2001:db8::1])\r\n"));
    env.remote_addr = "[::ffff:192.0.2.9]:25".parse().unwrap();
    assert!(run(&env, b"").contains("from client.example ([192.0.2.9])\r\n"));
}

#[test]
fn null_reverse_path_and_empty_helo() {
    let mut env = envelope(&["r@x.test"]);
    env.mail_from = String::new();
    env.helo = String::new();
    let out = run(&env, b"");
    assert!(out.starts_with("Return-Path: <>\r\nReceived: from unknown ([192.0.2.7])\r\n"));
}

#[test]
fn message_id_added_only_when_missing() {
    let env = envelope(&["r@x.test"]);
    assert_eq!(count(&run(&env, b"Subject: s\r\n\r\n"), "Message-ID:"), 1);
    let kept = run(&env, b"message-id: <own@x>\r\nTo: r@x.test\r\n\r\n");
    assert!(!kept.contains("Message-ID:"));
    assert_eq!(count(&kept, "<own@x>"), 1);
    // A Message-ID line in the body is not a header.
    let body_only = run(&env, b"Subject: s\r\n\r\nMessage-ID: <body@x>\r\n");
    assert!(body_only.contains(&format!("Message-ID: <{ID}@mx.test>\r\n")));
}

#[test]
fn bcc_added_for_unlisted_recipients() {
    let data = b"To: Listed <a@x.test>\r\nCc: c@x.test\r\n\r\nbody";
    let env = envelope(&["a@x.test", "hidden@y.test", "c@x.test", "other@z.test"]);
    let head = added(&env, data);
    assert!(
        head.ends_with("Bcc: hidden@y.test, other@z.test\r\n"),
        "{head}"
    );
}

#[test]
fn listed_recipients_compare_ignoring_case_and_display_forms() {
    let data = b"To: \"Doe, Jane\" <JANE@Example.COM>, =?utf-8?q?J=C3=B6rg?= <joerg@x.test>\r\n\
        Cc: team: tom@x.test, (comment) tim@x.test;\r\n\
        Bcc: undisclosed-recipients:;\r\n\r\n";
    let env = envelope(&[
        "jane@example.com",
        "Joerg@X.test",
        "tom@x.test",
        "tim@x.test",
    ]);
    // `added` also checks that the message itself (its Bcc field included) is unchanged.
    assert!(!added(&env, data).contains("Bcc"));
}

#[test]
fn duplicate_recipients_are_listed_once() {
    let env = envelope(&["h@y.test", "H@Y.TEST", "h@y.test"]);
    assert!(added(&env, b"To: a@x.test\r\n\r\n").ends_with("Bcc: h@y.test\r\n"));
}

/// Mailpit adds a second `Bcc:` field when one exists; readers take one of the two and the
/// other recipients are lost. We append to the existing field instead.
#[test]
fn bcc_appended_to_existing_field_not_added_twice() {
    let data = b"To: a@x.test\r\nBcc: old@x.test\r\nSubject: s\r\n\r\nbody\r\n";
    let out = run(
        &envelope(&["a@x.test", "old@x.test", "hidden@y.test"]),
        data,
    );
    assert_eq!(count(&out, "Bcc:"), 1);
    assert!(out
        .ends_with("To: a@x.test\r\nBcc: old@x.test, hidden@y.test\r\nSubject: s\r\n\r\nbody\r\n"));
}

#[test]
fn bcc_appended_to_empty_and_folded_fields() {
    let env = envelope(&["hidden@y.test"]);
    let out = run(&env, b"Bcc:\r\nSubject: s\r\n\r\n");
    assert!(out.ends_with("Bcc: hidden@y.test\r\nSubject: s\r\n\r\n"));
    let out = run(&env, b"Bcc: \r\n\r\n");
    assert!(out.ends_with("Bcc: hidden@y.test\r\n\r\n"));
    let out = run(&env, b"Bcc: one@x.test,\r\n two@x.test\r\n\r\n");
    assert!(out.ends_with("Bcc: one@x.test,\r\n two@x.test, hidden@y.test\r\n\r\n"));
}

#[test]
fn bcc_in_body_is_not_a_header() {
    let data = b"To: a@x.test\r\n\r\nBcc: old@x.test\r\n";
    let head = added(&envelope(&["a@x.test", "hidden@y.test"]), data);
    assert!(head.ends_with("Bcc: hidden@y.test\r\n"));
}

#[test]
fn long_recipient_lists_are_folded() {
    let names: Vec<String> = (0..40).map(|i| format!("user{i:02}@hidden.test")).collect();
    let rcpts: Vec<&str> = names.iter().map(String::as_str).collect();
    let head = added(&envelope(&rcpts), b"To: a@x.test\r\n\r\n");
    let bcc = &head[head.find("Bcc:").unwrap()..];
    for line in bcc.split("\r\n").filter(|l| !l.is_empty()) {
        assert!(line.len() <= 78, "{line:?}");
    }
    assert!(bcc.lines().skip(1).all(|l| l.starts_with('\t')));
    let unfolded = bcc.replace("\r\n\t", " ");
    assert_eq!(unfolded, format!("Bcc: {}\r\n", names.join(", ")));
}

#[test]
fn existing_return_path_is_replaced() {
    let data = b"Return-Path: <forged@evil.test>\r\nTo: r@x.test\r\nreturn-path:\r\n <second@evil.test>\r\n\r\nReturn-Path: in body\r\n";
    let out = run(&envelope(&["r@x.test"]), data);
    assert!(out.starts_with("Return-Path: <sender@example.com>\r\n"));
    assert!(!out.contains("evil.test"));
    assert!(out.ends_with("Message-ID: <01KB3Y0000ABCDEFGHJKMNPQRS@mx.test>\r\nTo: r@x.test\r\n\r\nReturn-Path: in body\r\n"));
}

#[test]
fn bare_lf_message_kept_byte_for_byte() {
    let data =
        b"Subject: lf\nTo: a@x.test\nReturn-Path: <x@y>\nBcc: b@x.test\n\nline\r\nbare\rcr\n.\n";
    let out = compose(&envelope(&["a@x.test", "h@y.test"]), data, &stamp());
    let text = String::from_utf8(out).unwrap();
    assert!(text.ends_with(
        "Message-ID: <01KB3Y0000ABCDEFGHJKMNPQRS@mx.test>\r\nSubject: lf\nTo: a@x.test\nBcc: b@x.test, h@y.test\n\nline\r\nbare\rcr\n.\n"
    ));
}

#[test]
fn folds_in_the_fields_own_line_ending() {
    let names: Vec<String> = (0..10).map(|i| format!("someone{i}@hidden.test")).collect();
    let rcpts: Vec<&str> = names.iter().map(String::as_str).collect();
    let out = run(&envelope(&rcpts), b"Bcc: x@x.test\n\nbody\n");
    let bcc = &out[out.find("Bcc:").unwrap()..out.find("\n\nbody").unwrap()];
    assert!(bcc.contains("\n\t") && !bcc.contains('\r'), "{bcc:?}");
}

#[test]
fn empty_message_gets_only_the_added_headers() {
    let head = added(&envelope(&["r@x.test"]), b"");
    let expected = format!(
        "Return-Path: <sender@example.com>\r\n\
         Received: from client.example ([192.0.2.7])\r\n\
         \tby mx.test (mailsink) with ESMTP id {ID}\r\n\
         \tfor <r@x.test>; {DATE}\r\n\
         Message-ID: <{ID}@mx.test>\r\n\
         Bcc: r@x.test\r\n"
    );
    assert_eq!(head, expected);
}

#[test]
fn headers_only_message_without_final_newline() {
    let out = run(
        &envelope(&["h@y.test"]),
        b"Subject: no body\r\nBcc: a@x.test",
    );
    assert!(out.ends_with("Subject: no body\r\nBcc: a@x.test, h@y.test"));
}

#[test]
fn message_without_header_section_and_binary_bytes_unchanged() {
    let data = b"just a line, no colon\r\nTo: not@header.test\r\n\x00\xff\xfe 8-bit\r\n";
    let head = added(&envelope(&["not@header.test"]), data);
    assert!(head.ends_with("Bcc: not@header.test\r\n"));
    let data = b"\r\nbody right away\r\n";
    assert!(added(&envelope(&["r@x.test"]), data).ends_with("Bcc: r@x.test\r\n"));
}

#[test]
fn envelope_text_cannot_inject_headers() {
    let mut env = envelope(&["r@x.test\r\nX-Evil: 2"]);
    env.helo = "evil\r\nX-Evil: 1".to_owned();
    env.mail_from = "a@b\nX-Evil: 0".to_owned();
    let out = run(&env, b"To: r@x.test\r\n\r\n");
    assert!(!out.contains("\nX-Evil"), "{out}");
    assert!(out.contains("from evil??X-Evil: 1 ("));
    assert!(out.starts_with("Return-Path: <a@b?X-Evil: 0>\r\n"));
}

#[test]
fn header_framing() {
    let data = b"A: 1\r\nFolded: x\r\n\ty\r\nObs-Name : z\nNot a header\r\nB: 2\r\n";
    let fields = header_fields(data);
    let names: Vec<&[u8]> = fields.iter().map(|f| &data[f.start..f.name_end]).collect();
    assert_eq!(names, [&b"A"[..], b"Folded", b"Obs-Name"]);
    assert_eq!(
        &data[fields[1].start..fields[1].end],
        b"Folded: x\r\n\ty\r\n"
    );
    assert_eq!(&data[fields[2].value_start..fields[2].content_end], b" z");
    assert!(header_fields(b" folded first: x\r\n").is_empty());
    assert!(header_fields(b"").is_empty());
    assert!(header_fields(b": no name\r\n").is_empty());
}

#[test]
fn dates_in_rfc5322_utc() {
    let written = |time| {
        let mut out = String::new();
        Rfc5322(time).push_to(&mut out);
        out
    };
    let at = |secs| written(UNIX_EPOCH + Duration::from_secs(secs));
    assert_eq!(at(0), "Thu, 01 Jan 1970 00:00:00 +0000");
    assert_eq!(at(RECEIVED_SECS), DATE);
    assert_eq!(at(951_868_799), "Tue, 29 Feb 2000 23:59:59 +0000");
    assert_eq!(at(1_709_208_000), "Thu, 29 Feb 2024 12:00:00 +0000");
    assert_eq!(at(4_107_542_400), "Mon, 01 Mar 2100 00:00:00 +0000");
    assert_eq!(
        written(UNIX_EPOCH - Duration::from_secs(1)),
        "Thu, 01 Jan 1970 00:00:00 +0000"
    );
}

/// Walks every day from 1970 to 2400 and checks each follows the one before.
#[test]
fn civil_dates_are_consecutive() {
    let leap = |y: u64| (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400);
    let month_len = |y, m| match m {
        2 if leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    let mut previous = civil_from_days(0);
    assert_eq!(previous, (1970, 1, 1));
    for days in 1..157_000 {
        let (y, m, d) = civil_from_days(days);
        let (py, pm, pd) = previous;
        let expected = if pd < month_len(py, pm) {
            (py, pm, pd + 1)
        } else if pm < 12 {
            (py, pm + 1, 1)
        } else {
            (py + 1, 1, 1)
        };
        assert_eq!((y, m, d), expected, "day {days}");
        previous = (y, m, d);
    }
}

/// Where the plain-list reader answers, it finds the addresses `mail-parser` finds, over
/// generated To/Cc/Bcc fields that mix plain lists with the forms it must leave to
/// `mail-parser` (quotes, comments, groups, encoded words, routes, bare names, odd brackets,
/// non-ASCII, folding).
#[test]
fn plain_address_lists_are_read_as_mail_parser_reads_them() {
    const NAMES: [&str; 12] = [
        "",
        "",
        "Bob",
        "Bob Smith",
        "J. R. Doe",
        "\"Smith, Bob\"",
        "=?utf-8?q?B=C3=B6b?=",
        "Bob (home)",
        "a@x.test",
        "Zoë",
        "Bob>",
        "O'Neil",
    ];
    const ADDRESSES: [&str; 12] = [
        "a@x.test",
        "B@Y.Test",
        "c.d+e@sub.x.test",
        "bob",
        "",
        "d@e@f.test",
        " sp@x.test ",
        "@route:g@x.test",
        "h@[192.0.2.1]",
        "i@x.test>",
        "\"q u\"@x.test",
        "j@x.test(c)",
    ];
    const SEPARATORS: [&str; 7] = [",", ", ", " ,", ",,", ";", " ", ",\r\n "];
    let mut next = crate::tests::draws(0x9e37_79b9_7f4a_7c15_u64);
    let (mut answered, mut left) = (0, 0);
    for _ in 0..4_000 {
        let mut data = String::new();
        for field in ["To", "Cc", "Bcc", "Subject"].iter().take(1 + next(4)) {
            data.push_str(field);
            data.push(':');
            for i in 0..1 + next(3) {
                if i > 0 {
                    // Mostly plain commas, so that most lists stay plain.
                    data.push_str(if next(3) == 0 {
                        SEPARATORS[next(SEPARATORS.len())]
                    } else {
                        ", "
                    });
                } else {
                    data.push(' ');
                }
                // Mostly plain forms; the rest anything.
                let plain = next(6) != 0;
                let name = NAMES[if plain { next(5) } else { next(NAMES.len()) }];
                let address = ADDRESSES[if plain {
                    next(3)
                } else {
                    next(ADDRESSES.len())
                }];
                match (name, next(3)) {
                    ("", 0) => data.push_str(address),
                    ("", _) => data.push_str(&format!("<{address}>")),
                    (name, _) => data.push_str(&format!("{name} <{address}>")),
                }
            }
            data.push_str("\r\n");
        }
        data.push_str("\r\nbody\r\n");
        let fields = header_fields(data.as_bytes());
        match super::simple_addresses(data.as_bytes(), &fields) {
            Some(simple) => {
                answered += 1;
                assert_eq!(
                    simple,
                    super::parsed_addresses(data.as_bytes(), &fields),
                    "{data}"
                );
            }
            None => left += 1,
        }
    }
    // Both ways are exercised.
    assert!(
        answered > 1_000 && left > 1_000,
        "{answered} read here, {left} left"
    );
}

#[test]
fn a_composer_that_panics_leaves_the_message_as_received() {
    let data = b"Subject: kept\r\n\r\nbody\r\n";
    let kept = super::as_received_on_panic(data, || panic!("a bug in composing"));
    assert_eq!(kept, data);
    let composed = super::compose_or_as_received(&envelope(&["a@b.test"]), data, &stamp());
    assert_eq!(composed, compose(&envelope(&["a@b.test"]), data, &stamp()));
    assert!(composed.starts_with(b"Return-Path: "));
}

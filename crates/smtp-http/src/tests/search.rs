//! The search parser on its own, then the matcher over hand-built messages.

use std::sync::Arc;

use smtp_store::{summarize, Address, Attachment, BodyText, StoredMessage, Summary};

use super::support::{message, message_from};
use crate::search::{Query, Term, Test};

fn tests(query: &str) -> Vec<(bool, Test)> {
    Query::parse(query)
        .terms()
        .iter()
        .map(|Term { negated, test }| (*negated, test.clone()))
        .collect()
}

#[test]
fn words_and_quoted_phrases() {
    assert_eq!(
        tests("Hello  \"big World\" x"),
        [
            (false, Test::Text("hello".into())),
            (false, Test::Text("big world".into())),
            (false, Test::Text("x".into())),
        ]
    );
    assert_eq!(
        tests("subject:\"two words\""),
        [(false, Test::Subject("two words".into()))]
    );
    assert_eq!(
        tests("\"unclosed phrase"),
        [(false, Test::Text("unclosed phrase".into()))]
    );
}

#[test]
fn prefixes_are_case_insensitive_and_values_cleaned() {
    assert_eq!(
        tests("FROM:Alice to:<bob@x.test> Cc:c bcc:d reply-to:e Message-ID:<id@x>"),
        [
            (false, Test::From("alice".into())),
            (false, Test::To("bob@x.test".into())),
            (false, Test::Cc("c".into())),
            (false, Test::Bcc("d".into())),
            (false, Test::ReplyTo("e".into())),
            (false, Test::MessageId("id@x".into())),
        ]
    );
    assert_eq!(tests("tag:Urgent"), [(false, Test::Tag("Urgent".into()))]);
}

#[test]
fn flags_and_negation() {
    assert_eq!(
        tests("is:read -is:unread !has:attachment has:attachments IS:TAGGED"),
        [
            (false, Test::IsRead),
            (true, Test::IsUnread),
            (true, Test::HasAttachment),
            (false, Test::HasAttachment),
            (false, Test::IsTagged),
        ]
    );
    assert_eq!(tests("-from:spam"), [(true, Test::From("spam".into()))]);
    assert_eq!(tests("-"), [], "a lone dash is no term");
}

#[test]
fn dates_parse_and_bad_ones_are_dropped() {
    let day = 1_704_067_200_000; // 2024-01-01T00:00:00Z
    assert_eq!(tests("after:2024-01-01"), [(false, Test::After(day))]);
    assert_eq!(tests("before:2024/01/01"), [(false, Test::Before(day))]);
    assert_eq!(
        tests("after:2024-01-01T01:02:03Z"),
        [(false, Test::After(day + 3_723_000))]
    );
    assert_eq!(
        tests("after:\"2024-01-01 01:00+01:00\""),
        [(false, Test::After(day))]
    );
    assert_eq!(
        tests("-before:2024-01-01T00:00:00.5-0130"),
        [(true, Test::Before(day + 5_400_000))]
    );
    for bad in [
        "after:2024-13-01",
        "after:2023-02-29",
        "before:yesterday",
        "after:",
        "after:2024-01-01T25:00",
        "after:2024-01-01Tx",
    ] {
        assert_eq!(tests(bad), [], "{bad}");
    }
}

#[test]
fn terms_without_letters_or_digits_or_values_are_ignored() {
    assert_eq!(tests("--- \"\" <> from: subject: tag:"), []);
    assert_eq!(Query::parse("").terms(), &[]);
}

fn addr(name: &str, address: &str) -> Address {
    Address {
        name: name.to_owned(),
        address: address.to_owned(),
    }
}

fn sample() -> Summary {
    Summary {
        message_id: "abc123@mail.example.com".to_owned(),
        subject: "Your Invoice, March".to_owned(),
        from: Some(addr("Billing Team", "billing@shop.example")),
        to: vec![addr("Zoë", "zoe@example.com")],
        cc: vec![addr("", "accounts@example.com")],
        reply_to: vec![addr("", "help@shop.example")],
        body: BodyText::from_text("Please find the invoice attached.\r\nTotal: 42 EUR"),
        tags: vec!["billing".to_owned()],
        attachments: vec![Attachment {
            part_id: "2".to_owned(),
            file_name: "invoice-2024.pdf".to_owned(),
            ..Attachment::default()
        }],
        ..Summary::default()
    }
}

#[test]
fn the_matcher_applies_every_term() {
    let msg = message(1_704_067_200, sample());
    let yes = [
        "invoice",
        "INVOICE march",
        "\"total: 42\"",
        "from:billing",
        "from:\"billing team\"",
        "to:zoë",
        "to:zoe@example.com",
        "cc:accounts",
        "reply-to:help",
        "subject:\"invoice, march\"",
        "message-id:abc123",
        "tag:billing",
        "is:tagged",
        "is:unread",
        "has:attachment",
        "invoice-2024.pdf",
        "-from:spam",
        "after:2023-12-31 before:2024-01-02",
        "zoe@example.com",
    ];
    for query in yes {
        assert!(Query::parse(query).matches(&msg), "{query} should match");
    }
    let no = [
        "refund",
        "invoice refund",
        "from:zoe",
        "to:billing",
        "subject:total",
        "tag:Billing",
        "is:read",
        "-has:attachment",
        "-invoice",
        "after:2024-01-02",
        "before:2023-12-31",
        "bcc:zoe",
    ];
    for query in no {
        assert!(
            !Query::parse(query).matches(&msg),
            "{query} should not match"
        );
    }
}

#[test]
fn html_is_searched_without_its_tags_when_there_is_no_text() {
    let raw = "Subject: reset\r\nContent-Type: text/html\r\n\r\n\
               <p>Reset your <b>password</b></p>\r\n";
    let msg = message_from(0, summarize(raw.as_bytes()), raw);
    assert!(Query::parse("\"your password\"").matches(&msg));
    assert!(Query::parse("PASSWORD").matches(&msg));
    assert!(!Query::parse("b").matches(&msg), "tag names are not text");
}

#[test]
fn body_text_is_read_in_place_and_decoded_alike() {
    let plain = "Subject: s\r\n\r\nThe Quick brown fox\r\n";
    let quoted = "Subject: s\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n\
                  The Quick=20brown f=\r\nox\r\n";
    for raw in [plain, quoted] {
        let msg = message_from(0, summarize(raw.as_bytes()), raw);
        for query in ["quick", "FOX", "\"quick brown fox\""] {
            assert!(Query::parse(query).matches(&msg), "{query} in {raw:?}");
        }
        assert!(!Query::parse("\"brown quick\"").matches(&msg));
    }
}

/// The matcher skips Mailpit's cleaned text where it cannot change the answer: it must give
/// the answer the cleaned text gives, for words, phrases, non-ASCII text and separators.
#[test]
fn fast_matching_agrees_with_the_cleaned_search_text() {
    let raws = [
        "From: \"Ünal, Zoë\" <zoe@EXAMPLE.com>\r\nTo: a@b.test\r\nSubject: Straße (draft);final\r\n\r\n\
         ÉTÉ chaud\tand\r\n   COLD <tags> \"quoted\", semi;colon\r\n",
        "Subject: =?utf-8?q?K=C3=B6ln?=\r\nContent-Transfer-Encoding: base64\r\n\r\n\
         SGVsbG8gV09STEQsIGhlbGxvIHdvcmxk\r\n",
        "Subject: none\r\n\r\n",
    ];
    let words = [
        "zoë",
        "ünal",
        "zoe@example.com",
        "example",
        "straße",
        "draft",
        "final",
        "draft final",
        "été",
        "ÉTÉ CHAUD",
        "chaud and cold",
        "and cold",
        "tags",
        "quoted",
        "semi colon",
        "semi;colon",
        "köln",
        "hello world",
        "world hello",
        "WORLD,",
        "a@b.test",
        "none",
        "x",
        "cold tags quoted",
    ];
    let mut found = 0;
    for raw in raws {
        let msg = message_from(0, summarize(raw.as_bytes()), raw);
        let text = crate::search::search_text(&msg);
        for word in words {
            let query = Query::parse(&format!("\"{word}\""));
            let expected = match query.terms() {
                [Term {
                    test: Test::Text(cleaned),
                    ..
                }] => text.contains(cleaned.as_str()),
                other => panic!("{word}: {other:?}"),
            };
            assert_eq!(query.matches(&msg), expected, "{word:?} in {text:?}");
            found += usize::from(expected);
        }
    }
    assert!(found >= 15, "the cases must mostly be found: {found}");
}

#[test]
fn a_large_mailbox_is_searched_in_parts_and_keeps_its_order() {
    let messages: Vec<Arc<StoredMessage>> = (0..12_345_u64)
        .map(|i| {
            let word = if i % 7 == 0 { "needle" } else { "hay" };
            let summary = Summary {
                subject: format!("message {i}"),
                body: BodyText::from_text(&format!("some {word} here")),
                ..Summary::default()
            };
            Arc::new(message(i, summary))
        })
        .collect();
    let query = Query::parse("NEEDLE");
    let found: Vec<String> = query
        .filter(&messages)
        .iter()
        .map(|m| m.summary().subject.clone())
        .collect();
    let expected: Vec<String> = (0..12_345_u64)
        .filter(|i| i % 7 == 0)
        .map(|i| format!("message {i}"))
        .collect();
    assert_eq!(found, expected);
    assert!(Query::parse("absent").filter(&messages).is_empty());
    assert_eq!(
        Query::parse("message").filter(&messages).len(),
        messages.len()
    );
}

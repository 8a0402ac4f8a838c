//! Golden summaries: each fixture in `tests/fixtures/` and the summary the API must show for
//! it, field by field, with the part numbers, sizes and checksums of every attachment checked
//! against the decoded content (`md5sum`/`sha1sum`/`sha256sum` of the original files).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use smtp_store::{bodies, part, summarize, Address, Attachment, BodyText, Checksums, Summary};

/// The text body as search reads it from the summary, after checking that the API, which
/// decodes the message again, shows the same text.
fn text(raw: &[u8], summary: &Summary) -> String {
    let searched = summary.body.pieces(raw).collect::<Vec<_>>().join("\n--\n");
    assert_eq!(searched, bodies(raw).text, "search and display disagree");
    searched
}

fn html(raw: &[u8]) -> String {
    bodies(raw).html
}

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|err| panic!("{path}: {err}"))
}

fn addr(name: &str, address: &str) -> Address {
    Address {
        name: name.to_owned(),
        address: address.to_owned(),
    }
}

fn at(seconds: u64) -> Option<SystemTime> {
    Some(UNIX_EPOCH + Duration::from_secs(seconds))
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn png_checksums() -> Checksums {
    Checksums {
        md5: "f829b914fc47cfc9c0747c119c27cf1b".to_owned(),
        sha1: "4a5eb7171b58e08a6881721e3b43d5a44419a2be".to_owned(),
        sha256: "6b7fa434f92a8b80aab02d9bf1a12e49ffcae424e4013a1c4f68b67e3d2bbcd0".to_owned(),
    }
}

fn pdf_checksums() -> Checksums {
    Checksums {
        md5: "43e7b1f15417b6a5c428325c85c03c28".to_owned(),
        sha1: "3b35b4fcc4ba997216e4b3600ff98f03a9ec6906".to_owned(),
        sha256: "5630ac86b999e3003a685504c6d6049e64b297ea086c56639500e9544212493e".to_owned(),
    }
}

fn attachment(part_id: &str, file_name: &str, content_type: &str, size: usize) -> Attachment {
    Attachment {
        part_id: part_id.to_owned(),
        file_name: file_name.to_owned(),
        content_type: content_type.to_owned(),
        content_id: String::new(),
        size,
        checksums: Checksums::default(),
    }
}

#[test]
fn encoded_words_in_subject_names_and_body() {
    let expected = Summary {
        message_id: "encoded.1@example.com".to_owned(),
        subject: "Hello 👋 café and crème".to_owned(),
        from: Some(addr("Jörg Müller", "joerg@example.com")),
        to: vec![
            addr("Smith, Anna", "anna@example.com"),
            addr("René François", "rene@example.org"),
            addr("", "plain@example.net"),
        ],
        cc: vec![addr("张伟", "zhang@example.cn")],
        bcc: vec![],
        reply_to: vec![addr("Support Team", "support@example.com")],
        return_path: "bounce@example.com".to_owned(),
        date: at(1_699_996_400),
        body: BodyText::default(),
        snippet: "Grüße aus Köln. Second line.".to_owned(),
        attachments: vec![],
        inline: vec![],
        tags: strings(&["Invoices", "Q4 2023", "urgent"]),
        parse_error: false,
    };
    let raw = fixture("encoded-words.eml");
    let summary = summarize(&raw);
    // Quoted-printable: decoded, so the body text is kept apart from the stored bytes.
    assert_eq!(text(&raw, &summary), "Grüße aus Köln.\nSecond   line.\n");
    assert_eq!(html(&raw), "");
    assert!(summary.body.owned_bytes() > 0);
    assert_eq!(
        Summary {
            body: BodyText::default(),
            ..summary
        },
        expected
    );
}

#[test]
fn utf8_addresses_and_headers() {
    let expected = Summary {
        message_id: "utf8.2@exämple.com".to_owned(),
        subject: "Grüße — 你好".to_owned(),
        from: Some(addr("José Núñez", "josé@exämple.com")),
        // The group's members are listed; the group name is not an address.
        to: vec![addr("用户", "用户@例子.测试"), addr("", "ülla@example.de")],
        cc: vec![],
        bcc: vec![addr("", "hidden@example.com")],
        reply_to: vec![],
        // No Return-Path: the From address, as Mailpit shows it.
        return_path: "josé@exämple.com".to_owned(),
        date: at(1_675_238_400),
        body: BodyText::default(),
        snippet: "Grüße! 你好!".to_owned(),
        attachments: vec![],
        inline: vec![],
        tags: vec![],
        parse_error: false,
    };
    let raw = fixture("utf8-addresses.eml");
    let summary = summarize(&raw);
    assert_eq!(text(&raw, &summary), "Grüße! 你好!\n");
    // 8-bit UTF-8 sent as is: search reads it in place, no copy is kept.
    assert_eq!(summary.body.owned_bytes(), 0);
    assert_eq!(
        Summary {
            body: BodyText::default(),
            ..summary
        },
        expected
    );
}

#[test]
fn multipart_alternative_text_html_and_snippet_from_html() {
    let raw = fixture("alternative.eml");
    let summary = summarize(&raw);
    assert_eq!(
        text(&raw, &summary),
        "Hello Bob,\n\nThe plain text body with a soft line break and café."
    );
    assert_eq!(
        html(&raw),
        "<html><head><style>p {color: red}</style></head><body><p>Hello <b>Bob</b>,</p>\
         <p>The HTML body &amp; café.</p></body></html>"
    );
    // Mailpit makes the snippet from the HTML when there is some: no CSS, entities decoded.
    assert_eq!(summary.snippet, "Hello Bob, The HTML body & café.");
    assert_eq!(summary.from, Some(addr("Alice", "alice@example.com")));
    assert_eq!(summary.to, [addr("Bob", "bob@example.com")]);
    assert_eq!(summary.date, at(1_677_771_000));
    assert_eq!(summary.message_id, "alt.3@example.com");
    assert!(summary.attachments.is_empty() && summary.inline.is_empty());
    assert!(!summary.parse_error);
}

#[test]
fn attachments_with_part_ids_sizes_and_checksums() {
    let raw = fixture("attachments.eml");
    let summary = summarize(&raw);
    assert_eq!(text(&raw, &summary), "Please find the report attached.");
    assert_eq!(html(&raw), "");
    let expected = vec![
        Attachment {
            checksums: pdf_checksums(),
            ..attachment("2", "report.pdf", "application/pdf", 83)
        },
        // RFC 2231 file name; quoted-printable text decoded (the line break before the
        // boundary belongs to the boundary).
        Attachment {
            checksums: Checksums {
                md5: "6de1591a06200595ed3e4b13fb0953eb".to_owned(),
                sha1: "d7c45a8334a8efb4c01f03cdde8ae9f383f994c9".to_owned(),
                sha256: "88c5f2abc77f1f93df70dedabda941ed75caed0e87157bbae329d19d14e04064"
                    .to_owned(),
            },
            ..attachment("3", "Bilan été.csv", "text/csv", 22)
        },
        // application/octet-stream without a disposition is an attachment (enmime's rule).
        Attachment {
            checksums: Checksums {
                md5: "e2c865db4162bed963bfaa9ef6ac18f0".to_owned(),
                sha1: "4916d6bdb7f78e6803698cab32d1586ea457dfc8".to_owned(),
                sha256: "40aff2e9d2d8922e47afd4648e6967497158785fbd1da870e7110266bf944880"
                    .to_owned(),
            },
            ..attachment("4", "data.bin", "application/octet-stream", 256)
        },
    ];
    assert_eq!(summary.attachments, expected);
    assert!(summary.inline.is_empty());

    let raw = fixture("attachments.eml");
    let csv = part(&raw, "3").unwrap();
    assert_eq!(csv.bytes, b"month,total\nJune,12,50");
    assert_eq!(csv.file_name, "Bilan été.csv");
    assert_eq!(csv.content_type, "text/csv");
    let bin = part(&raw, "4").unwrap();
    assert_eq!(bin.bytes, (0..=255u8).collect::<Vec<u8>>());
    let body = part(&raw, "1").unwrap();
    assert_eq!(body.bytes, b"Please find the report attached.");
    assert_eq!(body.file_name, "");
    assert!(part(&raw, "5").is_none());
    assert!(part(&raw, "0").is_none());
    assert!(part(&raw, "").is_none());
}

#[test]
fn inline_images_in_a_related_tree() {
    let raw = fixture("inline-images.eml");
    let summary = summarize(&raw);
    assert_eq!(text(&raw, &summary), "See the logo below.");
    assert!(html(&raw).starts_with("<p>See the logo below.</p>"));
    // Breadth first: the attachment at the top level, then the inline parts one level down;
    // the disposed inline part before the undisposed one, which is named by its Content-ID.
    assert_eq!(
        summary.attachments,
        [Attachment {
            checksums: pdf_checksums(),
            ..attachment("2", "terms.pdf", "application/pdf", 83)
        }]
    );
    assert_eq!(
        summary.inline,
        [
            Attachment {
                content_id: "logo@example.com".to_owned(),
                checksums: png_checksums(),
                ..attachment("1.2", "logo.png", "image/png", 70)
            },
            Attachment {
                content_id: "dot".to_owned(),
                checksums: png_checksums(),
                ..attachment("1.3", "dot", "image/png", 70)
            },
        ]
    );
    let logo = part(&raw, "1.2").unwrap();
    assert_eq!(logo.content_type, "image/png");
    assert_eq!(logo.file_name, "logo.png");
    assert_eq!(logo.bytes.len(), 70);
    assert!(logo.bytes.starts_with(b"\x89PNG\r\n"));
    assert_eq!(part(&raw, "1.1.1").unwrap().bytes, b"See the logo below.");
    assert!(
        part(&raw, "1.1").is_none(),
        "a multipart part has no content"
    );
}

#[test]
fn broken_mime_structure_is_shown_raw() {
    let raw = fixture("broken-boundary.eml");
    let summary = summarize(&raw);
    assert!(summary.parse_error);
    assert_eq!(
        text(&raw, &summary),
        "--SOMETHING-ELSE\nContent-Type: text/plain\n\nThe boundary in the header never occurs.\n--SOMETHING-ELSE--\n"
    );
    // The headers still parse.
    assert_eq!(summary.subject, "Broken MIME");
    assert_eq!(summary.message_id, "broken.6@example.com");
    assert_eq!(summary.from, Some(addr("", "broken@example.com")));
    assert!(summary.attachments.is_empty() && summary.inline.is_empty());
}

#[test]
fn html_only_gets_text_made_from_the_html() {
    let raw = fixture("html-only.eml");
    let summary = summarize(&raw);
    assert!(!summary.parse_error);
    assert!(html(&raw).contains("<h1>Big   sale</h1>"));
    assert_eq!(
        text(&raw, &summary),
        "Big sale Everything <50%> off – today only.\n"
    );
    assert_eq!(
        summary.snippet,
        "Big sale Everything <50%> off – today only."
    );
    assert_eq!(summary.tags, ["promo"]);
    assert_eq!(summary.date, None);
}

#[test]
fn not_a_message_at_all() {
    for raw in [&b""[..], b"\xff\xfe just bytes \x00 without headers"] {
        let summary = summarize(raw);
        assert!(summary.parse_error, "{raw:?}");
        assert_eq!(text(raw, &summary), String::from_utf8_lossy(raw));
        assert_eq!(summary.subject, "");
    }
}

#[test]
fn a_single_part_attachment_is_part_1() {
    let raw = b"From: a@example.com\r\nContent-Type: application/pdf; name=\"only.pdf\"\r\n\
                Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n";
    let summary = summarize(raw);
    assert_eq!(text(raw, &summary), "");
    assert_eq!(summary.attachments.len(), 1);
    assert_eq!(summary.attachments[0].part_id, "1");
    assert_eq!(summary.attachments[0].file_name, "only.pdf");
    assert_eq!(summary.attachments[0].size, 9);
    assert_eq!(part(raw, "1").unwrap().bytes, b"%PDF-1.4\n");
}

#[test]
fn snippet_is_cut_after_200_characters() {
    let words = "wörd ".repeat(100);
    let raw = format!("Subject: long\r\n\r\n{words}");
    let snippet = summarize(raw.as_bytes()).snippet;
    assert!(snippet.ends_with("..."), "{snippet}");
    let kept = snippet.trim_end_matches("...");
    assert_eq!(
        kept.chars().count(),
        199,
        "200 characters, the trailing space trimmed"
    );
    assert!(words.starts_with(kept));
}

#[test]
fn undecodable_content_is_flagged_and_shown_raw() {
    let raw =
        b"Subject: x\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n\
                !!!not base64***\r\n";
    let summary = summarize(raw);
    assert!(summary.parse_error);
    assert_eq!(text(raw, &summary), "!!!not base64***\r\n");
    assert_eq!(summary.subject, "x");
}

#[test]
fn a_header_section_alone_is_a_valid_message() {
    for raw in [
        &b"Subject: only headers\r\n"[..],
        b"Subject: only headers\r\n\r\n",
    ] {
        let summary = summarize(raw);
        assert!(!summary.parse_error, "{raw:?}");
        assert_eq!(summary.subject, "only headers");
        assert_eq!(text(raw, &summary), "");
    }
}

#[test]
fn multi_byte_legacy_charsets_are_decoded() {
    // Japanese mail still arrives as ISO-2022-JP bodies and Shift_JIS encoded words.
    let raw = b"Subject: =?Shift_JIS?B?grGC8YLJgr+CzQ==?=\r\n\
                Content-Type: text/plain; charset=ISO-2022-JP\r\n\r\n\
                \x1b$B$3$s$K$A$O\x1b(B\r\n";
    let summary = summarize(raw);
    assert_eq!(summary.subject, "こんにちは");
    assert_eq!(text(raw, &summary), "こんにちは\r\n");
}

/// A body sent as 8bit without a charset is taken as UTF-8: valid text whole (the check
/// `vendor/mail-parser` adds before the lossy one), and each invalid sequence as U+FFFD,
/// exactly as `String::from_utf8_lossy` would have it.
#[test]
fn an_unlabelled_8bit_body_is_utf8_with_replacement_characters_for_bad_bytes() {
    let head = "From: a@example.com\r\nSubject: s\r\nContent-Transfer-Encoding: 8bit\r\n\r\n";
    let valid = "Grüße, 世界 — ".repeat(2000);
    let raw = format!("{head}{valid}\r\n").into_bytes();
    let summary = summarize(&raw);
    assert!(!summary.parse_error);
    assert_eq!(text(&raw, &summary), format!("{valid}\r\n"));

    let mut raw = head.as_bytes().to_vec();
    raw.extend_from_slice(b"caf\xe9 ok \xf0\x9f\x98 end \xe2\x82\xac\r\n");
    let summary = summarize(&raw);
    assert_eq!(
        text(&raw, &summary),
        "caf\u{FFFD} ok \u{FFFD} end €\r\n",
        "{:?}",
        summary.snippet
    );
}

/// Attachments are listed level by level, as Mailpit lists them: one at the top level before
/// one inside a nested multipart that comes earlier in the message.
#[test]
fn attachments_are_listed_level_by_level() {
    let raw = b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=outer\r\n\r\n\
--outer\r\nContent-Type: multipart/mixed; boundary=inner\r\n\r\n\
--inner\r\nContent-Type: text/plain\r\n\r\nbody\r\n\
--inner\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=deep.txt\r\n\r\n\
deep\r\n--inner--\r\n\
--outer\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=top.txt\r\n\r\n\
top\r\n--outer--\r\n";
    let summary = summarize(raw);
    let names: Vec<&str> = summary
        .attachments
        .iter()
        .map(|a| a.file_name.as_str())
        .collect();
    assert_eq!(names, ["top.txt", "deep.txt"]);
}

//! The small text helpers: paths, queries, times, header maps, parts, unsubscribe links.

use std::time::Duration;

use super::support::at;
use crate::headers::{canonical_key, header_map};
use crate::json::ListUnsubscribe;
use crate::path::{clean, encode_path, percent_decode, Target, TargetError};
use crate::time::{http_date, parse_search_date, rfc3339, rfc5322};

#[test]
fn clean_matches_go() {
    let cases = [
        ("/", "/"),
        ("//", "/"),
        ("/a//b", "/a/b"),
        ("/a/b/", "/a/b/"),
        ("/a/./b", "/a/b"),
        ("/a/b/..", "/a"),
        ("/a/b/../", "/a/"),
        ("/..", "/"),
        ("/../a", "/a"),
        ("/a/../../b", "/b"),
        ("/.", "/"),
        ("/a/.", "/a"),
    ];
    for (path, cleaned) in cases {
        assert_eq!(clean(path), cleaned, "{path}");
    }
}

#[test]
fn targets_split_and_decode() {
    let target = Target::parse("/a%20b/c?x=1&y=%41+b&flag&x=2#frag").unwrap();
    assert_eq!(target.path, "/a b/c");
    assert_eq!(target.query("x").as_deref(), Some("1"));
    assert_eq!(target.query("y").as_deref(), Some("A b"));
    assert_eq!(target.query("flag").as_deref(), Some(""));
    assert_eq!(target.query("z"), None);
    assert_eq!(Target::parse("*"), Err(TargetError::NotOriginForm));
    assert_eq!(Target::parse("/%4"), Err(TargetError::BadEncoding));
    assert_eq!(percent_decode(b"%e2%9c%93"), Some("✓".as_bytes().to_vec()));
    assert_eq!(encode_path("/a b/ü?"), "/a%20b/%C3%BC%3F");
}

#[test]
fn times_print_as_go_prints_them() {
    assert_eq!(rfc3339(at(0)), "1970-01-01T00:00:00Z");
    assert_eq!(
        rfc3339(at(1_700_000_000) + Duration::from_millis(120)),
        "2023-11-14T22:13:20.12Z"
    );
    assert_eq!(
        rfc3339(at(951_782_400) + Duration::from_millis(7)),
        "2000-02-29T00:00:00.007Z"
    );
    assert_eq!(
        rfc5322(at(1_700_000_000)),
        "Tue, 14 Nov 2023 22:13:20 +0000"
    );
    assert_eq!(
        http_date(at(1_699_000_000)),
        "Fri, 03 Nov 2023 08:26:40 GMT"
    );
}

#[test]
fn search_dates_round_trip_through_the_calendar() {
    assert_eq!(parse_search_date("1970-01-01"), Some(0));
    assert_eq!(parse_search_date("2000-02-29"), Some(951_782_400_000));
    assert_eq!(parse_search_date("1969-12-31T23:59:59Z"), Some(-1000));
    assert_eq!(
        parse_search_date("2024-06-30 12:00"),
        Some(1_719_748_800_000)
    );
    assert_eq!(parse_search_date("ü2024-01-01"), None);
    assert_eq!(parse_search_date("2024-01-01T00:00+2"), None);
    assert_eq!(parse_search_date("2024-01-01T00:00+aé"), None);
}

#[test]
fn header_names_are_canonicalised_as_go_does() {
    assert_eq!(canonical_key("message-id"), "Message-Id");
    assert_eq!(canonical_key("MIME-VERSION"), "Mime-Version");
    assert_eq!(canonical_key("x-mailer"), "X-Mailer");
    assert_eq!(canonical_key("DKIM-Signature"), "Dkim-Signature");
    assert_eq!(canonical_key("bad name"), "bad name");
}

#[test]
fn header_maps_unfold_and_stop_at_the_body() {
    let raw = b"Subject: a\r\n\tb\r\nTo: x@y\nto: z@y\r\nno colon line\r\n: empty name\r\n\r\nBody: not a header\r\n";
    let map = header_map(raw);
    assert_eq!(map["Subject"], ["a b"]);
    assert_eq!(map["To"], ["x@y", "z@y"]);
    assert!(!map.contains_key("Body"));
    assert_eq!(map.len(), 2);
    assert!(header_map(b"").is_empty());
    assert!(header_map(b"\r\njust a body").is_empty());
}

#[test]
fn unsubscribe_links_are_extracted() {
    let raw = b"List-Unsubscribe: <mailto:u@x.test?subject=stop>, <https://x.test/u>, <https://x.test/2>\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n\r\n";
    let parsed = ListUnsubscribe::of(raw);
    assert_eq!(
        parsed.links,
        ["mailto:u@x.test?subject=stop", "https://x.test/u"]
    );
    assert_eq!(parsed.header_post, "List-Unsubscribe=One-Click");
    assert!(parsed.header.starts_with("<mailto:"));
}

//! Request framing: heads, body lengths, chunked decoding, limits, keep-alive rules.

use crate::server::framing::{parse_head, BodyKind, Chunked, FrameError, Limits};
use crate::Method;

const LIMITS: Limits = Limits {
    max_head: 1024,
    max_headers: 8,
    max_body: 100,
};

fn head(text: &str) -> Result<Option<crate::server::framing::Head>, FrameError> {
    parse_head(text.as_bytes(), &LIMITS)
}

#[test]
fn a_complete_head_parses_and_an_incomplete_one_waits() {
    let text = "PUT /api/v1/messages?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello";
    let parsed = head(text).unwrap().unwrap();
    assert_eq!(parsed.method, Method::Put);
    assert_eq!(parsed.target, "/api/v1/messages?x=1");
    assert_eq!(parsed.body, BodyKind::Length(5));
    assert_eq!(parsed.len, text.len() - 5);
    assert!(parsed.keep_alive);
    assert!(!parsed.expect_continue);
    for cut in 0..text.len() - 5 {
        assert_eq!(head(&text[..cut]), Ok(None), "cut at {cut}");
    }
}

#[test]
fn keep_alive_follows_the_version_and_connection_header() {
    let cases = [
        ("GET / HTTP/1.1\r\n\r\n", true),
        ("GET / HTTP/1.1\r\nConnection: close\r\n\r\n", false),
        (
            "GET / HTTP/1.1\r\nConnection: Keep-Alive, Close\r\n\r\n",
            false,
        ),
        ("GET / HTTP/1.0\r\n\r\n", false),
        ("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true),
    ];
    for (text, keep) in cases {
        assert_eq!(head(text).unwrap().unwrap().keep_alive, keep, "{text:?}");
    }
}

#[test]
fn expect_continue_is_noticed() {
    let parsed = head("POST / HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\n")
        .unwrap()
        .unwrap();
    assert!(parsed.expect_continue);
}

#[test]
fn oversized_heads_are_431() {
    let long = format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(2000));
    assert_eq!(head(&long), Err(FrameError::HeadTooLarge));
    let endless = format!("GET / HTTP/1.1\r\nX-A: {}", "b".repeat(1100));
    assert_eq!(head(&endless), Err(FrameError::HeadTooLarge));
    let many: String = (0..9).map(|i| format!("X-{i}: v\r\n")).collect();
    assert_eq!(
        head(&format!("GET / HTTP/1.1\r\n{many}\r\n")),
        Err(FrameError::HeadTooLarge)
    );
    assert_eq!(FrameError::HeadTooLarge.status(), 431);
}

#[test]
fn body_framing_is_checked() {
    let cases = [
        (
            "POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n",
            Err(FrameError::BodyTooLarge),
        ),
        (
            "POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n",
            Err(FrameError::BodyTooLarge),
        ),
        (
            "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
            Err(FrameError::Malformed("invalid Content-Length")),
        ),
        (
            "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            Err(FrameError::Malformed("invalid Content-Length")),
        ),
        (
            "POST / HTTP/1.1\r\nContent-Length: 3, 3\r\n\r\n",
            Ok(BodyKind::Length(3)),
        ),
        (
            "POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
            Ok(BodyKind::Empty),
        ),
        (
            "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
            Ok(BodyKind::Chunked),
        ),
        (
            "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
            Err(FrameError::UnsupportedCoding),
        ),
        (
            "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
            Err(FrameError::Malformed(
                "both Transfer-Encoding and Content-Length",
            )),
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(head(text).map(|h| h.unwrap().body), expected, "{text:?}");
    }
    assert_eq!(FrameError::BodyTooLarge.status(), 413);
    assert_eq!(FrameError::UnsupportedCoding.status(), 501);
}

#[test]
fn garbage_and_other_versions_are_refused() {
    assert!(matches!(
        head("HELLO\r\n\r\n"),
        Err(FrameError::Malformed(_))
    ));
    assert_eq!(head("GET / HTTP/2.0\r\n\r\n"), Err(FrameError::Version));
    assert_eq!(FrameError::Version.status(), 505);
}

fn dechunk(input: &[u8], max: usize) -> Result<(Vec<u8>, usize), FrameError> {
    let mut chunked = Chunked::new(max);
    let used = chunked.feed(input)?;
    assert!(chunked.is_done(), "not done after {used} bytes");
    Ok((chunked.into_body(), used))
}

#[test]
fn chunked_bodies_decode_even_split_at_every_byte() {
    let wire = b"5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nTrailer: x\r\n\r\nNEXT";
    let (body, used) = dechunk(wire, 100).unwrap();
    assert_eq!(body, b"hello, world");
    assert_eq!(&wire[used..], b"NEXT");
    for split in 1..wire.len() {
        let mut chunked = Chunked::new(100);
        let mut pending = wire[..split].to_vec();
        let used = chunked.feed(&pending).unwrap();
        pending.drain(..used);
        pending.extend_from_slice(&wire[split..]);
        let used = chunked.feed(&pending).unwrap();
        assert!(chunked.is_done(), "split at {split}");
        assert_eq!(&pending[used..], b"NEXT");
        assert_eq!(chunked.into_body(), b"hello, world");
    }
}

#[test]
fn chunked_bodies_respect_the_limit_and_the_syntax() {
    assert_eq!(
        dechunk(b"65\r\n", 100).unwrap_err(),
        FrameError::BodyTooLarge
    );
    let mut chunked = Chunked::new(4);
    assert_eq!(
        chunked.feed(b"5\r\nhello\r\n"),
        Err(FrameError::BodyTooLarge)
    );
    for bad in [
        &b"zz\r\n"[..],
        b"\r\n",
        b"5\r\nhelloX\r\n",
        b"fffffffffffffffffff\r\n",
    ] {
        let mut chunked = Chunked::new(100);
        assert!(
            matches!(chunked.feed(bad), Err(FrameError::Malformed(_))),
            "{bad:?}"
        );
    }
    let mut chunked = Chunked::new(100);
    assert!(chunked.feed(&[b'1'; 5000]).is_err(), "an endless size line");
}

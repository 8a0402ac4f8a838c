//! Unit tests for the pieces below the session, and session properties that transcripts cannot
//! express (memory bounds, transcripts, random splits).

use std::sync::Arc;

use crate::data::{Body, DataReceiver};
use crate::{Config, ConnectionInfo, Event, Session};

fn session(config: Config) -> Session {
    Session::new(Arc::new(config), ConnectionInfo::default())
}

fn output(session: &mut Session) -> String {
    session
        .poll_output()
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

#[test]
fn transcript_has_each_line_once_and_redacts_auth() {
    let mut config = Config::new("mx.test");
    config.transcript = true;
    config.auth = crate::AuthPolicy::Enabled {
        required: false,
        allow_plaintext: true,
        cram_md5: false,
    };
    let mut s = session(config);
    s.handle_input(b"EHLO c\r\nAUTH PLAIN AHVzZXIAc2VjcmV0\r\n");
    let Some(Event::Authenticate(req)) = s.poll_event() else {
        panic!("no auth event")
    };
    assert!(
        !format!("{req:?}").contains("secret"),
        "Debug must redact: {req:?}"
    );
    s.auth_succeeded("user");
    s.handle_input(b"QUIT\r\n");
    let lines: Vec<String> = std::iter::from_fn(|| s.poll_transcript())
        .map(|l| format!("{} {}", if l.from_client { "C" } else { "S" }, l.text))
        .collect();
    let all = lines.join("\n");
    assert!(!all.contains("AHVzZXIAc2VjcmV0"), "{all}");
    assert!(all.contains("C AUTH PLAIN <redacted>"), "{all}");
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("S 221")).count(),
        1,
        "{all}"
    );
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("S 220")).count(),
        1,
        "{all}"
    );
}

#[test]
fn transcript_shows_each_reply_line_as_sent() {
    let mut config = Config::new("mx.test");
    config.transcript = true;
    let mut s = session(config);
    s.handle_input(b"EHLO c\r\nHELO c\r\nMAIL FROM:<a@b.test>\r\nNOOP\r\nQUIT\r\n");
    let sent = output(&mut s);
    let wire: Vec<&str> = sent.split("\r\n").filter(|l| !l.is_empty()).collect();
    let server: Vec<String> = std::iter::from_fn(|| s.poll_transcript())
        .filter(|l| !l.from_client)
        .map(|l| l.text)
        .collect();
    assert_eq!(server, wire);
    // The greeting, every line of the EHLO reply, HELO, MAIL, NOOP and QUIT.
    assert!(wire.len() > 8, "{sent}");
    assert!(wire[1].starts_with("250-mx.test greets c"), "{sent}");
    assert!(wire.contains(&"250 ENHANCEDSTATUSCODES"), "{sent}");
    assert!(
        wire.last()
            .is_some_and(|l| l.starts_with("221 2.0.0 mx.test ")),
        "{sent}"
    );
}

#[test]
fn data_receiver_any_split_gives_the_same_message() {
    let input: &[u8] = b"a\r\n..b\r\n.\nc\r.\r\n\r\n.x\n\r\n.\r\nREST";
    let mut whole = DataReceiver::new(Body::new(1000, None));
    let end = whole.feed(input).expect("terminator");
    assert_eq!(&input[end..], b"REST");
    let expected = whole.into_body().into_bytes();
    assert_eq!(expected, b"a\r\n.b\r\n\nc\r.\r\n\r\nx\n\r\n".to_vec());
    for split in 1..end {
        let mut r = DataReceiver::new(Body::new(1000, None));
        assert_eq!(
            r.feed(&input[..split]),
            None,
            "ended early at split {split}"
        );
        assert_eq!(r.feed(&input[split..]).map(|n| n + split), Some(end));
        assert_eq!(r.into_body().into_bytes(), expected, "split at {split}");
    }
}

/// Feeds `input` in chunks of the given sizes (cycled); the message and where it ended.
fn receive(input: &[u8], sizes: &[usize]) -> (Vec<u8>, Option<usize>) {
    let mut receiver = DataReceiver::new(Body::new(1 << 20, None));
    let mut at = 0;
    for &size in sizes.iter().cycle() {
        if at == input.len() {
            break;
        }
        let end = (at + size.max(1)).min(input.len());
        if let Some(n) = receiver.feed(&input[at..end]) {
            return (receiver.into_body().into_bytes(), Some(at + n));
        }
        at = end;
    }
    (receiver.into_body().into_bytes(), None)
}

/// Whole lines are copied in one go; that fast path must agree with the byte-at-a-time
/// automaton on text full of dots, bare CRs and bare LFs, however it is split.
#[test]
fn data_fast_path_agrees_with_the_automaton() {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let alphabet = [&b"a"[..], b"xy", b".", b"\r", b"\n", b"\r\n", b"\r\n."];
    let mut ended = 0;
    for _ in 0..3000 {
        let mut input = Vec::new();
        for _ in 0..next() % 60 {
            input.extend_from_slice(alphabet[(next() % alphabet.len() as u64) as usize]);
        }
        input.extend_from_slice(b"\r\n.\r\nNEXT");
        let sizes: Vec<usize> = (0..4).map(|_| 1 + (next() % 9) as usize).collect();
        let bytewise = receive(&input, &[1]);
        assert_eq!(receive(&input, &sizes), bytewise, "{input:?} in {sizes:?}");
        assert_eq!(receive(&input, &[input.len()]), bytewise, "{input:?} whole");
        ended += usize::from(bytewise.1.is_some());
    }
    assert_eq!(ended, 3000, "every input holds a terminator");
}

#[test]
fn oversized_data_holds_at_most_the_limit() {
    let mut config = Config::new("mx.test");
    config.max_message_size = 1024;
    let mut s = session(config);
    s.handle_input(b"EHLO c\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\nDATA\r\n");
    let line = vec![b'x'; 64 * 1024];
    for _ in 0..64 {
        s.handle_input(&line);
        assert!(
            s.buffered() == 0,
            "DATA bytes must not pile up in the input buffer"
        );
    }
    s.handle_input(b"\r\n.\r\nNOOP\r\n");
    let out = output(&mut s);
    assert!(out.ends_with("552 5.3.4 Requested mail action aborted: exceeded storage allocation (1024)\r\n250 2.0.0 Ok\r\n"), "{out}");
    assert!(s.poll_event().is_none());
}

#[test]
fn command_input_stays_bounded_without_line_ends() {
    let mut s = session(Config::new("mx.test"));
    for _ in 0..100 {
        s.handle_input(&[b'A'; 1000]);
        assert!(
            s.buffered() <= crate::MAX_COMMAND_LINE,
            "buffered {}",
            s.buffered()
        );
    }
    s.handle_input(b"\r\nNOOP\r\n");
    let out = output(&mut s);
    assert!(
        out.ends_with("500 5.5.2 Line too long\r\n250 2.0.0 Ok\r\n"),
        "{out}"
    );
}

#[test]
fn addresses_keep_their_spelling() {
    let (m, rest) = crate::address::parse_path("<@a.test,@b.test:Üser@Example.COM> X", true, true)
        .expect("parse");
    let m = m.expect("mailbox");
    assert_eq!(
        (m.local_part(), m.domain(), rest),
        ("Üser", "Example.COM", " X")
    );
    assert!(m.is_utf8());
    assert!(crate::address::parse_path("<a@b..c>", true, true).is_err());
    assert!(crate::address::parse_path("<a@-b.c>", true, true).is_err());
    assert!(crate::address::parse_path("<.a@b.c>", true, true).is_err());
    assert!(crate::address::parse_path("<\"a\\\"q\"@b.c>", true, true).is_ok());
}

#[test]
fn paths_give_up_their_text_as_spelled() {
    let (m, _) = crate::address::parse_path("<@a.test:Üser@Example.COM>", true, true).unwrap();
    let m = m.expect("mailbox");
    assert_eq!(m.clone().into_string(), m.as_str());
    assert_eq!(m.as_str(), "Üser@Example.COM");
    let path = crate::ReversePath::Mailbox(m);
    assert_eq!(path.clone().into_string(), path.as_str());
    assert_eq!(crate::ReversePath::Null.into_string(), "");
}

#[test]
fn secret_debug_is_redacted() {
    let s = crate::Secret::new(b"hunter2".to_vec());
    assert_eq!(format!("{s:?}"), "Secret(<redacted>)");
}

/// `poll_output_into` hands over the same bytes as `poll_output`, batch by batch, reusing the
/// caller's buffer.
#[test]
fn output_into_a_reused_buffer_matches_poll_output() {
    let config = || Config::new("mx.test".to_owned());
    let (mut by_vec, mut by_buffer) = (session(config()), session(config()));
    let mut buffer = Vec::new();
    for input in [
        &b"EHLO client.test\r\n"[..],
        b"MAIL FROM:<a@x.test>\r\nRCPT TO:<b@x.test>\r\nNOOP\r\n",
        b"QUIT\r\n",
    ] {
        by_vec.handle_input(input);
        by_buffer.handle_input(input);
        let expected = by_vec.poll_output().unwrap_or_default();
        assert!(by_buffer.poll_output_into(&mut buffer));
        assert_eq!(
            String::from_utf8_lossy(&buffer),
            String::from_utf8_lossy(&expected)
        );
        assert!(!by_buffer.poll_output_into(&mut buffer), "nothing new");
        assert!(
            buffer.is_empty(),
            "the buffer is cleared when nothing is pending"
        );
    }
}

/// Replies are rendered without `core::fmt`; they read as formatting them would.
#[test]
fn replies_render_as_their_parts_format() {
    use crate::reply::{EnhancedStatus, Reply, ReplyCode};
    for code in (200..=599).filter_map(ReplyCode::new) {
        for (class, subject, detail) in [(2, 0, 0), (4, 7, 10), (5, 65535, 999)] {
            let status = EnhancedStatus::new(class, subject, detail);
            for text in ["", "Ok: queued as 01ABC"] {
                let mut out = Vec::new();
                Reply::new(code, status, text).write_to(&mut out);
                let expected = if text.is_empty() {
                    format!("{code} {status}\r\n")
                } else {
                    format!("{code} {status} {text}\r\n")
                };
                assert_eq!(String::from_utf8(out).unwrap(), expected);
                let mut bare = Vec::new();
                Reply::bare(code, text).write_to(&mut bare);
                assert_eq!(
                    String::from_utf8(bare).unwrap(),
                    format!("{code} {text}\r\n")
                );
            }
        }
    }
}

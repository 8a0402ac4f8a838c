//! Drives a session the way the server's driver does, answering every event.

use std::sync::Arc;

use smtp_proto::{AuthPolicy, Config, ConnectionInfo, Event, Expect, Session, TlsPolicy, MAX_COMMAND_LINE};

/// A session configured from the first byte of the input.
pub fn session(flags: u8) -> Session {
    let mut config = Config::new("fuzz.test");
    config.max_message_size = if flags & 1 == 0 { 0 } else { 4096 };
    config.max_recipients = usize::from(flags >> 4) + 1;
    config.tls = match (flags >> 1) & 3 {
        0 => TlsPolicy::Unavailable,
        1 => TlsPolicy::Optional,
        _ => TlsPolicy::Required,
    };
    config.auth = if flags & 8 == 0 {
        AuthPolicy::Disabled
    } else {
        AuthPolicy::Enabled { required: flags & 16 != 0, allow_plaintext: true, cram_md5: true }
    };
    config.transcript = flags & 32 != 0;
    Session::new(Arc::new(config), ConnectionInfo { tls: flags & 64 != 0, challenge_token: "1.2".into() })
}

/// Feeds `data` in chunks whose sizes come from `chunks`, answering events, and returns all
/// output. Checks the invariants that hold whatever the client sends.
pub fn drive(session: &mut Session, data: &[u8], chunks: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut pos = 0;
    let mut sizes = chunks.iter().cycle();
    let mut stored = 0u32;
    while pos < data.len() && !session.is_closed() {
        let size = sizes.next().map_or(data.len(), |&s| usize::from(s).max(1));
        let end = (pos + size).min(data.len());
        session.handle_input(&data[pos..end]);
        pos = end;
        loop {
            if let Some(bytes) = session.poll_output() {
                out.extend_from_slice(&bytes);
            }
            while session.poll_transcript().is_some() {}
            match session.poll_event() {
                Some(Event::Message(message)) => {
                    assert!(message.data.len() <= 1 << 30);
                    stored += 1;
                    session.message_stored(&format!("ID{stored}"));
                }
                Some(Event::StartTls) => session.tls_established(),
                Some(Event::Authenticate(request)) => {
                    if request.username.len() % 2 == 0 {
                        session.auth_succeeded(&request.username);
                    } else {
                        session.auth_failed();
                    }
                }
                None => break,
            }
        }
        if session.expects() == Expect::Command {
            assert!(session.buffered() <= MAX_COMMAND_LINE, "command input must stay bounded");
        }
    }
    session.handle_eof();
    out
}

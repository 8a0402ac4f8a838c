//! Runs every `tests/transcripts/*.txt` file against a [`Session`] four ways:
//!
//! 1. step by step: after each client write, the replies so far must be exactly the `S:` lines
//!    written before the next client line (replies come at the right moment, not late);
//! 2. split at every byte: the client's bytes arrive one at a time;
//! 3. fully pipelined: all client bytes up to the next action arrive in one write;
//! 4. in pieces of 7 bytes: most writes finish a line the session holds from the write before
//!    and bring whole lines, message data and the start of another line after it.
//!
//! All four must produce the same replies and events. The format:
//!
//! ```text
//! # comment
//! ! directive ...          session configuration (see `configure`)
//! C: text                  client sends `text` CRLF
//! C~ raw\r\n               client sends raw bytes; escapes: \r \n \t \\ \xNN
//! S: reply                 expected server line
//! E: message FROM TO,TO [ok|full|local]
//! D: line / D~ raw         the expected message data (after the E: message line)
//! E: starttls
//! E: auth MECH USER SECRET ok|fail
//! A: handshake | eof | timeout | shutdown
//! ```

use std::path::Path;
use std::sync::Arc;

use smtp_proto::{
    AuthPolicy, Config, ConnectionInfo, Event, Proof, RecipientFilter, Session, StoreFailure,
    TlsPolicy,
};

#[derive(Debug, Clone)]
enum Step {
    Client(Vec<u8>),
    Server(String),
    Message {
        from: String,
        to: Vec<String>,
        data: Vec<u8>,
        answer: String,
    },
    StartTls,
    Auth {
        mechanism: String,
        user: String,
        secret: String,
        ok: bool,
    },
    Action(String),
}

#[derive(Debug)]
struct Script {
    name: String,
    config: Config,
    implicit_tls: bool,
    steps: Vec<Step>,
}

#[derive(Debug)]
struct DomainFilter(String);

impl RecipientFilter for DomainFilter {
    fn allows(&self, recipient: &str) -> bool {
        recipient.ends_with(&format!("@{}", self.0))
    }
}

fn unescape(raw: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let bytes = raw.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 1 < bytes.len() {
            match bytes[i + 1] {
                b'r' => out.push(b'\r'),
                b'n' => out.push(b'\n'),
                b't' => out.push(b'\t'),
                b'\\' => out.push(b'\\'),
                b'x' => {
                    out.push(u8::from_str_radix(&raw[i + 2..i + 4], 16).expect("bad \\x escape"));
                    i += 2;
                }
                other => panic!("unknown escape \\{}", other as char),
            }
            i += 2;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

fn configure(config: &mut Config, implicit: &mut bool, words: &[&str]) {
    match words {
        ["max-message-size", n] => config.max_message_size = n.parse().expect("number"),
        ["max-recipients", n] => config.max_recipients = n.parse().expect("number"),
        ["tls", "optional"] => config.tls = TlsPolicy::Optional,
        ["tls", "required"] => config.tls = TlsPolicy::Required,
        ["implicit-tls"] => *implicit = true,
        ["allow-domain", d] => {
            config.recipient_filter = Some(Arc::new(DomainFilter((*d).to_owned())))
        }
        ["auth", mode, rest @ ..] => {
            config.auth = AuthPolicy::Enabled {
                required: *mode == "required",
                allow_plaintext: rest.contains(&"plaintext"),
                cram_md5: rest.contains(&"cram"),
            }
        }
        ["transcript"] => config.transcript = true,
        other => panic!("unknown directive {other:?}"),
    }
}

fn parse(path: &Path) -> Script {
    let text = std::fs::read_to_string(path).expect("read transcript");
    let mut config = Config::new("mx.test");
    let mut implicit_tls = false;
    let mut steps = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let (tag, rest) = line.split_at(2.min(line.len()));
        let rest = rest.strip_prefix(' ').unwrap_or(rest);
        match tag {
            "! " | "!" => {
                let words: Vec<&str> = line[1..].split_whitespace().collect();
                configure(&mut config, &mut implicit_tls, &words);
            }
            "C:" => steps.push(Step::Client(format!("{rest}\r\n").into_bytes())),
            "C~" => steps.push(Step::Client(unescape(rest))),
            "S:" => steps.push(Step::Server(rest.to_owned())),
            "D:" | "D~" => match steps.last_mut() {
                Some(Step::Message { data, .. }) => {
                    if tag == "D:" {
                        data.extend_from_slice(rest.as_bytes());
                        data.extend_from_slice(b"\r\n");
                    } else {
                        data.extend_from_slice(&unescape(rest));
                    }
                }
                _ => panic!("{}:{}: D line without E: message", path.display(), n + 1),
            },
            "E:" => {
                let words: Vec<&str> = rest.split(' ').collect();
                steps.push(match words.as_slice() {
                    ["message", from, rest @ ..] => {
                        let (to, answer) = match rest {
                            [to @ .., last] if ["ok", "full", "local"].contains(last) => {
                                (to.join(" "), *last)
                            }
                            to => (to.join(" "), "ok"),
                        };
                        Step::Message {
                            from: from.trim_matches(['<', '>']).to_owned(),
                            to: to
                                .split(">,<")
                                .map(|t| t.trim_matches(['<', '>']).to_owned())
                                .collect(),
                            data: Vec::new(),
                            answer: answer.to_owned(),
                        }
                    }
                    ["starttls"] => Step::StartTls,
                    ["auth", mechanism, user, secret, verdict] => Step::Auth {
                        mechanism: (*mechanism).to_owned(),
                        user: (*user).to_owned(),
                        secret: (*secret).to_owned(),
                        ok: *verdict == "ok",
                    },
                    other => panic!("{}:{}: bad event line {other:?}", path.display(), n + 1),
                });
            }
            "A:" => steps.push(Step::Action(rest.trim().to_owned())),
            _ => panic!("{}:{}: unknown line {line:?}", path.display(), n + 1),
        }
    }
    Script {
        name: path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned(),
        config,
        implicit_tls,
        steps,
    }
}

/// Replays a script's client side and records what the session does.
struct Run {
    session: Session,
    output: Vec<u8>,
    expected_events: Vec<Step>,
    next_event: usize,
    stored: usize,
    pending_tls: bool,
    log: Vec<String>,
}

impl Run {
    fn new(script: &Script) -> Self {
        let info = ConnectionInfo {
            tls: script.implicit_tls,
            challenge_token: "1234.5678".to_owned(),
        };
        let expected_events = script
            .steps
            .iter()
            .filter(|s| matches!(s, Step::Message { .. } | Step::StartTls | Step::Auth { .. }))
            .cloned()
            .collect();
        let mut run = Self {
            session: Session::new(Arc::new(script.config.clone()), info),
            output: Vec::new(),
            expected_events,
            next_event: 0,
            stored: 0,
            pending_tls: false,
            log: Vec::new(),
        };
        run.drain();
        run
    }

    fn feed(&mut self, bytes: &[u8]) {
        self.session.handle_input(bytes);
        self.drain();
    }

    /// Collects output and answers events as the script says, until the session is quiet.
    fn drain(&mut self) {
        loop {
            if let Some(bytes) = self.session.poll_output() {
                self.output.extend_from_slice(&bytes);
            }
            let Some(event) = self.session.poll_event() else {
                break;
            };
            let expected = self.expected_events.get(self.next_event).cloned();
            self.next_event += 1;
            match (event, expected) {
                (
                    Event::Message(msg),
                    Some(Step::Message {
                        from,
                        to,
                        data,
                        answer,
                    }),
                ) => {
                    let got_to: Vec<String> =
                        msg.envelope.rcpt_to.iter().map(|m| m.to_string()).collect();
                    assert_eq!(msg.envelope.mail_from.as_str(), from, "envelope sender");
                    assert_eq!(got_to, to, "envelope recipients");
                    assert_eq!(
                        String::from_utf8_lossy(&msg.data),
                        String::from_utf8_lossy(&data),
                        "message data"
                    );
                    self.log.push(format!("message {} bytes", msg.data.len()));
                    match answer.as_str() {
                        "ok" => {
                            self.stored += 1;
                            self.session.message_stored(&format!("ID{}", self.stored));
                        }
                        "full" => self
                            .session
                            .message_failed(StoreFailure::InsufficientStorage),
                        "local" => self.session.message_failed(StoreFailure::LocalError),
                        other => panic!("unknown answer {other}"),
                    }
                }
                (Event::StartTls, Some(Step::StartTls)) => self.pending_tls = true,
                (
                    Event::Authenticate(req),
                    Some(Step::Auth {
                        mechanism,
                        user,
                        secret,
                        ok,
                    }),
                ) => {
                    assert_eq!(req.mechanism.name(), mechanism);
                    assert_eq!(req.username, user);
                    match &req.proof {
                        Proof::Password(p) => {
                            assert_eq!(String::from_utf8_lossy(p.expose()), secret)
                        }
                        Proof::CramMd5 { digest, .. } => assert_eq!(digest, &secret),
                    }
                    if ok {
                        self.session.auth_succeeded(&user);
                    } else {
                        self.session.auth_failed();
                    }
                }
                (event, expected) => {
                    panic!("unexpected event {event:?}, script expects {expected:?}")
                }
            }
        }
    }

    fn act(&mut self, action: &str) {
        match action {
            "handshake" => {
                assert!(self.pending_tls, "handshake without a StartTls event");
                self.pending_tls = false;
                self.session.tls_established();
            }
            "eof" => self.session.handle_eof(),
            "timeout" => self.session.handle_timeout(),
            "shutdown" => self.session.handle_shutdown(),
            other => panic!("unknown action {other}"),
        }
        self.drain();
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.output).into_owned()
    }
}

fn expected_text(lines: &[&String]) -> String {
    lines.iter().map(|l| format!("{l}\r\n")).collect()
}

fn all_server_lines(script: &Script) -> String {
    let lines: Vec<&String> = script
        .steps
        .iter()
        .filter_map(|s| match s {
            Step::Server(l) => Some(l),
            _ => None,
        })
        .collect();
    expected_text(&lines)
}

/// Mode 1: feed each client line alone and check replies arrive right after it.
fn run_stepwise(script: &Script) -> Run {
    let mut run = Run::new(script);
    let mut expected: Vec<&String> = Vec::new();
    for (i, step) in script.steps.iter().enumerate() {
        match step {
            Step::Server(line) => expected.push(line),
            Step::Client(bytes) => {
                assert_eq!(
                    run.text(),
                    expected_text(&expected),
                    "{}: before step {i}",
                    script.name
                );
                run.feed(bytes);
            }
            Step::Action(action) => {
                assert_eq!(
                    run.text(),
                    expected_text(&expected),
                    "{}: before step {i}",
                    script.name
                );
                run.act(action);
            }
            _ => {}
        }
    }
    run
}

/// Modes 2 to 4: the client's bytes between actions, chunked by `chunk`.
fn run_chunked(script: &Script, chunk: usize) -> Run {
    let mut run = Run::new(script);
    let mut pending = Vec::new();
    for step in &script.steps {
        match step {
            Step::Client(bytes) => pending.extend_from_slice(bytes),
            Step::Action(action) => {
                feed_chunks(&mut run, &pending, chunk);
                pending.clear();
                run.act(action);
            }
            _ => {}
        }
    }
    feed_chunks(&mut run, &pending, chunk);
    run
}

fn feed_chunks(run: &mut Run, bytes: &[u8], chunk: usize) {
    for piece in bytes.chunks(chunk.max(1)) {
        run.feed(piece);
    }
}

fn check(script: &Script) {
    let expected = all_server_lines(script);
    let runs = [
        ("stepwise", run_stepwise(script)),
        ("byte by byte", run_chunked(script, 1)),
        ("pipelined", run_chunked(script, usize::MAX)),
        ("in pieces of 7", run_chunked(script, 7)),
    ];
    for (mode, run) in &runs {
        assert_eq!(run.text(), expected, "{} ({mode}): replies", script.name);
        assert_eq!(
            run.next_event,
            run.expected_events.len(),
            "{} ({mode}): not every expected event happened",
            script.name
        );
        assert!(
            !run.pending_tls,
            "{} ({mode}): StartTls never answered",
            script.name
        );
    }
    for (mode, run) in &runs[1..] {
        assert_eq!(
            runs[0].1.log, run.log,
            "{} ({mode}): events differ when split",
            script.name
        );
    }
}

#[test]
#[allow(clippy::disallowed_macros)] // naming the script being checked helps when one fails
fn transcripts() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/transcripts");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("transcripts dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    paths.sort();
    assert!(
        paths.len() >= 10,
        "expected the transcript suite, found {}",
        paths.len()
    );
    for path in paths {
        eprintln!("checking {}", path.display());
        check(&parse(&path));
    }
}

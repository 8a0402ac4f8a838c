//! The API cells: list a page of 50 and search, with many messages stored; and how long
//! `--maildir` takes to come back over many messages. Skipped (with a note) while this build has
//! no HTTP API or no Maildir store. With `--baseline` the earlier build runs each after mailsink
//! (not interleaved: each fills a store of its own), its rows named after it.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::client::{self, ClientLoad, Security};
use super::error::BenchError;
use super::servers::{self, Kind, Running, ServerSpec};
use super::stats::Spread;
use super::tools::Tools;

/// A word only the one "needle" message has in its subject.
const NEEDLE: &str = "quillfeather";

/// An HTTP answer.
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: u16,
    pub body: String,
}

/// One API measurement.
#[derive(Debug, Clone)]
pub(crate) struct ApiRow {
    pub what: String,
    pub stored: u64,
    /// Milliseconds.
    pub time: Option<Spread>,
    pub note: Option<String>,
}

/// `GET path` over a fresh connection (`Connection: close`).
pub(crate) fn get(addr: SocketAddr, path: &str) -> Result<Reply, BenchError> {
    let fail = |e: std::io::Error| BenchError::Load(format!("GET {path}: {e}"));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).map_err(fail)?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(fail)?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).map_err(fail)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).map_err(fail)?;
    parse_response(&raw)
        .ok_or_else(|| BenchError::Load(format!("GET {path}: not an HTTP response")))
}

/// The status and body of an HTTP/1.1 response (`Content-Length` or read-to-close bodies).
pub(crate) fn parse_response(raw: &[u8]) -> Option<Reply> {
    let head_end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..head_end]).ok()?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    let body = String::from_utf8_lossy(&raw[head_end + 4..]).into_owned();
    Some(Reply { status, body })
}

/// The number after `"total":` in a Mailpit list or search answer.
pub(crate) fn total(body: &str) -> Option<u64> {
    let rest = &body[body.find("\"total\"")? + "\"total\"".len()..];
    let rest = rest.trim_start().strip_prefix(':')?.trim_start();
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// Page and search timings with `stored` messages (memory store, `--max 0`), for either
/// mailsink build.
pub(crate) fn list_and_search(
    tools: &Tools,
    kind: Kind,
    stored: u64,
    repeats: usize,
) -> Vec<ApiRow> {
    named(kind, list_and_search_of(tools, kind, stored, repeats))
}

fn list_and_search_of(tools: &Tools, kind: Kind, stored: u64, repeats: usize) -> Vec<ApiRow> {
    let skip = |note: String| {
        vec![ApiRow {
            what: format!("list and search, {stored} messages"),
            stored,
            time: None,
            note: Some(note),
        }]
    };
    if !tools.api_ok {
        return skip("skipped: `/api/v1/messages` does not answer in this build".to_owned());
    }
    eprintln!("bench: api with {stored} messages ({})", kind.name());
    let spec = ServerSpec::new(kind);
    let server = match servers::start(&spec, tools, &format!("api-{stored}-{}", kind.name())) {
        Ok(server) => server,
        Err(err) => return skip(err.to_string()),
    };
    let rows = measure_api(&server, stored, repeats);
    server.stop();
    rows.unwrap_or_else(|err| skip(err.to_string()))
}

fn measure_api(server: &Running, stored: u64, repeats: usize) -> Result<Vec<ApiRow>, BenchError> {
    let http = server
        .http
        .ok_or_else(|| BenchError::Load("no HTTP listener".to_owned()))?;
    fill(server.addr, stored)?;
    let queries = [
        (
            "list a page of 50 (newest)",
            "/api/v1/messages?limit=50".to_owned(),
        ),
        (
            "list a page of 50 (deep: start=total/2)",
            format!("/api/v1/messages?start={}&limit=50", stored / 2),
        ),
        (
            "search one word (1 hit)",
            format!("/api/v1/search?query={NEEDLE}&limit=50"),
        ),
        (
            "search one word (every message matches)",
            "/api/v1/search?query=bench&limit=50".to_owned(),
        ),
    ];
    let mut rows = Vec::new();
    for (what, path) in queries {
        let mut times = Vec::with_capacity(repeats);
        let mut note = None;
        for _ in 0..repeats {
            let start = Instant::now();
            let reply = get(http, &path)?;
            times.push(start.elapsed().as_secs_f64() * 1000.0);
            if reply.status != 200 {
                note = Some(format!("answered {}", reply.status));
            } else if path.contains("/messages?") && total(&reply.body) != Some(stored + 1) {
                note = Some(format!(
                    "total {:?}, expected {}",
                    total(&reply.body),
                    stored + 1
                ));
            }
        }
        rows.push(ApiRow {
            what: what.to_owned(),
            stored,
            time: Spread::of(&times),
            note,
        });
    }
    Ok(rows)
}

/// Stores `count` ordinary messages and one needle, over reused plain connections.
fn fill(addr: SocketAddr, count: u64) -> Result<(), BenchError> {
    let load = |message, messages: u64, concurrency: usize| ClientLoad {
        addr,
        security: Security::Plain,
        auth: None,
        resume: false,
        message,
        concurrency,
        messages,
        per_connection: 500,
        time_limit: Duration::from_secs(600),
        expect_refusal: false,
    };
    let started = Instant::now();
    let outcome = client::run(&load(client::message(1024, "bench filler"), count, 4))?;
    let needle = client::run(&load(
        client::message(1024, &format!("bench {NEEDLE}")),
        1,
        1,
    ))?;
    if outcome.delivered != count || needle.delivered != 1 {
        return Err(BenchError::Load(format!(
            "stored {} of {count} messages: {}",
            outcome.delivered,
            outcome.first_error.unwrap_or_default()
        )));
    }
    eprintln!(
        "bench:   stored {count} messages in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Time for `--maildir` to come back over `stored` messages: to the first SMTP session, and
/// (with the API) until the API lists them all; with the files in the page cache (a restart),
/// and, as root, with the page cache dropped first (a reboot: every file read from the disk).
pub(crate) fn maildir_restart(
    tools: &Tools,
    kind: Kind,
    stored: u64,
    repeats: usize,
) -> Vec<ApiRow> {
    named(kind, maildir_restart_of(tools, kind, stored, repeats))
}

/// The baseline's rows start with its name; mailsink's are left as they are (the targets
/// find them by their text).
fn named(kind: Kind, mut rows: Vec<ApiRow>) -> Vec<ApiRow> {
    if kind != Kind::Mailsink {
        for row in &mut rows {
            row.what = format!("{}: {}", kind.name(), row.what);
        }
    }
    rows
}

fn maildir_restart_of(tools: &Tools, kind: Kind, stored: u64, repeats: usize) -> Vec<ApiRow> {
    let row = |what: &str, time, note| ApiRow {
        what: what.to_owned(),
        stored,
        time,
        note,
    };
    if !tools.maildir_ok {
        let note = Some("skipped: this build does not accept `--maildir` yet".to_owned());
        return vec![row("restart over a Maildir", None, note)];
    }
    eprintln!(
        "bench: maildir restart over {stored} messages ({})",
        kind.name()
    );
    let restarts = match restart_times(tools, kind, stored, repeats) {
        Ok(restarts) => restarts,
        Err(err) => return vec![row("restart over a Maildir", None, Some(err.to_string()))],
    };
    let api_note = (!tools.api_ok).then(|| "skipped: no HTTP API in this build".to_owned());
    vec![
        row(
            "restart over a Maildir: first SMTP session answered",
            Spread::of(&restarts.smtp),
            None,
        ),
        row(
            "restart over a Maildir: API lists every message",
            Spread::of(&restarts.api),
            api_note.clone(),
        ),
        row(
            "restart over a Maildir, page cache dropped: first SMTP session answered",
            Spread::of(&restarts.cold_smtp),
            restarts.cold_skipped.clone(),
        ),
        row(
            "restart over a Maildir, page cache dropped: API lists every message",
            Spread::of(&restarts.cold_api),
            restarts.cold_skipped.clone().or(api_note),
        ),
    ]
}

/// Milliseconds per round.
#[derive(Debug, Default)]
struct Restarts {
    smtp: Vec<f64>,
    api: Vec<f64>,
    cold_smtp: Vec<f64>,
    cold_api: Vec<f64>,
    /// Why the cold rounds did not run.
    cold_skipped: Option<String>,
}

fn restart_times(
    tools: &Tools,
    kind: Kind,
    stored: u64,
    repeats: usize,
) -> Result<Restarts, BenchError> {
    let spec = ServerSpec::new(kind).maildir();
    let prefix = format!("maildir-restart-{}", kind.name());
    let server = servers::start(&spec, tools, &format!("{prefix}-fill"))?;
    fill(server.addr, stored)?;
    let mut dir = server.stop_keeping_data();
    let mut restarts = Restarts::default();
    for round in 0..repeats {
        let label = format!("{prefix}-{round}");
        let (smtp, api) = restart_once(&spec, tools, &label, &mut dir, stored)?;
        restarts.smtp.push(smtp);
        restarts.api.extend(api);
    }
    for round in 0..repeats {
        if let Err(why) = drop_page_cache(tools) {
            restarts.cold_skipped = Some(format!("skipped: {why}"));
            break;
        }
        let label = format!("{prefix}-cold-{round}");
        let (smtp, api) = restart_once(&spec, tools, &label, &mut dir, stored)?;
        restarts.cold_smtp.push(smtp);
        restarts.cold_api.extend(api);
    }
    Ok(restarts)
}

/// Starts `mailsink` on `dir`; the time to its first SMTP session, and until the API lists
/// all `stored` messages.
fn restart_once(
    spec: &ServerSpec,
    tools: &Tools,
    label: &str,
    dir: &mut Option<PathBuf>,
    stored: u64,
) -> Result<(f64, Option<f64>), BenchError> {
    let started = Instant::now();
    let server = servers::start_on(spec, tools, label, dir.take())?;
    let smtp = server.startup.as_secs_f64() * 1000.0;
    let mut api = None;
    if let Some(http) = server.http {
        while Instant::now() < started + Duration::from_secs(120) {
            let reply = get(http, "/api/v1/messages?limit=1")?;
            if total(&reply.body) == Some(stored + 1) {
                api = Some(started.elapsed().as_secs_f64() * 1000.0);
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    *dir = server.stop_keeping_data();
    Ok((smtp, api))
}

/// Writes dirty pages out and empties the page cache, so the next start reads every file
/// from the disk (root only; a container may still refuse).
fn drop_page_cache(tools: &Tools) -> Result<(), String> {
    if !tools.root {
        return Err("dropping the page cache needs root".to_owned());
    }
    let synced = std::process::Command::new("sync")
        .status()
        .map_err(|e| format!("sync: {e}"))?;
    if !synced.success() {
        return Err(format!("sync exited with {synced}"));
    }
    std::fs::write("/proc/sys/vm/drop_caches", "3\n")
        .map_err(|e| format!("/proc/sys/vm/drop_caches: {e}"))
}

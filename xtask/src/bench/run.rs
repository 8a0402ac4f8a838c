//! Runs the load cells: each contestant started fresh for each run, contestants alternating
//! (A B C A B C ...) so that a slow patch of the shared machine hits every one of them.

use std::time::Duration;

use super::cells::{Cell, Contestant, Driver};
use super::client::{self, ClientLoad};
use super::error::BenchError;
use super::options::Options;
use super::procfs::{self, Usage};
use super::servers::{self, Kind, Sampler};
use super::source::{self, SourceLoad};
use super::stats::{self, Spread};
use super::tools::{Tools, AUTH_PASSWORD, AUTH_USER};

/// One run of one contestant.
#[derive(Debug, Clone, Default)]
pub(crate) struct RunRecord {
    pub delivered: u64,
    pub failed: u64,
    pub elapsed: Duration,
    /// Server utime + stime over the load.
    pub server_cpu: Duration,
    /// The load driver's own CPU time over the load.
    pub client_cpu: Duration,
    pub idle_rss_kib: u64,
    pub peak_rss_kib: u64,
    pub peak_threads: u64,
    pub startup: Duration,
    /// Median connect-to-QUIT time of the client's sessions (xtask client only).
    pub session: Option<Duration>,
    pub error: Option<String>,
    pub timed_out: bool,
    /// Killed for passing the memory cap: its CPU time is unknown.
    pub capped: bool,
}

impl RunRecord {
    pub(crate) fn rate(&self) -> f64 {
        self.delivered as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Server CPU milliseconds per message handled.
    pub(crate) fn cpu_ms_per_message(&self) -> f64 {
        if self.capped {
            return f64::NAN;
        }
        per_message(self.server_cpu, self.delivered + self.failed)
    }

    pub(crate) fn client_ms_per_message(&self) -> f64 {
        per_message(self.client_cpu, self.delivered + self.failed)
    }
}

fn per_message(cpu: Duration, messages: u64) -> f64 {
    if messages == 0 {
        f64::NAN
    } else {
        cpu.as_secs_f64() * 1000.0 / messages as f64
    }
}

/// Every run of one contestant in one cell.
#[derive(Debug, Clone)]
pub(crate) struct ContestantResult {
    pub label: String,
    pub driver: &'static str,
    pub runs: Vec<RunRecord>,
    /// Why it did not run (tool missing, server failed to start).
    pub skipped: Option<String>,
}

impl ContestantResult {
    pub(crate) fn rate(&self) -> Option<Spread> {
        Spread::of(&self.runs.iter().map(RunRecord::rate).collect::<Vec<_>>())
    }

    pub(crate) fn cpu_ms(&self) -> Option<f64> {
        stats::median(
            &self
                .runs
                .iter()
                .map(RunRecord::cpu_ms_per_message)
                .collect::<Vec<_>>(),
        )
    }

    pub(crate) fn client_ms(&self) -> Option<f64> {
        stats::median(
            &self
                .runs
                .iter()
                .map(RunRecord::client_ms_per_message)
                .collect::<Vec<_>>(),
        )
    }

    pub(crate) fn peak_rss_kib(&self) -> Option<u64> {
        self.runs.iter().map(|r| r.peak_rss_kib).max()
    }

    pub(crate) fn peak_threads(&self) -> Option<u64> {
        self.runs.iter().map(|r| r.peak_threads).max()
    }

    pub(crate) fn session_ms(&self) -> Option<f64> {
        let values: Vec<f64> = self
            .runs
            .iter()
            .filter_map(|r| r.session.map(|d| d.as_secs_f64() * 1000.0))
            .collect();
        stats::median(&values)
    }

    pub(crate) fn failed(&self) -> u64 {
        self.runs.iter().map(|r| r.failed).sum()
    }

    pub(crate) fn first_error(&self) -> Option<&str> {
        self.runs.iter().find_map(|r| r.error.as_deref())
    }

    pub(crate) fn timed_out(&self) -> bool {
        self.runs.iter().any(|r| r.timed_out)
    }
}

/// A cell's results, contestants in the cell's order.
#[derive(Debug, Clone)]
pub(crate) struct CellResult {
    pub name: &'static str,
    pub title: String,
    pub messages: u64,
    pub contestants: Vec<ContestantResult>,
    /// References the cell has but `--peers` left out.
    pub left_out: Vec<Kind>,
}

impl CellResult {
    pub(crate) fn get(&self, label: &str) -> Option<&ContestantResult> {
        self.contestants
            .iter()
            .find(|c| c.label == label && c.skipped.is_none() && !c.runs.is_empty())
    }
}

/// Runs one cell: `options.pairs` rounds, each contestant once per round.
pub(crate) fn cell(cell: &Cell, tools: &Tools, options: &Options) -> CellResult {
    eprintln!("bench: {} ({})", cell.name, cell.title);
    let mut results: Vec<ContestantResult> = cell
        .contestants
        .iter()
        .map(|c| ContestantResult {
            label: c.label.clone(),
            driver: c.driver.name(),
            runs: Vec::new(),
            skipped: availability(c, tools),
        })
        .collect();
    for round in 0..options.pairs {
        for (contestant, result) in cell.contestants.iter().zip(&mut results) {
            if result.skipped.is_some() {
                continue;
            }
            match once(cell, contestant, tools, options, round) {
                Ok(record) => {
                    eprintln!(
                        "bench:   {:<26} {:>9.0} msg/s  {:>6.3} ms CPU/msg  {:>6.1} MiB peak{}",
                        contestant.label,
                        record.rate(),
                        record.cpu_ms_per_message(),
                        record.peak_rss_kib as f64 / 1024.0,
                        record
                            .error
                            .as_deref()
                            .map(|e| format!("  ({e})"))
                            .unwrap_or_default()
                    );
                    result.runs.push(record);
                }
                Err(err) => {
                    eprintln!("bench:   {}: {err}", contestant.label);
                    result.skipped = Some(err.to_string());
                }
            }
        }
    }
    CellResult {
        name: cell.name,
        title: cell.title.clone(),
        messages: cell.messages,
        contestants: results,
        left_out: cell.left_out.clone(),
    }
}

fn availability(contestant: &Contestant, tools: &Tools) -> Option<String> {
    let kind = contestant.server.kind;
    if !tools.has(kind) {
        return Some(format!("{} is not installed", kind.name()));
    }
    if kind.is_mailsink() && contestant.server.maildir && !tools.maildir_ok {
        return Some("this build does not accept `--maildir` yet".to_owned());
    }
    None
}

/// Starts the contestant's server, drives the load, measures, stops the server.
fn once(
    cell: &Cell,
    contestant: &Contestant,
    tools: &Tools,
    options: &Options,
    round: usize,
) -> Result<RunRecord, BenchError> {
    let label = format!("{}-{}-{round}", cell.name, contestant.label);
    let server = servers::start(&contestant.server, tools, &label)?;
    let pid = server.pid();
    let sampler = Sampler::start(pid);
    let before = procfs::usage(pid).unwrap_or_default();
    let before_ns = procfs::threads_run_ns(pid);
    let mut record = drive(cell, contestant, tools, options, server.addr)?;
    let after_ns = procfs::threads_run_ns(pid);
    let after = procfs::usage(pid).unwrap_or_default();
    let sampled = sampler.finish();
    record.peak_threads = sampled.peak_threads.max(after.threads);
    if sampled.capped {
        record.peak_rss_kib = servers::RSS_CAP_KIB;
        record.capped = true;
        record.error = Some(format!(
            "killed when its RSS passed {} GiB",
            servers::RSS_CAP_KIB / (1024 * 1024)
        ));
        server.stop();
        return Ok(record);
    }
    // Every `250` means the message is on disk: count the files (mailsink's own layout).
    let files = contestant
        .server
        .kind
        .is_mailsink()
        .then(|| server.maildir_messages())
        .flatten();
    if let Some(files) = files {
        if files < record.delivered {
            record.error.get_or_insert_with(|| {
                format!(
                    "{files} files in the maildir for {} messages accepted",
                    record.delivered
                )
            });
        }
    }
    record.server_cpu = procfs::cpu_between(before.cpu_ticks, after.cpu_ticks, before_ns, after_ns);
    record.idle_rss_kib = server.idle.rss_kib;
    record.peak_rss_kib = record.peak_rss_kib.max(after.hwm_kib);
    record.startup = server.startup;
    if after == Usage::default() {
        record
            .error
            .get_or_insert_with(|| "the server died during the load".to_owned());
    }
    server.stop();
    Ok(record)
}

fn drive(
    cell: &Cell,
    contestant: &Contestant,
    tools: &Tools,
    options: &Options,
    addr: std::net::SocketAddr,
) -> Result<RunRecord, BenchError> {
    let time_limit = if options.quick {
        Duration::from_secs(20)
    } else {
        Duration::from_secs(60)
    };
    match &contestant.driver {
        Driver::Source => {
            let message_file = tools
                .work
                .join("logs")
                .join(format!("message-{}.eml", cell.size));
            std::fs::write(&message_file, client::message_file(cell.size, "bench"))
                .map_err(BenchError::io(message_file.display().to_string()))?;
            let load = SourceLoad {
                addr,
                message_file,
                concurrency: cell.concurrency,
                messages: cell.messages,
                reuse: cell.reuse,
                time_limit,
            };
            let outcome = source::run(&tools.smtp_source, &load)?;
            Ok(RunRecord {
                delivered: outcome.delivered,
                failed: if outcome.error.is_some() {
                    cell.messages - outcome.delivered
                } else {
                    0
                },
                elapsed: outcome.elapsed,
                client_cpu: outcome.client_cpu,
                error: outcome.error,
                timed_out: outcome.timed_out,
                ..RunRecord::default()
            })
        }
        Driver::Client {
            security,
            auth,
            resume,
            expect_refusal,
        } => {
            let per_connection = if cell.reuse {
                cell.messages.div_ceil(cell.concurrency as u64)
            } else {
                1
            };
            let load = ClientLoad {
                addr,
                security: *security,
                auth: auth.then(|| (AUTH_USER.to_owned(), AUTH_PASSWORD.to_owned())),
                resume: *resume,
                message: client::message(cell.size, "bench"),
                concurrency: cell.concurrency,
                messages: cell.messages,
                per_connection,
                time_limit,
                expect_refusal: *expect_refusal,
            };
            let own_before = procfs::own_ticks();
            let outcome = client::run(&load)?;
            let client_cpu =
                procfs::ticks_to_duration(procfs::own_ticks().saturating_sub(own_before));
            let sessions: Vec<f64> = outcome.sessions.iter().map(Duration::as_secs_f64).collect();
            Ok(RunRecord {
                delivered: outcome.delivered,
                failed: outcome.failed,
                elapsed: outcome.elapsed,
                client_cpu,
                session: stats::median(&sessions).map(Duration::from_secs_f64),
                error: outcome.first_error,
                timed_out: outcome.timed_out,
                ..RunRecord::default()
            })
        }
    }
}

/// Start-up time and idle memory of each server, started `rounds` times in turn.
#[derive(Debug, Clone)]
pub(crate) struct StartupResult {
    pub label: String,
    /// Start-up times in milliseconds.
    pub startup_ms: Vec<f64>,
    pub idle_rss_kib: Vec<f64>,
    pub threads: Vec<f64>,
    pub skipped: Option<String>,
}

pub(crate) fn startup(tools: &Tools, options: &Options, rounds: usize) -> Vec<StartupResult> {
    eprintln!("bench: startup (start-up time to the first answered session, idle RSS)");
    let kinds: Vec<Kind> = [
        Kind::Mailsink,
        Kind::Baseline,
        Kind::SmtpSink,
        Kind::Mailcrab,
        Kind::Mailtutan,
        Kind::Aiosmtpd,
    ]
    .into_iter()
    .filter(|&kind| options.runs(kind))
    .collect();
    let mut results: Vec<StartupResult> = kinds
        .iter()
        .map(|kind| StartupResult {
            label: kind.name().to_owned(),
            startup_ms: Vec::new(),
            idle_rss_kib: Vec::new(),
            threads: Vec::new(),
            skipped: (!tools.has(*kind)).then(|| format!("{} is not installed", kind.name())),
        })
        .collect();
    for round in 0..rounds {
        for (kind, result) in kinds.iter().zip(&mut results) {
            if result.skipped.is_some() {
                continue;
            }
            let spec = servers::ServerSpec::new(*kind);
            match servers::start(&spec, tools, &format!("startup-{}-{round}", kind.name())) {
                Ok(server) => {
                    result
                        .startup_ms
                        .push(server.startup.as_secs_f64() * 1000.0);
                    result.idle_rss_kib.push(server.idle.rss_kib as f64);
                    result.threads.push(server.idle.threads as f64);
                    server.stop();
                }
                Err(err) => result.skipped = Some(err.to_string()),
            }
        }
    }
    results
}

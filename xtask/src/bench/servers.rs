//! The servers under test: how each is started, when it is ready, and how it is measured.
//!
//! Every server runs on `127.0.0.1` on a port picked free just before it starts, in a process
//! group of its own, with its output in `target/bench/logs/`.

use std::fs;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::client::{self, Security};
use super::error::BenchError;
use super::process::{self, ProcessGroup};
use super::procfs::{self, Usage};
use super::tools::Tools;

/// How long a server has to answer its first connection.
const START_LIMIT: Duration = Duration::from_secs(20);

/// Which program serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Mailsink,
    /// Another mailsink binary (`--baseline`), started exactly as [`Kind::Mailsink`] is.
    Baseline,
    /// Postfix `smtp-sink`: discards everything, the ceiling.
    SmtpSink,
    /// mailcrab's SMTP engine in `xtask/peers/mailcrab-wrapper`.
    Mailcrab,
    Mailtutan,
    Aiosmtpd,
    /// The shape's floor ([`super::floor`]): not a peer, a measurement of the shape.
    Floor,
}

impl Kind {
    /// The references mailsink is compared with, in the order the cells list them.
    pub(crate) const REFERENCES: [Self; 5] = [
        Self::SmtpSink,
        Self::Mailcrab,
        Self::Mailtutan,
        Self::Aiosmtpd,
        Self::Floor,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Mailsink => "mailsink",
            Self::Baseline => "mailsink baseline",
            Self::SmtpSink => "smtp-sink",
            Self::Mailcrab => "mailcrab",
            Self::Mailtutan => "mailtutan",
            Self::Aiosmtpd => "aiosmtpd",
            Self::Floor => "shape floor",
        }
    }

    /// The name `--peers` knows a reference by: its [`Kind::name`], `floor` for the shape's
    /// floor.
    pub(crate) fn peer_name(self) -> &'static str {
        match self {
            Self::Floor => "floor",
            other => other.name(),
        }
    }

    /// The reference `--peers` calls `name`.
    pub(crate) fn reference(name: &str) -> Option<Self> {
        Self::REFERENCES
            .into_iter()
            .find(|kind| kind.peer_name() == name)
    }

    /// Either mailsink build.
    pub(crate) fn is_mailsink(self) -> bool {
        matches!(self, Self::Mailsink | Self::Baseline)
    }

    /// Whether the server can serve this security mode at all.
    pub(crate) fn supports(self, security: Security) -> bool {
        match self {
            Self::Mailsink | Self::Baseline | Self::Aiosmtpd | Self::Floor => true,
            Self::SmtpSink => security == Security::Plain,
            Self::Mailcrab => security != Security::StartTls,
            Self::Mailtutan => security != Security::Implicit,
        }
    }
}

/// A server and how it is configured for one cell. "mailsink" below means either build: the
/// baseline gets the very same arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ServerSpec {
    pub kind: Kind,
    /// Plain: no certificate; STARTTLS: a certificate (STARTTLS offered); implicit: TLS first.
    pub security: Security,
    /// mailsink only: a bcrypt (cost 10) user in `--smtp-auth-file`.
    pub auth: bool,
    /// mailsink: `--maildir`; mailtutan: `--storage maildir`.
    pub maildir: bool,
    /// mailsink only: `--max`; `None` keeps the default (500).
    pub max: Option<u64>,
    /// mailsink only: `--max-message-size` in MiB.
    pub max_message_mib: Option<u32>,
}

impl ServerSpec {
    pub(crate) fn new(kind: Kind) -> Self {
        Self {
            kind,
            security: Security::Plain,
            auth: false,
            maildir: false,
            max: Some(0),
            max_message_mib: None,
        }
    }

    pub(crate) fn security(mut self, security: Security) -> Self {
        self.security = security;
        self
    }

    pub(crate) fn auth(mut self) -> Self {
        self.auth = true;
        self
    }

    pub(crate) fn maildir(mut self) -> Self {
        self.maildir = true;
        self
    }

    pub(crate) fn max(mut self, max: Option<u64>) -> Self {
        self.max = max;
        self
    }

    pub(crate) fn max_message_mib(mut self, mib: u32) -> Self {
        self.max_message_mib = Some(mib);
        self
    }
}

/// A started server.
#[derive(Debug)]
pub(crate) struct Running {
    group: ProcessGroup,
    pub addr: SocketAddr,
    /// The HTTP API, when this mailsink build has one.
    pub http: Option<SocketAddr>,
    /// From spawn to the first session answered.
    pub startup: Duration,
    /// Memory and threads just after start-up.
    pub idle: Usage,
    /// Where a maildir store lives; removed with every other maildir when the bench ends (see
    /// [`remove_maildirs`]), not when the server stops.
    maildir: Option<PathBuf>,
}

impl Running {
    pub(crate) fn pid(&self) -> u32 {
        self.group.pid()
    }

    /// Messages in the server's maildir (`new/` and `cur/` of every folder), if it has one.
    pub(crate) fn maildir_messages(&self) -> Option<u64> {
        self.maildir.as_deref().map(count_messages)
    }

    /// Stops the server. Its maildir stays until the bench ends.
    pub(crate) fn stop(self) {
        self.group.stop();
    }

    /// Stops the server and hands back its maildir, for a restart on the same directory.
    pub(crate) fn stop_keeping_data(self) -> Option<PathBuf> {
        self.group.stop();
        self.maildir
    }
}

/// Removes every maildir the bench made, once nothing is measured any more.
///
/// Deleting a run's files right after it would slow the next `--maildir` run: ext4 without a
/// journal (this machine's root file system) does not reuse an inode freed in the last seconds,
/// and checks each such inode when it allocates one, so a store creating files just after 3,000
/// were deleted spent 4x the CPU per file (side measurement, 2026-11-28: storage thread 0.69 s
/// against 0.17-0.18 s for 3,000 messages; `recently_deleted` topped its profile).
pub(crate) fn remove_maildirs(work: &Path) {
    let dir = work.join("maildir");
    if let Err(err) = fs::remove_dir_all(&dir) {
        if err.kind() != std::io::ErrorKind::NotFound {
            eprintln!("bench: cannot remove {}: {err}", dir.display());
        }
    }
}

/// Starts `spec` and waits until it answers a session (the start-up time).
pub(crate) fn start(spec: &ServerSpec, tools: &Tools, label: &str) -> Result<Running, BenchError> {
    let maildir = spec
        .maildir
        .then(|| tools.work.join("maildir").join(sanitize(label)));
    if let Some(dir) = &maildir {
        let _ = fs::remove_dir_all(dir);
        fs::create_dir_all(dir).map_err(BenchError::io(dir.display().to_string()))?;
    }
    start_on(spec, tools, label, maildir)
}

/// Starts `spec` on an existing maildir (a restart), or a fresh one.
pub(crate) fn start_on(
    spec: &ServerSpec,
    tools: &Tools,
    label: &str,
    maildir: Option<PathBuf>,
) -> Result<Running, BenchError> {
    let addr = free_addr()?;
    let http = (spec.kind.is_mailsink() && tools.api_ok)
        .then(free_addr)
        .transpose()?;
    let command = command(spec, tools, addr, http, maildir.as_deref())?;
    let log = tools
        .work
        .join("logs")
        .join(format!("{}.log", sanitize(label)));
    let start = Instant::now();
    let mut group = ProcessGroup::spawn(command, label, Some(&log))?;
    let probe_security = match spec.security {
        Security::Implicit => Security::Implicit,
        _ => Security::Plain,
    };
    let config = client::tls_config(false)?;
    loop {
        if client::probe(addr, probe_security, &config).is_ok() {
            break;
        }
        if let Some(status) = group.try_exited() {
            return Err(BenchError::Server {
                name: label.to_owned(),
                detail: format!("exited ({status}) before serving: {}", log_tail(&log)),
            });
        }
        if start.elapsed() > START_LIMIT {
            return Err(BenchError::Server {
                name: label.to_owned(),
                detail: format!("not answering after {START_LIMIT:?}: {}", log_tail(&log)),
            });
        }
        thread::sleep(Duration::from_micros(500));
    }
    let startup = start.elapsed();
    thread::sleep(Duration::from_millis(50));
    let idle = procfs::usage(group.pid()).unwrap_or_default();
    Ok(Running {
        group,
        addr,
        http,
        startup,
        idle,
        maildir,
    })
}

fn command(
    spec: &ServerSpec,
    tools: &Tools,
    addr: SocketAddr,
    http: Option<SocketAddr>,
    maildir: Option<&Path>,
) -> Result<Command, BenchError> {
    let missing = |what: &str| BenchError::Server {
        name: spec.kind.name().to_owned(),
        detail: format!("{what} is not installed"),
    };
    let tls = spec.security != Security::Plain;
    let (cert, key) = (
        tools.cert.display().to_string(),
        tools.key.display().to_string(),
    );
    let mut cmd;
    match spec.kind {
        Kind::Mailsink | Kind::Baseline => {
            cmd = Command::new(match spec.kind {
                Kind::Baseline => tools.baseline.as_ref().ok_or_else(|| BenchError::Server {
                    name: spec.kind.name().to_owned(),
                    detail: "no --baseline binary given".to_owned(),
                })?,
                _ => &tools.mailsink,
            });
            cmd.arg("--smtp").arg(addr.to_string()).arg("--quiet");
            if let Some(max) = spec.max {
                cmd.arg("--max").arg(max.to_string());
            }
            if let Some(mib) = spec.max_message_mib {
                cmd.arg("--max-message-size").arg(mib.to_string());
            }
            if tls {
                cmd.args(["--smtp-tls-cert", &cert, "--smtp-tls-key", &key]);
            }
            if spec.security == Security::Implicit {
                cmd.arg("--smtp-require-tls");
            }
            if spec.auth {
                cmd.arg("--smtp-auth-file").arg(&tools.htpasswd);
            }
            if let Some(dir) = maildir {
                cmd.arg("--maildir").arg(dir);
            }
            if let Some(http) = http {
                cmd.arg("--listen").arg(http.to_string());
            }
        }
        Kind::SmtpSink => {
            cmd = Command::new(&tools.smtp_sink);
            if tools.root {
                cmd.args(["-u", "nobody"]);
            }
            cmd.args(["-m", "1024"]).arg(addr.to_string()).arg("1024");
        }
        Kind::Mailcrab => {
            cmd = Command::new(tools.mailcrab.as_ref().ok_or_else(|| missing("mailcrab"))?);
            // It reads cert.pem and key.pem from its working directory.
            cmd.current_dir(&tools.tls_dir).arg(addr.to_string());
            if tls {
                cmd.arg("--tls");
            }
        }
        Kind::Mailtutan => {
            cmd = Command::new(
                tools
                    .mailtutan
                    .as_ref()
                    .ok_or_else(|| missing("mailtutan"))?,
            );
            let http = free_addr()?;
            cmd.args(["--ip", "127.0.0.1", "--smtp-port"])
                .arg(addr.port().to_string())
                .arg("--http-port")
                .arg(http.port().to_string())
                .args(["--messages-limit", "100000000"]);
            if tls {
                cmd.args(["--smtp-cert-path", &cert, "--smtp-key-path", &key]);
            }
            if let Some(dir) = maildir {
                cmd.args(["--storage", "maildir", "--maildir-path"])
                    .arg(dir);
            }
        }
        Kind::Floor => {
            let xtask = std::env::current_exe().map_err(BenchError::io("the xtask binary"))?;
            cmd = Command::new(xtask);
            cmd.arg("bench-floor").arg(addr.to_string());
            tls_mode_args(&mut cmd, spec.security, &cert, &key);
        }
        Kind::Aiosmtpd => {
            let python = tools.python.as_ref().ok_or_else(|| missing("aiosmtpd"))?;
            cmd = Command::new(python);
            cmd.arg(&tools.aiosmtpd_script).arg(addr.to_string());
            tls_mode_args(&mut cmd, spec.security, &cert, &key);
        }
    }
    Ok(cmd)
}

/// `--starttls CERT KEY` or `--implicit CERT KEY`, as the floor and the aiosmtpd wrapper take
/// them; nothing for plain SMTP.
fn tls_mode_args(cmd: &mut Command, security: Security, cert: &str, key: &str) {
    match security {
        Security::Plain => {}
        Security::StartTls => {
            cmd.args(["--starttls", cert, key]);
        }
        Security::Implicit => {
            cmd.args(["--implicit", cert, key]);
        }
    }
}

/// Files under `new/` and `cur/` directories below `dir` (Maildir++ folders included).
fn count_messages(dir: &Path) -> u64 {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    let mut count = 0;
    for entry in entries.flatten() {
        let path = entry.path();
        if !path.is_dir() {
            continue;
        }
        let name = entry.file_name();
        if name == "new" || name == "cur" {
            count += fs::read_dir(&path).map_or(0, |files| files.flatten().count() as u64);
        } else if name != "tmp" {
            count += count_messages(&path);
        }
    }
    count
}

/// A loopback address with a port that was free a moment ago.
pub(crate) fn free_addr() -> Result<SocketAddr, BenchError> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(BenchError::io("finding a free port"))
}

fn sanitize(label: &str) -> String {
    label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn log_tail(log: &Path) -> String {
    let text = fs::read_to_string(log).unwrap_or_default();
    let tail: Vec<&str> = text.lines().rev().take(3).collect();
    tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
}

/// A server whose resident memory passes this is killed: the machine is shared, and a server
/// that keeps every message it ever saw (mailtutan on reused connections) would take it all.
pub(crate) const RSS_CAP_KIB: u64 = 3 * 1024 * 1024;

/// Samples a server while a load runs: its peak thread count, and its memory against
/// [`RSS_CAP_KIB`].
#[derive(Debug)]
pub(crate) struct Sampler {
    stop: Arc<AtomicBool>,
    peak_threads: Arc<AtomicU64>,
    capped: Arc<AtomicBool>,
    handle: JoinHandle<()>,
}

/// What the sampler saw.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sampled {
    pub peak_threads: u64,
    /// The server went over [`RSS_CAP_KIB`] and was killed.
    pub capped: bool,
}

impl Sampler {
    pub(crate) fn start(pid: u32) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let peak_threads = Arc::new(AtomicU64::new(0));
        let capped = Arc::new(AtomicBool::new(false));
        let (s, p, c) = (
            Arc::clone(&stop),
            Arc::clone(&peak_threads),
            Arc::clone(&capped),
        );
        let handle = thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                if let Some(usage) = procfs::usage(pid) {
                    p.fetch_max(usage.threads, Ordering::Relaxed);
                    if usage.rss_kib > RSS_CAP_KIB && !c.swap(true, Ordering::Relaxed) {
                        process::signal_group(pid, "KILL");
                    }
                }
                thread::sleep(Duration::from_millis(20));
            }
        });
        Self {
            stop,
            peak_threads,
            capped,
            handle,
        }
    }

    /// Stops sampling.
    pub(crate) fn finish(self) -> Sampled {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.handle.join();
        Sampled {
            peak_threads: self.peak_threads.load(Ordering::Relaxed),
            capped: self.capped.load(Ordering::Relaxed),
        }
    }
}

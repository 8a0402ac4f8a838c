//! Drives Postfix's `smtp-source` (plain SMTP load, no pipelining) and reads its running count.

use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use super::error::BenchError;
use super::process::ProcessGroup;
use super::procfs;

/// One `smtp-source` run.
#[derive(Debug, Clone)]
pub(crate) struct SourceLoad {
    pub addr: SocketAddr,
    /// The message, sent with `-F` (see [`super::client::message_file`]).
    pub message_file: PathBuf,
    pub concurrency: usize,
    pub messages: u64,
    /// Keep each connection for the next message (`-d`) instead of one per message.
    pub reuse: bool,
    pub time_limit: Duration,
}

/// What `smtp-source` achieved.
#[derive(Debug, Clone)]
pub(crate) struct SourceOutcome {
    pub delivered: u64,
    pub elapsed: Duration,
    /// CPU time of `smtp-source` itself.
    pub client_cpu: Duration,
    pub error: Option<String>,
    pub timed_out: bool,
}

impl SourceLoad {
    pub(crate) fn args(&self) -> Vec<String> {
        let mut args = vec![
            "-s".to_owned(),
            self.concurrency.to_string(),
            "-m".to_owned(),
            self.messages.to_string(),
            "-F".to_owned(),
            self.message_file.display().to_string(),
            "-c".to_owned(),
            "-M".to_owned(),
            "bench.example".to_owned(),
            "-f".to_owned(),
            "from@bench.example".to_owned(),
            "-t".to_owned(),
            "to@bench.example".to_owned(),
        ];
        if self.reuse {
            args.push("-d".to_owned());
        }
        args.push(format!("{}:{}", self.addr.ip(), self.addr.port()));
        args
    }
}

/// Runs `smtp-source` to the end or to the time limit.
pub(crate) fn run(program: &Path, load: &SourceLoad) -> Result<SourceOutcome, BenchError> {
    let mut command = Command::new(program);
    command.args(load.args());
    let ticks_before = procfs::reaped_children_ticks();
    let start = Instant::now();
    let mut group = ProcessGroup::spawn(command, "smtp-source", None)?;
    let counted = Arc::new(Mutex::new(Vec::new()));
    let stdout = group.child_mut().stdout.take();
    let stderr = group.child_mut().stderr.take();
    let reader = stdout.map(|out| collect(out, Arc::clone(&counted)));
    let errors = Arc::new(Mutex::new(Vec::new()));
    let err_reader = stderr.map(|err| collect(err, Arc::clone(&errors)));
    let status = group.wait_until(start + load.time_limit);
    let elapsed = start.elapsed();
    let timed_out = status.is_none();
    group.stop();
    for handle in [reader, err_reader].into_iter().flatten() {
        let _ = handle.join();
    }
    let client_cpu =
        procfs::ticks_to_duration(procfs::reaped_children_ticks().saturating_sub(ticks_before));
    let out = counted
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    let err = errors
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    let delivered = last_count(&out);
    let error = match status {
        Some(status) if !status.success() => Some(format!(
            "smtp-source {status}: {}",
            String::from_utf8_lossy(&err).trim()
        )),
        _ => None,
    };
    Ok(SourceOutcome {
        delivered,
        elapsed,
        client_cpu,
        error,
        timed_out,
    })
}

fn collect(
    mut pipe: impl Read + Send + 'static,
    into: Arc<Mutex<Vec<u8>>>,
) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        let mut chunk = [0u8; 4096];
        while let Ok(n) = pipe.read(&mut chunk) {
            if n == 0 {
                break;
            }
            let mut buf = into.lock().unwrap_or_else(PoisonError::into_inner);
            buf.extend_from_slice(&chunk[..n]);
            // Only the last count matters: keep the tail.
            if buf.len() > 8192 {
                let cut = buf.len() - 64;
                buf.drain(..cut);
            }
        }
    })
}

/// The last number `smtp-source -c` printed (it writes `\rN` after each message).
pub(crate) fn last_count(output: &[u8]) -> u64 {
    String::from_utf8_lossy(output)
        .split(['\r', '\n'])
        .filter_map(|part| part.trim().parse::<u64>().ok())
        .next_back()
        .unwrap_or(0)
}

//! Child processes the benchmark starts (servers and load generators), each in a process group
//! of its own so that stopping it stops everything it started.
//!
//! Every live group is listed in one registry. A [`ProcessGroup`] kills its group when dropped,
//! so an error anywhere still leaves nothing running, and [`guard_signals`] kills every listed
//! group when the benchmark itself is interrupted.

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use super::error::BenchError;

/// Process groups started and not yet reaped.
static LIVE: Mutex<Vec<u32>> = Mutex::new(Vec::new());

/// How long a process has to exit after SIGTERM before it gets SIGKILL.
const TERM_GRACE: Duration = Duration::from_secs(2);

/// A child process leading its own process group.
#[derive(Debug)]
pub(crate) struct ProcessGroup {
    child: Child,
    reaped: bool,
}

impl ProcessGroup {
    /// Starts `command` in a new process group, its output appended to `log` (or piped when
    /// `log` is `None`, for the caller to read).
    pub(crate) fn spawn(
        mut command: Command,
        name: &str,
        log: Option<&Path>,
    ) -> Result<Self, BenchError> {
        command.process_group(0).stdin(Stdio::null());
        match log {
            Some(path) => {
                let file =
                    File::create(path).map_err(BenchError::io(path.display().to_string()))?;
                let err = file.try_clone().map_err(BenchError::io("log file"))?;
                command.stdout(file).stderr(err);
            }
            None => {
                command.stdout(Stdio::piped()).stderr(Stdio::piped());
            }
        }
        // Register under the lock held across spawn, so a signal cannot slip in between.
        let mut live = LIVE.lock().unwrap_or_else(PoisonError::into_inner);
        let child = command.spawn().map_err(|err| BenchError::Server {
            name: name.to_owned(),
            detail: format!("cannot start {:?}: {err}", command.get_program()),
        })?;
        live.push(child.id());
        drop(live);
        Ok(Self {
            child,
            reaped: false,
        })
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    pub(crate) fn child_mut(&mut self) -> &mut Child {
        &mut self.child
    }

    /// The exit status if the leader has exited (and reaps it).
    pub(crate) fn try_exited(&mut self) -> Option<ExitStatus> {
        let status = self.child.try_wait().ok().flatten()?;
        self.reaped = true;
        Some(status)
    }

    /// Waits for the leader to exit by itself until `deadline`; `None` if it is still running.
    pub(crate) fn wait_until(&mut self, deadline: Instant) -> Option<ExitStatus> {
        loop {
            if let Some(status) = self.try_exited() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            thread::sleep(Duration::from_millis(2));
        }
    }

    /// SIGTERM to the group, SIGKILL after a grace time, then reaps the leader.
    pub(crate) fn stop(mut self) {
        self.terminate();
    }

    fn terminate(&mut self) {
        let pgid = self.child.id();
        if !self.reaped {
            signal_group(pgid, "TERM");
            if self.wait_until(Instant::now() + TERM_GRACE).is_none() {
                signal_group(pgid, "KILL");
                let _ = self.child.wait();
                self.reaped = true;
            }
        }
        // The leader may be gone while something it started still runs in its group.
        signal_group(pgid, "KILL");
        LIVE.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|&p| p != pgid);
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        if LIVE
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(&self.child.id())
        {
            self.terminate();
        }
    }
}

/// Sends a signal to a whole process group through `kill(1)` (the workspace forbids `unsafe`).
pub(crate) fn signal_group(pgid: u32, signal: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg("--")
        .arg(format!("-{pgid}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Kills every live group when the benchmark gets SIGINT, SIGTERM or SIGHUP, then exits.
pub(crate) fn guard_signals() -> Result<(), BenchError> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])
        .map_err(BenchError::io("installing signal handlers"))?;
    thread::Builder::new()
        .name("bench-signals".to_owned())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                let live = LIVE.lock().unwrap_or_else(PoisonError::into_inner).clone();
                for pgid in live {
                    signal_group(pgid, "KILL");
                }
                eprintln!("bench: interrupted (signal {signal}); stopped every server");
                std::process::exit(128 + signal);
            }
        })
        .map_err(BenchError::io("starting the signal thread"))?;
    Ok(())
}

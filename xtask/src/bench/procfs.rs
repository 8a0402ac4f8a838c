//! What the benchmark reads from `/proc`: a process's CPU time, memory and thread count, our
//! own children's CPU time, and the machine's description.

use std::fs;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

/// CPU time and memory of one process at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Usage {
    /// utime + stime, in clock ticks.
    pub cpu_ticks: u64,
    /// Resident set size now, KiB.
    pub rss_kib: u64,
    /// Peak resident set size (VmHWM), KiB.
    pub hwm_kib: u64,
    pub threads: u64,
}

/// Reads `/proc/PID/stat` and `/proc/PID/status`; `None` once the process is gone.
pub(crate) fn usage(pid: u32) -> Option<Usage> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let times = stat_times(&stat)?;
    Some(Usage {
        cpu_ticks: times.user + times.system,
        rss_kib: status_field(&status, "VmRSS:").unwrap_or(0),
        hwm_kib: status_field(&status, "VmHWM:").unwrap_or(0),
        threads: status_field(&status, "Threads:").unwrap_or(0),
    })
}

/// Run time of the process's live threads, summed (the first field of each
/// `/proc/PID/task/TID/schedstat`, in nanoseconds): the utime + stime that `/proc/PID/stat`
/// rounds to clock ticks, counted to the nanosecond. A tick is 10 ms: over a run of 3,000 TLS
/// sessions that is 3 µs a session, 2 % of one, where the nanosecond count resolves the same
/// quantity exactly. It misses the time of threads that have ended, which only the tick count
/// keeps: [`cpu_between`] compares the two. `None` where the kernel keeps no schedstat.
pub(crate) fn threads_run_ns(pid: u32) -> Option<u64> {
    let mut total = 0u64;
    for task in fs::read_dir(format!("/proc/{pid}/task")).ok()? {
        let Ok(task) = task else { continue };
        // A thread that ends while the directory is read has nothing left to add.
        let Ok(schedstat) = fs::read_to_string(task.path().join("schedstat")) else {
            continue;
        };
        total += schedstat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(total)
}

/// A process's CPU time between two readings: the threads' nanosecond run times where they
/// account for the same time as the tick counts (to within the ticks' rounding), the tick
/// counts otherwise (a thread ended in between and took its run time out of the sum).
pub(crate) fn cpu_between(
    before_ticks: u64,
    after_ticks: u64,
    before_ns: Option<u64>,
    after_ns: Option<u64>,
) -> Duration {
    let ticks = ticks_to_duration(after_ticks.saturating_sub(before_ticks));
    // utime and stime are each rounded down at each reading: the difference is off by less
    // than two ticks either way.
    let rounding = ticks_to_duration(3);
    match (before_ns, after_ns) {
        (Some(before), Some(after)) if after >= before => {
            let precise = Duration::from_nanos(after - before);
            if precise + rounding >= ticks && precise <= ticks + rounding {
                precise
            } else {
                ticks
            }
        }
        _ => ticks,
    }
}

/// CPU time of the children this process has waited for (cutime + cstime), in clock ticks.
pub(crate) fn reaped_children_ticks() -> u64 {
    fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|stat| stat_times(&stat))
        .map_or(0, |t| t.children_user + t.children_system)
}

/// This process's own CPU time (every thread), in clock ticks.
pub(crate) fn own_ticks() -> u64 {
    fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|stat| stat_times(&stat))
        .map_or(0, |t| t.user + t.system)
}

/// Converts clock ticks to time, with the machine's `CLK_TCK` (100 on Linux almost always).
pub(crate) fn ticks_to_duration(ticks: u64) -> Duration {
    static HZ: OnceLock<u64> = OnceLock::new();
    let hz = *HZ.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
            .filter(|&hz| hz > 0)
            .unwrap_or(100)
    });
    Duration::from_micros(ticks.saturating_mul(1_000_000) / hz)
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) struct StatTimes {
    pub user: u64,
    pub system: u64,
    pub children_user: u64,
    pub children_system: u64,
}

/// Fields 14-17 of `/proc/PID/stat`, counted after the command name, which may hold spaces and
/// parentheses (so the split starts after the last `)`).
pub(crate) fn stat_times(stat: &str) -> Option<StatTimes> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state): field N is at index N - 3.
    let field = |n: usize| fields.get(n - 3).and_then(|f| f.parse::<u64>().ok());
    Some(StatTimes {
        user: field(14)?,
        system: field(15)?,
        children_user: field(16)?,
        children_system: field(17)?,
    })
}

/// A `Name:   value [kB]` line of `/proc/PID/status`, as a number.
pub(crate) fn status_field(status: &str, name: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|line| line.strip_prefix(name))
        .and_then(|value| value.split_whitespace().next())
        .and_then(|value| value.parse().ok())
}

/// The machine the figures come from.
#[derive(Debug, Clone)]
pub(crate) struct Machine {
    pub cores: usize,
    pub cpu: String,
    pub kernel: String,
    pub memory_gib: u64,
}

impl Machine {
    pub(crate) fn describe() -> Self {
        let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let meminfo = fs::read_to_string("/proc/meminfo").unwrap_or_default();
        Self {
            cores: std::thread::available_parallelism().map_or(1, usize::from),
            cpu: cpu_model(&cpuinfo).unwrap_or_else(|| "unknown".to_owned()),
            kernel: fs::read_to_string("/proc/sys/kernel/osrelease")
                .map_or_else(|_| "unknown".to_owned(), |k| k.trim().to_owned()),
            memory_gib: status_field(&meminfo, "MemTotal:").unwrap_or(0) / (1024 * 1024),
        }
    }
}

pub(crate) fn cpu_model(cpuinfo: &str) -> Option<String> {
    cpuinfo
        .lines()
        .find(|line| line.starts_with("model name"))
        .and_then(|line| line.split_once(':'))
        .map(|(_, model)| model.trim().to_owned())
}

/// How the machine was before the cells: how long the bench waited for it to go quiet, and
/// the share of CPU time busy over the last second it looked.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Quiet {
    pub waited: Duration,
    pub busy: f64,
}

/// Waits, up to `limit`, until the whole machine's CPU is less than `busy_below` busy over one
/// second (`/proc/stat`): a build that just finished, or anything else still running down,
/// would otherwise land on the first cells. Gives up quietly without `/proc/stat`.
pub(crate) fn wait_until_quiet(busy_below: f64, limit: Duration) -> Quiet {
    let started = std::time::Instant::now();
    let mut before = cpu_times();
    loop {
        std::thread::sleep(Duration::from_secs(1));
        let after = cpu_times();
        let busy = match (before, after) {
            (Some((busy0, total0)), Some((busy1, total1))) if total1 > total0 => {
                busy1.saturating_sub(busy0) as f64 / (total1 - total0) as f64
            }
            _ => 0.0,
        };
        let waited = started.elapsed();
        if busy < busy_below || waited >= limit {
            return Quiet { waited, busy };
        }
        before = after;
    }
}

/// Busy and total jiffies of all CPUs (the `cpu` line of `/proc/stat`; idle and iowait are
/// not busy).
fn cpu_times() -> Option<(u64, u64)> {
    let stat = fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let fields: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .take(8)
        .filter_map(|v| v.parse().ok())
        .collect();
    let total: u64 = fields.iter().sum();
    let idle = fields.get(3).copied().unwrap_or(0) + fields.get(4).copied().unwrap_or(0);
    Some((total - idle, total))
}

/// The 1-minute load average.
pub(crate) fn load_average() -> f64 {
    fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(0.0)
}

/// Names of compilers and other heavy work running on the machine that this run did not start
/// (`rustc`, `cc1`, `ld`...), with how many of each: the report says the machine was shared.
pub(crate) fn foreign_work() -> Vec<(String, usize)> {
    const HEAVY: &[&str] = &["rustc", "cc1", "cc1plus", "ld", "clippy-driver", "rust-lld"];
    let mut counts: Vec<(String, usize)> = Vec::new();
    let Ok(entries) = fs::read_dir("/proc") else {
        return counts;
    };
    for entry in entries.flatten() {
        let Ok(comm) = fs::read_to_string(entry.path().join("comm")) else {
            continue;
        };
        let comm = comm.trim();
        if !HEAVY.contains(&comm) {
            continue;
        }
        match counts.iter_mut().find(|(name, _)| name == comm) {
            Some((_, n)) => *n += 1,
            None => counts.push((comm.to_owned(), 1)),
        }
    }
    counts.sort();
    counts
}

//! `cargo xtask bench`: mailsink side by side with reference servers, on loopback.
//!
//! It builds the release binary, installs the references and load tools when missing
//! ([`tools`]), then runs each cell ([`cells`]): every contestant (a server and a load driver)
//! is started fresh, driven with the same load, measured from `/proc` (server CPU, peak RSS,
//! threads), and stopped; contestants alternate round by round ([`run`]). The report
//! ([`report`]) gives medians, min–max and ratios, checks issue 7's targets ([`targets`]) and,
//! for a full run, goes into `docs/benchmarks.md`. `--baseline` adds an earlier mailsink build
//! wherever mailsink runs, to compare two builds; `--peers` restricts the references.
//!
//! Everything it starts runs in a process group of its own and is killed on every exit path,
//! including errors and SIGINT ([`process`]).

mod api;
mod cells;
pub(crate) mod client;
mod error;
pub(crate) mod floor;
mod options;
mod process;
mod procfs;
mod report;
mod run;
mod servers;
mod source;
mod stats;
mod targets;
mod tools;
mod wire;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use api::ApiRow;
use error::BenchError;
use options::Options;
use procfs::Machine;
use run::{CellResult, StartupResult};
use servers::Kind;

/// Everything one run measured, and the circumstances.
#[derive(Debug)]
pub(crate) struct Results {
    pub machine: Machine,
    pub date: String,
    pub load_before: f64,
    pub quiet: procfs::Quiet,
    pub load_after: f64,
    pub foreign_before: Vec<(String, usize)>,
    pub foreign_after: Vec<(String, usize)>,
    pub versions: Vec<(String, String)>,
    pub notes: Vec<String>,
    pub pairs: usize,
    pub quick: bool,
    pub cells: Vec<CellResult>,
    pub startup: Vec<StartupResult>,
    pub binary: Option<BinarySize>,
    /// The `--baseline` binary's size.
    pub baseline_binary: Option<BinarySize>,
    pub api: Vec<ApiRow>,
}

/// The release binary's size in bytes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BinarySize {
    pub built: u64,
    pub stripped: u64,
}

/// Entry point for `cargo xtask bench ARGS`.
///
/// `cargo xtask` builds xtask without optimisations; the load client must not be the
/// bottleneck, so a debug build rebuilds xtask in release and hands over to it.
pub(crate) fn main(args: &[String]) -> Result<(), String> {
    // A usage error is reported before the release build, not after.
    let options = Options::parse(args).map_err(|err| err.to_string())?;
    if cfg!(debug_assertions) && !options.list {
        // Before the release build of the floor and the load client, which use ring too.
        tools::ensure_clang(&workspace_root());
        return relaunch_optimised(args).map_err(|err| err.to_string());
    }
    run_bench(&options).map_err(|err| err.to_string())
}

/// Runs in the caller's directory, so relative `--mailsink` and `--baseline` paths still hold.
fn relaunch_optimised(args: &[String]) -> Result<(), BenchError> {
    let manifest = workspace_root().join("Cargo.toml");
    let status = Command::new("cargo")
        .args(["run", "--quiet", "--release", "--manifest-path"])
        .arg(&manifest)
        .args(["--package", "xtask", "--", "bench"])
        .args(args)
        .status()
        .map_err(BenchError::io("cargo run --release --package xtask"))?;
    if status.success() {
        Ok(())
    } else {
        Err(BenchError::Load(format!(
            "the optimised benchmark exited with {status}"
        )))
    }
}

fn run_bench(options: &Options) -> Result<(), BenchError> {
    if options.list {
        for cell in cells::all(options) {
            println!("{:<18} {}", cell.name, cell.title);
        }
        for name in cells::SPECIAL {
            println!("{name}");
        }
        return Ok(());
    }
    process::guard_signals()?;
    let root = workspace_root();
    let tools = tools::prepare(&root, options)?;
    let results = measure(&tools, options);
    servers::remove_maildirs(&tools.work);
    let block = report::render(&results);
    println!("{block}");
    let path = if options.writes_docs() {
        root.join("docs").join("benchmarks.md")
    } else {
        tools.work.join("report.md")
    };
    report::write_into(&path, &block)?;
    eprintln!("bench: report written to {}", path.display());
    Ok(())
}

fn measure(tools: &tools::Tools, options: &Options) -> Results {
    eprintln!("bench: waiting for the machine to go quiet (under 10 % CPU busy for a second, at most 2 minutes)");
    let quiet = procfs::wait_until_quiet(0.10, Duration::from_secs(120));
    let load_before = procfs::load_average();
    let foreign_before = procfs::foreign_work();
    let cells: Vec<CellResult> = cells::all(options)
        .iter()
        .map(|cell| run::cell(cell, tools, options))
        .collect();
    let startup = if options.selects("startup") {
        run::startup(tools, options, if options.quick { 3 } else { 10 })
    } else {
        Vec::new()
    };
    let size = |binary: &Path| {
        options
            .selects("binary")
            .then(|| binary_size(binary, &tools.work))
            .flatten()
    };
    let binary = size(&tools.mailsink);
    let baseline_binary = tools.baseline.as_deref().and_then(size);
    let builds: Vec<Kind> = [Kind::Mailsink, Kind::Baseline]
        .into_iter()
        .filter(|&kind| options.runs(kind))
        .collect();
    let mut api = Vec::new();
    let repeats = if options.quick { 5 } else { 20 };
    for (name, stored) in [("api-10k", 10_000), ("api-100k", 100_000)] {
        if options.selects(name) {
            for &kind in &builds {
                api.extend(api::list_and_search(
                    tools,
                    kind,
                    options.count(stored),
                    repeats,
                ));
            }
        }
    }
    if options.selects("maildir-restart") {
        for &kind in &builds {
            api.extend(api::maildir_restart(
                tools,
                kind,
                options.count(100_000),
                if options.quick { 1 } else { 3 },
            ));
        }
    }
    Results {
        machine: Machine::describe(),
        date: now(),
        load_before,
        quiet,
        load_after: procfs::load_average(),
        foreign_before,
        foreign_after: procfs::foreign_work(),
        versions: tools.versions.clone(),
        notes: tools.notes.clone(),
        pairs: options.pairs,
        quick: options.quick,
        cells,
        startup,
        binary,
        baseline_binary,
        api,
    }
}

/// The binary's size as built, and after `strip` of a copy (the release profile strips symbols
/// already; this makes sure).
fn binary_size(binary: &Path, work: &Path) -> Option<BinarySize> {
    let built = std::fs::metadata(binary).ok()?.len();
    let copy = work.join("mailsink.stripped");
    std::fs::copy(binary, &copy).ok()?;
    let stripped = Command::new("strip")
        .arg(&copy)
        .status()
        .ok()
        .filter(|s| s.success())
        .and_then(|_| std::fs::metadata(&copy).ok())
        .map_or(built, |m| m.len());
    let _ = std::fs::remove_file(&copy);
    Some(BinarySize { built, stripped })
}

fn now() -> String {
    Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "unknown date".to_owned())
}

/// The workspace root: the parent of this crate's directory.
fn workspace_root() -> PathBuf {
    let xtask = Path::new(env!("CARGO_MANIFEST_DIR"));
    xtask.parent().unwrap_or(xtask).to_path_buf()
}

//! `cargo xtask`: the project's own tasks, written in Rust so they run wherever cargo does.
//!
//! - `cargo xtask ci`: install what the tests need if missing, then `cargo fmt --check`,
//!   `cargo clippy --workspace --all-targets -D warnings` and every test (cargo-nextest when
//!   present). This is the test command in the README and what `.ci/run` calls.
//! - `cargo xtask deps`: only the install step (Debian packages, which need root for `apt-get`;
//!   the PyPI and npm API clients the end-to-end tests drive).
//! - `cargo xtask fuzz TARGET|all SECONDS`: run the libFuzzer targets in `fuzz/` (bounded).
//! - `cargo xtask bench [--quick] [--only CELLS] [--baseline PATH] [--peers NAMES]`: mailsink
//!   side by side with reference servers, or with an earlier build of itself (see
//!   `docs/benchmarks.md`).
//! - `cargo xtask bench-load ADDR plain|starttls|implicit MESSAGES CONCURRENCY`: the bench's load
//!   client alone, against a server already running, for side measurements.

use std::process::{Command, ExitCode};

mod bench;
mod deps;
mod fuzz;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci(),
        Some("deps") => deps::install(),
        Some("fuzz") => fuzz::run(&args[1..]),
        Some("bench") => bench::main(&args[1..]),
        // Started by the bench itself, as one of its servers (see bench/floor.rs).
        Some("bench-floor") => bench::floor::main(&args[1..]),
        // For side measurements by hand: the bench's load client alone (see bench/client.rs).
        Some("bench-load") => bench::client::main(&args[1..]),
        _ => {
            eprintln!(
                "usage: cargo xtask <ci|deps|fuzz TARGET SECONDS|bench [--quick] [--only CELLS] ...>"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("xtask: {err}");
            ExitCode::FAILURE
        }
    }
}

fn ci() -> Result<(), String> {
    deps::install()?;
    run("cargo", &["fmt", "--all", "--", "--check"])?;
    run(
        "cargo",
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
    )?;
    // The end-to-end tests run the real binary; nextest builds only test targets.
    run(
        "cargo",
        &["build", "--package", "smtp-bin", "--bin", "mailsink"],
    )?;
    if has_nextest() {
        run(
            "cargo",
            &["nextest", "run", "--workspace", "--no-fail-fast"],
        )?;
        // nextest does not run doctests.
        run("cargo", &["test", "--workspace", "--doc"])
    } else {
        run("cargo", &["test", "--workspace", "--no-fail-fast"])
    }
}

fn has_nextest() -> bool {
    Command::new("cargo")
        .args(["nextest", "--version"])
        .output()
        .is_ok_and(|o| o.status.success())
}

pub(crate) fn run(program: &str, args: &[&str]) -> Result<(), String> {
    eprintln!("$ {program} {}", args.join(" "));
    let status = Command::new(program)
        .args(args)
        .status()
        .map_err(|err| format!("cannot run {program}: {err}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{program} {}` failed ({status})", args.join(" ")))
    }
}

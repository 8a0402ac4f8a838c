//! `cargo xtask fuzz TARGET|all SECONDS`: runs the libFuzzer targets in `fuzz/` for a bounded
//! time each, with cargo-fuzz (installed when missing).
//!
//! The machine's toolchain is stable; cargo-fuzz needs `-Z` flags, which `RUSTC_BOOTSTRAP=1`
//! allows on a stable compiler. Crashes are kept in `fuzz/artifacts/TARGET/`; turn each into a
//! named regression test next to the code it broke.

use std::process::Command;

pub(crate) const TARGETS: &[&str] = &[
    "line_framer",
    "command_parser",
    "session",
    "data_receiver",
    "sasl",
    "htpasswd",
    "mime_summary",
    "compose_addresses",
    "search_query",
    "http_router",
];

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let (target, seconds) = match args {
        [target, seconds] => (target.as_str(), seconds.as_str()),
        _ => return Err("usage: cargo xtask fuzz <TARGET|all> <SECONDS>".to_owned()),
    };
    let seconds: u32 = seconds
        .parse()
        .map_err(|_| format!("not a number of seconds: {seconds}"))?;
    ensure_cargo_fuzz()?;
    let targets: Vec<&str> = if target == "all" {
        TARGETS.to_vec()
    } else if TARGETS.contains(&target) {
        vec![target]
    } else {
        return Err(format!(
            "unknown fuzz target {target}; known: {}",
            TARGETS.join(", ")
        ));
    };
    for target in targets {
        fuzz_one(target, seconds)?;
    }
    Ok(())
}

fn fuzz_one(target: &str, seconds: u32) -> Result<(), String> {
    let corpus = format!("fuzz/corpus/{target}");
    std::fs::create_dir_all(&corpus).map_err(|e| format!("cannot create {corpus}: {e}"))?;
    eprintln!("$ cargo fuzz run {target} (for {seconds} s)");
    let status = Command::new("cargo")
        .args([
            "fuzz",
            "run",
            "--fuzz-dir",
            "fuzz",
            "--sanitizer",
            "none",
            target,
            &corpus,
            "--",
        ])
        .arg(format!("-max_total_time={seconds}"))
        .arg("-rss_limit_mb=1024")
        .arg("-timeout=10")
        .env("RUSTC_BOOTSTRAP", "1")
        .status()
        .map_err(|e| format!("cannot run cargo fuzz: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "fuzz target {target} found a crash (see fuzz/artifacts/{target}/)"
        ))
    }
}

fn ensure_cargo_fuzz() -> Result<(), String> {
    let present = Command::new("cargo")
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if present {
        return Ok(());
    }
    crate::run("cargo", &["install", "cargo-fuzz", "--locked"])
}

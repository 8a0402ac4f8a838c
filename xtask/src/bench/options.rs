//! `cargo xtask bench` arguments.

use std::path::PathBuf;

use super::error::BenchError;
use super::servers::Kind;

pub(crate) const USAGE: &str = "\
usage: cargo xtask bench [--quick] [--only CELL[,CELL...]] [--pairs N] [--mailsink PATH]
                         [--baseline PATH] [--peers NAME[,NAME...]|none] [--list]

  --quick          one round per cell and a tenth of the messages (for development)
  --only CELLS     run only the cells whose names contain one of these (comma-separated)
  --pairs N        rounds per cell (default 3: mailsink and each reference alternate N times)
  --mailsink PATH  measure this binary instead of building `cargo build --release -p smtp-bin`
  --baseline PATH  also measure this mailsink binary (an earlier build), with the same arguments
                   as mailsink in every cell, as the row `mailsink baseline`
  --peers NAMES    run only these references: smtp-sink, mailcrab, mailtutan, aiosmtpd, floor
                   (comma-separated), or none (default: all)
  --list           print the cell names and exit

A full run (no --quick, --only, --baseline or --peers) rewrites the generated part of
docs/benchmarks.md; other runs write target/bench/report.md.";

/// What the user asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Options {
    pub quick: bool,
    pub only: Vec<String>,
    pub pairs: usize,
    pub mailsink: Option<PathBuf>,
    /// A second mailsink binary, measured wherever mailsink is.
    pub baseline: Option<PathBuf>,
    /// The references that run; `None`: every one.
    pub peers: Option<Vec<Kind>>,
    pub list: bool,
}

impl Options {
    pub(crate) fn parse(args: &[String]) -> Result<Self, BenchError> {
        let mut options = Self {
            quick: false,
            only: Vec::new(),
            pairs: 3,
            mailsink: None,
            baseline: None,
            peers: None,
            list: false,
        };
        let mut pairs_given = false;
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let mut value = |name: &str| {
                args.next()
                    .cloned()
                    .ok_or_else(|| BenchError::Usage(format!("{name} needs a value")))
            };
            match arg.as_str() {
                "--quick" => options.quick = true,
                "--list" => options.list = true,
                "--only" => {
                    options.only = value("--only")?
                        .split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect();
                }
                "--pairs" => {
                    let text = value("--pairs")?;
                    options.pairs = text.parse().ok().filter(|&n| n > 0).ok_or_else(|| {
                        BenchError::Usage(format!("--pairs: not a count: {text}"))
                    })?;
                    pairs_given = true;
                }
                "--mailsink" => options.mailsink = Some(PathBuf::from(value("--mailsink")?)),
                "--baseline" => options.baseline = Some(PathBuf::from(value("--baseline")?)),
                "--peers" => options.peers = Some(peers(&value("--peers")?)?),
                other => return Err(BenchError::Usage(format!("unknown argument {other}"))),
            }
        }
        if options.quick && !pairs_given {
            options.pairs = 1;
        }
        Ok(options)
    }

    /// Whether the cell called `name` runs.
    pub(crate) fn selects(&self, name: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|part| name.contains(part.as_str()))
    }

    /// Whether servers of this kind run: mailsink always, the baseline when given, a reference
    /// unless `--peers` leaves it out.
    pub(crate) fn runs(&self, kind: Kind) -> bool {
        match kind {
            Kind::Mailsink => true,
            Kind::Baseline => self.baseline.is_some(),
            reference => self.peers.as_ref().is_none_or(|p| p.contains(&reference)),
        }
    }

    /// Whether this run writes `docs/benchmarks.md` (a full run only).
    pub(crate) fn writes_docs(&self) -> bool {
        !self.quick
            && self.only.is_empty()
            && self.pairs >= 3
            && self.baseline.is_none()
            && self.peers.is_none()
    }

    /// Scales a full run's message count down for `--quick`.
    pub(crate) fn count(&self, full: u64) -> u64 {
        if self.quick {
            (full / 10).max(1)
        } else {
            full
        }
    }
}

/// `--peers`' value: reference names, comma-separated, or `none`.
fn peers(list: &str) -> Result<Vec<Kind>, BenchError> {
    if list.trim() == "none" {
        return Ok(Vec::new());
    }
    let mut kinds = Vec::new();
    for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let kind = Kind::reference(name).ok_or_else(|| {
            let known: Vec<&str> = Kind::REFERENCES.iter().map(|k| k.peer_name()).collect();
            BenchError::Usage(format!(
                "--peers: unknown reference {name} (known: {}, or none)",
                known.join(", ")
            ))
        })?;
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    if kinds.is_empty() {
        return Err(BenchError::Usage(
            "--peers: name at least one reference, or none".to_owned(),
        ));
    }
    Ok(kinds)
}

//! `cargo xtask bench` arguments.

use std::path::PathBuf;

use super::error::BenchError;

pub(crate) const USAGE: &str = "\
usage: cargo xtask bench [--quick] [--only CELL[,CELL...]] [--pairs N] [--mailsink PATH] [--list]

  --quick          one round per cell and a tenth of the messages (for development)
  --only CELLS     run only the cells whose names contain one of these (comma-separated)
  --pairs N        rounds per cell (default 3: mailsink and each reference alternate N times)
  --mailsink PATH  measure this binary instead of building `cargo build --release -p smtp-bin`
  --list           print the cell names and exit

A full run (no --quick, no --only) rewrites the generated part of docs/benchmarks.md; other runs
write target/bench/report.md.";

/// What the user asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Options {
    pub quick: bool,
    pub only: Vec<String>,
    pub pairs: usize,
    pub mailsink: Option<PathBuf>,
    pub list: bool,
}

impl Options {
    pub(crate) fn parse(args: &[String]) -> Result<Self, BenchError> {
        let mut options = Self {
            quick: false,
            only: Vec::new(),
            pairs: 3,
            mailsink: None,
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

    /// Whether this run writes `docs/benchmarks.md` (a full run only).
    pub(crate) fn writes_docs(&self) -> bool {
        !self.quick && self.only.is_empty() && self.pairs >= 3
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

//! Issue 7's targets, checked against one run's figures.

use std::fmt::Write as _;

use super::run::{CellResult, ContestantResult};
use super::servers::Kind;
use super::Results;

/// Whether a target was met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    Met,
    Missed,
    /// A cell it needs did not run or was skipped, or `--peers` left out a reference it needs.
    NotMeasured,
}

impl Verdict {
    pub(crate) fn text(self) -> &'static str {
        match self {
            Self::Met => "met",
            Self::Missed => "**missed**",
            Self::NotMeasured => "not measured",
        }
    }

    fn of(met: bool) -> Self {
        if met {
            Self::Met
        } else {
            Self::Missed
        }
    }
}

/// One target and what this run measured for it.
#[derive(Debug, Clone)]
pub(crate) struct TargetRow {
    pub target: String,
    pub measured: String,
    pub verdict: Verdict,
}

fn row(target: &str, measured: Option<(String, bool)>) -> TargetRow {
    match measured {
        Some((measured, met)) => TargetRow {
            target: target.to_owned(),
            measured,
            verdict: Verdict::of(met),
        },
        None => TargetRow {
            target: target.to_owned(),
            measured: "—".to_owned(),
            verdict: Verdict::NotMeasured,
        },
    }
}

/// Every target of issue 7, in its order.
pub(crate) fn evaluate(results: &Results) -> Vec<TargetRow> {
    let cell = |name: &str| results.cells.iter().find(|c| c.name == name);
    let mut rows = vec![
        row(
            "CPU per 1 KiB message ≤ 0.8× the best peer (plain, c=10)",
            cell("plain-1k-c10").and_then(cpu_vs_best_peer),
        ),
        row(
            "CPU per 100 KiB message ≤ 0.8× the best peer (plain, c=10)",
            cell("plain-100k-c10").and_then(cpu_vs_best_peer),
        ),
        row(
            "CPU per TLS session ≤ 0.8× the best peer (STARTTLS, c=10)",
            cell("starttls-1k-c10").and_then(cpu_vs_best_peer),
        ),
        row(
            "CPU per TLS session ≤ 0.8× the best peer (implicit TLS, c=10)",
            cell("tls-1k-c10").and_then(cpu_vs_best_peer),
        ),
        row(
            "one message over a fresh STARTTLS connection, c=1, < 5 ms",
            cell("starttls-1k-c1").and_then(latency),
        ),
        row(
            "plain 1 KiB c=1 ≥ 1.0× smtp-sink",
            cell("plain-1k-c1").and_then(|c| rate_vs(c, &["smtp-sink"], 1.0)),
        ),
        row(
            "plain 1 KiB c=10 ≥ 1.2× the better of mailcrab and mailtutan",
            cell("plain-1k-c10").and_then(|c| rate_vs(c, &["mailcrab", "mailtutan"], 1.2)),
        ),
        row(
            "plain 1 KiB c=100 ≥ 1.2× the better of mailcrab and mailtutan",
            cell("plain-1k-c100").and_then(|c| rate_vs(c, &["mailcrab", "mailtutan"], 1.2)),
        ),
        row(
            "plain 1 KiB c=10, reused connections ≥ 1.0× smtp-sink",
            cell("reuse-1k-c10").and_then(|c| rate_vs(c, &["smtp-sink"], 1.0)),
        ),
    ];
    for (name, c) in [
        ("plain-100k-c1", 1),
        ("plain-100k-c10", 10),
        ("plain-100k-c100", 100),
    ] {
        let target = format!("100 KiB c={c} ≥ 1.2× the best peer");
        rows.push(row(&target, cell(name).and_then(|c| rate_vs(c, &[], 1.2))));
    }
    rows.push(row("idle RSS ≤ 4 MiB", idle_rss(results)));
    rows.push(row(
        "peak RSS receiving 2000 × 100 KiB with the default --max 500 ≤ 80 MiB",
        cell("memory-2000x100k").and_then(|c| {
            let kib = first(c)?.peak_rss_kib()?;
            Some((format!("{:.1} MiB", kib as f64 / 1024.0), kib <= 80 * 1024))
        }),
    ));
    rows.push(row(
        "a 20 MiB message over a 1 MiB limit: each connection holds ≤ the limit",
        cell("oversize").and_then(oversize),
    ));
    rows.push(row("start-up < 10 ms", startup(results)));
    rows.push(row(
        "release binary < 6 MiB stripped",
        results.binary.as_ref().map(|b| {
            (
                format!("{:.2} MiB", b.stripped as f64 / (1024.0 * 1024.0)),
                b.stripped < 6 * 1024 * 1024,
            )
        }),
    ));
    rows.push(row(
        "STARTTLS c=10 ≥ 0.5× plain",
        cell("starttls-1k-c10").and_then(|c| self_ratio(c, "mailsink", "mailsink plain", 0.5)),
    ));
    rows.push(row(
        "implicit TLS c=10 ≥ 0.5× plain",
        cell("tls-1k-c10").and_then(|c| self_ratio(c, "mailsink", "mailsink plain", 0.5)),
    ));
    rows.push(row(
        "AUTH PLAIN (bcrypt) ≥ 0.8× without AUTH",
        cell("auth-1k-c10").and_then(|c| self_ratio(c, "mailsink AUTH", "mailsink no AUTH", 0.8)),
    ));
    rows.push(row(
        "--maildir c=10 ≥ 0.5× the memory store",
        cell("maildir-1k-c10")
            .and_then(|c| self_ratio(c, "mailsink --maildir", "mailsink memory", 0.5)),
    ));
    rows.push(row(
        "API: a page of 50 from 100,000 messages < 5 ms",
        api(results, 100_000, "list a page of 50 (newest)", 5.0),
    ));
    rows.push(row(
        "API: a search over 100,000 messages < 100 ms",
        api(results, 100_000, "search one word (1 hit)", 100.0),
    ));
    rows.push(row(
        "restart over 100,000 Maildir messages < 3 s",
        restart(results, 100_000, 3000.0),
    ));
    rows
}

fn first(cell: &CellResult) -> Option<&ContestantResult> {
    cell.contestants
        .first()
        .filter(|c| c.skipped.is_none() && !c.runs.is_empty())
}

/// The peers (contestants other than mailsink's variants, the baseline included, and the shape's
/// floor) that ran.
fn peers(cell: &CellResult) -> impl Iterator<Item = &ContestantResult> {
    cell.contestants.iter().filter(|c| {
        !c.label.starts_with("mailsink")
            && c.label != Kind::Floor.name()
            && c.skipped.is_none()
            && !c.runs.is_empty()
    })
}

/// Whether `--peers` left out one of `names` (any peer when empty: "the best peer" needs them
/// all) from this cell. The shape's floor is never a peer.
fn left_out(cell: &CellResult, names: &[&str]) -> bool {
    cell.left_out
        .iter()
        .any(|&kind| kind != Kind::Floor && (names.is_empty() || names.contains(&kind.name())))
}

fn cpu_vs_best_peer(cell: &CellResult) -> Option<(String, bool)> {
    if left_out(cell, &[]) {
        return None;
    }
    let ours = first(cell)?.cpu_ms()?;
    let best = peers(cell)
        .filter_map(|p| Some((p.label.as_str(), p.cpu_ms()?)))
        .min_by(|a, b| a.1.total_cmp(&b.1))?;
    let ratio = ours / best.1;
    let mut text = format!("{ours:.3} ms vs {} {:.3} ms = {ratio:.2}×", best.0, best.1);
    if let Some(floor) = floor(cell).and_then(ContestantResult::cpu_ms) {
        let _ = write!(
            text,
            " (the shape's floor: {floor:.3} ms = {:.2}×)",
            floor / best.1
        );
    }
    Some((text, ratio <= 0.8))
}

/// mailsink's median rate against the best of `names` (every peer when empty).
fn rate_vs(cell: &CellResult, names: &[&str], at_least: f64) -> Option<(String, bool)> {
    if left_out(cell, names) {
        return None;
    }
    let ours = first(cell)?.rate()?.median;
    let best = peers(cell)
        .filter(|p| names.is_empty() || names.contains(&p.label.as_str()))
        .filter_map(|p| Some((p.label.as_str(), p.rate()?.median)))
        .max_by(|a, b| a.1.total_cmp(&b.1))?;
    let ratio = ours / best.1;
    let mut text = format!("{ours:.0} vs {} {:.0} msg/s = {ratio:.2}×", best.0, best.1);
    if let Some(floor) = floor(cell).and_then(|f| f.rate()) {
        let _ = write!(
            text,
            " (the shape's floor: {:.0} msg/s = {:.2}×)",
            floor.median,
            floor.median / best.1
        );
    }
    Some((text, ratio >= at_least))
}

/// The shape's floor ([`super::floor`]), where the cell ran it.
fn floor(cell: &CellResult) -> Option<&ContestantResult> {
    cell.contestants
        .iter()
        .find(|c| c.label == Kind::Floor.name() && c.skipped.is_none() && !c.runs.is_empty())
}

fn self_ratio(cell: &CellResult, label: &str, base: &str, at_least: f64) -> Option<(String, bool)> {
    let (ours, baseline) = (cell.get(label)?, cell.get(base)?);
    let (rate, base_rate) = (ours.rate()?.median, baseline.rate()?.median);
    let ratio = rate / base_rate;
    let mut text = format!("{rate:.0} vs {base_rate:.0} msg/s = {ratio:.2}×");
    if let Some(ceiling) = cpu_ceiling(ours, baseline) {
        let _ = write!(
            text,
            " (CPU-bound ceiling with server and client on the same cores: {ceiling:.2}×)"
        );
    }
    Some((text, ratio >= at_least))
}

/// When the load client and the server share the machine's cores, a run cannot go faster
/// than cores / (server + client CPU per message): the best ratio the CPU work allows.
fn cpu_ceiling(ours: &ContestantResult, baseline: &ContestantResult) -> Option<f64> {
    let cost = |c: &ContestantResult| Some(c.cpu_ms()? + c.client_ms()?);
    let (mine, base) = (cost(ours)?, cost(baseline)?);
    (mine > 0.0 && base > 0.0).then(|| base / mine)
}

fn latency(cell: &CellResult) -> Option<(String, bool)> {
    let ms = first(cell)?.session_ms()?;
    Some((
        format!("{ms:.2} ms (median session, connect to QUIT reply)"),
        ms < 5.0,
    ))
}

fn idle_rss(results: &Results) -> Option<(String, bool)> {
    let ours = results.startup.iter().find(|s| s.label == "mailsink")?;
    let kib = super::stats::median(&ours.idle_rss_kib)?;
    Some((format!("{:.2} MiB", kib / 1024.0), kib <= 4.0 * 1024.0))
}

fn startup(results: &Results) -> Option<(String, bool)> {
    let ours = results.startup.iter().find(|s| s.label == "mailsink")?;
    let ms = super::stats::median(&ours.startup_ms)?;
    Some((format!("{ms:.2} ms"), ms < 10.0))
}

fn oversize(cell: &CellResult) -> Option<(String, bool)> {
    let ours = first(cell)?;
    let growth = ours
        .runs
        .iter()
        .map(|r| r.peak_rss_kib.saturating_sub(r.idle_rss_kib))
        .max()? as f64
        / 1024.0;
    let per_connection = growth / 4.0;
    Some((
        format!("peak − idle = {growth:.1} MiB over 4 connections ({per_connection:.2} MiB each)"),
        per_connection <= 1.25,
    ))
}

/// A restart with the files in the page cache, and (when the bench could drop it) without:
/// both must come in under the limit.
fn restart(results: &Results, stored: u64, limit_ms: f64) -> Option<(String, bool)> {
    let (warm, warm_met) = api(
        results,
        stored,
        "restart over a Maildir: first SMTP session answered",
        limit_ms,
    )?;
    let cold = api(
        results,
        stored,
        "restart over a Maildir, page cache dropped: first SMTP session answered",
        limit_ms,
    );
    Some(match cold {
        Some((cold, cold_met)) => (
            format!("{warm} (page cache dropped first: {cold})"),
            warm_met && cold_met,
        ),
        None => (format!("{warm} (page cache kept)"), warm_met),
    })
}

fn api(results: &Results, stored: u64, what: &str, limit_ms: f64) -> Option<(String, bool)> {
    let row = results
        .api
        .iter()
        .find(|r| r.stored == stored && r.what == what)?;
    let ms = row.time?.median;
    Some((format!("{ms:.2} ms"), ms < limit_ms))
}

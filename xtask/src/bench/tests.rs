//! Unit tests of the benchmark's parsing, statistics and report pieces (no servers started).

use std::time::Duration;

use super::api::{parse_response, total};
use super::cells;
use super::client::{base64, message, message_file, Security};
use super::options::Options;
use super::procfs::{
    cpu_between, cpu_model, stat_times, status_field, threads_run_ns, ticks_to_duration, usage,
    StatTimes,
};
use super::report::{one_line, splice, BEGIN, END};
use super::run::{CellResult, ContestantResult, RunRecord};
use super::servers::Kind;
use super::source::{last_count, SourceLoad};
use super::stats::{median, Spread};
use super::targets::{self, Verdict};
use super::wire::parse_reply;

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn stat_times_skip_a_command_name_with_spaces_and_parentheses() {
    let stat = "1234 (my (odd) name) S 1 1234 1234 0 -1 4194560 100 0 0 0 \
                250 75 3 4 20 0 5 0 100 1000000 200 18446744073709551615";
    assert_eq!(
        stat_times(stat),
        Some(StatTimes {
            user: 250,
            system: 75,
            children_user: 3,
            children_system: 4
        })
    );
    assert_eq!(stat_times("1234 (truncated) S 1"), None);
}

#[test]
fn cpu_time_is_read_to_the_nanosecond_where_the_ticks_agree() {
    let ms = Duration::from_millis;
    let ns = |d: Duration| Some(u64::try_from(d.as_nanos()).unwrap());
    let tick = ticks_to_duration(1);
    // 48 ticks counted; the threads ran 487.3 ms: the finer figure.
    let exact = ms(487) + Duration::from_micros(300);
    assert_eq!(
        cpu_between(100, 148, ns(ms(900)), ns(ms(900) + exact)),
        exact
    );
    // Within the ticks' rounding on either side, still the finer figure.
    assert_eq!(cpu_between(0, 10, ns(ms(0)), ns(tick * 12)), tick * 12);
    assert_eq!(cpu_between(0, 12, ns(ms(0)), ns(tick * 10)), tick * 10);
    // A thread ended and took 400 ms out of the sum: the ticks.
    assert_eq!(cpu_between(0, 50, ns(ms(0)), ns(ms(100))), tick * 50);
    assert_eq!(cpu_between(0, 50, ns(ms(700)), ns(ms(100))), tick * 50);
    // No schedstat: the ticks.
    assert_eq!(cpu_between(7, 57, None, None), tick * 50);
    assert_eq!(cpu_between(7, 57, ns(ms(0)), None), tick * 50);
}

#[test]
fn the_threads_run_time_counts_what_the_ticks_count() {
    // A busy process of its own (`yes` into /dev/null: one thread, alive throughout), so no
    // thread of the test harness can end in between.
    let mut busy = std::process::Command::new("yes")
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("start yes");
    let pid = busy.id();
    let ticks_now = || usage(pid).map_or(0, |u| u.cpu_ticks);
    let (ticks_before, ns_before) = (ticks_now(), threads_run_ns(pid));
    let start = std::time::Instant::now();
    while ticks_now() < ticks_before + 5 && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(5));
    }
    let (ns_after, ticks_after) = (threads_run_ns(pid), ticks_now());
    busy.kill().expect("stop yes");
    busy.wait().expect("reap yes");
    assert!(
        ns_before.is_some(),
        "this kernel keeps /proc/PID/task/*/schedstat"
    );
    let counted = cpu_between(ticks_before, ticks_after, ns_before, ns_after);
    let ticks = ticks_to_duration(ticks_after - ticks_before);
    assert!(counted >= Duration::from_millis(30), "{counted:?}");
    assert!(
        counted.abs_diff(ticks) <= ticks_to_duration(3),
        "{counted:?} against {ticks:?}"
    );
    // The nanosecond sum was taken: a figure the ticks cannot give.
    assert_ne!(counted.as_nanos() % ticks_to_duration(1).as_nanos(), 0);
}

#[test]
fn status_fields_are_read_as_numbers() {
    let status = "Name:\tmailsink\nVmHWM:\t    3120 kB\nVmRSS:\t    2048 kB\nThreads:\t5\n";
    assert_eq!(status_field(status, "VmHWM:"), Some(3120));
    assert_eq!(status_field(status, "VmRSS:"), Some(2048));
    assert_eq!(status_field(status, "Threads:"), Some(5));
    assert_eq!(status_field(status, "VmSwap:"), None);
}

#[test]
fn cpu_model_comes_from_the_first_model_name_line() {
    let info = "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Processor\nprocessor\t: 1\n";
    assert_eq!(
        cpu_model(info).as_deref(),
        Some("Intel(R) Xeon(R) Processor")
    );
    assert_eq!(cpu_model("processor\t: 0\n"), None);
}

#[test]
fn a_reply_ends_on_the_line_with_a_space_after_the_code() {
    let ehlo = b"250-mailsink\r\n250-PIPELINING\r\n250 SMTPUTF8\r\n354 next";
    assert_eq!(parse_reply(ehlo), Some((250, 44)));
    assert_eq!(parse_reply(b"250-partial\r\n250 SIZ"), None);
    assert_eq!(parse_reply(b"221\r\n"), Some((221, 5)));
    assert_eq!(parse_reply(b"HTTP/1.1 400\r\n"), Some((0, 14)));
}

#[test]
fn base64_matches_known_auth_plain_tokens() {
    assert_eq!(base64(b"\0user\0pass"), "AHVzZXIAcGFzcw==");
    assert_eq!(base64(b"ab"), "YWI=");
    assert_eq!(base64(b"abc"), "YWJj");
    assert_eq!(base64(b""), "");
}

#[test]
fn messages_have_the_asked_body_size_and_one_terminator() {
    for size in [0, 1, 77, 78, 1024, 100 * 1024] {
        let msg = message(size, "bench");
        let text = std::str::from_utf8(&msg).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.contains("Subject: bench"));
        let body = body.strip_suffix(".\r\n").unwrap();
        // The body may gain a final CRLF so the terminator starts a line.
        assert!(
            body.len() == size || body.len() == size + 2,
            "size {size}: {}",
            body.len()
        );
        assert!(body.is_empty() || body.ends_with("\r\n"));
        assert!(!body.contains("\r\n.\r\n") && !body.starts_with('.'));
    }
}

#[test]
fn smtp_source_count_is_the_last_number_printed() {
    assert_eq!(last_count(b"\r1\r2\r3\r1000\r\n"), 1000);
    assert_eq!(last_count(b"\r17\r18"), 18);
    assert_eq!(last_count(b""), 0);
}

#[test]
fn smtp_source_arguments_follow_the_load() {
    let load = SourceLoad {
        addr: "127.0.0.1:2525".parse().unwrap(),
        message_file: "/tmp/m.eml".into(),
        concurrency: 10,
        messages: 500,
        reuse: true,
        time_limit: std::time::Duration::from_secs(1),
    };
    let line = load.args().join(" ");
    assert!(line.starts_with("-s 10 -m 500 -F /tmp/m.eml -c"));
    assert!(line.ends_with("-d 127.0.0.1:2525"));
    let fresh = SourceLoad {
        reuse: false,
        ..load
    };
    assert!(!fresh.args().contains(&"-d".to_owned()));
}

#[test]
fn options_parse_quick_only_and_pairs() {
    let quick = Options::parse(&args(&["--quick", "--only", "plain-1k, tls"])).unwrap();
    assert!(quick.quick);
    assert_eq!(quick.pairs, 1);
    assert_eq!(quick.only, vec!["plain-1k", "tls"]);
    assert!(quick.selects("plain-1k-c10"));
    assert!(quick.selects("starttls-1k-c1"));
    assert!(!quick.selects("plain-100k-c1"));
    assert!(!quick.writes_docs());
    assert_eq!(quick.count(5000), 500);

    let full = Options::parse(&[]).unwrap();
    assert_eq!(full.pairs, 3);
    assert!(full.writes_docs());
    assert_eq!(full.count(5000), 5000);

    let quick_pairs = Options::parse(&args(&["--quick", "--pairs", "2"])).unwrap();
    assert_eq!(quick_pairs.pairs, 2);
    assert!(Options::parse(&args(&["--pairs", "0"])).is_err());
    assert!(Options::parse(&args(&["--only"])).is_err());
    assert!(Options::parse(&args(&["--fast"])).is_err());
}

#[test]
fn options_parse_baseline_and_peers_and_neither_writes_docs() {
    let both = Options::parse(&args(&[
        "--baseline",
        "/tmp/mailsink-old",
        "--peers",
        "mailtutan, floor,mailtutan",
    ]))
    .unwrap();
    assert_eq!(both.baseline.as_deref(), Some("/tmp/mailsink-old".as_ref()));
    assert_eq!(both.peers, Some(vec![Kind::Mailtutan, Kind::Floor]));
    assert!(both.runs(Kind::Mailsink) && both.runs(Kind::Baseline));
    assert!(both.runs(Kind::Mailtutan) && both.runs(Kind::Floor));
    assert!(!both.runs(Kind::SmtpSink) && !both.runs(Kind::Aiosmtpd));
    assert!(!both.writes_docs());

    let none = Options::parse(&args(&["--peers", "none"])).unwrap();
    assert_eq!(none.peers, Some(Vec::new()));
    assert!(none.runs(Kind::Mailsink) && !none.runs(Kind::Baseline));
    assert!(Kind::REFERENCES.iter().all(|&kind| !none.runs(kind)));
    assert!(!none.writes_docs(), "--peers is never a full run");

    // Naming every reference is still not a full run.
    let all = Options::parse(&args(&[
        "--peers",
        "smtp-sink,mailcrab,mailtutan,aiosmtpd,floor",
    ]))
    .unwrap();
    assert!(Kind::REFERENCES.iter().all(|&kind| all.runs(kind)));
    assert!(!all.writes_docs());
    let baseline = Options::parse(&args(&["--baseline", "old"])).unwrap();
    assert!(!baseline.writes_docs(), "--baseline is never a full run");

    let default = Options::parse(&[]).unwrap();
    assert!(Kind::REFERENCES.iter().all(|&kind| default.runs(kind)));
    assert!(!default.runs(Kind::Baseline));

    for bad in [
        &["--peers", "postfix"][..],
        &["--peers", "shape floor"],
        &["--peers", "none,mailtutan"],
        &["--peers", ","],
        &["--peers"],
        &["--baseline"],
    ] {
        assert!(Options::parse(&args(bad)).is_err(), "{bad:?}");
    }
    let err = Options::parse(&args(&["--peers", "mailpit"]))
        .unwrap_err()
        .to_string();
    let first = err.lines().next().unwrap();
    assert_eq!(
        first,
        "--peers: unknown reference mailpit (known: smtp-sink, mailcrab, mailtutan, aiosmtpd, floor, or none)"
    );
}

#[test]
fn the_baseline_runs_second_with_the_first_rows_arguments() {
    let options = Options::parse(&args(&["--baseline", "old"])).unwrap();
    let all = cells::all(&options);
    for cell in all.iter().filter(|c| c.name != "calibrate") {
        let (ours, twin) = (&cell.contestants[0], &cell.contestants[1]);
        assert_eq!(ours.server.kind, Kind::Mailsink, "{}", cell.name);
        assert_eq!(twin.server.kind, Kind::Baseline, "{}", cell.name);
        assert_eq!(twin.server.security, ours.server.security);
        assert_eq!(
            (twin.server.auth, twin.server.maildir, twin.server.max),
            (ours.server.auth, ours.server.maildir, ours.server.max)
        );
        assert_eq!(twin.server.max_message_mib, ours.server.max_message_mib);
        assert_eq!(twin.driver, ours.driver);
        assert_eq!(
            twin.label,
            ours.label.replacen("mailsink", "mailsink baseline", 1)
        );
        let twins = cell
            .contestants
            .iter()
            .filter(|c| c.server.kind == Kind::Baseline);
        assert_eq!(twins.count(), 1, "{}: one baseline row", cell.name);
    }
    let label = |name: &str, at: usize| {
        let cell = all.iter().find(|c| c.name == name).unwrap();
        cell.contestants[at].label.clone()
    };
    assert_eq!(label("starttls-1k-c10", 1), "mailsink baseline");
    assert_eq!(label("starttls-1k-c10", 2), "mailsink plain");
    assert_eq!(label("maildir-1k-c10", 1), "mailsink baseline --maildir");
    assert_eq!(label("auth-1k-c10", 1), "mailsink baseline AUTH");
    let memory = all.iter().find(|c| c.name == "memory-2000x100k").unwrap();
    assert_eq!(
        memory.contestants[1].server.max, None,
        "the default --max, as mailsink"
    );
    let calibrate = all.iter().find(|c| c.name == "calibrate").unwrap();
    assert!(calibrate
        .contestants
        .iter()
        .all(|c| c.server.kind == Kind::SmtpSink));

    let without = cells::all(&Options::parse(&[]).unwrap());
    assert_eq!(without.len(), all.len());
    for (plain, with) in without.iter().zip(&all) {
        let extra = usize::from(with.name != "calibrate");
        assert_eq!(plain.contestants.len() + extra, with.contestants.len());
        assert!(plain.left_out.is_empty());
    }
}

#[test]
fn peers_restrict_the_references_and_the_cells_say_which_went() {
    let only = Options::parse(&args(&["--peers", "mailtutan"])).unwrap();
    let all = cells::all(&only);
    assert!(
        all.iter().all(|c| c.name != "calibrate"),
        "no smtp-sink, no calibration"
    );
    for cell in &all {
        for c in &cell.contestants {
            assert!(
                matches!(c.server.kind, Kind::Mailsink | Kind::Mailtutan),
                "{}: {}",
                cell.name,
                c.label
            );
        }
    }
    let plain = all.iter().find(|c| c.name == "plain-1k-c10").unwrap();
    assert_eq!(
        plain.left_out,
        vec![Kind::SmtpSink, Kind::Mailcrab, Kind::Aiosmtpd, Kind::Floor]
    );
    let labels: Vec<&str> = plain.contestants.iter().map(|c| c.label.as_str()).collect();
    assert_eq!(labels, ["mailsink", "mailtutan"]);
    let starttls = all.iter().find(|c| c.name == "starttls-1k-c10").unwrap();
    assert_eq!(starttls.left_out, vec![Kind::Aiosmtpd, Kind::Floor]);

    let none = Options::parse(&args(&["--peers", "none", "--only", "starttls-1k-c10"])).unwrap();
    let cells = cells::all(&none);
    assert_eq!(cells.len(), 1);
    let labels: Vec<&str> = cells[0]
        .contestants
        .iter()
        .map(|c| c.label.as_str())
        .collect();
    assert_eq!(labels, ["mailsink", "mailsink plain"]);
    assert!(cells[0]
        .contestants
        .iter()
        .all(|c| c.server.kind != Kind::Baseline));
    assert!(cells[0].contestants[0].server.security == Security::StartTls);
}

fn result(label: &str, rate: f64, cpu_ms: f64) -> ContestantResult {
    let messages = 1000;
    ContestantResult {
        label: label.to_owned(),
        driver: "smtp-source",
        runs: vec![RunRecord {
            delivered: messages,
            elapsed: Duration::from_secs_f64(messages as f64 / rate),
            server_cpu: Duration::from_secs_f64(cpu_ms * messages as f64 / 1000.0),
            ..RunRecord::default()
        }],
        skipped: None,
    }
}

fn results_with(cells: Vec<CellResult>) -> super::Results {
    super::Results {
        machine: super::procfs::Machine {
            cores: 2,
            cpu: "test".to_owned(),
            kernel: "test".to_owned(),
            memory_gib: 1,
        },
        date: String::new(),
        load_before: 0.0,
        quiet: super::procfs::Quiet::default(),
        load_after: 0.0,
        foreign_before: Vec::new(),
        foreign_after: Vec::new(),
        versions: Vec::new(),
        notes: Vec::new(),
        pairs: 1,
        quick: true,
        cells,
        startup: Vec::new(),
        binary: None,
        baseline_binary: None,
        api: Vec::new(),
    }
}

/// A target compares with peers that ran; one `--peers` left out makes it "not measured", and
/// the baseline is never a peer.
#[test]
fn targets_that_need_a_left_out_peer_are_not_measured() {
    let cell = |left_out: Vec<Kind>| CellResult {
        name: "plain-1k-c10",
        title: String::new(),
        messages: 1000,
        contestants: vec![
            result("mailsink", 9000.0, 0.1),
            result("mailsink baseline", 8000.0, 0.01),
            result("mailtutan", 5000.0, 0.5),
        ],
        left_out,
    };
    let verdicts = |left_out: Vec<Kind>| {
        let rows = targets::evaluate(&results_with(vec![cell(left_out)]));
        let verdict = |start: &str| {
            rows.iter()
                .find(|r| r.target.starts_with(start))
                .map(|r| (r.verdict, r.measured.clone()))
                .unwrap()
        };
        (
            verdict("CPU per 1 KiB message"),
            verdict("plain 1 KiB c=10 ≥ 1.2×"),
        )
    };
    // Only the floor left out: both measured, against mailtutan (not the faster baseline).
    let ((cpu, cpu_text), (rate, rate_text)) = verdicts(vec![Kind::Floor]);
    assert_eq!((cpu, rate), (Verdict::Met, Verdict::Met));
    assert!(cpu_text.contains("mailtutan") && rate_text.contains("mailtutan"));
    // mailcrab left out: "the better of mailcrab and mailtutan" and "the best peer" need it.
    let ((cpu, _), (rate, _)) = verdicts(vec![Kind::Mailcrab]);
    assert_eq!((cpu, rate), (Verdict::NotMeasured, Verdict::NotMeasured));
    // smtp-sink left out: the best peer needs it, the mailcrab/mailtutan row does not.
    let ((cpu, _), (rate, _)) = verdicts(vec![Kind::SmtpSink]);
    assert_eq!((cpu, rate), (Verdict::NotMeasured, Verdict::Met));
}

#[test]
fn spread_gives_median_min_and_max() {
    let s = Spread::of(&[3.0, 1.0, 2.0]).unwrap();
    assert_eq!((s.median, s.min, s.max), (2.0, 1.0, 3.0));
    assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
    assert_eq!(median(&[f64::NAN, 5.0]), Some(5.0));
    assert_eq!(Spread::of(&[]), None);
}

#[test]
fn the_generated_block_replaces_only_the_text_between_the_markers() {
    let old =
        format!("# Benchmarks\n\nintro\n\n{BEGIN}\nold figures\n{END}\n\n## Profile\nnotes\n");
    let block = format!("{BEGIN}\nnew figures\n{END}\n");
    let new = splice(&old, &block);
    assert!(new.contains("intro") && new.contains("## Profile\nnotes"));
    assert!(new.contains("new figures") && !new.contains("old figures"));
    assert_eq!(new.matches(BEGIN).count(), 1);

    let appended = splice("# Benchmarks\n\nhand-written\n", &block);
    assert!(appended.starts_with("# Benchmarks\n\nhand-written\n\n"));
    assert!(appended.ends_with(&block));
    assert!(splice("", &block).starts_with("# Benchmarks"));
}

#[test]
fn table_cells_stay_on_one_line() {
    assert_eq!(one_line("a|b\nc"), "a/b c");
    assert_eq!(one_line(&"x".repeat(200)).chars().count(), 160);
}

#[test]
fn http_answers_and_totals_are_read() {
    let raw = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{\"total\": 100001, \"unread\": 3}";
    let reply = parse_response(raw).unwrap();
    assert_eq!(reply.status, 200);
    assert_eq!(total(&reply.body), Some(100_001));
    assert_eq!(total("{\"total\":7}"), Some(7));
    assert_eq!(total("{\"count\":7}"), None);
    assert!(parse_response(b"garbage").is_none());
}

#[test]
fn the_smtp_source_file_is_the_client_message_with_lf_line_ends() {
    let file = message_file(200, "bench");
    let text = String::from_utf8(file).unwrap();
    assert!(!text.contains('\r'));
    assert!(text.starts_with("From: Bench Sender <from@bench.example>\n"));
    assert!(text.ends_with("\n") && !text.ends_with(".\n"));
    let wire = String::from_utf8(message(200, "bench").to_vec()).unwrap();
    assert_eq!(text.replace('\n', "\r\n") + ".\r\n", wire);
}

#[test]
fn maildirs_are_removed_together_and_nothing_else() {
    let work = std::env::temp_dir().join(format!("mailsink-bench-test-{}", std::process::id()));
    let run = work
        .join("maildir")
        .join("maildir-1k-c10-mailsink-0")
        .join("new");
    std::fs::create_dir_all(&run).unwrap();
    std::fs::write(run.join("1.message"), b"x").unwrap();
    std::fs::create_dir_all(work.join("logs")).unwrap();
    super::servers::remove_maildirs(&work);
    assert!(!work.join("maildir").exists());
    assert!(work.join("logs").is_dir());
    // Nothing left to remove is not an error.
    super::servers::remove_maildirs(&work);
    std::fs::remove_dir_all(&work).unwrap();
}

/// The shape's floor answers like an SMTP server, so the load tools accept it: canned replies in
/// order, pipelined commands answered together, and a message whose end arrives in another read.
#[test]
fn the_shape_floor_answers_a_whole_session_and_pipelined_commands() {
    use std::io::{BufRead, BufReader, Write};
    use std::net::{TcpListener, TcpStream};

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || super::floor::serve_forever(&listener, &super::floor::Mode::Plain));
    let stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    let mut line = || {
        let mut text = String::new();
        reader.read_line(&mut text).unwrap();
        text
    };
    assert_eq!(line(), "220 floor ESMTP\r\n");
    writer.write_all(b"ehlo client\r\n").unwrap();
    assert_eq!(line(), "250-floor\r\n");
    assert_eq!(line(), "250 PIPELINING\r\n");
    writer
        .write_all(b"MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n")
        .unwrap();
    assert_eq!(line(), "250 2.0.0 ok\r\n");
    assert_eq!(line(), "250 2.0.0 ok\r\n");
    assert_eq!(line(), "354 go ahead\r\n");
    writer
        .write_all(b"Subject: x\r\n\r\nDATA\r\nQUIT\r\n.")
        .unwrap();
    writer.flush().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(50));
    writer.write_all(b"\r\nQUIT\r\n").unwrap();
    assert_eq!(
        line(),
        "250 2.0.0 queued\r\n",
        "lines inside the data are not commands"
    );
    assert_eq!(line(), "221 2.0.0 bye\r\n");
    assert_eq!(line(), "", "closed after QUIT");
}

/// Over TLS the floor serves whole sessions to the bench's own client, STARTTLS and implicit,
/// and the floor leads with AES-128-GCM, the suite mailsink chooses for that client.
#[test]
fn the_shape_floor_serves_starttls_and_implicit_tls_to_the_xtask_client() {
    use super::client::{self, ClientLoad, Security};
    use super::floor::{self, Mode};

    let work = std::env::temp_dir().join(format!("mailsink-floor-test-{}", std::process::id()));
    std::fs::create_dir_all(&work).unwrap();
    let key_pair = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .self_signed(&key_pair)
        .unwrap();
    let (cert_path, key_path) = (work.join("cert.pem"), work.join("key.pem"));
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key_pair.serialize_pem()).unwrap();
    let config = floor::tls_config(cert_path.to_str().unwrap(), key_path.to_str().unwrap());
    std::fs::remove_dir_all(&work).unwrap();
    let config = config.unwrap();
    assert_eq!(
        config.crypto_provider().cipher_suites[0].suite(),
        rustls::CipherSuite::TLS13_AES_128_GCM_SHA256
    );

    for (security, tls) in [
        (
            Security::StartTls,
            Mode::StartTls(std::sync::Arc::clone(&config)),
        ),
        (
            Security::Implicit,
            Mode::Implicit(std::sync::Arc::clone(&config)),
        ),
    ] {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || floor::serve_forever(&listener, &tls));
        let outcome = client::run(&ClientLoad {
            addr,
            security,
            auth: None,
            resume: false,
            message: client::message(1024, "floor"),
            concurrency: 2,
            messages: 6,
            per_connection: 2,
            time_limit: std::time::Duration::from_secs(20),
            expect_refusal: false,
        })
        .unwrap();
        assert_eq!(
            (outcome.delivered, outcome.failed, outcome.first_error),
            (6, 0, None),
            "{security:?}"
        );
        assert_eq!(outcome.sessions.len(), 3, "{security:?}");
    }
}

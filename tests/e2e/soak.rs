//! A bounded soak: mixed plain, STARTTLS and authenticated SMTP traffic while the API is read at
//! the same time. Afterwards every `250` is accounted for and memory and threads are flat.
//!
//! Runs for `MAILSINK_SOAK_SECS` seconds (default 12; set it to minutes for a real soak).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mailsink_tests::{free_port, mailsink_bin, python, wait_bounded, Reaper};

const LOAD: &str = r#"
import smtplib, ssl, sys, threading, time, json, urllib.request
smtp_port, http_port, seconds = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
ctx = ssl._create_unverified_context()
deadline = time.time() + seconds
lock = threading.Lock()
counts = {"ok": 0, "api": 0, "errors": 0}

def sender(mode):
    n = 0
    while time.time() < deadline:
        try:
            with smtplib.SMTP("127.0.0.1", smtp_port, timeout=20) as s:
                s.ehlo("soak")
                if mode >= 1:
                    s.starttls(context=ctx); s.ehlo("soak")
                if mode == 2:
                    s.login("soak-user", "any password")
                for _ in range(3):
                    n += 1
                    body = ("Subject: soak %d %d\r\n\r\n" % (mode, n) + "x" * (200 * (n % 7)) + "\r\n").encode()
                    s.sendmail("soak@example.com", ["r%d@example.com" % mode], body)
                    with lock:
                        counts["ok"] += 1
        except Exception as e:
            with lock:
                counts["errors"] += 1
            print("sender error:", mode, repr(e), file=sys.stderr)

def reader():
    while time.time() < deadline:
        for path in ("/api/v1/messages?limit=50", "/api/v1/search?query=soak", "/metrics"):
            with urllib.request.urlopen("http://127.0.0.1:%d%s" % (http_port, path), timeout=20) as r:
                r.read()
            with lock:
                counts["api"] += 1
        time.sleep(0.05)

threads = [threading.Thread(target=sender, args=(i % 3,)) for i in range(9)] + [threading.Thread(target=reader)]
for t in threads: t.start()
for t in threads: t.join()
print(json.dumps(counts))
"#;

/// (resident KiB, threads) of a process.
fn rss_and_threads(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    let field = |name: &str| -> u64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .expect("status field")
    };
    (field("VmRSS:"), field("Threads:"))
}

fn http_get(addr: SocketAddr, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).expect("connect http");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n"
    )
    .expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    response
}

fn metric(text: &str, name: &str) -> u64 {
    text.lines()
        .find(|l| l.starts_with(name) && !l.starts_with('#'))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map(|v| v as u64)
        .unwrap_or_else(|| panic!("metric {name} missing"))
}

fn wait_ready(child: &mut Child) {
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(20) {
        match lines.next() {
            Some(Ok(line)) if line.contains("[http]") => {
                // Keep draining stderr so the server never blocks on a full pipe.
                std::thread::spawn(move || lines.for_each(drop));
                return;
            }
            Some(_) => {}
            None => panic!("mailsink exited during start-up"),
        }
    }
    panic!("mailsink did not start");
}

#[test]
fn mixed_traffic_with_api_reads_loses_nothing_and_stays_flat() {
    let seconds: f64 = std::env::var("MAILSINK_SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(12.0);
    let (smtp, http) = (free_port(), free_port());
    let child = Command::new(mailsink_bin())
        .args([
            "--smtp",
            &format!("127.0.0.1:{smtp}"),
            "--listen",
            &format!("127.0.0.1:{http}"),
        ])
        .args([
            "--smtp-tls-cert",
            "sans:localhost",
            "--smtp-tls-key",
            "sans:localhost",
        ])
        .args([
            "--smtp-auth-accept-any",
            "--smtp-auth-allow-insecure",
            "--max",
            "500",
        ])
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn mailsink");
    let mut server = Reaper::new(child);
    wait_ready(server.child());
    let pid = server.child().id();
    let http_addr: SocketAddr = format!("127.0.0.1:{http}").parse().expect("addr");

    let sampler = std::thread::spawn(move || {
        let mut samples = Vec::new();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs_f64(seconds) {
            std::thread::sleep(Duration::from_secs_f64(seconds / 6.0));
            samples.push(rss_and_threads(pid));
        }
        samples
    });
    let out = python(
        LOAD,
        &[&smtp.to_string(), &http.to_string(), &seconds.to_string()],
    );
    let samples = sampler.join().expect("sampler");
    let counts: Vec<u64> = out
        .trim()
        .trim_matches(['{', '}'])
        .split(',')
        .map(|kv| {
            kv.rsplit(':')
                .next()
                .and_then(|v| v.trim().parse().ok())
                .expect("count")
        })
        .collect();
    let (accepted_by_clients, api_reads, errors) = (counts[0], counts[1], counts[2]);
    assert_eq!(errors, 0, "no client saw an error");
    assert!(
        accepted_by_clients > 50,
        "the soak sent something: {accepted_by_clients}"
    );
    assert!(api_reads > 10, "the API was read meanwhile: {api_reads}");

    let metrics = http_get(http_addr, "/metrics");
    assert_eq!(
        metric(&metrics, "mailsink_smtp_messages_accepted_total"),
        accepted_by_clients,
        "every 250 the clients saw was counted by the server"
    );
    assert_eq!(
        metric(&metrics, "mailsink_store_messages"),
        accepted_by_clients.min(500),
        "the store holds exactly what --max keeps"
    );

    // Flat: after the first third, memory and threads stop growing (the store is capped at 500).
    let settled = &samples[samples.len() / 3..];
    let (first_rss, first_threads) = settled[0];
    for &(rss, threads) in settled {
        // Workers are spawned on demand up to the peak concurrency (9 senders, one reconnecting
        // while its old worker finishes), never one per connection.
        assert!(
            threads <= first_threads + 6 && threads <= 48,
            "threads grew: {samples:?}"
        );
        assert!(
            rss <= first_rss + first_rss / 2 + 8 * 1024,
            "memory grew: {samples:?}"
        );
    }

    Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("kill");
    let out = wait_bounded(server.into_inner(), Duration::from_secs(15));
    assert_eq!(out.status.code(), Some(0));
}

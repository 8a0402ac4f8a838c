//! The HTTP API against a running server, driven by clients no one here wrote: the npm package
//! `mailpit-api` and the PyPI package `mailpit-api-client`, unchanged, and `curl` for the raw
//! endpoints. Mail goes in over SMTP with Python's `smtplib`.
//!
//! `cargo xtask deps` installs the clients (`npm ci` in `tests/js`, `pip install
//! mailpit-api-client`); a missing one fails the test with that hint.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::thread;
use std::time::{Duration, Instant};

use mailsink_tests::{path_str, python, require_tool, TempDir, TestServer};

/// Sends one message over SMTP: port, subject, body, and extra header lines (`\r\n`-joined).
const SEND: &str = r#"
import smtplib, sys
port, subject, body, extra = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
msg = ("From: sender@example.com\r\nTo: rcpt@example.com\r\nSubject: " + subject + "\r\n"
       + extra + "\r\n" + body + "\r\n").encode()
with smtplib.SMTP("127.0.0.1", port) as s:
    s.sendmail("sender@example.com", ["rcpt@example.com"], msg)
"#;

fn send(server: &TestServer, subject: &str, body: &str) {
    python(SEND, &[&server.port().to_string(), subject, body, ""]);
}

/// `tests/js` or `tests/py`.
fn client_dir(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(name)
}

fn assert_success(what: &str, out: &Output) {
    assert!(
        out.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs `tests/js/mailpit-api.mjs` against the server.
fn run_npm_client(server: &TestServer, credentials: &[&str]) -> Output {
    let dir = client_dir("js");
    assert!(
        dir.join("node_modules/mailpit-api").is_dir(),
        "the npm client is not installed; run `cargo xtask deps` (npm ci in tests/js) first"
    );
    Command::new(require_tool("node"))
        .current_dir(&dir)
        .arg("mailpit-api.mjs")
        .arg(server.http_url())
        .args(credentials)
        .output()
        .expect("run node")
}

/// `curl` with these arguments; stdout as text.
fn curl(args: &[&str]) -> String {
    let out = Command::new(require_tool("curl"))
        .args(["--silent", "--show-error", "--max-time", "20"])
        .args(args)
        .output()
        .expect("run curl");
    assert_success("curl", &out);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_npm_client_mailpit_api_works_unchanged() {
    let server = TestServer::start(&[]);
    send(&server, "SMTP one", "the first body");
    send(&server, "SMTP two", "the second body");
    let out = run_npm_client(&server, &[]);
    assert_success("node mailpit-api.mjs", &out);
    assert!(String::from_utf8_lossy(&out.stdout).contains("all checks passed"));
}

#[test]
fn the_npm_client_works_behind_basic_auth() {
    let server = TestServer::start_with_env(&[], &[("MP_UI_AUTH", "ui:s3cret")]);
    send(&server, "SMTP one", "the first body");
    send(&server, "SMTP two", "the second body");
    let refused = run_npm_client(&server, &[]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("401"));
    let out = run_npm_client(&server, &["ui", "s3cret"]);
    assert_success("node mailpit-api.mjs with credentials", &out);
    let base = server.http_url();
    assert_eq!(
        curl(&[
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            &format!("{base}/livez")
        ]),
        "200"
    );
    assert_eq!(
        curl(&[
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            &format!("{base}/readyz")
        ]),
        "401"
    );
}

/// The status `curl -u USER:PASSWORD` gets for `/api/v1/info`.
fn status_as(server: &TestServer, user_password: &str) -> String {
    let url = format!("{}/api/v1/info", server.http_url());
    curl(&[
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "-u",
        user_password,
        &url,
    ])
}

#[test]
fn the_ui_credentials_file_is_reloaded_on_sighup_and_when_it_changes() {
    let dir = TempDir::new("ui-reload");
    let file = dir.join("ui-users");
    std::fs::write(&file, "ui:one\n").unwrap();
    let server = TestServer::start(&["--ui-auth-file", path_str(&file)]);
    assert_eq!(status_as(&server, "ui:one"), "200");
    assert_eq!(status_as(&server, "ui:two"), "401");

    std::fs::write(&file, "ui:two\n").unwrap();
    server.server().reload();
    assert_eq!(status_as(&server, "ui:two"), "200");
    assert_eq!(
        status_as(&server, "ui:one"),
        "401",
        "the old password went with the reload"
    );

    std::fs::write(&file, "ui:three\na line with no colon\n").unwrap();
    server.server().reload();
    assert_eq!(
        status_as(&server, "ui:two"),
        "200",
        "a broken file keeps the old credentials"
    );
    assert_eq!(status_as(&server, "ui:three"), "401");

    // Without being asked: the watcher looks every 2 s.
    std::fs::write(&file, "ui:four\n").unwrap();
    let started = Instant::now();
    while status_as(&server, "ui:four") != "200" {
        assert!(
            started.elapsed() < Duration::from_secs(6),
            "the changed file was not picked up"
        );
        thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(status_as(&server, "ui:two"), "401");
}

/// One message with an attachment and a `Delivered-To:`, as the Python client's models expect.
const SEND_WITH_ATTACHMENT: &str = r#"
import smtplib, sys
from email.message import EmailMessage
msg = EmailMessage()
msg["From"] = "Py Sender <py@example.com>"
msg["To"] = "rcpt@example.com"
msg["Delivered-To"] = "rcpt@example.com"
msg["Subject"] = "From Python"
msg["Date"] = "Tue, 14 Nov 2023 22:13:20 +0000"
msg["Message-ID"] = "<py-1@example.com>"
msg.set_content("the python body\n")
msg.add_attachment(b"a,b\n1,2\n", maintype="text", subtype="csv", filename="data.csv")
with smtplib.SMTP("127.0.0.1", int(sys.argv[1])) as s:
    s.send_message(msg)
"#;

#[test]
fn the_pypi_client_mailpit_api_client_works_unchanged() {
    let server = TestServer::start(&[]);
    python(SEND_WITH_ATTACHMENT, &[&server.port().to_string()]);
    let installed = Command::new(require_tool("python3"))
        .args(["-c", "import mailpit.client.api"])
        .output()
        .expect("run python3");
    assert!(
        installed.status.success(),
        "mailpit-api-client is not installed; run `cargo xtask deps` first"
    );
    let out = Command::new(require_tool("python3"))
        .arg(client_dir("py").join("mailpit_api_client_check.py"))
        .arg(server.http_url())
        .arg(server.port().to_string())
        .output()
        .expect("run python3");
    assert_success("mailpit_api_client_check.py", &out);
    assert_eq!(server.messages().len(), 0, "the client deleted everything");
}

#[test]
fn curl_reads_the_raw_endpoints() {
    let server = TestServer::start(&[]);
    send(&server, "Raw one", "raw body");
    let stored = server.messages().pop().expect("stored");
    let base = server.http_url();
    let id = stored.id().to_string();
    let raw = curl(&[&format!("{base}/api/v1/message/{id}/raw")]);
    assert_eq!(raw.as_bytes(), stored.raw());
    let head = curl(&[
        "-D",
        "-",
        "-o",
        "/dev/null",
        &format!("{base}/api/v1/message/latest/raw?dl=1"),
    ]);
    let head = head.to_ascii_lowercase();
    assert!(
        head.contains(&format!(
            "content-disposition: attachment; filename=\"{}.eml\"",
            id.to_ascii_lowercase()
        )),
        "{head}"
    );
    assert!(
        head.contains("content-type: text/plain; charset=utf-8"),
        "{head}"
    );
    let text = curl(&[&format!("{base}/view/{id}.txt")]);
    assert_eq!(text.trim_end(), "raw body");
    let headers = curl(&[&format!("{base}/api/v1/message/{id}/headers")]);
    assert!(headers.contains("\"Subject\":[\"Raw one\"]"), "{headers}");
}

#[test]
fn curl_sees_mailpit_status_codes_and_redirects() {
    let server = TestServer::start(&[]);
    send(&server, "Kept", "body");
    let base = server.http_url();
    let status = |args: &[&str]| {
        let mut all = vec!["-o", "/dev/null", "-w", "%{http_code} %{redirect_url}"];
        all.extend(args);
        curl(&all).trim().to_owned()
    };
    assert_eq!(
        status(&[&format!("{base}//api/v1/messages?limit=1")]),
        format!("301 {base}/api/v1/messages?limit=1")
    );
    assert_eq!(
        status(&["-X", "DELETE", &format!("{base}/api//v1/messages")]),
        format!("301 {base}/api/v1/messages")
    );
    assert_eq!(server.messages().len(), 1, "the redirect deleted nothing");
    let followed = curl(&["-L", &format!("{base}//api/v1/messages")]);
    assert!(followed.contains("\"total\":1"), "{followed}");
    assert_eq!(
        status(&[&format!("{base}/api/v1/message/01ARZ3NDEKTSV4RRFFQ69G5FAV")]),
        "404"
    );
    assert_eq!(
        status(&["-X", "POST", &format!("{base}/api/v1/messages")]),
        "405"
    );
    assert_eq!(status(&[&format!("{base}/api/v1/search")]), "400");
    assert_eq!(
        status(&[
            "-H",
            "Origin: https://evil.example",
            &format!("{base}/api/v1/messages")
        ]),
        "403"
    );
}

#[test]
fn a_body_over_the_limit_is_413() {
    // The send API takes what a message of --max-message-size needs in base64, and a little more.
    let server = TestServer::start(&["--max-message-size", "1"]);
    let big_file = std::env::temp_dir().join(format!("mailsink-api-big-{}", std::process::id()));
    std::fs::write(&big_file, "x".repeat(4 * 1024 * 1024)).expect("write the big body");
    let code = curl(&[
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "--data-binary",
        &format!("@{}", big_file.display()),
        &format!("{}/api/v1/send", server.http_url()),
    ]);
    let _ = std::fs::remove_file(&big_file);
    assert_eq!(code, "413");
}

#[test]
fn curl_sends_marks_and_deletes() {
    let server = TestServer::start(&[]);
    let base = server.http_url();
    let body = r#"{"From":{"Email":"app@example.com"},"To":[{"Email":"user@example.com"}],"Subject":"curl send","Text":"hi"}"#;
    let reply = curl(&[
        "-H",
        "Content-Type: application/json",
        "-d",
        body,
        &format!("{base}/api/v1/send"),
    ]);
    let id = reply
        .split('"')
        .nth(3)
        .expect("{\"ID\":\"...\"}")
        .to_owned();
    let stored = server.messages().pop().expect("stored");
    assert_eq!(stored.id().to_string(), id);
    assert_eq!(stored.envelope().remote_addr.ip().to_string(), "127.0.0.1");
    assert!(!stored.is_read());
    let put = curl(&[
        "-X",
        "PUT",
        "-d",
        &format!(r#"{{"IDs":["{id}"],"Read":true}}"#),
        &format!("{base}/api/v1/messages"),
    ]);
    assert_eq!(put, "ok");
    assert!(server.messages()[0].is_read());
    assert_eq!(
        curl(&["-X", "DELETE", &format!("{base}/api/v1/messages")]),
        "ok"
    );
    assert!(server.messages().is_empty());
}

#[test]
fn metrics_count_what_smtp_did() {
    let server = TestServer::start(&[]);
    send(&server, "Counted", "body");
    let metrics = curl(&[&format!("{}/metrics", server.http_url())]);
    for line in [
        "mailsink_smtp_sessions_total 1",
        "mailsink_smtp_messages_accepted_total 1",
        "mailsink_store_messages 1",
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "{line:?} not in\n{metrics}"
        );
    }
    let info = curl(&[&format!("{}/api/v1/info", server.http_url())]);
    assert!(info.contains("\"SMTPAccepted\":1"), "{info}");
}

#[test]
fn api_cors_lets_the_listed_origin_in() {
    let server = TestServer::start(&["--api-cors", "app.example"]);
    let url = format!("{}/api/v1/messages", server.http_url());
    let head = curl(&[
        "-D",
        "-",
        "-o",
        "/dev/null",
        "-H",
        "Origin: http://app.example:3000",
        &url,
    ]);
    let head = head.to_ascii_lowercase();
    assert!(
        head.contains("access-control-allow-origin: http://app.example:3000"),
        "{head}"
    );
    let preflight = curl(&[
        "-X",
        "OPTIONS",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "-H",
        "Origin: http://app.example",
        "-H",
        "Access-Control-Request-Method: DELETE",
        &url,
    ]);
    assert_eq!(preflight, "200");
}

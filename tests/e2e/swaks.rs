//! `swaks`, the Swiss Army Knife for SMTP, delivering to mailsink.

use std::process::Command;

use mailsink_tests::{require_tool, TestServer};

#[test]
fn swaks_delivers_a_message() {
    let swaks = require_tool("swaks");
    let server = TestServer::start(&[]);
    let out = Command::new(swaks)
        .args([
            "--to",
            "a@b.example",
            "--from",
            "swaks@example.com",
            "--server",
        ])
        .arg(format!("127.0.0.1:{}", server.port()))
        .args([
            "--header",
            "Subject: via swaks",
            "--body",
            "hello from swaks",
            "--pipeline",
        ])
        .output()
        .expect("run swaks");
    let transcript = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "swaks failed: {transcript}");
    let messages = server.messages();
    assert_eq!(messages.len(), 1);
    assert!(
        transcript.contains(&format!("250 2.0.0 Ok: queued as {}", messages[0].id())),
        "{transcript}"
    );
    let raw = String::from_utf8_lossy(messages[0].raw());
    assert!(raw.contains("Subject: via swaks"), "{raw}");
    assert!(raw.contains("hello from swaks"), "{raw}");
    assert_eq!(messages[0].envelope().rcpt_to, ["a@b.example"]);
}

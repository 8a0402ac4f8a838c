//! The web page end to end in headless Chromium: runs the node suite in `tests/browser/`
//! (`node --test`, with `playwright-core` driving Debian's `chromium`) against the `mailsink`
//! binary built with these tests. The suite sends mail over SMTP and checks the page shows,
//! searches and deletes it live, and that hostile HTML neither runs script nor fetches anything.
//!
//! `cargo xtask deps` installs `chromium` and runs `npm ci` in `tests/browser`. Screenshots of
//! the list and of a message view are written to `<target>/browser-screenshots/`; the suite's
//! full output to `<target>/browser-tests.log`.

use std::fs::File;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use mailsink_tests::{mailsink_bin, require_tool, wait_bounded};

/// The whole suite (three servers, one with 10,000 messages) takes under a minute.
const LIMIT: Duration = Duration::from_secs(600);

#[test]
fn the_web_page_works_in_headless_chromium() {
    let node = require_tool("node");
    require_tool("chromium");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root");
    let playwright = root.join("tests/browser/node_modules/playwright-core");
    assert!(
        playwright.is_dir(),
        "playwright-core is not installed; run `cargo xtask deps` (npm ci in tests/browser) first"
    );
    let bin = mailsink_bin();
    let target = bin
        .parent()
        .and_then(Path::parent)
        .expect("target directory");
    // A file, not a pipe: a pipe nobody reads while waiting would stall a chatty failure.
    let log_path = target.join("browser-tests.log");
    let log = File::create(&log_path).expect("create the log");
    let child = Command::new(node)
        .args(["--test", "tests/browser/"])
        .current_dir(root)
        .env("MAILSINK_BIN", &bin)
        .env("MAILSINK_SCREENSHOTS", target.join("browser-screenshots"))
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("clone the log"))
        .stderr(log)
        .spawn()
        .expect("run node --test");
    let status = wait_bounded(child, LIMIT).status;
    let output = std::fs::read_to_string(&log_path).unwrap_or_default();
    assert!(
        status.success(),
        "the browser tests failed ({status}); log in {}:\n{output}",
        log_path.display()
    );
}

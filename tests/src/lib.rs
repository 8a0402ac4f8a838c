//! Helpers shared by the end-to-end tests: start `mailsink` in-process or as a process, find
//! the real client tools, and read what the store kept.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use smtp_bin::config::{self, Invocation};
use smtp_bin::Server;
use smtp_store::{StoreHandle, StoredMessage};

/// A `mailsink` server running inside the test process on an ephemeral loopback port.
#[derive(Debug)]
pub struct TestServer {
    server: Option<Server>,
    pub addr: SocketAddr,
}

impl TestServer {
    /// Starts a server with these extra flags (`--smtp 127.0.0.1:0` and `--listen 127.0.0.1:0`
    /// are added unless given).
    pub fn start(args: &[&str]) -> Self {
        Self::start_with_env(args, &[])
    }

    pub fn start_with_env(args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut all: Vec<std::ffi::OsString> = Vec::new();
        if !args.contains(&"--smtp") {
            all.extend(["--smtp".into(), "127.0.0.1:0".into()]);
        }
        if !args.contains(&"--listen") {
            all.extend(["--listen".into(), "127.0.0.1:0".into()]);
        }
        all.extend(args.iter().map(Into::into));
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let lookup = move |name: &str| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        let invocation = config::parse(all, &lookup).expect("valid test configuration");
        let Invocation::Run(config) = invocation else {
            panic!("not a run configuration")
        };
        let server = Server::start(&config).expect("server starts");
        let addr = server.smtp_addr();
        Self {
            server: Some(server),
            addr,
        }
    }

    pub fn server(&self) -> &Server {
        self.server.as_ref().expect("running")
    }

    pub fn store(&self) -> StoreHandle {
        self.server().store()
    }

    /// The HTTP API's address.
    pub fn http_addr(&self) -> SocketAddr {
        self.server().http_addr()
    }

    /// The HTTP API's base URL, `http://127.0.0.1:PORT`.
    pub fn http_url(&self) -> String {
        format!("http://{}", self.http_addr())
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Every stored message, oldest first.
    pub fn messages(&self) -> Vec<Arc<StoredMessage>> {
        let mut page = self.store().list(0, usize::MAX).expect("list").messages;
        page.reverse();
        page
    }

    /// Stops the server, giving sessions `grace` to finish.
    pub fn stop(mut self, grace: Duration) {
        if let Some(server) = self.server.take() {
            server.shutdown(grace);
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown(Duration::ZERO);
        }
    }
}

/// The `mailsink` binary of this build, built here when it is missing or older than the
/// `smtp-bin` library these tests were linked with: nextest builds only test targets, and a
/// binary left over from an earlier build would test old code.
pub fn mailsink_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target dir");
    let bin = dir.join("mailsink");
    let built = modified(&bin);
    if built.is_none() || built < newest_smtp_bin_library(&dir.join("deps")) {
        let status = Command::new(env!("CARGO"))
            .args(["build", "--quiet", "-p", "smtp-bin", "--bin", "mailsink"])
            .status()
            .expect("run cargo build");
        assert!(status.success(), "building mailsink failed");
    }
    bin
}

fn modified(path: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// When the newest `libsmtp_bin-*.rlib` in `deps` was written.
fn newest_smtp_bin_library(deps: &Path) -> Option<std::time::SystemTime> {
    std::fs::read_dir(deps)
        .ok()?
        .filter_map(Result::ok)
        .filter(|entry| {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            name.starts_with("libsmtp_bin-") && name.ends_with(".rlib")
        })
        .filter_map(|entry| modified(&entry.path()))
        .max()
}

/// Runs the `mailsink` binary with args and env, waiting for it to exit (bounded).
pub fn run_mailsink(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(mailsink_bin());
    cmd.args(args).env_clear().stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn mailsink");
    wait_bounded(child, Duration::from_secs(20))
}

/// A loopback port that was free a moment ago, for tests that start the binary on a fixed port.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// Owns a spawned server and kills it if the test fails before waiting for it, so a failing
/// test never leaves a process running.
#[derive(Debug)]
pub struct Reaper(Option<std::process::Child>);

impl Reaper {
    pub fn new(child: std::process::Child) -> Self {
        Self(Some(child))
    }

    pub fn child(&mut self) -> &mut std::process::Child {
        self.0.as_mut().expect("child still owned")
    }

    /// Hands the child back, for a test that waits for it itself.
    pub fn into_inner(mut self) -> std::process::Child {
        self.0.take().expect("child still owned")
    }
}

impl Drop for Reaper {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Waits for a child, killing it after `limit`.
pub fn wait_bounded(mut child: std::process::Child, limit: Duration) -> Output {
    let start = Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().expect("output");
            panic!(
                "process did not exit within {limit:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Panics with an install hint when a real client tool is missing (`.ci/run` installs them all).
pub fn require_tool(tool: &str) -> PathBuf {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(tool))
            .find(|candidate| candidate.is_file())
    });
    found.unwrap_or_else(|| {
        panic!("`{tool}` is not installed; run `cargo xtask deps` (or see .ci/run) first")
    })
}

/// Runs a Python 3 script with arguments; panics with its stderr if it fails.
pub fn python(script: &str, args: &[&str]) -> String {
    let out = Command::new(require_tool("python3"))
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "python failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A bare SMTP line client for dialogues that real clients refuse to have.
#[derive(Debug)]
pub struct RawClient {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl RawClient {
    pub fn connect(addr: SocketAddr) -> Self {
        let stream = TcpStream::connect(addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(15)))
            .expect("timeout");
        let writer = stream.try_clone().expect("clone");
        Self {
            reader: BufReader::new(stream),
            writer,
        }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).expect("write");
    }

    /// One reply line without its CRLF; empty at EOF.
    pub fn line(&mut self) -> String {
        let mut line = String::new();
        self.reader.read_line(&mut line).expect("read reply");
        line.trim_end_matches(['\r', '\n']).to_owned()
    }

    /// A whole (possibly multi-line) reply, lines joined by `\n`.
    pub fn reply(&mut self) -> String {
        let mut lines = Vec::new();
        loop {
            let line = self.line();
            let more = line.as_bytes().get(3) == Some(&b'-');
            lines.push(line);
            if !more {
                return lines.join("\n");
            }
        }
    }

    /// True when the server closed the connection (EOF with nothing more to read).
    pub fn closed(&mut self) -> bool {
        let mut rest = Vec::new();
        matches!(self.reader.read_to_end(&mut rest), Ok(0))
    }

    pub fn stream(&self) -> &TcpStream {
        &self.writer
    }
}

/// The bytes a message was stored with, after the headers the server adds in front
/// (`Return-Path`, `Received`, and `Message-ID`/`Bcc` when it adds them).
pub fn body_after_added_headers(raw: &[u8]) -> &[u8] {
    let mut rest = raw;
    loop {
        let line_end = rest
            .iter()
            .position(|&b| b == b'\n')
            .map_or(rest.len(), |i| i + 1);
        let line = &rest[..line_end];
        let added = ["Return-Path:", "Received:", "Message-ID:", "Bcc:"]
            .iter()
            .any(|h| line.len() >= h.len() && line[..h.len()].eq_ignore_ascii_case(h.as_bytes()));
        let continuation = matches!(line.first(), Some(b' ' | b'\t'));
        if !(added || continuation) {
            return rest;
        }
        rest = &rest[line_end..];
    }
}

/// A directory of one test's own under the system temporary directory, removed when dropped.
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    /// `mailsink-TAG-PID-N`: unique per test process and per call.
    pub fn new(tag: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("mailsink-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create the test directory");
        Self(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// A path inside the directory.
    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    pub fn path_str(&self) -> &str {
        path_str(&self.0)
    }
}

/// A path as a command-line argument (test paths are UTF-8).
pub fn path_str(path: &Path) -> &str {
    path.to_str().expect("UTF-8 temporary path")
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

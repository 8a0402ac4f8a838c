//! Everything the benchmark needs, installed or built when missing: the release `mailsink`,
//! Postfix's `smtp-source`/`smtp-sink` (the daemon is never started), `aiosmtpd` in a virtual
//! environment, `mailtutan` and the mailcrab wrapper under `target/bench/`, a self-signed
//! certificate, and a bcrypt (cost 10) password file.
//!
//! A reference server that cannot be installed is left out with a note, and one `--peers` leaves
//! out is not installed at all; `mailsink` and the Postfix tools (the load drivers) are required.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::error::BenchError;
use super::options::Options;
use super::servers::{self, Kind, ServerSpec};

/// The AUTH cell's user and password (a throwaway for loopback only).
pub(crate) const AUTH_USER: &str = "bench";
pub(crate) const AUTH_PASSWORD: &str = "bench-password";

/// The script `.cargo/config.toml` names as ring's C compiler on x86_64 Linux.
const C_COMPILER: &str = ".cargo/c-compiler";

/// What `.cargo/config.toml` sets for it; the peers are built without it.
const C_COMPILER_VAR: &str = "CC_x86_64_unknown_linux_gnu";

/// The reference server `aiosmtpd`, run by the virtual environment's Python.
const AIOSMTPD_SCRIPT: &str = include_str!("../../peers/aiosmtpd_peer.py");

/// Paths and facts the cells use.
#[derive(Debug)]
pub(crate) struct Tools {
    /// `target/bench`: logs, tools, maildirs, certificate.
    pub work: PathBuf,
    pub mailsink: PathBuf,
    /// `--baseline`: an earlier mailsink build, started with mailsink's arguments.
    pub baseline: Option<PathBuf>,
    pub smtp_source: PathBuf,
    pub smtp_sink: PathBuf,
    pub mailcrab: Option<PathBuf>,
    pub mailtutan: Option<PathBuf>,
    /// The virtual environment's Python, with aiosmtpd.
    pub python: Option<PathBuf>,
    pub aiosmtpd_script: PathBuf,
    pub tls_dir: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
    pub htpasswd: PathBuf,
    pub root: bool,
    /// This build accepts `--maildir`.
    pub maildir_ok: bool,
    /// This build answers `GET /api/v1/messages`.
    pub api_ok: bool,
    /// Why something is missing, for the report.
    pub notes: Vec<String>,
    /// Versions of everything measured, for the report.
    pub versions: Vec<(String, String)>,
}

impl Tools {
    /// Whether a server of this kind can be started.
    pub(crate) fn has(&self, kind: Kind) -> bool {
        match kind {
            Kind::Mailsink | Kind::SmtpSink | Kind::Floor => true,
            Kind::Baseline => self.baseline.is_some(),
            Kind::Mailcrab => self.mailcrab.is_some(),
            Kind::Mailtutan => self.mailtutan.is_some(),
            Kind::Aiosmtpd => self.python.is_some(),
        }
    }
}

/// Builds and installs what is missing (of the references, only those `options` runs).
pub(crate) fn prepare(root_dir: &Path, options: &Options) -> Result<Tools, BenchError> {
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root_dir.join("target"), PathBuf::from);
    let target = if target.is_absolute() {
        target
    } else {
        root_dir.join(target)
    };
    let work = target.join("bench");
    // What an interrupted bench left behind goes now, well before any `--maildir` run.
    servers::remove_maildirs(&work);
    for dir in ["logs", "tools", "maildir", "tls"] {
        let path = work.join(dir);
        fs::create_dir_all(&path).map_err(BenchError::io(path.display().to_string()))?;
    }
    let baseline = options.baseline.clone();
    if let Some(path) = baseline.as_ref().filter(|path| !path.is_file()) {
        return Err(BenchError::Usage(format!(
            "--baseline: no such file: {}",
            path.display()
        )));
    }
    let mailsink = match &options.mailsink {
        Some(path) => path.clone(),
        None => build_mailsink(root_dir, &target)?,
    };
    let (smtp_source, smtp_sink) = postfix_tools()?;
    let mut notes = Vec::new();
    if let Some(path) = &baseline {
        notes.push(format!(
            "`mailsink baseline` is {}, started with the same arguments as `mailsink` ({})",
            path.display(),
            mailsink.display()
        ));
    }
    let left_out: Vec<&str> = Kind::REFERENCES
        .into_iter()
        .filter(|&kind| !options.runs(kind))
        .map(Kind::peer_name)
        .collect();
    if !left_out.is_empty() {
        notes.push(format!("left out by `--peers`: {}", left_out.join(", ")));
    }
    let mut optional = |tool: &str, result: Result<PathBuf, BenchError>| match result {
        Ok(path) => Some(path),
        Err(err) => {
            eprintln!("bench: {tool} left out: {err}");
            notes.push(format!("{tool} left out: {err}"));
            None
        }
    };
    let python = options
        .runs(Kind::Aiosmtpd)
        .then(|| optional("aiosmtpd", aiosmtpd(&work)))
        .flatten();
    let mailtutan = options
        .runs(Kind::Mailtutan)
        .then(|| optional("mailtutan", mailtutan(&work)))
        .flatten();
    let mailcrab = options
        .runs(Kind::Mailcrab)
        .then(|| optional("mailcrab", mailcrab(root_dir, &work)))
        .flatten();
    let tls_dir = work.join("tls");
    let (cert, key) = certificate(&tls_dir)?;
    let htpasswd = password_file(&work)?;
    let aiosmtpd_script = work.join("tools").join("aiosmtpd_peer.py");
    fs::write(&aiosmtpd_script, AIOSMTPD_SCRIPT)
        .map_err(BenchError::io(aiosmtpd_script.display().to_string()))?;
    let mut tools = Tools {
        work,
        mailsink,
        baseline,
        smtp_source,
        smtp_sink,
        mailcrab,
        mailtutan,
        python,
        aiosmtpd_script,
        tls_dir,
        cert,
        key,
        htpasswd,
        root: is_root(),
        maildir_ok: false,
        api_ok: false,
        notes,
        versions: Vec::new(),
    };
    detect_features(&mut tools);
    tools.versions = versions(root_dir, &tools);
    Ok(tools)
}

/// Installs clang where `.cargo/c-compiler` would choose it and it is missing, so the builds
/// the bench measures are those of a machine with clang (ring's X25519 costs about 1.4x built by
/// gcc). Ring's release objects go too, since cargo keeps those built by `cc` otherwise. Not
/// being able to install it is a warning: the report names the compiler the build used. Called
/// once, by `cargo xtask bench` before its release build of the bench itself (the floor and the
/// load client use ring too).
pub(crate) fn ensure_clang(root_dir: &Path) {
    let wanted = cfg!(all(target_os = "linux", target_arch = "x86_64"));
    let installed = Command::new("clang")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !wanted || installed {
        return;
    }
    if let Err(err) = apt_install("clang (ring's C)", "clang") {
        eprintln!("bench: warning: clang not installed ({err}); ring is built by cc");
        return;
    }
    let _ = run_checked(
        Command::new("cargo").current_dir(root_dir).args([
            "clean",
            "--release",
            "--package",
            "ring",
        ]),
        "cargo clean --release --package ring",
    );
}

fn build_mailsink(root_dir: &Path, target: &Path) -> Result<PathBuf, BenchError> {
    run_checked(
        Command::new("cargo").current_dir(root_dir).args([
            "build",
            "--release",
            "-p",
            "smtp-bin",
            "--bin",
            "mailsink",
        ]),
        "mailsink (cargo build --release -p smtp-bin)",
    )?;
    Ok(target.join("release").join("mailsink"))
}

/// `smtp-source` and `smtp-sink` from Debian's `postfix`, installed with the daemon kept off.
fn postfix_tools() -> Result<(PathBuf, PathBuf), BenchError> {
    let source = PathBuf::from("/usr/sbin/smtp-source");
    let sink = PathBuf::from("/usr/sbin/smtp-sink");
    if !(source.is_file() && sink.is_file()) {
        install_postfix()?;
    }
    stop_postfix_daemon();
    Ok((source, sink))
}

fn install_postfix() -> Result<(), BenchError> {
    let tool = "postfix (smtp-source, smtp-sink)";
    let fail = |detail: String| BenchError::Install { tool, detail };
    need_root(tool, "postfix")?;
    // No configuration, and no service start: policy-rc.d answering 101 forbids it.
    let preseed = "postfix postfix/main_mailer_type select No configuration\n";
    pipe_into(Command::new("debconf-set-selections"), preseed)
        .map_err(|e| fail(format!("debconf-set-selections: {e}")))?;
    let policy = Path::new("/usr/sbin/policy-rc.d");
    let made_policy = !policy.exists();
    if made_policy {
        fs::write(policy, "#!/bin/sh\nexit 101\n").map_err(|e| fail(e.to_string()))?;
        let _ = Command::new("chmod").args(["755"]).arg(policy).status();
    }
    let result = apt_install(tool, "postfix");
    if made_policy {
        let _ = fs::remove_file(policy);
    }
    result
}

/// Installing needs root; otherwise the error says what to run first.
fn need_root(tool: &'static str, package: &str) -> Result<(), BenchError> {
    if is_root() {
        Ok(())
    } else {
        Err(BenchError::Install {
            tool,
            detail: format!("run as root, or `sudo apt-get install {package}` first"),
        })
    }
}

/// `apt-get install` of one Debian package, as root.
fn apt_install(tool: &'static str, package: &str) -> Result<(), BenchError> {
    need_root(tool, package)?;
    run_checked(
        Command::new("apt-get").args(["update", "-qq"]),
        "apt-get update",
    )?;
    run_checked(
        Command::new("apt-get")
            .env("DEBIAN_FRONTEND", "noninteractive")
            .args(["install", "-y", "-qq", "--no-install-recommends", package]),
        tool,
    )
}

/// Only the tools are used: if a Postfix master is running (a package script started it),
/// stop it.
fn stop_postfix_daemon() {
    let running = fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .any(|entry| {
            fs::read_link(entry.path().join("exe")).is_ok_and(|exe| {
                exe.ends_with("postfix/sbin/master") || exe.ends_with("postfix/master")
            })
        });
    if running {
        eprintln!("bench: stopping the Postfix daemon (only its tools are used)");
        let _ = Command::new("postfix").arg("stop").status();
    }
}

/// A virtual environment under `target/bench/tools/venv` with `aiosmtpd`.
fn aiosmtpd(work: &Path) -> Result<PathBuf, BenchError> {
    let venv = work.join("tools").join("venv");
    let python = venv.join("bin").join("python");
    let has = |python: &Path| {
        Command::new(python)
            .args(["-c", "import aiosmtpd"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if has(&python) {
        return Ok(python);
    }
    run_checked(
        Command::new("python3").args(["-m", "venv"]).arg(&venv),
        "python3 -m venv",
    )?;
    run_checked(
        Command::new(venv.join("bin").join("pip")).args(["install", "-q", "aiosmtpd"]),
        "pip install aiosmtpd",
    )?;
    if has(&python) {
        Ok(python)
    } else {
        Err(BenchError::Install {
            tool: "aiosmtpd",
            detail: "installed but does not import".to_owned(),
        })
    }
}

/// `cargo install mailtutan --locked` into `target/bench/tools`, as its users build it: outside
/// this workspace (its `.cargo/config.toml` would choose the C compiler).
fn mailtutan(work: &Path) -> Result<PathBuf, BenchError> {
    let root = work.join("tools");
    let binary = root.join("bin").join("mailtutan");
    if !binary.is_file() {
        run_checked(
            Command::new("cargo")
                .current_dir(std::env::temp_dir())
                .env_remove(C_COMPILER_VAR)
                .args(["install", "mailtutan", "--locked", "--root"])
                .arg(&root),
            "cargo install mailtutan",
        )?;
    }
    Ok(binary)
}

/// Builds `xtask/peers/mailcrab-wrapper` (its own lock file and target directory), from outside
/// this workspace as for mailtutan.
fn mailcrab(root_dir: &Path, work: &Path) -> Result<PathBuf, BenchError> {
    let manifest = root_dir.join("xtask/peers/mailcrab-wrapper/Cargo.toml");
    let target = work.join("peers");
    run_checked(
        Command::new("cargo")
            .current_dir(std::env::temp_dir())
            .env_remove("CARGO_TARGET_DIR")
            .env_remove(C_COMPILER_VAR)
            .args(["build", "--release", "--locked", "--manifest-path"])
            .arg(&manifest)
            .arg("--target-dir")
            .arg(&target),
        "the mailcrab wrapper",
    )?;
    Ok(target.join("release").join("mailcrab-wrapper"))
}

/// One self-signed ECDSA P-256 certificate for `localhost`, shared by every TLS server (mailcrab
/// reads `cert.pem` and `key.pem` from its working directory).
fn certificate(dir: &Path) -> Result<(PathBuf, PathBuf), BenchError> {
    let fail = |detail: String| BenchError::Install {
        tool: "a test certificate",
        detail,
    };
    let key_pair = rcgen::KeyPair::generate().map_err(|e| fail(e.to_string()))?;
    let params = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
        .map_err(|e| fail(e.to_string()))?;
    let cert = params
        .self_signed(&key_pair)
        .map_err(|e| fail(e.to_string()))?;
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    fs::write(&cert_path, cert.pem()).map_err(BenchError::io(cert_path.display().to_string()))?;
    fs::write(&key_path, key_pair.serialize_pem())
        .map_err(BenchError::io(key_path.display().to_string()))?;
    Ok((cert_path, key_path))
}

/// `htpasswd -B -C 10` for the AUTH cell's user.
fn password_file(work: &Path) -> Result<PathBuf, BenchError> {
    let path = work.join("tls").join("users.htpasswd");
    if path.is_file() {
        return Ok(path);
    }
    let tool = "htpasswd (Debian apache2-utils)";
    if !Path::new("/usr/bin/htpasswd").is_file() {
        apt_install(tool, "apache2-utils")?;
    }
    run_checked(
        Command::new("htpasswd")
            .args(["-B", "-C", "10", "-b", "-c"])
            .arg(&path)
            .args([AUTH_USER, AUTH_PASSWORD]),
        tool,
    )?;
    Ok(path)
}

/// Whether this build accepts `--maildir` and serves the HTTP API: start it once with each.
fn detect_features(tools: &mut Tools) {
    let spec = ServerSpec::new(Kind::Mailsink).maildir();
    match servers::start(&spec, tools, "probe-maildir") {
        Ok(server) => {
            server.stop();
            tools.maildir_ok = true;
        }
        Err(err) => tools
            .notes
            .push(format!("`--maildir` cells skipped: {err}")),
    }
    tools.api_ok = true;
    let spec = ServerSpec::new(Kind::Mailsink);
    let result = servers::start(&spec, tools, "probe-api").and_then(|server| {
        let answer = server
            .http
            .map(|http| super::api::get(http, "/api/v1/messages?limit=1"));
        server.stop();
        match answer {
            Some(Ok(reply)) if reply.status == 200 => Ok(()),
            Some(Ok(reply)) => Err(BenchError::Load(format!(
                "GET /api/v1/messages answered {}",
                reply.status
            ))),
            Some(Err(err)) => Err(err),
            None => Err(BenchError::Load("no HTTP address".to_owned())),
        }
    });
    if let Err(err) = result {
        tools.api_ok = false;
        tools.notes.push(format!("API cells skipped: {err}"));
    }
}

fn versions(root_dir: &Path, tools: &Tools) -> Vec<(String, String)> {
    let output = |program: &Path, args: &[&str]| {
        Command::new(program)
            .args(args)
            .stderr(Stdio::null())
            .output()
            .ok()
            .map(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .lines()
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_owned()
            })
            .filter(|v| !v.is_empty())
    };
    let mut list = vec![(
        "mailsink".to_owned(),
        output(&tools.mailsink, &["--version"]),
    )];
    if let Some(path) = &tools.baseline {
        list.push(("mailsink baseline".to_owned(), output(path, &["--version"])));
    }
    // The compiler `.cargo/c-compiler` gives ring here.
    list.push((
        "C compiler for ring in mailsink, the floor and the load client (`.cargo/c-compiler`; the peers are built as `cargo install` builds them)".to_owned(),
        output(&root_dir.join(C_COMPILER), &["--version"]),
    ));
    list.extend([
        (
            "rustc".to_owned(),
            output(Path::new("rustc"), &["--version"]),
        ),
        (
            "postfix (smtp-source, smtp-sink)".to_owned(),
            output(
                Path::new("dpkg-query"),
                &["-W", "-f", "${Version}", "postfix"],
            ),
        ),
    ]);
    if let Some(path) = &tools.mailtutan {
        list.push(("mailtutan".to_owned(), output(path, &["--version"])));
    }
    if tools.mailcrab.is_some() {
        list.push(("mailcrab (crate)".to_owned(), mailcrab_version()));
    }
    if let Some(python) = &tools.python {
        let v = output(
            python,
            &["-c", "import sys, aiosmtpd; print(aiosmtpd.__version__, 'on Python', sys.version.split()[0])"],
        );
        list.push(("aiosmtpd".to_owned(), v));
    }
    list.into_iter()
        .map(|(name, v)| (name, v.unwrap_or_else(|| "unknown".to_owned())))
        .collect()
}

/// The mailcrab version pinned in the wrapper's lock file.
fn mailcrab_version() -> Option<String> {
    let lock = include_str!("../../peers/mailcrab-wrapper/Cargo.lock");
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"mailcrab\"" {
            return lines
                .next()
                .and_then(|v| v.strip_prefix("version = "))
                .map(|v| v.trim_matches('"').to_owned());
        }
    }
    None
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn run_checked(command: &mut Command, what: &'static str) -> Result<(), BenchError> {
    eprintln!("bench: $ {command:?}");
    let status = command.status().map_err(|e| BenchError::Install {
        tool: what,
        detail: e.to_string(),
    })?;
    if status.success() {
        Ok(())
    } else {
        Err(BenchError::Install {
            tool: what,
            detail: format!("exited with {status}"),
        })
    }
}

fn pipe_into(mut command: Command, input: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut child = command.stdin(Stdio::piped()).spawn()?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(input.as_bytes())?;
    }
    let status = child.wait()?;
    if status.success() {
        Ok(())
    } else {
        Err(std::io::Error::other(format!("exited with {status}")))
    }
}

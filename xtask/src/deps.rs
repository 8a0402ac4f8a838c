//! Installs the real client tools the end-to-end tests drive, when they are missing.
//!
//! The lists are the one place that says what the tests need; `.ci/run` calls this through
//! `cargo xtask ci`. Debian packages need root (without it this only reports what is missing);
//! the Python and npm clients install as any user.

use std::path::PathBuf;
use std::process::Command;

/// (command that must exist, Debian package that provides it).
const DEBIAN: &[(&str, &str)] = &[
    ("swaks", "swaks"),
    ("openssl", "openssl"),
    ("curl", "curl"),
    ("python3", "python3"),
    ("htpasswd", "apache2-utils"),
    ("pip3", "python3-pip"),
    ("node", "nodejs"),
    ("npm", "npm"),
    // The browser the web page tests drive (through playwright-core, never a downloaded one).
    ("chromium", "chromium"),
];

/// (Perl module that must load, Debian package): swaks needs these for CRAM-MD5 and TLS.
const PERL: &[(&str, &str)] = &[
    ("Digest::HMAC_MD5", "libdigest-hmac-perl"),
    ("Net::SSLeay", "libnet-ssleay-perl"),
    ("IO::Socket::SSL", "libio-socket-ssl-perl"),
];

/// (module that must import, pinned PyPI requirement): Python API clients the tests drive.
const PYPI: &[(&str, &str)] = &[("mailpit.client.api", "mailpit-api-client==1.0.0")];

/// The npm projects (under the workspace root), each pinned by its committed
/// `package-lock.json`, and a package that shows it is installed: the JavaScript API clients,
/// and playwright-core for the web page tests.
const NPM_PROJECTS: &[(&str, &str)] = &[
    ("tests/js", "node_modules/mailpit-api/package.json"),
    ("tests/browser", "node_modules/playwright-core/package.json"),
];

pub(crate) fn install() -> Result<(), String> {
    install_debian()?;
    install_pypi()?;
    install_npm()
}

fn install_debian() -> Result<(), String> {
    let mut missing: Vec<&str> = DEBIAN
        .iter()
        .filter(|(tool, _)| !on_path(tool))
        .map(|&(_, package)| package)
        .collect();
    missing.extend(
        PERL.iter()
            .filter(|(module, _)| !perl_has(module))
            .map(|&(_, package)| package),
    );
    if missing.is_empty() {
        return Ok(());
    }
    if !is_root() {
        return Err(format!(
            "the tests need these Debian packages: {}; install them with `sudo apt-get install {}`",
            missing.join(" "),
            missing.join(" ")
        ));
    }
    crate::run("apt-get", &["update", "-qq"])?;
    let mut args = vec!["install", "-y", "-qq", "--no-install-recommends"];
    args.extend(&missing);
    crate::run("apt-get", &args)
}

fn perl_has(module: &str) -> bool {
    Command::new("perl")
        .args([&format!("-M{module}"), "-e", "1"])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn install_pypi() -> Result<(), String> {
    for &(module, requirement) in PYPI {
        let importable = Command::new("python3")
            .args(["-c", &format!("import {module}")])
            .output()
            .is_ok_and(|o| o.status.success());
        if importable {
            continue;
        }
        let pip = ["-m", "pip", "install", "--quiet", requirement];
        // A distribution's own Python refuses plain installs (PEP 668); the tests only need
        // the package importable, so fall back to overriding that.
        crate::run("python3", &pip).or_else(|_| {
            let mut args = pip.to_vec();
            args.push("--break-system-packages");
            crate::run("python3", &args)
        })?;
    }
    Ok(())
}

fn install_npm() -> Result<(), String> {
    for &(project, marker) in NPM_PROJECTS {
        let dir = workspace_root().join(project);
        if dir.join(marker).is_file() {
            continue;
        }
        eprintln!("$ npm ci (in {project})");
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .status()
            .map_err(|err| format!("cannot run npm: {err}"))?;
        if !status.success() {
            return Err(format!("`npm ci` in {project} failed ({status})"));
        }
    }
    Ok(())
}

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), PathBuf::from)
}

fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(tool).is_file()))
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

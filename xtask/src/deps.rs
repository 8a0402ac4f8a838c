//! Installs the real client tools the end-to-end tests drive, when they are missing.
//!
//! The list is the one place that says what the tests need; `.ci/run` calls this through
//! `cargo xtask ci`. Without root it only reports what is missing.

use std::process::Command;

/// (command that must exist, Debian package that provides it).
const DEBIAN: &[(&str, &str)] = &[
    ("swaks", "swaks"),
    ("openssl", "openssl"),
    ("curl", "curl"),
    ("python3", "python3"),
    ("htpasswd", "apache2-utils"),
];

pub(crate) fn install() -> Result<(), String> {
    let missing: Vec<&str> = DEBIAN
        .iter()
        .filter(|(tool, _)| !on_path(tool))
        .map(|&(_, package)| package)
        .collect();
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

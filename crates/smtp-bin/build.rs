//! Links the `mailsink` binary with packed relative relocations (`-z pack-relative-relocs`,
//! `DT_RELR`) when the C library that will load it understands them.
//!
//! The binary is position independent, so the dynamic loader applies about 11,000 relative
//! relocations at every start. As `RELA` entries they take 24 bytes each: 270 KiB of the file,
//! all read before `main`, and resident for the life of the process. As `RELR` bitmaps they
//! take 4 KiB; the server starts the same and idles about 0.3 MiB lighter
//! (docs/benchmarks.md, fifth round). glibc loads `RELR` from 2.36 on (Debian 12, Ubuntu
//! 22.10, Fedora 37); an older glibc refuses such a binary at start, so the flag is passed only
//! when building for the machine that builds, on a glibc that says it is new enough. Anything
//! else (cross builds, musl, other systems, no `getconf`) links as before.
//! `MAILSINK_NO_RELR=1` turns it off for a binary meant to be copied to older systems.

use std::env;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=MAILSINK_NO_RELR");
    if env::var_os("MAILSINK_NO_RELR").is_some_and(|v| v != "0") {
        return;
    }
    let var = |name: &str| env::var(name).unwrap_or_default();
    let native = var("TARGET") == var("HOST");
    if native
        && var("CARGO_CFG_TARGET_OS") == "linux"
        && var("CARGO_CFG_TARGET_ENV") == "gnu"
        && glibc_version().is_some_and(|version| version >= (2, 36))
    {
        println!("cargo:rustc-link-arg-bin=mailsink=-Wl,-z,pack-relative-relocs");
    }
}

/// The running glibc's version, from `getconf GNU_LIBC_VERSION` ("glibc 2.36").
fn glibc_version() -> Option<(u32, u32)> {
    let output = Command::new("getconf")
        .arg("GNU_LIBC_VERSION")
        .output()
        .ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    let (major, rest) = text.trim().strip_prefix("glibc ")?.split_once('.')?;
    let minor: String = rest.chars().take_while(char::is_ascii_digit).collect();
    Some((major.parse().ok()?, minor.parse().ok()?))
}

//! `.cargo/c-compiler`, the C compiler cargo hands to ring's build on x86_64 Linux: the caller's
//! compiler first (`TARGET_CC`, then `CC`), then clang where installed, then `cc`, with every
//! argument passed on untouched. Run against fake compilers that print what they got, so the
//! machine's own compilers do not decide the outcome.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where the script chooses clang: anywhere else it never does.
const PREFERS_CLANG: bool = cfg!(all(target_os = "linux", target_arch = "x86_64"));

/// The arguments each run passes; one has a space, which must survive.
const ARGS: [&str; 4] = ["-c", "dir with space/a.c", "-o", "a.o"];

/// A directory to serve as the whole `PATH`: fake compilers and the real `uname`.
struct FakeBin(PathBuf);

impl FakeBin {
    fn new(test: &str, compilers: &[&str]) -> Self {
        let dir =
            std::env::temp_dir().join(format!("mailsink-c-compiler-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("fake bin directory");
        for name in compilers {
            let path = dir.join(name);
            // Prints its own name, then each argument on a line of its own.
            std::fs::write(
                &path,
                format!("#!/bin/sh\necho {name}\nfor a in \"$@\"; do echo \"$a\"; done\n"),
            )
            .expect("fake compiler");
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
                .expect("make it executable");
        }
        std::os::unix::fs::symlink(real_uname(), dir.join("uname")).expect("uname");
        Self(dir)
    }

    /// The script's output with only this directory on `PATH` and `env` set.
    fn run(&self, env: &[(&str, &str)]) -> Vec<String> {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.cargo/c-compiler");
        let output = Command::new(&script)
            .args(ARGS)
            .env_clear()
            .env("PATH", &self.0)
            .envs(env.iter().copied())
            .output()
            .expect("run .cargo/c-compiler");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout)
            .expect("utf-8")
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

impl Drop for FakeBin {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn real_uname() -> PathBuf {
    ["/usr/bin/uname", "/bin/uname"]
        .iter()
        .map(PathBuf::from)
        .find(|path| path.is_file())
        .expect("uname")
}

/// What a compiler called `name` prints when given `extra` and then the test's arguments.
fn called(name: &str, extra: &[&str]) -> Vec<String> {
    std::iter::once(name)
        .chain(extra.iter().copied())
        .chain(ARGS)
        .map(str::to_owned)
        .collect()
}

#[test]
fn clang_where_installed_and_cc_otherwise() {
    let both = FakeBin::new("both", &["clang", "cc"]);
    let expected = if PREFERS_CLANG { "clang" } else { "cc" };
    assert_eq!(both.run(&[]), called(expected, &[]));
    let cc_only = FakeBin::new("cc-only", &["cc"]);
    assert_eq!(cc_only.run(&[]), called("cc", &[]));
}

#[test]
fn the_callers_compiler_wins_with_its_own_arguments() {
    let bin = FakeBin::new("callers", &["clang", "cc", "mycc", "crosscc"]);
    assert_eq!(bin.run(&[("CC", "mycc -DONE")]), called("mycc", &["-DONE"]));
    assert_eq!(
        bin.run(&[("CC", "mycc"), ("TARGET_CC", "crosscc")]),
        called("crosscc", &[])
    );
    // Set but empty is not a choice.
    assert_eq!(bin.run(&[("CC", ""), ("TARGET_CC", "")]), bin.run(&[]));
}

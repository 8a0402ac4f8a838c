//! Start-up validation: each refused flag combination exits 1 with one line in Mailpit's words.

use mailsink_tests::{run_mailsink, TempDir};

fn refused(args: &[&str], env: &[(&str, &str)], expected: &str) {
    let out = run_mailsink(args, env);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{args:?} {env:?} should exit 1: {stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(
        stderr.contains(expected),
        "{args:?}: expected {expected:?} in {stderr:?}"
    );
}

fn temp_file(dir: &TempDir, name: &str, contents: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, contents).expect("write temp file");
    path.to_string_lossy().into_owned()
}

/// Arguments, environment, and the text the one error line must contain.
type Case<'a> = (Vec<String>, Vec<(&'a str, &'a str)>, &'a str);

#[test]
fn refused_combinations_exit_1_with_mailpit_text() {
    let dir = TempDir::new("startup");
    let cert = temp_file(&dir, "cert.pem", "not really a cert");
    let auth = temp_file(&dir, "auth", "user:pass\n");
    let smtp = ["--smtp", "127.0.0.1:0"];
    let with = |extra: &[&str]| -> Vec<String> {
        smtp.iter().chain(extra).map(|s| (*s).to_owned()).collect()
    };
    let cases: Vec<Case> = vec![
        (with(&["--smtp-tls-cert", &cert]), vec![], "[smtp] You must provide both an SMTP TLS certificate and a key"),
        (with(&["--smtp-tls-key", &cert]), vec![], "[smtp] You must provide both an SMTP TLS certificate and a key"),
        (with(&["--smtp-tls-cert", "/nonexistent/cert.pem", "--smtp-tls-key", &cert]), vec![], "[smtp] TLS certificate not found or readable: /nonexistent/cert.pem"),
        (with(&["--smtp-tls-cert", &cert, "--smtp-tls-key", "/nonexistent/key.pem"]), vec![], "[smtp] TLS key not found or readable: /nonexistent/key.pem"),
        (with(&["--smtp-require-tls"]), vec![], "[smtp] TLS cannot be required without an SMTP TLS certificate and key"),
        (with(&["--smtp-require-starttls"]), vec![], "[smtp] STARTTLS cannot be required without an SMTP TLS certificate and key"),
        (with(&["--smtp-tls-cert", "sans:localhost", "--smtp-tls-key", "sans:localhost", "--smtp-require-tls", "--smtp-require-starttls"]), vec![], "[smtp] TLS & STARTTLS cannot be required together"),
        (with(&["--smtp-tls-cert", "sans:localhost", "--smtp-tls-key", "sans:localhost", "--smtp-require-starttls", "--smtp-auth-allow-insecure"]), vec![], "[smtp] TLS cannot be required with --smtp-auth-allow-insecure"),
        (with(&["--smtp-auth-file", "/nonexistent/auth"]), vec![], "[smtp] password file not found or readable: /nonexistent/auth"),
        (with(&["--smtp-auth-file", &auth, "--smtp-auth-accept-any", "--smtp-auth-allow-insecure"]), vec![], "[smtp] authentication cannot use both credentials and --smtp-auth-accept-any"),
        (with(&["--smtp-auth-accept-any"]), vec![("MP_SMTP_AUTH", "u:p")], "[smtp] authentication cannot use both credentials and --smtp-auth-accept-any"),
        (with(&["--smtp-auth-file", &auth]), vec![], "[smtp] authentication requires STARTTLS or TLS encryption, run with `--smtp-auth-allow-insecure` to allow insecure authentication"),
        (with(&["--smtp-auth-accept-any"]), vec![], "[smtp] authentication requires STARTTLS or TLS encryption"),
        (with(&["--smtp-allowed-recipients", "(unclosed"]), vec![], "[smtp] failed to compile smtp-allowed-recipients regexp"),
        (vec!["--smtp".into(), "not-an-address".into()], vec![], "bind should be in the format of <ip>:<port>"),
        (with(&["--no-such-flag"]), vec![], "--no-such-flag"),
        (with(&["--smtp-tls-cert", &cert, "--smtp-tls-key", &cert]), vec![], "[smtp]"),
        (with(&["--maildir", &cert]), vec![], "[db] cannot open Maildir"),
        (with(&[]), vec![("MP_SMTP_REQUIRE_TLS", "maybe")], "MP_SMTP_REQUIRE_TLS"),
    ];
    for (args, env, expected) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        refused(&args, &env, expected);
    }
}

#[test]
fn help_and_version_exit_0() {
    let help = run_mailsink(&["--help"], &[]);
    assert_eq!(help.status.code(), Some(0));
    let text = String::from_utf8_lossy(&help.stdout);
    for flag in [
        "--smtp",
        "--smtp-tls-cert",
        "--smtp-auth-file",
        "--max-message-size",
        "MP_SMTP_BIND_ADDR",
    ] {
        assert!(text.contains(flag), "--help mentions {flag}");
    }
    let version = run_mailsink(&["--version"], &[]);
    assert_eq!(version.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("mailsink "));
}

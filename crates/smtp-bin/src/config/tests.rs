//! Tests of the configuration layer: defaults, every flag and variable, precedence, and each
//! refused combination with its exact message.

use std::collections::HashMap;
use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::*;

// ---- helpers -------------------------------------------------------------------------------

fn invoke(args: &[&str], env: &[(&str, &str)]) -> Result<Invocation, ConfigError> {
    let env: HashMap<String, String> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let lookup = move |name: &str| env.get(name).cloned();
    parse(args.iter().map(OsString::from).collect(), &lookup)
}

fn config(args: &[&str], env: &[(&str, &str)]) -> Config {
    match invoke(args, env) {
        Ok(Invocation::Run(config)) => *config,
        other => panic!("expected a config for {args:?} {env:?}, got {other:?}"),
    }
}

fn error(args: &[&str], env: &[(&str, &str)]) -> String {
    match invoke(args, env) {
        Err(error) => {
            let line = error.to_string();
            assert!(
                !line.contains('\n') && !line.contains('\r'),
                "not one line: {line:?}"
            );
            line
        }
        Ok(other) => panic!("expected an error for {args:?} {env:?}, got {other:?}"),
    }
}

fn addr(text: &str) -> SocketAddr {
    text.parse().unwrap()
}

/// A directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("mailsink-config-test-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    /// Creates a file and returns its path as a string for the command line.
    fn file(&self, name: &str) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, "contents are not read here\n").unwrap();
        path.to_str().unwrap().to_owned()
    }

    fn missing(&self, name: &str) -> String {
        self.0.join(name).to_str().unwrap().to_owned()
    }

    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A temp dir holding `cert.pem`, `key.pem` and `users.htpasswd`.
/// The flags naming a certificate and key.
fn tls_flags<'a>(cert: &'a str, key: &'a str) -> [&'a str; 4] {
    ["--smtp-tls-cert", cert, "--smtp-tls-key", key]
}

fn with_files() -> (TempDir, String, String, String) {
    let dir = TempDir::new();
    let cert = dir.file("cert.pem");
    let key = dir.file("key.pem");
    let users = dir.file("users.htpasswd");
    (dir, cert, key, users)
}

// ---- defaults ------------------------------------------------------------------------------

#[test]
fn defaults_match_the_documented_values() {
    let c = config(&[], &[]);
    assert_eq!(c.smtp_addr, addr("[::]:1025"));
    assert!(c.smtp_addr_is_default);
    assert_eq!(c.smtp_fallback_addr(), Some(addr("0.0.0.0:1025")));
    assert_eq!(c.http_addr, addr("[::]:8025"));
    assert!(c.http_addr_is_default);
    assert_eq!(c.http_fallback_addr(), Some(addr("0.0.0.0:8025")));
    assert!(!c.hostname.is_empty());
    assert_eq!(c.max_connections, 256);
    assert_eq!(c.max_recipients, 100);
    assert!(c.allowed_recipients.is_none());
    assert_eq!(c.max_message_size, 50 * 1024 * 1024);
    assert_eq!(c.message_size_limit(), 50 * 1024 * 1024);
    assert_eq!(c.command_timeout, Duration::from_secs(300));
    assert_eq!(c.data_timeout, Duration::from_secs(180));
    assert!(!c.smtp_trace);
    assert!(c.tls.is_none());
    assert!(!c.require_starttls);
    assert!(!c.require_tls);
    assert!(c.smtps_addr.is_none());
    assert_eq!(c.tls_handshake_timeout, Duration::from_secs(10));
    assert!(c.auth.is_none());
    assert!(!c.auth_accept_any);
    assert!(!c.auth_allow_insecure);
    assert_eq!(c.max_messages, 500);
    assert!(c.max_age.is_none());
    assert!(c.maildir.is_none());
    assert!(c.ui_auth.is_none());
    assert!(c.api_cors.is_none());
    assert!(c.label.is_none());
    assert!(!c.verbose);
    assert!(!c.quiet);
    assert_eq!(c.shutdown_timeout, Duration::from_secs(10));
    assert_eq!(c.tls_mode(), TlsMode::NoEncryption);
}

#[test]
fn default_hostname_is_a_usable_name() {
    let name = config(&[], &[]).hostname;
    assert!(
        name.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)),
        "{name}"
    );
}

// ---- every flag and its variable -----------------------------------------------------------

/// (flag, env var, value, check on the resulting config)
type Case = (
    &'static str,
    &'static str,
    &'static str,
    fn(&Config) -> bool,
);

const VALUE_CASES: &[Case] = &[
    ("--smtp", "MP_SMTP_BIND_ADDR", "127.0.0.1:2525", |c| {
        c.smtp_addr == addr("127.0.0.1:2525") && !c.smtp_addr_is_default
    }),
    ("--listen", "MP_UI_BIND_ADDR", "127.0.0.1:8080", |c| {
        c.http_addr == addr("127.0.0.1:8080") && c.http_fallback_addr().is_none()
    }),
    ("--hostname", "MP_HOSTNAME", "mx.example.test", |c| {
        c.hostname == "mx.example.test"
    }),
    (
        "--smtp-max-connections",
        "MP_SMTP_MAX_CONNECTIONS",
        "7",
        |c| c.max_connections == 7,
    ),
    (
        "--smtp-max-recipients",
        "MP_SMTP_MAX_RECIPIENTS",
        "3",
        |c| c.max_recipients == 3,
    ),
    (
        "--smtp-allowed-recipients",
        "MP_SMTP_ALLOWED_RECIPIENTS",
        "@example\\.test$",
        |c| {
            let re = c.allowed_recipients.as_ref().unwrap();
            re.is_match("a@example.test") && !re.is_match("a@example.com")
        },
    ),
    ("--max-message-size", "MP_MAX_MESSAGE_SIZE", "2", |c| {
        c.max_message_size == 2 << 20
    }),
    ("--smtp-timeout", "MP_SMTP_TIMEOUT", "12", |c| {
        c.command_timeout == Duration::from_secs(12)
    }),
    ("--smtp-data-timeout", "MP_SMTP_DATA_TIMEOUT", "0.5", |c| {
        c.data_timeout == Duration::from_millis(500)
    }),
    (
        "--smtp-tls-handshake-timeout",
        "MP_SMTP_TLS_HANDSHAKE_TIMEOUT",
        "2.25",
        |c| c.tls_handshake_timeout == Duration::from_millis(2250),
    ),
    ("--shutdown-timeout", "MP_SHUTDOWN_TIMEOUT", "0", |c| {
        c.shutdown_timeout.is_zero()
    }),
    ("--max", "MP_MAX_MESSAGES", "0", |c| c.max_messages == 0),
    ("--max-age", "MP_MAX_AGE", "3d", |c| {
        c.max_age == Some(Duration::from_secs(3 * 86400))
    }),
    ("--maildir", "MP_MAILDIR", "/var/mail/sink", |c| {
        c.maildir.as_deref() == Some(Path::new("/var/mail/sink"))
    }),
    (
        "--api-cors",
        "MP_API_CORS",
        "https://app.example.test",
        |c| c.api_cors.as_deref() == Some("https://app.example.test"),
    ),
    ("--label", "MP_LABEL", "  CI   runner\t7 ", |c| {
        c.label.as_deref() == Some("CI runner 7")
    }),
];

#[test]
fn every_value_flag_works_from_the_command_line_in_both_forms() {
    for (flag, _, value, check) in VALUE_CASES {
        assert!(check(&config(&[flag, value], &[])), "{flag} {value}");
        let joined = format!("{flag}={value}");
        assert!(check(&config(&[&joined], &[])), "{joined}");
    }
}

#[test]
fn every_value_flag_works_from_its_variable() {
    for (_, env, value, check) in VALUE_CASES {
        assert!(check(&config(&[], &[(env, value)])), "{env}={value}");
    }
}

#[test]
fn short_aliases_are_mailpits() {
    let c = config(
        &["-s", "127.0.0.1:1", "-l", "127.0.0.1:2", "-m", "9", "-v"],
        &[],
    );
    assert_eq!(c.smtp_addr, addr("127.0.0.1:1"));
    assert_eq!(c.http_addr, addr("127.0.0.1:2"));
    assert_eq!(c.max_messages, 9);
    assert!(c.verbose);
    assert!(config(&["-q"], &[]).quiet);
    assert!(matches!(invoke(&["-h"], &[]), Ok(Invocation::Help)));
    assert_eq!(error(&["-V"], &[]), "unknown flag: -V");
}

/// (flag, env var, check on the resulting config)
type SwitchCase = (&'static str, &'static str, fn(&Config) -> bool);

const SWITCH_CASES: &[SwitchCase] = &[
    ("--smtp-trace", "MP_SMTP_TRACE", |c| c.smtp_trace),
    ("--verbose", "MP_VERBOSE", |c| c.verbose),
    ("--quiet", "MP_QUIET", |c| c.quiet),
    (
        "--smtp-auth-allow-insecure",
        "MP_SMTP_AUTH_ALLOW_INSECURE",
        |c| c.auth_allow_insecure,
    ),
];

#[test]
fn every_standalone_switch_works_from_flag_and_variable() {
    for (flag, env, check) in SWITCH_CASES {
        assert!(!check(&config(&[], &[])), "{flag} off by default");
        assert!(check(&config(&[flag], &[])), "{flag}");
        assert!(check(&config(&[], &[(env, "1")])), "{env}");
    }
}

#[test]
fn tls_and_auth_switches_work_from_flag_and_variable() {
    let (_dir, cert, key, _) = with_files();
    let tls = [
        ("MP_SMTP_TLS_CERT", cert.as_str()),
        ("MP_SMTP_TLS_KEY", key.as_str()),
    ];
    let with = |extra: (&'static str, &'static str)| [tls[0], tls[1], extra];

    assert!(config(&["--smtp-require-tls"], &tls).require_tls);
    assert!(config(&[], &with(("MP_SMTP_REQUIRE_TLS", "yes"))).require_tls);
    assert!(config(&["--smtp-require-starttls"], &tls).require_starttls);
    assert!(config(&[], &with(("MP_SMTP_REQUIRE_STARTTLS", "true"))).require_starttls);
    assert!(config(&["--smtp-auth-accept-any"], &tls).auth_accept_any);
    assert!(config(&[], &with(("MP_SMTP_AUTH_ACCEPT_ANY", "1"))).auth_accept_any);
}

#[test]
fn tls_files_from_flags_and_variables() {
    let (_dir, cert, key, _) = with_files();
    let expected = TlsSource::Files {
        cert: cert.clone().into(),
        key: key.clone().into(),
    };
    let from_flags = config(&["--smtp-tls-cert", &cert, "--smtp-tls-key", &key], &[]);
    assert_eq!(from_flags.tls.as_ref(), Some(&expected));
    assert_eq!(from_flags.tls_mode(), TlsMode::StartTlsOptional);
    let from_env = config(
        &[],
        &[("MP_SMTP_TLS_CERT", &cert), ("MP_SMTP_TLS_KEY", &key)],
    );
    assert_eq!(from_env.tls, Some(expected));
}

#[test]
fn smtps_listener_from_flag_and_variable() {
    let (_dir, cert, key, _) = with_files();
    let tls = tls_flags(&cert, &key);
    let c = config(&[&tls[..], &["--smtps", "127.0.0.1:4650"]].concat(), &[]);
    assert_eq!(c.smtps_addr, Some(addr("127.0.0.1:4650")));
    let c = config(&tls, &[("MP_SMTPS_BIND_ADDR", "127.0.0.1:4651")]);
    assert_eq!(c.smtps_addr, Some(addr("127.0.0.1:4651")));
}

#[test]
fn smtp_auth_file_and_inline_credentials() {
    let (_dir, cert, key, users) = with_files();
    let tls = tls_flags(&cert, &key);
    let c = config(&[&tls[..], &["--smtp-auth-file", &users]].concat(), &[]);
    assert!(matches!(&c.auth, Some(AuthSource::File(path)) if path == Path::new(&users)));
    let c = config(&tls, &[("MP_SMTP_AUTH_FILE", &users)]);
    assert!(matches!(&c.auth, Some(AuthSource::File(path)) if path == Path::new(&users)));
    let c = config(&tls, &[("MP_SMTP_AUTH", "alice:s3cret bob:hunter2")]);
    match &c.auth {
        Some(AuthSource::Inline(secret)) => {
            assert_eq!(secret.expose_secret(), "alice:s3cret bob:hunter2")
        }
        other => panic!("expected inline credentials, got {other:?}"),
    }
}

#[test]
fn blank_inline_credentials_are_no_credentials() {
    assert!(config(&[], &[("MP_SMTP_AUTH", "   ")]).auth.is_none());
    assert!(config(&[], &[("MP_UI_AUTH", "")]).ui_auth.is_none());
}

#[test]
fn ui_auth_file_and_inline_credentials() {
    let (_dir, _, _, users) = with_files();
    let c = config(&["--ui-auth-file", &users], &[]);
    assert!(matches!(&c.ui_auth, Some(AuthSource::File(path)) if path == Path::new(&users)));
    let c = config(&[], &[("MP_UI_AUTH_FILE", &users)]);
    assert!(matches!(&c.ui_auth, Some(AuthSource::File(_))));
    let c = config(&[], &[("MP_UI_AUTH", "viewer:pw")]);
    assert!(matches!(&c.ui_auth, Some(AuthSource::Inline(s)) if s.expose_secret() == "viewer:pw"));
}

// ---- precedence and booleans ---------------------------------------------------------------

#[test]
fn a_flag_overrides_its_variable() {
    let env = [
        ("MP_SMTP_BIND_ADDR", "127.0.0.1:1111"),
        ("MP_MAX_MESSAGES", "1"),
        ("MP_LABEL", "from env"),
        ("MP_SMTP_TIMEOUT", "1"),
    ];
    let c = config(
        &[
            "--smtp",
            "127.0.0.1:2222",
            "--max",
            "2",
            "--label",
            "from flag",
            "--smtp-timeout=3",
        ],
        &env,
    );
    assert_eq!(c.smtp_addr, addr("127.0.0.1:2222"));
    assert_eq!(c.max_messages, 2);
    assert_eq!(c.label.as_deref(), Some("from flag"));
    assert_eq!(c.command_timeout, Duration::from_secs(3));
}

#[test]
fn a_switch_value_on_the_command_line_overrides_its_variable() {
    assert!(!config(&["--smtp-trace=false"], &[("MP_SMTP_TRACE", "1")]).smtp_trace);
    assert!(config(&["--verbose=yes"], &[("MP_VERBOSE", "no")]).verbose);
    assert!(config(&["--verbose"], &[("MP_VERBOSE", "0")]).verbose);
}

#[test]
fn env_booleans_accept_mailpits_words_in_any_case() {
    for word in ["1", "true", "yes", "TRUE", "Yes", "tRuE"] {
        assert!(config(&[], &[("MP_VERBOSE", word)]).verbose, "{word}");
    }
    for word in ["0", "false", "no", "", "FALSE", "No"] {
        assert!(!config(&[], &[("MP_VERBOSE", word)]).verbose, "{word}");
    }
}

#[test]
fn other_env_boolean_words_are_refused_naming_the_variable() {
    assert_eq!(
        error(&[], &[("MP_SMTP_TRACE", "on")]),
        r#"invalid value "on" for MP_SMTP_TRACE: expected 1, true, yes, 0, false or no"#
    );
    assert_eq!(
        error(&["--quiet=maybe"], &[]),
        r#"invalid value "maybe" for --quiet: expected 1, true, yes, 0, false or no"#
    );
}

#[test]
fn empty_variables_count_as_unset() {
    let c = config(
        &[],
        &[
            ("MP_SMTP_BIND_ADDR", ""),
            ("MP_LABEL", ""),
            ("MP_MAX_MESSAGES", ""),
        ],
    );
    assert!(c.smtp_addr_is_default);
    assert!(c.label.is_none());
    assert_eq!(c.max_messages, 500);
}

// ---- Mailpit's start-up checks, exact texts --------------------------------------------------

#[test]
fn cert_without_key_and_key_without_cert() {
    let (_dir, cert, key, _) = with_files();
    let want = "[smtp] You must provide both an SMTP TLS certificate and a key";
    assert_eq!(error(&["--smtp-tls-cert", &cert], &[]), want);
    assert_eq!(error(&["--smtp-tls-key", &key], &[]), want);
    assert_eq!(error(&[], &[("MP_SMTP_TLS_KEY", "sans:localhost")]), want);
}

#[test]
fn missing_or_unreadable_cert_and_key() {
    let (dir, cert, key, _) = with_files();
    let missing = dir.missing("nope.pem");
    assert_eq!(
        error(&["--smtp-tls-cert", &missing, "--smtp-tls-key", &key], &[]),
        format!("[smtp] TLS certificate not found or readable: {missing}")
    );
    assert_eq!(
        error(&["--smtp-tls-cert", &cert, "--smtp-tls-key", &missing], &[]),
        format!("[smtp] TLS key not found or readable: {missing}")
    );
    // A directory exists but is not a readable file (root can read any mode, so no chmod here).
    assert_eq!(
        error(
            &["--smtp-tls-cert", dir.path(), "--smtp-tls-key", &key],
            &[]
        ),
        format!(
            "[smtp] TLS certificate not found or readable: {}",
            dir.path()
        )
    );
}

#[test]
fn requiring_tls_without_a_cert() {
    assert_eq!(
        error(&["--smtp-require-tls"], &[]),
        "[smtp] TLS cannot be required without an SMTP TLS certificate and key"
    );
    assert_eq!(
        error(&[], &[("MP_SMTP_REQUIRE_STARTTLS", "1")]),
        "[smtp] STARTTLS cannot be required without an SMTP TLS certificate and key"
    );
    // Mailpit reports require-tls first when both are set.
    assert_eq!(
        error(&["--smtp-require-starttls", "--smtp-require-tls"], &[]),
        "[smtp] TLS cannot be required without an SMTP TLS certificate and key"
    );
}

#[test]
fn requiring_tls_with_allow_insecure() {
    let (_dir, cert, key, _) = with_files();
    let tls = tls_flags(&cert, &key);
    let want = "[smtp] TLS cannot be required with --smtp-auth-allow-insecure";
    for require in ["--smtp-require-tls", "--smtp-require-starttls"] {
        let args = [&tls[..], &[require, "--smtp-auth-allow-insecure"]].concat();
        assert_eq!(error(&args, &[]), want, "{require}");
    }
}

#[test]
fn requiring_tls_and_starttls_together() {
    let (_dir, cert, key, _) = with_files();
    let args = [
        "--smtp-tls-cert",
        &cert,
        "--smtp-tls-key",
        &key,
        "--smtp-require-tls",
        "--smtp-require-starttls",
    ];
    assert_eq!(
        error(&args, &[]),
        "[smtp] TLS & STARTTLS cannot be required together"
    );
}

#[test]
fn missing_or_unreadable_smtp_password_file() {
    let (dir, cert, key, _) = with_files();
    let missing = dir.missing("absent.htpasswd");
    let args = [
        "--smtp-tls-cert",
        &cert,
        "--smtp-tls-key",
        &key,
        "--smtp-auth-file",
        &missing,
    ];
    assert_eq!(
        error(&args, &[]),
        format!("[smtp] password file not found or readable: {missing}")
    );
    assert_eq!(
        error(
            &["--smtp-auth-allow-insecure"],
            &[("MP_SMTP_AUTH_FILE", dir.path())]
        ),
        format!("[smtp] password file not found or readable: {}", dir.path())
    );
}

#[test]
fn credentials_with_accept_any() {
    let (_dir, cert, key, users) = with_files();
    let want = "[smtp] authentication cannot use both credentials and --smtp-auth-accept-any";
    let args = [
        "--smtp-tls-cert",
        &cert,
        "--smtp-tls-key",
        &key,
        "--smtp-auth-file",
        &users,
        "--smtp-auth-accept-any",
    ];
    assert_eq!(error(&args, &[]), want);
    let env = [("MP_SMTP_AUTH", "a:b"), ("MP_SMTP_AUTH_ACCEPT_ANY", "1")];
    assert_eq!(error(&["--smtp-auth-allow-insecure"], &env), want);
}

#[test]
fn auth_without_encryption() {
    let (_dir, _, _, users) = with_files();
    let want = "[smtp] authentication requires STARTTLS or TLS encryption, \
                run with `--smtp-auth-allow-insecure` to allow insecure authentication";
    assert_eq!(error(&["--smtp-auth-file", &users], &[]), want);
    assert_eq!(error(&[], &[("MP_SMTP_AUTH", "a:b")]), want);
    assert_eq!(error(&["--smtp-auth-accept-any"], &[]), want);
    // ... and allowed with --smtp-auth-allow-insecure.
    let c = config(
        &["--smtp-auth-accept-any", "--smtp-auth-allow-insecure"],
        &[],
    );
    assert!(c.auth_accept_any && c.auth_allow_insecure);
    assert_eq!(c.tls_mode(), TlsMode::NoEncryption);
    let c = config(
        &["--smtp-auth-file", &users, "--smtp-auth-allow-insecure"],
        &[],
    );
    assert!(!c.require_starttls);
}

#[test]
fn missing_or_unreadable_ui_password_file() {
    let dir = TempDir::new();
    let missing = dir.missing("ui.htpasswd");
    assert_eq!(
        error(&["--ui-auth-file", &missing], &[]),
        format!("[ui] HTTP password file not found or readable: {missing}")
    );
    assert_eq!(
        error(&[], &[("MP_UI_AUTH_FILE", dir.path())]),
        format!(
            "[ui] HTTP password file not found or readable: {}",
            dir.path()
        )
    );
}

#[test]
fn checks_run_in_mailpits_order() {
    let dir = TempDir::new();
    let missing = dir.missing("x");
    // The UI password file is checked before the SMTP TLS pair ...
    assert_eq!(
        error(
            &["--ui-auth-file", &missing, "--smtp-tls-cert", &missing],
            &[]
        ),
        format!("[ui] HTTP password file not found or readable: {missing}")
    );
    // ... the bind addresses before the UI password file ...
    assert_eq!(
        error(&["--listen", "nonsense", "--ui-auth-file", &missing], &[]),
        r#"[ui] HTTP bind should be in the format of <ip>:<port> (got "nonsense")"#
    );
    // ... max-age before everything ...
    assert_eq!(
        error(&["--max-age", "2w", "--smtp", "nonsense"], &[]),
        "max-age must be either <int>h for hours or <int>d for days: 2w"
    );
    // ... and the recipients regexp after the auth checks.
    assert_eq!(
        error(
            &["--smtp-allowed-recipients", "(", "--smtp-auth-accept-any"],
            &[]
        ),
        "[smtp] authentication requires STARTTLS or TLS encryption, \
         run with `--smtp-auth-allow-insecure` to allow insecure authentication"
    );
}

#[test]
fn bad_recipients_regexp_is_mailpits_line() {
    assert_eq!(
        error(&["--smtp-allowed-recipients", "(unclosed"], &[]),
        "[smtp] failed to compile smtp-allowed-recipients regexp: unclosed group"
    );
    let line = error(&[], &[("MP_SMTP_ALLOWED_RECIPIENTS", "a{2,1}")]);
    assert!(
        line.starts_with("[smtp] failed to compile smtp-allowed-recipients regexp: "),
        "{line}"
    );
}

// ---- TLS modes and Mailpit's STARTTLS rule ---------------------------------------------------

#[test]
fn tls_mode_words_are_mailpits() {
    let (_dir, cert, key, _) = with_files();
    let tls = tls_flags(&cert, &key);
    let mode = |extra: &[&str]| {
        config(&[&tls[..], extra].concat(), &[])
            .tls_mode()
            .to_string()
    };
    assert_eq!(config(&[], &[]).tls_mode().to_string(), "no encryption");
    assert_eq!(mode(&[]), "STARTTLS optional");
    assert_eq!(mode(&["--smtp-require-starttls"]), "STARTTLS required");
    assert_eq!(mode(&["--smtp-require-tls"]), "SSL/TLS required");
}

#[test]
fn credentials_without_allow_insecure_make_starttls_required() {
    let (_dir, cert, key, users) = with_files();
    let tls = tls_flags(&cert, &key);
    let c = config(&[&tls[..], &["--smtp-auth-file", &users]].concat(), &[]);
    assert!(c.require_starttls);
    assert_eq!(c.tls_mode(), TlsMode::StartTlsRequired);
    let c = config(&tls, &[("MP_SMTP_AUTH", "a:b")]);
    assert_eq!(c.tls_mode(), TlsMode::StartTlsRequired);
    // Implicit TLS already encrypts everything: the mode stays SSL/TLS.
    let c = config(
        &[&tls[..], &["--smtp-require-tls"]].concat(),
        &[("MP_SMTP_AUTH", "a:b")],
    );
    assert!(c.require_tls && !c.require_starttls);
    assert_eq!(c.tls_mode(), TlsMode::TlsRequired);
    // accept-any alone does not force it.
    let c = config(&[&tls[..], &["--smtp-auth-accept-any"]].concat(), &[]);
    assert_eq!(c.tls_mode(), TlsMode::StartTlsOptional);
}

// ---- sans: ---------------------------------------------------------------------------------

#[test]
fn sans_values_skip_file_checks_and_merge_names() {
    let c = config(
        &[
            "--smtp-tls-cert",
            "sans:mail.test, 127.0.0.1",
            "--smtp-tls-key=sans:mail.test,::1",
        ],
        &[],
    );
    let names = vec![
        "mail.test".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ];
    assert_eq!(c.tls, Some(TlsSource::SelfSigned { names }));
    assert_eq!(c.tls_mode(), TlsMode::StartTlsOptional);
}

#[test]
fn sans_without_names_and_mixed_sources_are_refused() {
    let (_dir, _, key, _) = with_files();
    assert_eq!(
        error(
            &["--smtp-tls-cert", "sans:", "--smtp-tls-key", "sans:a"],
            &[]
        ),
        "[smtp] --smtp-tls-cert: sans: needs at least one name, e.g. sans:localhost"
    );
    assert_eq!(
        error(
            &[],
            &[
                ("MP_SMTP_TLS_CERT", "sans:a"),
                ("MP_SMTP_TLS_KEY", "sans: , ")
            ]
        ),
        "[smtp] MP_SMTP_TLS_KEY: sans: needs at least one name, e.g. sans:localhost"
    );
    assert_eq!(
        error(&["--smtp-tls-cert", "sans:a", "--smtp-tls-key", &key], &[]),
        "[smtp] TLS certificate and key must both be files or both be sans: values"
    );
}

// ---- addresses -----------------------------------------------------------------------------

#[test]
fn bind_address_forms() {
    let at = |value: &str| config(&["--smtp", value], &[]).smtp_addr;
    assert_eq!(at("0.0.0.0:25"), addr("0.0.0.0:25"));
    assert_eq!(at("[::1]:2525"), addr("[::1]:2525"));
    assert_eq!(at(":2525"), addr("[::]:2525"));
    assert_eq!(at("localhost:2525"), addr("127.0.0.1:2525"));
    assert_eq!(at("LOCALHOST:1"), addr("127.0.0.1:1"));
    assert!(!config(&["--smtp", "[::]:1025"], &[]).smtp_addr_is_default);
}

#[test]
fn bad_bind_addresses_are_refused_per_listener() {
    for bad in [
        "1025",
        "localhost",
        "127.0.0.1:",
        "127.0.0.1:99999",
        "::1:25",
        "1.2.3:25",
        "a b:1",
    ] {
        assert_eq!(
            error(&["--smtp", bad], &[]),
            format!("[smtp] bind should be in the format of <ip>:<port> (got {bad:?})")
        );
        assert_eq!(
            error(&[], &[("MP_UI_BIND_ADDR", bad)]),
            format!("[ui] HTTP bind should be in the format of <ip>:<port> (got {bad:?})")
        );
    }
    let (_dir, cert, key, _) = with_files();
    assert_eq!(
        error(
            &[
                "--smtp-tls-cert",
                &cert,
                "--smtp-tls-key",
                &key,
                "--smtps",
                "465"
            ],
            &[]
        ),
        r#"[smtp] SMTPS bind should be in the format of <ip>:<port> (got "465")"#
    );
}

#[test]
fn smtps_needs_a_cert_and_its_own_address() {
    assert_eq!(
        error(&["--smtps", "127.0.0.1:465"], &[]),
        "[smtp] --smtps cannot be used without an SMTP TLS certificate and key"
    );
    let (_dir, cert, key, _) = with_files();
    let args = [
        "--smtp-tls-cert",
        &cert,
        "--smtp-tls-key",
        &key,
        "--smtp",
        "127.0.0.1:465",
        "--smtps",
        "127.0.0.1:465",
    ];
    assert_eq!(
        error(&args, &[]),
        "[smtp] --smtps cannot use the same address as --smtp"
    );
}

#[test]
fn smtps_and_smtp_may_both_ask_for_any_free_port() {
    let (_dir, cert, key, _) = with_files();
    let args = [
        "--smtp-tls-cert",
        &cert,
        "--smtp-tls-key",
        &key,
        "--smtp",
        "127.0.0.1:0",
        "--smtps",
        "127.0.0.1:0",
    ];
    assert_eq!(config(&args, &[]).smtps_addr, Some(addr("127.0.0.1:0")));
}

// ---- numbers, sizes, durations, ages ---------------------------------------------------------

#[test]
fn numbers_are_checked_naming_the_flag_or_variable() {
    assert_eq!(
        error(&["--smtp-max-connections", "0"], &[]),
        r#"invalid value "0" for --smtp-max-connections: expected a whole number of at least 1"#
    );
    assert_eq!(
        error(&[], &[("MP_SMTP_MAX_CONNECTIONS", "many")]),
        r#"invalid value "many" for MP_SMTP_MAX_CONNECTIONS: expected a whole number of at least 1"#
    );
    assert_eq!(
        error(&["--smtp-max-recipients=0"], &[]),
        r#"invalid value "0" for --smtp-max-recipients: expected a whole number of at least 1"#
    );
    assert_eq!(
        error(&["--max", "-1"], &[]),
        r#"invalid value "-1" for --max: expected a whole number"#
    );
    assert_eq!(
        error(&["--max", "+5"], &[]),
        r#"invalid value "+5" for --max: expected a whole number"#
    );
}

#[test]
fn message_size_zero_means_no_advertised_limit_under_the_hard_ceiling() {
    let c = config(&["--max-message-size", "0"], &[]);
    assert_eq!(c.max_message_size, 0);
    assert_eq!(c.message_size_limit(), MESSAGE_SIZE_CEILING);
    assert_eq!(MESSAGE_SIZE_CEILING, 1 << 30);
    assert_eq!(
        config(&["--max-message-size", "1024"], &[]).message_size_limit(),
        1 << 30
    );
    assert_eq!(
        error(&["--max-message-size", "1025"], &[]),
        "invalid value \"1025\" for --max-message-size: \
         expected a whole number of MiB from 0 to 1024"
    );
}

#[test]
fn durations_are_seconds_and_timeouts_must_be_above_zero() {
    assert_eq!(
        config(&["--smtp-timeout", "1.5"], &[]).command_timeout,
        Duration::from_millis(1500)
    );
    for bad in ["0", "0.0", "-1", "1e3", "inf", "NaN", "5.", ".5", "1s", ""] {
        assert_eq!(
            error(&["--smtp-timeout", bad], &[]),
            format!(
                "invalid value {bad:?} for --smtp-timeout: \
                 expected a number of seconds above zero, e.g. 30 or 0.5"
            )
        );
    }
    assert_eq!(
        error(&[], &[("MP_SHUTDOWN_TIMEOUT", "soon")]),
        "invalid value \"soon\" for MP_SHUTDOWN_TIMEOUT: \
         expected a number of seconds, e.g. 30 or 0.5"
    );
}

#[test]
fn max_age_uses_mailpits_format() {
    let age = |value: &str| config(&["--max-age", value], &[]).max_age;
    assert_eq!(age("12h"), Some(Duration::from_secs(12 * 3600)));
    assert_eq!(age("1d"), Some(Duration::from_secs(86400)));
    assert_eq!(age("0d"), None);
    for bad in [
        "12",
        "h",
        "1.5h",
        "-1d",
        "3w",
        "1H",
        "99999999999999999999d",
    ] {
        assert_eq!(
            error(&["--max-age", bad], &[]),
            format!("max-age must be either <int>h for hours or <int>d for days: {bad}")
        );
    }
}

// ---- other values ----------------------------------------------------------------------------

#[test]
fn hostname_must_be_a_host_name() {
    assert_eq!(
        config(&["--hostname", "mailsink_1.local"], &[]).hostname,
        "mailsink_1.local"
    );
    for bad in ["two words", "bad\r\nname", "a..b", ".lead"] {
        assert_eq!(
            error(&["--hostname", bad], &[]),
            format!(
                "invalid value {bad:?} for --hostname: \
                 expected a host name of letters, digits, '-', '_' and '.'"
            )
        );
    }
}

#[test]
fn label_is_normalized_and_blank_means_none() {
    assert_eq!(
        config(&["--label", "a\u{7}b  c\n"], &[]).label.as_deref(),
        Some("ab c")
    );
    assert!(config(&["--label", " \t "], &[]).label.is_none());
}

#[test]
fn cors_origin_cannot_carry_a_header_break() {
    assert_eq!(
        error(&["--api-cors", "*\r\nX-Evil: 1"], &[]),
        "invalid value \"*\\r\\nX-Evil: 1\" for --api-cors: \
         expected an origin without control characters"
    );
    assert_eq!(
        config(&["--api-cors", "*"], &[]).api_cors.as_deref(),
        Some("*")
    );
}

#[test]
fn verbose_and_quiet_together_are_refused() {
    assert_eq!(
        error(&["-v", "-q"], &[]),
        "--verbose and --quiet cannot be used together"
    );
    assert_eq!(
        error(&[], &[("MP_VERBOSE", "1"), ("MP_QUIET", "1")]),
        "--verbose and --quiet cannot be used together"
    );
}

#[test]
fn a_password_file_and_inline_credentials_together_are_refused() {
    let (_dir, _, _, users) = with_files();
    assert_eq!(
        error(
            &["--smtp-auth-file", &users, "--smtp-auth-allow-insecure"],
            &[("MP_SMTP_AUTH", "a:b")]
        ),
        "[smtp] use either --smtp-auth-file or MP_SMTP_AUTH, not both"
    );
    assert_eq!(
        error(&["--ui-auth-file", &users], &[("MP_UI_AUTH", "a:b")]),
        "[ui] use either --ui-auth-file or MP_UI_AUTH, not both"
    );
}

// ---- command-line shape --------------------------------------------------------------------

#[test]
fn unknown_flags_stray_arguments_and_repeats_are_refused() {
    assert_eq!(
        error(&["--smtp-tls-required"], &[]),
        "unknown flag: --smtp-tls-required"
    );
    assert_eq!(
        error(&["--nope=1", "--verbose"], &[]),
        "unknown flag: --nope=1"
    );
    assert_eq!(
        error(&["--verbose", "extra"], &[]),
        "unexpected argument: extra"
    );
    assert_eq!(error(&["serve"], &[]), "unexpected argument: serve");
    assert_eq!(
        error(&["--smtp", "127.0.0.1:1", "--smtp=127.0.0.1:2"], &[]),
        "flag --smtp is given more than once"
    );
    assert_eq!(
        error(&["--verbose=1", "--verbose=0"], &[]),
        "flag --verbose is given more than once"
    );
}

#[test]
fn a_value_flag_without_its_value_is_refused() {
    assert_eq!(error(&["--smtp"], &[]), "flag --smtp needs a value");
    assert_eq!(error(&["--label="], &[]), "flag --label needs a value");
}

#[cfg(unix)]
#[test]
fn arguments_that_are_not_utf8_are_refused() {
    use std::os::unix::ffi::OsStringExt;
    let args = vec![
        OsString::from("--label"),
        OsString::from_vec(vec![0xff, 0xfe]),
    ];
    let err = parse(args, &|_| None).unwrap_err();
    assert_eq!(err.to_string(), "an argument is not valid UTF-8");
}

#[test]
fn control_characters_in_paths_are_escaped_in_errors() {
    let line = error(&["--ui-auth-file", "/no/such\nfile"], &[]);
    assert_eq!(
        line,
        "[ui] HTTP password file not found or readable: /no/such\\nfile"
    );
}

#[test]
fn help_and_version_win_over_bad_settings() {
    assert!(matches!(
        invoke(&["--help"], &[("MP_VERBOSE", "bogus")]),
        Ok(Invocation::Help)
    ));
    assert!(matches!(
        invoke(&["--smtp", "x", "-h"], &[]),
        Ok(Invocation::Help)
    ));
    assert!(matches!(
        invoke(&["--version"], &[("MP_MAX_AGE", "x")]),
        Ok(Invocation::Version)
    ));
    assert!(matches!(
        invoke(&["--version", "--help"], &[]),
        Ok(Invocation::Help)
    ));
}

// ---- hash-password ---------------------------------------------------------------------------

fn hash(args: &[&str]) -> Result<(HashScheme, String), String> {
    match invoke(args, &[]) {
        Ok(Invocation::HashPassword { scheme, user }) => Ok((scheme, user)),
        Ok(other) => panic!("expected hash-password, got {other:?}"),
        Err(error) => Err(error.to_string()),
    }
}

#[test]
fn hash_password_subcommand() {
    assert_eq!(
        hash(&["hash-password", "alice"]),
        Ok((HashScheme::Bcrypt, "alice".into()))
    );
    assert_eq!(
        hash(&["hash-password", "--bcrypt", "bob"]),
        Ok((HashScheme::Bcrypt, "bob".into()))
    );
    assert_eq!(
        hash(&["hash-password", "carol", "--argon2"]),
        Ok((HashScheme::Argon2, "carol".into()))
    );
    assert_eq!(
        hash(&["hash-password", "--argon2=yes", "dave"]),
        Ok((HashScheme::Argon2, "dave".into()))
    );
    assert!(matches!(
        invoke(&["hash-password", "--help"], &[]),
        Ok(Invocation::Help)
    ));
}

#[test]
fn hash_password_refusals() {
    assert_eq!(
        hash(&["hash-password", "--bcrypt", "--argon2", "x"]),
        Err("hash-password: choose one of --bcrypt and --argon2, not both".into())
    );
    assert_eq!(
        hash(&["hash-password"]),
        Err(
            "hash-password: missing USER (usage: mailsink hash-password [--bcrypt|--argon2] USER)"
                .into()
        )
    );
    assert_eq!(
        hash(&["hash-password", "--sha", "x"]),
        Err("unknown flag: --sha".into())
    );
    assert_eq!(
        hash(&["hash-password", "a", "b"]),
        Err("unexpected argument: b".into())
    );
    assert_eq!(
        hash(&["hash-password", "a", "--verbose"]),
        Err("unknown flag: --verbose".into())
    );
    assert_eq!(
        hash(&["hash-password", "--argon2=1", "--argon2=0", "a"]),
        Err("flag --argon2 is given more than once".into())
    );
    assert_eq!(
        hash(&["hash-password", "a:b"]),
        Err("hash-password: user name \"a:b\" must not be empty \
             or contain ':', spaces or control characters"
            .into())
    );
}

// ---- help and secrets ------------------------------------------------------------------------

#[test]
fn help_mentions_every_flag_variable_and_default() {
    let help = help_text();
    for flag in flags::ALL {
        assert!(
            help.contains(flag.long),
            "{} missing from --help",
            flag.long
        );
        if let Some(short) = flag.short {
            assert!(help.contains(&format!("{short}, {}", flag.long)), "{short}");
        }
        if let Some(env) = flag.env {
            assert!(
                help.contains(&format!("[env: {env}]")),
                "{env} missing from --help"
            );
        }
        if let Some(default) = flag.default {
            assert!(help.contains(&format!("[default: {default}]")), "{default}");
        }
    }
    for var in flags::ENV_ONLY {
        assert!(help.contains(var.name), "{} missing from --help", var.name);
    }
    for heading in [
        "SMTP:",
        "TLS:",
        "SMTP AUTH:",
        "Storage:",
        "HTTP API and web page:",
    ] {
        assert!(help.contains(heading), "{heading}");
    }
    assert!(help.contains("hash-password [--bcrypt|--argon2] USER"));
}

#[test]
fn help_fits_an_80_column_terminal() {
    for line in help_text().lines() {
        assert!(line.chars().count() <= 80, "too wide: {line:?}");
    }
}

#[test]
fn every_flag_in_the_table_is_parsed() {
    // A flag the table lists but `build.rs` forgot to read would be refused as unknown.
    let (_dir, cert, key, users) = with_files();
    let sample = |flag: &flags::Flag| match flag.long {
        "--smtp-tls-cert" => cert.clone(),
        "--smtp-tls-key" => key.clone(),
        "--smtp-auth-file" | "--ui-auth-file" => users.clone(),
        "--smtps" => "127.0.0.1:4655".to_owned(),
        _ => VALUE_CASES
            .iter()
            .find(|case| case.0 == flag.long)
            .map(|case| case.2.to_owned())
            .unwrap_or_else(|| panic!("no sample value for {}", flag.long)),
    };
    for flag in flags::ALL
        .iter()
        .filter(|flag| !matches!(flag.long, "--help" | "--version"))
    {
        let mut args = vec!["--smtp-tls-cert".to_owned(), cert.clone()];
        args.extend(["--smtp-tls-key".to_owned(), key.clone()]);
        if !matches!(flag.long, "--smtp-tls-cert" | "--smtp-tls-key") {
            args.push(flag.long.to_owned());
            if flag.value.is_some() {
                args.push(sample(flag));
            }
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        assert!(
            matches!(invoke(&args, &[]), Ok(Invocation::Run(_))),
            "{}",
            flag.long
        );
    }
}

#[test]
fn debug_output_never_shows_inline_credentials() {
    let c = config(
        &["--smtp-auth-allow-insecure"],
        &[
            ("MP_SMTP_AUTH", "alice:TopSecret42"),
            ("MP_UI_AUTH", "viewer:AlsoSecret7"),
        ],
    );
    let debug = format!("{c:?}");
    assert!(!debug.contains("TopSecret42"), "{debug}");
    assert!(!debug.contains("AlsoSecret7"), "{debug}");
    assert!(debug.contains("Secret(<redacted>)"), "{debug}");
    let invocation = format!("{:?}", Invocation::Run(Box::new(c)));
    assert!(!invocation.contains("TopSecret42"));
}

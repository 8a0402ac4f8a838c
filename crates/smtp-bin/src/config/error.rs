//! Why a configuration was refused.
//!
//! Every [`ConfigError`] displays as exactly one line: the binary prints it and exits with
//! status 1. Start-up checks that Mailpit also makes keep Mailpit's words (from its
//! `config/config.go`), so a search for the message finds the same answers for both programs.
//! User-supplied text inside a message has its control characters escaped, so a value can never
//! break the line.

use std::fmt;
use std::path::{Path, PathBuf};

/// Where a value came from: a command-line flag or its environment variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A flag's long name, e.g. `--smtp-max-connections`.
    Flag(&'static str),
    /// An environment variable, e.g. `MP_SMTP_MAX_CONNECTIONS`.
    Env(&'static str),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Flag(name) | Origin::Env(name) => f.write_str(name),
        }
    }
}

/// A configuration the binary refuses to start with.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// A flag that `mailsink` does not know.
    UnknownFlag(String),
    /// A positional argument where none is expected.
    UnexpectedArgument(String),
    /// A value flag given twice.
    RepeatedFlag(&'static str),
    /// A value flag at the end of the line, or with an empty `=` value.
    MissingValue(String),
    /// An argument that is not valid UTF-8.
    NotUtf8,
    /// A value that does not parse: a number, a duration, a boolean, a host name.
    InvalidValue {
        origin: Origin,
        value: String,
        expected: &'static str,
    },
    /// `--max-age` not in Mailpit's `<n>h` / `<n>d` form.
    MaxAge(String),
    /// `--smtp` is not `<ip>:<port>`.
    SmtpBind(String),
    /// `--listen` is not `<ip>:<port>`.
    HttpBind(String),
    /// `--smtps` is not `<ip>:<port>`.
    SmtpsBind(String),
    /// A bind address names a host that does not resolve.
    Unresolvable {
        origin: Origin,
        value: String,
        reason: String,
    },
    /// `--ui-auth-file` is missing, not a file, or unreadable.
    UiAuthFileUnreadable(PathBuf),
    /// A certificate without its key, or the reverse.
    TlsPairIncomplete,
    /// `--smtp-tls-cert` is missing, not a file, or unreadable.
    TlsCertUnreadable(PathBuf),
    /// `--smtp-tls-key` is missing, not a file, or unreadable.
    TlsKeyUnreadable(PathBuf),
    /// `--smtp-require-tls` without a certificate.
    RequireTlsWithoutCert,
    /// `--smtp-require-starttls` without a certificate.
    RequireStartTlsWithoutCert,
    /// `--smtp-require-tls` or `--smtp-require-starttls` with `--smtp-auth-allow-insecure`.
    RequireTlsWithAllowInsecure,
    /// `--smtp-require-tls` and `--smtp-require-starttls` together.
    RequireTlsAndStartTls,
    /// `--smtp-auth-file` is missing, not a file, or unreadable.
    AuthFileUnreadable(PathBuf),
    /// Credentials together with `--smtp-auth-accept-any`.
    CredentialsWithAcceptAny,
    /// AUTH with no certificate and no `--smtp-auth-allow-insecure`.
    AuthWithoutEncryption,
    /// `--smtp-allowed-recipients` does not compile; holds the regex error on one line.
    AllowedRecipients(String),
    /// `sans:` with no name after it.
    SansWithoutNames(Origin),
    /// One of certificate and key is `sans:`, the other a file.
    TlsSourcesMixed,
    /// `--smtps` without a certificate and key.
    SmtpsWithoutCert,
    /// `--smtps` on the same address as `--smtp`.
    SmtpsSameAsSmtp,
    /// Both `--smtp-auth-file` and `MP_SMTP_AUTH`.
    SmtpAuthTwice,
    /// Both `--ui-auth-file` and `MP_UI_AUTH`.
    UiAuthTwice,
    /// `--verbose` and `--quiet` together.
    VerboseAndQuiet,
    /// `hash-password` with both `--bcrypt` and `--argon2`.
    HashSchemeTwice,
    /// `hash-password` without a user name.
    HashPasswordNoUser,
    /// `hash-password` with a user name an htpasswd line cannot hold.
    HashPasswordBadUser(String),
}

impl std::error::Error for ConfigError {}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ConfigError as E;
        match self {
            E::UnknownFlag(flag) => write!(f, "unknown flag: {}", Escaped(flag)),
            E::UnexpectedArgument(arg) => write!(f, "unexpected argument: {}", Escaped(arg)),
            E::RepeatedFlag(flag) => write!(f, "flag {flag} is given more than once"),
            E::MissingValue(flag) => write!(f, "flag {} needs a value", Escaped(flag)),
            E::NotUtf8 => f.write_str("an argument is not valid UTF-8"),
            E::InvalidValue {
                origin,
                value,
                expected,
            } => {
                write!(
                    f,
                    "invalid value {value:?} for {origin}: expected {expected}"
                )
            }
            E::MaxAge(value) => write!(
                f,
                "max-age must be either <int>h for hours or <int>d for days: {}",
                Escaped(value)
            ),
            E::SmtpBind(value) => {
                write!(
                    f,
                    "[smtp] bind should be in the format of <ip>:<port> (got {value:?})"
                )
            }
            E::HttpBind(value) => {
                write!(
                    f,
                    "[ui] HTTP bind should be in the format of <ip>:<port> (got {value:?})"
                )
            }
            E::SmtpsBind(value) => write!(
                f,
                "[smtp] SMTPS bind should be in the format of <ip>:<port> (got {value:?})"
            ),
            E::Unresolvable {
                origin,
                value,
                reason,
            } => {
                write!(
                    f,
                    "cannot resolve {origin} address {value:?}: {}",
                    Escaped(reason)
                )
            }
            E::UiAuthFileUnreadable(path) => {
                write!(
                    f,
                    "[ui] HTTP password file not found or readable: {}",
                    ShownPath(path)
                )
            }
            E::TlsPairIncomplete => {
                f.write_str("[smtp] You must provide both an SMTP TLS certificate and a key")
            }
            E::TlsCertUnreadable(path) => {
                write!(
                    f,
                    "[smtp] TLS certificate not found or readable: {}",
                    ShownPath(path)
                )
            }
            E::TlsKeyUnreadable(path) => {
                write!(
                    f,
                    "[smtp] TLS key not found or readable: {}",
                    ShownPath(path)
                )
            }
            E::RequireTlsWithoutCert => {
                f.write_str("[smtp] TLS cannot be required without an SMTP TLS certificate and key")
            }
            E::RequireStartTlsWithoutCert => f.write_str(
                "[smtp] STARTTLS cannot be required without an SMTP TLS certificate and key",
            ),
            E::RequireTlsWithAllowInsecure => {
                f.write_str("[smtp] TLS cannot be required with --smtp-auth-allow-insecure")
            }
            E::RequireTlsAndStartTls => {
                f.write_str("[smtp] TLS & STARTTLS cannot be required together")
            }
            E::AuthFileUnreadable(path) => {
                write!(
                    f,
                    "[smtp] password file not found or readable: {}",
                    ShownPath(path)
                )
            }
            E::CredentialsWithAcceptAny => f.write_str(
                "[smtp] authentication cannot use both credentials and --smtp-auth-accept-any",
            ),
            E::AuthWithoutEncryption => f.write_str(
                "[smtp] authentication requires STARTTLS or TLS encryption, \
                 run with `--smtp-auth-allow-insecure` to allow insecure authentication",
            ),
            E::AllowedRecipients(reason) => write!(
                f,
                "[smtp] failed to compile smtp-allowed-recipients regexp: {}",
                Escaped(reason)
            ),
            E::SansWithoutNames(origin) => {
                write!(
                    f,
                    "[smtp] {origin}: sans: needs at least one name, e.g. sans:localhost"
                )
            }
            E::TlsSourcesMixed => f.write_str(
                "[smtp] TLS certificate and key must both be files or both be sans: values",
            ),
            E::SmtpsWithoutCert => {
                f.write_str("[smtp] --smtps cannot be used without an SMTP TLS certificate and key")
            }
            E::SmtpsSameAsSmtp => {
                f.write_str("[smtp] --smtps cannot use the same address as --smtp")
            }
            E::SmtpAuthTwice => {
                f.write_str("[smtp] use either --smtp-auth-file or MP_SMTP_AUTH, not both")
            }
            E::UiAuthTwice => f.write_str("[ui] use either --ui-auth-file or MP_UI_AUTH, not both"),
            E::VerboseAndQuiet => f.write_str("--verbose and --quiet cannot be used together"),
            E::HashSchemeTwice => {
                f.write_str("hash-password: choose one of --bcrypt and --argon2, not both")
            }
            E::HashPasswordNoUser => f.write_str(
                "hash-password: missing USER \
                 (usage: mailsink hash-password [--bcrypt|--argon2] USER)",
            ),
            E::HashPasswordBadUser(user) => write!(
                f,
                "hash-password: user name {user:?} must not be empty \
                 or contain ':', spaces or control characters"
            ),
        }
    }
}

/// Displays text with its control characters escaped, and nothing else changed.
struct Escaped<'a>(&'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            if c.is_control() {
                write!(f, "{}", c.escape_default())?;
            } else {
                fmt::Write::write_char(f, c)?;
            }
        }
        Ok(())
    }
}

/// Displays a path as [`Escaped`] text.
struct ShownPath<'a>(&'a Path);

impl fmt::Display for ShownPath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Escaped(&self.0.to_string_lossy()).fmt(f)
    }
}

//! Command line and environment configuration of the `mailsink` binary.
//!
//! [`parse`] turns the arguments and the `MP_*` environment into an [`Invocation`]: run the server
//! with a fully checked [`Config`], print help or the version, or hash a password. The flags and
//! variables are Mailpit's (DESIGN section 3) plus mailsink's own, listed by [`help_text`].
//!
//! Rules, in the order they apply:
//!
//! - A flag overrides its variable. An empty variable counts as unset, as in Mailpit. Booleans
//!   are true for `1`, `true`, `yes` and false for `0`, `false`, `no` or empty, in any case; any
//!   other word is an error that names the variable. `--flag=value` and `--flag value` both work,
//!   and a switch also takes `--switch=false`.
//! - Unknown flags, a value flag given twice and stray arguments are errors.
//! - Mailpit's start-up checks run in Mailpit's order with Mailpit's words (see [`ConfigError`]),
//!   then mailsink's own checks.
//! - Files are checked to exist and be readable, never read: certificates, keys and password
//!   files are parsed later by the crates that use them. The one file read here is the system host
//!   name, for the default of `--hostname`.
//!
//! The module is split by job: `flags` (the option table), `sources` (command line then
//! environment), `values` (one value at a time), `build` (the checks that combine options),
//! `help` (the `--help` text), `error` and `secret`.

mod build;
mod error;
mod flags;
mod help;
mod sources;
mod values;

#[cfg(test)]
mod tests;

use std::ffi::OsString;
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

pub use error::{ConfigError, Origin};
pub use smtp_auth::Secret;

/// The hard ceiling on a message's size in bytes (1 GiB), whatever `--max-message-size` says.
/// With `--max-message-size 0` EHLO advertises no limit, but this one still holds, so memory and
/// disk stay bounded.
pub const MESSAGE_SIZE_CEILING: u64 = values::MAX_MESSAGE_MIB * 1024 * 1024;

/// What the command line asks the binary to do.
#[derive(Debug)]
pub enum Invocation {
    /// Run the server.
    Run(Box<Config>),
    /// Print [`help_text`] and exit 0.
    Help,
    /// Print the version and exit 0.
    Version,
    /// `mailsink hash-password [--bcrypt|--argon2] USER`: read a password, print an htpasswd line.
    HashPassword { scheme: HashScheme, user: String },
}

/// The hash `hash-password` writes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum HashScheme {
    /// bcrypt (`$2y$`), what `htpasswd -B` writes.
    #[default]
    Bcrypt,
    /// argon2id as a PHC string.
    Argon2,
}

/// Everything the server needs, checked and typed.
#[derive(Debug)]
pub struct Config {
    /// `--smtp`: where the SMTP listener binds.
    pub smtp_addr: SocketAddr,
    /// Whether `smtp_addr` is the default `[::]:1025`, so the server may bind `0.0.0.0:1025`
    /// instead where IPv6 is off (see [`Config::smtp_fallback_addr`]).
    pub smtp_addr_is_default: bool,
    /// `--hostname`: the name in the banner, EHLO and `Received:`.
    pub hostname: String,
    /// `--smtp-max-connections`: connections served at once (at least 1).
    pub max_connections: usize,
    /// `--smtp-max-recipients` (at least 1).
    pub max_recipients: usize,
    /// `--smtp-allowed-recipients`: only recipients matching it are accepted.
    pub allowed_recipients: Option<regex::Regex>,
    /// `--max-message-size` in bytes; 0 advertises no limit (see [`Config::message_size_limit`]).
    pub max_message_size: u64,
    /// `--smtp-timeout`: time allowed to send each command line (RFC 5321 section 4.5.3.2).
    pub command_timeout: Duration,
    /// `--smtp-data-timeout`: longest gap between two blocks of message data.
    pub data_timeout: Duration,
    /// `--smtp-trace`: print the SMTP dialogue, AUTH redacted.
    pub smtp_trace: bool,

    /// `--smtp-tls-cert` and `--smtp-tls-key`.
    pub tls: Option<TlsSource>,
    /// STARTTLS is required before MAIL, RCPT, DATA and AUTH: `--smtp-require-starttls`, or
    /// Mailpit's rule that credentials without `--smtp-auth-allow-insecure` force it. Never
    /// true together with `require_tls`, where every session is encrypted from its first byte.
    pub require_starttls: bool,
    /// `--smtp-require-tls`: the `--smtp` port is implicit TLS.
    pub require_tls: bool,
    /// `--smtps`: an extra implicit-TLS listener.
    pub smtps_addr: Option<SocketAddr>,
    /// `--smtp-tls-handshake-timeout`.
    pub tls_handshake_timeout: Duration,

    /// `--smtp-auth-file` or `MP_SMTP_AUTH`: credentials make AUTH required.
    pub auth: Option<AuthSource>,
    /// `--smtp-auth-accept-any`: AUTH optional, any credentials accepted.
    pub auth_accept_any: bool,
    /// `--smtp-auth-allow-insecure`: PLAIN and LOGIN allowed without TLS.
    pub auth_allow_insecure: bool,

    /// `--max`: messages kept, oldest pruned first; 0 keeps all.
    pub max_messages: usize,
    /// `--max-age`: messages older than this are pruned.
    pub max_age: Option<Duration>,
    /// `--maildir`: the durable store's directory; `None` keeps messages in memory.
    pub maildir: Option<PathBuf>,

    /// `--listen`: where the HTTP API and web page bind.
    pub http_addr: SocketAddr,
    /// Whether `http_addr` is the default `[::]:8025` (see [`Config::http_fallback_addr`]).
    pub http_addr_is_default: bool,
    /// `--ui-auth-file` or `MP_UI_AUTH`: Basic auth on the API and page.
    pub ui_auth: Option<AuthSource>,
    /// `--api-cors`: the `Access-Control-Allow-Origin` header.
    pub api_cors: Option<String>,
    /// `--label`, normalized as Mailpit does (single spaces, no control characters).
    pub label: Option<String>,

    /// `--verbose`.
    pub verbose: bool,
    /// `--quiet`: errors only.
    pub quiet: bool,
    /// `--shutdown-timeout`: how long open sessions may run on after SIGINT or SIGTERM.
    pub shutdown_timeout: Duration,
}

/// Where the TLS certificate and key come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsSource {
    /// PEM files, checked to be readable; the TLS crate parses them.
    Files { cert: PathBuf, key: PathBuf },
    /// `sans:name[,name]`: generate a self-signed certificate for these names at start-up.
    /// When both flags are `sans:` values their names are merged, in order, without repeats.
    SelfSigned { names: Vec<String> },
}

/// Where credentials come from: a password file, or inline text from the environment.
#[derive(Debug, Clone)]
pub enum AuthSource {
    /// An htpasswd-style file, checked to be readable.
    File(PathBuf),
    /// `user:secret` entries separated by whitespace (`MP_SMTP_AUTH`, `MP_UI_AUTH`).
    Inline(Secret<String>),
}

/// The SMTP port's encryption, in the words Mailpit logs at start-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// No certificate: plain SMTP only.
    NoEncryption,
    /// STARTTLS offered, not required.
    StartTlsOptional,
    /// STARTTLS required before mail can be sent.
    StartTlsRequired,
    /// Implicit TLS: the handshake comes first.
    TlsRequired,
}

impl TlsMode {
    /// Mailpit's words for the mode.
    pub fn as_str(self) -> &'static str {
        match self {
            TlsMode::NoEncryption => "no encryption",
            TlsMode::StartTlsOptional => "STARTTLS optional",
            TlsMode::StartTlsRequired => "STARTTLS required",
            TlsMode::TlsRequired => "SSL/TLS required",
        }
    }
}

impl fmt::Display for TlsMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Config {
    /// The encryption mode of the `--smtp` port.
    pub fn tls_mode(&self) -> TlsMode {
        match (&self.tls, self.require_tls, self.require_starttls) {
            (None, _, _) => TlsMode::NoEncryption,
            (Some(_), true, _) => TlsMode::TlsRequired,
            (Some(_), false, true) => TlsMode::StartTlsRequired,
            (Some(_), false, false) => TlsMode::StartTlsOptional,
        }
    }

    /// The size no message may exceed: `max_message_size`, or [`MESSAGE_SIZE_CEILING`] when
    /// that is 0.
    pub fn message_size_limit(&self) -> u64 {
        match self.max_message_size {
            0 => MESSAGE_SIZE_CEILING,
            size => size.min(MESSAGE_SIZE_CEILING),
        }
    }

    /// `0.0.0.0` on the SMTP port, to bind when `smtp_addr` is the default and IPv6 is off.
    pub fn smtp_fallback_addr(&self) -> Option<SocketAddr> {
        ipv4_fallback(self.smtp_addr, self.smtp_addr_is_default)
    }

    /// `0.0.0.0` on the HTTP port, to bind when `http_addr` is the default and IPv6 is off.
    pub fn http_fallback_addr(&self) -> Option<SocketAddr> {
        ipv4_fallback(self.http_addr, self.http_addr_is_default)
    }
}

/// Parses the arguments (without the program name) and the environment, read through `env`.
///
/// `--help` and `--version` win over everything else on the line, so they work even when the
/// environment holds a bad value.
pub fn parse(
    args: Vec<OsString>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Invocation, ConfigError> {
    let mut sources = sources::Sources::new(args, env);
    match sources.subcommand()? {
        None => {}
        Some(name) if name == "hash-password" => return build::hash_password(sources),
        Some(other) => return Err(ConfigError::UnexpectedArgument(other)),
    }
    if sources.cli_switch(&flags::HELP) {
        return Ok(Invocation::Help);
    }
    if sources.cli_switch(&flags::VERSION) {
        return Ok(Invocation::Version);
    }
    build::config(sources).map(|config| Invocation::Run(Box::new(config)))
}

/// The `--help` text: every flag with its variable and default, grouped.
pub fn help_text() -> &'static str {
    help::text()
}

fn ipv4_fallback(addr: SocketAddr, is_default: bool) -> Option<SocketAddr> {
    is_default.then(|| SocketAddr::from((Ipv4Addr::UNSPECIFIED, addr.port())))
}

//! The table of every command-line flag and environment variable.
//!
//! One row per option: its long and short names, its `MP_*` variable, its value name, its default
//! and its help line. The parser reads options through these rows and `--help` is printed from
//! them, so the two cannot drift apart; a test checks that the help mentions every row.

/// Where an option is listed in `--help`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Group {
    General,
    Smtp,
    Tls,
    Auth,
    Storage,
    Http,
    Logging,
}

impl Group {
    /// Every group, in the order `--help` prints them.
    pub(crate) const ALL: [Group; 7] = [
        Group::General,
        Group::Smtp,
        Group::Tls,
        Group::Auth,
        Group::Storage,
        Group::Http,
        Group::Logging,
    ];

    /// The heading printed above the group.
    pub(crate) fn title(self) -> &'static str {
        match self {
            Group::General => "General",
            Group::Smtp => "SMTP",
            Group::Tls => "TLS",
            Group::Auth => "SMTP AUTH",
            Group::Storage => "Storage",
            Group::Http => "HTTP API and web page",
            Group::Logging => "Logging and process",
        }
    }
}

/// One command-line option and the environment variable that backs it.
#[derive(Debug)]
pub(crate) struct Flag {
    /// The long name with its dashes, e.g. `--smtp`.
    pub(crate) long: &'static str,
    /// The short alias Mailpit has for it, e.g. `-s`.
    pub(crate) short: Option<&'static str>,
    /// The environment variable read when the flag is absent.
    pub(crate) env: Option<&'static str>,
    /// The value's name in `--help`; `None` for an on/off switch.
    pub(crate) value: Option<&'static str>,
    /// The default as `--help` shows it.
    pub(crate) default: Option<&'static str>,
    pub(crate) group: Group,
    pub(crate) help: &'static str,
}

/// A setting that only an environment variable can give (inline secrets never go on a command line,
/// where any local user could read them from the process list).
#[derive(Debug)]
pub(crate) struct EnvOnly {
    pub(crate) name: &'static str,
    pub(crate) group: Group,
    pub(crate) help: &'static str,
}

/// Builds a [`Flag`] row with less noise than the struct literal.
const fn flag(
    long: &'static str,
    short: Option<&'static str>,
    env: Option<&'static str>,
    value: Option<&'static str>,
    default: Option<&'static str>,
    group: Group,
    help: &'static str,
) -> Flag {
    Flag {
        long,
        short,
        env,
        value,
        default,
        group,
        help,
    }
}

pub(crate) const HELP: Flag = flag(
    "--help",
    Some("-h"),
    None,
    None,
    None,
    Group::General,
    "Print this help and exit",
);
pub(crate) const VERSION: Flag = flag(
    "--version",
    None,
    None,
    None,
    None,
    Group::General,
    "Print the version and exit",
);

pub(crate) const SMTP: Flag = flag(
    "--smtp",
    Some("-s"),
    Some("MP_SMTP_BIND_ADDR"),
    Some("ADDR"),
    Some("[::]:1025"),
    Group::Smtp,
    "SMTP bind interface and port (0.0.0.0:1025 where IPv6 is off)",
);
pub(crate) const HOSTNAME: Flag = flag(
    "--hostname",
    None,
    Some("MP_HOSTNAME"),
    Some("NAME"),
    Some("the system host name"),
    Group::Smtp,
    "Name used in the SMTP banner, EHLO reply and Received: headers",
);
pub(crate) const SMTP_MAX_CONNECTIONS: Flag = flag(
    "--smtp-max-connections",
    None,
    Some("MP_SMTP_MAX_CONNECTIONS"),
    Some("N"),
    Some("256"),
    Group::Smtp,
    "Connections served at once (worker threads); beyond it clients get 421",
);
pub(crate) const SMTP_MAX_RECIPIENTS: Flag = flag(
    "--smtp-max-recipients",
    None,
    Some("MP_SMTP_MAX_RECIPIENTS"),
    Some("N"),
    Some("100"),
    Group::Smtp,
    "Maximum SMTP recipients allowed per message",
);
pub(crate) const SMTP_ALLOWED_RECIPIENTS: Flag = flag(
    "--smtp-allowed-recipients",
    None,
    Some("MP_SMTP_ALLOWED_RECIPIENTS"),
    Some("REGEX"),
    None,
    Group::Smtp,
    "Only allow SMTP recipients matching a regular expression (default: allow all)",
);
pub(crate) const MAX_MESSAGE_SIZE: Flag = flag(
    "--max-message-size",
    None,
    Some("MP_MAX_MESSAGE_SIZE"),
    Some("MiB"),
    Some("50"),
    Group::Smtp,
    "Largest message accepted, in MiB; 0 advertises no limit (1024 MiB is always the hard cap)",
);
pub(crate) const SMTP_TIMEOUT: Flag = flag(
    "--smtp-timeout",
    None,
    Some("MP_SMTP_TIMEOUT"),
    Some("SECS"),
    Some("300"),
    Group::Smtp,
    "Time a client has to send each command line (RFC 5321 section 4.5.3.2)",
);
pub(crate) const SMTP_DATA_TIMEOUT: Flag = flag(
    "--smtp-data-timeout",
    None,
    Some("MP_SMTP_DATA_TIMEOUT"),
    Some("SECS"),
    Some("180"),
    Group::Smtp,
    "Longest gap allowed between two blocks of message data",
);
pub(crate) const SMTP_TRACE: Flag = flag(
    "--smtp-trace",
    None,
    Some("MP_SMTP_TRACE"),
    None,
    None,
    Group::Smtp,
    "Print the SMTP dialogue (AUTH payloads redacted)",
);

pub(crate) const SMTP_TLS_CERT: Flag = flag(
    "--smtp-tls-cert",
    None,
    Some("MP_SMTP_TLS_CERT"),
    Some("PATH"),
    None,
    Group::Tls,
    "TLS certificate (PEM) for STARTTLS, or sans:name[,name] for a self-signed one",
);
pub(crate) const SMTP_TLS_KEY: Flag = flag(
    "--smtp-tls-key",
    None,
    Some("MP_SMTP_TLS_KEY"),
    Some("PATH"),
    None,
    Group::Tls,
    "TLS private key (PEM), or sans:name[,name] together with a sans: certificate",
);
pub(crate) const SMTP_REQUIRE_STARTTLS: Flag = flag(
    "--smtp-require-starttls",
    None,
    Some("MP_SMTP_REQUIRE_STARTTLS"),
    None,
    None,
    Group::Tls,
    "Require clients to use STARTTLS before MAIL, RCPT, DATA and AUTH",
);
pub(crate) const SMTP_REQUIRE_TLS: Flag = flag(
    "--smtp-require-tls",
    None,
    Some("MP_SMTP_REQUIRE_TLS"),
    None,
    None,
    Group::Tls,
    "Make the --smtp port implicit TLS (SSL/TLS): the handshake comes first",
);
pub(crate) const SMTPS: Flag = flag(
    "--smtps",
    None,
    Some("MP_SMTPS_BIND_ADDR"),
    Some("ADDR"),
    None,
    Group::Tls,
    "Extra implicit-TLS listener beside the --smtp port (like 465 beside 587)",
);
pub(crate) const SMTP_TLS_HANDSHAKE_TIMEOUT: Flag = flag(
    "--smtp-tls-handshake-timeout",
    None,
    Some("MP_SMTP_TLS_HANDSHAKE_TIMEOUT"),
    Some("SECS"),
    Some("10"),
    Group::Tls,
    "Time a client has to finish a TLS handshake",
);

pub(crate) const SMTP_AUTH_FILE: Flag = flag(
    "--smtp-auth-file",
    None,
    Some("MP_SMTP_AUTH_FILE"),
    Some("PATH"),
    None,
    Group::Auth,
    "A password file (htpasswd format) for SMTP authentication",
);
pub(crate) const SMTP_AUTH_ACCEPT_ANY: Flag = flag(
    "--smtp-auth-accept-any",
    None,
    Some("MP_SMTP_AUTH_ACCEPT_ANY"),
    None,
    None,
    Group::Auth,
    "Accept any SMTP username and password, including none",
);
pub(crate) const SMTP_AUTH_ALLOW_INSECURE: Flag = flag(
    "--smtp-auth-allow-insecure",
    None,
    Some("MP_SMTP_AUTH_ALLOW_INSECURE"),
    None,
    None,
    Group::Auth,
    "Allow PLAIN and LOGIN authentication without TLS",
);

pub(crate) const MAX: Flag = flag(
    "--max",
    Some("-m"),
    Some("MP_MAX_MESSAGES"),
    Some("N"),
    Some("500"),
    Group::Storage,
    "Number of messages kept, oldest pruned first; 0 keeps all",
);
pub(crate) const MAX_AGE: Flag = flag(
    "--max-age",
    None,
    Some("MP_MAX_AGE"),
    Some("AGE"),
    None,
    Group::Storage,
    "Prune messages older than this, in hours or days (e.g. 12h, 3d)",
);
pub(crate) const MAILDIR: Flag = flag(
    "--maildir",
    None,
    Some("MP_MAILDIR"),
    Some("DIR"),
    None,
    Group::Storage,
    "Keep messages durably in this Maildir instead of in memory",
);

pub(crate) const LISTEN: Flag = flag(
    "--listen",
    Some("-l"),
    Some("MP_UI_BIND_ADDR"),
    Some("ADDR"),
    Some("[::]:8025"),
    Group::Http,
    "HTTP bind interface and port for the API and web page",
);
pub(crate) const UI_AUTH_FILE: Flag = flag(
    "--ui-auth-file",
    None,
    Some("MP_UI_AUTH_FILE"),
    Some("PATH"),
    None,
    Group::Http,
    "A password file (htpasswd format) for Basic auth on the API and web page",
);
pub(crate) const API_CORS: Flag = flag(
    "--api-cors",
    None,
    Some("MP_API_CORS"),
    Some("ORIGIN"),
    None,
    Group::Http,
    "Set the API's Access-Control-Allow-Origin header",
);
pub(crate) const LABEL: Flag = flag(
    "--label",
    None,
    Some("MP_LABEL"),
    Some("TEXT"),
    None,
    Group::General,
    "Optional label to identify this instance (banner and web page)",
);

pub(crate) const VERBOSE: Flag = flag(
    "--verbose",
    Some("-v"),
    Some("MP_VERBOSE"),
    None,
    None,
    Group::Logging,
    "Verbose logging",
);
pub(crate) const QUIET: Flag = flag(
    "--quiet",
    Some("-q"),
    Some("MP_QUIET"),
    None,
    None,
    Group::Logging,
    "Quiet logging (errors only)",
);
pub(crate) const SHUTDOWN_TIMEOUT: Flag = flag(
    "--shutdown-timeout",
    None,
    Some("MP_SHUTDOWN_TIMEOUT"),
    Some("SECS"),
    Some("10"),
    Group::Logging,
    "On SIGINT or SIGTERM, how long open sessions may take to finish",
);

/// Every flag of the server invocation, in `--help` order within each group.
pub(crate) const ALL: &[&Flag] = &[
    &HELP,
    &VERSION,
    &LABEL,
    &SMTP,
    &HOSTNAME,
    &SMTP_MAX_CONNECTIONS,
    &SMTP_MAX_RECIPIENTS,
    &SMTP_ALLOWED_RECIPIENTS,
    &MAX_MESSAGE_SIZE,
    &SMTP_TIMEOUT,
    &SMTP_DATA_TIMEOUT,
    &SMTP_TRACE,
    &SMTP_TLS_CERT,
    &SMTP_TLS_KEY,
    &SMTP_REQUIRE_STARTTLS,
    &SMTP_REQUIRE_TLS,
    &SMTPS,
    &SMTP_TLS_HANDSHAKE_TIMEOUT,
    &SMTP_AUTH_FILE,
    &SMTP_AUTH_ACCEPT_ANY,
    &SMTP_AUTH_ALLOW_INSECURE,
    &MAX,
    &MAX_AGE,
    &MAILDIR,
    &LISTEN,
    &UI_AUTH_FILE,
    &API_CORS,
    &VERBOSE,
    &QUIET,
    &SHUTDOWN_TIMEOUT,
];

/// Inline SMTP credentials, `user:secret` entries separated by whitespace.
pub(crate) const MP_SMTP_AUTH: EnvOnly = EnvOnly {
    name: "MP_SMTP_AUTH",
    group: Group::Auth,
    help: "Inline SMTP credentials: user:password entries separated by spaces",
};

/// Inline HTTP Basic-auth credentials, same format.
pub(crate) const MP_UI_AUTH: EnvOnly = EnvOnly {
    name: "MP_UI_AUTH",
    group: Group::Http,
    help: "Inline HTTP credentials: user:password entries separated by spaces",
};

/// Every environment-only setting.
pub(crate) const ENV_ONLY: &[&EnvOnly] = &[&MP_SMTP_AUTH, &MP_UI_AUTH];

/// `hash-password --bcrypt`: the default scheme, named for scripts that want to be explicit.
pub(crate) const HASH_BCRYPT: Flag = flag(
    "--bcrypt",
    None,
    None,
    None,
    None,
    Group::General,
    "Hash with bcrypt (the default)",
);

/// `hash-password --argon2`.
pub(crate) const HASH_ARGON2: Flag = flag(
    "--argon2",
    None,
    None,
    None,
    None,
    Group::General,
    "Hash with argon2id",
);

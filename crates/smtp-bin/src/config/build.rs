//! From raw options to a checked [`Config`], and the `hash-password` subcommand.
//!
//! Every option is read first (so unknown flags are reported before anything else), then
//! Mailpit's start-up checks run in the order of Mailpit's `VerifyConfig`: `--max-age`, the bind
//! addresses, the UI password file, the TLS pair and its files, the TLS requirements, the SMTP
//! password file, credentials against `--smtp-auth-accept-any`, AUTH without encryption, and the
//! recipients regexp. mailsink's own checks follow.

use std::net::{Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use super::error::ConfigError;
use super::flags;
use super::sources::{Given, Sources};
use super::values::{self, CertSource, Listener};
use super::Secret;
use super::{AuthSource, Config, HashScheme, Invocation, TlsSource};

const DEFAULT_SMTP_PORT: u16 = 1025;
const DEFAULT_HTTP_PORT: u16 = 8025;
const DEFAULT_MAX_CONNECTIONS: usize = 256;
const DEFAULT_MAX_RECIPIENTS: usize = 100;
const DEFAULT_MAX_MESSAGE_MIB: u64 = 50;
const DEFAULT_MAX_MESSAGES: usize = 500;
const DEFAULT_COMMAND_TIMEOUT_SECS: u64 = 300;
const DEFAULT_DATA_TIMEOUT_SECS: u64 = 180;
const DEFAULT_HANDSHAKE_TIMEOUT_SECS: u64 = 10;
const DEFAULT_SHUTDOWN_TIMEOUT_SECS: u64 = 10;

/// Every option as given, before any check.
struct Raw {
    smtp: Option<Given>,
    hostname: Option<Given>,
    max_connections: Option<Given>,
    max_recipients: Option<Given>,
    allowed_recipients: Option<Given>,
    max_message_size: Option<Given>,
    command_timeout: Option<Given>,
    data_timeout: Option<Given>,
    smtp_trace: bool,
    tls_cert: Option<Given>,
    tls_key: Option<Given>,
    require_starttls: bool,
    require_tls: bool,
    smtps: Option<Given>,
    handshake_timeout: Option<Given>,
    auth_file: Option<Given>,
    auth_inline: Option<Given>,
    accept_any: bool,
    allow_insecure: bool,
    max_messages: Option<Given>,
    max_age: Option<Given>,
    maildir: Option<Given>,
    listen: Option<Given>,
    ui_auth_file: Option<Given>,
    ui_auth_inline: Option<Given>,
    api_cors: Option<Given>,
    label: Option<Given>,
    verbose: bool,
    quiet: bool,
    shutdown_timeout: Option<Given>,
}

impl Raw {
    fn read(src: &mut Sources<'_>) -> Result<Self, ConfigError> {
        Ok(Raw {
            smtp: src.value(&flags::SMTP)?,
            hostname: src.value(&flags::HOSTNAME)?,
            max_connections: src.value(&flags::SMTP_MAX_CONNECTIONS)?,
            max_recipients: src.value(&flags::SMTP_MAX_RECIPIENTS)?,
            allowed_recipients: src.value(&flags::SMTP_ALLOWED_RECIPIENTS)?,
            max_message_size: src.value(&flags::MAX_MESSAGE_SIZE)?,
            command_timeout: src.value(&flags::SMTP_TIMEOUT)?,
            data_timeout: src.value(&flags::SMTP_DATA_TIMEOUT)?,
            smtp_trace: src.switch(&flags::SMTP_TRACE)?,
            tls_cert: src.value(&flags::SMTP_TLS_CERT)?,
            tls_key: src.value(&flags::SMTP_TLS_KEY)?,
            require_starttls: src.switch(&flags::SMTP_REQUIRE_STARTTLS)?,
            require_tls: src.switch(&flags::SMTP_REQUIRE_TLS)?,
            smtps: src.value(&flags::SMTPS)?,
            handshake_timeout: src.value(&flags::SMTP_TLS_HANDSHAKE_TIMEOUT)?,
            auth_file: src.value(&flags::SMTP_AUTH_FILE)?,
            auth_inline: src.env_only(&flags::MP_SMTP_AUTH),
            accept_any: src.switch(&flags::SMTP_AUTH_ACCEPT_ANY)?,
            allow_insecure: src.switch(&flags::SMTP_AUTH_ALLOW_INSECURE)?,
            max_messages: src.value(&flags::MAX)?,
            max_age: src.value(&flags::MAX_AGE)?,
            maildir: src.value(&flags::MAILDIR)?,
            listen: src.value(&flags::LISTEN)?,
            ui_auth_file: src.value(&flags::UI_AUTH_FILE)?,
            ui_auth_inline: src.env_only(&flags::MP_UI_AUTH),
            api_cors: src.value(&flags::API_CORS)?,
            label: src.value(&flags::LABEL)?,
            verbose: src.switch(&flags::VERBOSE)?,
            quiet: src.switch(&flags::QUIET)?,
            shutdown_timeout: src.value(&flags::SHUTDOWN_TIMEOUT)?,
        })
    }
}

/// Reads every option, refuses leftovers, then checks and builds the configuration.
pub(super) fn config(mut src: Sources<'_>) -> Result<Config, ConfigError> {
    let raw = Raw::read(&mut src)?;
    src.finish()?;

    // Mailpit's checks, in Mailpit's order.
    let max_age = raw
        .max_age
        .as_ref()
        .map(|age| values::max_age(&age.text))
        .transpose()?
        .flatten();
    let (smtp_addr, smtp_addr_is_default) =
        bind_or_default(&raw.smtp, Listener::Smtp, DEFAULT_SMTP_PORT)?;
    let (http_addr, http_addr_is_default) =
        bind_or_default(&raw.listen, Listener::Http, DEFAULT_HTTP_PORT)?;
    let ui_auth = auth_source(&raw.ui_auth_file, &raw.ui_auth_inline, Secrets::Ui)?;
    let tls = tls_source(&raw)?;
    check_tls_requirements(&raw, tls.is_some())?;
    let auth = auth_source(&raw.auth_file, &raw.auth_inline, Secrets::Smtp)?;
    check_auth_policy(&raw, auth.is_some(), tls.is_some())?;
    let allowed_recipients = allowed_recipients(&raw.allowed_recipients)?;

    // mailsink's own.
    let smtps_addr = smtps_addr(&raw, smtp_addr, tls.is_some())?;
    if raw.verbose && raw.quiet {
        return Err(ConfigError::VerboseAndQuiet);
    }
    let forced_starttls = auth.is_some() && !raw.allow_insecure;
    Ok(Config {
        smtp_addr,
        smtp_addr_is_default,
        hostname: hostname(&raw.hostname)?,
        max_connections: count_or(&raw.max_connections, 1, DEFAULT_MAX_CONNECTIONS)?,
        max_recipients: count_or(&raw.max_recipients, 1, DEFAULT_MAX_RECIPIENTS)?,
        allowed_recipients,
        max_message_size: max_message_size(&raw.max_message_size)?,
        command_timeout: seconds_or(&raw.command_timeout, false, DEFAULT_COMMAND_TIMEOUT_SECS)?,
        data_timeout: seconds_or(&raw.data_timeout, false, DEFAULT_DATA_TIMEOUT_SECS)?,
        smtp_trace: raw.smtp_trace,
        require_starttls: (raw.require_starttls || forced_starttls) && !raw.require_tls,
        require_tls: raw.require_tls,
        tls,
        smtps_addr,
        tls_handshake_timeout: seconds_or(
            &raw.handshake_timeout,
            false,
            DEFAULT_HANDSHAKE_TIMEOUT_SECS,
        )?,
        auth,
        auth_accept_any: raw.accept_any,
        auth_allow_insecure: raw.allow_insecure,
        max_messages: count_or(&raw.max_messages, 0, DEFAULT_MAX_MESSAGES)?,
        max_age,
        maildir: raw.maildir.map(|dir| PathBuf::from(dir.text)),
        http_addr,
        http_addr_is_default,
        ui_auth,
        api_cors: raw.api_cors.as_ref().map(values::cors_origin).transpose()?,
        label: raw.label.and_then(|label| values::label(&label.text)),
        verbose: raw.verbose,
        quiet: raw.quiet,
        shutdown_timeout: seconds_or(&raw.shutdown_timeout, true, DEFAULT_SHUTDOWN_TIMEOUT_SECS)?,
    })
}

/// `mailsink hash-password [--bcrypt|--argon2] USER`.
pub(super) fn hash_password(mut src: Sources<'_>) -> Result<Invocation, ConfigError> {
    if src.cli_switch(&flags::HELP) {
        return Ok(Invocation::Help);
    }
    let scheme = match (
        src.switch(&flags::HASH_BCRYPT)?,
        src.switch(&flags::HASH_ARGON2)?,
    ) {
        (true, true) => return Err(ConfigError::HashSchemeTwice),
        (false, true) => HashScheme::Argon2,
        (_, false) => HashScheme::Bcrypt,
    };
    let user = src.positional()?.ok_or(ConfigError::HashPasswordNoUser)?;
    src.finish()?;
    if user.is_empty() || user.contains(|c: char| c == ':' || c.is_whitespace() || c.is_control()) {
        return Err(ConfigError::HashPasswordBadUser(user));
    }
    Ok(Invocation::HashPassword { scheme, user })
}

/// The address given, or `[::]:default_port` and a note that it is the default.
fn bind_or_default(
    given: &Option<Given>,
    listener: Listener,
    default_port: u16,
) -> Result<(SocketAddr, bool), ConfigError> {
    match given {
        Some(given) => Ok((values::bind(given, listener)?, false)),
        None => Ok((
            SocketAddr::from((Ipv6Addr::UNSPECIFIED, default_port)),
            true,
        )),
    }
}

/// Which credentials a password file or inline variable is for, to pick the error wording.
#[derive(Clone, Copy)]
enum Secrets {
    Smtp,
    Ui,
}

/// A password file (checked to be readable) or inline credentials, never both.
fn auth_source(
    file: &Option<Given>,
    inline: &Option<Given>,
    secrets: Secrets,
) -> Result<Option<AuthSource>, ConfigError> {
    if let Some(file) = file {
        let path = PathBuf::from(&file.text);
        if !values::is_readable_file(&path) {
            return Err(match secrets {
                Secrets::Smtp => ConfigError::AuthFileUnreadable(path),
                Secrets::Ui => ConfigError::UiAuthFileUnreadable(path),
            });
        }
        if inline.is_some() {
            return Err(match secrets {
                Secrets::Smtp => ConfigError::SmtpAuthTwice,
                Secrets::Ui => ConfigError::UiAuthTwice,
            });
        }
        return Ok(Some(AuthSource::File(path)));
    }
    Ok(inline
        .as_ref()
        .filter(|inline| !inline.text.trim().is_empty())
        .map(|inline| AuthSource::Inline(Secret::new(inline.text.clone()))))
}

/// The certificate and key: both or neither, files readable, not half `sans:`.
fn tls_source(raw: &Raw) -> Result<Option<TlsSource>, ConfigError> {
    let (cert, key) = match (&raw.tls_cert, &raw.tls_key) {
        (None, None) => return Ok(None),
        (Some(cert), Some(key)) => (values::cert_source(cert)?, values::cert_source(key)?),
        _ => return Err(ConfigError::TlsPairIncomplete),
    };
    if let CertSource::File(path) = &cert {
        if !values::is_readable_file(path) {
            return Err(ConfigError::TlsCertUnreadable(path.clone()));
        }
    }
    if let CertSource::File(path) = &key {
        if !values::is_readable_file(path) {
            return Err(ConfigError::TlsKeyUnreadable(path.clone()));
        }
    }
    match (cert, key) {
        (CertSource::File(cert), CertSource::File(key)) => Ok(Some(TlsSource::Files { cert, key })),
        (CertSource::Sans(mut names), CertSource::Sans(more)) => {
            for name in more {
                if !names.contains(&name) {
                    names.push(name);
                }
            }
            Ok(Some(TlsSource::SelfSigned { names }))
        }
        _ => Err(ConfigError::TlsSourcesMixed),
    }
}

fn check_tls_requirements(raw: &Raw, has_tls: bool) -> Result<(), ConfigError> {
    if !has_tls && raw.require_tls {
        return Err(ConfigError::RequireTlsWithoutCert);
    }
    if !has_tls && raw.require_starttls {
        return Err(ConfigError::RequireStartTlsWithoutCert);
    }
    if (raw.require_starttls || raw.require_tls) && raw.allow_insecure {
        return Err(ConfigError::RequireTlsWithAllowInsecure);
    }
    if raw.require_starttls && raw.require_tls {
        return Err(ConfigError::RequireTlsAndStartTls);
    }
    Ok(())
}

fn check_auth_policy(raw: &Raw, has_credentials: bool, has_tls: bool) -> Result<(), ConfigError> {
    if has_credentials && raw.accept_any {
        return Err(ConfigError::CredentialsWithAcceptAny);
    }
    if !has_tls && (has_credentials || raw.accept_any) && !raw.allow_insecure {
        return Err(ConfigError::AuthWithoutEncryption);
    }
    Ok(())
}

fn allowed_recipients(given: &Option<Given>) -> Result<Option<regex::Regex>, ConfigError> {
    given
        .as_ref()
        .map(|given| {
            regex::Regex::new(&given.text)
                .map_err(|error| ConfigError::AllowedRecipients(values::regex_error_line(&error)))
        })
        .transpose()
}

fn smtps_addr(
    raw: &Raw,
    smtp_addr: SocketAddr,
    has_tls: bool,
) -> Result<Option<SocketAddr>, ConfigError> {
    let Some(given) = &raw.smtps else {
        return Ok(None);
    };
    let addr = values::bind(given, Listener::Smtps)?;
    if !has_tls {
        return Err(ConfigError::SmtpsWithoutCert);
    }
    // Port 0 asks for any free port, so two port-0 listeners never collide.
    if addr == smtp_addr && addr.port() != 0 {
        return Err(ConfigError::SmtpsSameAsSmtp);
    }
    Ok(Some(addr))
}

fn hostname(given: &Option<Given>) -> Result<String, ConfigError> {
    match given {
        Some(given) => values::hostname(given),
        None => Ok(values::system_hostname()),
    }
}

fn count_or(given: &Option<Given>, min: usize, default: usize) -> Result<usize, ConfigError> {
    given
        .as_ref()
        .map_or(Ok(default), |given| values::count(given, min))
}

fn seconds_or(
    given: &Option<Given>,
    allow_zero: bool,
    default_secs: u64,
) -> Result<Duration, ConfigError> {
    given
        .as_ref()
        .map_or(Ok(Duration::from_secs(default_secs)), |given| {
            values::seconds(given, allow_zero)
        })
}

fn max_message_size(given: &Option<Given>) -> Result<u64, ConfigError> {
    given
        .as_ref()
        .map_or(Ok(DEFAULT_MAX_MESSAGE_MIB * 1024 * 1024), values::mebibytes)
}

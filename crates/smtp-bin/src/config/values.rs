//! Parsers for single values: counts, sizes, durations, ages, bind addresses and names.
//!
//! Each takes the text as given and returns a typed value or the error that names its flag or
//! variable. None of them looks at another option; the checks that combine options live in
//! `build.rs`.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

use super::error::ConfigError;
use super::sources::Given;

const MIB: u64 = 1024 * 1024;

/// The largest `--max-message-size`, in MiB: the hard ceiling on any message.
pub(crate) const MAX_MESSAGE_MIB: u64 = 1024;

/// A certificate or key as given: a file, or `sans:` names for a self-signed certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CertSource {
    File(PathBuf),
    Sans(Vec<String>),
}

/// Which listener an address is for, to pick Mailpit's wording when it does not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Listener {
    Smtp,
    Smtps,
    Http,
}

/// A whole number no smaller than `min`.
pub(crate) fn count(given: &Given, min: usize) -> Result<usize, ConfigError> {
    let expected = if min == 0 {
        "a whole number"
    } else {
        "a whole number of at least 1"
    };
    match parse_digits::<usize>(&given.text) {
        Some(n) if n >= min => Ok(n),
        _ => Err(invalid(given, expected)),
    }
}

/// Mebibytes from 0 to [`MAX_MESSAGE_MIB`], returned in bytes.
pub(crate) fn mebibytes(given: &Given) -> Result<u64, ConfigError> {
    match parse_digits::<u64>(&given.text) {
        Some(n) if n <= MAX_MESSAGE_MIB => Ok(n * MIB),
        _ => Err(invalid(given, "a whole number of MiB from 0 to 1024")),
    }
}

/// Seconds as `30` or `0.5`; zero only when `allow_zero`.
pub(crate) fn seconds(given: &Given, allow_zero: bool) -> Result<Duration, ConfigError> {
    let expected = if allow_zero {
        "a number of seconds, e.g. 30 or 0.5"
    } else {
        "a number of seconds above zero, e.g. 30 or 0.5"
    };
    let text = given.text.as_str();
    let (whole, fraction) = text.split_once('.').unwrap_or((text, "0"));
    if !is_digits(whole) || !is_digits(fraction) {
        return Err(invalid(given, expected));
    }
    let duration = text
        .parse::<f64>()
        .ok()
        .and_then(|secs| Duration::try_from_secs_f64(secs).ok())
        .ok_or_else(|| invalid(given, expected))?;
    if duration.is_zero() && !allow_zero {
        return Err(invalid(given, expected));
    }
    Ok(duration)
}

/// Mailpit's `--max-age`: `<n>h` or `<n>d`. Zero means no age limit, as in Mailpit.
pub(crate) fn max_age(text: &str) -> Result<Option<Duration>, ConfigError> {
    let refuse = || ConfigError::MaxAge(text.to_owned());
    let (number, hours_per_unit) = match (text.strip_suffix('h'), text.strip_suffix('d')) {
        (Some(number), _) => (number, 1),
        (_, Some(number)) => (number, 24),
        _ => return Err(refuse()),
    };
    let secs = parse_digits::<u64>(number)
        .and_then(|n| n.checked_mul(hours_per_unit * 3600))
        .ok_or_else(refuse)?;
    Ok((secs > 0).then(|| Duration::from_secs(secs)))
}

/// A bind address: `ip:port`, `[v6]:port`, `:port` (every interface), `localhost:port` or
/// `name:port` (resolved now, first address wins).
pub(crate) fn bind(given: &Given, listener: Listener) -> Result<SocketAddr, ConfigError> {
    let text = given.text.as_str();
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let format_error = || match listener {
        Listener::Smtp => ConfigError::SmtpBind(text.to_owned()),
        Listener::Smtps => ConfigError::SmtpsBind(text.to_owned()),
        Listener::Http => ConfigError::HttpBind(text.to_owned()),
    };
    let (host, port) = text.rsplit_once(':').ok_or_else(format_error)?;
    let port = parse_digits::<u16>(port).ok_or_else(format_error)?;
    if host.is_empty() {
        return Ok((Ipv6Addr::UNSPECIFIED, port).into());
    }
    if host.eq_ignore_ascii_case("localhost") {
        return Ok((Ipv4Addr::LOCALHOST, port).into());
    }
    // A name must hold a letter: `1.2.3:25` is a typo, not a name for the resolver to guess at.
    if !is_host_name(host) || !host.bytes().any(|b| b.is_ascii_alphabetic()) {
        return Err(format_error());
    }
    resolve(given, host, port)
}

fn resolve(given: &Given, host: &str, port: u16) -> Result<SocketAddr, ConfigError> {
    let unresolvable = |reason: String| ConfigError::Unresolvable {
        origin: given.origin,
        value: given.text.clone(),
        reason,
    };
    (host, port)
        .to_socket_addrs()
        .map_err(|error| unresolvable(error.to_string()))?
        .next()
        .ok_or_else(|| unresolvable("no address found".to_owned()))
}

/// The name used in the banner, EHLO and `Received:`; it ends up on the wire, so it is checked.
pub(crate) fn hostname(given: &Given) -> Result<String, ConfigError> {
    if is_host_name(&given.text) {
        Ok(given.text.clone())
    } else {
        Err(invalid(
            given,
            "a host name of letters, digits, '-', '_' and '.'",
        ))
    }
}

/// The system's host name, or `localhost` when it cannot be read or is not a usable name.
pub(crate) fn system_hostname() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .filter_map(|path| std::fs::read_to_string(path).ok())
        .map(|text| text.trim().to_owned())
        .find(|name| is_host_name(name))
        .unwrap_or_else(|| "localhost".to_owned())
}

/// Mailpit normalizes its label: whitespace runs become one space, control characters go.
pub(crate) fn label(text: &str) -> Option<String> {
    let label: String = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    (!label.is_empty()).then_some(label)
}

/// The `Access-Control-Allow-Origin` value; it becomes a header, so no control characters.
pub(crate) fn cors_origin(given: &Given) -> Result<String, ConfigError> {
    let origin = given.text.trim();
    if origin.chars().any(char::is_control) {
        return Err(invalid(given, "an origin without control characters"));
    }
    Ok(origin.to_owned())
}

/// A certificate or key flag: `sans:name[,name]` or a path.
pub(crate) fn cert_source(given: &Given) -> Result<CertSource, ConfigError> {
    let Some(names) = given.text.strip_prefix("sans:") else {
        return Ok(CertSource::File(PathBuf::from(&given.text)));
    };
    let names: Vec<String> = names
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .collect();
    if names.is_empty() {
        return Err(ConfigError::SansWithoutNames(given.origin));
    }
    Ok(CertSource::Sans(names))
}

/// Whether `path` is a regular file this process can open: Mailpit's "found or readable".
pub(crate) fn is_readable_file(path: &std::path::Path) -> bool {
    std::fs::metadata(path).is_ok_and(|meta| meta.is_file()) && std::fs::File::open(path).is_ok()
}

/// The regex crate's multi-line syntax error, cut down to its one-line cause.
pub(crate) fn regex_error_line(error: &regex::Error) -> String {
    let text = error.to_string();
    text.lines()
        .find_map(|line| line.strip_prefix("error: "))
        .map(str::to_owned)
        .unwrap_or_else(|| text.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// Labels of letters, digits, `-` and `_`, joined by dots: at most 253 bytes, each label 1 to 63.
fn is_host_name(name: &str) -> bool {
    name.len() <= 253
        && name.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// Digits only (no sign, no spaces), parsed; `None` when empty, not digits, or too large.
fn parse_digits<T: std::str::FromStr>(text: &str) -> Option<T> {
    if is_digits(text) {
        text.parse().ok()
    } else {
        None
    }
}

fn is_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

fn invalid(given: &Given, expected: &'static str) -> ConfigError {
    ConfigError::InvalidValue {
        origin: given.origin,
        value: given.text.clone(),
        expected,
    }
}

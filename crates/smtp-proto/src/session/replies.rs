//! The session's fixed replies, with Mailpit's codes and texts (DESIGN section 3).

use crate::config::Config;
use crate::event::StoreFailure;
use crate::reply::{self, EnhancedStatus, Reply, ReplyCode};
use crate::sasl::SaslError;

pub(super) fn ok() -> Reply {
    Reply::new(ReplyCode::OK, EnhancedStatus::new(2, 0, 0), "Ok")
}

pub(super) fn bad_sequence(why: &str) -> Reply {
    Reply::new(
        ReplyCode::BAD_SEQUENCE,
        EnhancedStatus::new(5, 5, 1),
        format!("Bad sequence of commands ({why})"),
    )
}

pub(super) fn not_implemented() -> Reply {
    Reply::new(
        ReplyCode::NOT_IMPLEMENTED,
        EnhancedStatus::new(5, 5, 1),
        "Command not implemented",
    )
}

pub(super) fn must_starttls() -> Reply {
    Reply::new(
        ReplyCode::AUTH_REQUIRED,
        EnhancedStatus::new(5, 7, 0),
        "Must issue a STARTTLS command first",
    )
}

pub(super) fn auth_required() -> Reply {
    Reply::new(
        ReplyCode::AUTH_REQUIRED,
        EnhancedStatus::new(5, 7, 0),
        "Authentication required",
    )
}

pub(super) fn too_big(limit: u64) -> Reply {
    Reply::new(
        ReplyCode::EXCEEDED_STORAGE,
        EnhancedStatus::new(5, 3, 4),
        format!("Requested mail action aborted: exceeded storage allocation ({limit})"),
    )
}

pub(super) fn cannot_vrfy() -> Reply {
    Reply::new(
        ReplyCode::CANNOT_VRFY,
        EnhancedStatus::new(2, 5, 0),
        "Cannot VRFY user, but will accept message and attempt delivery",
    )
}

pub(super) fn store_failed(failure: StoreFailure) -> Reply {
    match failure {
        StoreFailure::InsufficientStorage => Reply::new(
            ReplyCode::INSUFFICIENT_STORAGE,
            EnhancedStatus::new(4, 3, 1),
            "Insufficient system storage",
        ),
        StoreFailure::LocalError => Reply::new(
            ReplyCode::LOCAL_ERROR,
            EnhancedStatus::new(4, 3, 0),
            "Requested action aborted: local error in processing",
        ),
    }
}

pub(super) fn sasl_error(err: SaslError) -> Reply {
    let text = match err {
        SaslError::Decode => "Syntax error (unable to decode)",
        SaslError::Parse | SaslError::AuthzidMismatch => "Syntax error (unable to parse)",
    };
    Reply::new(ReplyCode::PARAM_SYNTAX, EnhancedStatus::new(5, 5, 2), text)
}

pub(super) fn help(config: &Config) -> Reply {
    let mut text = String::from("Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP VRFY HELP QUIT");
    if config.tls != crate::TlsPolicy::Unavailable {
        text.push_str(" STARTTLS");
    }
    if !config.mechanisms().is_empty() {
        text.push_str(" AUTH");
    }
    Reply::new(ReplyCode::HELP, EnhancedStatus::new(2, 0, 0), text)
}

/// Writes the EHLO reply, its lines in a fixed order. STARTTLS only before TLS; AUTH only
/// when it can succeed on this connection now (DESIGN section 4). Written straight into the
/// output: a STARTTLS session answers EHLO twice, and formatting a string per line cost more
/// than the rest of the command.
pub(super) fn write_ehlo(
    out: &mut Vec<u8>,
    config: &Config,
    client: &str,
    tls: bool,
    auth_usable: bool,
) {
    let line = |out: &mut Vec<u8>, parts: &[&str]| {
        reply::write_parts(out, ReplyCode::OK, false, None, parts);
    };
    line(out, &[&config.hostname, " greets ", client]);
    out.extend_from_slice(b"250-SIZE ");
    reply::push_decimal(out, config.message_limit());
    out.extend_from_slice(b"\r\n");
    if config.tls != crate::TlsPolicy::Unavailable && !tls {
        line(out, &["STARTTLS"]);
    }
    if auth_usable {
        out.extend_from_slice(b"250-AUTH");
        for mechanism in config.mechanisms() {
            out.push(b' ');
            out.extend_from_slice(mechanism.name().as_bytes());
        }
        out.extend_from_slice(b"\r\n");
    }
    for extension in ["PIPELINING", "CHUNKING", "8BITMIME", "SMTPUTF8"] {
        line(out, &[extension]);
    }
    reply::write_parts(out, ReplyCode::OK, true, None, &["ENHANCEDSTATUSCODES"]);
}

/// A command line as the transcript shows it: AUTH initial responses are redacted.
pub(super) fn redact_command(line: &[u8]) -> String {
    let text = String::from_utf8_lossy(line);
    let mut words = text.split(' ').filter(|w| !w.is_empty());
    match (words.next(), words.next(), words.next()) {
        (Some(verb), Some(mechanism), Some(_)) if verb.eq_ignore_ascii_case("AUTH") => {
            format!("{verb} {mechanism} <redacted>")
        }
        _ => text.into_owned(),
    }
}

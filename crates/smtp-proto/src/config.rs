//! What a session needs to know about the server: names, limits and the TLS and AUTH policy.

use std::fmt;
use std::sync::Arc;

use crate::sasl::Mechanism;

/// With `--max-message-size 0` SMTP advertises no operator limit, but memory must stay bounded:
/// no message is ever held beyond this many bytes (1 GiB).
pub const HARD_MESSAGE_CEILING: u64 = 1 << 30;

/// RFC 5321 section 4.5.3.1.4 sets 512 octets for a command line. Extensions make lines longer
/// and clients are sloppy, so up to this many octets are accepted; longer lines get `500`.
pub const MAX_COMMAND_LINE: usize = 4096;

/// RFC 4954 section 4: AUTH lines may be up to 12288 octets.
pub const MAX_AUTH_LINE: usize = 12288;

/// Decides whether a recipient is accepted (`--smtp-allowed-recipients`).
pub trait RecipientFilter: Send + Sync + fmt::Debug {
    fn allows(&self, recipient: &str) -> bool;
}

/// STARTTLS policy for a listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsPolicy {
    /// No certificate: STARTTLS is not offered.
    Unavailable,
    /// STARTTLS is offered.
    Optional,
    /// STARTTLS is offered and every command but EHLO, HELO, NOOP, STARTTLS and QUIT is refused
    /// until TLS is up (RFC 3207 section 4).
    Required,
}

/// SMTP AUTH policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthPolicy {
    /// AUTH is not offered and answers `502`.
    Disabled,
    Enabled {
        /// MAIL, RCPT, DATA and BDAT need a successful AUTH first.
        required: bool,
        /// AUTH may run over plaintext (`--smtp-auth-allow-insecure`).
        allow_plaintext: bool,
        /// Offer CRAM-MD5 (only when some user's password is stored in plain text).
        cram_md5: bool,
    },
}

/// Server-wide session settings, shared by every session through an `Arc`.
#[derive(Debug, Clone)]
pub struct Config {
    /// Our name in the greeting, EHLO and `Received:`.
    pub hostname: String,
    /// `mailsink`, or `mailsink (LABEL)` with `--label`.
    pub app_name: String,
    /// `--max-message-size` in bytes; 0 means no operator limit (see [`HARD_MESSAGE_CEILING`]).
    pub max_message_size: u64,
    pub max_recipients: usize,
    pub recipient_filter: Option<Arc<dyn RecipientFilter>>,
    pub tls: TlsPolicy,
    pub auth: AuthPolicy,
    /// Failed AUTH attempts allowed per connection; the last one is answered `421` and closes.
    pub max_auth_failures: u32,
    /// Record a transcript for `--smtp-trace` (see [`crate::Session::poll_transcript`]).
    pub transcript: bool,
}

impl Config {
    /// Defaults matching Mailpit's: 50 MiB messages, 100 recipients, no TLS, no AUTH.
    pub fn new(hostname: impl Into<String>) -> Self {
        Self {
            hostname: hostname.into(),
            app_name: "mailsink".to_owned(),
            max_message_size: 50 * 1024 * 1024,
            max_recipients: 100,
            recipient_filter: None,
            tls: TlsPolicy::Unavailable,
            auth: AuthPolicy::Disabled,
            max_auth_failures: 3,
            transcript: false,
        }
    }

    /// The size limit actually enforced, in bytes.
    pub fn message_limit(&self) -> u64 {
        match self.max_message_size {
            0 => HARD_MESSAGE_CEILING,
            n => n.min(HARD_MESSAGE_CEILING),
        }
    }

    /// The mechanisms offered, in EHLO order.
    pub(crate) fn mechanisms(&self) -> &'static [Mechanism] {
        match self.auth {
            AuthPolicy::Disabled => &[],
            AuthPolicy::Enabled { cram_md5: true, .. } => {
                &[Mechanism::Plain, Mechanism::Login, Mechanism::CramMd5]
            }
            AuthPolicy::Enabled {
                cram_md5: false, ..
            } => &[Mechanism::Plain, Mechanism::Login],
        }
    }
}

/// Facts about one connection that the session cannot find out itself.
#[derive(Debug, Clone, Default)]
pub struct ConnectionInfo {
    /// The connection is already TLS (implicit TLS, RFC 8314).
    pub tls: bool,
    /// A unique, unpredictable token for the CRAM-MD5 challenge `<token@hostname>`.
    pub challenge_token: String,
}

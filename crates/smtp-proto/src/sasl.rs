//! SASL decoding for SMTP AUTH (RFC 4954): PLAIN (RFC 4616), LOGIN and CRAM-MD5 (RFC 2195).
//!
//! Pure functions from the client's base64 lines to credentials. Passwords are wrapped in
//! [`Secret`] at once so they cannot reach a log through `Debug`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use crate::secret::Secret;

/// The mechanisms this server implements, in the order EHLO lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mechanism {
    Plain,
    Login,
    CramMd5,
}

impl Mechanism {
    pub fn name(self) -> &'static str {
        match self {
            Mechanism::Plain => "PLAIN",
            Mechanism::Login => "LOGIN",
            Mechanism::CramMd5 => "CRAM-MD5",
        }
    }

    pub(crate) fn from_name(name: &str) -> Option<Self> {
        [Mechanism::Plain, Mechanism::Login, Mechanism::CramMd5]
            .into_iter()
            .find(|m| m.name().eq_ignore_ascii_case(name))
    }
}

/// What the client proved it knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Proof {
    /// PLAIN and LOGIN: the password itself.
    Password(Secret<Vec<u8>>),
    /// CRAM-MD5: the challenge we sent and the client's hex HMAC-MD5 digest.
    CramMd5 { challenge: Vec<u8>, digest: String },
}

/// Credentials to verify, produced by the session as [`crate::Event::Authenticate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthRequest {
    pub mechanism: Mechanism,
    pub username: String,
    pub proof: Proof,
}

/// Why a SASL line was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaslError {
    /// Not base64.
    Decode,
    /// Base64, but not the mechanism's shape.
    Parse,
    /// PLAIN with an authorization identity other than the authentication identity.
    AuthzidMismatch,
}

/// Decodes one base64 line; `=` is the empty initial response (RFC 4954 section 4).
pub fn decode(line: &str) -> Result<Vec<u8>, SaslError> {
    if line == "=" {
        return Ok(Vec::new());
    }
    STANDARD.decode(line.trim()).map_err(|_| SaslError::Decode)
}

pub fn encode(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// PLAIN: `authzid NUL authcid NUL passwd`.
pub fn plain(decoded: &[u8]) -> Result<AuthRequest, SaslError> {
    let mut parts = decoded.split(|&b| b == 0);
    let (Some(authzid), Some(authcid), Some(password), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(SaslError::Parse);
    };
    if authcid.is_empty() {
        return Err(SaslError::Parse);
    }
    if !authzid.is_empty() && authzid != authcid {
        return Err(SaslError::AuthzidMismatch);
    }
    Ok(AuthRequest {
        mechanism: Mechanism::Plain,
        username: utf8(authcid)?,
        proof: Proof::Password(Secret::new(password.to_vec())),
    })
}

/// CRAM-MD5: `username SP hex-digest`.
pub fn cram_md5(decoded: &[u8], challenge: &[u8]) -> Result<AuthRequest, SaslError> {
    let text = std::str::from_utf8(decoded).map_err(|_| SaslError::Parse)?;
    let (username, digest) = text.rsplit_once(' ').ok_or(SaslError::Parse)?;
    if username.is_empty() || digest.len() != 32 || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(SaslError::Parse);
    }
    Ok(AuthRequest {
        mechanism: Mechanism::CramMd5,
        username: username.to_owned(),
        proof: Proof::CramMd5 {
            challenge: challenge.to_vec(),
            digest: digest.to_ascii_lowercase(),
        },
    })
}

pub(crate) fn utf8(bytes: &[u8]) -> Result<String, SaslError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| SaslError::Parse)
}

//! Errors: [`TlsError`] for loading certificates and building the configuration,
//! [`HandshakeError`] for one connection's handshake.
//!
//! Neither carries key material or PEM contents: a [`TlsError`] names the file and what is
//! wrong with it, in words an operator can act on and search for.

use std::error::Error;
use std::fmt;
use std::io;
use std::path::PathBuf;
use std::time::Duration;

/// The certificate or key could not be loaded, or the TLS configuration not built.
///
/// At start-up the binary prints it and exits 1; on reload the old configuration stays.
#[derive(Debug)]
#[non_exhaustive]
pub enum TlsError {
    /// A file could not be read.
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// A file is not well-formed PEM.
    InvalidPem {
        /// The file.
        path: PathBuf,
        /// What is wrong, without quoting the file.
        problem: &'static str,
    },
    /// The certificate file holds no `CERTIFICATE` section.
    NoCertificate {
        /// The file.
        path: PathBuf,
    },
    /// The key file holds no unencrypted private key section.
    NoPrivateKey {
        /// The file.
        path: PathBuf,
    },
    /// The key file holds only a passphrase-protected key.
    EncryptedKey {
        /// The file.
        path: PathBuf,
    },
    /// The key could not be used: a type or curve the `ring` provider does not support, or
    /// a malformed key.
    UnsupportedKey {
        /// The file.
        path: PathBuf,
        /// What rustls said about it.
        reason: rustls::Error,
    },
    /// The leaf certificate could not be parsed.
    InvalidCertificate {
        /// The file.
        path: PathBuf,
        /// What rustls said about it.
        reason: rustls::Error,
    },
    /// The key is not the one the leaf certificate was issued for.
    KeyMismatch {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
    },
    /// `sans:` with no names after it.
    NoSanNames,
    /// A `sans:` name that is neither an IP address nor a DNS name.
    InvalidSanName {
        /// The name as given.
        name: String,
    },
    /// Both flags are `sans:` lists, with different names.
    SansDiffer,
    /// The self-signed certificate could not be generated.
    Generate(rcgen::Error),
    /// rustls refused the configuration.
    Config(rustls::Error),
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unreadable { path, source } => {
                write!(f, "cannot read {}: {source}", path.display())
            }
            Self::InvalidPem { path, problem } => {
                write!(f, "{} is not valid PEM: {problem}", path.display())
            }
            Self::NoCertificate { path } => {
                write!(f, "no certificate found in {}", path.display())
            }
            Self::NoPrivateKey { path } => write!(f, "no private key found in {}", path.display()),
            Self::EncryptedKey { path } => write!(
                f,
                "the private key in {} is encrypted; give an unencrypted key \
                 (openssl pkey -in ENCRYPTED.pem -out key.pem)",
                path.display()
            ),
            Self::UnsupportedKey { path, reason } => {
                write!(f, "unsupported private key in {}: {reason}", path.display())
            }
            Self::InvalidCertificate { path, reason } => {
                write!(f, "invalid certificate in {}: {reason}", path.display())
            }
            Self::KeyMismatch { cert, key } => write!(
                f,
                "certificate and key do not match ({} and {})",
                cert.display(),
                key.display()
            ),
            Self::NoSanNames => f.write_str("sans: needs at least one name, as in sans:localhost"),
            Self::InvalidSanName { name } => {
                write!(
                    f,
                    "{name:?} in sans: is neither an IP address nor a DNS name"
                )
            }
            Self::SansDiffer => {
                f.write_str("the certificate and key flags give different sans: lists")
            }
            Self::Generate(e) => write!(f, "cannot generate the self-signed certificate: {e}"),
            Self::Config(e) => write!(f, "cannot build the TLS configuration: {e}"),
        }
    }
}

impl Error for TlsError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            Self::Unreadable { source, .. } => Some(source),
            Self::UnsupportedKey { reason, .. } | Self::InvalidCertificate { reason, .. } => {
                Some(reason)
            }
            Self::Generate(e) => Some(e),
            Self::Config(e) => Some(e),
            _ => None,
        }
    }
}

/// A TLS handshake failed; the caller closes the connection.
#[derive(Debug)]
#[non_exhaustive]
pub enum HandshakeError {
    /// Implicit TLS: the client's first byte does not start a TLS handshake record, so it
    /// is not speaking TLS (typically a plaintext SMTP client).
    NotTls {
        /// The byte received.
        first_byte: u8,
    },
    /// The peer closed or reset the connection before the handshake finished.
    Closed,
    /// The handshake did not finish within its deadline.
    TimedOut {
        /// The deadline the handshake had, from its start.
        after: Duration,
    },
    /// The TLS protocol failed: no common version or cipher suite, a bad message, an alert
    /// from the peer.
    Tls(rustls::Error),
    /// Another socket error.
    Io(io::Error),
    /// `upgrade` was called on a connection that already uses TLS.
    AlreadyTls,
}

impl fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotTls { first_byte } => write!(
                f,
                "client did not start a TLS handshake (first byte {first_byte:#04x}, \
                 expected 0x16); is it speaking plaintext to an implicit-TLS port?"
            ),
            Self::Closed => f.write_str("peer closed the connection during the TLS handshake"),
            Self::TimedOut { after } => {
                write!(f, "TLS handshake not completed within {after:?}")
            }
            Self::Tls(e) => write!(f, "TLS handshake failed: {e}"),
            Self::Io(e) => write!(f, "I/O error during the TLS handshake: {e}"),
            Self::AlreadyTls => f.write_str("connection already uses TLS"),
        }
    }
}

impl Error for HandshakeError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            Self::Tls(e) => Some(e),
            Self::Io(e) => Some(e),
            _ => None,
        }
    }
}

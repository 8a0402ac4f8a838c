//! Where the server's certificate comes from: a pair of PEM files, or a self-signed
//! certificate for `sans:name[,name]`.

use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;

use rustls_pki_types::DnsName;

use crate::error::TlsError;

/// The prefix that turns the cert or key flag into a list of names for a self-signed
/// certificate, as Mailpit spells it.
const SANS_PREFIX: &str = "sans:";

/// Where the server's certificate and key come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsSource {
    /// A PEM certificate chain (leaf first) and a PEM private key. They may be the same file.
    Files {
        /// The certificate chain (`--smtp-tls-cert`).
        cert: PathBuf,
        /// The private key (`--smtp-tls-key`).
        key: PathBuf,
    },
    /// A self-signed ECDSA P-256 certificate made in memory for these names.
    SelfSigned {
        /// The subject alternative names, in the order given; never empty.
        names: Vec<SanName>,
    },
}

impl TlsSource {
    /// Reads the `--smtp-tls-cert` and `--smtp-tls-key` values.
    ///
    /// Either value may be `sans:name[,name]`; the other is then ignored, except that when
    /// both are `sans:` lists they must name the same names. Checking that both flags are
    /// given at all is the caller's job (Mailpit's start-up rules).
    pub fn from_flags(cert: &str, key: &str) -> Result<Self, TlsError> {
        let names = match (sans_list(cert), sans_list(key)) {
            (Some(cert_names), Some(key_names)) if cert_names != key_names => {
                return Err(TlsError::SansDiffer);
            }
            (Some(names), _) | (None, Some(names)) => names,
            (None, None) => {
                return Ok(Self::Files {
                    cert: cert.into(),
                    key: key.into(),
                });
            }
        };
        if names.is_empty() {
            return Err(TlsError::NoSanNames);
        }
        let names = names
            .into_iter()
            .map(SanName::parse)
            .collect::<Result<_, _>>()?;
        Ok(Self::SelfSigned { names })
    }
}

impl fmt::Display for TlsSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Files { cert, key } => write!(f, "{} and {}", cert.display(), key.display()),
            Self::SelfSigned { names } => {
                f.write_str("self-signed for ")?;
                for (i, name) in names.iter().enumerate() {
                    let separator = if i == 0 { "" } else { "," };
                    write!(f, "{separator}{name}")?;
                }
                Ok(())
            }
        }
    }
}

/// The names after `sans:`, with surrounding blanks and empty items removed.
fn sans_list(flag: &str) -> Option<Vec<&str>> {
    let list = flag.trim().strip_prefix(SANS_PREFIX)?;
    Some(
        list.split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .collect(),
    )
}

/// One subject alternative name of a self-signed certificate.
///
/// IP addresses become IP SANs (clients match an IP only against those), everything else a
/// DNS SAN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SanName {
    /// A host name, possibly a wildcard such as `*.example.test`.
    Dns(String),
    /// An IPv4 or IPv6 address; IPv6 may be written in brackets.
    Ip(IpAddr),
}

impl SanName {
    /// Parses one name; a name that is neither an IP address nor a valid DNS name is refused.
    pub fn parse(name: &str) -> Result<Self, TlsError> {
        let name = name.trim();
        let unbracketed = name.strip_prefix('[').and_then(|n| n.strip_suffix(']'));
        if let Ok(ip) = unbracketed.unwrap_or(name).parse::<IpAddr>() {
            return Ok(Self::Ip(ip));
        }
        let base = name.strip_prefix("*.").unwrap_or(name);
        match DnsName::try_from(base) {
            Ok(_) => Ok(Self::Dns(name.to_owned())),
            Err(_) => Err(TlsError::InvalidSanName {
                name: name.to_owned(),
            }),
        }
    }
}

impl fmt::Display for SanName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Dns(name) => f.write_str(name),
            Self::Ip(ip) => write!(f, "{ip}"),
        }
    }
}

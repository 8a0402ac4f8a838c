//! The server's identity: a certificate chain with its signing key, loaded from PEM files or
//! generated, and the SHA-256 fingerprint of its leaf certificate.

use std::fmt;
use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::sign::CertifiedKey;
use rustls::InconsistentKeys;
use rustls_pki_types::pem::{self, PemObject};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::error::TlsError;
use crate::self_signed;
use crate::source::TlsSource;

/// Certificate and key files larger than this are refused rather than read: a server chain
/// is a few kilobytes, and a path such as `/dev/zero` must not exhaust memory.
const MAX_PEM_FILE_BYTES: u64 = 1024 * 1024;

/// A certificate chain and the key that signs for its leaf.
pub(crate) struct Identity {
    pub(crate) certified_key: Arc<CertifiedKey>,
    pub(crate) fingerprint: Fingerprint,
}

impl Identity {
    /// Loads the files, or generates a self-signed certificate, per `source`.
    pub(crate) fn load(source: &TlsSource, provider: &CryptoProvider) -> Result<Self, TlsError> {
        match source {
            TlsSource::Files { cert, key } => Self::from_files(cert, key, provider),
            TlsSource::SelfSigned { names } => self_signed::generate(names, provider),
        }
    }

    /// Reads a PEM chain and a PEM key and checks that the key belongs to the leaf.
    fn from_files(
        cert_path: &Path,
        key_path: &Path,
        provider: &CryptoProvider,
    ) -> Result<Self, TlsError> {
        let chain = read_chain(cert_path)?;
        let key = read_key(key_path)?;
        let signing_key = provider
            .key_provider
            .load_private_key(key)
            .map_err(|reason| TlsError::UnsupportedKey {
                path: key_path.into(),
                reason,
            })?;
        let certified_key = CertifiedKey::new(chain, signing_key);
        match certified_key.keys_match() {
            // `Unknown`: the key cannot give its public half, so there is nothing to compare.
            Ok(()) | Err(rustls::Error::InconsistentKeys(InconsistentKeys::Unknown)) => {}
            Err(rustls::Error::InconsistentKeys(InconsistentKeys::KeyMismatch)) => {
                return Err(TlsError::KeyMismatch {
                    cert: cert_path.into(),
                    key: key_path.into(),
                });
            }
            Err(reason) => {
                return Err(TlsError::InvalidCertificate {
                    path: cert_path.into(),
                    reason,
                });
            }
        }
        Ok(Self::new(certified_key))
    }

    /// Wraps a chain whose key is known to match; the chain must not be empty.
    pub(crate) fn new(certified_key: CertifiedKey) -> Self {
        let leaf = certified_key
            .cert
            .first()
            .map_or(&[][..], |der| der.as_ref());
        let fingerprint = Fingerprint::of(leaf);
        Self {
            certified_key: Arc::new(certified_key),
            fingerprint,
        }
    }
}

/// All `CERTIFICATE` sections of a PEM file, in order (leaf first).
fn read_chain(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = read_pem_file(path)?;
    let chain = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_error(path, e))?;
    match chain.is_empty() {
        true => Err(TlsError::NoCertificate { path: path.into() }),
        false => Ok(chain),
    }
}

/// The first PKCS#1, SEC1 or PKCS#8 private key of a PEM file.
fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let pem = read_pem_file(path)?;
    match PrivateKeyDer::from_pem_slice(&pem) {
        Ok(key) => Ok(key),
        Err(_) if is_encrypted(&pem) => Err(TlsError::EncryptedKey { path: path.into() }),
        Err(pem::Error::NoItemsFound) => Err(TlsError::NoPrivateKey { path: path.into() }),
        Err(e) => Err(pem_error(path, e)),
    }
}

/// Whether the PEM holds a passphrase-protected key: PKCS#8 `ENCRYPTED PRIVATE KEY`, or a
/// traditional OpenSSL key with a `Proc-Type: 4,ENCRYPTED` header.
fn is_encrypted(pem: &[u8]) -> bool {
    let contains = |needle: &[u8]| pem.windows(needle.len()).any(|w| w == needle);
    contains(b"-----BEGIN ENCRYPTED PRIVATE KEY-----") || contains(b"Proc-Type: 4,ENCRYPTED")
}

/// Reads a whole file of at most [`MAX_PEM_FILE_BYTES`].
fn read_pem_file(path: &Path) -> Result<Vec<u8>, TlsError> {
    let unreadable = |source| TlsError::Unreadable {
        path: path.into(),
        source,
    };
    let mut pem = Vec::new();
    File::open(path)
        .and_then(|file| file.take(MAX_PEM_FILE_BYTES + 1).read_to_end(&mut pem))
        .map_err(unreadable)?;
    if pem.len() as u64 > MAX_PEM_FILE_BYTES {
        return Err(TlsError::InvalidPem {
            path: path.into(),
            problem: "file is larger than 1 MiB",
        });
    }
    Ok(pem)
}

/// Describes a PEM syntax error without quoting the file (which may hold a key).
fn pem_error(path: &Path, error: pem::Error) -> TlsError {
    let problem = match error {
        pem::Error::Io(source) => {
            return TlsError::Unreadable {
                path: path.into(),
                source,
            }
        }
        pem::Error::MissingSectionEnd { .. } => "a section has no END line",
        pem::Error::IllegalSectionStart { .. } => "a BEGIN line is malformed",
        pem::Error::Base64Decode(_) => "a section is not valid base64",
        pem::Error::SectionTooLarge => "a section is too large",
        _ => "the file could not be parsed",
    };
    TlsError::InvalidPem {
        path: path.into(),
        problem,
    }
}

/// The SHA-256 digest of a DER certificate, as `openssl x509 -fingerprint -sha256` shows it.
///
/// Displayed as upper-case hex pairs joined by colons, so an operator can compare the value
/// logged at start-up with what a client reports.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint([u8; 32]);

impl Fingerprint {
    /// The fingerprint of a DER-encoded certificate.
    pub fn of(der: &[u8]) -> Self {
        let digest = ring::digest::digest(&ring::digest::SHA256, der);
        let mut bytes = [0; 32];
        bytes.copy_from_slice(digest.as_ref());
        Self(bytes)
    }

    /// The raw digest.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, byte) in self.0.iter().enumerate() {
            let separator = if i == 0 { "" } else { ":" };
            write!(f, "{separator}{byte:02X}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

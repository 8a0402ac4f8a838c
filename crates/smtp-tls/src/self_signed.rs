//! A self-signed ECDSA P-256 certificate for `sans:name[,name]`, made in memory.
//!
//! Nothing touches the file system, so a read-only `/tmp` works. IP addresses go into IP
//! SANs and names into DNS SANs: clients match an IP only against IP SANs (RFC 6125), which
//! is why Mailpit's certificates, with IPs in DNS SANs, are rejected for IP connections.

use rcgen::string::Ia5String;
use rcgen::{
    CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, KeyPair,
    KeyUsagePurpose, SanType,
};
use rustls::crypto::CryptoProvider;
use rustls::sign::CertifiedKey;
use rustls_pki_types::PrivateKeyDer;
use time::{Duration, OffsetDateTime};

use crate::error::TlsError;
use crate::identity::Identity;
use crate::source::SanName;

/// Validity after start-up: within the 398 days some clients accept for any TLS server
/// certificate. The certificate is made anew at every start.
const VALIDITY: Duration = Duration::days(397);

/// Validity before start-up, to tolerate a client whose clock is a little behind.
const BACKDATE: Duration = Duration::hours(1);

/// The organisation in the subject, so the certificate is recognisable in a client.
const ORGANIZATION: &str = "mailsink self-signed";

/// Generates a fresh key pair and a certificate for `names` signed by it.
pub(crate) fn generate(names: &[SanName], provider: &CryptoProvider) -> Result<Identity, TlsError> {
    let key_pair =
        KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(TlsError::Generate)?;
    let cert = params(names)?
        .self_signed(&key_pair)
        .map_err(TlsError::Generate)?;
    let signing_key = provider
        .key_provider
        .load_private_key(PrivateKeyDer::from(key_pair))
        .map_err(TlsError::Config)?;
    Ok(Identity::new(CertifiedKey::new(
        vec![cert.into()],
        signing_key,
    )))
}

/// An end-entity server certificate: the names as SANs, the first as common name.
fn params(names: &[SanName]) -> Result<CertificateParams, TlsError> {
    let mut params = CertificateParams::default();
    params.subject_alt_names = names.iter().map(san).collect::<Result<_, _>>()?;
    params.distinguished_name = DistinguishedName::new();
    if let Some(first) = names.first() {
        params
            .distinguished_name
            .push(DnType::CommonName, first.to_string());
    }
    params
        .distinguished_name
        .push(DnType::OrganizationName, ORGANIZATION);
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let now = OffsetDateTime::now_utc();
    params.not_before = now - BACKDATE;
    params.not_after = now + VALIDITY;
    Ok(params)
}

fn san(name: &SanName) -> Result<SanType, TlsError> {
    match name {
        SanName::Ip(ip) => Ok(SanType::IpAddress(*ip)),
        SanName::Dns(dns) => Ia5String::try_from(dns.as_str())
            .map(SanType::DnsName)
            .map_err(|_| TlsError::InvalidSanName { name: dns.clone() }),
    }
}

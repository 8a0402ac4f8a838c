//! TLS for the mailsink SMTP server: certificates in, a rustls `ServerConfig` and a byte
//! stream out.
//!
//! This crate is the only place that touches rustls. It does four things:
//!
//! - **Load** a certificate chain and private key from PEM files (RSA, ECDSA P-256/P-384 and
//!   Ed25519; PKCS#1, SEC1 and PKCS#8 keys), or **generate** a self-signed ECDSA P-256
//!   certificate in memory for `sans:name[,name]` ([`TlsSource`]).
//! - **Configure** a rustls server with the `ring` provider (X25519 done by `graviola` where
//!   the CPU runs it, [`kx_groups`]): TLS 1.2 and 1.3 only, session resumption by tickets and
//!   by a server-side session cache, no ALPN, no client certificates, the cipher suite chosen
//!   per client as Go's `crypto/tls` (so Mailpit) chooses it ([`TlsConfig`]).
//! - **Rotate** without a restart: [`ReloadableTls`] holds the current `Arc<TlsConfig>`,
//!   reloads on demand (SIGHUP) or when the files change on disk, and keeps the old
//!   configuration when the new pair is broken.
//! - **Carry bytes**: [`Transport`] is a plain or TLS TCP stream implementing `Read + Write`,
//!   with [`Transport::upgrade`] for STARTTLS and [`Transport::accept_implicit`] for implicit
//!   TLS. Both finish the handshake eagerly, within one total deadline.
//!
//! # Driving a connection
//!
//! ```no_run
//! # use std::{io::Write, net::TcpListener, time::Duration};
//! # use smtp_tls::{ReloadableTls, SocketTimeouts, TlsSource, Transport};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let tls = ReloadableTls::load(TlsSource::from_flags("sans:localhost,127.0.0.1", "")?)?;
//! eprintln!("self-signed certificate, SHA-256 fingerprint {}", tls.fingerprint());
//!
//! let listener = TcpListener::bind("127.0.0.1:0")?;
//! let (tcp, _peer) = listener.accept()?;
//! // Implicit TLS: the handshake comes first and must finish within the timeout. The socket
//! // has no timeouts of its own, so the handshake sets them, and takes them off again.
//! let none = SocketTimeouts { read: None, write: None };
//! let mut transport = Transport::accept_implicit(tcp, &tls.current(), Duration::from_secs(10), none)?;
//! transport.write_all(b"220 mailsink ESMTP ready\r\n")?;
//! transport.flush()?;
//! # Ok(()) }
//! ```
//!
//! For STARTTLS the connection starts as `Transport::from(tcp)`; after the `220 2.0.0 Ready
//! to start TLS` reply the caller drops whatever plaintext it had buffered and calls
//! [`Transport::upgrade`]. The transport never buffers plaintext itself, so nothing sent
//! before the handshake can leak into the TLS session.
//!
//! # Secrets
//!
//! No error, `Debug` or `Display` output of this crate contains key material or PEM
//! contents: errors name the file and what is wrong with it.

mod error;
mod identity;
mod random;
mod reload;
mod self_signed;
mod server_config;
mod source;
mod transport;
mod x25519;

pub use error::{HandshakeError, TlsError};
pub use identity::Fingerprint;
pub use reload::ReloadableTls;
pub use server_config::TlsConfig;
pub use source::{SanName, TlsSource};
pub use transport::{Socket, SocketTimeouts, TlsInfo, Transport};
pub use x25519::kx_groups;

#[cfg(test)]
mod tests;

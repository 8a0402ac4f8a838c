//! Integration tests: certificates made by the tests, handshakes over loopback with rustls
//! and `openssl s_client` as clients, and rotation while connections are open.
//!
//! Needs the `openssl` command (Debian package `openssl`) to make keys in the formats rcgen
//! does not write (PKCS#1 RSA, SEC1 EC, encrypted keys) and to play a client no one here
//! wrote.

// Helpers outside `#[test]` functions are not covered by clippy.toml's allow-unwrap-in-tests;
// this whole crate is test code.
#![allow(clippy::unwrap_used)]

mod handshake;
mod load;
mod reload;
mod self_signed;
mod support;

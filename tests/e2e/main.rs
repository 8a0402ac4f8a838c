//! End-to-end tests: a real `mailsink` on loopback, driven by clients no one here wrote
//! (Python's `smtplib`, `swaks`, the `lettre` crate) and by raw sockets for the abuse cases.

mod abuse;
mod api;
mod auth;
mod browser;
mod concurrency;
mod lettre_client;
mod lifecycle;
mod limits;
mod maildir;
mod smtplib;
mod soak;
mod startup;
mod swaks;
mod tls;

//! The `mailsink` server: configuration, listeners, worker pool and the connection driver.

pub mod config;

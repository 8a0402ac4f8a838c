//! The `mailsink` server: configuration, listeners, the worker pool and the connection driver.
//!
//! The binary (`main.rs`) parses the configuration, starts a [`server::Server`] and waits for
//! signals. Tests start servers in-process through the same [`server::Server::start`].

mod acceptor;
pub mod config;
mod connections;
mod driver;
mod http;
pub mod metrics;
mod pool;
mod reload;
pub mod server;
mod services;
mod trace;

pub use server::{Server, StartError};

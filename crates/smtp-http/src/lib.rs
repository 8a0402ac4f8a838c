//! The HTTP side of mailsink: Mailpit's REST API (`/api/v1`), the message views, health
//! probes and metrics, on a small blocking HTTP/1.1 server. No async runtime.
//!
//! Two halves, kept apart:
//!
//! - [`Router`]: pure. A [`Request`] in, a [`Response`] out; it talks to the store through
//!   [`smtp_store::StoreHandle`] and to nothing else. Every endpoint, error, authentication and
//!   CORS rule is tested by calling [`Router::handle`] directly, without sockets.
//! - [`HttpServer`]: the sockets. An acceptor thread hands connections over a bounded channel
//!   to worker threads started on demand (up to a cap); each worker frames requests with `httparse` under hard
//!   limits and timeouts, calls the handler, and writes the response (keep-alive, pipelining).
//!
//! ```text
//!  client ─▶ acceptor ─▶ bounded queue ─▶ worker: framing ─▶ Router::handle ─▶ StoreHandle
//!                           │ full: 503                         (pure)            (store thread)
//! ```
//!
//! The JSON types (Mailpit's field names and shapes) live only here, in [`json`]. Where the API
//! knowingly differs from Mailpit is listed in `docs/api.md`.

mod access;
mod api;
mod caseless;
mod headers;
pub mod json;
mod metrics;
mod mime;
mod path;
mod request;
mod response;
mod router;
pub mod search;
mod server;
#[cfg(test)]
mod tests;
mod time;

pub use access::Cors;
pub use metrics::{CountersFn, SmtpCounters};
pub use request::{Method, Request};
pub use response::{Body, Response};
pub use router::{Router, RouterConfig};
pub use server::{Handler, HttpConfig, HttpServer};

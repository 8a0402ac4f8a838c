//! Unit tests, by subject. The router is driven directly through [`crate::Router::handle`],
//! with a real store thread behind it and no sockets.

mod access;
mod api;
mod caseless;
mod framing;
mod json;
mod mime;
mod search;
mod support;
mod text;

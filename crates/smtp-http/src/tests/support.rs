//! Builders shared by the unit tests: a store with messages, a router over it, requests.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use smtp_store::{Envelope, MessageId, SharedBytes, Store, StoreConfig, StoredMessage, Summary};

use crate::{Method, Request, Response, Router, RouterConfig};

pub(crate) fn envelope(rcpt: &str) -> Envelope {
    Envelope {
        remote_addr: "192.0.2.7:5000".parse().unwrap(),
        helo: "client.test".to_owned(),
        esmtp: true,
        tls: false,
        auth_user: None,
        mail_from: "sender@client.test".to_owned(),
        rcpt_to: vec![rcpt.to_owned()],
        smtputf8: false,
    }
}

/// A store thread with default settings.
pub(crate) fn store() -> Store {
    Store::start(StoreConfig::default()).unwrap()
}

/// A router over `store` with no authentication and no CORS.
pub(crate) fn router(store: &Store) -> Router {
    Router::new(RouterConfig::new(store.handle()))
}

/// Delivers a small message as SMTP would and returns its ID.
pub(crate) fn deliver(store: &Store, subject: &str) -> MessageId {
    let data = format!("From: Alice <alice@example.com>\r\nTo: bob@example.com\r\nSubject: {subject}\r\n\r\nHello {subject}\r\n");
    store
        .handle()
        .deliver(envelope("bob@example.com"), data.into_bytes())
        .unwrap()
}

/// Delivers raw bytes and returns the ID.
pub(crate) fn deliver_raw(store: &Store, raw: &str) -> MessageId {
    store
        .handle()
        .deliver(envelope("bob@example.com"), raw.as_bytes().to_vec())
        .unwrap()
}

pub(crate) fn get(router: &Router, target: &str) -> Response {
    router.handle(&Request::new(Method::Get, target))
}

pub(crate) fn call(router: &Router, method: Method, target: &str, body: &str) -> Response {
    router.handle(&Request::new(method, target).with_body(body))
}

/// The body as text.
pub(crate) fn text(response: &Response) -> String {
    String::from_utf8(response.body().as_bytes().to_vec()).unwrap()
}

/// The body as JSON (asserting a 200 and the JSON content type).
pub(crate) fn json(response: &Response) -> Value {
    assert_eq!(response.status(), 200, "{}", text(response));
    assert_eq!(response.header("Content-Type"), Some("application/json"));
    serde_json::from_slice(response.body().as_bytes()).unwrap()
}

/// A stored message built by hand, with the summary the parser would give it.
pub(crate) fn message(received_secs: u64, summary: Summary) -> StoredMessage {
    message_from(received_secs, summary, "Subject: x\r\n\r\nbody\r\n")
}

/// A stored message of `raw` built by hand, with the given summary.
pub(crate) fn message_from(received_secs: u64, summary: Summary, raw: &str) -> StoredMessage {
    let received = UNIX_EPOCH + Duration::from_secs(received_secs);
    let raw: SharedBytes = Arc::new(raw.as_bytes().to_vec());
    StoredMessage::new(
        MessageId::generate_at(received),
        received,
        envelope("bob@example.com"),
        raw,
    )
    .with_summary(summary)
}

/// A time in whole seconds since the epoch.
pub(crate) fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

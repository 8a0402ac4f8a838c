//! The handlers behind each route, and what they share: the call context, the error type that
//! decides each failure's status, message lookup, and JSON body reading.
//!
//! Errors are answered as Mailpit answers them: `400` with the reason as plain text (as JSON
//! `{"Error": ...}` for `POST /send`), `404` with `404 page not found`; a store that is gone or
//! failing is a `503` or `507` with one short line.

mod list;
mod message;
mod send;
mod status;

use serde_json::{Map, Value};
use smtp_store::{MessageId, SharedBytes, StoreError, StoredMessage};

use std::sync::Arc;

use crate::json::JsonError;
use crate::path::Target;
use crate::request::{Method, Request};
use crate::response::Response;
use crate::router::{not_found, Route, Router};

/// One request being answered.
#[derive(Debug)]
pub(crate) struct Call<'a> {
    pub router: &'a Router,
    pub request: &'a Request,
    pub target: &'a Target,
    /// The Basic-auth user, when authentication is on.
    pub user: Option<String>,
}

/// Why a handler did not produce its normal answer.
#[derive(Debug)]
pub(crate) enum ApiError {
    /// `400` with this text.
    BadRequest(String),
    /// `400` with `{"Error": text}` (the send endpoint's error shape).
    BadJson(String),
    /// `404 page not found`.
    NotFound,
    /// The store refused.
    Store(StoreError),
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        Self::Store(err)
    }
}

impl ApiError {
    pub(crate) fn into_response(self) -> Response {
        match self {
            Self::BadRequest(text) => Response::text(400, text),
            Self::BadJson(error) => Response::json(400, &JsonError { error }),
            Self::NotFound => not_found(),
            Self::Store(err) if err.is_insufficient_storage() => {
                log::error!("[http] {err}");
                Response::text(507, format!("{err}\n"))
            }
            Self::Store(err) => Response::text(503, format!("{err}\n")),
        }
    }
}

/// Runs the handler of `route` for `method` (already checked to be one the route answers).
pub(crate) fn dispatch(
    call: &Call<'_>,
    route: Route<'_>,
    method: Method,
) -> Result<Response, ApiError> {
    match (route, method) {
        (Route::Messages, Method::Get) => list::list(call),
        (Route::Messages, Method::Put) => list::set_read(call),
        (Route::Messages, Method::Delete) => list::delete(call),
        (Route::Search, Method::Get) => list::search(call),
        (Route::Search, Method::Delete) => list::delete_search(call),
        (Route::Tags, _) => list::tags(call),
        (Route::Send, _) => send::send(call),
        (Route::Message(id), _) => message::get(call, id),
        (Route::Headers(id), _) => message::headers(call, id),
        (Route::Raw(id), _) => message::raw(call, id),
        (Route::Part(id, part), _) => message::part(call, id, part),
        (Route::ViewHtml(id), _) => message::view_html(call, id),
        (Route::ViewText(id), _) => message::view_text(call, id),
        (Route::Info, _) => status::info(call),
        (Route::WebUi, _) => Ok(status::webui(call)),
        (Route::Metrics, _) => status::metrics(call),
        (Route::Readyz, _) => Ok(status::readyz(call)),
        (Route::Livez, _) => Ok(Response::text(200, "ok\n")),
        // The page's script and style policy is a <meta> tag inside it (with the script's
        // hash); the header adds what a meta tag cannot: no framing by other sites.
        (Route::Index, _) => Ok(Response::new(200)
            .with_header("Content-Type", "text/html; charset=utf-8")
            .with_header("Content-Security-Policy", "frame-ancestors 'none'")
            .with_header("X-Frame-Options", "DENY")
            .with_header("X-Content-Type-Options", "nosniff")
            .with_body(call.router.index.clone())),
        // Other methods on these two never get here: the router answered them `405`.
        (Route::Messages | Route::Search, _) => Err(ApiError::NotFound),
    }
}

/// The stored message an `{ID}` path segment names: an ID, or `latest` for the newest.
fn lookup(call: &Call<'_>, id: &str) -> Result<Arc<StoredMessage>, ApiError> {
    let store = &call.router.config.store;
    let found = if id == "latest" {
        store.latest()?
    } else {
        match id.parse::<MessageId>() {
            Ok(id) => store.get(id)?,
            Err(_) => None,
        }
    };
    found.ok_or(ApiError::NotFound)
}

/// The bytes of a stored message. A Maildir file deleted meanwhile is `404`; one that cannot
/// be read is a storage failure.
fn raw_bytes(message: &StoredMessage) -> Result<SharedBytes, ApiError> {
    match message.read_raw() {
        Ok(bytes) => Ok(bytes),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Err(ApiError::NotFound),
        Err(err) => Err(ApiError::Store(StoreError::Io(err))),
    }
}

/// The request body as a JSON object whose keys are matched ignoring case, as Go's decoder
/// matches struct fields: `Ok(None)` for an empty body.
fn json_object(request: &Request) -> Result<Option<Map<String, Value>>, String> {
    if request.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    match serde_json::from_slice::<Value>(&request.body) {
        Ok(Value::Object(map)) => Ok(Some(map)),
        Ok(Value::Null) => Ok(None),
        Ok(other) => Err(format!(
            "json: cannot unmarshal {} into Go value of type struct",
            kind(&other)
        )),
        Err(err) => Err(err.to_string()),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// The value of a field, its name matched ignoring ASCII case (`null` counts as absent).
fn field<'m>(object: &'m Map<String, Value>, name: &str) -> Option<&'m Value> {
    object
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value)
        .filter(|value| !value.is_null())
}

/// A field that must be a list of strings, if present.
fn string_list(object: &Map<String, Value>, name: &str) -> Result<Vec<String>, String> {
    match field(object, name) {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => Ok(s.clone()),
                other => Err(format!(
                    "json: cannot unmarshal {} into {name} of type string",
                    kind(other)
                )),
            })
            .collect(),
        Some(other) => Err(format!(
            "json: cannot unmarshal {} into {name} of type []string",
            kind(other)
        )),
    }
}

/// Message IDs from a request; IDs that are not well-formed name no message and are skipped.
fn message_ids(ids: &[String]) -> Vec<MessageId> {
    ids.iter().filter_map(|id| id.parse().ok()).collect()
}

//! The mailbox as a whole: `GET/PUT/DELETE /api/v1/messages`, `GET/DELETE /api/v1/search`,
//! `GET /api/v1/tags`.

use serde_json::Value;
use smtp_store::{MessageId, Page};

use super::{field, json_object, message_ids, string_list, ApiError, Call};
use crate::json::{MessageSummary, MessagesSummary};
use crate::response::Response;
use crate::search::Query;

/// Mailpit's page size when `limit` is absent or not a positive number.
const DEFAULT_LIMIT: usize = 50;

/// `GET /api/v1/messages?start=&limit=`: a page of summaries, newest first.
pub(super) fn list(call: &Call<'_>) -> Result<Response, ApiError> {
    let (start, limit) = paging(call);
    // Only the page travels from the store; counts and tags come with it.
    let everything = call.router.config.store.list(start, limit)?;
    let page = &everything.messages;
    let counts = everything.counts;
    Ok(Response::json(
        200,
        &MessagesSummary {
            total: counts.total,
            unread: counts.unread,
            count: page.len(),
            messages_count: counts.total,
            messages_unread: counts.unread,
            start,
            tags: everything.tags,
            messages: page.iter().map(|m| MessageSummary::of(m)).collect(),
        },
    ))
}

/// `GET /api/v1/search?query=&start=&limit=`: a page of the messages matching the query.
pub(super) fn search(call: &Call<'_>) -> Result<Response, ApiError> {
    let query = search_query(call)?;
    let everything = snapshot(call)?;
    let matching = query.filter(&everything.messages);
    let (start, limit) = paging(call);
    let page = window(&matching, start, limit);
    Ok(Response::json(
        200,
        &MessagesSummary {
            total: everything.counts.total,
            unread: everything.counts.unread,
            count: page.len(),
            messages_count: matching.len(),
            messages_unread: matching.iter().filter(|m| !m.is_read()).count(),
            start,
            tags: everything.tags.clone(),
            messages: page.iter().map(|m| MessageSummary::of(m)).collect(),
        },
    ))
}

/// `DELETE /api/v1/search?query=`: deletes every message matching the query.
pub(super) fn delete_search(call: &Call<'_>) -> Result<Response, ApiError> {
    let query = search_query(call)?;
    let ids = matching_ids(call, &query)?;
    let deleted = call.router.config.store.delete(&ids)?;
    call.router.count_deleted(deleted);
    Ok(ok())
}

/// `PUT /api/v1/messages` with `{"IDs": [...], "Read": bool}` or `{"Search": "...", "Read":
/// bool}`; neither marks every message.
pub(super) fn set_read(call: &Call<'_>) -> Result<Response, ApiError> {
    let body = json_object(call.request)
        .map_err(ApiError::BadRequest)?
        .ok_or_else(|| ApiError::BadRequest("EOF".to_owned()))?;
    let read = match field(&body, "Read") {
        None => false,
        Some(Value::Bool(read)) => *read,
        Some(_) => {
            return Err(ApiError::BadRequest(
                "json: cannot unmarshal Read of type bool".to_owned(),
            ))
        }
    };
    let ids = string_list(&body, "IDs").map_err(ApiError::BadRequest)?;
    let search = match field(&body, "Search") {
        Some(Value::String(search)) => search.trim().to_owned(),
        _ => String::new(),
    };
    let store = &call.router.config.store;
    match (ids.is_empty(), search.is_empty()) {
        (false, false) => {
            return Err(ApiError::BadRequest(
                "You may specify either IDs or a search query, not both".to_owned(),
            ))
        }
        (true, true) => store.set_all_read(read)?,
        (false, true) => store.set_read(&message_ids(&ids), read)?,
        (true, false) => store.set_read(&matching_ids(call, &Query::parse(&search))?, read)?,
    };
    Ok(ok())
}

/// `DELETE /api/v1/messages` with `{"IDs": [...]}`. As in Mailpit, an empty body or one that
/// names no IDs deletes every message. Unlike Mailpit, a form-encoded body (`ids=A&ids=B`, what
/// the PyPI `mailpit-api-client` sends) deletes just those messages, and any other body that is
/// not JSON is refused with 400 instead of deleting everything.
pub(super) fn delete(call: &Call<'_>) -> Result<Response, ApiError> {
    let ids = match json_object(call.request) {
        Ok(Some(body)) => string_list(&body, "IDs").unwrap_or_default(),
        Ok(None) => Vec::new(),
        Err(err) => form_ids(&call.request.body).ok_or(ApiError::BadRequest(err))?,
    };
    let store = &call.router.config.store;
    let deleted = if ids.is_empty() {
        store.delete_all()?
    } else {
        store.delete(&message_ids(&ids))?
    };
    call.router.count_deleted(deleted);
    Ok(ok())
}

/// `GET /api/v1/tags`: every tag in use, sorted.
pub(super) fn tags(call: &Call<'_>) -> Result<Response, ApiError> {
    Ok(Response::json(
        200,
        &call.router.config.store.list(0, 0)?.tags,
    ))
}

/// Every message, newest first, with the counts taken at the same moment.
fn snapshot(call: &Call<'_>) -> Result<Page, ApiError> {
    Ok(call.router.config.store.list(0, usize::MAX)?)
}

fn matching_ids(call: &Call<'_>, query: &Query) -> Result<Vec<MessageId>, ApiError> {
    let everything = snapshot(call)?;
    let matching = query.filter(&everything.messages);
    Ok(matching.iter().map(|m| m.id()).collect())
}

fn search_query(call: &Call<'_>) -> Result<Query, ApiError> {
    let text = call.target.query("query").unwrap_or_default();
    let text = text.trim();
    if text.is_empty() {
        return Err(ApiError::BadRequest("Error: no search query".to_owned()));
    }
    Ok(Query::parse(text))
}

/// `start` and `limit` as Mailpit reads them: positive integers, else 0 and 50.
fn paging(call: &Call<'_>) -> (usize, usize) {
    let positive = |name: &str| {
        call.target
            .query(name)
            .and_then(|v| v.trim().parse::<usize>().ok())
            .filter(|&n| n > 0)
    };
    (
        positive("start").unwrap_or(0),
        positive("limit").unwrap_or(DEFAULT_LIMIT),
    )
}

fn window<T>(items: &[T], start: usize, limit: usize) -> &[T] {
    let from = start.min(items.len());
    let to = from.saturating_add(limit).min(items.len());
    &items[from..to]
}

fn ok() -> Response {
    Response::text(200, "ok")
}

/// `ids=A&ids=B` (or `IDs=`), form-encoded; `None` when the body is not such a form.
fn form_ids(body: &[u8]) -> Option<Vec<String>> {
    let text = std::str::from_utf8(body).ok()?.trim();
    let mut ids = Vec::new();
    for pair in text.split('&') {
        let (key, value) = pair.split_once('=')?;
        if !key.eq_ignore_ascii_case("ids") && key != "IDs[]" && key != "ids[]" {
            return None;
        }
        let value = value.replace('+', " ");
        let decoded = crate::path::percent_decode(value.as_bytes())?;
        ids.push(String::from_utf8(decoded).ok()?);
    }
    (!ids.is_empty()).then_some(ids)
}

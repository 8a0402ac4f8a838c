//! One message: `GET /api/v1/message/{ID}` (and its `/headers`, `/raw`, `/part/{PartID}`),
//! `/view/{ID}.html` and `/view/{ID}.txt`. `{ID}` may be `latest`.

use std::sync::Arc;

use smtp_store::StoredMessage;

use super::{lookup, raw_bytes, ApiError, Call};
use crate::json::Message;
use crate::response::{Body, Response};

/// The policy of a rendered message: no script, no plugin, nothing loaded from elsewhere;
/// inline styles and images from the message itself (its parts, served here) only.
pub(crate) const VIEW_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; \
img-src 'self' data: cid:; font-src data:; base-uri 'none'; form-action 'none'; \
frame-ancestors 'self'";

/// `GET /api/v1/message/{ID}`: the parsed message; marks it read.
pub(super) fn get(call: &Call<'_>, id: &str) -> Result<Response, ApiError> {
    let message = open(call, id)?;
    Ok(Response::json(200, &Message::of(&message)))
}

/// `GET /api/v1/message/{ID}/headers`: every header field, `{"Name": ["value", ...]}`.
pub(super) fn headers(call: &Call<'_>, id: &str) -> Result<Response, ApiError> {
    let message = lookup(call, id)?;
    Ok(Response::json(
        200,
        &crate::headers::header_map(message.raw()),
    ))
}

/// `GET /api/v1/message/{ID}/raw`: the message as stored; `?dl=1` offers it as a download.
pub(super) fn raw(call: &Call<'_>, id: &str) -> Result<Response, ApiError> {
    let message = lookup(call, id)?;
    let response = Response::new(200)
        .with_header("Content-Type", "text/plain; charset=utf-8")
        .with_body(Body::Shared(raw_bytes(&message)?));
    if call.target.query("dl").as_deref() == Some("1") {
        let disposition = format!("attachment; filename=\"{}.eml\"", message.id());
        return Ok(response.with_header("Content-Disposition", disposition));
    }
    Ok(response)
}

/// `GET /api/v1/message/{ID}/part/{PartID}`: one MIME part, decoded, with its content type
/// (the store finds the part: [`smtp_store::part`] numbers parts as Mailpit does).
pub(super) fn part(call: &Call<'_>, id: &str, part_id: &str) -> Result<Response, ApiError> {
    let message = lookup(call, id)?;
    let raw = raw_bytes(&message)?;
    let part = smtp_store::part(&raw, part_id).ok_or(ApiError::NotFound)?;
    let file_name = crate::mime::one_line(&part.file_name).replace(['"', '\\'], "_");
    Ok(Response::new(200)
        .with_header("Content-Type", part.content_type)
        .with_header("Content-Disposition", format!("filename=\"{file_name}\""))
        .with_body(Body::Bytes(part.bytes)))
}

/// `GET /view/{ID}.html`: the HTML body as a page of its own, under a policy that runs no
/// script and loads nothing from elsewhere; `cid:` images point at the message's parts.
pub(super) fn view_html(call: &Call<'_>, id: &str) -> Result<Response, ApiError> {
    let message = open(call, id)?;
    let summary = message.summary();
    if summary.html.is_empty() {
        return Err(ApiError::NotFound);
    }
    let mut html = summary.html.clone();
    for inline in summary.inline.iter().filter(|p| !p.content_id.is_empty()) {
        let url = format!("/api/v1/message/{}/part/{}", message.id(), inline.part_id);
        html = html.replace(&format!("cid:{}", inline.content_id), &url);
    }
    Ok(Response::new(200)
        .with_header("Content-Type", "text/html; charset=utf-8")
        .with_header("Content-Security-Policy", VIEW_CSP)
        .with_body(Body::Bytes(html.into_bytes())))
}

/// `GET /view/{ID}.txt`: the text body.
pub(super) fn view_text(call: &Call<'_>, id: &str) -> Result<Response, ApiError> {
    let message = open(call, id)?;
    Ok(Response::text(200, message.summary().text.clone()))
}

/// Looks a message up and marks it read, as opening it in Mailpit does.
fn open(call: &Call<'_>, id: &str) -> Result<Arc<StoredMessage>, ApiError> {
    let message = lookup(call, id)?;
    if !message.is_read() {
        call.router.config.store.set_read(&[message.id()], true)?;
    }
    Ok(message)
}

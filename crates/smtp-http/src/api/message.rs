//! One message: `GET /api/v1/message/{ID}` (and its `/headers`, `/raw`, `/part/{PartID}`),
//! `/view/{ID}.html` and `/view/{ID}.txt`. `{ID}` may be `latest`.

use std::sync::Arc;

use base64::Engine as _;
use smtp_store::StoredMessage;

use super::{lookup, raw_bytes, ApiError, Call};
use crate::json::Message;
use crate::response::{Body, Response};

/// The policy of a rendered message: no script, no plugin, nothing loaded from elsewhere;
/// inline styles and images from the message itself (its parts, served here) only.
pub(crate) const VIEW_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; \
img-src data:; font-src data:; base-uri 'none'; form-action 'none'; \
frame-ancestors 'self'; sandbox allow-popups allow-popups-to-escape-sandbox";

/// The policy for a message part served on its own: an HTML or SVG attachment opened in a tab
/// runs no script and, sandboxed, gets an opaque origin that cannot read the API.
pub(crate) const PART_CSP: &str =
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; sandbox";

/// Content types a browser would render as an active document: always offered as a download.
const ACTIVE_TYPES: [&str; 6] = [
    "text/html",
    "application/xhtml+xml",
    "image/svg+xml",
    "text/xml",
    "application/xml",
    "text/xsl",
];

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
    let essence = part
        .content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let disposition = if ACTIVE_TYPES.contains(&essence.as_str()) {
        "attachment; "
    } else {
        ""
    };
    Ok(Response::new(200)
        .with_header("Content-Type", part.content_type)
        .with_header(
            "Content-Disposition",
            format!("{disposition}filename=\"{file_name}\""),
        )
        .with_header("Content-Security-Policy", PART_CSP)
        .with_header("X-Content-Type-Options", "nosniff")
        .with_body(Body::Bytes(part.bytes)))
}

/// `GET /view/{ID}.html`: the HTML body as a page of its own, under a policy that runs no
/// script and loads nothing from elsewhere; `cid:` images point at the message's parts.
pub(super) fn view_html(call: &Call<'_>, id: &str) -> Result<Response, ApiError> {
    let message = open(call, id)?;
    let summary = message.summary();
    let raw = raw_bytes(&message)?;
    let mut html = smtp_store::bodies(&raw).html;
    if html.is_empty() {
        return Err(ApiError::NotFound);
    }
    let inline: Vec<_> = summary
        .inline
        .iter()
        .filter(|p| !p.content_id.is_empty())
        .collect();
    if !inline.is_empty() {
        // Sandboxed, the page has an opaque origin that may not fetch from the API: inline
        // images go in as data: URLs instead.
        for attachment in inline {
            let Some(part) = smtp_store::part(&raw, &attachment.part_id) else {
                continue;
            };
            let url = format!(
                "data:{};base64,{}",
                crate::mime::one_line(&part.content_type),
                base64::engine::general_purpose::STANDARD.encode(&part.bytes)
            );
            html = html.replace(&format!("cid:{}", attachment.content_id), &url);
        }
    }
    Ok(Response::new(200)
        .with_header("Content-Type", "text/html; charset=utf-8")
        .with_header("Content-Security-Policy", VIEW_CSP)
        .with_body(Body::Bytes(html.into_bytes())))
}

/// `GET /view/{ID}.txt`: the text body.
pub(super) fn view_text(call: &Call<'_>, id: &str) -> Result<Response, ApiError> {
    let message = open(call, id)?;
    Ok(Response::text(
        200,
        smtp_store::bodies(&raw_bytes(&message)?).text,
    ))
}

/// Looks a message up and marks it read, as opening it in Mailpit does.
fn open(call: &Call<'_>, id: &str) -> Result<Arc<StoredMessage>, ApiError> {
    let message = lookup(call, id)?;
    if !message.is_read() {
        call.router.config.store.set_read(&[message.id()], true)?;
    }
    Ok(message)
}

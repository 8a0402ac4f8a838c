//! `POST /api/v1/send`: Mailpit's send request, built into a MIME message and stored through
//! the same [`smtp_store::StoreHandle::deliver`] as SMTP mail, with the HTTP peer as the
//! envelope's client address.
//!
//! The request is read as Go reads it into Mailpit's `SendRequest`: field names match ignoring
//! case, unknown fields are ignored, `null` is absent. Failures answer `400` with
//! `{"Error": "..."}` in Mailpit's words.

use std::time::SystemTime;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::{Map, Value};
use smtp_store::{Envelope, MessageId};

use super::{field, json_object, string_list, ApiError, Call};
use crate::json::SendConfirmation;
use crate::mime::{sniff, FilePart, Mailbox, Outgoing};
use crate::response::Response;

/// Header fields the request may not set through `Headers` (Mailpit's list, plus the one that
/// would break the body's encoding). Compared ignoring case.
const RESTRICTED: &[&str] = &[
    "To",
    "From",
    "Cc",
    "Bcc",
    "Reply-To",
    "Date",
    "Subject",
    "Content-Type",
    "Mime-Version",
    "Content-Transfer-Encoding",
];

pub(super) fn send(call: &Call<'_>) -> Result<Response, ApiError> {
    let body = json_object(call.request)
        .map_err(ApiError::BadJson)?
        .ok_or_else(|| ApiError::BadJson("EOF".to_owned()))?;
    let (outgoing, bcc) = read_request(&body).map_err(ApiError::BadJson)?;
    let envelope = envelope(call, &outgoing, bcc);
    let boundary = MessageId::generate().to_string();
    let data = outgoing.build(SystemTime::now(), &boundary);
    let id = call.router.config.store.deliver(envelope, data)?;
    log::info!(
        "[http] message {id} stored via the send API from {}",
        call.request.peer
    );
    Ok(Response::json(
        200,
        &SendConfirmation { id: id.to_string() },
    ))
}

/// The message to build and the Bcc addresses (which go in the envelope only).
fn read_request(body: &Map<String, Value>) -> Result<(Outgoing, Vec<String>), String> {
    let from = match field(body, "From") {
        Some(Value::Object(from)) => mailbox(from, "From")?,
        Some(_) => return Err("json: cannot unmarshal From into an object".to_owned()),
        None => Mailbox::default(),
    };
    if from.email.is_empty() {
        return Err("error building message: from not set".to_owned());
    }
    check_address(&from.email, "From")?;
    let bcc = string_list(body, "Bcc")?;
    for address in &bcc {
        check_address(address, "Bcc")?;
    }
    let tags = string_list(body, "Tags")?;
    let mut outgoing = Outgoing {
        from,
        to: mailboxes(body, "To")?,
        cc: mailboxes(body, "Cc")?,
        reply_to: mailboxes(body, "ReplyTo")?,
        subject: string(body, "Subject")?,
        text: string(body, "Text")?,
        html: string(body, "HTML")?,
        headers: Vec::new(),
        files: files(body)?,
    };
    if outgoing.to.is_empty() && outgoing.cc.is_empty() && bcc.is_empty() {
        return Err("error building message: no recipients (to, cc, bcc) set".to_owned());
    }
    if !tags.is_empty() {
        outgoing
            .headers
            .push(("X-Tags".to_owned(), tags.join(", ")));
    }
    outgoing.headers.extend(headers(body, !tags.is_empty())?);
    Ok((outgoing, bcc))
}

fn string(object: &Map<String, Value>, name: &str) -> Result<String, String> {
    match field(object, name) {
        None => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(format!("json: cannot unmarshal {name} into a string")),
    }
}

fn mailbox(object: &Map<String, Value>, what: &str) -> Result<Mailbox, String> {
    Ok(Mailbox {
        name: string(object, "Name")?,
        email: string(object, "Email").map_err(|_| format!("json: invalid {what} email"))?,
    })
}

/// A list of `{"Email", "Name"}` objects, each address checked.
fn mailboxes(object: &Map<String, Value>, name: &str) -> Result<Vec<Mailbox>, String> {
    let what = if name == "ReplyTo" { "Reply-To" } else { name };
    let items = match field(object, name) {
        None => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(format!("json: cannot unmarshal {name} into an array")),
    };
    items
        .iter()
        .map(|item| {
            let Value::Object(entry) = item else {
                return Err(format!(
                    "json: cannot unmarshal {name} entry into an object"
                ));
            };
            let mailbox = mailbox(entry, what)?;
            check_address(&mailbox.email, what)?;
            Ok(mailbox)
        })
        .collect()
}

/// An `addr-spec` (`local@domain`) with nothing that could end a header or an address.
fn check_address(address: &str, what: &str) -> Result<(), String> {
    let valid = address.rsplit_once('@').is_some_and(|(local, domain)| {
        let clean = |part: &str| {
            !part.is_empty()
                && !part
                    .chars()
                    .any(|c| c.is_whitespace() || c.is_control() || "<>()[],;:\\\"".contains(c))
        };
        clean(local) && clean(domain)
    });
    if valid {
        Ok(())
    } else {
        Err(format!("invalid {what} address: {address}"))
    }
}

/// The `Headers` object: token names, none of the restricted ones.
fn headers(body: &Map<String, Value>, tagged: bool) -> Result<Vec<(String, String)>, String> {
    let entries = match field(body, "Headers") {
        None => return Ok(Vec::new()),
        Some(Value::Object(entries)) => entries,
        Some(_) => return Err("json: cannot unmarshal Headers into an object".to_owned()),
    };
    let mut headers = Vec::with_capacity(entries.len());
    for (name, value) in entries {
        let restricted = RESTRICTED.iter().any(|r| r.eq_ignore_ascii_case(name))
            || (tagged && name.eq_ignore_ascii_case("X-Tags"));
        if restricted {
            return Err(format!("cannot overwrite header: \"{name}\""));
        }
        let token = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        if !token {
            return Err(format!("invalid header name: \"{name}\""));
        }
        let Value::String(value) = value else {
            return Err(format!(
                "json: cannot unmarshal header \"{name}\" into a string"
            ));
        };
        headers.push((name.clone(), value.clone()));
    }
    Ok(headers)
}

/// The `Attachments` list; parts with a `ContentID` become inline parts.
fn files(body: &Map<String, Value>) -> Result<Vec<FilePart>, String> {
    let items = match field(body, "Attachments") {
        None => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => return Err("json: cannot unmarshal Attachments into an array".to_owned()),
    };
    items
        .iter()
        .map(|item| {
            let Value::Object(entry) = item else {
                return Err("json: cannot unmarshal an attachment into an object".to_owned());
            };
            file(entry)
        })
        .collect()
}

fn file(entry: &Map<String, Value>) -> Result<FilePart, String> {
    let file_name = string(entry, "Filename")?;
    let encoded = string(entry, "Content")?;
    // A data URL (`data:image/png;base64,...`, as a browser's readAsDataURL gives) is accepted.
    let encoded = encoded.rsplit(',').next().unwrap_or_default();
    let encoded: String = encoded
        .chars()
        .filter(|c| *c != '\r' && *c != '\n')
        .collect();
    let content = STANDARD
        .decode(encoded)
        .map_err(|err| format!("error decoding base64 attachment \"{file_name}\": {err}"))?;
    let content_type = match string(entry, "ContentType")? {
        given if !given.trim().is_empty() => given.trim().to_owned(),
        _ => sniff(&content).to_owned(),
    };
    Ok(FilePart {
        content,
        file_name,
        content_type,
        content_id: string(entry, "ContentID")?,
    })
}

/// The envelope an SMTP client would have given: the HTTP peer as the client, `From` as the
/// reverse path, every `To`, `Cc` and `Bcc` address as a recipient.
fn envelope(call: &Call<'_>, outgoing: &Outgoing, bcc: Vec<String>) -> Envelope {
    let rcpt_to: Vec<String> = outgoing
        .to
        .iter()
        .chain(&outgoing.cc)
        .map(|m| m.email.clone())
        .chain(bcc)
        .collect();
    let smtputf8 = !outgoing.from.email.is_ascii() || rcpt_to.iter().any(|r| !r.is_ascii());
    Envelope {
        remote_addr: call.request.peer,
        helo: call.request.peer.ip().to_canonical().to_string(),
        esmtp: true,
        tls: false,
        auth_user: call.user.clone(),
        mail_from: outgoing.from.email.clone(),
        rcpt_to,
        smtputf8,
    }
}

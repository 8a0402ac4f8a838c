//! The bytes the store keeps for a message: what the client sent, behind the headers Mailpit adds.
//!
//! [`compose`] is pure: envelope, DATA bytes and a [`Stamp`] in, stored bytes out. The result is
//! the added headers, each on its own CRLF-terminated line, in this order:
//!
//! 1. `Return-Path: <MAIL FROM>` (`<>` for the null path). Any `Return-Path:` field already in the
//!    message is removed: the envelope is the authority.
//! 2. The trace field of RFC 5321 section 4.4, with the protocol word of RFC 3848 (and RFC 6531
//!    when SMTPUTF8 was used); the `for` clause only for a single recipient, so a message to many
//!    does not reveal the others; no reverse DNS (continuation lines start with a tab):
//!    ```text
//!    Received: from HELO ([IP])
//!        by HOSTNAME (APP) with ESMTPSA id ID
//!        for <RCPT>; Fri, 27 Nov 2026 21:30:00 +0000
//!    ```
//! 3. `Message-ID: <ID@HOSTNAME>`, only when the message has no `Message-ID:` field.
//! 4. `Bcc:` with the envelope recipients named in no `To:`, `Cc:` or `Bcc:` field (compared
//!    ignoring case), only when the message has no `Bcc:` field. When it has one, the recipients
//!    are appended to that field's value in place instead (Mailpit adds a second `Bcc:` field,
//!    which readers then ignore, so the recipients are lost).
//!
//! Then the client's bytes follow unchanged (bare LF, bare CR, 8-bit and NUL bytes, no header
//! section at all, or nothing), apart from the removed `Return-Path:` fields and the appended
//! `Bcc:` recipients. Text from the envelope never adds a line: control characters in it are
//! written as `?`, so a hostile HELO cannot inject a header.

mod date;
mod fields;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt::Write as _;
use std::net::IpAddr;
use std::ops::Range;
use std::panic::{self, AssertUnwindSafe};
use std::time::SystemTime;

use mail_parser::{HeaderValue, MessageParser};

use crate::id::MessageId;
use crate::message::Envelope;
use fields::Field;

/// Where a folded address list wraps.
const FOLD_AT: usize = 78;

/// Room for the added headers of a typical message (they run to about 250 bytes).
const ADDED_CAPACITY: usize = 512;

/// Who received the message, when and under which ID: the rest of what [`compose`] writes.
#[derive(Clone, Copy, Debug)]
pub struct Stamp<'a> {
    /// The message's ID, written in `Received:` and in an added `Message-ID:`.
    pub id: MessageId,
    /// When the message was received, written in `Received:`.
    pub received: SystemTime,
    /// This host's name.
    pub hostname: &'a str,
    /// This software's name (`mailsink`).
    pub app_name: &'a str,
}

/// The message as stored: `data` (as received, after dot-unstuffing) behind the added headers.
#[must_use]
pub fn compose(envelope: &Envelope, data: &[u8], stamp: &Stamp<'_>) -> Vec<u8> {
    let fields = fields::header_fields(data);
    // The added headers are written into one string: a few hundred bytes, one allocation.
    let mut added = String::with_capacity(ADDED_CAPACITY);
    write_return_path(&mut added, envelope);
    write_received(&mut added, envelope, stamp);
    if !fields.iter().any(|f| f.is(data, "Message-ID")) {
        write_message_id(&mut added, stamp);
    }
    let mut edits: Vec<Edit> = fields
        .iter()
        .filter(|f| f.is(data, "Return-Path"))
        .map(|f| Edit::remove(f.start..f.end))
        .collect();
    let unlisted = unlisted_recipients(envelope, data, &fields);
    if !unlisted.is_empty() {
        match fields.iter().find(|f| f.is(data, "Bcc")) {
            Some(bcc) => edits.push(append_to_field(data, bcc, &unlisted)),
            None => write_bcc(&mut added, &unlisted),
        }
    }
    edits.sort_by_key(|edit| edit.range.start);
    splice(added.as_bytes(), data, &edits)
}

/// [`compose`], for the store: should composing panic, the message is kept as received,
/// without the added headers, and the failure is logged. The storage thread composes most
/// messages, has acknowledged them already, and must not stop.
pub(crate) fn compose_or_as_received(
    envelope: &Envelope,
    data: &[u8],
    stamp: &Stamp<'_>,
) -> Vec<u8> {
    as_received_on_panic(data, || compose(envelope, data, stamp))
}

fn as_received_on_panic(data: &[u8], compose: impl FnOnce() -> Vec<u8>) -> Vec<u8> {
    panic::catch_unwind(AssertUnwindSafe(compose)).unwrap_or_else(|_| {
        log::error!(
            "[db] adding the trace headers to a {}-byte message failed; it is kept as received",
            data.len()
        );
        data.to_vec()
    })
}

// The added headers are written with `push_str`, not `write!`: they are written for every
// message, and `core::fmt` cost as much as the rest of composing.

fn write_return_path(out: &mut String, envelope: &Envelope) {
    out.push_str("Return-Path: <");
    out.push_str(&header_text(&envelope.mail_from));
    out.push_str(">\r\n");
}

fn write_received(out: &mut String, envelope: &Envelope, stamp: &Stamp<'_>) {
    let helo = match envelope.helo.as_str() {
        "" => "unknown",
        helo => helo,
    };
    out.push_str("Received: from ");
    out.push_str(&header_text(helo));
    out.push_str(" (");
    push_address_literal(out, envelope.remote_addr.ip());
    out.push_str(")\r\n\tby ");
    out.push_str(&header_text(stamp.hostname));
    out.push_str(" (");
    out.push_str(&header_text(stamp.app_name));
    out.push_str(") with ");
    out.push_str(protocol(envelope));
    out.push_str(" id ");
    out.push_str(stamp.id.as_str());
    if let [only] = envelope.rcpt_to.as_slice() {
        out.push_str("\r\n\tfor <");
        out.push_str(&header_text(only));
        out.push('>');
    }
    out.push_str("; ");
    date::Rfc5322(stamp.received).push_to(out);
    out.push_str("\r\n");
}

fn write_message_id(out: &mut String, stamp: &Stamp<'_>) {
    out.push_str("Message-ID: <");
    out.push_str(stamp.id.as_str());
    out.push('@');
    out.push_str(&header_text(stamp.hostname));
    out.push_str(">\r\n");
}

fn write_bcc(out: &mut String, recipients: &[&str]) {
    let start = out.len();
    out.push_str("Bcc:");
    push_addresses_from(out, recipients, " ", "\r\n", out.len() - start);
    out.push_str("\r\n");
}

/// The RFC 3848 / RFC 6531 "with" protocol word for how the message came in.
fn protocol(envelope: &Envelope) -> &'static str {
    let auth = envelope.auth_user.is_some();
    match (envelope.esmtp, envelope.smtputf8, envelope.tls, auth) {
        (false, _, _, _) => "SMTP",
        (true, false, false, false) => "ESMTP",
        (true, false, true, false) => "ESMTPS",
        (true, false, false, true) => "ESMTPA",
        (true, false, true, true) => "ESMTPSA",
        (true, true, false, false) => "UTF8SMTP",
        (true, true, true, false) => "UTF8SMTPS",
        (true, true, false, true) => "UTF8SMTPA",
        (true, true, true, true) => "UTF8SMTPSA",
    }
}

/// The RFC 5321 address literal: `[192.0.2.1]` or `[IPv6:2001:db8::1]`. An IPv4 client seen
/// through a dual-stack socket (`::ffff:192.0.2.1`) is written as IPv4.
fn push_address_literal(out: &mut String, ip: IpAddr) {
    match ip.to_canonical() {
        IpAddr::V4(v4) => {
            out.push('[');
            for (i, octet) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    out.push('.');
                }
                push_decimal(out, u64::from(octet));
            }
            out.push(']');
        }
        // Writing cannot fail; IPv6's compressed form is left to the standard library.
        IpAddr::V6(v6) => {
            let _ = write!(out, "[IPv6:{v6}]");
        }
    }
}

/// `n` in decimal, without padding (the year of a date, the octets of an address).
fn push_decimal(out: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    // ASCII digits only.
    out.push_str(std::str::from_utf8(&digits[start..]).unwrap_or_default());
}

/// Envelope recipients named in no To/Cc/Bcc field, first spelling kept, duplicates dropped.
fn unlisted_recipients<'e>(envelope: &'e Envelope, data: &[u8], fields: &[Field]) -> Vec<&'e str> {
    let listed = listed_addresses(data, fields);
    let mut seen = HashSet::new();
    envelope
        .rcpt_to
        .iter()
        .filter(|rcpt| {
            let key = rcpt.to_lowercase();
            !rcpt.is_empty() && !listed.contains(&key) && seen.insert(key)
        })
        .map(String::as_str)
        .collect()
}

/// Every address in the To, Cc and Bcc fields, lower-cased. Lists in the plain forms most mail
/// uses are read here ([`simple_addresses`]); the rest by `mail-parser`.
fn listed_addresses(data: &[u8], fields: &[Field]) -> HashSet<String> {
    simple_addresses(data, fields).unwrap_or_else(|| parsed_addresses(data, fields))
}

fn is_address_field(data: &[u8], field: &Field) -> bool {
    ["To", "Cc", "Bcc"].iter().any(|name| field.is(data, name))
}

/// The To, Cc and Bcc addresses when every such field is a comma-separated list of `addr@domain`
/// and `Display Name <addr@domain>` in ASCII, with no quotes, comments, groups, encoded words,
/// routes or empty brackets; `None` for anything else, which [`parsed_addresses`] reads. Where it
/// answers, it answers as `mail-parser` does (a test holds it to that), for a fraction of the
/// cost: a second full parse of the header fields for every message.
fn simple_addresses(data: &[u8], fields: &[Field]) -> Option<HashSet<String>> {
    let mut listed = HashSet::new();
    for field in fields.iter().filter(|f| is_address_field(data, f)) {
        let value = &data[field.value_start..field.content_end];
        let plain =
            |b: &u8| (b.is_ascii_graphic() && !b"\"()\\:;[]".contains(b)) || b" \t\r\n".contains(b);
        if !value.iter().all(plain) || value.windows(2).any(|pair| pair == b"=?") {
            return None;
        }
        for element in value.split(|&b| b == b',') {
            let element = element.trim_ascii();
            if element.is_empty() {
                continue;
            }
            let (name, address) = match element.iter().position(|&b| b == b'<') {
                Some(open) => {
                    let address = element[open + 1..].strip_suffix(b">")?;
                    (&element[..open], address)
                }
                None => (&b""[..], element),
            };
            let at = address.iter().position(|&b| b == b'@')?;
            let simple = at > 0
                && at + 1 < address.len()
                && !address[at + 1..].contains(&b'@')
                && !address
                    .iter()
                    .any(|&b| b.is_ascii_whitespace() || b == b'<' || b == b'>')
                && !name.iter().any(|&b| matches!(b, b'@' | b'<' | b'>'));
            if !simple {
                return None;
            }
            // ASCII only, checked above.
            let address = String::from_utf8_lossy(address).to_ascii_lowercase();
            listed.insert(address);
        }
    }
    Some(listed)
}

/// For the `compose_addresses` fuzz target: whether the plain-list reader, where it answers for
/// `data`'s header section, finds the addresses `mail-parser` finds.
#[doc(hidden)]
#[must_use]
pub fn plain_lists_agree(data: &[u8]) -> bool {
    let fields = fields::header_fields(data);
    simple_addresses(data, &fields).is_none_or(|simple| simple == parsed_addresses(data, &fields))
}

/// Every address in the To, Cc and Bcc fields, lower-cased, read by `mail-parser`, which knows
/// display names, comments, groups and encoded words: the fields are copied into a small
/// header block for it.
fn parsed_addresses(data: &[u8], fields: &[Field]) -> HashSet<String> {
    let mut block = Vec::new();
    for field in fields.iter().filter(|f| is_address_field(data, f)) {
        block.extend_from_slice(&data[field.start..field.content_end]);
        block.extend_from_slice(b"\r\n");
    }
    if block.is_empty() {
        return HashSet::new();
    }
    block.extend_from_slice(b"\r\n");
    let Some(message) = MessageParser::new().parse_headers(&block) else {
        return HashSet::new();
    };
    message
        .headers()
        .iter()
        .filter_map(|header| match &header.value {
            HeaderValue::Address(address) => Some(address),
            _ => None,
        })
        .flat_map(|address| address.iter())
        .filter_map(|addr| addr.address.as_deref())
        .map(str::to_lowercase)
        .collect()
}

/// The edit that appends `recipients` to the value of an existing field, in the field's own
/// line-ending style.
fn append_to_field(data: &[u8], field: &Field, recipients: &[&str]) -> Edit {
    let separator = if !field.value_is_blank(data) {
        ", "
    } else if field.ends_in_space(data) {
        ""
    } else {
        " "
    };
    let mut text = String::new();
    let column = field.content_end - field.last_line_start;
    push_addresses_from(
        &mut text,
        recipients,
        separator,
        field.line_ending(data),
        column,
    );
    Edit {
        range: field.content_end..field.content_end,
        text,
    }
}

/// Writes `addresses` as a comma-separated list starting at `column`, folding before an address
/// that would run past [`FOLD_AT`] (an address longer than that gets a line of its own).
fn push_addresses_from(
    out: &mut String,
    addresses: &[&str],
    first_separator: &str,
    eol: &str,
    mut column: usize,
) {
    for (i, address) in addresses.iter().enumerate() {
        let address = header_text(address);
        let separator = if i == 0 { first_separator } else { ", " };
        if column > 1 && column + separator.len() + address.len() > FOLD_AT {
            out.push_str(separator.trim_end());
            out.push_str(eol);
            out.push('\t');
            column = 1;
        } else {
            out.push_str(separator);
            column += separator.len();
        }
        out.push_str(&address);
        column += address.len();
    }
}

/// Text from outside made safe for one header line: control characters become `?`.
fn header_text(text: &str) -> Cow<'_, str> {
    if text.chars().any(char::is_control) {
        Cow::Owned(
            text.chars()
                .map(|c| if c.is_control() { '?' } else { c })
                .collect(),
        )
    } else {
        Cow::Borrowed(text)
    }
}

/// Replace `data[range]` with `text`.
#[derive(Debug)]
struct Edit {
    range: Range<usize>,
    text: String,
}

impl Edit {
    fn remove(range: Range<usize>) -> Self {
        Self {
            range,
            text: String::new(),
        }
    }
}

/// `prefix`, then `data` with `edits` applied. The edits are sorted and never overlap: each one
/// lies within a different header field.
fn splice(prefix: &[u8], data: &[u8], edits: &[Edit]) -> Vec<u8> {
    let removed: usize = edits.iter().map(|edit| edit.range.len()).sum();
    let inserted: usize = edits.iter().map(|edit| edit.text.len()).sum();
    let mut out = Vec::with_capacity(prefix.len() + data.len() - removed + inserted);
    out.extend_from_slice(prefix);
    let mut cursor = 0;
    for edit in edits {
        out.extend_from_slice(&data[cursor..edit.range.start]);
        out.extend_from_slice(edit.text.as_bytes());
        cursor = edit.range.end;
    }
    out.extend_from_slice(&data[cursor..]);
    out
}

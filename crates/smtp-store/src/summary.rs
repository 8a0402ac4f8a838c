//! What the API shows about a message, parsed once when it is stored.
//!
//! The fields follow Mailpit's message JSON (`crates/smtp-http` maps them 1:1), so a summary is
//! computed on the delivering thread, kept with the message, and never re-parsed for a list or
//! a search. A message that does not parse still gets a summary (`parse_error` set, raw text as
//! the body), and is stored all the same.

use std::time::SystemTime;

/// A name and an address, as in `"Alice" <alice@example.com>`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Address {
    pub name: String,
    pub address: String,
}

/// Checksums of an attachment's decoded content, hex encoded (Mailpit's `Checksums`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Checksums {
    pub md5: String,
    pub sha1: String,
    pub sha256: String,
}

/// An attachment or inline part.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Attachment {
    /// Mailpit's PartID: the MIME part's position, `1`, `2.1`, ...
    pub part_id: String,
    pub file_name: String,
    pub content_type: String,
    pub content_id: String,
    /// Decoded size in bytes.
    pub size: usize,
    pub checksums: Checksums,
}

/// The parsed view of one message.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// `Message-ID` without angle brackets.
    pub message_id: String,
    /// Decoded subject (encoded words resolved).
    pub subject: String,
    pub from: Option<Address>,
    pub to: Vec<Address>,
    pub cc: Vec<Address>,
    pub bcc: Vec<Address>,
    pub reply_to: Vec<Address>,
    pub return_path: String,
    /// The `Date:` header, if it parsed.
    pub date: Option<SystemTime>,
    /// The plain-text body (decoded), or text made from the HTML when there is none.
    pub text: String,
    /// The HTML body (decoded), if any.
    pub html: String,
    /// The first ~250 characters of text, whitespace collapsed (Mailpit's `Snippet`).
    pub snippet: String,
    pub attachments: Vec<Attachment>,
    pub inline: Vec<Attachment>,
    /// Mailpit tags (from an `X-Tags` header).
    pub tags: Vec<String>,
    /// The message did not parse as MIME; it is shown raw.
    pub parse_error: bool,
}

//! The JSON the API speaks, with Mailpit's field names and shapes (its `internal/storage`
//! structs and `server/apiv1` types), and the mapping from the store's types.
//!
//! Lists are always arrays (never `null`), and `From` is always an object (empty strings when
//! the message has none), which every known client accepts.

use std::collections::BTreeMap;

use serde::Serialize;
use smtp_store::{Address as StoreAddress, Attachment as StoreAttachment, StoredMessage};

use crate::time::rfc3339;

/// Go's `mail.Address`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Address {
    pub name: String,
    pub address: String,
}

impl From<&StoreAddress> for Address {
    fn from(address: &StoreAddress) -> Self {
        Self {
            name: address.name.clone(),
            address: address.address.clone(),
        }
    }
}

fn addresses(list: &[StoreAddress]) -> Vec<Address> {
    list.iter().map(Address::from).collect()
}

/// One entry of `messages` in `GET /api/v1/messages` and `/search` (Mailpit's `MessageSummary`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct MessageSummary {
    #[serde(rename = "ID")]
    pub id: String,
    #[serde(rename = "MessageID")]
    pub message_id: String,
    pub read: bool,
    pub from: Address,
    pub to: Vec<Address>,
    pub cc: Vec<Address>,
    pub bcc: Vec<Address>,
    pub reply_to: Vec<Address>,
    pub subject: String,
    pub created: String,
    pub username: String,
    pub tags: Vec<String>,
    pub size: usize,
    /// How many attachments (inline parts not counted).
    pub attachments: usize,
    pub snippet: String,
}

impl MessageSummary {
    pub(crate) fn of(message: &StoredMessage) -> Self {
        let summary = message.summary();
        Self {
            id: message.id().to_string(),
            message_id: summary.message_id.clone(),
            read: message.is_read(),
            from: summary.from.as_ref().map(Address::from).unwrap_or_default(),
            to: addresses(&summary.to),
            cc: addresses(&summary.cc),
            bcc: addresses(&summary.bcc),
            reply_to: addresses(&summary.reply_to),
            subject: summary.subject.clone(),
            created: rfc3339(message.received()),
            username: username(message),
            tags: summary.tags.clone(),
            size: message.size(),
            attachments: summary.attachments.len(),
            snippet: summary.snippet.clone(),
        }
    }
}

fn username(message: &StoredMessage) -> String {
    message.envelope().auth_user.clone().unwrap_or_default()
}

/// The body of `GET /api/v1/messages` and `GET /api/v1/search` (Mailpit's `MessagesSummary`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MessagesSummary {
    /// Messages in the mailbox.
    pub total: usize,
    /// Unread messages in the mailbox.
    pub unread: usize,
    /// Messages in this response (legacy, still sent by Mailpit).
    pub count: usize,
    /// Messages matching the query (all messages for a plain list).
    pub messages_count: usize,
    /// Unread messages matching the query.
    pub messages_unread: usize,
    /// The paging offset.
    pub start: usize,
    /// Every tag in the mailbox.
    pub tags: Vec<String>,
    pub messages: Vec<MessageSummary>,
}

/// Checksums of an attachment's content (Mailpit's `Attachment.Checksums`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Checksums {
    #[serde(rename = "MD5")]
    pub md5: String,
    #[serde(rename = "SHA1")]
    pub sha1: String,
    #[serde(rename = "SHA256")]
    pub sha256: String,
}

/// An attachment or inline part (Mailpit's `Attachment`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Attachment {
    #[serde(rename = "PartID")]
    pub part_id: String,
    pub file_name: String,
    pub content_type: String,
    #[serde(rename = "ContentID")]
    pub content_id: String,
    pub size: usize,
    pub checksums: Checksums,
}

impl From<&StoreAttachment> for Attachment {
    fn from(part: &StoreAttachment) -> Self {
        // Mailpit names a part without a file name after its Content-ID.
        let file_name = match part.file_name.as_str() {
            "" => part.content_id.clone(),
            name => name.to_owned(),
        };
        Self {
            part_id: part.part_id.clone(),
            file_name,
            content_type: part.content_type.clone(),
            content_id: part.content_id.clone(),
            size: part.size,
            checksums: Checksums {
                md5: part.checksums.md5.clone(),
                sha1: part.checksums.sha1.clone(),
                sha256: part.checksums.sha256.clone(),
            },
        }
    }
}

/// The `List-Unsubscribe` summary of a message (Mailpit's `ListUnsubscribe`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListUnsubscribe {
    pub header: String,
    /// The `<...>` links of the header: at most one `mailto:` and one HTTP(S) link.
    pub links: Vec<String>,
    pub errors: String,
    pub header_post: String,
}

impl ListUnsubscribe {
    pub(crate) fn of(raw: &[u8]) -> Self {
        let header = crate::headers::first_value(raw, "List-Unsubscribe").unwrap_or_default();
        let header_post =
            crate::headers::first_value(raw, "List-Unsubscribe-Post").unwrap_or_default();
        Self {
            links: unsubscribe_links(&header),
            header,
            errors: String::new(),
            header_post,
        }
    }
}

fn unsubscribe_links(header: &str) -> Vec<String> {
    let mut links: Vec<String> = Vec::new();
    for piece in header.split('<').skip(1) {
        let Some((link, _)) = piece.split_once('>') else {
            continue;
        };
        let link = link.trim();
        let lower = link.to_ascii_lowercase();
        let is_mail = lower.starts_with("mailto:");
        let is_web = lower.starts_with("http://") || lower.starts_with("https://");
        let kind_seen = links
            .iter()
            .any(|l| l.to_ascii_lowercase().starts_with("mailto:") == is_mail);
        if (is_mail || is_web) && !kind_seen {
            links.push(link.to_owned());
        }
    }
    links
}

/// The body of `GET /api/v1/message/{ID}` (Mailpit's `Message`).
///
/// `Read` is not in Mailpit's current `Message` (it is always true once fetched, since the
/// fetch marks the message read), but the PyPI client `mailpit-api-client` requires it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Message {
    #[serde(rename = "ID")]
    pub id: String,
    #[serde(rename = "MessageID")]
    pub message_id: String,
    pub read: bool,
    pub from: Address,
    pub to: Vec<Address>,
    pub cc: Vec<Address>,
    pub bcc: Vec<Address>,
    pub reply_to: Vec<Address>,
    pub return_path: String,
    pub subject: String,
    pub list_unsubscribe: ListUnsubscribe,
    /// The `Date:` header if it parsed, else when the message was received.
    pub date: String,
    pub tags: Vec<String>,
    pub username: String,
    pub text: String,
    #[serde(rename = "HTML")]
    pub html: String,
    pub size: usize,
    pub inline: Vec<Attachment>,
    pub attachments: Vec<Attachment>,
}

impl Message {
    pub(crate) fn of(message: &StoredMessage) -> Self {
        let summary = message.summary();
        let bodies = smtp_store::bodies(message.raw());
        Self {
            id: message.id().to_string(),
            message_id: summary.message_id.clone(),
            read: true,
            from: summary.from.as_ref().map(Address::from).unwrap_or_default(),
            to: addresses(&summary.to),
            cc: addresses(&summary.cc),
            bcc: addresses(&summary.bcc),
            reply_to: addresses(&summary.reply_to),
            return_path: summary.return_path.clone(),
            subject: summary.subject.clone(),
            list_unsubscribe: ListUnsubscribe::of(message.raw()),
            date: rfc3339(summary.date.unwrap_or(message.received())),
            tags: summary.tags.clone(),
            username: username(message),
            text: bodies.text,
            html: bodies.html,
            size: message.size(),
            inline: summary.inline.iter().map(Attachment::from).collect(),
            attachments: summary.attachments.iter().map(Attachment::from).collect(),
        }
    }
}

/// Runtime counters in `GET /api/v1/info` (Mailpit's `RuntimeStats`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RuntimeStats {
    /// Seconds since start.
    pub uptime: u64,
    /// Resident memory in bytes.
    pub memory: u64,
    pub messages_deleted: u64,
    #[serde(rename = "SMTPAccepted")]
    pub smtp_accepted: u64,
    #[serde(rename = "SMTPAcceptedSize")]
    pub smtp_accepted_size: u64,
    #[serde(rename = "SMTPRejected")]
    pub smtp_rejected: u64,
    #[serde(rename = "SMTPIgnored")]
    pub smtp_ignored: u64,
}

/// The body of `GET /api/v1/info` (Mailpit's `AppInformation`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AppInformation {
    pub version: String,
    pub latest_version: String,
    pub database: String,
    pub database_size: u64,
    pub messages: usize,
    pub unread: usize,
    /// Tag → messages carrying it.
    pub tags: BTreeMap<String, usize>,
    pub runtime_stats: RuntimeStats,
}

/// Message relaying in `GET /api/v1/webui`: not a mailsink feature, always disabled.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct MessageRelay {
    pub enabled: bool,
    #[serde(rename = "SMTPServer")]
    pub smtp_server: String,
    pub return_path: String,
    pub allowed_recipients: String,
    pub blocked_recipients: String,
    pub override_from: String,
    #[serde(rename = "PreserveMessageIDs")]
    pub preserve_message_ids: bool,
    pub recipient_allowlist: String,
}

/// The body of `GET /api/v1/webui` (Mailpit's `WebUIConfiguration`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct WebUiConfiguration {
    pub label: String,
    pub message_relay: MessageRelay,
    #[serde(rename = "SpamAssassin")]
    pub spam_assassin: bool,
    pub chaos_enabled: bool,
    pub duplicates_ignored: bool,
    pub hide_delete_all_button: bool,
    #[serde(rename = "DisableHTMLCheck")]
    pub disable_html_check: bool,
}

/// The body of a successful `POST /api/v1/send`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SendConfirmation {
    #[serde(rename = "ID")]
    pub id: String,
}

/// The body of a failed `POST /api/v1/send` (Mailpit's `JSONErrorMessage`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct JsonError {
    #[serde(rename = "Error")]
    pub error: String,
}

//! What the API shows about a message, parsed once when it is stored.
//!
//! The fields follow Mailpit's message JSON (`crates/smtp-http` maps them 1:1), so a summary is
//! computed on the delivering thread ([`summarize`]), kept with the message, and never re-parsed
//! for a list or a search. A message that does not parse still gets a summary (`parse_error` set,
//! raw text as the body), and is stored all the same.
//!
//! A summary is small: it does not keep the decoded bodies, which would be a second copy of
//! every message. What search reads of the body is a [`BodyText`]: ranges of the stored bytes
//! where the text lies in them as is (the common case: UTF-8 or ASCII text sent without a
//! transfer encoding), and owned text only where decoding changed it. The bodies themselves are
//! decoded again when one message is shown ([`bodies`]), as the parts are ([`part`]).
//!
//! Parsing is done by `mail-parser`; which parts count as bodies, attachments and inline parts,
//! and how parts are numbered, follow Mailpit (which uses Go's `enmime`), see `parts.rs`.

mod envelope;
mod parts;
mod text;

use std::borrow::Cow;
use std::ops::Range;
use std::panic::{self, AssertUnwindSafe};
use std::sync::LazyLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mail_parser::{Addr, HeaderName, HeaderValue, Message, MessageParser};

use crate::message::Envelope;
use parts::{Texts, Tree, TEXT_SEPARATOR};

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
    /// The part's file name; its Content-ID when it has none (as Mailpit does).
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
    /// The `Return-Path:` address without angle brackets; the From address when there is none.
    pub return_path: String,
    /// The `Date:` header, if it parsed.
    pub date: Option<SystemTime>,
    /// The plain-text body (or text made from the HTML when there is none), as search reads it.
    pub body: BodyText,
    /// The first 200 characters of the body text, whitespace collapsed, `...` when cut
    /// (Mailpit's `Snippet`: made from the HTML when there is HTML).
    pub snippet: String,
    pub attachments: Vec<Attachment>,
    pub inline: Vec<Attachment>,
    /// Mailpit tags (from an `X-Tags` header), cleaned, sorted and without duplicates.
    pub tags: Vec<String>,
    /// The message did not parse as MIME, or parts of its structure were broken; what could
    /// not be parsed is shown as raw text.
    pub parse_error: bool,
}

/// The text body of a message, kept without copying what the stored bytes already hold.
///
/// Each piece is either a range of the stored message (a text part whose decoded form is its
/// bytes as sent) or text of its own (decoded from quoted-printable, base64 or another charset,
/// or made from HTML). Joined by `"\n--\n"` the pieces are the message's text body.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BodyText {
    pieces: Vec<Piece>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    /// These bytes of the stored message, valid UTF-8.
    Stored(Range<usize>),
    Owned(Box<str>),
}

impl BodyText {
    /// Keeps each piece that lies inside `raw` as a range of it, and copies the others.
    fn new(raw: &[u8], pieces: &[Cow<'_, str>]) -> Self {
        let pieces = pieces
            .iter()
            .map(|piece| match range_within(raw, piece.as_bytes()) {
                Some(range) => Piece::Stored(range),
                None => Piece::Owned(piece.as_ref().into()),
            })
            .collect();
        Self { pieces }
    }

    /// Body text held apart from any stored bytes, for a summary made by hand.
    #[must_use]
    pub fn from_text(text: &str) -> Self {
        Self {
            pieces: vec![Piece::Owned(text.into())],
        }
    }

    /// The pieces of the text, in order. `raw` must be the bytes of the message this summary
    /// was made from ([`crate::StoredMessage::raw`]); a range it does not hold reads as empty.
    pub fn pieces<'a>(&'a self, raw: &'a [u8]) -> impl Iterator<Item = &'a str> + 'a {
        self.pieces.iter().map(move |piece| match piece {
            Piece::Stored(range) => raw
                .get(range.clone())
                .and_then(|bytes| std::str::from_utf8(bytes).ok())
                .unwrap_or_default(),
            Piece::Owned(text) => text,
        })
    }

    /// The pieces as bytes (valid UTF-8 by construction), without checking them again: for
    /// scanning many messages quickly. `raw` as for [`Self::pieces`].
    pub fn byte_pieces<'a>(&'a self, raw: &'a [u8]) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.pieces.iter().map(move |piece| match piece {
            Piece::Stored(range) => raw.get(range.clone()).unwrap_or_default(),
            Piece::Owned(text) => text.as_bytes(),
        })
    }

    /// Copies every range out of `raw`, for a message whose bytes will not stay in memory.
    pub(crate) fn detach(&mut self, raw: &[u8]) {
        for piece in &mut self.pieces {
            if let Piece::Stored(range) = piece {
                let text = raw
                    .get(range.clone())
                    .and_then(|bytes| std::str::from_utf8(bytes).ok())
                    .unwrap_or_default();
                *piece = Piece::Owned(text.into());
            }
        }
    }

    /// Bytes held apart from the stored message.
    #[must_use]
    pub fn owned_bytes(&self) -> usize {
        self.pieces
            .iter()
            .map(|piece| match piece {
                Piece::Stored(_) => 0,
                Piece::Owned(text) => text.len(),
            })
            .sum()
    }
}

/// Where `part` lies inside `whole`, if it is a slice of it.
fn range_within(whole: &[u8], part: &[u8]) -> Option<Range<usize>> {
    let start = (part.as_ptr() as usize).checked_sub(whole.as_ptr() as usize)?;
    let end = start.checked_add(part.len())?;
    (end <= whole.len()).then_some(start..end)
}

/// The decoded bodies of one message, for showing it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bodies {
    /// The plain-text body, or text made from the HTML when there is none.
    pub text: String,
    /// The HTML body; empty when there is none.
    pub html: String,
}

/// One decoded MIME part, as served by `/part/{PartID}`.
#[derive(Clone, PartialEq, Eq)]
pub struct Part {
    /// `type/subtype`, lower case.
    pub content_type: String,
    /// The file name; the Content-ID when there is none; empty when neither is set.
    pub file_name: String,
    /// The content with its transfer encoding undone (text parts converted to UTF-8).
    pub bytes: Vec<u8>,
}

/// Leaves the content out: it may be large, and bodies stay out of logs.
impl std::fmt::Debug for Part {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Part")
            .field("content_type", &self.content_type)
            .field("file_name", &self.file_name)
            .field("size", &self.bytes.len())
            .finish()
    }
}

/// The parser for summaries, bodies and parts: mail-parser's defaults, except that `Received:`
/// fields are skipped (their value left empty). Nothing here reads them, and every stored
/// message starts with one (ours), whose structured parse was the costliest header of a small
/// message, and even as raw text cost more than any other. (Reading a message back from disk,
/// [`analyze`], parses them: the envelope is recovered from ours.)
///
/// A parser given any header of its own parses every other one as raw text, so this lists
/// mail-parser's defaults (`MessageStream::parse_headers` in mail-parser 0.11) one by one.
fn parser() -> &'static MessageParser {
    static PARSER: LazyLock<MessageParser> = LazyLock::new(|| {
        use HeaderName as H;
        let mut parser = MessageParser::new()
            .with_mime_headers()
            .with_date_headers()
            .with_address_headers()
            .with_message_ids()
            .header_text(H::Subject)
            .header_text(H::Comments)
            .header_id(H::ReturnPath)
            .header_comma_separated(H::Keywords)
            .header_comma_separated(H::ContentLanguage)
            .header_raw(H::MimeVersion)
            .ignore_header(H::Received);
        for list in [
            H::ListArchive,
            H::ListHelp,
            H::ListId,
            H::ListOwner,
            H::ListPost,
            H::ListSubscribe,
            H::ListUnsubscribe,
        ] {
            parser = parser.header_address(list);
        }
        parser
    });
    &PARSER
}

/// The summary of a stored message. Never fails: a message that does not parse gets
/// `parse_error` and its raw text as the body.
#[must_use]
pub fn summarize(raw: &[u8]) -> Summary {
    guarded(raw, |raw| match parser().parse(raw) {
        Some(message) => summarize_parsed(&message),
        None => unparsed(raw),
    })
    .unwrap_or_else(|| unparsed(raw))
}

/// The decoded text and HTML bodies, as the message's summary saw them.
#[must_use]
pub fn bodies(raw: &[u8]) -> Bodies {
    let parsed = guarded(raw, |raw| {
        let message = parser().parse(raw)?;
        let texts = texts(&message, &Tree::new(&message));
        Some(Bodies {
            text: texts.joined_text(),
            html: texts.html.into_owned(),
        })
    });
    parsed.flatten().unwrap_or_else(|| Bodies {
        text: String::from_utf8_lossy(raw).into_owned(),
        html: String::new(),
    })
}

/// The decoded part numbered `part_id` (Mailpit's PartID, see [`Attachment::part_id`]), if the
/// message has a leaf part with that number.
#[must_use]
pub fn part(raw: &[u8], part_id: &str) -> Option<Part> {
    guarded(raw, |raw| {
        let message = parser().parse(raw)?;
        Tree::new(&message).part(part_id)
    })
    .flatten()
}

/// The summary and the recovered envelope (see [`envelope`]) of a message read back from disk,
/// from one parse.
pub(crate) fn analyze(raw: &[u8]) -> (Summary, Envelope) {
    let analyzed = guarded(raw, |raw| {
        let message = MessageParser::new().parse(raw)?;
        Some((summarize_parsed(&message), envelope::recover(&message)))
    });
    let (mut summary, envelope) = analyzed
        .flatten()
        .unwrap_or_else(|| (unparsed(raw), envelope::unknown()));
    // The bytes stay on disk: search must not need them.
    summary.body.detach(raw);
    (summary, envelope)
}

fn summarize_parsed(message: &Message<'_>) -> Summary {
    let tree = Tree::new(message);
    let texts = texts(message, &tree);
    let fields = TopFields::of(message);
    let from = from(fields.from);
    let return_path = match fields.return_address() {
        Some(path) => path.trim().trim_matches(['<', '>']).to_owned(),
        None => String::new(),
    };
    let mut summary = Summary {
        message_id: text_of(fields.message_id).to_owned(),
        subject: text_of(fields.subject).to_owned(),
        return_path,
        to: addresses(fields.to),
        cc: addresses(fields.cc),
        bcc: addresses(fields.bcc),
        reply_to: addresses(fields.reply_to),
        date: fields
            .date
            .and_then(HeaderValue::as_datetime)
            .and_then(|date| system_time(date.to_timestamp())),
        snippet: snippet(&texts),
        body: BodyText::new(message.raw_message(), &texts.pieces),
        attachments: tree.attachments(),
        inline: tree.inline(),
        tags: text::tags(fields.tags.and_then(HeaderValue::as_text)),
        parse_error: tree.has_problem(),
        from,
    };
    if summary.return_path.is_empty() {
        if let Some(from) = &summary.from {
            summary.return_path.clone_from(&from.address);
        }
    }
    summary
}

/// The top-level header fields a summary reads, found in one pass over the message's header
/// fields (asking `mail-parser` for each searched them all again, ten times a message). As
/// `mail-parser`'s own accessors, the last field of a name counts.
#[derive(Default)]
struct TopFields<'m, 'x> {
    message_id: Option<&'m HeaderValue<'x>>,
    subject: Option<&'m HeaderValue<'x>>,
    from: Option<&'m HeaderValue<'x>>,
    to: Option<&'m HeaderValue<'x>>,
    cc: Option<&'m HeaderValue<'x>>,
    bcc: Option<&'m HeaderValue<'x>>,
    reply_to: Option<&'m HeaderValue<'x>>,
    date: Option<&'m HeaderValue<'x>>,
    return_path: Option<&'m HeaderValue<'x>>,
    tags: Option<&'m HeaderValue<'x>>,
}

impl<'m, 'x> TopFields<'m, 'x> {
    fn of(message: &'m Message<'x>) -> Self {
        let mut fields = Self::default();
        for header in message.root_part().headers() {
            let slot = match &header.name {
                HeaderName::MessageId => &mut fields.message_id,
                HeaderName::Subject => &mut fields.subject,
                HeaderName::From => &mut fields.from,
                HeaderName::To => &mut fields.to,
                HeaderName::Cc => &mut fields.cc,
                HeaderName::Bcc => &mut fields.bcc,
                HeaderName::ReplyTo => &mut fields.reply_to,
                HeaderName::Date => &mut fields.date,
                HeaderName::ReturnPath => &mut fields.return_path,
                HeaderName::Other(name) if name.eq_ignore_ascii_case("X-Tags") => &mut fields.tags,
                _ => continue,
            };
            *slot = Some(&header.value);
        }
        fields
    }

    /// `mail-parser`'s `Message::return_address`: the Return-Path, else the first From address.
    fn return_address(&self) -> Option<&'m str> {
        match self.return_path {
            Some(HeaderValue::Text(text)) => Some(text.as_ref()),
            Some(HeaderValue::TextList(list)) => list.last().map(AsRef::as_ref),
            _ => match self.from {
                Some(HeaderValue::Address(address)) => address.first()?.address.as_deref(),
                _ => None,
            },
        }
    }
}

fn text_of<'m>(value: Option<&'m HeaderValue<'_>>) -> &'m str {
    value.and_then(HeaderValue::as_text).unwrap_or_default()
}

/// The bodies, with the fallback for a broken message that has neither: its raw body as text.
fn texts<'m>(message: &'m Message<'_>, tree: &Tree<'m, '_>) -> Texts<'m> {
    let mut texts = tree.texts();
    if tree.has_problem() && texts.text_is_empty() && texts.html.is_empty() {
        let body = match body_of(message) {
            [] => message.raw_message(),
            body => body,
        };
        texts.pieces = vec![String::from_utf8_lossy(body)];
    }
    texts
}

/// Mailpit's snippet: from the HTML's text when there is HTML, from the plain text otherwise.
fn snippet(texts: &Texts<'_>) -> String {
    if texts.html.trim().is_empty() {
        let mut pieces = texts.pieces.iter().map(AsRef::as_ref);
        let first = pieces.next();
        let rest = pieces.flat_map(|piece| [TEXT_SEPARATOR, piece]);
        text::snippet(first.into_iter().chain(rest))
    } else if texts.from_html {
        text::snippet(texts.pieces.iter().map(AsRef::as_ref))
    } else {
        text::snippet([text::html_to_text(&texts.html).as_str()])
    }
}

/// The summary of bytes that are not a message at all.
fn unparsed(raw: &[u8]) -> Summary {
    let text = String::from_utf8_lossy(raw);
    Summary {
        snippet: text::snippet([text.as_ref()]),
        body: BodyText::new(raw, &[text]),
        parse_error: true,
        ..Summary::default()
    }
}

/// Runs a parse, turning a panic in the parser into `None`: a hostile message must not take
/// down the thread that delivers it.
fn guarded<T>(raw: &[u8], parse: impl FnOnce(&[u8]) -> T) -> Option<T> {
    match panic::catch_unwind(AssertUnwindSafe(|| parse(raw))) {
        Ok(value) => Some(value),
        Err(_) => {
            log::warn!("the MIME parser failed on a {}-byte message", raw.len());
            None
        }
    }
}

/// The first From address; a From field that holds no address gives its text as the name (as
/// Mailpit does).
fn from(field: Option<&HeaderValue<'_>>) -> Option<Address> {
    if let Some(first) = field
        .and_then(HeaderValue::as_address)
        .and_then(|from| from.first())
    {
        return Some(address(first));
    }
    let text = text_of(field).trim();
    (!text.is_empty()).then(|| Address {
        name: text.to_owned(),
        address: String::new(),
    })
}

/// The addresses of a To, Cc, Bcc or Reply-To field, in a list with room for just them: the
/// list is kept with the message, and collected from `mail-parser`'s iterator, which does not
/// tell its length, it would have room for four (144 bytes unused for one address).
fn addresses(field: Option<&HeaderValue<'_>>) -> Vec<Address> {
    let Some(list) = field.and_then(HeaderValue::as_address) else {
        return Vec::new();
    };
    let mut addresses = Vec::with_capacity(list.iter().count());
    addresses.extend(list.iter().map(address));
    addresses
}

fn address(addr: &Addr<'_>) -> Address {
    Address {
        name: addr.name().unwrap_or_default().to_owned(),
        address: addr.address().unwrap_or_default().to_owned(),
    }
}

/// Everything after the header section of the top-level message.
fn body_of<'m>(message: &'m Message<'_>) -> &'m [u8] {
    let start = message.root_part().offset_body as usize;
    message.raw_message().get(start..).unwrap_or_default()
}

/// Seconds since the Unix epoch (negative before it) as a point in time, if the platform can
/// represent it.
fn system_time(seconds: i64) -> Option<SystemTime> {
    let magnitude = Duration::from_secs(seconds.unsigned_abs());
    if seconds >= 0 {
        UNIX_EPOCH.checked_add(magnitude)
    } else {
        UNIX_EPOCH.checked_sub(magnitude)
    }
}

#[cfg(test)]
mod tests {
    use mail_parser::{HeaderName, HeaderValue, MessageParser};

    /// The summary's parser reads every header as mail-parser's defaults do, but skips `Received:`.
    #[test]
    fn the_parser_differs_from_the_default_only_in_received() {
        let raw = b"Received: from a ([192.0.2.1]) by b with ESMTP id X; Fri, 27 Nov 2026 21:30:00 +0000\r\n\
Return-Path: <s@example.com>\r\nFrom: =?UTF-8?Q?caf=C3=A9?= <a@example.com>\r\nSender: s@example.com\r\n\
To: b@example.com, \"C\" <c@example.com>\r\nCc: d@example.com\r\nBcc: e@example.com\r\n\
Reply-To: r@example.com\r\nResent-From: f@example.com\r\nResent-To: g@example.com\r\n\
Resent-Cc: h@example.com\r\nResent-Bcc: i@example.com\r\nResent-Sender: j@example.com\r\n\
Resent-Date: Fri, 27 Nov 2026 21:30:00 +0000\r\nResent-Message-ID: <k@example.com>\r\n\
Subject: =?UTF-8?Q?caf=C3=A9?=\r\nComments: =?UTF-8?Q?caf=C3=A9?=\r\nKeywords: a, b\r\n\
Date: Fri, 27 Nov 2026 21:30:00 +0000\r\nMessage-ID: <m@example.com>\r\n\
In-Reply-To: <n@example.com>\r\nReferences: <o@example.com> <p@example.com>\r\n\
List-Id: <list.example.com>\r\nList-Unsubscribe: <mailto:u@example.com>\r\n\
List-Post: <mailto:l@example.com>\r\nList-Help: <mailto:h@example.com>\r\n\
List-Archive: <https://example.com/a>\r\nList-Owner: <mailto:o@example.com>\r\n\
List-Subscribe: <mailto:s@example.com>\r\nMIME-Version: 1.0\r\nContent-Language: en, fr\r\n\
Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\
Content-ID: <q@example.com>\r\nContent-Description: =?UTF-8?Q?caf=C3=A9?=\r\n\
Content-Location: here\r\nContent-Disposition: inline; filename=a.txt\r\nX-Other: =?UTF-8?Q?caf=C3=A9?=\r\n\
\r\nbody\r\n";
        let ours = super::parser().parse(&raw[..]).unwrap();
        let default = MessageParser::default().parse(&raw[..]).unwrap();
        assert_eq!(ours.headers().len(), default.headers().len());
        let mut compared = 0;
        for (mine, theirs) in ours.headers().iter().zip(default.headers()) {
            assert_eq!(mine.name, theirs.name);
            if mine.name == HeaderName::Received {
                assert_eq!(mine.value, HeaderValue::Empty);
                assert!(matches!(theirs.value, HeaderValue::Received(_)));
            } else {
                assert_eq!(mine.value, theirs.value, "{}", mine.name.as_str());
                compared += 1;
            }
        }
        assert_eq!(compared, ours.headers().len() - 1);
    }

    /// The one pass over the header fields finds what `mail-parser`'s accessors find: the last
    /// field of each name, `X-Tags` in any case, and the Return-Path's fallback to From.
    #[test]
    fn top_fields_agree_with_the_accessors() {
        let messages: [&[u8]; 4] = [
            b"Subject: one\r\nTo: a@x.test\r\nSubject: two\r\nTo: b@x.test, c@x.test\r\n\
x-tags: a, b\r\nX-TAGS: c\r\nFrom: F <f@x.test>\r\nReturn-Path: <r@x.test>\r\n\
Return-Path: <s@x.test>\r\nDate: Fri, 27 Nov 2026 21:30:00 +0000\r\nMessage-ID: <m@x>\r\n\
Cc: c@x.test\r\nBcc: d@x.test\r\nReply-To: e@x.test\r\nMessage-ID: <n@x>\r\n\r\nbody\r\n",
            b"From: f@x.test\r\nFrom: G <g@x.test>\r\n\r\nno return path\r\n",
            b"From: undisclosed\r\nSubject: =?UTF-8?Q?caf=C3=A9?=\r\n\r\n",
            b"X-Other: 1\r\n\r\nnothing a summary reads\r\n",
        ];
        for raw in messages {
            let message = super::parser().parse(raw).unwrap();
            let fields = super::TopFields::of(&message);
            let text = super::text_of;
            assert_eq!(text(fields.subject), message.subject().unwrap_or_default());
            assert_eq!(
                text(fields.message_id),
                message.message_id().unwrap_or_default()
            );
            assert_eq!(fields.return_address(), message.return_address());
            assert_eq!(
                fields.date.and_then(HeaderValue::as_datetime),
                message.date()
            );
            for (field, theirs) in [
                (fields.from, message.from()),
                (fields.to, message.to()),
                (fields.cc, message.cc()),
                (fields.bcc, message.bcc()),
                (fields.reply_to, message.reply_to()),
            ] {
                assert_eq!(field.and_then(HeaderValue::as_address), theirs);
            }
            assert_eq!(fields.tags, message.header("X-Tags"));
        }
        let first = super::parser().parse(messages[0]).unwrap();
        let fields = super::TopFields::of(&first);
        assert_eq!(super::text_of(fields.subject), "two");
        assert_eq!(fields.return_address(), Some("s@x.test"));
        assert_eq!(fields.tags.and_then(HeaderValue::as_text), Some("c"));
    }

    /// A message that is a header section and nothing else is not a parse error, though every
    /// field but the `Received:` the parser skips is blank (a null sender, an empty Message-ID).
    #[test]
    fn a_header_section_alone_is_a_message() {
        let raw =
            b"Return-Path: <>\r\nReceived: from c ([127.0.0.1])\r\n\tby h (mailsink) with ESMTP \
id X; Fri, 27 Nov 2026 21:30:00 +0000\r\nMessage-ID:\r\n";
        let summary = super::summarize(raw);
        assert!(!summary.parse_error, "{summary:?}");
        assert_eq!(summary.snippet, "");
    }
}

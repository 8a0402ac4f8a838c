//! The MIME tree as Mailpit sees it: part numbers, bodies, attachments and inline parts.
//!
//! Mailpit parses with Go's `enmime`; these rules reproduce what its API shows:
//!
//! - **PartID**: the children of a multipart message are numbered `1`, `2`, ... in order, and
//!   the children of a nested multipart part `N` are `N.1`, `N.2`, ... A message that is not
//!   multipart has one part, `1` (enmime leaves it unnumbered; `1` is its IMAP number and can
//!   be requested from `/part/1`). A `message/rfc822` part is one leaf: it is not opened.
//! - **Bodies**: the text is the first `text/plain` part (breadth first) that is not an
//!   attachment when the message is `multipart/alternative`, and every such part (depth first)
//!   joined by `\n--\n` otherwise; the HTML is the first `text/html` part that is not an
//!   attachment. With HTML but no text, the text is made from the HTML.
//! - **Attachments**: parts with `Content-Disposition: attachment`, or of type
//!   `application/octet-stream` without `Content-Disposition: inline`.
//! - **Inline parts**: parts with `Content-Disposition: inline`, then the parts with no
//!   disposition that are neither multipart, text bodies nor `application/octet-stream`
//!   (enmime's "other parts", which Mailpit shows as inline).
//! - Both lists are in breadth-first order and keep only parts with a file name or a
//!   Content-ID; a part without a file name is named by its Content-ID.

use std::borrow::Cow;

use mail_parser::{HeaderName, Message, MessagePart, MimeHeaders, PartType};

use super::text;
use super::{Attachment, Part};

/// Joins the plain-text parts of a mixed message, as enmime does.
pub(super) const TEXT_SEPARATOR: &str = "\n--\n";

/// A parsed message's leaf parts, numbered, in depth-first order.
pub(super) struct Tree<'m, 'x> {
    root: &'m MessagePart<'x>,
    /// Whether the message is multipart (its leaves are then its parts; otherwise the one leaf
    /// is the message itself).
    multipart: bool,
    leaves: Vec<Leaf<'m, 'x>>,
    /// Some part could not be decoded or its structure is broken.
    problem: bool,
}

/// The decoded bodies of a message, borrowed from the parse where it could leave them as they
/// were.
pub(super) struct Texts<'m> {
    /// The text body in pieces: joined by [`TEXT_SEPARATOR`] they are the text.
    pub pieces: Vec<Cow<'m, str>>,
    /// The HTML body; empty when there is none.
    pub html: Cow<'m, str>,
    /// The one piece is text made from the HTML (there was no plain text).
    pub from_html: bool,
}

impl Texts<'_> {
    /// Whether the joined text is empty.
    pub fn text_is_empty(&self) -> bool {
        match self.pieces.as_slice() {
            [] => true,
            [only] => only.is_empty(),
            _ => false,
        }
    }

    pub fn joined_text(&self) -> String {
        self.pieces.join(TEXT_SEPARATOR)
    }
}

struct Leaf<'m, 'x> {
    id: String,
    depth: usize,
    part: &'m MessagePart<'x>,
    content_type: String,
    disposition: Disposition,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Disposition {
    None,
    Inline,
    Attachment,
    /// Any other disposition type: neither attachment nor inline.
    Other,
}

/// Where a leaf goes in the API's view.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Body,
    Attachment,
    Inline,
    Hidden,
}

impl<'m, 'x> Tree<'m, 'x> {
    pub(super) fn new(message: &'m Message<'x>) -> Self {
        let root = message.root_part();
        let multipart = matches!(root.body, PartType::Multipart(_));
        let leaves = if multipart {
            leaves(message)
        } else {
            vec![Leaf::new("1".to_owned(), 0, root)]
        };
        let undecodable = message
            .parts
            .iter()
            .enumerate()
            .any(|(i, part)| part.is_encoding_problem && !(i == 0 && headers_only(message)));
        // A multipart type whose parts could not be found (no boundary, or a boundary that
        // never occurs) is a broken structure, shown as text.
        let unsplit = leaves
            .iter()
            .any(|leaf| leaf.content_type.starts_with("multipart/"));
        Self {
            root,
            multipart,
            leaves,
            problem: undecodable || unsplit,
        }
    }

    pub(super) fn has_problem(&self) -> bool {
        self.problem
    }

    /// The text body's pieces and the HTML body. With HTML but no text, the text is made from
    /// the HTML.
    pub(super) fn texts(&self) -> Texts<'m> {
        let pieces: Vec<Cow<'m, str>> = if self.is_alternative() {
            self.breadth_first()
                .find(|leaf| leaf.is_body("text/plain"))
                .map(Leaf::text)
                .into_iter()
                .collect()
        } else {
            self.leaves
                .iter()
                .filter(|leaf| leaf.is_body("text/plain"))
                .map(Leaf::text)
                .collect()
        };
        let html = self
            .breadth_first()
            .find(|leaf| leaf.is_body("text/html"))
            .map(Leaf::text)
            .unwrap_or_default();
        let mut texts = Texts {
            pieces,
            html,
            from_html: false,
        };
        if texts.text_is_empty() && !texts.html.is_empty() {
            texts.pieces = vec![Cow::Owned(text::html_to_text(&texts.html))];
            texts.from_html = true;
        }
        texts
    }

    pub(super) fn attachments(&self) -> Vec<Attachment> {
        self.listed(Role::Attachment)
    }

    /// Parts with `Content-Disposition: inline` first, then the undisposed "other parts".
    pub(super) fn inline(&self) -> Vec<Attachment> {
        let (disposed, other): (Vec<&Leaf<'_, '_>>, Vec<&Leaf<'_, '_>>) = self
            .breadth_first()
            .filter(|leaf| self.role(leaf) == Role::Inline && leaf.is_named())
            .partition(|leaf| leaf.disposition == Disposition::Inline);
        disposed
            .into_iter()
            .chain(other)
            .map(Leaf::summary)
            .collect()
    }

    /// The leaf numbered `id`, decoded.
    pub(super) fn part(&self, id: &str) -> Option<Part> {
        let leaf = self.leaves.iter().find(|leaf| leaf.id == id)?;
        Some(Part {
            content_type: leaf.content_type.clone(),
            file_name: leaf.file_name(),
            bytes: leaf.bytes().to_vec(),
        })
    }

    fn listed(&self, role: Role) -> Vec<Attachment> {
        self.breadth_first()
            .filter(|leaf| self.role(leaf) == role && leaf.is_named())
            .map(Leaf::summary)
            .collect()
    }

    /// Which list a leaf is shown in (a body is in none; bodies are chosen by [`Self::bodies`]).
    fn role(&self, leaf: &Leaf<'_, '_>) -> Role {
        let text_body = matches!(leaf.content_type.as_str(), "text/plain" | "text/html");
        match leaf.disposition {
            Disposition::Attachment => Role::Attachment,
            Disposition::Inline => Role::Inline,
            _ if leaf.content_type == "application/octet-stream" => Role::Attachment,
            Disposition::Other => Role::Hidden,
            Disposition::None if text_body || leaf.content_type.starts_with("multipart/") => {
                Role::Body
            }
            // enmime's "other parts" of a multipart message, which Mailpit shows as inline.
            Disposition::None if self.multipart => Role::Inline,
            // A single-part message that is not text is an attachment on its own.
            Disposition::None => Role::Attachment,
        }
    }

    fn is_alternative(&self) -> bool {
        self.root.content_type().is_some_and(|ct| {
            ct.ctype().eq_ignore_ascii_case("multipart")
                && ct
                    .subtype()
                    .is_some_and(|s| s.eq_ignore_ascii_case("alternative"))
        })
    }

    /// The leaves level by level (a stable sort of the depth-first order by depth).
    fn breadth_first(&self) -> impl Iterator<Item = &Leaf<'m, 'x>> {
        // One pass over the leaves per level, nothing sorted or allocated: messages are a level
        // or two deep.
        let deepest = self.leaves.iter().map(|leaf| leaf.depth).max().unwrap_or(0);
        (0..=deepest)
            .flat_map(move |depth| self.leaves.iter().filter(move |leaf| leaf.depth == depth))
    }
}

impl<'m, 'x> Leaf<'m, 'x> {
    fn new(id: String, depth: usize, part: &'m MessagePart<'x>) -> Self {
        let content_type = part.content_type().map_or_else(
            || "text/plain".to_owned(),
            |ct| {
                // `type/subtype` in lower case, in one allocation.
                let subtype = ct.subtype();
                let len = ct.ctype().len() + subtype.map_or(0, |subtype| 1 + subtype.len());
                let mut lower = String::with_capacity(len);
                lower.push_str(ct.ctype());
                if let Some(subtype) = subtype {
                    lower.push('/');
                    lower.push_str(subtype);
                }
                lower.make_ascii_lowercase();
                lower
            },
        );
        let disposition = match part.content_disposition() {
            None => Disposition::None,
            Some(cd) if cd.is_attachment() => Disposition::Attachment,
            Some(cd) if cd.is_inline() => Disposition::Inline,
            Some(_) => Disposition::Other,
        };
        Self {
            id,
            depth,
            part,
            content_type,
            disposition,
        }
    }

    /// A text or HTML body candidate: of this type and not an attachment.
    fn is_body(&self, content_type: &str) -> bool {
        self.content_type == content_type && self.disposition != Disposition::Attachment
    }

    fn is_named(&self) -> bool {
        !self.file_name().is_empty()
    }

    fn file_name(&self) -> String {
        self.part
            .attachment_name()
            .filter(|name| !name.is_empty())
            .or_else(|| self.part.content_id())
            .unwrap_or_default()
            .to_owned()
    }

    /// The decoded content (text parts are already UTF-8).
    fn bytes(&self) -> &'m [u8] {
        match &self.part.body {
            PartType::Text(text) | PartType::Html(text) => text.as_bytes(),
            PartType::Binary(bytes) | PartType::InlineBinary(bytes) => bytes,
            PartType::Message(message) => message.raw_message(),
            PartType::Multipart(_) => &[],
        }
    }

    fn text(&self) -> Cow<'m, str> {
        match &self.part.body {
            PartType::Text(text) | PartType::Html(text) => Cow::Borrowed(text),
            _ => String::from_utf8_lossy(self.bytes()),
        }
    }

    fn summary(&self) -> Attachment {
        let bytes = self.bytes();
        Attachment {
            part_id: self.id.clone(),
            file_name: self.file_name(),
            content_type: self.content_type.clone(),
            content_id: self.part.content_id().unwrap_or_default().to_owned(),
            size: bytes.len(),
            checksums: text::checksums(bytes),
        }
    }
}

/// The leaves of a multipart message, numbered, depth first. The walk uses an explicit stack:
/// hostile nesting cannot overflow the thread's.
fn leaves<'m, 'x>(message: &'m Message<'x>) -> Vec<Leaf<'m, 'x>> {
    let mut leaves = Vec::new();
    let mut stack: Vec<(usize, String, usize)> = children(message, 0)
        .map(|(n, child)| (child, n.to_string(), 1))
        .collect();
    while let Some((index, id, depth)) = stack.pop() {
        let Some(part) = message.parts.get(index) else {
            continue;
        };
        match &part.body {
            PartType::Multipart(_) => stack.extend(
                children(message, index).map(|(n, child)| (child, format!("{id}.{n}"), depth + 1)),
            ),
            _ => leaves.push(Leaf::new(id, depth, part)),
        }
    }
    leaves
}

/// A message that is a header section and nothing else: `mail-parser` flags it (there is no
/// body), but with real header fields it is a valid message, not a parse error.
fn headers_only(message: &Message<'_>) -> bool {
    let root = message.root_part();
    root.offset_body as usize >= message.raw_message().len()
        && root
            .headers
            .iter()
            // A `Received:` field is real though the summary's parser skips its value.
            .any(|header| !header.value.is_empty() || header.name == HeaderName::Received)
}

/// The direct children of the multipart part at `index`, numbered from 1, last first (ready to
/// be pushed on a stack). Only parts after `index` count, so a malformed tree cannot loop.
fn children<'m>(
    message: &'m Message<'_>,
    index: usize,
) -> impl Iterator<Item = (usize, usize)> + 'm {
    let ids: &[u32] = match message.parts.get(index).map(|part| &part.body) {
        Some(PartType::Multipart(children)) => children,
        _ => &[],
    };
    ids.iter().enumerate().rev().filter_map(move |(i, &child)| {
        let child = usize::try_from(child).ok()?;
        (child > index).then_some((i + 1, child))
    })
}

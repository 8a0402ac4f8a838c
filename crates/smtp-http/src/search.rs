//! Mailpit's search syntax: a pure parser ([`Query::parse`]) and a matcher over stored messages.
//!
//! A query is a list of terms, all of which must hold:
//!
//! - words and `"quoted phrases"` (quotes may also wrap a value: `subject:"two words"`) match
//!   the message's search text: addresses, subject, return path, body and attachment names,
//!   ignoring case;
//! - `from:`, `to:`, `cc:`, `bcc:`, `reply-to:` match part of a name or address in that field;
//! - `subject:` and `message-id:` match part of the subject or Message-ID;
//! - `tag:NAME` matches a tag exactly; `is:read`, `is:unread`, `is:tagged`, `has:attachment`
//!   (or `has:attachments`);
//! - `after:DATE` and `before:DATE` compare the time the message was received (see
//!   `time::parse_search_date` for the date forms); an unreadable date is ignored;
//! - a leading `-` or `!` negates a term.
//!
//! As in Mailpit, prefixes are case-insensitive, and a term with no letter or digit is ignored.
//!
//! # Matching many messages
//!
//! A search tests every stored message, so words are matched without building Mailpit's
//! cleaned search text (`search_text`) where the answer cannot differ: a word of ASCII
//! characters without separators is looked for in the message's fields and body in place,
//! ignoring ASCII case (`caseless`), without copying them. Only phrases (and words with other
//! characters) need the cleaned text, and only for messages that already contain the phrase's
//! longest ASCII word. [`Matcher`] holds the compiled words and a reused buffer.

use std::sync::Arc;
use std::thread;

use smtp_store::{Address, StoredMessage};

use crate::caseless::CaselessFinder;
use crate::time::{parse_search_date, unix_millis};

/// Most threads one search uses.
pub const MAX_SEARCH_THREADS: usize = 4;

/// Fewer messages than this per thread are searched on the calling thread alone.
const MIN_MESSAGES_PER_THREAD: usize = 5_000;

/// A parsed search query: every term must hold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Query {
    terms: Vec<Term>,
}

/// One condition, possibly negated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Term {
    pub negated: bool,
    pub test: Test,
}

/// What a term tests. Text values are stored lower case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Test {
    /// Part of the search text (a word or phrase).
    Text(String),
    From(String),
    To(String),
    Cc(String),
    Bcc(String),
    ReplyTo(String),
    Subject(String),
    MessageId(String),
    /// A tag, matched exactly (case kept).
    Tag(String),
    IsRead,
    IsUnread,
    IsTagged,
    HasAttachment,
    /// Received at or after this time (milliseconds since the epoch).
    After(i64),
    /// Received at or before this time (milliseconds since the epoch).
    Before(i64),
}

impl Query {
    /// Parses a query; never fails (unusable terms are dropped, as Mailpit drops them).
    #[must_use]
    pub fn parse(query: &str) -> Self {
        let terms = tokens(query).iter().filter_map(|t| term(t)).collect();
        Self { terms }
    }

    /// The terms, in query order.
    #[must_use]
    pub fn terms(&self) -> &[Term] {
        &self.terms
    }

    /// Whether `message` satisfies every term.
    #[must_use]
    pub fn matches(&self, message: &StoredMessage) -> bool {
        self.matcher().matches(message)
    }

    /// The messages that match, in their order. A large mailbox is split between threads, one
    /// per core (up to [`MAX_SEARCH_THREADS`]): a search reads every message's text, and is
    /// bound by memory reads more than by the matching itself.
    #[must_use]
    pub fn filter<'m>(&self, messages: &'m [Arc<StoredMessage>]) -> Vec<&'m Arc<StoredMessage>> {
        let most = messages.len() / MIN_MESSAGES_PER_THREAD;
        // Asking for the cores reads cgroup files: only worth it for a mailbox that could split.
        let threads = if most < 2 {
            1
        } else {
            thread::available_parallelism()
                .map_or(1, usize::from)
                .min(MAX_SEARCH_THREADS)
                .min(most)
        };
        let chunk = messages.len().div_ceil(threads).max(1);
        let filter_chunk = |chunk: &'m [Arc<StoredMessage>]| {
            let mut matcher = self.matcher();
            chunk
                .iter()
                .filter(|m| matcher.matches(m))
                .collect::<Vec<_>>()
        };
        thread::scope(|scope| {
            let mut chunks = messages.chunks(chunk);
            let first = chunks.next().unwrap_or_default();
            // The other chunks on helper threads; one that cannot get a thread is done here.
            let helpers: Vec<_> = chunks
                .map(|chunk| {
                    thread::Builder::new()
                        .name("mailsink-search".to_owned())
                        .spawn_scoped(scope, move || filter_chunk(chunk))
                        .map_err(|_| chunk)
                })
                .collect();
            let mut matching = filter_chunk(first);
            for helper in helpers {
                match helper {
                    Ok(handle) => match handle.join() {
                        Ok(found) => matching.extend(found),
                        Err(panic) => std::panic::resume_unwind(panic),
                    },
                    Err(chunk) => matching.extend(filter_chunk(chunk)),
                }
            }
            matching
        })
    }

    /// The query made ready to test many messages.
    #[must_use]
    pub fn matcher(&self) -> Matcher<'_> {
        let words = self
            .terms
            .iter()
            .map(|term| match &term.test {
                Test::Text(word) => Some(Word::new(word)),
                _ => None,
            })
            .collect();
        Matcher {
            query: self,
            words,
            cleaned: CleanedText::default(),
        }
    }
}

/// A [`Query`] with its free words compiled, and buffers reused from message to message.
pub struct Matcher<'q> {
    query: &'q Query,
    /// For each term: its compiled word, if it is a free word.
    words: Vec<Option<Word>>,
    cleaned: CleanedText,
}

impl std::fmt::Debug for Matcher<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Matcher")
            .field("query", self.query)
            .finish_non_exhaustive()
    }
}

impl Matcher<'_> {
    /// Whether `message` satisfies every term (as [`Query::matches`]).
    pub fn matches(&mut self, message: &StoredMessage) -> bool {
        let Self {
            query,
            words,
            cleaned,
        } = self;
        cleaned.forget();
        query.terms.iter().zip(words.iter()).all(|(term, word)| {
            let holds = match word {
                Some(word) => word.found_in(message, cleaned),
                None => term.test.holds(message),
            };
            holds != term.negated
        })
    }
}

/// A free word or phrase (cleaned, lower case), compiled.
enum Word {
    /// ASCII without separators: in the cleaned text exactly when in one of the message's
    /// texts with ASCII case ignored.
    Direct(CaselessFinder),
    /// A phrase or a word with other characters: looked for in the cleaned text, if one of
    /// the message's texts holds `prefilter` (its longest ASCII word), when there is one.
    Cleaned {
        needle: String,
        prefilter: Option<CaselessFinder>,
    },
}

impl Word {
    fn new(needle: &str) -> Self {
        if !needle.contains(' ') {
            if let Some(finder) = CaselessFinder::new(needle) {
                return Self::Direct(finder);
            }
        }
        let longest_ascii = needle
            .split(' ')
            .filter_map(CaselessFinder::new)
            .max_by_key(CaselessFinder::len);
        Self::Cleaned {
            needle: needle.to_owned(),
            prefilter: longest_ascii,
        }
    }

    fn found_in(&self, message: &StoredMessage, cleaned: &mut CleanedText) -> bool {
        let in_some_text =
            |finder: &CaselessFinder| text_bytes(message).any(|text| finder.is_in(text));
        match self {
            Self::Direct(finder) => in_some_text(finder),
            Self::Cleaned { needle, prefilter } => {
                prefilter.as_ref().is_none_or(in_some_text)
                    && cleaned.of(message).contains(needle.as_str())
            }
        }
    }
}

/// Mailpit's cleaned search text of one message, built on first use and kept for the
/// message's other phrases.
#[derive(Default)]
struct CleanedText {
    text: String,
    ready: bool,
}

impl CleanedText {
    /// Moves on to another message.
    fn forget(&mut self) {
        self.ready = false;
    }

    fn of(&mut self, message: &StoredMessage) -> &str {
        if !self.ready {
            self.text.clear();
            push_search_text(&mut self.text, message);
            self.ready = true;
        }
        &self.text
    }
}

/// Splits on whitespace outside double quotes; quotes group and are removed (Mailpit's
/// `tools.ArgsParser`).
fn tokens(query: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in query.chars() {
        match c {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if !current.trim().is_empty() {
                    tokens.push(current.trim().to_owned());
                }
                current.clear();
            }
            c => current.push(c),
        }
    }
    if !current.trim().is_empty() {
        tokens.push(current.trim().to_owned());
    }
    tokens
}

fn term(token: &str) -> Option<Term> {
    let (negated, body) = match token.strip_prefix(['-', '!']) {
        Some(rest) if !rest.is_empty() => (true, rest),
        _ => (false, token),
    };
    if !body.chars().any(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    Some(Term {
        negated,
        test: test(body)?,
    })
}

/// Makes the test of a prefixed term from its cleaned value.
type MakeTest = fn(String) -> Test;

/// Prefixes whose value is matched as part of a field.
const FIELD_PREFIXES: &[(&str, MakeTest)] = &[
    ("from:", Test::From),
    ("to:", Test::To),
    ("cc:", Test::Cc),
    ("bcc:", Test::Bcc),
    ("reply-to:", Test::ReplyTo),
    ("message-id:", Test::MessageId),
];

fn test(body: &str) -> Option<Test> {
    let lower = body.to_lowercase();
    for (prefix, make) in FIELD_PREFIXES {
        if let Some(value) = strip_prefix_ignore_case(body, prefix) {
            let value = clean(value);
            return (!value.is_empty()).then(|| make(value));
        }
    }
    if let Some(subject) = strip_prefix_ignore_case(body, "subject:") {
        // Mailpit matches the subject with the value as typed, not cleaned.
        let subject = subject.to_lowercase();
        return (!subject.is_empty()).then_some(Test::Subject(subject));
    }
    if let Some(tag) = strip_prefix_ignore_case(body, "tag:") {
        let tag = tag.trim();
        return (!tag.is_empty()).then(|| Test::Tag(tag.to_owned()));
    }
    for (prefix, make) in [
        ("after:", Test::After as fn(i64) -> Test),
        ("before:", Test::Before),
    ] {
        if let Some(date) = strip_prefix_ignore_case(body, prefix) {
            return parse_search_date(date).map(make);
        }
    }
    Some(match lower.as_str() {
        "is:read" => Test::IsRead,
        "is:unread" => Test::IsUnread,
        "is:tagged" => Test::IsTagged,
        "has:attachment" | "has:attachments" => Test::HasAttachment,
        _ => Test::Text(clean(body)),
    })
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

/// Mailpit's `cleanString`: separators (`<>",;()`, tabs, line breaks) become spaces, runs of
/// whitespace one space, lower case.
pub(crate) fn clean(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    push_clean(&mut out, text);
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

/// Appends `text` cleaned as [`clean`] does, in one pass and without temporaries: a separator
/// run becomes one space (none at the very start of `out`).
fn push_clean(out: &mut String, text: &str) {
    for c in text.chars() {
        let separator =
            matches!(c, '<' | '>' | '"' | ',' | ';' | '(' | ')' | '\u{feff}') || c.is_whitespace();
        if separator {
            if !out.is_empty() && !out.ends_with(' ') {
                out.push(' ');
            }
        } else if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
        } else {
            out.extend(c.to_lowercase());
        }
    }
}

impl Test {
    fn holds(&self, message: &StoredMessage) -> bool {
        let summary = message.summary();
        match self {
            Self::Text(word) => search_text(message).contains(word.as_str()),
            Self::From(value) => any_address(summary.from.iter(), value),
            Self::To(value) => any_address(summary.to.iter(), value),
            Self::Cc(value) => any_address(summary.cc.iter(), value),
            Self::Bcc(value) => any_address(summary.bcc.iter(), value),
            Self::ReplyTo(value) => any_address(summary.reply_to.iter(), value),
            Self::Subject(value) => summary.subject.to_lowercase().contains(value.as_str()),
            Self::MessageId(value) => summary.message_id.to_lowercase().contains(value.as_str()),
            Self::Tag(tag) => summary.tags.iter().any(|t| t == tag),
            Self::IsRead => message.is_read(),
            Self::IsUnread => !message.is_read(),
            Self::IsTagged => !summary.tags.is_empty(),
            Self::HasAttachment => !summary.attachments.is_empty(),
            Self::After(millis) => unix_millis(message.received()) >= *millis,
            Self::Before(millis) => unix_millis(message.received()) <= *millis,
        }
    }
}

fn any_address<'a>(mut list: impl Iterator<Item = &'a Address>, value: &str) -> bool {
    list.any(|a| clean(&format!("{} {}", a.name, a.address)).contains(value))
}

/// What free words are matched against: addresses, subject, return path, the body text and
/// attachment names, cleaned as Mailpit cleans it.
pub(crate) fn search_text(message: &StoredMessage) -> String {
    let mut text = String::new();
    push_search_text(&mut text, message);
    text
}

fn push_search_text(out: &mut String, message: &StoredMessage) {
    for text in text_bytes(message) {
        push_clean(out, std::str::from_utf8(text).unwrap_or_default());
        push_clean(out, " ");
    }
    if out.ends_with(' ') {
        out.pop();
    }
}

/// Every text of `message` that free words search, in order: the names and addresses of From,
/// To, Cc, Bcc and Reply-To, the subject, the return path, the pieces of the body text, the
/// attachments' file names. All are UTF-8; the body's are not checked again here.
fn text_bytes(message: &StoredMessage) -> impl Iterator<Item = &[u8]> {
    let summary = message.summary();
    let lists = [&summary.to, &summary.cc, &summary.bcc, &summary.reply_to];
    let addresses = summary
        .from
        .iter()
        .chain(lists.into_iter().flatten())
        .flat_map(|address| [address.name.as_bytes(), address.address.as_bytes()]);
    addresses
        .chain([summary.subject.as_bytes(), summary.return_path.as_bytes()])
        .chain(message.body_bytes())
        .chain(summary.attachments.iter().map(|a| a.file_name.as_bytes()))
}

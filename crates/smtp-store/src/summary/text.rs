//! Small text helpers for the summary: the snippet, tags, HTML to text, and checksums.

use std::fmt::Write as _;

use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256};

use super::Checksums;

/// Characters in a snippet before it is cut (Mailpit's limit).
const SNIPPET_CHARS: usize = 200;

/// Mailpit's snippet of `source` (the HTML's text when there is HTML, the plain text
/// otherwise, given in pieces that are read as one text): whitespace runs (and U+FEFF) collapsed
/// to one space, trimmed, cut after [`SNIPPET_CHARS`] characters with `...` appended.
pub(super) fn snippet<'a>(source: impl IntoIterator<Item = &'a str>) -> String {
    // Collapse only as much as the snippet can show.
    let mut collapsed = String::new();
    let mut chars = 0;
    let words = source.into_iter().flat_map(|piece| {
        piece
            .split(|c: char| c.is_whitespace() || c == '\u{feff}')
            .filter(|word| !word.is_empty())
    });
    for word in words {
        if chars > SNIPPET_CHARS {
            break;
        }
        if !collapsed.is_empty() {
            collapsed.push(' ');
            chars += 1;
        }
        collapsed.push_str(word);
        chars += word.chars().count();
    }
    match collapsed.char_indices().nth(SNIPPET_CHARS) {
        None => collapsed,
        Some((cut, _)) => format!("{}...", collapsed[..cut].trim_end()),
    }
}

/// Tags from an `X-Tags` value: split at commas; characters other than ASCII letters, digits,
/// `-`, `_` and space become spaces; spaces collapsed and trimmed (Mailpit's `CleanTag`); empty
/// tags dropped; tags equal but for case kept once, first spelling (Mailpit's tags ignore
/// case); sorted ignoring case.
pub(super) fn tags(header: Option<&str>) -> Vec<String> {
    let mut tags: Vec<String> = Vec::new();
    for tag in header.unwrap_or_default().split(',').map(clean_tag) {
        if !tag.is_empty() && !tags.iter().any(|t| t.eq_ignore_ascii_case(&tag)) {
            tags.push(tag);
        }
    }
    tags.sort_by_key(|tag| tag.to_ascii_lowercase());
    tags
}

fn clean_tag(tag: &str) -> String {
    let kept: String = tag
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_') {
                c
            } else {
                ' '
            }
        })
        .collect();
    kept.split(' ')
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Readable text from HTML: tags, comments, `<head>`, `<style>` and `<script>` dropped,
/// entities decoded (by `mail-parser`).
pub(super) fn html_to_text(html: &str) -> String {
    mail_parser::decoders::html::html_to_text(html)
}

/// MD5, SHA-1 and SHA-256 of `bytes`, lower-case hex.
pub(super) fn checksums(bytes: &[u8]) -> Checksums {
    Checksums {
        md5: hex(&Md5::digest(bytes)),
        sha1: hex(&Sha1::digest(bytes)),
        sha256: hex(&Sha256::digest(bytes)),
    }
}

fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        // Writing to a String cannot fail.
        let _ = write!(out, "{byte:02x}");
    }
    out
}

//! Small text helpers for the summary: the snippet, tags, HTML to text, and checksums.

use std::fmt::Write as _;

use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256};

use super::Checksums;

/// Characters in a snippet before it is cut (Mailpit's limit).
const SNIPPET_CHARS: usize = 200;

/// Mailpit's snippet of `source` (the HTML's text when there is HTML, the plain text
/// otherwise, given in pieces that are read as one text, a word break between pieces):
/// whitespace runs (and U+FEFF) collapsed to one space, trimmed, cut after [`SNIPPET_CHARS`]
/// characters with `...` appended.
///
/// One pass that stops at the first character past the limit, into room for a whole ASCII
/// snippet, given back once done: growing the string from empty took six reallocations. ASCII
/// words are copied whole; other characters one at a time.
pub(super) fn snippet<'a>(source: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::with_capacity(SNIPPET_CHARS + "...".len());
    let mut kept = 0;
    'text: for piece in source {
        // Whitespace since the last character kept; the end of a piece counts as whitespace.
        let mut space = !out.is_empty();
        let mut rest = piece;
        while let Some(&first) = rest.as_bytes().first() {
            // A word's worth of ASCII, or one other character.
            let (word, whitespace) = if first.is_ascii() {
                let len = rest
                    .bytes()
                    .position(|b| !b.is_ascii() || is_ascii_space(b))
                    .unwrap_or(rest.len());
                (&rest[..len.max(1)], is_ascii_space(first))
            } else {
                let c = rest.chars().next().unwrap_or_default();
                (&rest[..c.len_utf8()], c.is_whitespace() || c == '\u{feff}')
            };
            rest = &rest[word.len()..];
            if whitespace {
                space = !out.is_empty();
                continue;
            }
            // More text follows: cut here (a space the cut would end on is left out).
            if kept + usize::from(space) >= SNIPPET_CHARS {
                out.push_str("...");
                break 'text;
            }
            if space {
                out.push(' ');
                kept += 1;
                space = false;
            }
            // Each byte of an ASCII word is a character; anything else is one character.
            let chars = if first.is_ascii() { word.len() } else { 1 };
            let room = SNIPPET_CHARS - kept;
            if chars > room {
                out.push_str(&word[..room]);
                out.push_str("...");
                break 'text;
            }
            out.push_str(word);
            kept += chars;
        }
    }
    // Kept with the message: no spare room.
    out.shrink_to_fit();
    out
}

/// ASCII whitespace as `char::is_whitespace` has it (which, unlike `u8::is_ascii_whitespace`,
/// includes the vertical tab).
fn is_ascii_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The snippet as first written: split into words, join, count, cut. The model the one-pass
    /// version must agree with.
    fn snippet_by_words(pieces: &[&str]) -> String {
        let words: Vec<&str> = pieces
            .iter()
            .flat_map(|piece| piece.split(|c: char| c.is_whitespace() || c == '\u{feff}'))
            .filter(|word| !word.is_empty())
            .collect();
        let collapsed = words.join(" ");
        match collapsed.char_indices().nth(SNIPPET_CHARS) {
            None => collapsed,
            Some((cut, _)) => format!("{}...", collapsed[..cut].trim_end()),
        }
    }

    #[test]
    fn snippet_agrees_with_splitting_into_words() {
        // Letters of one to three bytes, and whitespace of several kinds (U+00A0 and U+3000
        // are whitespace to Rust, U+FEFF is collapsed as Mailpit does).
        // Vertical tab and form feed are whitespace to Rust too. Half the pieces are ASCII
        // words only, which the snippet copies whole.
        const ALPHABET: [char; 12] = [
            'a', 'b', 'ö', '語', ' ', ' ', '\t', '\r', '\n', '\u{feff}', '\u{b}', '\u{c}',
        ];
        const MORE: [char; 3] = ['\u{a0}', '\u{3000}', '-'];
        let mut next = crate::tests::draws(0x2545_f491_4f6c_dd1d_u64);
        for _ in 0..3_000 {
            let pieces: Vec<String> = (0..1 + next(4))
                .map(|_| {
                    // Short, around the limit (150-249 characters) or up to 600; words of 1-9.
                    let len = [next(12), 150 + next(100), next(600)][next(3)];
                    let word = 1 + next(9);
                    let letters = [2, 4][next(2)];
                    (0..len)
                        .map(|i| match (i % (word + 1), next(8)) {
                            (0, 0) => MORE[next(MORE.len())],
                            (0, _) => ALPHABET[4 + next(8)],
                            _ => ALPHABET[next(letters)],
                        })
                        .collect()
                })
                .collect();
            let pieces: Vec<&str> = pieces.iter().map(String::as_str).collect();
            assert_eq!(
                snippet(pieces.iter().copied()),
                snippet_by_words(&pieces),
                "{pieces:?}"
            );
        }
    }

    #[test]
    fn snippet_edges() {
        let exactly = "x".repeat(SNIPPET_CHARS);
        assert_eq!(snippet([exactly.as_str()]), exactly);
        assert_eq!(snippet([exactly.as_str(), "  "]), exactly);
        assert_eq!(snippet([exactly.as_str(), "y"]), format!("{exactly}..."));
        let one_less = "x".repeat(SNIPPET_CHARS - 1);
        assert_eq!(
            snippet([one_less.as_str(), "y z"]),
            format!("{one_less}...")
        );
        assert_eq!(snippet(["", " \u{feff}\t", "a", "", "b"]), "a b");
        assert_eq!(snippet(std::iter::empty()), "");
    }
}

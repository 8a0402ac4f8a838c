//! Finding an ASCII word in text while ignoring ASCII case, without copying the text.
//!
//! Search runs one word over every stored message, so the haystack is never lower-cased into
//! a buffer. Instead:
//!
//! - in text with no upper-case ASCII letter (checked 8 bytes at a time, and usually answered
//!   by the first capital), the needle is looked for as it is, with `memchr::memmem`;
//! - in other text, the needle's rarest byte (by a rough English letter frequency) is looked
//!   for in both cases with `memchr2`, and only at those candidates are the second-rarest byte
//!   and then the whole needle compared.

use memchr::memchr2;
use memchr::memmem::Finder;

/// English letters from the most to the least frequent (a rough order is enough: it only
/// decides which byte is looked for first).
const LETTERS_BY_FREQUENCY: &[u8] = b"etaoinsrhldcumfpgwybvkxjqz";

/// A lower-case ASCII needle, ready to be found in many haystacks.
#[derive(Clone, Debug)]
pub(crate) struct CaselessFinder {
    needle: Box<[u8]>,
    exact: Finder<'static>,
    /// Offset of the byte searched for with `memchr2`, and of the one checked next.
    rarest: usize,
    second: usize,
}

impl CaselessFinder {
    /// A finder for `needle`, which must be non-empty, ASCII and lower case (as cleaned search
    /// words are); `None` otherwise.
    pub(crate) fn new(needle: &str) -> Option<Self> {
        let bytes = needle.as_bytes();
        if bytes.is_empty() || !needle.is_ascii() || bytes.iter().any(u8::is_ascii_uppercase) {
            return None;
        }
        let mut by_rarity: Vec<usize> = (0..bytes.len()).collect();
        by_rarity.sort_by_key(|&i| std::cmp::Reverse(rarity(bytes[i])));
        Some(Self {
            exact: Finder::new(bytes).into_owned(),
            rarest: by_rarity[0],
            second: by_rarity.get(1).copied().unwrap_or(by_rarity[0]),
            needle: bytes.into(),
        })
    }

    /// The needle's length in bytes.
    pub(crate) fn len(&self) -> usize {
        self.needle.len()
    }

    /// Whether `haystack` contains the needle, ASCII letters compared without case (other
    /// bytes exactly).
    pub(crate) fn is_in(&self, haystack: &[u8]) -> bool {
        if haystack.len() < self.needle.len() {
            false
        } else if has_ascii_uppercase(haystack) {
            self.is_in_any_case(haystack)
        } else {
            self.exact.find(haystack).is_some()
        }
    }

    fn is_in_any_case(&self, haystack: &[u8]) -> bool {
        let needle = &self.needle[..];
        let rare = needle[self.rarest];
        let (second, second_at) = (needle[self.second], self.second);
        // Positions where the rarest byte may sit for the whole needle to fit.
        let last_start = haystack.len() - needle.len();
        let mut from = self.rarest;
        let end = last_start + self.rarest + 1;
        while let Some(found) = memchr2(rare, rare.to_ascii_uppercase(), &haystack[from..end]) {
            let start = from + found - self.rarest;
            if haystack[start + second_at].to_ascii_lowercase() == second
                && haystack[start..start + needle.len()].eq_ignore_ascii_case(needle)
            {
                return true;
            }
            from += found + 1;
        }
        false
    }
}

/// Whether `bytes` hold an upper-case ASCII letter, tested 8 bytes at a time.
pub(crate) fn has_ascii_uppercase(bytes: &[u8]) -> bool {
    let words = bytes.chunks_exact(8);
    let rest = words.remainder();
    words
        .map(|word| u64::from_le_bytes(word.try_into().unwrap_or_default()))
        .any(word_has_ascii_uppercase)
        || rest.iter().any(u8::is_ascii_uppercase)
}

/// Whether one of the 8 bytes of `word` is `A`..=`Z`. Each byte's low 7 bits plus a constant
/// sets its high bit exactly when the byte is at least the bound, with no carry into the next
/// byte (at most 0x7f + 0x3f); bytes of 0x80 and above are masked out.
fn word_has_ascii_uppercase(word: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let low = word & !HIGH;
    let at_least_a = low + ONES * u64::from(0x80 - b'A');
    let above_z = low + ONES * u64::from(0x80 - b'Z' - 1);
    at_least_a & !above_z & !word & HIGH != 0
}

/// How rare a byte is in text: letters by their frequency, digits and punctuation rarer than
/// most letters.
fn rarity(byte: u8) -> usize {
    match LETTERS_BY_FREQUENCY.iter().position(|&b| b == byte) {
        Some(rank) => rank,
        None if byte.is_ascii_digit() => 12,
        None => 20,
    }
}

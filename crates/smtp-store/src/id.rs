//! Message IDs: monotonic ULIDs, 26 Crockford base32 characters.
//!
//! An ID is a 128-bit number: the upper 48 bits are the arrival time in milliseconds since the Unix
//! epoch, the lower 80 bits start at a random value drawn once per process (from the OS, through
//! `getrandom`) and are incremented for every further ID. The next ID is always
//! `max(previous + 1, now_ms << 80 | previous_low_80_bits)`, so IDs are unique and strictly
//! increasing in the order they are generated, even within one millisecond or when the wall clock
//! steps back. The text form is fixed-width and uses an alphabet in ASCII order, so sorting the
//! strings sorts by arrival: the HTTP API, file names and `BTreeMap` keys all agree.

use std::fmt;
use std::str::FromStr;
use std::sync::{LazyLock, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

/// Crockford's base32 alphabet (no I, L, O, U), in ascending ASCII order.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Characters in the text form: 128 bits in 5-bit groups, the first one holding 3 bits.
const LEN: usize = 26;
/// Bits below the timestamp.
const RANDOM_BITS: u32 = 80;
const RANDOM_MASK: u128 = (1 << RANDOM_BITS) - 1;
/// The largest timestamp that fits the 48 bits (year 10889).
const MAX_MILLIS: u64 = (1 << 48) - 1;

/// The process-wide generator behind [`MessageId::generate`].
static GLOBAL: LazyLock<IdGenerator> = LazyLock::new(IdGenerator::new);

/// A message ID: a monotonic ULID in its canonical upper-case text form.
///
/// URL-safe, 26 characters, unique within a process, and ordered by arrival (both as a value and
/// as a string). It is the ID in `250 2.0.0 Ok: queued as <ID>` and in the HTTP API.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MessageId([u8; LEN]);

impl MessageId {
    /// A new ID from the process-wide generator, stamped with the current time.
    #[must_use]
    pub fn generate() -> Self {
        GLOBAL.next()
    }

    /// A new ID from the process-wide generator, stamped with `time` (or just after the previous
    /// ID, if that is later).
    #[must_use]
    pub fn generate_at(time: SystemTime) -> Self {
        GLOBAL.next_at(time)
    }

    /// The ID as text (always 26 ASCII characters).
    #[must_use]
    pub fn as_str(&self) -> &str {
        // Every constructor writes bytes from `ALPHABET` only, so this never falls back.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// Milliseconds since the Unix epoch encoded in the ID (the arrival time, unless the clock
    /// stepped back or more IDs were made in one millisecond than the random part could count).
    #[must_use]
    pub fn timestamp_ms(&self) -> u64 {
        // The top 48 bits of a u128 always fit in a u64.
        u64::try_from(self.value() >> RANDOM_BITS).unwrap_or(MAX_MILLIS)
    }

    fn from_value(value: u128) -> Self {
        let mut text = [0u8; LEN];
        for (i, byte) in text.iter_mut().enumerate() {
            let shift = 5 * (LEN - 1 - i);
            *byte = ALPHABET[((value >> shift) & 0x1f) as usize];
        }
        Self(text)
    }

    fn value(&self) -> u128 {
        self.0
            .iter()
            .filter_map(|&c| decode_char(c))
            .fold(0, |acc, digit| (acc << 5) | u128::from(digit))
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MessageId({})", self.as_str())
    }
}

impl AsRef<str> for MessageId {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl FromStr for MessageId {
    type Err = InvalidMessageId;

    /// Parses 26 Crockford base32 characters, in either case. The first character is at most `7`
    /// (it carries the top 3 of the 128 bits).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bytes = s.as_bytes();
        if bytes.len() != LEN || bytes[0] > b'7' {
            return Err(InvalidMessageId);
        }
        let mut text = [0u8; LEN];
        for (out, &c) in text.iter_mut().zip(bytes) {
            let digit = decode_char(c).ok_or(InvalidMessageId)?;
            *out = ALPHABET[usize::from(digit)];
        }
        Ok(Self(text))
    }
}

/// The value of one Crockford base32 character, either case; `None` outside the alphabet.
fn decode_char(c: u8) -> Option<u8> {
    let upper = c.to_ascii_uppercase();
    let index = ALPHABET.iter().position(|&a| a == upper)?;
    u8::try_from(index).ok()
}

/// The text was not a message ID.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidMessageId;

impl fmt::Display for InvalidMessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid message ID: expected 26 Crockford base32 characters")
    }
}

impl std::error::Error for InvalidMessageId {}

/// Makes monotonic IDs; shareable between threads (`&self` methods, one short lock per ID).
///
/// Most code wants [`MessageId::generate`], which uses one generator for the whole process.
#[derive(Debug)]
pub struct IdGenerator {
    /// The last ID handed out, as a number.
    last: Mutex<u128>,
}

impl IdGenerator {
    /// A generator whose random part starts at a value from the OS random source.
    ///
    /// If the OS cannot supply randomness (practically never on the supported systems), the start
    /// is derived from the clock and process ID instead: IDs stay unique and ordered within this
    /// process, only less unpredictable.
    #[must_use]
    pub fn new() -> Self {
        Self::with_seed(random_seed())
    }

    /// A generator with a chosen starting random part (tests and reproducible fixtures).
    #[must_use]
    pub fn with_seed(seed: u128) -> Self {
        Self {
            last: Mutex::new(seed & RANDOM_MASK),
        }
    }

    /// The next ID, stamped with the current time.
    #[must_use]
    pub fn next(&self) -> MessageId {
        self.next_at(SystemTime::now())
    }

    /// The next ID, stamped with `time` unless that would not sort after the previous ID.
    #[must_use]
    pub fn next_at(&self, time: SystemTime) -> MessageId {
        let stamped = u128::from(millis(time)) << RANDOM_BITS;
        let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        let next = (last.saturating_add(1)).max(stamped | (*last & RANDOM_MASK));
        *last = next;
        MessageId::from_value(next)
    }
}

impl Default for IdGenerator {
    fn default() -> Self {
        Self::new()
    }
}

/// Milliseconds since the Unix epoch, clamped to what 48 bits hold (0 before 1970).
fn millis(time: SystemTime) -> u64 {
    let ms = time
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    ms.min(MAX_MILLIS)
}

fn random_seed() -> u128 {
    let mut bytes = [0u8; 16];
    match getrandom::fill(&mut bytes) {
        Ok(()) => u128::from_le_bytes(bytes),
        Err(err) => {
            log::warn!("no OS randomness for message IDs ({err}); seeding from clock and pid");
            let nanos = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            nanos ^ (u128::from(std::process::id()) << 64)
        }
    }
}

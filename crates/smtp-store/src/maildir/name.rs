//! Maildir file names: the unique part, the `:2,FLAGS` info, and the message ID in between.
//!
//! A file this store writes is named `SECONDS.ID.HOST`, for example
//! `1700000000.01HF8Z3Q5W0000000000000000.mailhost`:
//!
//! - `SECONDS`: the delivery time in Unix seconds, the conventional start of a Maildir name
//!   (tools that sort by name sort by arrival);
//! - `ID`: the [`MessageId`] the SMTP reply and the HTTP API gave the message (26 characters,
//!   unique per process and time-ordered), so rebuilding the index after a restart gives every
//!   message back its ID;
//! - `HOST`: the configured host name, with `/` and `:` written as `\057` and `\072` as the
//!   Maildir specification asks.
//!
//! Once read, the file is in `cur/` with the standard info suffix `:2,` and its flags in ASCII
//! order, `S` meaning seen (read). A file some other tool wrote has no ID in its name; it gets
//! one from its modification time and a hash of its unique part (see [`foreign_id`]), which
//! stays the same across restarts as long as the file is not modified.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::id::{IdGenerator, MessageId};

/// Separates the unique part from the info (the `:2,` "version 2" info of the Maildir spec).
const INFO: &str = ":2,";
/// The "seen" flag.
const SEEN: char = 'S';

/// The name of a new message's file (no info: it goes into `new/`).
pub(crate) fn file_name(id: MessageId, host: &str) -> String {
    let seconds = id.timestamp_ms() / 1000;
    format!("{seconds}.{id}.{host}")
}

/// A host name made safe for a file name, as the Maildir specification asks.
pub(crate) fn sanitize_host(host: &str) -> String {
    let host = host.replace('/', "\\057").replace(':', "\\072");
    if host.is_empty() {
        "localhost".to_owned()
    } else {
        host
    }
}

/// A file name split into its unique part and its flags (empty when there is no info).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Name<'a> {
    pub unique: &'a str,
    pub flags: &'a str,
}

impl<'a> Name<'a> {
    pub(crate) fn parse(file_name: &'a str) -> Self {
        match file_name.split_once(INFO) {
            Some((unique, flags)) => Self { unique, flags },
            None => Self {
                unique: file_name,
                flags: "",
            },
        }
    }

    pub(crate) fn is_seen(&self) -> bool {
        self.flags.contains(SEEN)
    }

    /// The message ID in a name this store wrote; `None` for any other name.
    pub(crate) fn id(&self) -> Option<MessageId> {
        let mut fields = self.unique.splitn(3, '.');
        let seconds = fields.next()?;
        let id: MessageId = fields.next()?.parse().ok()?;
        let host = fields.next()?;
        let is_ours = !seconds.is_empty()
            && seconds.bytes().all(|b| b.is_ascii_digit())
            && !host.is_empty()
            && seconds.parse::<u64>().ok() == Some(id.timestamp_ms() / 1000);
        is_ours.then_some(id)
    }

    /// The file name for `cur/` with the seen flag set or cleared (other flags kept).
    pub(crate) fn with_seen(&self, seen: bool) -> String {
        let mut flags: Vec<char> = self.flags.chars().filter(|&c| c != SEEN).collect();
        if seen {
            flags.push(SEEN);
        }
        flags.sort_unstable();
        flags.dedup();
        let flags: String = flags.into_iter().collect();
        format!("{}{INFO}{flags}", self.unique)
    }
}

/// The ID of a file another tool wrote: stamped with its modification time, the random part a
/// hash of its unique name, so the same file gets the same ID at every start.
pub(crate) fn foreign_id(unique: &str, modified: SystemTime) -> MessageId {
    IdGenerator::with_seed(fnv1a_128(unique.as_bytes())).next_at(modified.max(UNIX_EPOCH))
}

/// The 128-bit FNV-1a hash: stable across Rust versions and platforms, unlike `DefaultHasher`.
fn fnv1a_128(bytes: &[u8]) -> u128 {
    const OFFSET: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;
    bytes.iter().fold(OFFSET, |hash, &byte| {
        (hash ^ u128::from(byte)).wrapping_mul(PRIME)
    })
}

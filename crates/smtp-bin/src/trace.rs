//! `--smtp-trace`: the SMTP dialogue on standard error, one line per command or reply.
//!
//! The session already redacts AUTH payloads and replaces message data by its size.

use std::io::Write;
use std::net::SocketAddr;

use smtp_proto::TranscriptLine;

pub(crate) fn line(peer: SocketAddr, line: &TranscriptLine) {
    let direction = if line.from_client { "C:" } else { "S:" };
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(
        stderr,
        "[smtp {peer}] {direction} {}",
        printable(&line.text)
    );
}

/// Control characters (bare CR, NUL, ...) shown escaped so a line stays one line.
fn printable(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let escaped: Vec<char> = if c.is_control() {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            escaped
        })
        .collect()
}

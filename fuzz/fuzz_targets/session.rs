//! A whole session fed arbitrary bytes in arbitrary chunks: no panic, bounded buffers, every
//! reply line well formed.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|input: (u8, Vec<u8>, &[u8])| {
    let (flags, chunks, data) = input;
    let mut session = common::session(flags);
    let out = common::drive(&mut session, data, &chunks);
    for line in out.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        assert!(line.ends_with(b"\r"), "every reply line ends with CRLF");
        assert!(line.len() >= 4 && line[..3].iter().all(u8::is_ascii_digit), "{:?}", String::from_utf8_lossy(line));
    }
});

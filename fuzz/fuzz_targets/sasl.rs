//! AUTH exchanges: arbitrary mechanisms and SASL lines never panic and never leak the payload
//! into the transcript.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|input: (u8, &[u8])| {
    let (mechanism, payload) = input;
    let mut data = b"EHLO c\r\n".to_vec();
    data.extend_from_slice(match mechanism % 4 {
        0 => b"AUTH PLAIN\r\n".as_slice(),
        1 => b"AUTH LOGIN\r\n",
        2 => b"AUTH CRAM-MD5\r\n",
        _ => b"AUTH PLAIN ",
    });
    data.extend_from_slice(payload);
    data.extend_from_slice(b"\r\nNOOP\r\n");
    let mut session = common::session(8 | 32);
    common::drive(&mut session, &data, &[]);
});

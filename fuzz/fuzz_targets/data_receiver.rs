//! DATA and BDAT: the same bytes give the same replies and messages however they are split
//! (differential: arbitrary chunks against one byte at a time).
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|input: (Vec<u8>, &[u8])| {
    let (chunks, body) = input;
    let mut data = b"EHLO c\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\n".to_vec();
    if body.first().is_some_and(|b| b & 1 == 1) {
        data.extend_from_slice(format!("BDAT {} LAST\r\n", body.len()).as_bytes());
        data.extend_from_slice(body);
    } else {
        data.extend_from_slice(b"DATA\r\n");
        data.extend_from_slice(body);
        data.extend_from_slice(b"\r\n.\r\n");
    }
    data.extend_from_slice(b"NOOP\r\n");
    let mut a = common::session(1);
    let mut b = common::session(1);
    let whole = common::drive(&mut a, &data, &chunks);
    let bytewise = common::drive(&mut b, &data, &[1]);
    assert_eq!(whole, bytewise);
});

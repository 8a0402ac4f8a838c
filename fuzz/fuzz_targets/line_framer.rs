//! The line framer: any bytes, any limit; a frame never exceeds the limit and ends at LF.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smtp_proto::{frame, Frame};

fuzz_target!(|input: (u16, &[u8])| {
    let (limit, data) = input;
    let limit = usize::from(limit).max(1);
    match frame(data, limit) {
        Frame::Line { len, content } => {
            assert!(len <= limit && len <= data.len());
            assert_eq!(data[len - 1], b'\n');
            assert!(content == len - 1 || (content == len - 2 && data[len - 2] == b'\r'));
            assert!(!data[..len - 1].contains(&b'\n'));
        }
        Frame::Incomplete => assert!(data.len() < limit && !data.contains(&b'\n')),
        Frame::TooLong => assert!(data.len() >= limit && !data[..limit].contains(&b'\n')),
    }
});

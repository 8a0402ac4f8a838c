//! The command parser: never panics, and every error has a well-formed reply.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|line: &[u8]| {
    match smtp_proto::parse_command(line) {
        Ok(_) => {}
        Err(err) => {
            let reply = err.reply();
            assert!(reply.code().get() >= 500);
            assert!(!reply.text().contains('\n'));
        }
    }
});

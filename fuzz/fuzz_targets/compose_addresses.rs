//! The Bcc rule's reading of To/Cc/Bcc: wherever the plain-list reader answers (no second
//! `mail-parser` parse), it finds the addresses `mail-parser` finds.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    assert!(smtp_store::compose::plain_lists_agree(data));
});

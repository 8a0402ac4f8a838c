//! The credentials parser: arbitrary text loads or fails with an error that never quotes it.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    match smtp_auth::Credentials::parse_inline(text) {
        Ok(credentials) => {
            // Only plain-text users: a fuzzed bcrypt cost of 31 would run for hours.
            let plain: Vec<String> = credentials
                .usernames()
                .filter(|u| credentials.scheme(u) == Some(smtp_auth::Scheme::Plain))
                .map(str::to_owned)
                .collect();
            for user in plain {
                let _ = credentials.verify(&user, b"password");
            }
        }
        Err(err) => {
            let shown = err.to_string();
            assert!(!shown.contains('\n'));
        }
    }
});

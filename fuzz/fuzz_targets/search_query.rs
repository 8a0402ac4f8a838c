//! Mailpit's search syntax: any query string parses (never a panic).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|query: &str| {
    let _ = smtp_http::search::Query::parse(query);
});

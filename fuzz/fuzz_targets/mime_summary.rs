//! MIME summary extraction: any bytes give a summary (never a panic), every listed part can be
//! fetched by its PartID, and the body text search reads is the text the API shows.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|raw: &[u8]| {
    let summary = smtp_store::summarize(raw);
    for attachment in summary.attachments.iter().chain(&summary.inline) {
        let _ = smtp_store::part(raw, &attachment.part_id);
    }
    assert!(summary.snippet.chars().count() <= 260);
    let searched: Vec<&str> = summary.body.pieces(raw).collect();
    assert_eq!(searched.join("\n--\n"), smtp_store::bodies(raw).text);
});

//! The JSON shapes, from hand-built summaries: the mapping the API relies on once the store
//! parses messages.

use serde_json::{json, Value};
use smtp_store::{Address, Attachment, Checksums, Summary};

use super::support::{at, message, message_from};
use crate::json::{Message, MessageSummary};

fn summary() -> Summary {
    Summary {
        message_id: "m1@example.com".to_owned(),
        subject: "Hello".to_owned(),
        from: Some(Address {
            name: "Alice".to_owned(),
            address: "alice@example.com".to_owned(),
        }),
        to: vec![Address {
            name: String::new(),
            address: "bob@example.com".to_owned(),
        }],
        return_path: "alice@example.com".to_owned(),
        date: Some(at(1_700_000_000)),
        snippet: "Hi Bob".to_owned(),
        tags: vec!["t1".to_owned()],
        inline: vec![Attachment {
            part_id: "1.2".to_owned(),
            file_name: String::new(),
            content_type: "image/png".to_owned(),
            content_id: "logo@x".to_owned(),
            size: 68,
            checksums: Checksums {
                md5: "m".to_owned(),
                sha1: "s1".to_owned(),
                sha256: "s256".to_owned(),
            },
        }],
        attachments: vec![Attachment {
            part_id: "2".to_owned(),
            file_name: "a.pdf".to_owned(),
            content_type: "application/pdf".to_owned(),
            size: 1000,
            ..Attachment::default()
        }],
        ..Summary::default()
    }
}

#[test]
fn a_list_entry_has_mailpit_names_and_shapes() {
    let stored = message(1_700_000_123, summary());
    let value = serde_json::to_value(MessageSummary::of(&stored)).unwrap();
    let expected = json!({
        "ID": stored.id().to_string(),
        "MessageID": "m1@example.com",
        "Read": false,
        "From": {"Name": "Alice", "Address": "alice@example.com"},
        "To": [{"Name": "", "Address": "bob@example.com"}],
        "Cc": [],
        "Bcc": [],
        "ReplyTo": [],
        "Subject": "Hello",
        "Created": "2023-11-14T22:15:23Z",
        "Username": "",
        "Tags": ["t1"],
        "Size": stored.size(),
        "Attachments": 1,
        "Snippet": "Hi Bob",
    });
    assert_eq!(value, expected);
}

#[test]
fn a_message_has_mailpit_names_and_shapes() {
    // The bodies are decoded from the stored bytes when the message is shown.
    let raw = "Subject: Hello\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n\
               --b\r\nContent-Type: text/plain\r\n\r\nHi Bob\r\n\
               --b\r\nContent-Type: text/html\r\n\r\n<p>Hi Bob</p>\r\n--b--\r\n";
    let stored = message_from(1_700_000_123, summary(), raw);
    let value = serde_json::to_value(Message::of(&stored)).unwrap();
    assert_eq!(value["Date"], "2023-11-14T22:13:20Z");
    assert_eq!(value["ReturnPath"], "alice@example.com");
    assert_eq!(value["HTML"], "<p>Hi Bob</p>");
    assert_eq!(value["Text"], "Hi Bob");
    assert_eq!(
        value["Inline"],
        json!([{
            "PartID": "1.2",
            "FileName": "logo@x",
            "ContentType": "image/png",
            "ContentID": "logo@x",
            "Size": 68,
            "Checksums": {"MD5": "m", "SHA1": "s1", "SHA256": "s256"},
        }])
    );
    assert_eq!(value["Attachments"][0]["FileName"], "a.pdf");
    assert_eq!(
        value["ListUnsubscribe"],
        json!({"Header": "", "Links": [], "Errors": "", "HeaderPost": ""})
    );
    let keys: Vec<&String> = value.as_object().unwrap().keys().collect();
    for key in [
        "ID",
        "MessageID",
        "From",
        "To",
        "Cc",
        "Bcc",
        "ReplyTo",
        "ReturnPath",
        "Subject",
        "ListUnsubscribe",
        "Date",
        "Tags",
        "Username",
        "Text",
        "HTML",
        "Size",
        "Inline",
        "Attachments",
    ] {
        assert!(keys.iter().any(|k| *k == key), "{key}");
    }
}

#[test]
fn without_a_date_header_the_date_is_when_it_arrived() {
    let stored = message(1_700_000_123, Summary::default());
    let value = serde_json::to_value(Message::of(&stored)).unwrap();
    assert_eq!(value["Date"], "2023-11-14T22:15:23Z");
    assert_eq!(value["From"], json!({"Name": "", "Address": ""}));
    assert_eq!(value["To"], Value::Array(Vec::new()));
}

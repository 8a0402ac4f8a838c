//! Every endpoint through `Router::handle`, with a real store behind it.

use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::{json, Value};

use super::support::{call, deliver, deliver_raw, get, json, router, store, text};
use crate::{Method, Request, Router, RouterConfig, SmtpCounters};

const LIST_KEYS: [&str; 8] = [
    "count",
    "messages",
    "messages_count",
    "messages_unread",
    "start",
    "tags",
    "total",
    "unread",
];

const SUMMARY_KEYS: [&str; 16] = [
    "Attachments",
    "Bcc",
    "Cc",
    "Created",
    "From",
    "ID",
    "MessageID",
    "Read",
    "ReplyTo",
    "Size",
    "Snippet",
    "Subject",
    "Tags",
    "To",
    "Username",
    "Created",
];

fn keys(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    keys
}

fn sorted(keys: &[&str]) -> Vec<String> {
    let mut keys: Vec<String> = keys.iter().map(|k| (*k).to_owned()).collect();
    keys.sort();
    keys.dedup();
    keys
}

fn ids(list: &Value) -> Vec<String> {
    list["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["ID"].as_str().unwrap().to_owned())
        .collect()
}

// ---- GET /api/v1/messages ----

#[test]
fn an_empty_mailbox_lists_with_every_field() {
    let store = store();
    let list = json(&get(&router(&store), "/api/v1/messages"));
    assert_eq!(keys(&list), sorted(&LIST_KEYS));
    assert_eq!(list["messages"], json!([]));
    assert_eq!(list["tags"], json!([]));
    assert_eq!(list["total"], 0);
}

#[test]
fn messages_are_listed_newest_first_with_mailpit_fields() {
    let store = store();
    let first = deliver(&store, "one");
    let second = deliver(&store, "two");
    let list = json(&get(&router(&store), "/api/v1/messages"));
    assert_eq!(ids(&list), [second.to_string(), first.to_string()]);
    assert_eq!(list["total"], 2);
    assert_eq!(list["unread"], 2);
    assert_eq!(list["count"], 2);
    assert_eq!(list["messages_count"], 2);
    assert_eq!(list["messages_unread"], 2);
    let entry = &list["messages"][0];
    assert_eq!(keys(entry), sorted(&SUMMARY_KEYS));
    assert_eq!(entry["Read"], false);
    let stored = store.handle().get(second).unwrap().unwrap();
    assert_eq!(entry["Size"], stored.size());
    let created = entry["Created"].as_str().unwrap();
    assert!(created.ends_with('Z') && created.contains('T'), "{created}");
    assert!(entry["To"].is_array() && entry["From"].is_object());
}

#[test]
fn start_and_limit_page_the_list() {
    let store = store();
    let all: Vec<String> = (0..5)
        .map(|i| deliver(&store, &format!("m{i}")).to_string())
        .collect();
    let router = router(&store);
    let page = json(&get(&router, "/api/v1/messages?start=1&limit=2"));
    assert_eq!(ids(&page), [all[3].clone(), all[2].clone()]);
    assert_eq!(page["start"], 1);
    assert_eq!(page["count"], 2);
    assert_eq!(page["total"], 5);
    // Mailpit ignores what is not a positive number.
    let defaults = json(&get(&router, "/api/v1/messages?start=-3&limit=zero"));
    assert_eq!(defaults["start"], 0);
    assert_eq!(defaults["count"], 5);
    let past_end = json(&get(&router, "/api/v1/messages?start=9"));
    assert_eq!(past_end["messages"], json!([]));
}

// ---- one message ----

#[test]
fn getting_a_message_marks_it_read() {
    let store = store();
    let id = deliver(&store, "hello");
    let router = router(&store);
    let message = json(&get(&router, &format!("/api/v1/message/{id}")));
    assert_eq!(message["ID"], id.to_string());
    assert_eq!(message["Read"], true);
    for key in [
        "Text",
        "HTML",
        "Inline",
        "Attachments",
        "ListUnsubscribe",
        "ReturnPath",
        "Date",
    ] {
        assert!(message.get(key).is_some(), "{key} missing: {message}");
    }
    assert!(store.handle().get(id).unwrap().unwrap().is_read());
    let list = json(&get(&router, "/api/v1/messages"));
    assert_eq!(list["unread"], 0);
}

#[test]
fn latest_is_the_newest_message() {
    let store = store();
    let router = router(&store);
    assert_eq!(get(&router, "/api/v1/message/latest").status(), 404);
    deliver(&store, "old");
    let newest = deliver(&store, "new");
    let message = json(&get(&router, "/api/v1/message/latest"));
    assert_eq!(message["ID"], newest.to_string());
    let raw = get(&router, "/api/v1/message/latest/raw");
    assert!(text(&raw).contains("Subject: new"));
}

#[test]
fn unknown_and_malformed_ids_are_404() {
    let store = store();
    deliver(&store, "x");
    let router = router(&store);
    for target in [
        "/api/v1/message/01ARZ3NDEKTSV4RRFFQ69G5FAV",
        "/api/v1/message/not-an-id",
        "/api/v1/message/not-an-id/raw",
        "/api/v1/message/not-an-id/headers",
        "/api/v1/message/01ARZ3NDEKTSV4RRFFQ69G5FAV/part/1",
        "/view/01ARZ3NDEKTSV4RRFFQ69G5FAV.html",
    ] {
        let response = get(&router, target);
        assert_eq!(response.status(), 404, "{target}");
        assert_eq!(text(&response), "404 page not found\n");
    }
}

#[test]
fn raw_is_the_stored_message_and_dl_offers_a_download() {
    let store = store();
    let id = deliver(&store, "raw please");
    let router = router(&store);
    let response = get(&router, &format!("/api/v1/message/{id}/raw"));
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.header("Content-Type"),
        Some("text/plain; charset=utf-8")
    );
    let stored = store.handle().raw(id).unwrap().unwrap();
    assert_eq!(response.body().as_bytes(), &stored[..]);
    assert!(response.header("Content-Disposition").is_none());
    let download = get(&router, &format!("/api/v1/message/{id}/raw?dl=1"));
    assert_eq!(
        download.header("Content-Disposition"),
        Some(format!("attachment; filename=\"{id}.eml\"").as_str())
    );
    // Reading the source does not mark the message read.
    assert!(!store.handle().get(id).unwrap().unwrap().is_read());
}

#[test]
fn headers_are_a_map_of_canonical_names_to_every_value() {
    let store = store();
    let id = deliver_raw(
        &store,
        "From: a@example.com\r\nX-Custom: one\r\nx-custom: two\r\nSubject: folded\r\n  line\r\nmessage-id: <m@x>\r\n\r\nbody\r\n",
    );
    let headers = json(&get(
        &router(&store),
        &format!("/api/v1/message/{id}/headers"),
    ));
    assert_eq!(headers["X-Custom"], json!(["one", "two"]));
    assert_eq!(headers["Subject"], json!(["folded line"]));
    assert_eq!(headers["Message-Id"], json!(["<m@x>"]));
    assert_eq!(headers["Return-Path"], json!(["<sender@client.test>"]));
    assert!(headers["Received"][0]
        .as_str()
        .unwrap()
        .starts_with("from client.test"));
}

#[test]
fn a_part_is_served_decoded_with_its_content_type() {
    let store = store();
    let raw = "From: a@example.com\r\nTo: b@example.com\r\nSubject: parts\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n--XX\r\nContent-Type: text/plain\r\n\r\nthe text\r\n\
--XX\r\nContent-Type: image/png; name=\"dot.png\"\r\nContent-Disposition: attachment; filename=\"dot.png\"\r\n\
Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--XX--\r\n";
    let id = deliver_raw(&store, raw);
    let router = router(&store);
    let image = get(&router, &format!("/api/v1/message/{id}/part/2"));
    assert_eq!(image.status(), 200);
    assert_eq!(image.header("Content-Type"), Some("image/png"));
    assert_eq!(
        image.header("Content-Disposition"),
        Some("filename=\"dot.png\"")
    );
    assert_eq!(image.body().as_bytes(), b"\x89PNG\r\n\x1a\n");
    let text_part = get(&router, &format!("/api/v1/message/{id}/part/1"));
    assert_eq!(text(&text_part).trim_end(), "the text");
    for missing in ["3", "0", "1.1", "x", "2.1"] {
        let response = get(&router, &format!("/api/v1/message/{id}/part/{missing}"));
        assert_eq!(response.status(), 404, "part {missing}");
    }
}

// ---- PUT /api/v1/messages ----

#[test]
fn put_marks_listed_ids_read_and_unread() {
    let store = store();
    let a = deliver(&store, "a");
    let b = deliver(&store, "b");
    let router = router(&store);
    let body = format!("{{\"IDs\":[\"{a}\"],\"Read\":true}}");
    let response = call(&router, Method::Put, "/api/v1/messages", &body);
    assert_eq!((response.status(), text(&response).as_str()), (200, "ok"));
    let handle = store.handle();
    assert!(handle.get(a).unwrap().unwrap().is_read());
    assert!(!handle.get(b).unwrap().unwrap().is_read());
    // Field names match ignoring case, as Go's decoder matches them.
    let body = format!("{{\"ids\":[\"{a}\"],\"read\":false}}");
    call(&router, Method::Put, "/api/v1/messages", &body);
    assert!(!handle.get(a).unwrap().unwrap().is_read());
}

#[test]
fn put_without_ids_marks_every_message() {
    let store = store();
    deliver(&store, "a");
    deliver(&store, "b");
    let router = router(&store);
    call(&router, Method::Put, "/api/v1/messages", "{\"Read\":true}");
    assert_eq!(store.handle().count().unwrap().unread, 0);
    call(&router, Method::Put, "/api/v1/messages", "{}");
    assert_eq!(store.handle().count().unwrap().unread, 2);
}

#[test]
fn put_with_a_search_marks_the_matching_messages() {
    let store = store();
    let old = deliver(&store, "a");
    let router = router(&store);
    call(
        &router,
        Method::Put,
        "/api/v1/messages",
        &format!("{{\"IDs\":[\"{old}\"],\"Read\":true}}"),
    );
    deliver(&store, "b");
    call(
        &router,
        Method::Put,
        "/api/v1/messages",
        "{\"Search\":\"is:unread\",\"Read\":true}",
    );
    assert_eq!(store.handle().count().unwrap().unread, 0);
}

#[test]
fn put_refuses_bad_bodies_with_400() {
    let store = store();
    let id = deliver(&store, "a");
    let router = router(&store);
    let both = format!("{{\"IDs\":[\"{id}\"],\"Search\":\"x\"}}");
    for body in [
        "",
        "not json",
        "[1,2]",
        "{\"Read\":\"yes\"}",
        "{\"IDs\":\"x\"}",
        &both,
    ] {
        let response = call(&router, Method::Put, "/api/v1/messages", body);
        assert_eq!(response.status(), 400, "{body:?}: {}", text(&response));
        assert!(!text(&response).is_empty());
    }
    assert!(!store.handle().get(id).unwrap().unwrap().is_read());
}

// ---- DELETE /api/v1/messages ----

#[test]
fn delete_removes_the_listed_ids() {
    let store = store();
    let a = deliver(&store, "a");
    let b = deliver(&store, "b");
    let router = router(&store);
    let response = call(
        &router,
        Method::Delete,
        "/api/v1/messages",
        &format!("{{\"IDs\":[\"{a}\"]}}"),
    );
    assert_eq!(text(&response), "ok");
    assert!(store.handle().get(a).unwrap().is_none());
    assert!(store.handle().get(b).unwrap().is_some());
}

#[test]
fn delete_without_ids_deletes_everything() {
    for body in ["", "{}", "{\"IDs\":[]}", "null"] {
        let store = store();
        deliver(&store, "a");
        deliver(&store, "b");
        let response = call(&router(&store), Method::Delete, "/api/v1/messages", body);
        assert_eq!(response.status(), 200, "{body:?}");
        assert_eq!(store.handle().count().unwrap().total, 0, "{body:?}");
    }
}

#[test]
fn delete_with_form_ids_deletes_only_those_and_junk_is_refused() {
    // What the PyPI mailpit-api-client sends: form-encoded `ids`.
    let store = store();
    let a = deliver(&store, "a");
    let b = deliver(&store, "b");
    let c = deliver(&store, "c");
    let body = format!("ids={a}&ids={b}");
    let response = call(&router(&store), Method::Delete, "/api/v1/messages", &body);
    assert_eq!(response.status(), 200);
    assert!(store.handle().get(a).unwrap().is_none());
    assert!(store.handle().get(b).unwrap().is_none());
    assert!(
        store.handle().get(c).unwrap().is_some(),
        "an unlisted message survives"
    );
    for junk in ["not json at all", "{\"IDs\":", "x=1"] {
        let response = call(&router(&store), Method::Delete, "/api/v1/messages", junk);
        assert_eq!(response.status(), 400, "{junk:?}");
        assert_eq!(
            store.handle().count().unwrap().total,
            1,
            "junk never deletes everything"
        );
    }
}

// ---- search ----

#[test]
fn search_needs_a_query() {
    let store = store();
    let router = router(&store);
    for target in [
        "/api/v1/search",
        "/api/v1/search?query=",
        "/api/v1/search?query=%20%20",
    ] {
        let response = get(&router, target);
        assert_eq!(response.status(), 400, "{target}");
        assert_eq!(text(&response), "Error: no search query");
    }
    let response = call(&router, Method::Delete, "/api/v1/search", "");
    assert_eq!(response.status(), 400);
}

#[test]
fn search_filters_and_counts_the_matches() {
    let store = store();
    let a = deliver(&store, "a");
    let b = deliver(&store, "b");
    let c = deliver(&store, "c");
    let router = router(&store);
    call(
        &router,
        Method::Put,
        "/api/v1/messages",
        &format!("{{\"IDs\":[\"{b}\"],\"Read\":true}}"),
    );
    let unread = json(&get(&router, "/api/v1/search?query=is%3Aunread"));
    assert_eq!(ids(&unread), [c.to_string(), a.to_string()]);
    assert_eq!(unread["messages_count"], 2);
    assert_eq!(unread["messages_unread"], 2);
    assert_eq!(unread["total"], 3);
    assert_eq!(unread["unread"], 2);
    let read = json(&get(&router, "/api/v1/search?query=-is:unread&limit=1"));
    assert_eq!(ids(&read), [b.to_string()]);
    let none = json(&get(&router, "/api/v1/search?query=before:2000-01-01"));
    assert_eq!(none["messages_count"], 0);
    let all = json(&get(
        &router,
        "/api/v1/search?query=after:2000-01-01+is:unread&start=1",
    ));
    assert_eq!(ids(&all), [a.to_string()]);
    assert_eq!(all["messages_count"], 2);
}

#[test]
fn delete_search_deletes_only_the_matches() {
    let store = store();
    let a = deliver(&store, "a");
    let b = deliver(&store, "b");
    let router = router(&store);
    call(
        &router,
        Method::Put,
        "/api/v1/messages",
        &format!("{{\"IDs\":[\"{a}\"],\"Read\":true}}"),
    );
    let response = call(&router, Method::Delete, "/api/v1/search?query=is:read", "");
    assert_eq!(text(&response), "ok");
    assert!(store.handle().get(a).unwrap().is_none());
    assert!(store.handle().get(b).unwrap().is_some());
    let info = json(&get(&router, "/api/v1/info"));
    assert_eq!(info["RuntimeStats"]["MessagesDeleted"], 1);
}

// ---- POST /api/v1/send ----

fn send(router: &Router, body: &Value) -> crate::Response {
    let request = Request::new(Method::Post, "/api/v1/send")
        .with_body(body.to_string())
        .with_peer("198.51.100.9:4321".parse().unwrap());
    router.handle(&request)
}

#[test]
fn send_stores_a_mime_message_like_smtp_does() {
    let store = store();
    let router = router(&store);
    let body = json!({
        "From": {"Email": "app@example.com", "Name": "The App"},
        "To": [{"Email": "user@example.com", "Name": "Zoë User"}],
        "Cc": [{"Email": "cc@example.com"}],
        "Bcc": ["hidden@example.com"],
        "ReplyTo": [{"Email": "reply@example.com"}],
        "Subject": "Welcome ✓",
        "Text": "Hello there",
        "HTML": "<p>Hello <b>there</b></p>",
        "Tags": ["signup", "test"],
        "Headers": {"X-Campaign": "spring"},
        "Attachments": [{"Content": STANDARD.encode("file body"), "Filename": "note.txt"}],
    });
    let response = send(&router, &body);
    let confirmation = json(&response);
    let id: smtp_store::MessageId = confirmation["ID"].as_str().unwrap().parse().unwrap();
    let stored = store.handle().get(id).unwrap().unwrap();
    let envelope = stored.envelope();
    assert_eq!(envelope.remote_addr.to_string(), "198.51.100.9:4321");
    assert_eq!(envelope.mail_from, "app@example.com");
    assert_eq!(
        envelope.rcpt_to,
        ["user@example.com", "cc@example.com", "hidden@example.com"]
    );
    let raw = String::from_utf8_lossy(stored.raw()).into_owned();
    for expected in [
        "From: The App <app@example.com>\r\n",
        "Cc: <cc@example.com>\r\n",
        "Reply-To: <reply@example.com>\r\n",
        "X-Tags: signup, test\r\n",
        "X-Campaign: spring\r\n",
        "Bcc: hidden@example.com\r\n",
        "Received: from 198.51.100.9 ([198.51.100.9])",
        "filename=\"note.txt\"",
    ] {
        assert!(raw.contains(expected), "{expected:?} not in\n{raw}");
    }
    let parsed = mail_parser::MessageParser::default()
        .parse(stored.raw())
        .unwrap();
    assert_eq!(parsed.subject(), Some("Welcome ✓"));
    assert_eq!(parsed.body_text(0).unwrap().trim_end(), "Hello there");
    assert_eq!(
        parsed.body_html(0).unwrap().trim_end(),
        "<p>Hello <b>there</b></p>"
    );
    assert_eq!(
        parsed.to().unwrap().first().unwrap().name(),
        Some("Zoë User")
    );
    let attachment = parsed.attachment(0).unwrap();
    assert_eq!(attachment.contents(), b"file body");
}

#[test]
fn send_refuses_bad_requests_with_a_json_error() {
    let store = store();
    let router = router(&store);
    let to = json!([{"Email": "user@example.com"}]);
    let cases = [
        (json!({"To": to}), "from not set"),
        (
            json!({"From": {"Email": "app@example.com"}}),
            "no recipients",
        ),
        (
            json!({"From": {"Email": "app@example.com"}, "To": [{"Email": "not an address"}]}),
            "invalid To address",
        ),
        (
            json!({"From": {"Email": "a@x.test>\r\nBcc: e@x"}, "To": to}),
            "invalid From address",
        ),
        (
            json!({"From": {"Email": "app@example.com"}, "To": to, "Headers": {"subject": "x"}}),
            "cannot overwrite header: \"subject\"",
        ),
        (
            json!({"From": {"Email": "app@example.com"}, "To": to, "Headers": {"Bad Name": "x"}}),
            "invalid header name",
        ),
        (
            json!({"From": {"Email": "app@example.com"}, "To": to, "Attachments": [{"Content": "***", "Filename": "f"}]}),
            "error decoding base64 attachment \"f\"",
        ),
        (json!({"From": "app@example.com", "To": to}), "From"),
    ];
    for (body, expected) in cases {
        let response = send(&router, &body);
        assert_eq!(response.status(), 400, "{body}");
        assert_eq!(response.header("Content-Type"), Some("application/json"));
        let error: Value = serde_json::from_slice(response.body().as_bytes()).unwrap();
        let message = error["Error"].as_str().unwrap();
        assert!(message.contains(expected), "{body}: {message}");
    }
    let not_json = router.handle(&Request::new(Method::Post, "/api/v1/send").with_body("{"));
    assert_eq!(not_json.status(), 400);
    assert_eq!(store.handle().count().unwrap().total, 0);
}

#[test]
fn send_keeps_header_values_on_their_line() {
    let store = store();
    let router = router(&store);
    let body = json!({
        "From": {"Email": "app@example.com", "Name": "x\r\nBcc: injected@example.com"},
        "To": [{"Email": "user@example.com"}],
        "Subject": "a\r\nX-Injected: yes",
        "Headers": {"X-Note": "one\ntwo"},
    });
    let id = json(&send(&router, &body))["ID"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let raw = store.handle().raw(id).unwrap().unwrap();
    let raw = String::from_utf8_lossy(&raw);
    assert!(!raw.contains("\nX-Injected"), "{raw}");
    assert!(!raw.contains("\nBcc: injected"), "{raw}");
    assert!(raw.contains("X-Note: one two\r\n"), "{raw}");
}

#[test]
fn send_records_the_basic_auth_user_as_username() {
    let store = store();
    let verifier = smtp_auth::Verifier::new(smtp_auth::Credentials::parse_inline("ui:pw").unwrap());
    let mut config = RouterConfig::new(store.handle());
    config.auth = Some(Arc::new(verifier));
    let router = Router::new(config);
    let body = json!({"From": {"Email": "a@example.com"}, "To": [{"Email": "b@example.com"}]});
    let request = Request::new(Method::Post, "/api/v1/send")
        .with_header(
            "Authorization",
            &format!("Basic {}", STANDARD.encode("ui:pw")),
        )
        .with_body(body.to_string());
    let id = json(&router.handle(&request))["ID"]
        .as_str()
        .unwrap()
        .to_owned();
    let listed = router.handle(&Request::new(Method::Get, "/api/v1/messages").with_header(
        "Authorization",
        &format!("Basic {}", STANDARD.encode("ui:pw")),
    ));
    let list = json(&listed);
    assert_eq!(list["messages"][0]["ID"], id);
    assert_eq!(list["messages"][0]["Username"], "ui");
}

// ---- info, webui, metrics, probes ----

fn counters() -> SmtpCounters {
    SmtpCounters {
        sessions: 11,
        messages_accepted: 7,
        bytes_accepted: 7000,
        messages_refused: 2,
        tls_handshakes: 5,
        tls_failures: 1,
        auth_failures: 3,
        connections_refused: 4,
    }
}

fn router_with_counters(store: &smtp_store::Store) -> Router {
    let mut config = RouterConfig::new(store.handle());
    config.counters = Some(Arc::new(counters));
    config.label = "CI".to_owned();
    config.database = "/var/mail/sink".to_owned();
    Router::new(config)
}

#[test]
fn info_reports_totals_and_runtime_stats() {
    let store = store();
    deliver(&store, "a");
    let id = deliver(&store, "b");
    let router = router_with_counters(&store);
    get(&router, &format!("/api/v1/message/{id}"));
    let info = json(&get(&router, "/api/v1/info"));
    let expected_keys = [
        "Database",
        "DatabaseSize",
        "LatestVersion",
        "Messages",
        "RuntimeStats",
        "Tags",
        "Unread",
        "Version",
    ];
    assert_eq!(keys(&info), sorted(&expected_keys));
    assert_eq!(info["Messages"], 2);
    assert_eq!(info["Unread"], 1);
    assert_eq!(info["Database"], "/var/mail/sink");
    assert_eq!(info["Version"], env!("CARGO_PKG_VERSION"));
    let size: usize = store
        .handle()
        .list(0, 9)
        .unwrap()
        .messages
        .iter()
        .map(|m| m.size())
        .sum();
    assert_eq!(info["DatabaseSize"], size);
    let stats = &info["RuntimeStats"];
    assert_eq!(stats["SMTPAccepted"], 7);
    assert_eq!(stats["SMTPAcceptedSize"], 7000);
    assert_eq!(stats["SMTPRejected"], 2);
    assert_eq!(stats["MessagesDeleted"], 0);
    for key in ["Uptime", "Memory", "SMTPIgnored"] {
        assert!(stats[key].is_u64(), "{key}");
    }
}

#[test]
fn webui_reports_the_label_and_no_relay() {
    let store = store();
    let config = json(&get(&router_with_counters(&store), "/api/v1/webui"));
    assert_eq!(config["Label"], "CI");
    assert_eq!(config["MessageRelay"]["Enabled"], false);
    assert_eq!(config["SpamAssassin"], false);
}

#[test]
fn metrics_are_prometheus_text_with_the_counters_and_store_size() {
    let store = store();
    let id = deliver(&store, "a");
    let size = store.handle().get(id).unwrap().unwrap().size();
    let response = get(&router_with_counters(&store), "/metrics");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.header("Content-Type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let body = text(&response);
    for line in [
        "# TYPE mailsink_smtp_sessions_total counter".to_owned(),
        "mailsink_smtp_sessions_total 11".to_owned(),
        "mailsink_smtp_messages_accepted_total 7".to_owned(),
        "mailsink_smtp_messages_refused_total 2".to_owned(),
        "mailsink_smtp_auth_failures_total 3".to_owned(),
        "mailsink_smtp_tls_handshakes_total{result=\"ok\"} 5".to_owned(),
        "mailsink_smtp_tls_handshakes_total{result=\"failed\"} 1".to_owned(),
        "mailsink_store_messages 1".to_owned(),
        "mailsink_store_unread_messages 1".to_owned(),
        format!("mailsink_store_size_bytes {size}"),
    ] {
        assert!(body.lines().any(|l| l == line), "{line:?} not in\n{body}");
    }
}

#[test]
fn probes_answer_and_readyz_fails_once_the_store_is_gone() {
    let store = store();
    let router = router(&store);
    assert_eq!(get(&router, "/livez").status(), 200);
    assert_eq!(get(&router, "/readyz").status(), 200);
    store.shutdown().unwrap();
    assert_eq!(get(&router, "/readyz").status(), 503);
    assert_eq!(get(&router, "/livez").status(), 200);
    let list = get(&router, "/api/v1/messages");
    assert_eq!(list.status(), 503);
    assert!(text(&list).contains("closed"));
}

#[test]
fn the_index_is_the_web_page_unless_another_is_given() {
    let store = store();
    let page = get(&router(&store), "/");
    assert_eq!(page.status(), 200);
    assert!(text(&page).contains("mailsink"));
    let custom = router(&store).with_index("<p>ui</p>");
    for target in ["/", "/search", "/view/anything"] {
        assert_eq!(text(&get(&custom, target)), "<p>ui</p>", "{target}");
    }
}

#[test]
fn tags_lists_every_tag() {
    let store = store();
    let tags = json(&get(&router(&store), "/api/v1/tags"));
    assert_eq!(tags, json!([]));
}

// ---- what needs the parsed summary ----

#[test]
fn search_uses_the_parsed_fields() {
    let store = store();
    let one = deliver(&store, "first one");
    let two = deliver(&store, "second two");
    let router = router(&store);
    let search = |query: &str| {
        ids(&json(&get(
            &router,
            &format!("/api/v1/search?query={query}"),
        )))
    };
    assert_eq!(search("subject:second"), [two.to_string()]);
    assert_eq!(search("from:alice"), [two.to_string(), one.to_string()]);
    assert_eq!(search("%22hello+first%22"), [one.to_string()]);
    assert_eq!(search("-subject:second+to:bob"), [one.to_string()]);
    let list = json(&get(&router, "/api/v1/messages"));
    assert_eq!(list["messages"][0]["Subject"], "second two");
    assert_eq!(list["messages"][0]["From"]["Address"], "alice@example.com");
}

const RELATED: &str = "From: a@example.com\r\nTo: b@example.com\r\nSubject: pictures\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/related; boundary=\"R\"\r\n\r\n--R\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
<p>Logo: <img src=\"cid:logo@x\"></p><script>alert(1)</script>\r\n--R\r\nContent-Type: image/png\r\n\
Content-ID: <logo@x>\r\nContent-Disposition: inline\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--R--\r\n";

#[test]
fn the_html_view_runs_no_script_and_embeds_inline_images() {
    let store = store();
    let id = deliver_raw(&store, RELATED);
    let router = router(&store);
    let message = json(&get(&router, &format!("/api/v1/message/{id}")));
    let part_id = message["Inline"][0]["PartID"].as_str().unwrap().to_owned();
    let view = get(&router, &format!("/view/{id}.html"));
    assert_eq!(view.status(), 200);
    assert_eq!(
        view.header("Content-Type"),
        Some("text/html; charset=utf-8")
    );
    let csp = view.header("Content-Security-Policy").unwrap();
    assert!(
        csp.starts_with("default-src 'none';") && !csp.contains("script-src"),
        "{csp}"
    );
    // Sandboxed (no meta refresh, no same-origin access), so images cannot be fetched from the
    // API: they are embedded.
    assert!(
        csp.contains("sandbox")
            && !csp.contains("allow-scripts")
            && !csp.contains("allow-same-origin"),
        "{csp}"
    );
    assert!(csp.contains("img-src data:;"), "{csp}");
    assert_eq!(view.header("X-Content-Type-Options"), Some("nosniff"));
    let html = text(&view);
    assert!(html.contains("src=\"data:image/png;base64,"), "{html}");
    assert!(!html.contains("cid:"), "{html}");
    let image = get(&router, &format!("/api/v1/message/{id}/part/{part_id}"));
    assert_eq!(image.header("Content-Type"), Some("image/png"));
    let part_csp = image.header("Content-Security-Policy").unwrap();
    assert!(
        part_csp.starts_with("default-src 'none'") && part_csp.ends_with("sandbox"),
        "{part_csp}"
    );
    let latest = get(&router, "/view/latest.html");
    assert_eq!(text(&latest), html);
}

#[test]
fn the_text_view_is_the_text_body_and_marks_the_message_read() {
    let store = store();
    let id = deliver(&store, "plain");
    let router = router(&store);
    let view = get(&router, &format!("/view/{id}.txt"));
    assert_eq!(view.status(), 200);
    assert_eq!(
        view.header("Content-Type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(text(&view).trim_end(), "Hello plain");
    assert!(store.handle().get(id).unwrap().unwrap().is_read());
    assert_eq!(
        get(&router, &format!("/view/{id}.html")).status(),
        404,
        "no HTML body"
    );
}

#[test]
fn an_html_attachment_is_a_sandboxed_download_never_a_page_on_our_origin() {
    let store = store();
    let raw =
        "From: a@example.com\r\nSubject: x\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n\
--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n\
--b\r\nContent-Type: text/html\r\nContent-Disposition: attachment; filename=\"evil.html\"\r\n\r\n\
<script>fetch('/api/v1/messages')</script>\r\n--b--\r\n";
    let id = deliver_raw(&store, raw);
    let router = router(&store);
    let message = json(&get(&router, &format!("/api/v1/message/{id}")));
    let part_id = message["Attachments"][0]["PartID"]
        .as_str()
        .unwrap()
        .to_owned();
    let part = get(&router, &format!("/api/v1/message/{id}/part/{part_id}"));
    assert_eq!(part.status(), 200);
    assert_eq!(
        part.header("Content-Disposition"),
        Some("attachment; filename=\"evil.html\"")
    );
    assert_eq!(part.header("X-Content-Type-Options"), Some("nosniff"));
    let csp = part.header("Content-Security-Policy").unwrap();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("sandbox"),
        "{csp}"
    );
}

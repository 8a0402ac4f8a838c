//! Golden JSON: each fixture message from `crates/smtp-store/tests/fixtures/` (encoded words,
//! UTF-8 addresses, multipart/alternative, attachments, inline images, a broken MIME structure)
//! is delivered, read back through `GET /api/v1/message/{ID}` and the list endpoint, and compared
//! with `tests/golden/NAME.json`. Fields that change per run (IDs, times) are replaced by
//! placeholders. `UPDATE_GOLDEN=1 cargo test -p smtp-http --test it golden` rewrites the files;
//! review the diff before committing.

use std::path::{Path, PathBuf};

use serde_json::Value;
use smtp_http::{Method, Request, Router, RouterConfig};
use smtp_store::{Envelope, Store, StoreConfig};

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../smtp-store/tests/fixtures");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    paths.sort();
    paths
}

fn json(router: &Router, target: &str) -> Value {
    let response = router.handle(&Request::new(Method::Get, target));
    assert_eq!(response.status(), 200, "{target}");
    serde_json::from_slice(response.body().as_bytes()).unwrap()
}

/// Replaces values that differ on every run.
fn normalise(value: &mut Value, id: &str) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                match key.as_str() {
                    "ID" => *v = Value::String("<ID>".into()),
                    "Created" => *v = Value::String("<Created>".into()),
                    _ => normalise(v, id),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| normalise(v, id)),
        Value::String(s) if s.contains(id) => *s = s.replace(id, "<ID>"),
        _ => {}
    }
}

#[test]
fn message_json_matches_the_golden_files() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let fixtures = fixtures();
    assert!(fixtures.len() >= 6, "fixtures found: {fixtures:?}");
    for path in fixtures {
        let store = Store::start(StoreConfig::default()).unwrap();
        let envelope = Envelope {
            remote_addr: "192.0.2.10:40000".parse().unwrap(),
            helo: "client.example".into(),
            esmtp: true,
            tls: false,
            auth_user: None,
            mail_from: "sender@example.com".into(),
            rcpt_to: vec!["rcpt@example.com".into()],
            smtputf8: true,
        };
        let id = store
            .handle()
            .deliver(envelope, std::fs::read(&path).unwrap())
            .unwrap()
            .to_string();
        let router = Router::new(RouterConfig::new(store.handle()));
        let mut list = json(&router, "/api/v1/messages");
        let mut message = json(&router, &format!("/api/v1/message/{id}"));
        normalise(&mut list, &id);
        normalise(&mut message, &id);
        // Without a Date: header the API shows the delivery time, as Mailpit does.
        let raw = std::fs::read_to_string(&path).unwrap_or_default();
        if !raw
            .lines()
            .any(|l| l.to_ascii_lowercase().starts_with("date:"))
        {
            message["Date"] = Value::String("<delivery time>".into());
        }
        let actual = serde_json::json!({ "list_entry": list["messages"][0], "message": message });
        let text = serde_json::to_string_pretty(&actual).unwrap() + "\n";
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let golden =
            Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/golden/{name}.json"));
        if update {
            std::fs::write(&golden, &text).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&golden)
            .unwrap_or_else(|_| panic!("{} missing: run with UPDATE_GOLDEN=1", golden.display()));
        assert_eq!(
            text,
            expected,
            "{name}: JSON differs from {}",
            golden.display()
        );
    }
}

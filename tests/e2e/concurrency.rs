//! 200 concurrent connections, each sending several messages over one connection (lettre):
//! every message is stored, each with exactly its own bytes.

use std::collections::HashMap;
use std::thread;

use lettre::Transport;
use mailsink_tests::{body_after_added_headers, TestServer};

use crate::lettre_client::{message, transport, wire_bytes};

const CLIENTS: usize = 200;
const PER_CLIENT: usize = 3;

#[test]
fn two_hundred_concurrent_clients_all_stored_exactly() {
    let server = TestServer::start(&["--max", "0", "--smtp-max-connections", "256"]);
    let port = server.port();
    let handles: Vec<_> = (0..CLIENTS)
        .map(|c| {
            thread::spawn(move || {
                let mailer = transport(port);
                let mut sent = Vec::new();
                for m in 0..PER_CLIENT {
                    let subject = format!("client {c} message {m}");
                    let body = format!("{subject}\n{}\n", "y".repeat((c * 7 + m * 131) % 4000));
                    let msg = message(
                        "load@example.com",
                        &format!("c{c}@example.com"),
                        &subject,
                        body,
                    );
                    if let Err(err) = mailer.send(&msg) {
                        panic!("client {c} message {m}: {err}");
                    }
                    sent.push((subject, wire_bytes(&msg)));
                }
                sent
            })
        })
        .collect();
    let mut expected: HashMap<String, Vec<u8>> = HashMap::new();
    for handle in handles {
        for (subject, bytes) in handle.join().expect("client thread") {
            expected.insert(subject, bytes);
        }
    }
    let messages = server.messages();
    assert_eq!(messages.len(), CLIENTS * PER_CLIENT);
    for stored in &messages {
        let body = body_after_added_headers(stored.raw());
        let text = String::from_utf8_lossy(body);
        let subject = text
            .lines()
            .find_map(|l| l.strip_prefix("Subject: "))
            .expect("subject header")
            .to_owned();
        assert_eq!(
            Some(&body.to_vec()),
            expected.get(&subject),
            "bytes of {subject}"
        );
    }
}

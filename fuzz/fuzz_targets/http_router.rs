//! The HTTP router: any method, path, headers and body get a response with a valid status
//! (never a panic), against a store holding one message.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use smtp_http::{Method, Request, Router, RouterConfig};
use smtp_store::{Envelope, Store, StoreConfig};

fn router() -> &'static Router {
    static ROUTER: OnceLock<(Store, Router)> = OnceLock::new();
    &ROUTER
        .get_or_init(|| {
            let store = Store::start(StoreConfig::default()).expect("store");
            let envelope = Envelope {
                remote_addr: "127.0.0.1:25".parse().expect("addr"),
                helo: "fuzz".into(),
                esmtp: true,
                tls: false,
                auth_user: None,
                mail_from: "a@example.com".into(),
                rcpt_to: vec!["b@example.com".into()],
                smtputf8: false,
            };
            let body = b"Subject: fuzz\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n\r\nhi\r\n--x\r\nContent-Disposition: attachment; filename=a.txt\r\n\r\nA\r\n--x--\r\n";
            store.handle().deliver(envelope, body.to_vec()).expect("deliver");
            let router = Router::new(RouterConfig::new(store.handle()));
            (store, router)
        })
        .1
}

fuzz_target!(|input: (u8, &str, Vec<(String, String)>, &[u8])| {
    let (method, target, headers, body) = input;
    let method = ["GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH"][usize::from(method) % 7];
    // Never let the fuzzer delete the one message everything else reads.
    if method == "DELETE" {
        return;
    }
    let mut request = Request::new(Method::parse(method), target.to_owned()).with_body(body.to_vec());
    for (name, value) in &headers {
        request = request.with_header(name, value);
    }
    let response = router().handle(&request);
    assert!((100..600).contains(&response.status()));
});

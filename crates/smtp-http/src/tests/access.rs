//! What every request passes before its route: path cleaning, Basic auth, the origin check,
//! methods, `HEAD`, and the headers every response carries.

use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use smtp_auth::{Credentials, Verifier};

use super::support::{deliver, get, router, store, text};
use crate::{Cors, Method, Request, Router, RouterConfig};

fn with_auth(store: &smtp_store::Store) -> Router {
    let mut config = RouterConfig::new(store.handle());
    let credentials =
        Credentials::parse_inline("admin:s3cret other:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=").unwrap();
    config.auth = Some(Arc::new(Verifier::new(credentials)));
    Router::new(config)
}

fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{user}:{password}")))
}

fn with_cors(store: &smtp_store::Store, spec: &str) -> Router {
    let mut config = RouterConfig::new(store.handle());
    config.cors = Cors::parse(spec);
    Router::new(config)
}

// ---- doubled slashes and other unclean paths ----

#[test]
fn unclean_paths_redirect_to_the_clean_path_as_go_does() {
    let store = store();
    let router = router(&store);
    let cases = [
        ("//api/v1/messages", "/api/v1/messages"),
        ("/api//v1/messages?limit=1", "/api/v1/messages?limit=1"),
        ("/api/v1/./messages", "/api/v1/messages"),
        ("/api/v1/x/../messages", "/api/v1/messages"),
        ("/../../api/v1/info", "/api/v1/info"),
        ("/api/v1//", "/api/v1/"),
        ("/view//x.html", "/view/x.html"),
    ];
    for (target, location) in cases {
        let response = get(&router, target);
        assert_eq!(response.status(), 301, "{target}");
        assert_eq!(response.header("Location"), Some(location), "{target}");
        assert!(text(&response).contains("Moved Permanently"), "{target}");
    }
    let delete = router.handle(&Request::new(Method::Delete, "//api/v1/messages"));
    assert_eq!(delete.status(), 301);
    assert!(delete.body().as_bytes().is_empty());
}

#[test]
fn the_redirect_does_not_act_on_the_request() {
    let store = store();
    deliver(&store, "kept");
    let router = router(&store);
    let response = router.handle(&Request::new(Method::Delete, "/api//v1/messages"));
    assert_eq!(response.status(), 301);
    assert_eq!(store.handle().count().unwrap().total, 1);
}

#[test]
fn percent_encoded_paths_route_on_the_decoded_path() {
    let store = store();
    let router = router(&store);
    assert_eq!(get(&router, "/%61pi/v1/messages").status(), 200);
    assert_eq!(get(&router, "/api%2Fv1%2Finfo").status(), 200);
    let redirect = get(&router, "/api/v1/%2e%2e/v1/info");
    assert_eq!(redirect.header("Location"), Some("/api/v1/info"));
    assert_eq!(get(&router, "/api/v1/%zz").status(), 400);
    assert_eq!(get(&router, "/api/v1/%ff").status(), 400);
    assert_eq!(get(&router, "*").status(), 400);
    assert_eq!(get(&router, "http://example.com/api/v1/info").status(), 400);
}

// ---- methods ----

#[test]
fn unknown_paths_are_404_and_wrong_methods_405() {
    let store = store();
    let router = router(&store);
    for target in [
        "/nope",
        "/api/v1/nope",
        "/api/v1/message/",
        "/api/v1/messages/",
        "/api/v2/messages",
    ] {
        assert_eq!(get(&router, target).status(), 404, "{target}");
    }
    let response = router.handle(&Request::new(Method::Post, "/api/v1/messages"));
    assert_eq!(response.status(), 405);
    assert_eq!(response.header("Allow"), Some("GET, PUT, DELETE, HEAD"));
    let response = router.handle(&Request::new(Method::Get, "/api/v1/send"));
    assert_eq!(response.status(), 405);
    assert_eq!(response.header("Allow"), Some("POST"));
    let response = router.handle(&Request::new(Method::Other, "/api/v1/info"));
    assert_eq!(response.status(), 405);
}

#[test]
fn head_is_get_without_the_body() {
    let store = store();
    let id = deliver(&store, "sized");
    let router = router(&store);
    let get_response = get(&router, &format!("/api/v1/message/{id}/raw"));
    let head = router.handle(&Request::new(
        Method::Head,
        format!("/api/v1/message/{id}/raw"),
    ));
    assert_eq!(head.status(), 200);
    assert!(head.body().as_bytes().is_empty());
    let length = get_response.body().as_bytes().len().to_string();
    assert_eq!(head.header("Content-Length"), Some(length.as_str()));
}

#[test]
fn every_response_says_nosniff_and_no_referrer() {
    let store = store();
    let router = router(&store);
    for target in ["/api/v1/messages", "/nope", "//x", "/livez"] {
        let response = get(&router, target);
        assert_eq!(
            response.header("X-Content-Type-Options"),
            Some("nosniff"),
            "{target}"
        );
        assert_eq!(
            response.header("Referrer-Policy"),
            Some("no-referrer"),
            "{target}"
        );
    }
}

// ---- Basic auth ----

#[test]
fn with_credentials_every_route_but_livez_needs_them() {
    let store = store();
    let router = with_auth(&store);
    for target in [
        "/api/v1/messages",
        "/api/v1/info",
        "/readyz",
        "/metrics",
        "/",
        "/view/x.txt",
        "/nope",
    ] {
        let response = get(&router, target);
        assert_eq!(response.status(), 401, "{target}");
        assert_eq!(
            response.header("WWW-Authenticate"),
            Some("Basic realm=\"Login\"")
        );
        assert_eq!(text(&response), "Unauthorised.\n");
    }
    assert_eq!(get(&router, "/livez").status(), 200);
}

#[test]
fn good_credentials_pass_and_bad_ones_do_not() {
    let store = store();
    let router = with_auth(&store);
    let ask = |authorization: &str| {
        router
            .handle(
                &Request::new(Method::Get, "/api/v1/messages")
                    .with_header("Authorization", authorization),
            )
            .status()
    };
    assert_eq!(ask(&basic("admin", "s3cret")), 200);
    assert_eq!(
        ask(&basic("other", "password")),
        200,
        "an htpasswd {{SHA}} hash"
    );
    assert_eq!(ask(&basic("admin", "wrong")), 401);
    assert_eq!(ask(&basic("nobody", "s3cret")), 401);
    assert_eq!(ask("Bearer abc"), 401);
    assert_eq!(ask("Basic not-base64!"), 401);
    assert_eq!(ask(&format!("Basic {}", STANDARD.encode("no-colon"))), 401);
    assert_eq!(
        ask(&format!("basic {}", STANDARD.encode("admin:s3cret"))),
        200
    );
}

// ---- CORS ----

#[test]
fn requests_without_an_origin_get_no_cors_headers() {
    let store = store();
    let response = get(&with_cors(&store, "*"), "/api/v1/messages");
    assert_eq!(response.status(), 200);
    assert!(response.header("Access-Control-Allow-Origin").is_none());
}

#[test]
fn a_same_origin_request_is_allowed_without_configuration() {
    let store = store();
    let request = Request::new(Method::Get, "/api/v1/messages")
        .with_header("Host", "localhost:8025")
        .with_header("Origin", "http://localhost:8025");
    let response = router(&store).handle(&request);
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.header("Access-Control-Allow-Origin"),
        Some("http://localhost:8025")
    );
}

#[test]
fn a_foreign_origin_is_refused_unless_listed() {
    let store = store();
    deliver(&store, "keep me");
    let request = Request::new(Method::Delete, "/api/v1/messages")
        .with_header("Host", "localhost:8025")
        .with_header("Origin", "https://evil.example");
    let response = router(&store).handle(&request);
    assert_eq!(response.status(), 403);
    assert_eq!(text(&response), "Blocked due to CORS violation\n");
    assert_eq!(store.handle().count().unwrap().total, 1);
    let html_view =
        Request::new(Method::Get, "/view/abc.html").with_header("Origin", "https://evil.example");
    assert_eq!(router(&store).handle(&html_view).status(), 403);
    let listed = with_cors(&store, "app.test, https://other.test:3000");
    for origin in ["http://app.test:5173", "https://OTHER.test"] {
        let request = Request::new(Method::Get, "/api/v1/info").with_header("Origin", origin);
        let response = listed.handle(&request);
        assert_eq!(response.status(), 200, "{origin}");
        assert_eq!(response.header("Access-Control-Allow-Origin"), Some(origin));
        assert_eq!(
            response.header("Access-Control-Allow-Methods"),
            Some("GET, POST, DELETE, PUT, OPTIONS")
        );
    }
    let request = Request::new(Method::Get, "/api/v1/info")
        .with_header("Origin", "http://app.test.evil.example");
    assert_eq!(listed.handle(&request).status(), 403);
}

#[test]
fn the_origin_check_covers_only_the_api_and_html_views() {
    let store = store();
    let request = Request::new(Method::Get, "/livez").with_header("Origin", "https://evil.example");
    assert_eq!(router(&store).handle(&request).status(), 200);
    let request = Request::new(Method::Get, "/").with_header("Origin", "https://evil.example");
    assert_eq!(router(&store).handle(&request).status(), 200);
}

#[test]
fn a_wildcard_allows_any_origin() {
    let store = store();
    let request =
        Request::new(Method::Get, "/api/v1/info").with_header("Origin", "https://anything.example");
    let response = with_cors(&store, "*").handle(&request);
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.header("Access-Control-Allow-Origin"),
        Some("https://anything.example")
    );
}

#[test]
fn a_preflight_needs_no_credentials_once_cors_is_configured() {
    let store = store();
    let mut config = RouterConfig::new(store.handle());
    config.cors = Cors::parse("app.test");
    config.auth = Some(Arc::new(Verifier::new(
        Credentials::parse_inline("a:b").unwrap(),
    )));
    let router = Router::new(config);
    let preflight = Request::new(Method::Options, "/api/v1/messages")
        .with_header("Origin", "http://app.test")
        .with_header("Access-Control-Request-Method", "DELETE");
    let response = router.handle(&preflight);
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.header("Access-Control-Allow-Origin"),
        Some("http://app.test")
    );
    assert_eq!(response.header("Access-Control-Allow-Headers"), Some("*"));
    // The real request still needs them.
    let request =
        Request::new(Method::Delete, "/api/v1/messages").with_header("Origin", "http://app.test");
    assert_eq!(router.handle(&request).status(), 401);
    // Without CORS configured, OPTIONS is an ordinary request.
    let plain = with_auth(&store);
    assert_eq!(
        plain
            .handle(&Request::new(Method::Options, "/api/v1/messages"))
            .status(),
        401
    );
}

#[test]
fn options_under_the_api_is_a_blank_200() {
    let store = store();
    let router = router(&store);
    for target in ["/api/v1/messages", "/api/v1/anything/at/all"] {
        let response = router.handle(&Request::new(Method::Options, target));
        assert_eq!(response.status(), 200, "{target}");
        assert!(response.body().as_bytes().is_empty());
    }
}

#[test]
fn cors_parse_reads_mailpit_values() {
    assert!(!Cors::parse("").is_configured());
    assert!(Cors::parse("*").allows("https://x.test", None));
    let cors = Cors::parse("https://a.test:8443,b.test  c.test");
    assert!(cors.allows("http://a.test", None));
    assert!(cors.allows("https://b.test:1", None));
    assert!(cors.allows("https://C.TEST", None));
    assert!(!cors.allows("https://d.test", None));
    assert!(!cors.allows("null", None));
    assert!(cors.allows("http://[::1]:8025", Some("[::1]:8025")));
    assert!(!Cors::parse("*.test").allows("https://a.test", None));
}

#[test]
fn request_debug_output_hides_credentials_and_the_body() {
    let request = Request::new(Method::Post, "/api/v1/send")
        .with_header("Authorization", &basic("admin", "s3cret"))
        .with_header("Cookie", "session=abc")
        .with_body("{\"Text\":\"private body\"}");
    let debug = format!("{request:?}");
    assert!(
        debug.contains("/api/v1/send") && debug.contains("<redacted>"),
        "{debug}"
    );
    for secret in [
        STANDARD.encode("admin:s3cret").as_str(),
        "session=abc",
        "private body",
    ] {
        assert!(!debug.contains(secret), "{secret} in {debug}");
    }
}

//! The router: one [`Request`] in, one [`Response`] out, no sockets. The server calls
//! [`Router::handle`] from its workers; tests call it directly.
//!
//! Every request passes the same steps, in this order:
//!
//! 1. the target is decoded; a path that is not in canonical form (`//`, `.`, `..`) is
//!    answered `301` to the cleaned path, as Go's `ServeMux` answers it for Mailpit;
//! 2. `/livez` is answered (no authentication: it is the liveness probe);
//! 3. the origin check (see [`crate::access`]) for `/api/` and `/view/{ID}.html`;
//! 4. Basic authentication when credentials are configured (a CORS preflight is exempt, since
//!    browsers send it without credentials);
//! 5. the route, then headers every response carries (`Referrer-Policy`,
//!    `X-Content-Type-Options`, the `Access-Control-Allow-*` set when it applies). `HEAD` is
//!    answered as `GET` without the body.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use smtp_auth::Verifier;
use smtp_store::StoreHandle;

use crate::access::{self, Cors};
use crate::api::{self, ApiError, Call};
use crate::metrics::CountersFn;
use crate::path::{self, Target};
use crate::request::{Method, Request};
use crate::response::{Body, Response};

/// The web page served at `/`: one self-contained file (inline CSS and script, no build step)
/// that works over `/api/v1` like any client; see `docs/web.md`. [`Router::with_index`]
/// replaces it.
const INDEX_HTML: &str = include_str!("../ui/index.html");

/// What the router serves and how.
#[derive(Clone)]
pub struct RouterConfig {
    /// The message store.
    pub store: StoreHandle,
    /// Basic-auth credentials (`--ui-auth-file`, `MP_UI_AUTH`); `None` leaves the API open.
    pub auth: Option<Arc<Verifier>>,
    /// Allowed cross-origin callers (`--api-cors`).
    pub cors: Cors,
    /// The SMTP counters for `/metrics` and `/api/v1/info`.
    pub counters: Option<CountersFn>,
    /// The version shown by `/api/v1/info`.
    pub version: String,
    /// Where messages are kept, shown as `Database` by `/api/v1/info` (empty: in memory).
    pub database: String,
    /// `--label`, shown by `/api/v1/webui`.
    pub label: String,
}

impl RouterConfig {
    /// A configuration with no authentication, no CORS and no SMTP counters.
    #[must_use]
    pub fn new(store: StoreHandle) -> Self {
        Self {
            store,
            auth: None,
            cors: Cors::default(),
            counters: None,
            version: env!("CARGO_PKG_VERSION").to_owned(),
            database: String::new(),
            label: String::new(),
        }
    }
}

impl std::fmt::Debug for RouterConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RouterConfig")
            .field("auth", &self.auth.is_some())
            .field("cors", &self.cors)
            .field("counters", &self.counters.is_some())
            .field("version", &self.version)
            .field("database", &self.database)
            .field("label", &self.label)
            .finish_non_exhaustive()
    }
}

/// The API's request handler. Cheap to share between workers behind an `Arc`.
#[derive(Debug)]
pub struct Router {
    pub(crate) config: RouterConfig,
    /// The web page: the built-in one, or what [`Router::with_index`] gave.
    pub(crate) index: Body,
    pub(crate) started: Instant,
    /// Messages deleted through the API since start (`MessagesDeleted` in `/api/v1/info`).
    pub(crate) deleted: AtomicU64,
}

/// The routes, by path only; [`Router::handle`] then checks the method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Route<'a> {
    /// The web page: `/`, `/search` and `/view/...` that is no message view.
    Index,
    Livez,
    Readyz,
    Metrics,
    Messages,
    Search,
    Send,
    Tags,
    Info,
    WebUi,
    Message(&'a str),
    Headers(&'a str),
    Raw(&'a str),
    Part(&'a str, &'a str),
    ViewHtml(&'a str),
    ViewText(&'a str),
}

impl<'a> Route<'a> {
    pub(crate) fn of(path: &'a str) -> Option<Self> {
        if let Some(api) = path.strip_prefix("/api/v1/") {
            return Self::api(api);
        }
        Some(match path {
            "/" | "/search" => Self::Index,
            "/livez" => Self::Livez,
            "/readyz" => Self::Readyz,
            "/metrics" => Self::Metrics,
            _ => Self::view(path.strip_prefix("/view/")?),
        })
    }

    fn api(rest: &'a str) -> Option<Self> {
        let segments: Vec<&str> = rest.split('/').collect();
        Some(match segments.as_slice() {
            ["messages"] => Self::Messages,
            ["search"] => Self::Search,
            ["send"] => Self::Send,
            ["tags"] => Self::Tags,
            ["info"] => Self::Info,
            ["webui"] => Self::WebUi,
            ["message", id] if !id.is_empty() => Self::Message(id),
            ["message", id, "headers"] => Self::Headers(id),
            ["message", id, "raw"] => Self::Raw(id),
            ["message", id, "part", part] if !part.is_empty() => Self::Part(id, part),
            _ => return None,
        })
    }

    fn view(rest: &'a str) -> Self {
        let is_id = |id: &str| !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric());
        if let Some(id) = rest.strip_suffix(".html").filter(|id| is_id(id)) {
            return Self::ViewHtml(id);
        }
        if let Some(id) = rest.strip_suffix(".txt").filter(|id| is_id(id)) {
            return Self::ViewText(id);
        }
        Self::Index
    }

    /// The methods this route answers (besides `HEAD` with `GET`, and `OPTIONS` under `/api/v1/`).
    pub(crate) fn methods(self) -> &'static [Method] {
        match self {
            Self::Messages => &[Method::Get, Method::Put, Method::Delete],
            Self::Search => &[Method::Get, Method::Delete],
            Self::Send => &[Method::Post],
            Self::Livez => &[
                Method::Get,
                Method::Post,
                Method::Put,
                Method::Delete,
                Method::Options,
            ],
            _ => &[Method::Get],
        }
    }
}

impl Router {
    /// A router serving the web page (`ui/index.html`) at `/`.
    #[must_use]
    pub fn new(config: RouterConfig) -> Self {
        Self {
            config,
            index: Body::Static(INDEX_HTML.as_bytes()),
            started: Instant::now(),
            deleted: AtomicU64::new(0),
        }
    }

    /// The same router serving `html` as the web page (`/`, `/search`, `/view/...`).
    #[must_use]
    pub fn with_index(mut self, html: impl Into<String>) -> Self {
        self.index = Body::Shared(Arc::new(html.into().into_bytes()));
        self
    }

    /// Answers one request. Never panics on bad input; every failure is a 4xx/5xx response.
    #[must_use]
    pub fn handle(&self, request: &Request) -> Response {
        let response = self.respond(request);
        let response = response
            .with_header("Referrer-Policy", "no-referrer")
            .with_header("X-Content-Type-Options", "nosniff");
        if request.method == Method::Head {
            response.without_body()
        } else {
            response
        }
    }

    fn respond(&self, request: &Request) -> Response {
        let target = match Target::parse(&request.target) {
            Ok(target) => target,
            Err(_) => return Response::text(400, "400 Bad Request: invalid request target\n"),
        };
        let cleaned = path::clean(&target.path);
        if cleaned != target.path {
            return redirect(&cleaned, &target.raw_query, request.method);
        }
        if target.path == "/livez" {
            return self.route(Route::Livez, request, &target, None);
        }
        let origin = match self.check_origin(request, &target.path) {
            Ok(origin) => origin,
            Err(blocked) => return blocked,
        };
        let preflight = request.method == Method::Options && self.config.cors.is_configured();
        let user = match (&self.config.auth, preflight) {
            (Some(verifier), false) => match access::basic_user(request, verifier) {
                Some(user) => Some(user),
                None => return unauthorized(),
            },
            _ => None,
        };
        let response = match Route::of(&target.path) {
            Some(route) => self.route(route, request, &target, user),
            None if request.method == Method::Options && target.path.starts_with("/api/v1/") => {
                options()
            }
            None => not_found(),
        };
        match origin {
            Some(origin) => with_cors(response, origin),
            None => response,
        }
    }

    /// `Ok(Some(origin))` when CORS headers are due, `Ok(None)` when the check does not apply
    /// or no `Origin` was sent, `Err(403)` for a disallowed origin.
    fn check_origin<'r>(
        &self,
        request: &'r Request,
        path: &str,
    ) -> Result<Option<&'r str>, Response> {
        let applies =
            path.starts_with("/api/") || matches!(Route::of(path), Some(Route::ViewHtml(_)));
        let Some(origin) = request.header("Origin").filter(|_| applies) else {
            return Ok(None);
        };
        if self.config.cors.allows(origin, request.header("Host")) {
            Ok(Some(origin))
        } else {
            log::debug!("[cors] blocked a request from origin {origin:?}");
            Err(Response::text(403, "Blocked due to CORS violation\n"))
        }
    }

    fn route(
        &self,
        route: Route<'_>,
        request: &Request,
        target: &Target,
        user: Option<String>,
    ) -> Response {
        let method = match request.method {
            Method::Head => Method::Get,
            method => method,
        };
        if method == Method::Options && target.path.starts_with("/api/v1/") {
            return options();
        }
        if !route.methods().contains(&method) {
            return method_not_allowed(route.methods());
        }
        let call = Call {
            router: self,
            request,
            target,
            user,
        };
        api::dispatch(&call, route, method).unwrap_or_else(ApiError::into_response)
    }

    pub(crate) fn count_deleted(&self, n: usize) {
        let n = u64::try_from(n).unwrap_or(u64::MAX);
        self.deleted.fetch_add(n, Ordering::Relaxed);
    }
}

fn redirect(path: &str, raw_query: &str, method: Method) -> Response {
    let mut location = path::encode_path(path);
    if !raw_query.is_empty() {
        location.push('?');
        location.push_str(raw_query);
    }
    let response = Response::new(301).with_header("Location", location.clone());
    if matches!(method, Method::Get | Method::Head) {
        // Go's http.Redirect writes this small page for GET and HEAD.
        let body = format!(
            "<a href=\"{}\">Moved Permanently</a>.\n\n",
            html_escape(&location)
        );
        response
            .with_header("Content-Type", "text/html; charset=utf-8")
            .with_body(crate::response::Body::Bytes(body.into_bytes()))
    } else {
        response
    }
}

pub(crate) fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

fn with_cors(response: Response, origin: &str) -> Response {
    response
        .with_header("Access-Control-Allow-Origin", origin)
        .with_header(
            "Access-Control-Allow-Methods",
            "GET, POST, DELETE, PUT, OPTIONS",
        )
        .with_header("Access-Control-Allow-Headers", "*")
        .with_header("Vary", "Origin")
}

fn options() -> Response {
    Response::text(200, "")
}

fn unauthorized() -> Response {
    Response::text(401, "Unauthorised.\n").with_header("WWW-Authenticate", "Basic realm=\"Login\"")
}

pub(crate) fn not_found() -> Response {
    Response::text(404, "404 page not found\n")
}

fn method_not_allowed(methods: &[Method]) -> Response {
    let mut allow: Vec<&str> = methods.iter().map(|m| m.as_str()).collect();
    if methods.contains(&Method::Get) {
        allow.push("HEAD");
    }
    Response::text(405, "405 method not allowed\n").with_header("Allow", allow.join(", "))
}

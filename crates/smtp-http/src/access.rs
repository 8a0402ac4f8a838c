//! Who may call the API: HTTP Basic authentication and the browser origin check (CORS).
//!
//! Both follow Mailpit. Basic auth checks `--ui-auth-file`/`MP_UI_AUTH` credentials through
//! [`smtp_auth::Verifier`] (every htpasswd hash format, verdicts cached). The origin check
//! applies to `/api/` and `/view/{ID}.html`: a request that carries an `Origin` header is let
//! through only from the same host, or from a host listed in `--api-cors` (or any host with
//! `*`), and is then answered with `Access-Control-Allow-*` headers; any other origin gets
//! `403`, so a web page the developer happens to open cannot read or delete captured mail.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use smtp_auth::Verifier;

use crate::request::Request;

/// The allowed cross-origin callers, from `--api-cors` (comma or space separated).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cors {
    any: bool,
    /// Host names (no scheme, no port), lower case.
    hosts: Vec<String>,
}

impl Cors {
    /// Parses Mailpit's `--api-cors` value: host names or origins (`https://app.test:3000`,
    /// only the host name counts), or `*` for any origin.
    #[must_use]
    pub fn parse(spec: &str) -> Self {
        let mut cors = Self::default();
        for item in spec
            .split([',', ' '])
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            if item == "*" {
                return Self {
                    any: true,
                    hosts: Vec::new(),
                };
            }
            match host_name(strip_scheme(item)) {
                Some(host) if !host.contains('*') => cors.hosts.push(host),
                _ => log::warn!("[cors] invalid CORS origin {item:?}, ignoring"),
            }
        }
        cors
    }

    /// Whether cross-origin requests are configured at all (enables the open preflight).
    #[must_use]
    pub fn is_configured(&self) -> bool {
        self.any || !self.hosts.is_empty()
    }

    /// Whether a request from `origin` to a server reached as `host` may proceed.
    pub(crate) fn allows(&self, origin: &str, host: Option<&str>) -> bool {
        let origin_host = strip_scheme(origin).split('/').next().unwrap_or_default();
        if origin_host.is_empty() {
            return self.any;
        }
        if host.is_some_and(|h| h.eq_ignore_ascii_case(origin_host)) || self.any {
            return true;
        }
        host_name(origin_host).is_some_and(|name| self.hosts.contains(&name))
    }
}

fn strip_scheme(origin: &str) -> &str {
    origin.split_once("://").map_or(origin, |(_, rest)| rest)
}

/// The host name of `host[:port]` or `[v6]:port`, lower case; `None` when empty.
fn host_name(authority: &str) -> Option<String> {
    let authority = authority.split('/').next().unwrap_or_default();
    let name = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    };
    (!name.is_empty()).then(|| name.to_ascii_lowercase())
}

/// The user a request authenticates as with Basic auth, if its credentials are valid.
pub(crate) fn basic_user(request: &Request, verifier: &Verifier) -> Option<String> {
    let value = request.header("Authorization")?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD.decode(encoded.trim()).ok()?;
    let colon = decoded.iter().position(|&b| b == b':')?;
    let user = std::str::from_utf8(&decoded[..colon]).ok()?;
    verifier
        .verify(user, &decoded[colon + 1..])
        .then(|| user.to_owned())
}

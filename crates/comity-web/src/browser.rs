//! What protects a browser user of the node, on every route (API, pages, federation):
//!
//! - [`origin_guard`]: a state-changing request that carries the session cookie must come
//!   from a page of this node (its `Origin` names this node, or, without `Origin`,
//!   `Sec-Fetch-Site: same-origin`). `SameSite=Strict` alone lets any same-site origin
//!   (a sibling intranet host, another port on the same machine) act for the user.
//!   Bearer tokens are never sent by a browser on its own, so they pass.
//! - [`security_headers`]: a strict Content-Security-Policy (no script at all; the one
//!   inline stylesheet allowed by its hash), no framing, `nosniff`, no referrer to
//!   other sites, no caching of anything but the public OpenAPI document, and HSTS when the node is
//!   reached over HTTPS.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::WebError;
use comity_http::ApiError;
use comity_http::extract::{SESSION_COOKIE, bearer_token, cookie_value};

/// What the guards need to know about the node, computed once at start.
#[derive(Debug, Clone)]
pub struct BrowserPolicy {
    /// The node's public origin (`https://host:port`), accepted beside the `Host` header
    /// so that a node behind a reverse proxy recognises its own pages.
    public_origin: Option<String>,
    /// Whether browsers reach the node over HTTPS (TLS here or at the proxy).
    https: bool,
    /// The `Content-Security-Policy` value.
    content_security_policy: HeaderValue,
}

impl BrowserPolicy {
    /// The policy for a node reached at `public_url`, whose pages carry `stylesheet` inline.
    pub fn new(public_url: &str, serves_tls: bool, stylesheet: &str) -> BrowserPolicy {
        let style_hash =
            base64::engine::general_purpose::STANDARD.encode(Sha256::digest(stylesheet));
        let csp = format!(
            "default-src 'none'; style-src 'sha256-{style_hash}'; img-src 'self'; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        );
        BrowserPolicy {
            public_origin: origin_of(public_url),
            https: serves_tls || public_url.starts_with("https://"),
            content_security_policy: HeaderValue::from_str(&csp)
                .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'")),
        }
    }

    /// Whether browsers reach the node over HTTPS (so cookies must be `Secure`).
    pub fn https(&self) -> bool {
        self.https
    }

    fn is_own_origin(&self, origin: &str, headers: &HeaderMap) -> bool {
        let origin = origin.trim_end_matches('/');
        if self
            .public_origin
            .as_deref()
            .is_some_and(|own| own.eq_ignore_ascii_case(origin))
        {
            return true;
        }
        let host = headers
            .get(header::HOST)
            .and_then(|host| host.to_str().ok());
        let origin_host = origin.split_once("://").map(|(_, host)| host);
        matches!((origin_host, host), (Some(origin_host), Some(host))
            if origin_host.eq_ignore_ascii_case(host))
    }
}

/// `scheme://host[:port]` of a URL, lower-cased; `None` if it is not an http(s) URL.
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    if !matches!(scheme, "http" | "https") {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next()?;
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    Some(format!("{scheme}://{authority}").to_ascii_lowercase())
}

fn carries_session_cookie(headers: &HeaderMap) -> bool {
    cookie_value(headers, SESSION_COOKIE).is_some()
}

/// Why [`origin_guard`] refused, or `None` to let the request through.
fn cross_origin_refusal(
    policy: &BrowserPolicy,
    method: &Method,
    headers: &HeaderMap,
) -> Option<&'static str> {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return None;
    }
    if bearer_token(headers).is_some() {
        return None;
    }
    let origin = headers.get(header::ORIGIN).map(|value| value.to_str());
    match origin {
        Some(Ok(origin)) if policy.is_own_origin(origin, headers) => None,
        Some(_) => Some("the request was sent from another site"),
        None if !carries_session_cookie(headers) => None,
        None => {
            let same_origin = headers
                .get("sec-fetch-site")
                .and_then(|value| value.to_str().ok())
                .is_some_and(|site| site == "same-origin");
            if same_origin {
                None
            } else {
                Some("a request made with the session cookie must say where it comes from (Origin)")
            }
        }
    }
}

/// Refuses a state-changing request that a page of another origin could have made with
/// the user's session cookie (see the module documentation).
pub async fn origin_guard(
    State(policy): State<Arc<BrowserPolicy>>,
    request: Request,
    next: Next,
) -> Response {
    let Some(reason) = cross_origin_refusal(&policy, request.method(), request.headers()) else {
        return next.run(request).await;
    };
    tracing::warn!(
        path = ?request.uri().path(),
        origin = ?request.headers().get(header::ORIGIN),
        "cross-origin request refused"
    );
    if request.uri().path().starts_with("/api/") {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "cross-origin",
            "Cross-origin request refused",
            format!("{reason}; use a bearer token, or the node's own pages"),
        )
        .into_response()
    } else {
        WebError::new(
            StatusCode::FORBIDDEN,
            "Forbidden",
            "the form was sent from another site; open the page on this node and try again",
        )
        .into_response()
    }
}

/// Adds the browser security headers to every response (see the module documentation).
pub async fn security_headers(
    State(policy): State<Arc<BrowserPolicy>>,
    request: Request,
    next: Next,
) -> Response {
    let cacheable = request.uri().path() == "/api/openapi.json";
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        policy.content_security_policy.clone(),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        // Not `no-referrer`: with it, browsers send `Origin: null` on the node's own
        // forms, and the origin guard could no longer recognise them.
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
    if !cacheable && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if policy.https {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).expect("name"),
                HeaderValue::from_str(value).expect("value"),
            );
        }
        map
    }

    fn policy() -> BrowserPolicy {
        BrowserPolicy::new("https://comity.justice.example", false, "body{}")
    }

    #[test]
    fn safe_methods_and_bearer_tokens_pass() {
        let cookie_from_elsewhere = headers(&[
            ("cookie", "comity_session=abc"),
            ("origin", "https://evil.example"),
            ("host", "node:8080"),
        ]);
        assert_eq!(
            cross_origin_refusal(&policy(), &Method::GET, &cookie_from_elsewhere),
            None
        );
        let bearer = headers(&[
            ("authorization", "Bearer token"),
            ("cookie", "comity_session=abc"),
        ]);
        assert_eq!(
            cross_origin_refusal(&policy(), &Method::POST, &bearer),
            None
        );
    }

    #[test]
    fn a_cookie_needs_an_origin_of_this_node() {
        let foreign = headers(&[
            ("cookie", "comity_session=abc"),
            ("origin", "http://127.0.0.1:8081"),
            ("host", "127.0.0.1:8080"),
        ]);
        assert!(cross_origin_refusal(&policy(), &Method::POST, &foreign).is_some());
        let missing = headers(&[("cookie", "a=b; comity_session=abc"), ("host", "x")]);
        assert!(cross_origin_refusal(&policy(), &Method::DELETE, &missing).is_some());
        let same_host = headers(&[
            ("cookie", "comity_session=abc"),
            ("origin", "http://127.0.0.1:8080"),
            ("host", "127.0.0.1:8080"),
        ]);
        assert_eq!(
            cross_origin_refusal(&policy(), &Method::POST, &same_host),
            None
        );
        let behind_proxy = headers(&[
            ("cookie", "comity_session=abc"),
            ("origin", "https://Comity.Justice.example"),
            ("host", "10.0.0.5:8080"),
        ]);
        assert_eq!(
            cross_origin_refusal(&policy(), &Method::POST, &behind_proxy),
            None
        );
        let fetch_metadata = headers(&[
            ("cookie", "comity_session=abc"),
            ("sec-fetch-site", "same-origin"),
        ]);
        assert_eq!(
            cross_origin_refusal(&policy(), &Method::POST, &fetch_metadata),
            None
        );
        let same_site = headers(&[
            ("cookie", "comity_session=abc"),
            ("sec-fetch-site", "same-site"),
        ]);
        assert!(cross_origin_refusal(&policy(), &Method::POST, &same_site).is_some());
    }

    #[test]
    fn without_credentials_only_a_foreign_origin_is_refused() {
        let plain = headers(&[("host", "x")]);
        assert_eq!(cross_origin_refusal(&policy(), &Method::POST, &plain), None);
        let login_from_elsewhere = headers(&[("origin", "https://evil.example"), ("host", "x")]);
        assert!(cross_origin_refusal(&policy(), &Method::POST, &login_from_elsewhere).is_some());
    }

    #[test]
    fn origins_are_parsed_strictly() {
        assert_eq!(
            origin_of("https://Node.example:8443/path?q"),
            Some("https://node.example:8443".into())
        );
        assert_eq!(origin_of("https://user@node.example/"), None);
        assert_eq!(origin_of("ftp://node.example"), None);
        assert_eq!(origin_of("node.example"), None);
    }
}

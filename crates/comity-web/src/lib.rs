//! The web interface: server-rendered, accessible HTML pages over the same use cases as
//! the API. No page needs JavaScript.
//!
//! - [`routes`] lists the pages; [`WebUser`] is the page extractor that sends a visitor
//!   without a session to `/login` (instead of the API's JSON 401).
//! - [`WebError`] turns a use-case error into an HTML error page with the status the API
//!   would give (it reuses [`ApiError`]'s mapping, so both agree).
//! - Cross-site request forgery and the browser security headers are handled for the
//!   whole node in [`browser`], which the node layers over every route.
//! - [`oidc`] talks to the OpenID Connect provider for single sign-on.
//! - `layout` renders the page shell and shared pieces; `legal` the legal-basis panel;
//!   `session`, `accounts`, `cases`, `requests` and `draft` hold the pages; `second_factor`
//!   and `sso` the second factor's enrolment and reset, and single sign-on;
//!   `federation_ops` the node operators' alerts, outbox and inbox.

mod accounts;
pub mod browser;
mod cases;
mod draft;
mod federation_ops;
mod layout;
mod legal;
pub mod oidc;
mod requests;
mod second_factor;
mod session;
mod sso;

use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRef, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use comity_app::{App, AppError, Principal};
use comity_http::ApiError;
use comity_http::extract::presented_token;

pub use oidc::{OidcClient, OidcConfig, SecretText};

/// What the pages reach.
#[derive(Clone, Debug)]
pub struct WebState {
    /// The use cases.
    pub app: App,
    /// The OpenID Connect provider, when single sign-on is configured.
    pub sso: Option<Arc<OidcClient>>,
    /// Whether browsers reach the node over HTTPS (it serves TLS, or its effective
    /// public URL is https): the session cookie is then `Secure`.
    pub secure_cookies: bool,
}

impl FromRef<WebState> for App {
    fn from_ref(state: &WebState) -> App {
        state.app.clone()
    }
}

/// The web routes, merged at the root of the node's router.
pub fn routes<S: Clone + Send + Sync + 'static>(state: WebState) -> Router<S> {
    pages().with_state(state)
}

fn pages() -> Router<WebState> {
    Router::new()
        .route("/", get(session::index))
        .route("/login", get(session::login_page).post(session::login))
        .route("/logout", post(session::logout))
        .route("/users", get(accounts::list).post(accounts::create))
        .route("/users/new", get(accounts::new_page))
        .route(
            "/users/{user_id}",
            get(accounts::show).post(accounts::update),
        )
        .route(
            "/users/{user_id}/password-reset",
            post(accounts::reset_password),
        )
        .route(
            "/users/{user_id}/sessions/revoke",
            post(accounts::revoke_sessions),
        )
        .route(
            "/users/{user_id}/sessions/{session_id}/revoke",
            post(accounts::revoke_session),
        )
        .route(
            "/account/password",
            get(accounts::password_page).post(accounts::change_password),
        )
        .route("/cases", get(cases::list).post(cases::create))
        .route("/cases/{case_id}", get(cases::show))
        .route(
            "/cases/{case_id}/requests/new",
            get(draft::new_page).post(draft::create),
        )
        .route("/requests", get(requests::list))
        .route("/requests/{request_id}", get(requests::show))
        .route(
            "/requests/{request_id}/edit",
            get(draft::edit_page).post(draft::update),
        )
        .route(
            "/requests/{request_id}/transitions",
            post(requests::transition),
        )
        .route("/requests/{request_id}/letter", get(requests::letter))
        .merge(second_factor::routes())
        .merge(sso::routes())
        .merge(federation_ops::routes())
}

pub use layout::STYLESHEET;

/// The logged-in user of a page, with the session token the browser presented.
#[derive(Debug, Clone)]
pub struct WebUser {
    /// Who is logged in.
    pub principal: Principal,
}

impl FromRequestParts<WebState> for WebUser {
    type Rejection = WebError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &WebState,
    ) -> Result<Self, Self::Rejection> {
        let token = session_token(parts)?;
        let principal = state.app.authenticate(&token).await?;
        Ok(WebUser { principal })
    }
}

/// The session token of a page request; without one the visitor is sent to log in.
pub(crate) fn session_token(parts: &Parts) -> Result<String, WebError> {
    presented_token(parts).ok_or_else(WebError::login_required)
}

/// An error on its way to the browser, as an HTML page.
#[derive(Debug)]
pub struct WebError {
    status: StatusCode,
    title: String,
    detail: String,
    /// Where to send the browser instead of showing the page.
    redirect: Option<&'static str>,
}

impl WebError {
    /// An error page with this status, title and detail.
    pub fn new(status: StatusCode, title: impl Into<String>, detail: impl Into<String>) -> Self {
        WebError {
            status,
            title: title.into(),
            detail: detail.into(),
            redirect: None,
        }
    }

    /// The visitor must log in: answered with a redirect to the login page.
    pub fn login_required() -> Self {
        WebError::new(
            StatusCode::UNAUTHORIZED,
            "Authentication required",
            "log in to continue",
        )
    }

    /// The status code.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// What went wrong, for people.
    pub fn detail(&self) -> &str {
        &self.detail
    }
}

impl From<AppError> for WebError {
    fn from(error: AppError) -> Self {
        // A session that may only enrol a second factor is sent to the enrolment page,
        // one that must change its password to the password page.
        let redirect = match &error {
            AppError::EnrolmentRequired { .. } => Some(second_factor::ENROLMENT_PAGE),
            AppError::PasswordChangeRequired => Some("/account/password"),
            _ => None,
        };
        let api = ApiError::from(error);
        let problem = api.problem();
        WebError {
            redirect,
            ..WebError::new(api.status(), problem.title, problem.detail)
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        if let Some(location) = self.redirect {
            return Redirect::to(location).into_response();
        }
        if self.status == StatusCode::UNAUTHORIZED {
            return Redirect::to("/login").into_response();
        }
        let page = layout::error_page(self.status, &self.title, &self.detail);
        (self.status, page).into_response()
    }
}

/// Form fields as posted (`application/x-www-form-urlencoded`), in order, repeated names
/// kept (checkbox groups). A malformed body is an HTML 400, not a plain-text one.
#[derive(Debug, Clone, Default)]
pub struct FormFields(pub Vec<(String, String)>);

impl FormFields {
    /// The first value of `name`, or "".
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
            .unwrap_or_default()
    }

    /// Whether `name` was sent at all.
    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(key, _)| key == name)
    }

    /// Every value of `name`.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
            .collect()
    }
}

impl<S: Send + Sync> FromRequest<S> for FormFields {
    type Rejection = WebError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Form::<Vec<(String, String)>>::from_request(request, state).await {
            Ok(axum::Form(fields)) => Ok(FormFields(fields)),
            Err(rejection) => Err(WebError::new(
                rejection.status(),
                "Bad form",
                rejection.body_text(),
            )),
        }
    }
}

/// The node's fallback for unknown paths: an HTML 404 page for a browser (a client that
/// accepts `text/html`), the API's problem document for everyone else.
pub async fn not_found(headers: axum::http::HeaderMap) -> Response {
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    if wants_html {
        WebError::new(
            StatusCode::NOT_FOUND,
            "Page not found",
            "there is no page at this address; check the link or start from your requests",
        )
        .into_response()
    } else {
        ApiError::no_route().into_response()
    }
}

/// A 303 redirect: after a POST, the browser GETs the target.
pub(crate) fn see_other(location: &str) -> Response {
    Redirect::to(location).into_response()
}

/// Percent-encodes a path segment (ids are UUIDs, but nothing is assumed).
pub(crate) fn path_segment(value: &str) -> String {
    let mut encoded = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// Middleware: a web page whose decoded path holds a control character names nothing. It
/// is answered 404 before any handler runs, so no such segment reaches the database
/// (PostgreSQL refuses NUL in text). API routes do the same in [`comity_http::extract::ApiPath`], which names
/// the parameter in the problem.
pub async fn refuse_control_characters_in_path(
    request: Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let path = request.uri().path();
    let decoded = percent_encoding::percent_decode_str(path).decode_utf8_lossy();
    if !path.starts_with("/api/") && decoded.chars().any(char::is_control) {
        return not_found(request.headers().clone()).await;
    }
    next.run(request).await
}

//! Single sign-on in the browser: `GET /login/oidc` starts an OpenID Connect log-in
//! (state, nonce and PKCE kept by the node; the state also in a short-lived cookie that
//! binds the log-in to this browser) and sends the browser to the provider;
//! `GET /login/oidc/callback` checks the state, exchanges the code, verifies the ID token
//! and opens the normal session cookie.

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use comity_app::AppError;
use maud::{Markup, html};
use serde::Deserialize;

use super::layout;
use super::see_other;
use crate::WebState;

/// The cookie that holds the `state` of a log-in under way.
const STATE_COOKIE: &str = "comity_oidc_state";

/// The single sign-on routes.
pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/login/oidc", get(start))
        .route("/login/oidc/callback", get(callback))
}

/// The "Log in with <provider>" button under the log-in form, when configured.
pub fn login_button(state: &WebState) -> Markup {
    html! {
        @if let Some(sso) = &state.sso {
            p { "Or:" }
            p { a.button href="/login/oidc" id="login-oidc" { "Log in with " (sso.provider_name) } }
        }
    }
}

fn failure(status: StatusCode, detail: &str) -> Response {
    let mut response = (
        status,
        layout::page(
            "Single sign-on failed",
            None,
            layout::Section::None,
            html! {
                h1 { "Single sign-on failed" }
                p role="alert" { (detail) }
                p { a href="/login" { "Back to log in" } }
            },
        ),
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(&format!(
        "{STATE_COOKIE}=; HttpOnly; SameSite=Lax; Path=/login/oidc; Max-Age=0"
    )) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

fn app_failure(error: AppError) -> Response {
    match error {
        AppError::Unauthenticated(detail) => failure(StatusCode::UNAUTHORIZED, &detail),
        AppError::Forbidden(detail) => failure(StatusCode::FORBIDDEN, &detail),
        AppError::Conflict(detail) => failure(StatusCode::CONFLICT, &detail),
        other => super::WebError::from(other).into_response(),
    }
}

fn secure(state: &WebState) -> &'static str {
    if state.secure_cookies { "; Secure" } else { "" }
}

/// `GET /login/oidc`: to the provider.
async fn start(State(state): State<WebState>) -> Response {
    let Some(sso) = state.sso.clone() else {
        return failure(
            StatusCode::NOT_FOUND,
            "single sign-on is not configured on this node",
        );
    };
    let start = match state.app.sso_begin().await {
        Ok(start) => start,
        Err(error) => return app_failure(error),
    };
    let location = match sso.authorization_url(&start).await {
        Ok(location) => location,
        Err(error) => return app_failure(error),
    };
    let mut response = see_other(&location);
    let cookie = format!(
        "{STATE_COOKIE}={}; HttpOnly; SameSite=Lax; Path=/login/oidc; Max-Age={}{}",
        start.state,
        comity_app::sso::SSO_LOGIN_TTL_MS / 1000,
        secure(&state)
    );
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// What the provider sends back.
#[derive(Debug, Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    iss: Option<String>,
    error: Option<String>,
}

fn state_cookie(headers: &HeaderMap) -> Option<String> {
    comity_http::extract::cookie_value(headers, STATE_COOKIE)
}

fn same_text(left: &str, right: &str) -> bool {
    left.len() == right.len()
        && left
            .bytes()
            .zip(right.bytes())
            .fold(0u8, |difference, (a, b)| difference | (a ^ b))
            == 0
}

/// `GET /login/oidc/callback`: checks everything, then opens the session.
async fn callback(
    State(state): State<WebState>,
    headers: HeaderMap,
    query: Result<Query<CallbackQuery>, QueryRejection>,
) -> Response {
    let Some(sso) = state.sso.clone() else {
        return failure(
            StatusCode::NOT_FOUND,
            "single sign-on is not configured on this node",
        );
    };
    let Ok(Query(query)) = query else {
        return failure(
            StatusCode::BAD_REQUEST,
            "the identity provider's answer is malformed",
        );
    };
    if let Some(error) = &query.error {
        tracing::info!(%error, "the identity provider did not log the user in");
        return failure(
            StatusCode::UNAUTHORIZED,
            "the identity provider did not log you in; try again",
        );
    }
    let (Some(returned_state), Some(code)) = (query.state.as_deref(), query.code.as_deref()) else {
        return failure(
            StatusCode::BAD_REQUEST,
            "the identity provider's answer lacks `code` or `state`",
        );
    };
    let bound = state_cookie(&headers).is_some_and(|cookie| same_text(&cookie, returned_state));
    if !bound {
        return failure(
            StatusCode::BAD_REQUEST,
            "this log-in was not started in this browser (state mismatch); start again",
        );
    }
    if let Some(issuer) = &query.iss
        && issuer != &sso.mapping.issuer
    {
        return failure(
            StatusCode::BAD_REQUEST,
            "the answer comes from another identity provider",
        );
    }
    let pending = match state.app.sso_take_login(returned_state).await {
        Ok(pending) => pending,
        Err(error) => return app_failure(error),
    };
    let outcome = async {
        let id_token = sso.exchange_code(code, &pending.pkce_verifier).await?;
        let keys = sso.keys().await?;
        let claims = comity_app::sso::verify_id_token(
            &id_token,
            &keys,
            &sso.mapping,
            &pending.nonce,
            state.app.now(),
        )?;
        state.app.sso_complete(&sso.mapping, &claims).await
    }
    .await;
    let session = match outcome {
        Ok(session) => session,
        Err(error) => return app_failure(error),
    };
    let cookie = match super::session::session_cookie(&state, &session) {
        Ok(cookie) => cookie,
        Err(error) => return error.into_response(),
    };
    // A page, not a redirect: the session cookie is SameSite=Strict, and browsers do not
    // send it on a redirect chain that began at the provider's site.
    let mut response = (
        [(header::CACHE_CONTROL, "no-store")],
        layout::page(
            "Logged in",
            None,
            layout::Section::None,
            html! {
                h1 { "Logged in" }
                p { "You are logged in as " strong dir="auto" { (session.user.display_name) } "." }
                p { a href="/requests" id="continue" { "Continue to your requests" } }
            },
        ),
    )
        .into_response();
    response.headers_mut().append(header::SET_COOKIE, cookie);
    if let Ok(value) = HeaderValue::from_str(&format!(
        "{STATE_COOKIE}=; HttpOnly; SameSite=Lax; Path=/login/oidc; Max-Age=0"
    )) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

//! Logging in and out: the session cookie (`HttpOnly; SameSite=Strict; Path=/`) holds
//! the token `App::login` issues; the server keeps only its hash.

use axum::extract::State;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use comity_app::AppError;
use maud::{Markup, html};

use super::layout::{self, FormProblem, Section};
use super::{FormFields, WebError, see_other};
use crate::WebState;
use comity_http::extract::ClientAddress;
use comity_http::extract::{SESSION_COOKIE, presented_token};

/// `GET /`: a logged-in user's landing page (see [`landing_page`]), otherwise the login
/// page.
pub async fn index(State(state): State<WebState>, parts: Parts) -> Response {
    let Some(token) = presented_token(&parts) else {
        return see_other("/login");
    };
    match state.app.authenticate_for_password_change(&token).await {
        Ok(principal) => see_other(landing_page(
            principal.roles(),
            principal.must_change_password(),
        )),
        Err(_) => see_other("/login"),
    }
}

/// Where a user starts: the password page when it must be changed, the requests for
/// those who read them, the user list for administrators, else their password page.
pub fn landing_page(roles: &[comity_domain::Role], must_change_password: bool) -> &'static str {
    if must_change_password {
        "/account/password"
    } else if roles.iter().any(|role| role.may_read_requests()) {
        "/requests"
    } else if roles.contains(&comity_domain::Role::Administrator) {
        "/users"
    } else {
        "/account/password"
    }
}

/// `GET /login`.
pub async fn login_page(State(state): State<WebState>) -> Markup {
    login_form(&state, "", None)
}

/// `POST /login`: on success sets the session cookie and goes to the requests.
pub async fn login(
    State(state): State<WebState>,
    ClientAddress(address): ClientAddress,
    fields: FormFields,
) -> Result<Response, WebError> {
    let username = fields.get("username").trim().to_string();
    let password = fields.get("password");
    if username.is_empty() || password.is_empty() {
        let problem = if username.is_empty() {
            FormProblem::new("username", "enter your user name")
        } else {
            FormProblem::new("password", "enter your password")
        };
        return Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            login_form(&state, &username, Some(&problem)),
        )
            .into_response());
    }
    let second_factor = super::second_factor::proof_from_field(fields.get("code"));
    match state
        .app
        .login(&username, password, &second_factor, address)
        .await
    {
        Ok(session) => {
            let mut response = see_other(landing_page(
                &session.user.roles,
                session.user.must_change_password,
            ));
            response
                .headers_mut()
                .insert(header::SET_COOKIE, session_cookie(&state, &session)?);
            Ok(response)
        }
        Err(AppError::Unauthenticated(message)) => {
            let problem = FormProblem::new("username", message);
            Ok((
                StatusCode::UNAUTHORIZED,
                login_form(&state, &username, Some(&problem)),
            )
                .into_response())
        }
        Err(AppError::SecondFactorRequired(_) | AppError::SecondFactorRejected { .. }) => {
            let problem = FormProblem::new(
                "code",
                "enter the 6-digit code from your authenticator app (or a recovery code), and your password again",
            );
            Ok((
                StatusCode::UNAUTHORIZED,
                login_form(&state, &username, Some(&problem)),
            )
                .into_response())
        }
        Err(AppError::Throttled {
            retry_after_secs,
            message,
        }) => {
            let problem = FormProblem::new("username", message);
            let mut response = (
                StatusCode::TOO_MANY_REQUESTS,
                login_form(&state, &username, Some(&problem)),
            )
                .into_response();
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            Ok(response)
        }
        Err(other) => Err(other.into()),
    }
}

/// The `Set-Cookie` value that carries a new session (password or single sign-on).
pub(super) fn session_cookie(
    state: &WebState,
    session: &comity_app::auth::NewSession,
) -> Result<HeaderValue, WebError> {
    let secure = state.secure_cookies;
    let max_age = (session.expires_at.millis() - state.app.now().millis()) / 1000;
    let cookie = format!(
        "{SESSION_COOKIE}={}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{}",
        session.token,
        max_age.max(0),
        if secure { "; Secure" } else { "" }
    );
    HeaderValue::from_str(&cookie).map_err(|_| {
        WebError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Login failed",
            "the session could not be stored in a cookie",
        )
    })
}

/// `POST /logout`: ends the session and clears the cookie.
pub async fn logout(State(state): State<WebState>, parts: Parts) -> Result<Response, WebError> {
    if let Some(token) = presented_token(&parts) {
        state.app.logout(&token).await?;
    }
    let mut response = see_other("/login");
    let cleared = format!(
        "{SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0{}",
        if state.secure_cookies { "; Secure" } else { "" }
    );
    if let Ok(value) = HeaderValue::from_str(&cleared) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    Ok(response)
}

fn login_form(state: &WebState, username: &str, problem: Option<&FormProblem>) -> Markup {
    let password_error = FormProblem::for_field(problem, "password");
    layout::page(
        "Log in",
        None,
        Section::None,
        html! {
            h1 { "Log in" }
            (layout::error_summary(problem))
            form method="post" action="/login" novalidate {
                (layout::text_input("username", "User name", username, None, problem, "text"))
                label for="password" { "Password" }
                (layout::field_error("password", password_error.as_deref()))
                input type="password" id="password" name="password" autocomplete="current-password"
                    aria-invalid=[password_error.is_some().then_some("true")]
                    aria-describedby=[layout::described_by("password", false, password_error.is_some())];
                (super::second_factor::code_input(problem))
                div { button type="submit" { "Log in" } }
            }
            (super::sso::login_button(state))
        },
    )
}

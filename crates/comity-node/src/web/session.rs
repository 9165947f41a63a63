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
use crate::AppState;
use crate::extract::{SESSION_COOKIE, presented_token};

/// `GET /`: the requests for a logged-in user, otherwise the login page.
pub async fn index(State(state): State<AppState>, parts: Parts) -> Response {
    match presented_token(&parts) {
        Some(token) if state.app.authenticate(&token).await.is_ok() => see_other("/requests"),
        _ => see_other("/login"),
    }
}

/// `GET /login`.
pub async fn login_page() -> Markup {
    login_form("", None)
}

/// `POST /login`: on success sets the session cookie and goes to the requests.
pub async fn login(
    State(state): State<AppState>,
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
            login_form(&username, Some(&problem)),
        )
            .into_response());
    }
    match state.app.login(&username, password).await {
        Ok(session) => {
            let secure = state
                .config
                .public_url
                .as_deref()
                .is_some_and(|url| url.starts_with("https://"));
            let max_age = (session.expires_at.millis() - state.app.now().millis()) / 1000;
            let cookie = format!(
                "{SESSION_COOKIE}={}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{}",
                session.token,
                max_age.max(0),
                if secure { "; Secure" } else { "" }
            );
            let mut response = see_other("/requests");
            let value = HeaderValue::from_str(&cookie).map_err(|_| {
                WebError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Login failed",
                    "the session could not be stored in a cookie",
                )
            })?;
            response.headers_mut().insert(header::SET_COOKIE, value);
            Ok(response)
        }
        Err(AppError::Unauthenticated(message)) => {
            let problem = FormProblem::new("username", message);
            Ok((
                StatusCode::UNAUTHORIZED,
                login_form(&username, Some(&problem)),
            )
                .into_response())
        }
        Err(other) => Err(other.into()),
    }
}

/// `POST /logout`: ends the session and clears the cookie.
pub async fn logout(State(state): State<AppState>, parts: Parts) -> Result<Response, WebError> {
    if let Some(token) = presented_token(&parts) {
        state.app.logout(&token).await?;
    }
    let mut response = see_other("/login");
    let cleared = format!("{SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
    if let Ok(value) = HeaderValue::from_str(&cleared) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    Ok(response)
}

fn login_form(username: &str, problem: Option<&FormProblem>) -> Markup {
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
                div { button type="submit" { "Log in" } }
            }
        },
    )
}

//! The second factor in the browser: the enrolment page (a session whose role requires a
//! second factor and has none is sent here and can do nothing else), confirmation with
//! the recovery codes shown once, the code field on the log-in form, and the
//! administrator's reset page.

use axum::Router;
use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use comity_app::second_factor::SecondFactorProof;
use comity_app::{AppError, Principal};
use maud::{Markup, html};

use super::layout::{self, FormProblem, Section};
use super::{FormFields, WebError};
use crate::WebState;

/// Where a session that must enrol is sent.
pub const ENROLMENT_PAGE: &str = "/second-factor";

/// The second-factor pages.
pub fn routes() -> Router<WebState> {
    Router::new()
        .route(ENROLMENT_PAGE, get(status_page))
        .route("/second-factor/enrol", axum::routing::post(enrol))
        .route("/second-factor/confirm", axum::routing::post(confirm))
        .route("/admin/second-factor", get(reset_page).post(reset))
}

/// The code typed on the log-in form: six digits are a TOTP code, anything else a
/// recovery code, nothing is nothing.
pub fn proof_from_field(code: &str) -> SecondFactorProof {
    let code = code.trim();
    let digits: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.is_empty() {
        SecondFactorProof::default()
    } else if digits.len() == 6 && digits.chars().all(|c| c.is_ascii_digit()) {
        SecondFactorProof {
            totp_code: Some(digits),
            recovery_code: None,
        }
    } else {
        SecondFactorProof {
            totp_code: None,
            recovery_code: Some(code.to_string()),
        }
    }
}

/// The optional code field of the log-in form.
pub fn code_input(problem: Option<&FormProblem>) -> Markup {
    layout::text_input(
        "code",
        "Authentication code",
        "",
        Some(
            "Only if you have set up a second factor: the 6 digits your authenticator app shows, or a recovery code.",
        ),
        problem,
        "text",
    )
}

/// A logged-in user who may be limited to enrolling.
struct WebEnrolling(Principal);

impl FromRequestParts<WebState> for WebEnrolling {
    type Rejection = WebError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &WebState,
    ) -> Result<Self, Self::Rejection> {
        let token = super::session_token(parts)?;
        Ok(WebEnrolling(
            state.app.authenticate_for_enrolment(&token).await?,
        ))
    }
}

fn second_factor_page(principal: &Principal, body: Markup) -> Markup {
    layout::page("Second factor", Some(principal), Section::None, body)
}

/// `GET /second-factor`: where the user stands, and the button to set one up.
async fn status_page(
    State(state): State<WebState>,
    WebEnrolling(principal): WebEnrolling,
) -> Result<Markup, WebError> {
    let status = state.app.second_factor_status(&principal).await?;
    Ok(second_factor_page(
        &principal,
        html! {
            h1 { "Second factor" }
            @if principal.has(comity_domain::Role::Administrator) {
                p { a href="/admin/second-factor" { "Reset another user's second factor" } }
            }
            @if status.enrolled {
                p { "Your authenticator app is set up. You have " (status.recovery_codes_left) " unused recovery codes." }
                p { "To replace the app, ask an administrator to reset your second factor." }
                p { a href="/requests" { "Go to your requests" } }
            } @else {
                @if status.required {
                    p role="alert" { "Your role requires a second factor. Set up an authenticator app before you continue." }
                }
                p { "You will need an authenticator app (TOTP) on a device you keep with you." }
                form method="post" action="/second-factor/enrol" {
                    div { button type="submit" { "Set up an authenticator app" } }
                }
            }
        },
    ))
}

fn confirm_form(problem: Option<&FormProblem>) -> Markup {
    html! {
        form method="post" action="/second-factor/confirm" novalidate {
            (layout::text_input("code", "Code from the app", "", Some("The 6 digits the app shows now."), problem, "text"))
            div { button type="submit" { "Confirm" } }
        }
    }
}

/// `POST /second-factor/enrol`: shows the new secret and asks for a code.
async fn enrol(
    State(state): State<WebState>,
    WebEnrolling(principal): WebEnrolling,
) -> Result<Response, WebError> {
    let enrolment = state.app.begin_enrolment(&principal).await?;
    let page = second_factor_page(
        &principal,
        html! {
            h1 { "Set up your authenticator app" }
            p { "Add this account to your authenticator app, with the link or by typing the key. Nobody else should see this page." }
            h2 { "Link" }
            p { a href=(enrolment.otpauth_uri) id="otpauth-uri" { (enrolment.otpauth_uri) } }
            h2 { "Key" }
            p { code id="secret" { (enrolment.secret_base32) } }
            p.hint { "Time-based, SHA-1, 6 digits, every 30 seconds." }
            h2 { "Confirm" }
            (confirm_form(None))
        },
    );
    Ok(([(axum::http::header::CACHE_CONTROL, "no-store")], page).into_response())
}

/// `POST /second-factor/confirm`: on a valid code, shows the recovery codes once.
async fn confirm(
    State(state): State<WebState>,
    WebEnrolling(principal): WebEnrolling,
    fields: FormFields,
) -> Result<Response, WebError> {
    match state
        .app
        .confirm_enrolment(&principal, fields.get("code"))
        .await
    {
        Ok(codes) => {
            let page = second_factor_page(
                &principal,
                html! {
                    h1 { "Your second factor is set up" }
                    p { "Keep these recovery codes somewhere safe. Each works once, instead of a code from the app, if you lose your device. They are shown only now." }
                    ul id="recovery-codes" {
                        @for code in &codes { li { code { (code) } } }
                    }
                    p { a href="/requests" { "Continue to your requests" } }
                },
            );
            Ok(([(axum::http::header::CACHE_CONTROL, "no-store")], page).into_response())
        }
        Err(AppError::Invalid { message, .. }) => {
            let problem = FormProblem::new("code", message);
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                second_factor_page(
                    &principal,
                    html! {
                        h1 { "Confirm your authenticator app" }
                        (layout::error_summary(Some(&problem)))
                        (confirm_form(Some(&problem)))
                        p { "Lost the key? " a href=(ENROLMENT_PAGE) { "Start again" } }
                    },
                ),
            )
                .into_response())
        }
        Err(other) => Err(other.into()),
    }
}

fn reset_form(principal: &Principal, problem: Option<&FormProblem>, done: Option<&str>) -> Markup {
    layout::page(
        "Reset a second factor",
        Some(principal),
        Section::None,
        html! {
            h1 { "Reset a user's second factor" }
            @if let Some(username) = done {
                p role="status" { "The second factor of " strong dir="auto" { (username) } " was reset and their sessions ended. They set up a new one at their next log-in." }
            }
            (layout::error_summary(problem))
            p { "Use this when a user has lost their authenticator app and their recovery codes." }
            form method="post" action="/admin/second-factor" novalidate {
                (layout::text_input("username", "User name", "", None, problem, "text"))
                div { button type="submit" { "Reset second factor" } }
            }
        },
    )
}

/// `GET /admin/second-factor` (administrators).
async fn reset_page(super::WebUser { principal }: super::WebUser) -> Result<Markup, WebError> {
    principal.require_any(
        &[comity_domain::Role::Administrator],
        "reset a second factor",
    )?;
    Ok(reset_form(&principal, None, None))
}

/// `POST /admin/second-factor` (administrators).
async fn reset(
    State(state): State<WebState>,
    super::WebUser { principal }: super::WebUser,
    fields: FormFields,
) -> Result<Response, WebError> {
    let username = fields.get("username").trim().to_string();
    match state.app.reset_second_factor(&principal, &username).await {
        Ok(()) => Ok(reset_form(&principal, None, Some(&username)).into_response()),
        Err(AppError::NotFound(what)) => {
            let problem =
                FormProblem::new("username", format!("{what} not found in your authority"));
            Ok((
                StatusCode::NOT_FOUND,
                reset_form(&principal, Some(&problem), None),
            )
                .into_response())
        }
        Err(other) => Err(other.into()),
    }
}

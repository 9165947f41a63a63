//! The second factor over the API: the caller's status, enrolment and confirmation
//! under `/api/v1/me/second-factor`, and an administrator's reset of a user's factor.
//! The enrolment endpoints also serve a session that may only enrol.

use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use comity_app::Principal;
use comity_wire::second_factor::{
    ConfirmEnrolmentInput, EnrolmentView, RecoveryCodesView, SecondFactorStatusView,
};

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, Authenticated};

/// The second-factor routes, nested under `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/me/second-factor", get(status).post(enrol))
        .route("/me/second-factor/confirm", post(confirm))
        .route("/users/{username}/second-factor", delete(reset))
}

/// The caller of an enrolment endpoint: any valid session, including one that may only
/// enrol.
#[derive(Debug, Clone)]
pub struct Enrolling(pub Principal);

impl FromRequestParts<AppState> for Enrolling {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = crate::extract::api_session_token(parts)?;
        Ok(Enrolling(
            state.app.authenticate_for_enrolment(&token).await?,
        ))
    }
}

/// The caller's second factor: required, enrolled, pending, recovery codes left.
#[utoipa::path(get, path = "/api/v1/me/second-factor",
    responses((status = 200, body = SecondFactorStatusView),
        (status = 401, body = comity_wire::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn status(
    State(state): State<AppState>,
    Enrolling(principal): Enrolling,
) -> Result<Json<SecondFactorStatusView>, ApiError> {
    let status = state.app.second_factor_status(&principal).await?;
    Ok(Json(SecondFactorStatusView {
        required: status.required,
        enrolled: status.enrolled,
        pending: status.pending,
        recovery_codes_left: status.recovery_codes_left,
    }))
}

/// Start enrolling a TOTP factor: returns the secret (base32 and `otpauth://` URI),
/// which takes effect once confirmed with a code. Replaces an unconfirmed enrolment.
#[utoipa::path(post, path = "/api/v1/me/second-factor",
    responses((status = 201, body = EnrolmentView),
        (status = 401, body = comity_wire::Problem, content_type = "application/problem+json"),
        (status = 409, description = "a confirmed factor exists; an administrator resets it first", body = comity_wire::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn enrol(
    State(state): State<AppState>,
    Enrolling(principal): Enrolling,
) -> Result<(StatusCode, Json<EnrolmentView>), ApiError> {
    let enrolment = state.app.begin_enrolment(&principal).await?;
    Ok((
        StatusCode::CREATED,
        Json(EnrolmentView {
            secret: enrolment.secret_base32.clone(),
            otpauth_uri: enrolment.otpauth_uri.clone(),
        }),
    ))
}

/// Confirm the enrolment with the code the app shows now; returns the recovery codes,
/// shown this once.
#[utoipa::path(post, path = "/api/v1/me/second-factor/confirm", request_body = ConfirmEnrolmentInput,
    responses((status = 200, body = RecoveryCodesView),
        (status = 401, body = comity_wire::Problem, content_type = "application/problem+json"),
        (status = 409, description = "no enrolment waits for a code", body = comity_wire::Problem, content_type = "application/problem+json"),
        (status = 422, description = "the code is malformed, wrong or used already (field `code`)", body = comity_wire::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn confirm(
    State(state): State<AppState>,
    Enrolling(principal): Enrolling,
    ApiJson(input): ApiJson<ConfirmEnrolmentInput>,
) -> Result<Json<RecoveryCodesView>, ApiError> {
    let recovery_codes = state.app.confirm_enrolment(&principal, &input.code).await?;
    Ok(Json(RecoveryCodesView { recovery_codes }))
}

/// Reset a user's second factor (administrators of the user's authority): the factor
/// and recovery codes are removed and the user's sessions end; the user enrols again at
/// the next log-in.
#[utoipa::path(delete, path = "/api/v1/users/{username}/second-factor",
    params(("username" = String, Path, description = "the user's log-in name")),
    responses((status = 204),
        (status = 401, body = comity_wire::Problem, content_type = "application/problem+json"),
        (status = 403, body = comity_wire::Problem, content_type = "application/problem+json"),
        (status = 404, body = comity_wire::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn reset(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Path(username): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.app.reset_second_factor(&principal, &username).await?;
    Ok(StatusCode::NO_CONTENT)
}

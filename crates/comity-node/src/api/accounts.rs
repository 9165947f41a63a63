//! Accounts over the API: log-in and out, who am I, one's own password, and what
//! administrators do with the users of their own authority (create, list, edit, disable,
//! reset a password, list and revoke sessions).

use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use comity_app::auth::UserPatch;
use comity_wire::Problem;
use comity_wire::accounts::{
    PasswordChangeInput, PasswordResetInput, RevokedView, SessionInfoView, UserPatchInput,
};
use comity_wire::api::{LoginInput, SessionView, UserInput, UserView};

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, Authenticated, ClientAddress};
use crate::views;

/// The account routes, under `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/sessions", post(login))
        .route("/sessions/current", delete(logout))
        .route("/me", get(me))
        .route("/me/password", put(change_own_password))
        .route("/users", get(list_users).post(create_user))
        .route("/users/{user_id}", get(get_user).patch(update_user))
        .route("/users/{user_id}/password-reset", post(reset_password))
        .route(
            "/users/{user_id}/sessions",
            get(user_sessions).delete(revoke_sessions),
        )
        .route(
            "/users/{user_id}/sessions/{session_id}",
            delete(revoke_session),
        )
}

/// The caller, also when their password was reset and must be changed.
#[derive(Debug, Clone)]
pub struct MaybeMustChange(pub comity_app::Principal);

impl FromRequestParts<AppState> for MaybeMustChange {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = crate::extract::api_session_token(parts)?;
        Ok(MaybeMustChange(
            state.app.authenticate_for_password_change(&token).await?,
        ))
    }
}

/// Log in; returns a bearer token. Repeated failures for one account or from one
/// address are answered with 429 and `Retry-After` for a growing time.
#[utoipa::path(post, path = "/api/v1/sessions", request_body = LoginInput,
    responses(
        (status = 201, body = SessionView),
        (status = 400, body = Problem, content_type = "application/problem+json", description = "malformed JSON"),
        (status = 401, body = Problem, content_type = "application/problem+json", description = "unknown user name or wrong password; or the account uses a second factor and `totp_code`/`recovery_code` is missing (`second-factor-required`) or refused (`second-factor-rejected`)"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "a field is missing or has the wrong type"),
        (status = 429, body = Problem, content_type = "application/problem+json", description = "too many failed log-ins; see the Retry-After header",
            headers(("Retry-After" = u64, description = "seconds to wait"))),
        (status = 503, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn login(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    ApiJson(input): ApiJson<LoginInput>,
) -> Result<(StatusCode, Json<SessionView>), ApiError> {
    let second_factor = comity_app::second_factor::SecondFactorProof {
        totp_code: input.totp_code.clone(),
        recovery_code: input.recovery_code.clone(),
    };
    let session = state
        .app
        .login(&input.username, &input.password, &second_factor, address)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(SessionView {
            token: session.token,
            expires_at: session.expires_at.to_rfc3339(),
            user: views::user_view(&session.user),
        }),
    ))
}

/// End the current session.
#[utoipa::path(delete, path = "/api/v1/sessions/current",
    responses((status = 204, description = "The session presented, if any, is ended; idempotent"),
        (status = 503, body = Problem, content_type = "application/problem+json")),
    security((), ("bearer" = [])))]
pub async fn logout(
    State(state): State<AppState>,
    parts: axum::http::request::Parts,
) -> Result<StatusCode, ApiError> {
    if let Some(token) = crate::extract::presented_token(&parts) {
        state.app.logout(&token).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Who is logged in (also answered when the password must be changed first: see
/// `must_change_password`).
#[utoipa::path(get, path = "/api/v1/me",
    responses((status = 200, body = UserView), (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 503, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn me(MaybeMustChange(principal): MaybeMustChange) -> Json<UserView> {
    Json(views::principal_view(&principal))
}

/// Change one's own password. The current password is required; the caller's other
/// sessions end. This is all a user whose password was reset may do until they have.
#[utoipa::path(put, path = "/api/v1/me/password", request_body = PasswordChangeInput,
    responses(
        (status = 204, description = "changed; other sessions ended"),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "`current_password` is wrong, or `new_password` breaks the policy"),
        (status = 429, body = Problem, content_type = "application/problem+json", description = "too many wrong current passwords",
            headers(("Retry-After" = u64, description = "seconds to wait"))),
        (status = 503, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn change_own_password(
    State(state): State<AppState>,
    MaybeMustChange(principal): MaybeMustChange,
    ApiJson(input): ApiJson<PasswordChangeInput>,
) -> Result<StatusCode, ApiError> {
    state
        .app
        .change_own_password(&principal, &input.current_password, &input.new_password)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The users of the administrator's own authority.
#[utoipa::path(get, path = "/api/v1/users",
    responses((status = 200, body = [UserView]),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "not an administrator, or the password must be changed first"),
        (status = 503, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn list_users(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
) -> Result<Json<Vec<UserView>>, ApiError> {
    let users = state.app.list_users(&principal).await?;
    Ok(Json(users.iter().map(views::user_view).collect()))
}

/// Create a user in the administrator's own authority. Only a node operator may give
/// the `node_operator` role.
#[utoipa::path(post, path = "/api/v1/users", request_body = UserInput,
    responses((status = 201, body = UserView),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "not an administrator, another authority, or node_operator given by a non-operator"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "the user name is taken"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "a field is invalid; `field` names it"),
        (status = 503, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn create_user(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    ApiJson(input): ApiJson<UserInput>,
) -> Result<(StatusCode, Json<UserView>), ApiError> {
    let user = state.app.create_user(&principal, &input).await?;
    Ok((StatusCode::CREATED, Json(views::user_view(&user))))
}

/// One user of the administrator's own authority.
#[utoipa::path(get, path = "/api/v1/users/{user_id}", params(("user_id" = String, Path)),
    responses((status = 200, body = UserView),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "no such user in the administrator's authority"),
        (status = 503, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn get_user(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Path(user_id): Path<String>,
) -> Result<Json<UserView>, ApiError> {
    let user_id: comity_domain::UserId = comity_app::ids::id_in_path(&user_id)?;
    let user = state.app.managed_user(&principal, &user_id).await?;
    Ok(Json(views::user_view(&user)))
}

/// Change a user's display name, roles, or whether the account is active (disabling
/// ends its sessions).
#[utoipa::path(patch, path = "/api/v1/users/{user_id}", params(("user_id" = String, Path)), request_body = UserPatchInput,
    responses((status = 200, body = UserView),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "no such user in the administrator's authority"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "a field is invalid; `field` names it"),
        (status = 503, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn update_user(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Path(user_id): Path<String>,
    ApiJson(input): ApiJson<UserPatchInput>,
) -> Result<Json<UserView>, ApiError> {
    let user_id: comity_domain::UserId = comity_app::ids::id_in_path(&user_id)?;
    let patch = UserPatch {
        display_name: input.display_name,
        roles: input.roles,
        active: input.active,
    };
    let user = state.app.update_user(&principal, &user_id, &patch).await?;
    Ok(Json(views::user_view(&user)))
}

/// Set a temporary password for a user; their sessions end and they must choose a new
/// password at their next log-in.
#[utoipa::path(post, path = "/api/v1/users/{user_id}/password-reset", params(("user_id" = String, Path)), request_body = PasswordResetInput,
    responses((status = 204),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "the password breaks the policy"),
        (status = 503, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn reset_password(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Path(user_id): Path<String>,
    ApiJson(input): ApiJson<PasswordResetInput>,
) -> Result<StatusCode, ApiError> {
    let user_id: comity_domain::UserId = comity_app::ids::id_in_path(&user_id)?;
    state
        .app
        .reset_password(&principal, &user_id, &input.password)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A user's live sessions (an administrator's for their authority's users; anyone's
/// for themselves).
#[utoipa::path(get, path = "/api/v1/users/{user_id}/sessions", params(("user_id" = String, Path)),
    responses((status = 200, body = [SessionInfoView]),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 503, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn user_sessions(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Path(user_id): Path<String>,
) -> Result<Json<Vec<SessionInfoView>>, ApiError> {
    let user_id: comity_domain::UserId = comity_app::ids::id_in_path(&user_id)?;
    let sessions = state.app.user_sessions(&principal, &user_id).await?;
    Ok(Json(
        sessions
            .iter()
            .map(|session| views::session_info_view(session, principal.session_id()))
            .collect(),
    ))
}

/// End every session of a user.
#[utoipa::path(delete, path = "/api/v1/users/{user_id}/sessions", params(("user_id" = String, Path)),
    responses((status = 200, body = RevokedView),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 503, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn revoke_sessions(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Path(user_id): Path<String>,
) -> Result<Json<RevokedView>, ApiError> {
    let user_id: comity_domain::UserId = comity_app::ids::id_in_path(&user_id)?;
    let revoked = state.app.revoke_sessions(&principal, &user_id).await?;
    Ok(Json(RevokedView { revoked }))
}

/// End one session of a user.
#[utoipa::path(delete, path = "/api/v1/users/{user_id}/sessions/{session_id}",
    params(("user_id" = String, Path), ("session_id" = String, Path)),
    responses((status = 204),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "no such user or session"),
        (status = 503, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn revoke_session(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Path((user_id, session_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let user_id: comity_domain::UserId = comity_app::ids::id_in_path(&user_id)?;
    state
        .app
        .revoke_session(&principal, &user_id, &session_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

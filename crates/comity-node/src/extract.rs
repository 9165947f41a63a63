//! Request extractors: JSON bodies whose rejections are problem details, and the
//! authenticated principal from a bearer token or the session cookie.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use comity_app::{AppError, Principal};
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::error::ApiError;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "comity_session";

/// A JSON body. Malformed JSON, unknown fields, wrong types and oversize bodies become
/// problem details that name what is wrong.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::JsonDataError(error) => {
            // serde_path_to_error's text names the path: "content.measures[0].kind: ...".
            let detail = std::error::Error::source(&error)
                .map(|source| source.to_string())
                .unwrap_or_else(|| error.body_text());
            let field = detail
                .split(':')
                .next()
                .unwrap_or_default()
                .trim()
                .to_string();
            let problem = ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-body",
                "Invalid body",
                detail,
            );
            if field.is_empty() || field.contains(' ') {
                problem
            } else {
                problem.with_field(field)
            }
        }
        JsonRejection::JsonSyntaxError(error) => ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed-json",
            "Malformed JSON",
            std::error::Error::source(&error)
                .map(|source| source.to_string())
                .unwrap_or_else(|| error.body_text()),
        ),
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Unsupported media type",
            "send the body as application/json",
        ),
        JsonRejection::BytesRejection(error) => {
            let status = error.status();
            if status == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    status,
                    "body-too-large",
                    "Body too large",
                    "the request body exceeds the node's limit",
                )
            } else {
                ApiError::bad_request(error.body_text())
            }
        }
        other => ApiError::bad_request(other.body_text()),
    }
}

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Principal);

/// The token of an `Authorization: Bearer` header, if there is one.
pub fn bearer_token(headers: &axum::http::HeaderMap) -> Option<String> {
    let text = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    text.strip_prefix("Bearer ")
        .map(|token| token.trim().to_string())
}

/// The token the caller presented: `Authorization: Bearer`, else the session cookie
/// (which [`crate::browser::origin_guard`] has checked came from this node's pages).
pub fn presented_token(parts: &Parts) -> Option<String> {
    if let Some(token) = bearer_token(&parts.headers) {
        return Some(token);
    }
    parts
        .headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|cookies| cookies.split(';'))
        .filter_map(|cookie| cookie.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_string())
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Some(token) = presented_token(parts) else {
            return Err(AppError::Unauthenticated(
                "send `Authorization: Bearer <token>` (POST /api/v1/sessions to get one)".into(),
            )
            .into());
        };
        Ok(Authenticated(state.app.authenticate(&token).await?))
    }
}

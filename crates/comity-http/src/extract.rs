//! Request extractors: JSON bodies, path and query parameters whose rejections are
//! problem details naming what is wrong (no control character gets past them), and the
//! authenticated principal from a bearer token or the session cookie.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRef, FromRequest, FromRequestParts, Path, RawPathParams, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use comity_app::{App, AppError, Principal};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "comity_session";

/// A JSON body. Malformed JSON, unknown fields, wrong types, control characters and
/// oversize bodies become problem details that name what is wrong.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let value = match axum::Json::<serde_json::Value>::from_request(request, state).await {
            Ok(axum::Json(value)) => value,
            Err(rejection) => return Err(json_rejection(rejection)),
        };
        // Every body of the API is an object; serde would also read a struct from an
        // array of its fields in order, which no schema describes.
        if !value.is_object() {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-body",
                "Invalid body",
                "the body must be a JSON object",
            ));
        }
        // No string of any body reaches a use case, a log or the database with a control
        // character in it (PostgreSQL refuses NUL; terminals obey escapes). Free text
        // keeps its line breaks and tabs.
        let mut path = String::new();
        if let Some(code_point) = refused_control_in(&value, &mut path) {
            return Err(invalid_field(
                &path,
                format!("control characters are not accepted (U+{code_point:04X})"),
            ));
        }
        serde_path_to_error::deserialize::<_, T>(value)
            .map(ApiJson)
            .map_err(|error| {
                let field = error.path().to_string();
                let detail = error.to_string();
                let problem = ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid-body",
                    "Invalid body",
                    detail,
                );
                if field.is_empty() || field == "." {
                    problem
                } else {
                    problem.with_field(field)
                }
            })
    }
}

/// The first refused control character in any string of `value` (keys included), with
/// `path` left naming where it is, in the API's spelling (`persons[0].location`).
fn refused_control_in(value: &serde_json::Value, path: &mut String) -> Option<u32> {
    use serde_json::Value;
    let refused = |text: &str| {
        text.chars()
            .find(|&c| comity_domain::text::is_refused_control(c))
            .map(u32::from)
    };
    match value {
        Value::String(text) => refused(text),
        Value::Array(items) => {
            let len = path.len();
            for (index, item) in items.iter().enumerate() {
                path.push_str(&format!("[{index}]"));
                if let Some(found) = refused_control_in(item, path) {
                    return Some(found);
                }
                path.truncate(len);
            }
            None
        }
        Value::Object(fields) => {
            let len = path.len();
            for (key, item) in fields {
                if !path.is_empty() {
                    path.push('.');
                }
                if let Some(found) = refused(key) {
                    return Some(found);
                }
                path.push_str(key);
                if let Some(found) = refused_control_in(item, path) {
                    return Some(found);
                }
                path.truncate(len);
            }
            None
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => None,
    }
}

/// 422 naming `field`.
fn invalid_field(field: &str, detail: String) -> ApiError {
    let problem = ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-field",
        "Invalid field",
        if field.is_empty() {
            detail
        } else {
            format!("{field}: {detail}")
        },
    );
    if field.is_empty() {
        problem
    } else {
        problem.with_field(field)
    }
}

/// Path parameters. A segment that is not UTF-8 (400) or holds a control character (404)
/// is refused with a problem naming the parameter before it reaches a use case or the
/// database.
#[derive(Debug)]
pub struct ApiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let raw = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|rejection| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid-path",
                    "Invalid path",
                    rejection.body_text(),
                )
            })?;
        // No id holds a control character: such a segment names nothing (404), and
        // never reaches the database (PostgreSQL refuses NUL in text).
        for (name, value) in &raw {
            if let Err(error) = comity_domain::text::check_identifier(value) {
                return Err(ApiError::new(
                    StatusCode::NOT_FOUND,
                    "not-found",
                    "Not found",
                    format!("{name}: no such id ({error})"),
                )
                .with_field(name));
            }
        }
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(ApiPath(value)),
            Err(rejection) => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid-path",
                "Invalid path",
                rejection.body_text(),
            )),
        }
    }
}

/// Query parameters. Unknown parameters, values of the wrong type and control characters
/// become problems naming the parameter.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).map_err(|error| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid-query",
                "Invalid query",
                error.to_string(),
            )
        })?;
        for (name, value) in &pairs {
            let checked = comity_domain::text::check_identifier(name)
                .and_then(|()| comity_domain::text::check_identifier(value));
            if let Err(error) = checked {
                return Err(invalid_field(name, error.to_string()));
            }
        }
        let deserializer =
            serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize::<_, T>(deserializer)
            .map(ApiQuery)
            .map_err(|error| {
                let field = error.path().to_string();
                let problem = ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid-query",
                    "Invalid query",
                    error.to_string(),
                );
                if field.is_empty() || field == "." {
                    problem
                } else {
                    problem.with_field(field)
                }
            })
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
    bearer_token(&parts.headers).or_else(|| cookie_value(&parts.headers, SESSION_COOKIE))
}

/// The value of the cookie `name`, if the request carries it.
pub fn cookie_value(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|cookies| cookies.split(';'))
        .filter_map(|cookie| cookie.trim().split_once('='))
        .find(|(cookie, _)| *cookie == name)
        .map(|(_, value)| value.to_string())
}

/// The token of an API call, or the problem that says how to get one.
pub fn api_session_token(parts: &Parts) -> Result<String, ApiError> {
    presented_token(parts).ok_or_else(|| {
        AppError::Unauthenticated(
            "send `Authorization: Bearer <token>` (POST /api/v1/sessions to get one)".into(),
        )
        .into()
    })
}

impl<S> FromRequestParts<S> for Authenticated
where
    App: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let token = api_session_token(parts)?;
        let app = App::from_ref(state);
        Ok(Authenticated(app.authenticate(&token).await?))
    }
}

/// The client's address as the listener saw it (for log-in throttling), if known.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddress(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddress(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|axum::extract::ConnectInfo(address)| address.ip()),
        ))
    }
}

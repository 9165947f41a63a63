//! The one place where errors become HTTP: status, problem type and body (RFC 9457).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use comity_app::AppError;
use comity_domain::TransitionError;
use comity_wire::Problem;
use comity_wire::problem::PROBLEM_CONTENT_TYPE;

/// An error on its way to the client.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    problem_type: &'static str,
    title: &'static str,
    detail: String,
    field: Option<String>,
    retry_after_secs: Option<u64>,
}

impl ApiError {
    /// A problem with the given status, type slug, title and detail.
    pub fn new(
        status: StatusCode,
        slug: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        ApiError {
            status,
            problem_type: slug,
            title,
            detail: detail.into(),
            field: None,
            retry_after_secs: None,
        }
    }

    /// Names the field at fault.
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// The status code.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// Seconds to wait before trying again, for a 429.
    pub fn retry_after_secs(&self) -> Option<u64> {
        self.retry_after_secs
    }

    /// The body.
    pub fn problem(&self) -> Problem {
        Problem {
            problem_type: format!("/problems/{}", self.problem_type),
            title: self.title.to_string(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            field: self.field.clone(),
        }
    }

    /// 400: the body is not what the endpoint accepts.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad-request",
            "Bad request",
            detail,
        )
    }

    /// 404 for a route that does not exist.
    pub fn no_route() -> Self {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not-found",
            "Not found",
            "no such endpoint",
        )
    }
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        use StatusCode as S;
        match error {
            AppError::Unauthenticated(detail) => ApiError::new(
                S::UNAUTHORIZED,
                "unauthenticated",
                "Authentication required",
                detail,
            ),
            AppError::Throttled {
                retry_after_secs,
                message,
            } => {
                let mut problem = ApiError::new(
                    S::TOO_MANY_REQUESTS,
                    "throttled",
                    "Too many attempts",
                    message,
                );
                problem.retry_after_secs = Some(retry_after_secs);
                problem
            }
            AppError::PasswordChangeRequired => ApiError::new(
                S::FORBIDDEN,
                "password-change-required",
                "Password change required",
                "your password was reset by an administrator; choose a new one with PUT /api/v1/me/password",
            ),
            AppError::Forbidden(detail) => {
                ApiError::new(S::FORBIDDEN, "forbidden", "Forbidden", detail)
            }
            AppError::NotFound(what) => ApiError::new(
                S::NOT_FOUND,
                "not-found",
                "Not found",
                format!("{what} not found"),
            ),
            AppError::Invalid { field, message } => ApiError::new(
                S::UNPROCESSABLE_ENTITY,
                "invalid-field",
                "Invalid field",
                format!("{field}: {message}"),
            )
            .with_field(field),
            AppError::Transition(transition) => transition_error(transition),
            AppError::LegalGate(detail) => ApiError::new(
                S::UNPROCESSABLE_ENTITY,
                "legal-requirements-unmet",
                "Legal requirements unmet",
                detail,
            ),
            AppError::Conflict(detail) => {
                ApiError::new(S::CONFLICT, "conflict", "Conflict", detail)
            }
            AppError::OverBudget(detail) => {
                ApiError::new(S::SERVICE_UNAVAILABLE, "over-budget", "Over budget", detail)
            }
            AppError::Catalog(cause) => {
                tracing::error!(error = %cause, "law catalog unavailable");
                ApiError::new(
                    S::INTERNAL_SERVER_ERROR,
                    "catalog-unavailable",
                    "Law catalog unavailable",
                    "the node's law catalog could not be loaded; the operator has been told",
                )
            }
            AppError::SecondFactorRequired(detail) => ApiError::new(
                S::UNAUTHORIZED,
                "second-factor-required",
                "Second factor required",
                detail,
            )
            .with_field("totp_code"),
            AppError::SecondFactorRejected { field, message } => ApiError::new(
                S::UNAUTHORIZED,
                "second-factor-rejected",
                "Second factor refused",
                format!("{field}: {message}"),
            )
            .with_field(field),
            AppError::EnrolmentRequired { .. } => ApiError::new(
                S::FORBIDDEN,
                "second-factor-enrolment-required",
                "Second factor enrolment required",
                "your role requires a second factor: set one up first (POST /api/v1/me/second-factor)",
            ),
            AppError::Store(cause) => {
                tracing::error!(error = %cause, "storage failure");
                ApiError::new(
                    S::SERVICE_UNAVAILABLE,
                    "storage-unavailable",
                    "Storage unavailable",
                    "the node could not reach its database; nothing was changed, try again",
                )
            }
        }
    }
}

fn transition_error(error: TransitionError) -> ApiError {
    use StatusCode as S;
    let detail = error.to_string();
    match error {
        TransitionError::IllegalTransition { .. } => ApiError::new(
            S::CONFLICT,
            "illegal-transition",
            "Illegal transition",
            detail,
        )
        .with_field("action"),
        TransitionError::WrongSide { .. }
        | TransitionError::RoleNotAllowed { .. }
        | TransitionError::SystemOnly { .. } => ApiError::new(
            S::FORBIDDEN,
            "transition-not-permitted",
            "Transition not permitted",
            detail,
        )
        .with_field("action"),
        TransitionError::FourEyesViolation => {
            ApiError::new(S::FORBIDDEN, "four-eyes", "Four-eyes principle", detail)
        }
        TransitionError::ReasonRequired { .. } => ApiError::new(
            S::UNPROCESSABLE_ENTITY,
            "invalid-field",
            "Invalid field",
            detail,
        )
        .with_field("reason"),
        TransitionError::GroundsRequired => ApiError::new(
            S::UNPROCESSABLE_ENTITY,
            "invalid-field",
            "Invalid field",
            detail,
        )
        .with_field("grounds"),
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self.problem()).unwrap_or_default();
        let mut response = (self.status, body).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(PROBLEM_CONTENT_TYPE),
        );
        if let Some(seconds) = self.retry_after_secs {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

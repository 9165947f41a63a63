//! The errors of the use cases. The HTTP layer maps each to one status and problem type.

use comity_domain::TransitionError;
use comity_store::StoreError;

/// Why a use case did not do what was asked. Nothing was written when one is returned.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// No valid session or token.
    #[error("authentication required: {0}")]
    Unauthenticated(String),
    /// Too many attempts: try again after the given time.
    #[error("{message}")]
    Throttled {
        /// Seconds to wait.
        retry_after_secs: u64,
        /// What to tell the user.
        message: String,
    },
    /// The user's password was reset: changing it is all they may do until they have.
    #[error("your password was reset; choose a new one before doing anything else")]
    PasswordChangeRequired,
    /// Authenticated, but the rule named here forbids it.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// Nothing of that kind with that id is visible to the caller.
    #[error("{0} not found")]
    NotFound(String),
    /// An input field holds a value that is not accepted.
    #[error("{field}: {message}")]
    Invalid {
        /// The field, in the API's spelling.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// The lifecycle does not allow this transition.
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// The legal-basis engine found blocking issues (missing mandatory content).
    #[error("the request cannot be approved: {0}")]
    LegalGate(String),
    /// Someone else changed the same thing first, or a unique name is taken.
    #[error("{0}")]
    Conflict(String),
    /// The node would not finish the work within its budget; nothing was changed.
    #[error("over budget: {0}")]
    OverBudget(String),
    /// The law catalog could not be loaded: a build or deployment defect.
    #[error("law catalog unavailable: {0}")]
    Catalog(String),
    /// The password was right, but the account uses a second factor and none was sent.
    #[error("second factor required: {0}")]
    SecondFactorRequired(String),
    /// The second factor (TOTP or recovery code) sent with a log-in was refused.
    #[error("{field}: {message}")]
    SecondFactorRejected {
        /// The field, in the API's spelling.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// The user's roles require a second factor and none is set up: the session may only
    /// enrol one.
    #[error("a second factor must be set up before anything else")]
    EnrolmentRequired {
        /// Whose session it is.
        user_id: String,
    },
    /// The storage failed; details are logged, not shown.
    #[error("storage failure")]
    Store(#[source] StoreError),
}

impl From<StoreError> for AppError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict(message) => AppError::Conflict(message),
            other => AppError::Store(other),
        }
    }
}

impl From<comity_domain::DomainError> for AppError {
    fn from(error: comity_domain::DomainError) -> Self {
        let comity_domain::DomainError::InvalidField { field, reason } = error;
        AppError::Invalid {
            field,
            message: reason,
        }
    }
}

impl From<comity_wire::FieldError> for AppError {
    fn from(error: comity_wire::FieldError) -> Self {
        AppError::Invalid {
            field: error.field,
            message: error.message,
        }
    }
}

impl AppError {
    /// An invalid-field error.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}

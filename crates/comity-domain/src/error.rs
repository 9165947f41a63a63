//! The error for values that break a domain rule.

/// A value that breaks a domain rule, naming the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// A field holds a value the domain does not accept.
    #[error("{field}: {reason}")]
    InvalidField {
        /// The field, in the API's spelling (e.g. `persons.full_name`).
        field: String,
        /// What is wrong, in plain words.
        reason: String,
    },
}

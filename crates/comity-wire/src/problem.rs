//! RFC 9457 problem details, the body of every error the HTTP API returns.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A problem detail (RFC 9457), served as `application/problem+json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    /// A URI reference naming the problem type, e.g. `/problems/illegal-transition`.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// A short summary of the problem type.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong in this occurrence, in plain words.
    pub detail: String,
    /// The field at fault, in the API's spelling, when one field is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// The media type of a problem detail.
pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

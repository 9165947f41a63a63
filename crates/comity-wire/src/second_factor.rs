//! Bodies of the second-factor endpoints under `/api/v1/me/second-factor` and
//! `/api/v1/users/{username}/second-factor`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where the caller stands with their second factor.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SecondFactorStatusView {
    /// Whether the caller's roles require a second factor.
    pub required: bool,
    /// Whether a confirmed TOTP factor is in use.
    pub enrolled: bool,
    /// Whether an enrolment waits for its first code.
    pub pending: bool,
    /// Unused recovery codes left.
    pub recovery_codes_left: i64,
}

/// A started enrolment. The secret is shown once; add it to an authenticator app, then
/// confirm with a code.
#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct EnrolmentView {
    /// The TOTP secret in base32 (RFC 4648), for typing into an app.
    pub secret: String,
    /// The same as an `otpauth://totp/...` URI (SHA-1, 6 digits, 30 s).
    pub otpauth_uri: String,
}

impl std::fmt::Debug for EnrolmentView {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("EnrolmentView(<secret>)")
    }
}

/// Confirms an enrolment.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmEnrolmentInput {
    /// The 6-digit code the authenticator app shows now.
    #[schema(schema_with = crate::schema::totp_code)]
    pub code: String,
}

/// The recovery codes of a confirmed enrolment, shown once. Each works once instead of
/// a TOTP code.
#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct RecoveryCodesView {
    /// The codes.
    pub recovery_codes: Vec<String>,
}

impl std::fmt::Debug for RecoveryCodesView {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("RecoveryCodesView(<codes>)")
    }
}

//! Bodies of the account endpoints: editing users, passwords and sessions.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Change a user (administrators, for users of their own authority). Absent fields stay
/// as they are.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatchInput {
    /// A new display name (1-200 characters).
    #[serde(default)]
    #[schema(schema_with = crate::schema::optional_display_name)]
    pub display_name: Option<String>,
    /// The complete new set of role codes (at least one).
    #[serde(default)]
    #[schema(schema_with = crate::schema::optional_roles)]
    pub roles: Option<Vec<String>>,
    /// false disables the account and ends its sessions; true enables it again.
    #[serde(default)]
    pub active: Option<bool>,
}

/// A password set by an administrator; the user must change it at their next log-in.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetInput {
    /// The temporary password (same policy as any password).
    #[schema(schema_with = crate::schema::new_password)]
    pub password: String,
}

/// Change one's own password.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChangeInput {
    /// The password in use now.
    #[schema(schema_with = crate::schema::password)]
    pub current_password: String,
    /// The new one: 12-128 characters, not a common password, not containing the user
    /// name.
    #[schema(schema_with = crate::schema::new_password)]
    pub new_password: String,
}

/// A session of a user (never its token).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SessionInfoView {
    /// The session's public id, to revoke it.
    pub id: String,
    /// When it was opened, RFC 3339.
    pub created_at: String,
    /// When it was last used (to the minute), RFC 3339.
    pub last_seen_at: String,
    /// When it ends at the latest, RFC 3339.
    pub expires_at: String,
    /// Whether it is the session making this call.
    pub current: bool,
}

/// How many sessions were ended.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RevokedView {
    /// The number of sessions ended.
    pub revoked: u64,
}

//! Bodies of the REST API under `/api/v1`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::RequestContentDto;

/// Log in with a local account.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginInput {
    /// The user name.
    #[schema(schema_with = crate::schema::login_name)]
    pub username: String,
    /// The password.
    #[schema(schema_with = crate::schema::password)]
    pub password: String,
    /// The 6-digit code from the authenticator app, for an account with a second factor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::schema::optional_totp_code)]
    pub totp_code: Option<String>,
    /// A one-time recovery code, instead of `totp_code`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::schema::optional_recovery_code)]
    pub recovery_code: Option<String>,
}

/// A session: use the token as `Authorization: Bearer <token>`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SessionView {
    /// The bearer token. Shown once.
    pub token: String,
    /// When it expires, RFC 3339.
    #[schema(schema_with = crate::schema::date_time)]
    pub expires_at: String,
    /// Who is logged in.
    pub user: UserView,
}

/// A user of this node.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UserView {
    /// Node-local id.
    pub id: String,
    /// Login name.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// The authority the user works for.
    pub authority: String,
    /// Role codes.
    #[schema(schema_with = crate::schema::roles)]
    pub roles: Vec<String>,
    /// Whether the account may log in.
    #[serde(default = "default_true")]
    pub active: bool,
    /// Whether the user must choose a new password before doing anything else.
    #[serde(default)]
    pub must_change_password: bool,
}

fn default_true() -> bool {
    true
}

/// Create a user (administrators only).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserInput {
    /// Login name: 3-64 characters, letters, digits, `.`, `-`, `_`.
    #[schema(schema_with = crate::schema::username)]
    pub username: String,
    /// Display name.
    #[schema(schema_with = crate::schema::display_name)]
    pub display_name: String,
    /// The authority the user works for (one hosted on this node).
    #[schema(schema_with = crate::schema::authority_id)]
    pub authority: String,
    /// Role codes.
    #[schema(schema_with = crate::schema::roles)]
    pub roles: Vec<String>,
    /// Initial password: 12-128 characters, not a common password, not containing the
    /// user name.
    #[schema(schema_with = crate::schema::new_password)]
    pub password: String,
}

/// An authority known to this node.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuthorityView {
    /// Stable id.
    pub id: String,
    /// ISO 3166-1 alpha-2.
    #[schema(schema_with = crate::schema::country)]
    pub country: String,
    /// Kind code.
    pub kind: String,
    /// Official name.
    pub name: String,
    /// Whether it is hosted on this node (otherwise it is a peer's).
    pub local: bool,
}

/// Open a case.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseInput {
    /// The authority's own reference, e.g. "DP 123/2026".
    #[schema(schema_with = crate::schema::case_text)]
    pub reference: String,
    /// A short title.
    #[schema(schema_with = crate::schema::case_text)]
    pub title: String,
}

/// A case.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CaseView {
    /// Node-local id.
    pub id: String,
    /// Owning authority.
    pub authority: String,
    /// The authority's reference.
    pub reference: String,
    /// Title.
    pub title: String,
    /// RFC 3339.
    #[schema(schema_with = crate::schema::date_time)]
    pub created_at: String,
    /// The requests in the case.
    #[serde(default)]
    pub requests: Vec<RequestSummaryView>,
}

/// A request in a list.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RequestSummaryView {
    /// Federation-wide id.
    pub id: String,
    /// Case on this node.
    pub case_id: String,
    /// `requesting` or `requested`.
    #[schema(schema_with = crate::schema::side)]
    pub side: String,
    /// State code.
    #[schema(schema_with = crate::schema::state)]
    pub state: String,
    /// The other authority.
    pub counterpart: String,
    /// Subject matter.
    pub subject_matter: String,
    /// Whether urgent.
    pub urgent: bool,
    /// Whether a deadline has passed unmet.
    pub overdue: bool,
    /// RFC 3339.
    #[schema(schema_with = crate::schema::date_time)]
    pub updated_at: String,
}

/// A request in full.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RequestView {
    /// Federation-wide id.
    pub id: String,
    /// Case on this node.
    pub case_id: String,
    /// `requesting` or `requested`.
    #[schema(schema_with = crate::schema::side)]
    pub side: String,
    /// State code.
    #[schema(schema_with = crate::schema::state)]
    pub state: String,
    /// Optimistic-concurrency version: send it back with a transition.
    pub version: i64,
    /// What the request says.
    pub content: RequestContentDto,
    /// The actions the caller may take now.
    #[schema(schema_with = crate::schema::actions)]
    pub available_actions: Vec<String>,
    /// Deadlines.
    pub deadlines: Vec<DeadlineView>,
    /// Every transition, oldest first.
    pub history: Vec<TransitionView>,
    /// RFC 3339.
    #[schema(schema_with = crate::schema::date_time)]
    pub created_at: String,
    /// RFC 3339.
    #[schema(schema_with = crate::schema::date_time)]
    pub updated_at: String,
    /// Present when this copy is out of step with the other side's: why. A
    /// resynchronisation between the two nodes brings them together, or an operator
    /// alert says what conflicts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub out_of_step: Option<String>,
}

/// A deadline.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeadlineView {
    /// Kind code.
    pub kind: String,
    /// What must happen.
    pub label: String,
    /// RFC 3339.
    #[schema(schema_with = crate::schema::date_time)]
    pub due: String,
    /// RFC 3339, when met.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub met_at: Option<String>,
    /// Passed unmet.
    pub overdue: bool,
}

/// A recorded transition.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TransitionView {
    /// Action code.
    #[schema(schema_with = crate::schema::action)]
    pub action: String,
    /// State before.
    #[schema(schema_with = crate::schema::state)]
    pub from: String,
    /// State after.
    #[schema(schema_with = crate::schema::state)]
    pub to: String,
    /// Who: a user name with role, a peer node, or `system`.
    pub actor: String,
    /// `local` or `remote`.
    pub origin: String,
    /// RFC 3339.
    #[schema(schema_with = crate::schema::date_time)]
    pub at: String,
    /// The reason given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Grounds cited.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grounds: Vec<String>,
}

/// Take an action on a request.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionInput {
    /// Action code, e.g. `approve`.
    #[schema(schema_with = crate::schema::action)]
    pub action: String,
    /// The role to act in, when the user holds several; defaults to the first that may.
    #[schema(schema_with = crate::schema::optional_role)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Why (required for some actions).
    #[schema(schema_with = crate::schema::reason)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Grounds cited (required to refuse).
    #[schema(schema_with = crate::schema::grounds)]
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grounds: Vec<String>,
    /// The version the caller saw; the transition fails if the request changed since.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::schema::integral::option"
    )]
    pub expected_version: Option<i64>,
    /// A supervisor's recorded justification for approving despite blocking findings.
    #[schema(schema_with = crate::schema::reason)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub override_justification: Option<String>,
}

/// Health of the node.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct HealthView {
    /// `ok` when the database answers.
    pub status: String,
    /// This node's id.
    pub node_id: String,
    /// Build version.
    pub version: String,
}

/// An outgoing federation message, for operators.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OutboxMessageView {
    /// Message id.
    pub message_id: String,
    /// Recipient node.
    pub recipient_node: String,
    /// Conversation (request id).
    pub conversation_id: String,
    /// Position in the conversation.
    pub sequence: i64,
    /// Message type.
    pub message_type: String,
    /// `pending`, `delivered` or `dead`.
    pub status: String,
    /// Attempts so far.
    pub attempts: i64,
    /// The last failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// RFC 3339.
    #[schema(schema_with = crate::schema::date_time)]
    pub created_at: String,
}

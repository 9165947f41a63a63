//! The versioned bodies that travel, sealed, between nodes.
//!
//! The envelope (see `docs/protocol.md`) carries a message type and one of these bodies
//! as JSON. A receiver refuses a version it does not know; a sender never changes the
//! meaning of a field within a version.

use serde::{Deserialize, Serialize};

use crate::RequestContentDto;

/// The body version written by this build.
pub const BODY_VERSION: u32 = 1;

/// Message type of [`FederationBody::RequestDispatched`].
pub const TYPE_REQUEST_DISPATCHED: &str = "comity.request.dispatched.v1";
/// Message type of [`FederationBody::ActionTaken`].
pub const TYPE_ACTION_TAKEN: &str = "comity.request.action.v1";

/// What one message says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum FederationBody {
    /// A request sent to the recipient's authority: the recipient creates its copy.
    RequestDispatched {
        /// Body version.
        v: u32,
        /// Federation-wide request id (also the conversation id).
        request_id: String,
        /// What the request says.
        content: Box<RequestContentDto>,
        /// The requesting side's case reference, for the covering letter.
        case_reference: String,
    },
    /// A lifecycle action taken by the sender's side.
    ActionTaken {
        /// Body version.
        v: u32,
        /// Federation-wide request id.
        request_id: String,
        /// The side the sender holds: `requesting` or `requested`.
        from_side: String,
        /// Action code.
        action: String,
        /// Who took it, for display (name and role), never an internal id.
        actor: String,
        /// The reason given.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        /// Grounds cited.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        grounds: Vec<String>,
        /// When it was taken, milliseconds since the epoch, sender's clock.
        taken_at_ms: i64,
    },
}

impl FederationBody {
    /// The envelope message type for this body.
    pub fn message_type(&self) -> &'static str {
        match self {
            FederationBody::RequestDispatched { .. } => TYPE_REQUEST_DISPATCHED,
            FederationBody::ActionTaken { .. } => TYPE_ACTION_TAKEN,
        }
    }

    /// The request the body is about.
    pub fn request_id(&self) -> &str {
        match self {
            FederationBody::RequestDispatched { request_id, .. }
            | FederationBody::ActionTaken { request_id, .. } => request_id,
        }
    }

    /// The body's version.
    pub fn version(&self) -> u32 {
        match self {
            FederationBody::RequestDispatched { v, .. } | FederationBody::ActionTaken { v, .. } => {
                *v
            }
        }
    }
}

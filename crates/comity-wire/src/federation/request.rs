//! The request topic: the messages that keep the two copies of a request in step.
//!
//! A request's conversation is `request:<request id>`. The requesting side opens it with
//! [`Dispatched`]; from then on each side reports its lifecycle actions with
//! [`ActionTaken`], which the other side applies through the same transition table.

use comity_domain::{Action, Side};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::ConversationId;
use crate::RequestContentDto;

/// Message type of [`Dispatched`].
pub const TYPE_DISPATCHED: &str = "comity.request.dispatched.v1";
/// Message type of [`ActionTaken`].
pub const TYPE_ACTION: &str = "comity.request.action.v1";

/// The `kind` a [`Dispatched`] body carries.
pub(super) const KIND_DISPATCHED: &str = "request_dispatched";
/// The `kind` an [`ActionTaken`] body carries.
pub(super) const KIND_ACTION: &str = "action_taken";

/// A message of the request topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind")]
pub enum Message {
    /// A request sent to the recipient's authority: the recipient creates its copy.
    #[serde(rename = "request_dispatched")]
    Dispatched(Dispatched),
    /// A lifecycle action taken by the sender's side.
    #[serde(rename = "action_taken")]
    ActionTaken(ActionTaken),
}

/// A request sent to the recipient's authority.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dispatched {
    /// Federation-wide request id (the conversation's subject).
    pub request_id: Uuid,
    /// What the request says.
    pub content: Box<RequestContentDto>,
    /// The requesting side's case reference, for the covering letter.
    pub case_reference: String,
}

/// A lifecycle action taken by the sender's side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionTaken {
    /// Federation-wide request id.
    pub request_id: Uuid,
    /// The side the sender holds (`requesting` or `requested`).
    #[serde(with = "coded")]
    pub from_side: Side,
    /// The action (its code on the wire).
    #[serde(with = "coded")]
    pub action: Action,
    /// Who took it, for display (name and role), never an internal id.
    pub actor: String,
    /// The reason given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Grounds cited.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grounds: Vec<String>,
    /// When it was taken, milliseconds since the epoch, sender's clock.
    pub taken_at_ms: i64,
}

impl Message {
    /// The envelope message type for this message.
    pub fn message_type(&self) -> &'static str {
        match self {
            Message::Dispatched(_) => TYPE_DISPATCHED,
            Message::ActionTaken(_) => TYPE_ACTION,
        }
    }

    /// The request the message is about.
    pub fn request_id(&self) -> Uuid {
        match self {
            Message::Dispatched(body) => body.request_id,
            Message::ActionTaken(body) => body.request_id,
        }
    }

    /// The conversation the message belongs to.
    pub fn conversation(&self) -> ConversationId {
        ConversationId::request(self.request_id())
    }
}

/// Coded domain values (sides, actions) as their codes: an unknown code fails decoding
/// and names the code and the accepted ones.
mod coded {
    use std::fmt::Display;
    use std::str::FromStr;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<T: Display, S: Serializer>(
        value: &T,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_str(value)
    }

    pub fn deserialize<'de, T, D>(deserializer: D) -> Result<T, D::Error>
    where
        T: FromStr,
        T::Err: Display,
        D: Deserializer<'de>,
    {
        let code = String::deserialize(deserializer)?;
        code.parse().map_err(serde::de::Error::custom)
    }
}

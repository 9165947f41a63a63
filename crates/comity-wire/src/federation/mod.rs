//! The bodies that travel, sealed, between nodes, and the one table that reads them.
//!
//! The envelope (see `docs/protocol.md`) carries a message type and a body as JSON. Each
//! topic owns its messages in a module of its own (only [`request`] today), and
//! [`FederationBody::decode`] maps the envelope's message type, which names the version
//! (`comity.request.action.v1`), to a typed body. A type this build does not know is
//! refused by name before any capability sees the body; a sender never changes the
//! meaning of a field within a message type.

pub mod conversation;
pub mod request;

use serde::Serialize;
use serde_json::{Map, Value};

pub use conversation::{ConversationId, ConversationIdError, Topic};

/// What one message says, by topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum FederationBody {
    /// A message of the request topic.
    Request(request::Message),
}

/// Why a body cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    /// The envelope names a message type this build does not know.
    #[error("unknown message type `{0}`")]
    UnknownType(String),
    /// The body's `kind` is not the one its message type carries.
    #[error("body kind `{kind}` does not match message type `{message_type}`")]
    KindMismatch {
        /// The envelope's message type.
        message_type: String,
        /// The body's kind, as given.
        kind: String,
    },
    /// A body written before message types carried the version, with another version.
    #[error("unsupported body version {0}")]
    UnsupportedVersion(String),
    /// The body is not the JSON its message type describes.
    #[error("malformed {message_type} body: {reason}")]
    Malformed {
        /// The envelope's message type.
        message_type: &'static str,
        /// What is wrong, naming the field.
        reason: String,
    },
}

/// One row of the decode table.
struct KnownType {
    message_type: &'static str,
    kind: &'static str,
    read: fn(Value) -> Result<FederationBody, serde_json::Error>,
}

/// The message types this build reads, each with its body's `kind` and reader.
const KNOWN_TYPES: &[KnownType] = &[
    KnownType {
        message_type: request::TYPE_DISPATCHED,
        kind: request::KIND_DISPATCHED,
        read: |value| {
            serde_json::from_value(value)
                .map(|body| FederationBody::Request(request::Message::Dispatched(body)))
        },
    },
    KnownType {
        message_type: request::TYPE_ACTION,
        kind: request::KIND_ACTION,
        read: |value| {
            serde_json::from_value(value)
                .map(|body| FederationBody::Request(request::Message::ActionTaken(body)))
        },
    },
];

/// Every message type this build reads (and so accepts from peers), in table order.
pub fn known_message_types() -> impl Iterator<Item = &'static str> {
    KNOWN_TYPES.iter().map(|known| known.message_type)
}

/// Whether this build reads `message_type`.
pub fn is_known_message_type(message_type: &str) -> bool {
    known_message_types().any(|known| known == message_type)
}

impl FederationBody {
    /// Reads a body by its envelope message type: the one table from message type to
    /// body. An unknown type is refused by name; codes (sides, actions) are parsed into
    /// their types here.
    pub fn decode(message_type: &str, body: &[u8]) -> Result<FederationBody, BodyError> {
        let Some(known) = KNOWN_TYPES
            .iter()
            .find(|known| known.message_type == message_type)
        else {
            return Err(BodyError::UnknownType(message_type.to_string()));
        };
        let malformed = |error: serde_json::Error| BodyError::Malformed {
            message_type: known.message_type,
            reason: error.to_string(),
        };
        let mut fields: Map<String, Value> = serde_json::from_slice(body).map_err(malformed)?;
        // Bodies written before the message type carried the version had `v: 1`.
        if let Some(version) = fields.remove("v")
            && version != 1
        {
            return Err(BodyError::UnsupportedVersion(version.to_string()));
        }
        match fields.remove("kind") {
            Some(Value::String(kind)) if kind == known.kind => {}
            Some(other) => {
                return Err(BodyError::KindMismatch {
                    message_type: message_type.to_string(),
                    kind: match other {
                        Value::String(kind) => kind,
                        other => other.to_string(),
                    },
                });
            }
            None => {
                return Err(BodyError::Malformed {
                    message_type: known.message_type,
                    reason: "missing field `kind`".into(),
                });
            }
        }
        (known.read)(Value::Object(fields)).map_err(malformed)
    }

    /// The envelope message type for this body.
    pub fn message_type(&self) -> &'static str {
        match self {
            FederationBody::Request(message) => message.message_type(),
        }
    }

    /// The conversation the body belongs to.
    pub fn conversation(&self) -> ConversationId {
        match self {
            FederationBody::Request(message) => message.conversation(),
        }
    }

    /// The body as sent: UTF-8 JSON.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(self)
    }
}

impl From<request::Message> for FederationBody {
    fn from(message: request::Message) -> Self {
        FederationBody::Request(message)
    }
}

#[cfg(test)]
mod tests {
    use comity_domain::{Action, Side};
    use serde_json::json;
    use uuid::Uuid;

    use super::*;
    use crate::RequestContentDto;

    const ID: &str = "0190f1e2-7c4b-7d21-9a53-1c2b3d4e5f60";

    fn request_id() -> Uuid {
        Uuid::try_parse(ID).expect("uuid")
    }

    fn action() -> FederationBody {
        request::Message::ActionTaken(request::ActionTaken {
            request_id: request_id(),
            from_side: Side::Requested,
            action: Action::RequestAdditionalInformation,
            actor: "Officer (registrar)".into(),
            reason: Some("which bank?".into()),
            grounds: vec!["art. 11".into()],
            taken_at_ms: 1_700_000_000_000,
        })
        .into()
    }

    fn dispatched() -> FederationBody {
        let content: RequestContentDto = serde_json::from_value(json!({
            "requesting_authority": "es-ca",
            "requested_authority": "ma-ca",
            "requesting_country": "ES",
            "requested_country": "MA",
            "subject_matter": "Fraud",
            "summary_of_facts": "Facts",
        }))
        .unwrap_or_else(|error| panic!("sample content: {error}"));
        request::Message::Dispatched(request::Dispatched {
            request_id: request_id(),
            content: Box::new(content),
            case_reference: "MAD 1/2026".into(),
        })
        .into()
    }

    #[test]
    fn every_known_type_round_trips_through_the_table() {
        let samples = [dispatched(), action()];
        let mut seen: Vec<&str> = samples.iter().map(FederationBody::message_type).collect();
        seen.sort_unstable();
        let mut known: Vec<&str> = known_message_types().collect();
        known.sort_unstable();
        assert_eq!(seen, known, "one sample per known type");
        for body in samples {
            let json = body.to_json().expect("json");
            let decoded = FederationBody::decode(body.message_type(), json.as_bytes())
                .unwrap_or_else(|error| panic!("{}: {error}", body.message_type()));
            assert_eq!(decoded, body);
            assert_eq!(decoded.conversation().to_string(), format!("request:{ID}"));
        }
    }

    #[test]
    fn the_wire_form_keeps_kind_and_codes_and_drops_the_version() {
        let json: Value = serde_json::from_str(&action().to_json().expect("json")).expect("parse");
        assert_eq!(json["kind"], "action_taken");
        assert_eq!(json["from_side"], "requested");
        assert_eq!(json["action"], "request_additional_information");
        assert_eq!(json["request_id"], ID);
        assert!(json.get("v").is_none());
    }

    #[test]
    fn an_unknown_type_is_refused_by_name_whatever_the_body() {
        let json = action().to_json().expect("json");
        for message_type in ["comity.request.action.v2", "comity.alert.v1", ""] {
            assert_eq!(
                FederationBody::decode(message_type, json.as_bytes()),
                Err(BodyError::UnknownType(message_type.into()))
            );
        }
        let error = FederationBody::decode("comity.evidence.v1", b"not json").expect_err("unknown");
        assert_eq!(
            error.to_string(),
            "unknown message type `comity.evidence.v1`"
        );
    }

    #[test]
    fn a_body_under_another_types_name_is_refused() {
        let json = action().to_json().expect("json");
        assert_eq!(
            FederationBody::decode(request::TYPE_DISPATCHED, json.as_bytes()),
            Err(BodyError::KindMismatch {
                message_type: request::TYPE_DISPATCHED.into(),
                kind: "action_taken".into(),
            })
        );
    }

    #[test]
    fn unknown_codes_and_fields_are_refused_at_decoding_naming_them() {
        let mut json: Value =
            serde_json::from_str(&action().to_json().expect("json")).expect("parse");
        json["action"] = json!("burn_the_file");
        let error = FederationBody::decode(request::TYPE_ACTION, json.to_string().as_bytes())
            .expect_err("unknown action");
        assert!(
            error.to_string().contains("unknown action `burn_the_file`"),
            "{error}"
        );

        let mut json: Value =
            serde_json::from_str(&action().to_json().expect("json")).expect("parse");
        json["from_side"] = json!("both");
        let error = FederationBody::decode(request::TYPE_ACTION, json.to_string().as_bytes())
            .expect_err("unknown side");
        assert!(error.to_string().contains("unknown side `both`"), "{error}");

        let mut json: Value =
            serde_json::from_str(&action().to_json().expect("json")).expect("parse");
        json["extra"] = json!(1);
        let error = FederationBody::decode(request::TYPE_ACTION, json.to_string().as_bytes())
            .expect_err("unknown field");
        assert!(
            error.to_string().contains("unknown field `extra`"),
            "{error}"
        );

        let error = FederationBody::decode(request::TYPE_ACTION, b"[1,2]").expect_err("array");
        assert!(matches!(error, BodyError::Malformed { .. }), "{error}");
    }

    #[test]
    fn bodies_written_with_version_one_still_read_and_others_are_refused() {
        let mut json: Value =
            serde_json::from_str(&action().to_json().expect("json")).expect("parse");
        json["v"] = json!(1);
        assert_eq!(
            FederationBody::decode(request::TYPE_ACTION, json.to_string().as_bytes()),
            Ok(action())
        );
        json["v"] = json!(2);
        assert_eq!(
            FederationBody::decode(request::TYPE_ACTION, json.to_string().as_bytes()),
            Err(BodyError::UnsupportedVersion("2".into()))
        );
    }
}

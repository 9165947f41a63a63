//! The federation's use cases, topic by topic behind one generic part.
//!
//! - `inbox` ([`App::accept_incoming`](crate::App::accept_incoming)): what peers send is
//!   stored, checked against the conversation's sequence and applied exactly once, in
//!   order; it knows no topic.
//! - `dispatch`: decodes a stored message through the one decode table
//!   ([`FederationBody::decode`](comity_wire::federation::FederationBody::decode)) and
//!   hands it to the capability that owns its topic (only requests today).
//! - `outbox`: the recipient's receipt for what this node sent
//!   ([`App::record_receipt`](crate::App::record_receipt)).

mod dispatch;
mod inbox;
mod outbox;
mod registry;

pub(crate) use inbox::Applying;
pub(crate) use registry::Registry;

use comity_wire::federation::{BodyError, ConversationIdError};

use crate::request_messages::RequestRejection;

/// A message whose envelope has been verified and opened by the transport: the
/// envelope's header fields as text, the body, and the envelope itself.
#[derive(Debug, Clone)]
pub struct IncomingMessage {
    /// Envelope message id.
    pub message_id: String,
    /// The verified sender node.
    pub sender_node: String,
    /// Conversation id as the envelope gives it (`request:<uuid>`, or a bare request id
    /// from a node of an earlier version).
    pub conversation_id: String,
    /// Position in the conversation.
    pub sequence: i64,
    /// Envelope message type.
    pub message_type: String,
    /// The decrypted body.
    pub body: String,
    /// The envelope as received, base64, kept for non-repudiation.
    pub envelope: String,
}

/// What the inbox did with a message: the receipt reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InboundOutcome {
    /// Stored and applied (with any successors that were waiting for it).
    Applied,
    /// Stored; waits for an earlier message of its conversation.
    Queued,
    /// Stored, but it could not take effect; the reason is recorded.
    Rejected(String),
    /// Already received: nothing changed.
    Duplicate,
}

/// What applying one message did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It took effect.
    Applied,
    /// It cannot take effect; it is recorded as rejected, with the reason.
    Rejected(Rejection),
}

/// Why a stored message cannot take effect. The text is what the receipt and the
/// inbox row say.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// The body cannot be read under its message type (or the type is unknown).
    #[error(transparent)]
    Body(#[from] BodyError),
    /// The envelope's conversation id cannot be read.
    #[error("invalid conversation id: {0}")]
    Conversation(#[from] ConversationIdError),
    /// The body is about another conversation than the envelope says.
    #[error("the body's conversation {body} is not the envelope's conversation {envelope}")]
    ConversationMismatch {
        /// The envelope's conversation.
        envelope: String,
        /// The body's conversation.
        body: String,
    },
    /// The sequence number was used before under another message id.
    #[error(
        "sequence {sequence} already consumed (expected {expected}): replayed or reissued message"
    )]
    Replay {
        /// The message's sequence.
        sequence: i64,
        /// The sequence the conversation expects.
        expected: i64,
    },
    /// The request capability refused it.
    #[error(transparent)]
    Request(#[from] RequestRejection),
}

//! The federation's outbox and inbox as node operators see them, shared by the API and
//! the operators' pages: one view of a row, one parser of a status filter.

use comity_store::{InboxMessage, InboxStatus, OutboxEntry, OutboxStatus};
use serde::Serialize;
use utoipa::ToSchema;

/// An outgoing message with its receipt's outcome.
#[derive(Debug, Serialize, ToSchema)]
pub struct OutboxEntryView {
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
    /// `pending`, `delivered`, `dead` or `rejected`.
    pub status: String,
    /// Attempts that failed so far.
    pub attempts: i64,
    /// The last failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// What the receipt said: `accepted` (or duplicate), `rejected`, or `restored` (a
    /// resynchronisation found the peer already held it); absent while pending.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receipt_outcome: Option<String>,
    /// The peer's reason for a rejection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejection_reason: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339, when delivery finished.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
}

/// A received message (its body is not shown: it may hold personal data).
#[derive(Debug, Serialize, ToSchema)]
pub struct InboxEntryView {
    /// Message id.
    pub message_id: String,
    /// Sending node.
    pub sender_node: String,
    /// Conversation (request id).
    pub conversation_id: String,
    /// Position in the conversation.
    pub sequence: i64,
    /// Message type.
    pub message_type: String,
    /// `waiting`, `applied` or `rejected`.
    pub status: String,
    /// Why it was rejected, or a note on how it applied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// RFC 3339.
    pub received_at: String,
}

/// The outbox row as operators see it.
pub fn outbox_entry_view(entry: &OutboxEntry) -> OutboxEntryView {
    let message = &entry.message;
    let receipt_outcome = entry
        .receipt_outcome
        .clone()
        .or_else(|| (message.status == OutboxStatus::Delivered).then(|| "accepted".to_string()));
    OutboxEntryView {
        message_id: message.message_id.clone(),
        recipient_node: message.recipient_node.clone(),
        conversation_id: message.conversation_id.clone(),
        sequence: message.sequence,
        message_type: message.message_type.clone(),
        status: message.status.code().to_string(),
        attempts: message.attempts,
        last_error: message.last_error.clone(),
        receipt_outcome,
        rejection_reason: entry.rejection_reason.clone(),
        created_at: message.created_at.to_rfc3339(),
        finished_at: entry.finished_at.map(|at| at.to_rfc3339()),
    }
}

/// The inbox row as operators see it.
pub fn inbox_entry_view(message: &InboxMessage) -> InboxEntryView {
    InboxEntryView {
        message_id: message.message_id.clone(),
        sender_node: message.sender_node.clone(),
        conversation_id: message.conversation_id.clone(),
        sequence: message.sequence,
        message_type: message.message_type.clone(),
        status: message.status.code().to_string(),
        outcome: message.outcome.clone(),
        received_at: message.received_at.to_rfc3339(),
    }
}

/// Parses an outbox status filter.
pub fn outbox_status(code: Option<&str>) -> Result<Option<OutboxStatus>, comity_app::AppError> {
    code.filter(|code| !code.is_empty())
        .map(|code| {
            OutboxStatus::parse(code).ok_or_else(|| {
                comity_app::AppError::invalid(
                    "status",
                    format!("`{code}` is not one of pending, delivered, dead, rejected"),
                )
            })
        })
        .transpose()
}

/// Parses an inbox status filter.
pub fn inbox_status(code: Option<&str>) -> Result<Option<InboxStatus>, comity_app::AppError> {
    code.filter(|code| !code.is_empty())
        .map(|code| {
            InboxStatus::parse(code).ok_or_else(|| {
                comity_app::AppError::invalid(
                    "status",
                    format!("`{code}` is not one of waiting, applied, rejected"),
                )
            })
        })
        .transpose()
}

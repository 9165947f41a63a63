//! Record types for the rows that have no domain type of their own.

use comity_domain::{AuthorityId, RequestState, Role, Side, Timestamp, UserId};

/// An authority and the node that hosts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorityRecord {
    /// The authority.
    pub authority: comity_domain::Authority,
    /// The node hosting it.
    pub node_id: String,
    /// Whether that node is this one.
    pub is_local: bool,
}

/// A user account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// Node-local id.
    pub id: UserId,
    /// Login name, unique.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// The authority the user works for.
    pub authority: AuthorityId,
    /// Roles held.
    pub roles: Vec<Role>,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// Whether the account may log in.
    pub active: bool,
    /// Whether the password was reset by an administrator: until the user chooses a new
    /// one, changing it is all their sessions may do.
    pub must_change_password: bool,
    /// When created.
    pub created_at: Timestamp,
}

/// A login session, found by the hash of its token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// Public id, to list and revoke the session (not secret; not the token).
    pub id: String,
    /// SHA-256 of the token, hex.
    pub token_hash: String,
    /// Whose session.
    pub user_id: UserId,
    /// When opened.
    pub created_at: Timestamp,
    /// When last used (updated at most once a minute).
    pub last_seen_at: Timestamp,
    /// When it ends, however active it is.
    pub expires_at: Timestamp,
}

/// Which requests to list.
#[derive(Debug, Clone, Default)]
pub struct RequestFilter {
    /// Only requests held by these authorities (empty: none).
    pub holders: Vec<AuthorityId>,
    /// Only this case.
    pub case_id: Option<comity_domain::CaseId>,
    /// Only this side.
    pub side: Option<Side>,
    /// Only these states (empty: all).
    pub states: Vec<RequestState>,
    /// At most this many, newest first.
    pub limit: i64,
}

comity_domain::coded_enum! {
    /// Delivery state of an outgoing message.
    pub enum OutboxStatus ("outbox status") {
        /// Waiting to be sent, or to be sent again.
        Pending = ("pending", "Pending"),
        /// The recipient's signed receipt is stored.
        Delivered = ("delivered", "Delivered"),
        /// Given up after the configured time; an operator must look.
        Dead = ("dead", "Dead letter"),
        /// The recipient signed for it but refused it (the reason is kept); an
        /// operator alert was raised.
        Rejected = ("rejected", "Rejected"),
    }
}

impl OutboxStatus {
    /// Parses a stored code: `pending`, `delivered`, `dead` or `rejected`.
    pub fn parse(code: &str) -> Option<Self> {
        code.parse().ok()
    }
}

/// A message committed for sending, with the transition that produced it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    /// Unique id (a UUID), the envelope's message id.
    pub message_id: String,
    /// The node it goes to.
    pub recipient_node: String,
    /// The conversation (the request id).
    pub conversation_id: String,
    /// Position in the conversation, from 1, per recipient.
    pub sequence: i64,
    /// Envelope message type.
    pub message_type: String,
    /// The message this answers, if any.
    pub in_reply_to: Option<String>,
    /// The plaintext body (JSON).
    pub body: String,
    /// Delivery state.
    pub status: OutboxStatus,
    /// Attempts so far.
    pub attempts: i64,
    /// When to try next.
    pub next_attempt_at: Timestamp,
    /// When committed.
    pub created_at: Timestamp,
    /// The last failure, for operators.
    pub last_error: Option<String>,
    /// The recipient's signed receipt (base64), once delivered.
    pub receipt: Option<String>,
}

comity_domain::coded_enum! {
    /// What became of an incoming message.
    pub enum InboxStatus ("inbox status") {
        /// Stored; waits for its predecessor in the conversation.
        Waiting = ("waiting", "Waiting"),
        /// Took effect.
        Applied = ("applied", "Applied"),
        /// Could not take effect; the outcome says why.
        Rejected = ("rejected", "Rejected"),
    }
}

impl InboxStatus {
    /// Parses a stored code: `waiting`, `applied` or `rejected`.
    pub fn parse(code: &str) -> Option<Self> {
        code.parse().ok()
    }
}

/// A message received from a peer, kept with its envelope for non-repudiation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxMessage {
    /// The envelope's message id.
    pub message_id: String,
    /// The sending node.
    pub sender_node: String,
    /// The conversation.
    pub conversation_id: String,
    /// Position in the conversation.
    pub sequence: i64,
    /// Envelope message type.
    pub message_type: String,
    /// The decrypted body.
    pub body: String,
    /// The envelope as received (base64).
    pub envelope: String,
    /// What became of it.
    pub status: InboxStatus,
    /// When it arrived.
    pub received_at: Timestamp,
    /// Why it was rejected, or a note on how it applied.
    pub outcome: Option<String>,
}

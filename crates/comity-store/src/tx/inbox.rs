//! Incoming federation messages (`inbox`) and the incoming half of the
//! per-conversation sequence counters (`conversation_sequences`).

use comity_domain::Timestamp;

use super::{Columns, Record, Tx, select};
use crate::StoreError;
use crate::records::{InboxMessage, InboxStatus};

impl Record for InboxMessage {
    const TABLE: &'static str = "inbox";
    const COLUMNS: &'static str = "message_id, sender_node, conversation_id, sequence, \
        message_type, body, envelope, status, received_at, outcome";

    fn read(row: &Columns<'_>) -> Result<Self, StoreError> {
        Ok(InboxMessage {
            message_id: row.text("message_id")?,
            sender_node: row.text("sender_node")?,
            conversation_id: row.text("conversation_id")?,
            sequence: row.int("sequence")?,
            message_type: row.text("message_type")?,
            body: row.text("body")?,
            envelope: row.text("envelope")?,
            status: row.code("status")?,
            received_at: row.time("received_at")?,
            outcome: row.optional_text("outcome")?,
        })
    }
}

impl Tx {
    /// One received message.
    pub async fn inbox_message(
        &mut self,
        message_id: &str,
    ) -> Result<Option<InboxMessage>, StoreError> {
        let sql = select::<InboxMessage>("WHERE message_id = $1");
        self.one(sqlx::query(&sql).bind(message_id)).await
    }

    /// Stores a received message. Returns `false`, changing nothing, when a message with
    /// that id is already stored: the inbox drops duplicates.
    pub async fn insert_inbox(&mut self, message: &InboxMessage) -> Result<bool, StoreError> {
        let result = self
            .run(
                sqlx::query(
                    "INSERT INTO inbox (message_id, sender_node, conversation_id, sequence, \
                     message_type, body, envelope, status, received_at, applied_at, outcome) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, $10) \
                     ON CONFLICT (message_id) DO NOTHING",
                )
                .bind(message.message_id.as_str())
                .bind(message.sender_node.as_str())
                .bind(message.conversation_id.as_str())
                .bind(message.sequence)
                .bind(message.message_type.as_str())
                .bind(message.body.as_str())
                .bind(message.envelope.as_str())
                .bind(message.status.code())
                .bind(message.received_at.millis())
                .bind(message.outcome.as_deref()),
            )
            .await?;
        Ok(result.rows_affected() == 1)
    }

    /// The sequence number the conversation with `peer_node` expects next.
    pub async fn expected_incoming_sequence(
        &mut self,
        conversation_id: &str,
        peer_node: &str,
    ) -> Result<i64, StoreError> {
        self.number(
            "conversation_sequences",
            sqlx::query(
                "INSERT INTO conversation_sequences (conversation_id, peer_node, next_outgoing, next_incoming) \
                 VALUES ($1, $2, 1, 1) ON CONFLICT (conversation_id, peer_node) \
                 DO UPDATE SET next_incoming = conversation_sequences.next_incoming \
                 RETURNING next_incoming AS n",
            )
            .bind(conversation_id)
            .bind(peer_node),
        )
        .await
    }

    /// Moves the conversation's expected incoming sequence on by one.
    pub async fn advance_incoming_sequence(
        &mut self,
        conversation_id: &str,
        peer_node: &str,
    ) -> Result<(), StoreError> {
        self.run(
            sqlx::query(
                "UPDATE conversation_sequences SET next_incoming = next_incoming + 1 \
                 WHERE conversation_id = $1 AND peer_node = $2",
            )
            .bind(conversation_id)
            .bind(peer_node),
        )
        .await?;
        Ok(())
    }

    /// The waiting message with this position in the conversation, if it has arrived.
    pub async fn waiting_message(
        &mut self,
        conversation_id: &str,
        peer_node: &str,
        sequence: i64,
    ) -> Result<Option<InboxMessage>, StoreError> {
        let sql = select::<InboxMessage>(
            "WHERE conversation_id = $1 AND sender_node = $2 AND sequence = $3 \
             AND status = 'waiting'",
        );
        self.one(
            sqlx::query(&sql)
                .bind(conversation_id)
                .bind(peer_node)
                .bind(sequence),
        )
        .await
    }

    /// Records what became of a received message.
    pub async fn finish_inbox(
        &mut self,
        message_id: &str,
        status: InboxStatus,
        outcome: Option<&str>,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        self.run(
            sqlx::query(
                "UPDATE inbox SET status = $1, outcome = $2, applied_at = $3 WHERE message_id = $4",
            )
            .bind(status.code())
            .bind(outcome)
            .bind(at.millis())
            .bind(message_id),
        )
        .await?;
        Ok(())
    }
}

//! Incoming federation messages (`inbox`) and the incoming half of the
//! per-conversation sequence counters (`conversation_sequences`).

use comity_domain::Timestamp;

use super::{Columns, DynamicQuery, Record, Tx, select};
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

    /// Takes `sequence` in the conversation with `peer_node` when it is the one expected
    /// next, moving the expectation on by one in the same statement; otherwise changes
    /// nothing and says which sequence the conversation expects.
    pub async fn claim_incoming_sequence(
        &mut self,
        conversation_id: &str,
        peer_node: &str,
        sequence: i64,
    ) -> Result<SequenceClaim, StoreError> {
        // A new conversation starts expecting 1: the insert takes sequence 1 at once (2
        // is expected next) and records 1 for any other. An existing one moves on only
        // from `sequence`; when it expects another, the update does not happen and no
        // row comes back. A sequence below 1 is never a valid position: nothing is tried.
        let row = if sequence >= 1 {
            sqlx::query(
                "INSERT INTO conversation_sequences (conversation_id, peer_node, next_outgoing, next_incoming) \
                 VALUES ($1, $2, 1, CASE WHEN $3 = 1 THEN 2 ELSE 1 END) \
                 ON CONFLICT (conversation_id, peer_node) DO UPDATE \
                 SET next_incoming = conversation_sequences.next_incoming + 1 \
                 WHERE conversation_sequences.next_incoming = $3 \
                 RETURNING next_incoming AS n",
            )
            .bind(conversation_id)
            .bind(peer_node)
            .bind(sequence)
            .fetch_optional(self.connection())
            .await?
        } else {
            None
        };
        let Some(row) = row else {
            let expected = self
                .expected_incoming_sequence(conversation_id, peer_node)
                .await?;
            return Ok(SequenceClaim::Expected(expected));
        };
        // The row comes back updated, or inserted expecting 2 (sequence 1 taken) or 1.
        let now_expected = Columns::new(&row, "conversation_sequences").int("n")?;
        Ok(if sequence.checked_add(1) == Some(now_expected) {
            SequenceClaim::Claimed
        } else {
            SequenceClaim::Expected(now_expected)
        })
    }

    /// The conversations in which `peer_node` has messages waiting for a predecessor.
    pub async fn conversations_waiting(
        &mut self,
        peer_node: &str,
    ) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT DISTINCT conversation_id FROM inbox \
             WHERE status = 'waiting' AND sender_node = $1",
        )
        .bind(peer_node)
        .fetch_all(self.connection())
        .await?;
        rows.iter()
            .map(|row| Columns::new(row, "inbox").text("conversation_id"))
            .collect()
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

    /// Records several received messages as applied at `at`, in one statement.
    pub async fn finish_inbox_applied(
        &mut self,
        message_ids: &[String],
        at: Timestamp,
    ) -> Result<(), StoreError> {
        // A bound list per statement stays well under either backend's parameter limit.
        for chunk in message_ids.chunks(500) {
            let mut query = DynamicQuery::new(
                "UPDATE inbox SET status = 'applied', outcome = NULL, applied_at = ",
            );
            query.bind(at.millis())?.push(" WHERE message_id IN (");
            query.bind_list(chunk.iter().map(String::as_str))?.push(")");
            let (sql, arguments) = query.into_parts();
            self.run(sqlx::query_with(&sql, arguments)).await?;
        }
        Ok(())
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

/// What [`Tx::claim_incoming_sequence`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SequenceClaim {
    /// The sequence was the one expected; the conversation now expects the next.
    Claimed,
    /// The conversation expects this sequence instead (nothing changed).
    Expected(i64),
}

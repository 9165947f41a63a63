//! Outbox queries for the batching sender: which peers have due messages, and one peer's
//! due messages, so that a peer with a large backlog never fills another peer's read.

use comity_domain::Timestamp;
use sqlx::Row;

use crate::StoreError;
use crate::records::OutboxMessage;
use crate::tx::{OUTBOX_COLUMNS, Tx, outbox_from_row};

impl Tx {
    /// The peers that have pending messages due at `now`, in no particular order.
    pub async fn peers_with_due_messages(
        &mut self,
        now: Timestamp,
    ) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT DISTINCT recipient_node FROM outbox \
             WHERE status = 'pending' AND next_attempt_at <= $1",
        )
        .bind(now.millis())
        .fetch_all(self.connection())
        .await?;
        rows.iter()
            .map(|row| Ok(row.try_get("recipient_node")?))
            .collect()
    }

    /// Pending messages to `peer` due at `now`, oldest first, in conversation order.
    pub async fn due_messages_to(
        &mut self,
        peer: &str,
        now: Timestamp,
        limit: i64,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {OUTBOX_COLUMNS} FROM outbox \
             WHERE status = 'pending' AND next_attempt_at <= $1 AND recipient_node = $2 \
             ORDER BY created_at, conversation_id, sequence LIMIT $3"
        ))
        .bind(now.millis())
        .bind(peer)
        .bind(limit)
        .fetch_all(self.connection())
        .await?;
        rows.iter().map(outbox_from_row).collect()
    }
}

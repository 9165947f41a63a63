//! Outgoing federation messages (`outbox`) and the outgoing half of the
//! per-conversation sequence counters.

use comity_domain::Timestamp;

use super::{Columns, DynamicQuery, Record, Tx, select};
use crate::StoreError;
use crate::records::{OutboxMessage, OutboxStatus};

impl Record for OutboxMessage {
    const TABLE: &'static str = "outbox";
    const COLUMNS: &'static str = "message_id, recipient_node, conversation_id, sequence, \
        message_type, in_reply_to, body, status, attempts, next_attempt_at, created_at, \
        last_error, receipt";

    fn read(row: &Columns<'_>) -> Result<Self, StoreError> {
        Ok(OutboxMessage {
            message_id: row.text("message_id")?,
            recipient_node: row.text("recipient_node")?,
            conversation_id: row.text("conversation_id")?,
            sequence: row.int("sequence")?,
            message_type: row.text("message_type")?,
            in_reply_to: row.optional_text("in_reply_to")?,
            body: row.text("body")?,
            status: row.code("status")?,
            attempts: row.int("attempts")?,
            next_attempt_at: row.time("next_attempt_at")?,
            created_at: row.time("created_at")?,
            last_error: row.optional_text("last_error")?,
            receipt: row.optional_text("receipt")?,
        })
    }
}

/// What [`Tx::mark_delivered`] reports about a message it has just marked delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveredMessage {
    /// Envelope message type.
    pub message_type: String,
    /// The conversation (request id).
    pub conversation_id: String,
    /// The node that signed the receipt.
    pub recipient_node: String,
}

impl Record for DeliveredMessage {
    const TABLE: &'static str = "outbox";
    const COLUMNS: &'static str = "message_type, conversation_id, recipient_node";

    fn read(row: &Columns<'_>) -> Result<Self, StoreError> {
        Ok(DeliveredMessage {
            message_type: row.text("message_type")?,
            conversation_id: row.text("conversation_id")?,
            recipient_node: row.text("recipient_node")?,
        })
    }
}

/// When a message was committed and when its delivery finished, if it has.
struct Timing {
    created_at: Timestamp,
    finished_at: Option<Timestamp>,
}

impl Record for Timing {
    const TABLE: &'static str = "outbox";
    const COLUMNS: &'static str = "created_at, finished_at";

    fn read(row: &Columns<'_>) -> Result<Self, StoreError> {
        Ok(Timing {
            created_at: row.time("created_at")?,
            finished_at: row.optional_time("finished_at")?,
        })
    }
}

impl Tx {
    /// Takes the next outgoing sequence number of a conversation with a peer.
    pub async fn take_outgoing_sequence(
        &mut self,
        conversation_id: &str,
        peer_node: &str,
    ) -> Result<i64, StoreError> {
        // Create-or-increment in one statement; the number taken is the one before.
        self.number(
            "conversation_sequences",
            sqlx::query(
                "INSERT INTO conversation_sequences (conversation_id, peer_node, next_outgoing, next_incoming) \
                 VALUES ($1, $2, 2, 1) ON CONFLICT (conversation_id, peer_node) \
                 DO UPDATE SET next_outgoing = conversation_sequences.next_outgoing + 1 \
                 RETURNING next_outgoing - 1 AS n",
            )
            .bind(conversation_id)
            .bind(peer_node),
        )
        .await
    }

    /// Queues a message; it commits with the rest of the transaction.
    pub async fn enqueue(&mut self, message: &OutboxMessage) -> Result<(), StoreError> {
        self.run(
            sqlx::query(
                "INSERT INTO outbox (message_id, recipient_node, conversation_id, sequence, message_type, \
                 in_reply_to, body, status, attempts, next_attempt_at, created_at, last_error, receipt, \
                 finished_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, NULL)",
            )
            .bind(message.message_id.as_str())
            .bind(message.recipient_node.as_str())
            .bind(message.conversation_id.as_str())
            .bind(message.sequence)
            .bind(message.message_type.as_str())
            .bind(message.in_reply_to.as_deref())
            .bind(message.body.as_str())
            .bind(message.status.code())
            .bind(message.attempts)
            .bind(message.next_attempt_at.millis())
            .bind(message.created_at.millis())
            .bind(message.last_error.as_deref())
            .bind(message.receipt.as_deref()),
        )
        .await?;
        Ok(())
    }

    /// Pending messages due at `now`, oldest first, in conversation order.
    pub async fn due_messages(
        &mut self,
        now: Timestamp,
        limit: i64,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        let sql = select::<OutboxMessage>(
            "WHERE status = 'pending' AND next_attempt_at <= $1 \
             ORDER BY created_at, conversation_id, sequence LIMIT $2",
        );
        self.all(sqlx::query(&sql).bind(now.millis()).bind(limit))
            .await
    }

    /// The peers that have pending messages due at `now`, in no particular order (the
    /// batching sender reads each peer's due messages apart, so that a peer with a large
    /// backlog never fills another peer's read).
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
            .map(|row| Ok(sqlx::Row::try_get(row, "recipient_node")?))
            .collect()
    }

    /// Pending messages to `peer` due at `now`, oldest first, in conversation order.
    pub async fn due_messages_to(
        &mut self,
        peer: &str,
        now: Timestamp,
        limit: i64,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        let sql = select::<OutboxMessage>(
            "WHERE status = 'pending' AND next_attempt_at <= $1 AND recipient_node = $2 \
             ORDER BY created_at, conversation_id, sequence LIMIT $3",
        );
        self.all(sqlx::query(&sql).bind(now.millis()).bind(peer).bind(limit))
            .await
    }

    /// Messages in a given status, newest first (for operators).
    pub async fn outbox_in_status(
        &mut self,
        status: OutboxStatus,
        limit: i64,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        let sql = select::<OutboxMessage>("WHERE status = $1 ORDER BY created_at DESC LIMIT $2");
        self.all(sqlx::query(&sql).bind(status.code()).bind(limit))
            .await
    }

    /// How many outgoing messages are in a status.
    pub async fn count_outbox(&mut self, status: OutboxStatus) -> Result<i64, StoreError> {
        self.number(
            "outbox",
            sqlx::query("SELECT COUNT(*) AS n FROM outbox WHERE status = $1").bind(status.code()),
        )
        .await
    }

    /// When a message was committed and when its delivery finished (receipt stored or
    /// given up), in milliseconds; `None` while it is pending.
    pub async fn outbox_timing(
        &mut self,
        message_id: &str,
    ) -> Result<Option<(i64, i64)>, StoreError> {
        let sql = select::<Timing>("WHERE message_id = $1");
        let timing: Option<Timing> = self.one(sqlx::query(&sql).bind(message_id)).await?;
        Ok(timing.and_then(|timing| {
            timing
                .finished_at
                .map(|finished_at| (timing.created_at.millis(), finished_at.millis()))
        }))
    }

    /// One outgoing message.
    pub async fn outbox_message(
        &mut self,
        message_id: &str,
    ) -> Result<Option<OutboxMessage>, StoreError> {
        let sql = select::<OutboxMessage>("WHERE message_id = $1");
        self.one(sqlx::query(&sql).bind(message_id)).await
    }

    /// Records the recipient's receipt: the message will not be sent again. Returns the
    /// message when this call delivered it, `None` when it was delivered before or is
    /// unknown.
    pub async fn mark_delivered(
        &mut self,
        message_id: &str,
        receipt: &str,
        at: Timestamp,
    ) -> Result<Option<DeliveredMessage>, StoreError> {
        let sql = format!(
            "UPDATE outbox SET status = 'delivered', receipt = $1, finished_at = $2, last_error = NULL \
             WHERE message_id = $3 AND status <> 'delivered' RETURNING {}",
            DeliveredMessage::COLUMNS
        );
        self.one(
            sqlx::query(&sql)
                .bind(receipt)
                .bind(at.millis())
                .bind(message_id),
        )
        .await
    }

    /// [`Tx::mark_delivered`] for several messages in one statement per few hundred:
    /// `receipts` holds (message id, receipt) pairs. Returns, with its id, each message
    /// this call delivered; one delivered before, or unknown, is left out.
    pub async fn mark_all_delivered(
        &mut self,
        receipts: &[(String, String)],
        at: Timestamp,
    ) -> Result<Vec<(String, DeliveredMessage)>, StoreError> {
        let mut delivered = Vec::with_capacity(receipts.len());
        // Two values per message: well under either backend's parameter limit.
        for chunk in receipts.chunks(200) {
            // `VALUES` names its columns column1, column2 on both backends.
            let mut query = DynamicQuery::new(
                "UPDATE outbox SET status = 'delivered', receipt = v.column2, finished_at = ",
            );
            query
                .bind(at.millis())?
                .push(", last_error = NULL FROM (VALUES ");
            for (index, (message_id, receipt)) in chunk.iter().enumerate() {
                query.push(if index == 0 { "(" } else { ", (" });
                query.bind(message_id.as_str())?.push(", ");
                query.bind(receipt.as_str())?.push(")");
            }
            query.push(&format!(
                ") AS v WHERE outbox.message_id = v.column1 AND outbox.status <> 'delivered' \
                 RETURNING outbox.message_id, {}",
                qualified(DeliveredMessage::COLUMNS)
            ));
            let (sql, arguments) = query.into_parts();
            let rows = sqlx::query_with(&sql, arguments)
                .fetch_all(self.connection())
                .await?;
            for row in &rows {
                let columns = Columns::new(row, "outbox");
                delivered.push((
                    columns.text("message_id")?,
                    DeliveredMessage::read(&columns)?,
                ));
            }
        }
        Ok(delivered)
    }

    /// Records a failed attempt and when to try again.
    pub async fn reschedule(
        &mut self,
        message_id: &str,
        next_attempt_at: Timestamp,
        error: &str,
    ) -> Result<(), StoreError> {
        self.run(
            sqlx::query(
                "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $1, last_error = $2 \
                 WHERE message_id = $3 AND status = 'pending'",
            )
            .bind(next_attempt_at.millis())
            .bind(error)
            .bind(message_id),
        )
        .await?;
        Ok(())
    }

    /// Gives up on a message: it becomes a dead letter for an operator.
    pub async fn mark_dead(
        &mut self,
        message_id: &str,
        at: Timestamp,
        error: &str,
    ) -> Result<(), StoreError> {
        self.run(
            sqlx::query(
                "UPDATE outbox SET status = 'dead', finished_at = $1, last_error = $2 \
                 WHERE message_id = $3 AND status = 'pending'",
            )
            .bind(at.millis())
            .bind(error)
            .bind(message_id),
        )
        .await?;
        Ok(())
    }

    /// Puts a dead letter back in the queue (operator action).
    pub async fn retry_dead(
        &mut self,
        message_id: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let result = self
            .run(
                sqlx::query(
                    "UPDATE outbox SET status = 'pending', next_attempt_at = $1, finished_at = NULL \
                     WHERE message_id = $2 AND status = 'dead'",
                )
                .bind(now.millis())
                .bind(message_id),
            )
            .await?;
        Ok(result.rows_affected() == 1)
    }
}

/// A column list with each column qualified by the `outbox` table, for statements that
/// join it with another.
fn qualified(columns: &str) -> String {
    columns
        .split(',')
        .map(|column| format!("outbox.{}", column.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

//! Operator alerts, conversations out of step with a peer, and the queries that
//! resynchronisation and the operators' inbox and outbox views run
//! (`migrations/0004_federation_alerts.sql`).

use comity_domain::{Side, Timestamp};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::records::{InboxMessage, InboxStatus, OutboxMessage, OutboxStatus};
use crate::tx::{Columns, Record, select};
use crate::{StoreError, Tx};

/// Something an operator must look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertRecord {
    /// Unique id (a UUID).
    pub id: String,
    /// What kind: `message_rejected`, `resync_conflict`, `resync_replayed`...
    pub kind: String,
    /// The peer concerned, if one is.
    pub peer_node: Option<String>,
    /// The conversation (request id) concerned, if one is.
    pub conversation_id: Option<String>,
    /// What happened, for a person.
    pub message: String,
    /// When raised.
    pub raised_at: Timestamp,
    /// When an operator acknowledged it.
    pub acknowledged_at: Option<Timestamp>,
    /// Who acknowledged it (a user id).
    pub acknowledged_by: Option<String>,
}

/// A conversation whose two copies are known to differ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutOfStep {
    /// The conversation (request id).
    pub conversation_id: String,
    /// The peer whose copy differs.
    pub peer_node: String,
    /// Why it is out of step.
    pub reason: String,
    /// Since when.
    pub since: Timestamp,
}

/// An outgoing message with what its receipt said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    /// The message.
    pub message: OutboxMessage,
    /// `accepted`, `duplicate`, `rejected` or `restored` once a receipt (or a
    /// resynchronisation) settled it.
    pub receipt_outcome: Option<String>,
    /// The peer's reason for a rejection.
    pub rejection_reason: Option<String>,
    /// When delivery finished (receipt stored, rejected or given up).
    pub finished_at: Option<Timestamp>,
}

const ALERT_COLUMNS: &str = "id, kind, peer_node, conversation_id, message, raised_at, \
    acknowledged_at, acknowledged_by";

const ENTRY_COLUMNS: &str = "message_id, recipient_node, conversation_id, sequence, message_type, \
    in_reply_to, body, status, attempts, next_attempt_at, created_at, last_error, receipt, \
    receipt_outcome, rejection_reason, finished_at";

impl Tx {
    // --- alerts --------------------------------------------------------------------

    /// Stores a new alert.
    pub async fn insert_alert(&mut self, alert: &AlertRecord) -> Result<(), StoreError> {
        sqlx::query(&format!(
            "INSERT INTO operator_alerts ({ALERT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        ))
        .bind(alert.id.as_str())
        .bind(alert.kind.as_str())
        .bind(alert.peer_node.as_deref())
        .bind(alert.conversation_id.as_deref())
        .bind(alert.message.as_str())
        .bind(alert.raised_at.millis())
        .bind(alert.acknowledged_at.map(Timestamp::millis))
        .bind(alert.acknowledged_by.as_deref())
        .execute(self.connection())
        .await?;
        Ok(())
    }

    /// Alerts, newest first: only those not yet acknowledged unless `include_acknowledged`.
    pub async fn alerts(
        &mut self,
        include_acknowledged: bool,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<AlertRecord>, StoreError> {
        let filter = if include_acknowledged {
            ""
        } else {
            "WHERE acknowledged_at IS NULL"
        };
        let rows = sqlx::query(&format!(
            "SELECT {ALERT_COLUMNS} FROM operator_alerts {filter} \
             ORDER BY raised_at DESC, id DESC LIMIT $1 OFFSET $2"
        ))
        .bind(limit)
        .bind(offset)
        .fetch_all(self.connection())
        .await?;
        rows.iter().map(alert_from_row).collect()
    }

    /// Alerts about one conversation, oldest first.
    pub async fn alerts_about(
        &mut self,
        conversation_id: &str,
    ) -> Result<Vec<AlertRecord>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {ALERT_COLUMNS} FROM operator_alerts WHERE conversation_id = $1 \
             ORDER BY raised_at, id"
        ))
        .bind(conversation_id)
        .fetch_all(self.connection())
        .await?;
        rows.iter().map(alert_from_row).collect()
    }

    /// Marks an alert acknowledged; false if there is no such alert not yet acknowledged.
    pub async fn acknowledge_alert(
        &mut self,
        id: &str,
        by: &str,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "UPDATE operator_alerts SET acknowledged_at = $1, acknowledged_by = $2 \
             WHERE id = $3 AND acknowledged_at IS NULL",
        )
        .bind(at.millis())
        .bind(by)
        .bind(id)
        .execute(self.connection())
        .await?;
        Ok(result.rows_affected() == 1)
    }

    // --- conversations out of step -------------------------------------------------

    /// Records that a conversation's copies differ (keeping the first `since`).
    pub async fn mark_out_of_step(
        &mut self,
        conversation_id: &str,
        peer_node: &str,
        reason: &str,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO conversations_out_of_step (conversation_id, peer_node, reason, since) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (conversation_id, peer_node) \
             DO UPDATE SET reason = excluded.reason",
        )
        .bind(conversation_id)
        .bind(peer_node)
        .bind(reason)
        .bind(at.millis())
        .execute(self.connection())
        .await?;
        Ok(())
    }

    /// The conversation is in step with the peer again.
    pub async fn clear_out_of_step(
        &mut self,
        conversation_id: &str,
        peer_node: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "DELETE FROM conversations_out_of_step WHERE conversation_id = $1 AND peer_node = $2",
        )
        .bind(conversation_id)
        .bind(peer_node)
        .execute(self.connection())
        .await?;
        Ok(())
    }

    /// Why a conversation is out of step, per peer (empty when it is in step).
    pub async fn out_of_step(
        &mut self,
        conversation_id: &str,
    ) -> Result<Vec<OutOfStep>, StoreError> {
        let rows = sqlx::query(
            "SELECT conversation_id, peer_node, reason, since FROM conversations_out_of_step \
             WHERE conversation_id = $1 ORDER BY peer_node",
        )
        .bind(conversation_id)
        .fetch_all(self.connection())
        .await?;
        rows.iter().map(out_of_step_from_row).collect()
    }

    /// Every conversation out of step.
    pub async fn all_out_of_step(&mut self) -> Result<Vec<OutOfStep>, StoreError> {
        let rows = sqlx::query(
            "SELECT conversation_id, peer_node, reason, since FROM conversations_out_of_step \
             ORDER BY since, conversation_id",
        )
        .fetch_all(self.connection())
        .await?;
        rows.iter().map(out_of_step_from_row).collect()
    }

    // --- receipts ------------------------------------------------------------------

    /// Records a receipt that refuses the message: it is not delivered and will not be
    /// sent again. Returns the message if this call settled it (it was pending).
    pub async fn mark_rejected(
        &mut self,
        message_id: &str,
        receipt: &str,
        reason: &str,
        at: Timestamp,
    ) -> Result<Option<OutboxEntry>, StoreError> {
        let result = sqlx::query(
            "UPDATE outbox SET status = 'rejected', receipt = $1, receipt_outcome = 'rejected', \
             rejection_reason = $2, last_error = $2, finished_at = $3 \
             WHERE message_id = $4 AND status = 'pending'",
        )
        .bind(receipt)
        .bind(reason)
        .bind(at.millis())
        .bind(message_id)
        .execute(self.connection())
        .await?;
        if result.rows_affected() == 0 {
            return Ok(None);
        }
        self.outbox_entry(message_id).await
    }

    /// Records what a receipt said (`accepted`, `duplicate`, `restored`...).
    pub async fn set_receipt_outcome(
        &mut self,
        message_id: &str,
        outcome: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE outbox SET receipt_outcome = $1 WHERE message_id = $2")
            .bind(outcome)
            .bind(message_id)
            .execute(self.connection())
            .await?;
        Ok(())
    }

    /// Settles a queued message as delivered without sending it: the peer already holds
    /// it (a resynchronisation restored this node's record of it from the peer's).
    pub async fn mark_restored(
        &mut self,
        message_id: &str,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE outbox SET status = 'delivered', receipt_outcome = 'restored', finished_at = $1 \
             WHERE message_id = $2",
        )
        .bind(at.millis())
        .bind(message_id)
        .execute(self.connection())
        .await?;
        Ok(())
    }

    /// Settles a message that will not be sent as it is (a resynchronisation re-issues its
    /// action under a new sequence number).
    pub async fn mark_superseded(
        &mut self,
        message_id: &str,
        note: &str,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE outbox SET status = 'rejected', last_error = $1, finished_at = $2 \
             WHERE message_id = $3 AND status IN ('pending', 'rejected', 'dead')",
        )
        .bind(note)
        .bind(at.millis())
        .bind(message_id)
        .execute(self.connection())
        .await?;
        Ok(())
    }

    /// One outgoing message with its receipt's outcome.
    pub async fn outbox_entry(
        &mut self,
        message_id: &str,
    ) -> Result<Option<OutboxEntry>, StoreError> {
        let sql = select::<OutboxEntry>("WHERE message_id = $1");
        self.one(sqlx::query(&sql).bind(message_id)).await
    }

    // --- operator views ------------------------------------------------------------

    /// Outgoing messages, newest first, optionally in one status: one page.
    pub async fn outbox_page(
        &mut self,
        status: Option<OutboxStatus>,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        const ORDER: &str = "ORDER BY created_at DESC, message_id DESC";
        match status {
            Some(status) => {
                let sql =
                    select::<OutboxEntry>(&format!("WHERE status = $1 {ORDER} LIMIT $2 OFFSET $3"));
                self.all(
                    sqlx::query(&sql)
                        .bind(status.code())
                        .bind(limit)
                        .bind(offset),
                )
                .await
            }
            None => {
                let sql = select::<OutboxEntry>(&format!("{ORDER} LIMIT $1 OFFSET $2"));
                self.all(sqlx::query(&sql).bind(limit).bind(offset)).await
            }
        }
    }

    /// Received messages, newest first, optionally in one status: one page.
    pub async fn inbox_page(
        &mut self,
        status: Option<InboxStatus>,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<InboxMessage>, StoreError> {
        const ORDER: &str = "ORDER BY received_at DESC, message_id DESC";
        match status {
            Some(status) => {
                let sql = select::<InboxMessage>(&format!(
                    "WHERE status = $1 {ORDER} LIMIT $2 OFFSET $3"
                ));
                self.all(
                    sqlx::query(&sql)
                        .bind(status.code())
                        .bind(limit)
                        .bind(offset),
                )
                .await
            }
            None => {
                let sql = select::<InboxMessage>(&format!("{ORDER} LIMIT $1 OFFSET $2"));
                self.all(sqlx::query(&sql).bind(limit).bind(offset)).await
            }
        }
    }

    // --- resynchronisation ---------------------------------------------------------

    /// Every message this node queued for `peer_node` in a conversation, by sequence
    /// (then by creation).
    pub async fn conversation_outbox(
        &mut self,
        conversation_id: &str,
        peer_node: &str,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let sql = select::<OutboxEntry>(
            "WHERE conversation_id = $1 AND recipient_node = $2 \
             ORDER BY sequence, created_at, message_id",
        );
        self.all(sqlx::query(&sql).bind(conversation_id).bind(peer_node))
            .await
    }

    /// Every message received from `peer_node` in a conversation, by sequence (then by
    /// arrival).
    pub async fn conversation_inbox(
        &mut self,
        conversation_id: &str,
        peer_node: &str,
    ) -> Result<Vec<InboxMessage>, StoreError> {
        let sql = select::<InboxMessage>(
            "WHERE conversation_id = $1 AND sender_node = $2 \
             ORDER BY sequence, received_at, message_id",
        );
        self.all(sqlx::query(&sql).bind(conversation_id).bind(peer_node))
            .await
    }

    /// When each message of `peer_node` in a conversation took effect here, by message id.
    pub async fn conversation_applied_at(
        &mut self,
        conversation_id: &str,
        peer_node: &str,
    ) -> Result<Vec<(String, Option<Timestamp>)>, StoreError> {
        let rows = sqlx::query(
            "SELECT message_id, applied_at FROM inbox WHERE conversation_id = $1 AND sender_node = $2",
        )
        .bind(conversation_id)
        .bind(peer_node)
        .fetch_all(self.connection())
        .await?;
        rows.iter()
            .map(|row| {
                let at: Option<i64> = row.try_get("applied_at")?;
                Ok((row.try_get("message_id")?, at.map(Timestamp)))
            })
            .collect()
    }

    /// The conversations this node has exchanged messages in with `peer_node`.
    pub async fn conversations_with(&mut self, peer_node: &str) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT conversation_id FROM outbox WHERE recipient_node = $1 \
             UNION SELECT conversation_id FROM inbox WHERE sender_node = $1 \
             ORDER BY conversation_id",
        )
        .bind(peer_node)
        .fetch_all(self.connection())
        .await?;
        rows.iter()
            .map(|row| Ok(row.try_get("conversation_id")?))
            .collect()
    }

    /// The peers this node has exchanged messages with (itself excluded by the caller).
    pub async fn conversation_peers(&mut self) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT recipient_node AS peer FROM outbox UNION SELECT sender_node AS peer FROM inbox \
             ORDER BY peer",
        )
        .fetch_all(self.connection())
        .await?;
        rows.iter().map(|row| Ok(row.try_get("peer")?)).collect()
    }

    /// The next outgoing and expected incoming sequence of a conversation with a peer
    /// (`(1, 1)` when nothing was exchanged yet).
    pub async fn conversation_counters(
        &mut self,
        conversation_id: &str,
        peer_node: &str,
    ) -> Result<(i64, i64), StoreError> {
        let row = sqlx::query(
            "SELECT next_outgoing, next_incoming FROM conversation_sequences \
             WHERE conversation_id = $1 AND peer_node = $2",
        )
        .bind(conversation_id)
        .bind(peer_node)
        .fetch_optional(self.connection())
        .await?;
        match row {
            Some(row) => Ok((row.try_get("next_outgoing")?, row.try_get("next_incoming")?)),
            None => Ok((1, 1)),
        }
    }

    /// Moves the conversation's next outgoing sequence up to at least `at_least` (never
    /// down): the peer consumed the numbers below it.
    pub async fn raise_outgoing_sequence(
        &mut self,
        conversation_id: &str,
        peer_node: &str,
        at_least: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO conversation_sequences (conversation_id, peer_node, next_outgoing, next_incoming) \
             VALUES ($1, $2, $3, 1) ON CONFLICT (conversation_id, peer_node) \
             DO UPDATE SET next_outgoing = CASE WHEN conversation_sequences.next_outgoing < excluded.next_outgoing \
             THEN excluded.next_outgoing ELSE conversation_sequences.next_outgoing END",
        )
        .bind(conversation_id)
        .bind(peer_node)
        .bind(at_least)
        .execute(self.connection())
        .await?;
        Ok(())
    }

    /// Removes the history rows of one side of a request after the first `keep` rows,
    /// returning how many went. Resynchronisation writes them again, in the order both
    /// copies share, in the same transaction.
    pub async fn truncate_history(
        &mut self,
        request_id: &str,
        side: Side,
        keep: i64,
    ) -> Result<u64, StoreError> {
        let result = sqlx::query(
            "DELETE FROM request_history WHERE request_id = $1 AND side = $2 AND seq > $3",
        )
        .bind(request_id)
        .bind(side.code())
        .bind(keep)
        .execute(self.connection())
        .await?;
        Ok(result.rows_affected())
    }
}

fn alert_from_row(row: &AnyRow) -> Result<AlertRecord, StoreError> {
    let acknowledged_at: Option<i64> = row.try_get("acknowledged_at")?;
    Ok(AlertRecord {
        id: row.try_get("id")?,
        kind: row.try_get("kind")?,
        peer_node: row.try_get("peer_node")?,
        conversation_id: row.try_get("conversation_id")?,
        message: row.try_get("message")?,
        raised_at: Timestamp(row.try_get("raised_at")?),
        acknowledged_at: acknowledged_at.map(Timestamp),
        acknowledged_by: row.try_get("acknowledged_by")?,
    })
}

fn out_of_step_from_row(row: &AnyRow) -> Result<OutOfStep, StoreError> {
    Ok(OutOfStep {
        conversation_id: row.try_get("conversation_id")?,
        peer_node: row.try_get("peer_node")?,
        reason: row.try_get("reason")?,
        since: Timestamp(row.try_get("since")?),
    })
}

/// An outgoing message read with what its receipt said: the outbox's own columns through
/// [`OutboxMessage`]'s reader, then the three this module adds.
impl Record for OutboxEntry {
    const TABLE: &'static str = "outbox";
    const COLUMNS: &'static str = ENTRY_COLUMNS;

    fn read(row: &Columns<'_>) -> Result<Self, StoreError> {
        Ok(OutboxEntry {
            message: OutboxMessage::read(row)?,
            receipt_outcome: row.optional_text("receipt_outcome")?,
            rejection_reason: row.optional_text("rejection_reason")?,
            finished_at: row.optional_time("finished_at")?,
        })
    }
}

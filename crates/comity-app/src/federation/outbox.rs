//! What this node sent: the recipient's signed receipt closes an outgoing message, and
//! every other step the outbox sender records (what is due, a held-back message, a failed
//! attempt) is a use case here, so the worker never opens a transaction of its own.

use comity_domain::Timestamp;
use comity_store::{OutboxMessage, Tx};

use crate::{App, AppError};

impl App {
    /// Records the recipient's signed receipt for an outgoing message; the capability
    /// owning the message's topic then records what delivery means to it (a receipt for
    /// a dispatched request records the request's delivery).
    pub async fn record_receipt(&self, message_id: &str, receipt: &str) -> Result<(), AppError> {
        let mut tx = self.store().begin().await?;
        self.record_receipt_in(&mut tx, message_id, receipt).await?;
        tx.commit().await?;
        Ok(())
    }

    /// [`App::record_receipt`] inside a transaction the caller commits (one receipt or a
    /// whole batch's).
    pub(crate) async fn record_receipt_in(
        &self,
        tx: &mut Tx,
        message_id: &str,
        receipt: &str,
    ) -> Result<(), AppError> {
        let Some(message) = tx.mark_delivered(message_id, receipt, self.now()).await? else {
            // Delivered before (a duplicate receipt), or not ours at all.
            if tx.outbox_message(message_id).await?.is_none() {
                return Err(AppError::NotFound(format!("outgoing message {message_id}")));
            }
            return Ok(());
        };
        self.delivered(tx, &message).await?;
        Ok(())
    }

    /// The peers that have outgoing messages due now.
    pub async fn peers_with_due_messages(&self) -> Result<Vec<String>, AppError> {
        let mut tx = self.store().read().await?;
        Ok(tx.peers_with_due_messages(self.now()).await?)
    }

    /// At most `limit` messages to `peer` due now, oldest first, in conversation order.
    pub async fn due_messages_to(
        &self,
        peer: &str,
        limit: i64,
    ) -> Result<Vec<OutboxMessage>, AppError> {
        let mut tx = self.store().read().await?;
        Ok(tx.due_messages_to(peer, self.now(), limit).await?)
    }

    /// Keeps a message pending without counting an attempt until `until` (the recipient
    /// does not accept its type yet).
    pub async fn hold_outgoing(&self, message_id: &str, until: Timestamp) -> Result<(), AppError> {
        let mut tx = self.store().begin().await?;
        tx.hold_outgoing(message_id, until).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Gives up on a message: it becomes a dead letter, with the last error, for an
    /// operator to look at and retry.
    pub async fn mark_dead_letter(&self, message_id: &str, error: &str) -> Result<(), AppError> {
        let mut tx = self.store().begin().await?;
        tx.mark_dead(message_id, self.now(), error).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Counts a failed attempt and sets the next one.
    pub async fn reschedule_delivery(
        &self,
        message_id: &str,
        next: Timestamp,
        error: &str,
    ) -> Result<(), AppError> {
        let mut tx = self.store().begin().await?;
        tx.reschedule(message_id, next, error).await?;
        tx.commit().await?;
        Ok(())
    }
}

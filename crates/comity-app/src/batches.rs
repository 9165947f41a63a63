//! Group commit for the federation: a batch of incoming messages accepted in one
//! transaction, and a batch of receipts recorded in one transaction.
//!
//! Each message or receipt goes through exactly the logic of its one-at-a-time use case
//! ([`App::accept_incoming`], [`App::record_receipt`]), in the order given, so duplicates,
//! waiting messages and conversation order behave the same; only the commits are shared.
//! A message that cannot take effect is recorded as rejected on its own and the others
//! still commit; a storage failure rolls back the whole batch (the sender retries it).

use crate::federation::{InboundOutcome, IncomingMessage};
use crate::{App, AppError};

impl App {
    /// Stores and applies verified incoming messages, in order, in one transaction;
    /// returns each message's outcome, in the same order.
    pub async fn accept_incoming_batch(
        &self,
        messages: &[IncomingMessage],
    ) -> Result<Vec<InboundOutcome>, AppError> {
        let mut tx = self.store().begin().await?;
        let mut outcomes = Vec::with_capacity(messages.len());
        for message in messages {
            outcomes.push(self.accept_incoming_in(&mut tx, message).await?);
        }
        tx.commit().await?;
        Ok(outcomes)
    }

    /// Records several receipts for outgoing messages in one transaction: `receipts`
    /// holds (message id, receipt) pairs. A receipt for a message this node does not know
    /// is skipped with a warning rather than failing the others.
    pub async fn record_receipts(&self, receipts: &[(String, String)]) -> Result<(), AppError> {
        if receipts.is_empty() {
            return Ok(());
        }
        let mut tx = self.store().begin().await?;
        for (message_id, receipt) in receipts {
            match self.record_receipt_in(&mut tx, message_id, receipt).await {
                Ok(()) => {}
                Err(AppError::NotFound(what)) => {
                    tracing::warn!(%what, "receipt for an unknown outgoing message skipped");
                }
                Err(error) => return Err(error),
            }
        }
        tx.commit().await?;
        Ok(())
    }
}

//! Group commit for the federation: a batch of incoming messages accepted in one
//! transaction, and a batch of receipts recorded in one transaction.
//!
//! Each message goes through exactly the logic of its one-at-a-time use case
//! ([`App::accept_incoming`]), in the order given, so duplicates, waiting messages and
//! conversation order behave the same; what the messages share is the commit, one read of
//! the sender's waiting conversations and one statement marking them applied. Receipts
//! are marked delivered in one statement, then each message's capability records what
//! its delivery means, in the receipts' order, as [`App::record_receipt`] does for one.
//! A message that cannot take effect is recorded as rejected on its own and the others
//! still commit; a storage failure rolls back the whole batch (the sender retries it).

use std::collections::{HashMap, HashSet};

use crate::federation::{Applying, InboundOutcome, IncomingMessage};
use crate::{App, AppError};

impl App {
    /// Stores and applies verified incoming messages, in order, in one transaction;
    /// returns each message's outcome, in the same order.
    pub async fn accept_incoming_batch(
        &self,
        messages: &[IncomingMessage],
    ) -> Result<Vec<InboundOutcome>, AppError> {
        let mut tx = self.store().begin().await?;
        let mut applying = Applying::default();
        let mut outcomes = Vec::with_capacity(messages.len());
        for message in messages {
            outcomes.push(
                self.accept_incoming_in(&mut tx, &mut applying, message)
                    .await?,
            );
        }
        applying.finish(&mut tx, self.now()).await?;
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
        let mut delivered = tx.mark_all_delivered(receipts, self.now()).await?;
        // Each capability hears of its deliveries in the order the receipts came.
        let position: HashMap<&str, usize> = receipts
            .iter()
            .enumerate()
            .map(|(index, (message_id, _))| (message_id.as_str(), index))
            .collect();
        delivered.sort_by_key(|(message_id, _)| position.get(message_id.as_str()).copied());
        if delivered.len() < receipts.len() {
            // Delivered before (a duplicate receipt), or not ours at all.
            let newly: HashSet<&str> = delivered.iter().map(|(id, _)| id.as_str()).collect();
            for (message_id, _) in receipts {
                if !newly.contains(message_id.as_str())
                    && tx.outbox_message(message_id).await?.is_none()
                {
                    tracing::warn!(%message_id, "receipt for an unknown outgoing message skipped");
                }
            }
        }
        for (_, message) in &delivered {
            self.delivered(&mut tx, message).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

//! What this node sent: the recipient's signed receipt closes an outgoing message.

use comity_store::Tx;

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
}

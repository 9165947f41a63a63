//! Operator use cases: the federation's dead letters.

use comity_domain::Role;
use comity_store::{OutboxMessage, OutboxStatus};

use crate::{App, AppError, Principal};

impl App {
    /// Outgoing messages in a status, newest first (node operators).
    pub async fn outbox(
        &self,
        principal: &Principal,
        status: OutboxStatus,
    ) -> Result<Vec<OutboxMessage>, AppError> {
        principal.require_any(&[Role::NodeOperator], "inspect the outbox")?;
        let mut tx = self.store().begin().await?;
        Ok(tx.outbox_in_status(status, 500).await?)
    }

    /// Puts a dead letter back in the queue (node operators).
    pub async fn retry_dead_letter(
        &self,
        principal: &Principal,
        message_id: &str,
    ) -> Result<(), AppError> {
        principal.require_any(&[Role::NodeOperator], "retry dead letters")?;
        let mut tx = self.store().begin().await?;
        if !tx.retry_dead(message_id, self.now()).await? {
            return Err(AppError::NotFound(format!("dead letter {message_id}")));
        }
        tx.commit().await?;
        self.outbox_signal().notify_one();
        Ok(())
    }
}

//! Holding back an outgoing message the recipient does not accept yet (its trust-list
//! entry does not list the message's type): it stays pending, without counting an
//! attempt, so it neither fails nor becomes a dead letter while the peer upgrades.

use comity_domain::Timestamp;

use crate::{StoreError, Tx};

impl Tx {
    /// Moves a pending message's next attempt to `until`, leaving its attempts and last
    /// error as they are. A message no longer pending is left alone.
    pub async fn hold_outgoing(
        &mut self,
        message_id: &str,
        until: Timestamp,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE outbox SET next_attempt_at = $1 WHERE message_id = $2 AND status = 'pending'",
        )
        .bind(until.millis())
        .bind(message_id)
        .execute(self.connection())
        .await?;
        Ok(())
    }
}

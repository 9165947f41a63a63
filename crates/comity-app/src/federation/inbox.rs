//! The inbox: what peers send is stored with its envelope, then applied exactly once and
//! in conversation order, in one transaction with the inbox row that proves it arrived.
//!
//! Generic over topics: duplicates (by message id), waiting (a later sequence waits for
//! its predecessor) and replays (an earlier sequence under a new id) are decided here on
//! the conversation id and the sender alone; what a message means is the dispatcher's.

use comity_store::{InboxMessage, InboxStatus, Tx};
use comity_wire::federation::ConversationId;

use super::{InboundOutcome, IncomingMessage, Outcome, Rejection};
use crate::{App, AppError};

impl App {
    /// Stores a verified incoming message and applies it, and any successors it
    /// unblocks, in conversation order. A duplicate changes nothing.
    pub async fn accept_incoming(
        &self,
        message: &IncomingMessage,
    ) -> Result<InboundOutcome, AppError> {
        let mut tx = self.store().begin().await?;
        let outcome = self.accept_incoming_in(&mut tx, message).await?;
        tx.commit().await?;
        Ok(outcome)
    }

    /// [`App::accept_incoming`] inside a transaction the caller commits (one message or
    /// a whole batch).
    pub(crate) async fn accept_incoming_in(
        &self,
        tx: &mut Tx,
        message: &IncomingMessage,
    ) -> Result<InboundOutcome, AppError> {
        // The inbox and the sequence counters key on the canonical conversation id, so a
        // conversation keeps one order whichever form (bare or prefixed) the sender wrote.
        let conversation = ConversationId::parse(&message.conversation_id);
        let conversation_id = match &conversation {
            Ok(conversation) => conversation.to_string(),
            Err(_) => message.conversation_id.clone(),
        };
        let stored = InboxMessage {
            message_id: message.message_id.clone(),
            sender_node: message.sender_node.clone(),
            conversation_id,
            sequence: message.sequence,
            message_type: message.message_type.clone(),
            body: message.body.clone(),
            envelope: message.envelope.clone(),
            status: InboxStatus::Waiting,
            received_at: self.now(),
            outcome: None,
        };
        let fresh = tx.insert_inbox(&stored).await?;
        if !fresh {
            return Ok(InboundOutcome::Duplicate);
        }
        let refused = match conversation {
            Err(error) => Some(Rejection::from(error)),
            Ok(_) => {
                let expected = tx
                    .expected_incoming_sequence(&stored.conversation_id, &stored.sender_node)
                    .await?;
                if message.sequence > expected {
                    return Ok(InboundOutcome::Queued);
                }
                (message.sequence < expected).then_some(Rejection::Replay {
                    sequence: message.sequence,
                    expected,
                })
            }
        };
        if let Some(rejection) = refused {
            let reason = rejection.to_string();
            tx.finish_inbox(
                &stored.message_id,
                InboxStatus::Rejected,
                Some(&reason),
                self.now(),
            )
            .await?;
            return Ok(InboundOutcome::Rejected(reason));
        }
        let mut outcome = InboundOutcome::Applied;
        let mut next = Some(stored);
        while let Some(current) = next {
            let (status, reason) = match self.dispatch(tx, &current).await? {
                Outcome::Applied => (InboxStatus::Applied, None),
                Outcome::Rejected(rejection) => {
                    (InboxStatus::Rejected, Some(rejection.to_string()))
                }
            };
            tx.finish_inbox(&current.message_id, status, reason.as_deref(), self.now())
                .await?;
            if current.message_id == message.message_id
                && let Some(reason) = reason
            {
                outcome = InboundOutcome::Rejected(reason);
            }
            tx.advance_incoming_sequence(&current.conversation_id, &current.sender_node)
                .await?;
            next = tx
                .waiting_message(
                    &current.conversation_id,
                    &current.sender_node,
                    current.sequence + 1,
                )
                .await?;
        }
        Ok(outcome)
    }
}

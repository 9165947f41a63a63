//! The inbox: what peers send is stored with its envelope, then applied exactly once and
//! in conversation order, in one transaction with the inbox row that proves it arrived.
//!
//! Generic over topics: duplicates (by message id), waiting (a later sequence waits for
//! its predecessor) and replays (an earlier sequence under a new id) are decided here on
//! the conversation id and the sender alone; what a message means is the dispatcher's.

use std::collections::{HashMap, HashSet};

use comity_store::{InboxMessage, InboxStatus, SequenceClaim, Tx};
use comity_wire::federation::ConversationId;

use super::{InboundOutcome, IncomingMessage, Outcome, Registry, Rejection};
use crate::{App, AppError};

impl App {
    /// Stores a verified incoming message and applies it, and any successors it
    /// unblocks, in conversation order. A duplicate changes nothing.
    pub async fn accept_incoming(
        &self,
        message: &IncomingMessage,
    ) -> Result<InboundOutcome, AppError> {
        let mut tx = self.store().begin().await?;
        let mut applying = Applying::default();
        let outcome = self
            .accept_incoming_in(&mut tx, &mut applying, message)
            .await?;
        applying.finish(&mut tx, self.now()).await?;
        tx.commit().await?;
        Ok(outcome)
    }

    /// [`App::accept_incoming`] inside a transaction the caller commits (one message or
    /// a whole batch), after [`Applying::finish`].
    pub(crate) async fn accept_incoming_in(
        &self,
        tx: &mut Tx,
        applying: &mut Applying,
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
            Ok(_) => match tx
                .claim_incoming_sequence(
                    &stored.conversation_id,
                    &stored.sender_node,
                    stored.sequence,
                )
                .await?
            {
                SequenceClaim::Claimed => None,
                SequenceClaim::Expected(expected) if message.sequence > expected => {
                    applying.queued(&stored.sender_node, &stored.conversation_id);
                    return Ok(InboundOutcome::Queued);
                }
                SequenceClaim::Expected(expected) => Some(Rejection::Replay {
                    sequence: message.sequence,
                    expected,
                }),
            },
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
        // Each message applied here has had its sequence claimed: the conversation moves
        // on whether it takes effect or is rejected.
        let mut outcome = InboundOutcome::Applied;
        let mut next = Some(stored);
        while let Some(current) = next {
            match self.dispatch(tx, &mut applying.registry, &current).await? {
                Outcome::Applied => applying.applied.push(current.message_id.clone()),
                Outcome::Rejected(rejection) => {
                    let reason = rejection.to_string();
                    tx.finish_inbox(
                        &current.message_id,
                        InboxStatus::Rejected,
                        Some(&reason),
                        self.now(),
                    )
                    .await?;
                    if current.message_id == message.message_id {
                        outcome = InboundOutcome::Rejected(reason);
                    }
                }
            }
            next = self.successor(tx, applying, &current).await?;
        }
        Ok(outcome)
    }

    /// The message that was waiting for `current`, with its sequence claimed.
    async fn successor(
        &self,
        tx: &mut Tx,
        applying: &mut Applying,
        current: &InboxMessage,
    ) -> Result<Option<InboxMessage>, AppError> {
        if !applying
            .may_wait(tx, &current.sender_node, &current.conversation_id)
            .await?
        {
            return Ok(None);
        }
        let sequence = current.sequence + 1;
        let Some(successor) = tx
            .waiting_message(&current.conversation_id, &current.sender_node, sequence)
            .await?
        else {
            return Ok(None);
        };
        let claim = tx
            .claim_incoming_sequence(&current.conversation_id, &current.sender_node, sequence)
            .await?;
        if claim != SequenceClaim::Claimed {
            // Cannot happen while the claim above held; left waiting rather than applied
            // out of order.
            tracing::warn!(
                conversation = %current.conversation_id,
                sequence,
                ?claim,
                "a waiting message's sequence could not be claimed; it stays waiting"
            );
            return Ok(None);
        }
        Ok(Some(successor))
    }
}

/// What the inbox carries across the messages of one transaction: which conversations
/// may have messages waiting (read once per sender, so that most messages need no look
/// for a successor), the messages applied, marked so in one statement at the end, and
/// the authorities read so far.
#[derive(Debug, Default)]
pub(crate) struct Applying {
    waiting: HashMap<String, HashSet<String>>,
    applied: Vec<String>,
    registry: Registry,
}

impl Applying {
    /// Whether `conversation` from `sender` may have a message waiting.
    async fn may_wait(
        &mut self,
        tx: &mut Tx,
        sender: &str,
        conversation: &str,
    ) -> Result<bool, AppError> {
        if !self.waiting.contains_key(sender) {
            let waiting = tx.conversations_waiting(sender).await?;
            self.waiting
                .insert(sender.to_string(), waiting.into_iter().collect());
        }
        Ok(self
            .waiting
            .get(sender)
            .is_some_and(|conversations| conversations.contains(conversation)))
    }

    /// Notes a message stored to wait for its predecessor.
    fn queued(&mut self, sender: &str, conversation: &str) {
        // Until the sender's set is read, the read finds this message itself.
        if let Some(conversations) = self.waiting.get_mut(sender) {
            conversations.insert(conversation.to_string());
        }
    }

    /// Marks the applied messages; call once, before the commit.
    pub(crate) async fn finish(
        self,
        tx: &mut Tx,
        at: comity_domain::Timestamp,
    ) -> Result<(), AppError> {
        tx.finish_inbox_applied(&self.applied, at).await?;
        Ok(())
    }
}

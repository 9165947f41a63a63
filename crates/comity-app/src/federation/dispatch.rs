//! The dispatcher: one decode through the message-type table, one check that the body
//! belongs to the envelope's conversation, and one `match` that hands the body to the
//! capability owning its topic. An unknown type is refused here, by name, before any
//! capability sees it.

use comity_store::{DeliveredMessage, InboxMessage, Tx};
use comity_wire::federation::{ConversationId, FederationBody, request};

use super::{Outcome, Registry, Rejection};
use crate::{App, AppError};

impl App {
    /// Applies one stored message. `Outcome::Rejected` is a message that cannot take
    /// effect (it is recorded as rejected); `Err` is a storage failure that rolls
    /// everything back.
    pub(crate) async fn dispatch(
        &self,
        tx: &mut Tx,
        registry: &mut Registry,
        message: &InboxMessage,
    ) -> Result<Outcome, AppError> {
        let body = match FederationBody::decode(&message.message_type, message.body.as_bytes()) {
            Ok(body) => body,
            Err(error) => return Ok(Outcome::Rejected(error.into())),
        };
        let envelope_conversation = match ConversationId::parse(&message.conversation_id) {
            Ok(conversation) => conversation,
            Err(error) => return Ok(Outcome::Rejected(error.into())),
        };
        let body_conversation = body.conversation();
        if body_conversation != envelope_conversation {
            return Ok(Outcome::Rejected(Rejection::ConversationMismatch {
                envelope: envelope_conversation.to_string(),
                body: body_conversation.to_string(),
            }));
        }
        match body {
            FederationBody::Request(body) => {
                self.apply_request_message(tx, registry, &message.sender_node, body)
                    .await
            }
        }
    }

    /// Tells the capability that owns a delivered message's topic that the recipient
    /// signed for it.
    pub(crate) async fn delivered(
        &self,
        tx: &mut Tx,
        message: &DeliveredMessage,
    ) -> Result<(), AppError> {
        let Ok(conversation) = ConversationId::parse(&message.conversation_id) else {
            return Ok(());
        };
        if message.message_type == request::TYPE_DISPATCHED {
            self.record_request_delivery(tx, &conversation, &message.recipient_node)
                .await?;
        }
        Ok(())
    }
}

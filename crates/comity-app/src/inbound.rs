//! What peers send: applied exactly once, in conversation order, in one transaction with
//! the inbox row that proves it arrived.

use comity_domain::{
    Action, Actor, Case, Origin, Request, RequestState, Side, TransitionOutcome, TransitionRecord,
    decide_delivery, decide_remote,
};
use comity_store::{InboxMessage, InboxStatus, Tx};
use comity_wire::federation::{BODY_VERSION, FederationBody};

use crate::{App, AppError};

/// A message whose envelope has been verified and opened by the transport.
#[derive(Debug, Clone)]
pub struct IncomingMessage {
    /// Envelope message id.
    pub message_id: String,
    /// The verified sender node.
    pub sender_node: String,
    /// Conversation id (the request id).
    pub conversation_id: String,
    /// Position in the conversation.
    pub sequence: i64,
    /// Envelope message type.
    pub message_type: String,
    /// The decrypted body.
    pub body: String,
    /// The envelope as received, base64, kept for non-repudiation.
    pub envelope: String,
}

/// What the inbox did with a message: the receipt reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InboundOutcome {
    /// Stored and applied (with any successors that were waiting for it).
    Applied,
    /// Stored; waits for an earlier message of its conversation.
    Queued,
    /// Stored, but it could not take effect; the reason is recorded.
    Rejected(String),
    /// Already received: nothing changed.
    Duplicate,
}

impl App {
    /// Stores a verified incoming message and applies it, and any successors it
    /// unblocks, in conversation order. A duplicate changes nothing.
    pub async fn accept_incoming(
        &self,
        message: &IncomingMessage,
    ) -> Result<InboundOutcome, AppError> {
        let mut tx = self.store().begin().await?;
        let (outcome, queued_replies) = self.accept_incoming_in(&mut tx, message).await?;
        tx.commit().await?;
        if queued_replies {
            self.outbox_signal().notify_one();
        }
        Ok(outcome)
    }

    /// [`App::accept_incoming`] inside a transaction the caller commits (one message or
    /// a whole batch). Also says whether replies were queued in the outbox.
    pub(crate) async fn accept_incoming_in(
        &self,
        tx: &mut Tx,
        message: &IncomingMessage,
    ) -> Result<(InboundOutcome, bool), AppError> {
        let stored = InboxMessage {
            message_id: message.message_id.clone(),
            sender_node: message.sender_node.clone(),
            conversation_id: message.conversation_id.clone(),
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
            return Ok((InboundOutcome::Duplicate, false));
        }
        let expected = tx
            .expected_incoming_sequence(&message.conversation_id, &message.sender_node)
            .await?;
        if message.sequence < expected {
            let reason = format!(
                "sequence {} already consumed (expected {expected}): replayed or reissued message",
                message.sequence
            );
            tx.finish_inbox(
                &message.message_id,
                InboxStatus::Rejected,
                Some(&reason),
                self.now(),
            )
            .await?;
            return Ok((InboundOutcome::Rejected(reason), false));
        }
        if message.sequence > expected {
            return Ok((InboundOutcome::Queued, false));
        }
        let mut outcome = InboundOutcome::Applied;
        let mut next = Some(stored);
        let mut queued_replies = false;
        while let Some(current) = next {
            let result = self.apply_body(tx, &current).await?;
            let (status, note) = match &result {
                Ok(replied) => {
                    queued_replies |= *replied;
                    (InboxStatus::Applied, None)
                }
                Err(reason) => (InboxStatus::Rejected, Some(reason.as_str())),
            };
            tx.finish_inbox(&current.message_id, status, note, self.now())
                .await?;
            if current.message_id == message.message_id
                && let Err(reason) = result
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
        Ok((outcome, queued_replies))
    }

    /// Records the recipient's signed receipt for an outgoing message; a receipt for a
    /// dispatched request also records its delivery.
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
        let is_dispatch = message.message_type == comity_wire::federation::TYPE_REQUEST_DISPATCHED;
        let requesting_copy = if is_dispatch {
            tx.request(&message.conversation_id, Side::Requesting)
                .await?
        } else {
            None
        };
        if let Some(request) = requesting_copy
            && let Some(to) = decide_delivery(request.state)
        {
            let record = TransitionRecord {
                action: Action::RecordDelivery,
                from: request.state,
                to,
                actor: Actor::System,
                origin: Origin::Local,
                at: self.now(),
                reason: Some(format!("signed receipt from {}", message.recipient_node)),
                grounds: Vec::new(),
            };
            move_request(tx, request, &record).await?;
        }
        Ok(())
    }

    /// Applies one message. `Ok(Err(reason))` is a message that cannot take effect (it
    /// is recorded as rejected); `Err` is a storage failure that rolls everything back.
    /// `Ok(Ok(true))` means outgoing messages were queued in reply.
    async fn apply_body(
        &self,
        tx: &mut Tx,
        message: &InboxMessage,
    ) -> Result<Result<bool, String>, AppError> {
        let body: FederationBody = match serde_json::from_str(&message.body) {
            Ok(body) => body,
            Err(error) => return Ok(Err(format!("malformed body: {error}"))),
        };
        if body.version() != BODY_VERSION {
            return Ok(Err(format!("unsupported body version {}", body.version())));
        }
        if body.request_id() != message.conversation_id {
            return Ok(Err(
                "the body's request is not the envelope's conversation".into()
            ));
        }
        match body {
            FederationBody::RequestDispatched {
                request_id,
                content,
                case_reference,
                ..
            } => {
                self.apply_dispatch(
                    tx,
                    &message.sender_node,
                    request_id,
                    *content,
                    case_reference,
                )
                .await
            }
            FederationBody::ActionTaken {
                request_id,
                from_side,
                action,
                reason,
                grounds,
                actor,
                ..
            } => {
                let Ok(from_side) = from_side.parse::<Side>() else {
                    return Ok(Err(format!("unknown side `{from_side}`")));
                };
                let Ok(action) = action.parse::<Action>() else {
                    return Ok(Err(format!("unknown action `{action}`")));
                };
                let local_side = match from_side {
                    Side::Requesting => Side::Requested,
                    Side::Requested => Side::Requesting,
                };
                let Some(request) = tx.request(&request_id, local_side).await? else {
                    return Ok(Err(format!(
                        "no {} copy of request {request_id}",
                        local_side.code()
                    )));
                };
                let counterpart = match local_side {
                    Side::Requesting => &request.content.requested_authority,
                    Side::Requested => &request.content.requesting_authority,
                };
                let hosted_by_sender = tx
                    .authority(counterpart)
                    .await?
                    .is_some_and(|record| record.node_id == message.sender_node);
                if !hosted_by_sender {
                    return Ok(Err(format!(
                        "node {} does not host {counterpart}, the other side of this request",
                        message.sender_node
                    )));
                }
                let outcome = match decide_remote(local_side, request.state, action) {
                    Ok(outcome) => outcome,
                    Err(error) => return Ok(Err(error.to_string())),
                };
                let to = match outcome {
                    TransitionOutcome::Moved(to) => to,
                    TransitionOutcome::Superseded => request.state,
                };
                let record = TransitionRecord {
                    action,
                    from: request.state,
                    to,
                    actor: Actor::Peer {
                        node_id: format!("{} — {actor}", message.sender_node),
                    },
                    origin: Origin::Remote,
                    at: self.now(),
                    reason,
                    grounds,
                };
                move_request(tx, request, &record).await?;
                Ok(Ok(false))
            }
        }
    }

    async fn apply_dispatch(
        &self,
        tx: &mut Tx,
        sender_node: &str,
        request_id: String,
        content: comity_wire::RequestContentDto,
        case_reference: String,
    ) -> Result<Result<bool, String>, AppError> {
        let mut ids = Vec::new();
        for (field, text) in [
            ("requested_authority", &content.requested_authority),
            ("requesting_authority", &content.requesting_authority),
        ] {
            match text.parse::<comity_domain::AuthorityId>() {
                Ok(id) => ids.push(id),
                Err(error) => return Ok(Err(format!("invalid request content: {field}: {error}"))),
            }
        }
        let parties = tx.authorities_among(&ids).await?;
        let find = |id: &comity_domain::AuthorityId| {
            parties.iter().find(|record| &record.authority.id == id)
        };
        // Countries come from this node's registry, not from the sender: a peer cannot
        // move an authority into another state (and so under other instruments).
        let content = match content.to_domain(|id| find(id).map(|record| record.authority.country))
        {
            Ok(content) => content,
            Err(error) => return Ok(Err(format!("invalid request content: {error}"))),
        };
        let Some(requested) = find(&content.requested_authority) else {
            return Ok(Err(format!(
                "{} is not known here",
                content.requested_authority
            )));
        };
        if !requested.is_local {
            return Ok(Err(format!(
                "{} is not hosted on this node",
                content.requested_authority
            )));
        }
        let sender_hosts_requester =
            find(&content.requesting_authority).is_some_and(|record| record.node_id == sender_node);
        if !sender_hosts_requester {
            return Ok(Err(format!(
                "node {sender_node} does not host {}, the requesting authority",
                content.requesting_authority
            )));
        }
        if tx.request(&request_id, Side::Requested).await?.is_some() {
            return Ok(Err(format!("request {request_id} was already received")));
        }
        // Only this node's own outgoing request may share the id of an incoming copy
        // (both authorities hosted here): a peer cannot take over an id in use here.
        if sender_node != self.node_id()
            && tx.request(&request_id, Side::Requesting).await?.is_some()
        {
            return Ok(Err(format!(
                "request id {request_id} is already in use on this node"
            )));
        }
        let now = self.now();
        let case = Case {
            id: self.new_id(),
            authority: content.requested_authority.clone(),
            reference: format!("IN {} / {}", content.requesting_authority, case_reference),
            title: truncate(&content.subject_matter, 120),
            created_at: now,
        };
        tx.insert_case(&case).await?;
        let request = Request {
            id: request_id,
            case_id: case.id,
            side: Side::Requested,
            state: RequestState::Delivered,
            content,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        tx.insert_request(&request).await?;
        tx.append_history(
            &request.id,
            Side::Requested,
            &TransitionRecord {
                action: Action::Dispatch,
                from: RequestState::Delivered,
                to: RequestState::Delivered,
                actor: Actor::Peer {
                    node_id: sender_node.to_string(),
                },
                origin: Origin::Remote,
                at: now,
                reason: None,
                grounds: Vec::new(),
            },
        )
        .await?;
        Ok(Ok(false))
    }
}

async fn move_request(
    tx: &mut Tx,
    request: Request,
    record: &TransitionRecord,
) -> Result<(), AppError> {
    let mut updated = request.clone();
    updated.state = record.to;
    updated.updated_at = record.at;
    updated.version += 1;
    tx.update_request(&updated, request.version).await?;
    tx.append_history(&request.id, request.side, record).await?;
    Ok(())
}

fn truncate(text: &str, chars: usize) -> String {
    let mut short: String = text.chars().take(chars).collect();
    if text.chars().count() > chars {
        short.push('…');
    }
    if short.trim().is_empty() {
        "(no subject given)".to_string()
    } else {
        short
    }
}

//! The request capability's side of the federation: applying what the other side of a
//! request sends (its dispatch, then its lifecycle actions) and recording the delivery
//! of a dispatch. The dispatcher (`federation/dispatch.rs`) calls in here with a body
//! already decoded and checked against the envelope's conversation.

use comity_domain::{
    Action, Actor, AuthorityId, Case, NodeId, Origin, Request, RequestId, RequestState, Side,
    TransitionError, TransitionOutcome, TransitionRecord, decide_delivery, decide_remote,
};
use comity_store::Tx;
use comity_wire::federation::request::{ActionTaken, Dispatched, Message};
use comity_wire::federation::{ConversationId, Topic};

use crate::federation::{Outcome, Registry};
use crate::{App, AppError};

/// Why a request message cannot take effect here.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestRejection {
    /// The request content does not parse into the domain.
    #[error("invalid request content: {0}")]
    InvalidContent(String),
    /// The requested authority is not on this node's registry.
    #[error("{0} is not known here")]
    UnknownAuthority(AuthorityId),
    /// The requested authority is known but hosted elsewhere.
    #[error("{0} is not hosted on this node")]
    NotHostedHere(AuthorityId),
    /// The sender does not host the requesting authority.
    #[error("node {sender} does not host {authority}, the requesting authority")]
    SenderNotRequester {
        /// The sending node.
        sender: String,
        /// The requesting authority named in the content.
        authority: AuthorityId,
    },
    /// A dispatch for a request this node already holds a requested copy of.
    #[error("request {0} was already received")]
    AlreadyReceived(RequestId),
    /// A peer's dispatch reusing the id of a request this node sent.
    #[error("request id {0} is already in use on this node")]
    IdInUse(RequestId),
    /// An action on a request this node holds no copy of.
    #[error("no {} copy of request {request_id}", side.code())]
    NoCopy {
        /// The side this node would hold.
        side: Side,
        /// The request.
        request_id: RequestId,
    },
    /// The sender does not host the other side of the request.
    #[error("node {sender} does not host {authority}, the other side of this request")]
    SenderNotCounterpart {
        /// The sending node.
        sender: String,
        /// The authority holding the other side.
        authority: AuthorityId,
    },
    /// The lifecycle does not allow the action now.
    #[error(transparent)]
    Transition(#[from] TransitionError),
}

fn reject(rejection: RequestRejection) -> Result<Outcome, AppError> {
    Ok(Outcome::Rejected(rejection.into()))
}

impl App {
    /// Applies one message of the request topic from `sender_node`.
    pub(crate) async fn apply_request_message(
        &self,
        tx: &mut Tx,
        registry: &mut Registry,
        sender_node: &str,
        message: Message,
    ) -> Result<Outcome, AppError> {
        match message {
            Message::Dispatched(body) => self.apply_dispatch(tx, registry, sender_node, body).await,
            Message::ActionTaken(body) => self.apply_action(tx, registry, sender_node, body).await,
        }
    }

    /// Records the delivery of a dispatched request once the recipient signed for it.
    pub(crate) async fn record_request_delivery(
        &self,
        tx: &mut Tx,
        conversation: &ConversationId,
        recipient_node: &str,
    ) -> Result<(), AppError> {
        if conversation.topic() != Topic::Request {
            return Ok(());
        }
        let Some(request) = tx.request(conversation.subject(), Side::Requesting).await? else {
            return Ok(());
        };
        if let Some(to) = decide_delivery(request.state) {
            let record = TransitionRecord {
                action: Action::RecordDelivery,
                from: request.state,
                to,
                actor: Actor::System,
                origin: Origin::Local,
                at: self.now(),
                reason: Some(format!("signed receipt from {recipient_node}")),
                grounds: Vec::new(),
            };
            move_request(tx, request, &record).await?;
        }
        Ok(())
    }

    async fn apply_action(
        &self,
        tx: &mut Tx,
        registry: &mut Registry,
        sender_node: &str,
        body: ActionTaken,
    ) -> Result<Outcome, AppError> {
        let request_id = RequestId::from(body.request_id);
        let local_side = match body.from_side {
            Side::Requesting => Side::Requested,
            Side::Requested => Side::Requesting,
        };
        let Some(request) = tx.request(&request_id, local_side).await? else {
            return reject(RequestRejection::NoCopy {
                side: local_side,
                request_id,
            });
        };
        let counterpart = match local_side {
            Side::Requesting => &request.content.requested_authority,
            Side::Requested => &request.content.requesting_authority,
        };
        let hosted_by_sender = registry
            .get(tx, counterpart)
            .await?
            .is_some_and(|record| record.node_id == sender_node);
        if !hosted_by_sender {
            return reject(RequestRejection::SenderNotCounterpart {
                sender: sender_node.to_string(),
                authority: counterpart.clone(),
            });
        }
        let to = match decide_remote(local_side, request.state, body.action) {
            Ok(TransitionOutcome::Moved(to)) => to,
            Ok(TransitionOutcome::Superseded) => request.state,
            Err(error) => return reject(error.into()),
        };
        let record = TransitionRecord {
            action: body.action,
            from: request.state,
            to,
            actor: Actor::Peer {
                node_id: NodeId::parse(sender_node)?,
                display: body.actor,
            },
            origin: Origin::Remote,
            at: self.now(),
            reason: body.reason,
            grounds: body.grounds,
        };
        move_request(tx, request, &record).await?;
        Ok(Outcome::Applied)
    }

    async fn apply_dispatch(
        &self,
        tx: &mut Tx,
        registry: &mut Registry,
        sender_node: &str,
        body: Dispatched,
    ) -> Result<Outcome, AppError> {
        let request_id = RequestId::from(body.request_id);
        let content = body.content;
        let mut ids = Vec::new();
        for (field, text) in [
            ("requested_authority", &content.requested_authority),
            ("requesting_authority", &content.requesting_authority),
        ] {
            match text.parse::<AuthorityId>() {
                Ok(id) => ids.push(id),
                Err(error) => {
                    return reject(RequestRejection::InvalidContent(format!(
                        "{field}: {error}"
                    )));
                }
            }
        }
        let parties = registry.among(tx, &ids).await?;
        let find = |id: &AuthorityId| parties.iter().find(|record| &record.authority.id == id);
        // Countries come from this node's registry, not from the sender: a peer cannot
        // move an authority into another state (and so under other instruments).
        let content = match content.to_domain(|id| find(id).map(|record| record.authority.country))
        {
            Ok(content) => content,
            Err(error) => return reject(RequestRejection::InvalidContent(error.to_string())),
        };
        let Some(requested) = find(&content.requested_authority) else {
            return reject(RequestRejection::UnknownAuthority(
                content.requested_authority.clone(),
            ));
        };
        if !requested.is_local {
            return reject(RequestRejection::NotHostedHere(
                content.requested_authority.clone(),
            ));
        }
        let sender_hosts_requester =
            find(&content.requesting_authority).is_some_and(|record| record.node_id == sender_node);
        if !sender_hosts_requester {
            return reject(RequestRejection::SenderNotRequester {
                sender: sender_node.to_string(),
                authority: content.requesting_authority.clone(),
            });
        }
        let held_sides: Vec<Side> = tx
            .request_sides(&request_id)
            .await?
            .iter()
            .map(|copy| copy.side)
            .collect();
        if held_sides.contains(&Side::Requested) {
            return reject(RequestRejection::AlreadyReceived(request_id));
        }
        // Only this node's own outgoing request may share the id of an incoming copy
        // (both authorities hosted here): a peer cannot take over an id in use here.
        if sender_node != self.node_id() && held_sides.contains(&Side::Requesting) {
            return reject(RequestRejection::IdInUse(request_id));
        }
        let now = self.now();
        let case = Case {
            id: self.new_typed_id(),
            authority: content.requested_authority.clone(),
            reference: format!(
                "IN {} / {}",
                content.requesting_authority, body.case_reference
            ),
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
                    node_id: NodeId::parse(sender_node)?,
                    display: String::new(),
                },
                origin: Origin::Remote,
                at: now,
                reason: None,
                grounds: Vec::new(),
            },
        )
        .await?;
        Ok(Outcome::Applied)
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

//! Resynchronisation: two nodes compare what each has applied of their conversations
//! and bring the copies of a request back in step.
//!
//! The asking node states, per conversation with the peer, the message ids it has
//! consumed from the peer and the ids it has sent, by sequence ([`ResyncStatement`]).
//! The peer answers with its own statement and the messages the asker is missing
//! ([`ResyncAnswer`]): the peer's own messages past what the asker consumed, with their
//! original ids and sequence numbers, and the asker's messages the peer applied but the
//! asker no longer holds (a node restored from a backup lost them). The asker applies
//! them in the order the peer applied them; local actions the peer never accepted (they
//! reused a consumed sequence) are taken again after them under new sequence numbers.
//! Both sides holding different messages at one sequence is a conflict: an operator
//! alert on each side, and the request stays out of step. `docs/protocol.md` §10 is the
//! specification.

use std::collections::HashSet;

use comity_domain::{Action, Actor, Origin, Request, RequestState, Timestamp, TransitionRecord};
use comity_store::{InboxMessage, InboxStatus, OutboxEntry, OutboxMessage, OutboxStatus, Tx};
use comity_wire::federation::{ConversationId, FederationBody, Topic, request};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::alerts::kinds;
use crate::federation::{Outcome, Registry};
use crate::{App, AppError};

/// The version of the resynchronisation bodies.
pub const RESYNC_VERSION: u32 = 1;
/// Envelope message type of a [`ResyncStatement`].
pub const TYPE_RESYNC_STATEMENT: &str = "comity.resync.statement.v1";
/// Envelope message type of a [`ResyncAnswer`].
pub const TYPE_RESYNC_ANSWER: &str = "comity.resync.answer.v1";
/// The envelope conversation id of resynchronisation exchanges.
pub const RESYNC_CONVERSATION: &str = "comity.resync";
/// At most this many conversations in one statement.
pub const MAX_CONVERSATIONS: usize = 10_000;
/// At most this many messages per direction of one conversation.
pub const MAX_MESSAGES: usize = 10_000;
/// Message ids and conversation ids are at most this long.
const MAX_ID_CHARS: usize = 1024;

/// What one node has of its conversations with the other.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResyncStatement {
    /// [`RESYNC_VERSION`].
    pub v: u32,
    /// One entry per conversation.
    pub conversations: Vec<ConversationStatement>,
}

/// What one node has of one conversation with the other.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConversationStatement {
    /// The conversation (request id).
    pub conversation_id: String,
    /// The ids of the other node's messages this node consumed, for sequences 1, 2, ...
    /// (the highest sequence applied is the length).
    pub applied: Vec<String>,
    /// SHA-256 (hex) of the `applied` ids, each followed by a line feed.
    pub applied_digest: String,
    /// The ids of the messages this node sent (or queued) to the other, for sequences
    /// 1, 2, ...; an empty string for a sequence it holds no message for.
    pub sent: Vec<String>,
    /// SHA-256 (hex) of the `sent` ids, each followed by a line feed.
    pub sent_digest: String,
}

/// The answer to a [`ResyncStatement`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResyncAnswer {
    /// [`RESYNC_VERSION`].
    pub v: u32,
    /// The answering node's statement for each conversation asked about.
    pub conversations: Vec<ConversationStatement>,
    /// Messages the asker is missing, in the order they took effect at the answerer.
    pub replay: Vec<ReplayMessage>,
}

/// Whose message a replayed message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplayOrigin {
    /// Sent by the answering node: the asker applies it as if it had just arrived.
    Answerer,
    /// Sent earlier by the asking node, which no longer holds it: the asker records it
    /// as its own again.
    Asker,
}

/// A message sent again by a resynchronisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplayMessage {
    /// The conversation.
    pub conversation_id: String,
    /// Whose message it is.
    pub origin: ReplayOrigin,
    /// Its original sequence number.
    pub sequence: i64,
    /// Its original message id.
    pub message_id: String,
    /// Its envelope message type.
    pub message_type: String,
    /// Its body (JSON).
    pub body: String,
    /// Whether it took effect at the node that received it (false: it was refused,
    /// but consumed its sequence number).
    pub took_effect: bool,
}

/// What a resynchronisation did to one conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConversationReport {
    /// The conversation (request id).
    pub conversation_id: String,
    /// `in_step` (nothing to do), `caught_up` or `conflict`.
    pub outcome: String,
    /// The peer's messages applied here.
    pub replayed_from_peer: usize,
    /// This node's own earlier messages restored from the peer's record.
    pub restored_own: usize,
    /// Local actions the peer had not accepted, sent again under new sequence numbers.
    pub reissued: usize,
    /// What happened, for a person.
    pub note: String,
}

/// What a resynchronisation with one peer did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResyncReport {
    /// The peer.
    pub peer: String,
    /// One entry per conversation compared.
    pub conversations: Vec<ConversationReport>,
}

/// What the answering side learned: conversations where it is itself behind (it should
/// ask the other side in turn).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AnswerFindings {
    /// Conversations in which the asker applied messages this node no longer holds.
    pub behind_in: Vec<String>,
}

/// Whether a receipt's reason says the message reused a sequence number the receiver
/// had consumed (`sequence N already consumed (expected M)`).
pub fn is_sequence_consumed(reason: &str) -> bool {
    reason.contains("already consumed (expected ")
}

fn digest(ids: &[String]) -> String {
    let mut hasher = Sha256::new();
    for id in ids {
        hasher.update(id.as_bytes());
        hasher.update(b"\n");
    }
    hasher
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Whether an outgoing message still stands at its sequence: not a rejection for a
/// consumed sequence, and not set aside by a resynchronisation.
fn stands(entry: &OutboxEntry) -> bool {
    match entry.message.status {
        OutboxStatus::Rejected => {
            !is_superseded(entry)
                && entry
                    .rejection_reason
                    .as_deref()
                    .is_some_and(|reason| !is_sequence_consumed(reason))
        }
        _ => true,
    }
}

/// How the reason of a conversation out of step for a conflict begins.
const CONFLICT: &str = "conflict: ";

const SUPERSEDED_NOTE: &str = "re-issued by a resynchronisation";

fn is_superseded(entry: &OutboxEntry) -> bool {
    entry
        .message
        .last_error
        .as_deref()
        .is_some_and(|error| error.starts_with(SUPERSEDED_NOTE))
}

/// The ids consumed from the peer, by sequence.
fn consumed_ids(inbox: &[InboxMessage], next_incoming: i64) -> Vec<String> {
    (1..next_incoming)
        .map(|sequence| {
            inbox
                .iter()
                .find(|message| {
                    message.sequence == sequence
                        && match message.status {
                            InboxStatus::Applied => true,
                            InboxStatus::Rejected => {
                                !message.outcome.as_deref().is_some_and(is_sequence_consumed)
                            }
                            InboxStatus::Waiting => false,
                        }
                })
                .map(|message| message.message_id.clone())
                .unwrap_or_default()
        })
        .collect()
}

/// The ids sent to the peer that still stand, by sequence.
fn sent_ids(outbox: &[OutboxEntry]) -> Vec<String> {
    let standing: Vec<&OutboxEntry> = outbox.iter().filter(|entry| stands(entry)).collect();
    let highest = standing
        .iter()
        .map(|entry| entry.message.sequence)
        .max()
        .unwrap_or(0);
    (1..=highest)
        .map(|sequence| {
            standing
                .iter()
                .find(|entry| entry.message.sequence == sequence)
                .map(|entry| entry.message.message_id.clone())
                .unwrap_or_default()
        })
        .collect()
}

fn check_statement_shape(conversations: &[ConversationStatement]) -> Result<(), AppError> {
    if conversations.len() > MAX_CONVERSATIONS {
        return Err(AppError::invalid(
            "conversations",
            format!("at most {MAX_CONVERSATIONS} conversations per statement"),
        ));
    }
    for (index, conversation) in conversations.iter().enumerate() {
        let field = |name: &str| format!("conversations[{index}].{name}");
        if conversation.conversation_id.is_empty()
            || conversation.conversation_id.len() > MAX_ID_CHARS
        {
            return Err(AppError::invalid(
                field("conversation_id"),
                "must be 1 to 1024 bytes",
            ));
        }
        for (name, ids, claimed) in [
            (
                "applied",
                &conversation.applied,
                &conversation.applied_digest,
            ),
            ("sent", &conversation.sent, &conversation.sent_digest),
        ] {
            if ids.len() > MAX_MESSAGES || ids.iter().any(|id| id.len() > MAX_ID_CHARS) {
                return Err(AppError::invalid(field(name), "too many or too long ids"));
            }
            if &digest(ids) != claimed {
                return Err(AppError::invalid(
                    field(&format!("{name}_digest")),
                    "does not match the ids listed",
                ));
            }
        }
    }
    Ok(())
}

impl App {
    /// This node's statement of its conversations with `peer`: the ones named, or all.
    pub async fn resync_statement(
        &self,
        peer: &str,
        conversations: Option<&[String]>,
    ) -> Result<ResyncStatement, AppError> {
        let mut tx = self.store().begin().await?;
        let ids = match conversations {
            Some(ids) => ids.to_vec(),
            None => tx.conversations_with(peer).await?,
        };
        let mut statements = Vec::with_capacity(ids.len());
        for conversation_id in ids.into_iter().take(MAX_CONVERSATIONS) {
            statements.push(conversation_statement(&mut tx, &conversation_id, peer).await?);
        }
        Ok(ResyncStatement {
            v: RESYNC_VERSION,
            conversations: statements,
        })
    }

    /// Every peer this node has exchanged messages with, itself excluded.
    pub async fn conversation_peers(&self) -> Result<Vec<String>, AppError> {
        let mut tx = self.store().begin().await?;
        Ok(tx
            .conversation_peers()
            .await?
            .into_iter()
            .filter(|peer| peer != self.node_id())
            .collect())
    }

    /// Answers `asker`'s statement (the transport has verified who sent it): this node's
    /// own statement and the messages the asker is missing. A conflict is raised as an
    /// alert here and marks the conversation out of step.
    pub async fn answer_resync(
        &self,
        asker: &str,
        statement: &ResyncStatement,
    ) -> Result<(ResyncAnswer, AnswerFindings), AppError> {
        if statement.v != RESYNC_VERSION {
            return Err(AppError::invalid(
                "v",
                format!("unsupported resynchronisation version {}", statement.v),
            ));
        }
        check_statement_shape(&statement.conversations)?;
        let mut findings = AnswerFindings::default();
        let mut conversations = Vec::new();
        let mut replay: Vec<(Timestamp, ReplayMessage)> = Vec::new();
        let mut tx = self.store().begin().await?;
        for theirs in &statement.conversations {
            let conversation_id = theirs.conversation_id.as_str();
            let outbox = tx.conversation_outbox(conversation_id, asker).await?;
            let inbox = tx.conversation_inbox(conversation_id, asker).await?;
            let ours = conversation_statement(&mut tx, conversation_id, asker).await?;
            // What the asker consumed from us must be what we sent, sequence by sequence.
            let mut conflict = None;
            for (index, applied) in theirs.applied.iter().enumerate() {
                match ours.sent.get(index).map(String::as_str) {
                    Some(sent) if sent == applied => {}
                    None | Some("") => {
                        findings.behind_in.push(conversation_id.to_string());
                        break;
                    }
                    Some(sent) => {
                        conflict = Some(format!(
                            "at sequence {} {asker} applied message {applied}, but this node sent {sent}",
                            index + 1
                        ));
                        break;
                    }
                }
            }
            // And what the asker counts as sent at a sequence we consumed must not be a
            // message we refused there (a node that took a refusal for delivery).
            if conflict.is_none() {
                conflict = ours.applied.iter().enumerate().find_map(|(index, applied)| {
                    let sent = theirs.sent.get(index)?;
                    let refused_here = inbox.iter().any(|message| {
                        &message.message_id == sent
                            && message.status == InboxStatus::Rejected
                            && message.outcome.as_deref().is_some_and(is_sequence_consumed)
                    });
                    (sent != applied && refused_here).then(|| {
                        format!(
                            "at sequence {} this node applied message {applied}, but {asker} counts its message {sent} there, which this node refused",
                            index + 1
                        )
                    })
                });
            }
            if let Some(conflict) = conflict {
                self.raise_alert_in(
                    &mut tx,
                    kinds::RESYNC_CONFLICT,
                    Some(asker),
                    Some(conversation_id),
                    &conflict,
                )
                .await?;
                tx.mark_out_of_step(
                    conversation_id,
                    asker,
                    &format!("{CONFLICT}{conflict}"),
                    self.now(),
                )
                .await?;
                conversations.push(ours);
                continue;
            }
            // Our messages past what the asker consumed.
            for entry in outbox.iter().filter(|entry| {
                stands(entry)
                    && usize::try_from(entry.message.sequence)
                        .is_ok_and(|sequence| sequence > theirs.applied.len())
            }) {
                replay.push((
                    entry.message.created_at,
                    ReplayMessage {
                        conversation_id: conversation_id.to_string(),
                        origin: ReplayOrigin::Answerer,
                        sequence: entry.message.sequence,
                        message_id: entry.message.message_id.clone(),
                        message_type: entry.message.message_type.clone(),
                        body: entry.message.body.clone(),
                        took_effect: true,
                    },
                ));
            }
            // The asker's messages we consumed that the asker does not hold at their place.
            let applied_at = tx.conversation_applied_at(conversation_id, asker).await?;
            for (index, id) in ours.applied.iter().enumerate() {
                if id.is_empty() || theirs.sent.get(index) == Some(id) {
                    continue;
                }
                let Some(message) = inbox.iter().find(|message| &message.message_id == id) else {
                    continue;
                };
                let at = applied_at
                    .iter()
                    .find(|(message_id, _)| message_id == id)
                    .and_then(|(_, at)| *at)
                    .unwrap_or(message.received_at);
                replay.push((
                    at,
                    ReplayMessage {
                        conversation_id: conversation_id.to_string(),
                        origin: ReplayOrigin::Asker,
                        sequence: message.sequence,
                        message_id: message.message_id.clone(),
                        message_type: message.message_type.clone(),
                        body: message.body.clone(),
                        took_effect: message.status == InboxStatus::Applied,
                    },
                ));
            }
            if !findings.behind_in.iter().any(|id| id == conversation_id) {
                tx.clear_out_of_step(conversation_id, asker).await?;
            }
            conversations.push(ours);
        }
        tx.commit().await?;
        // In the order things took effect here; within one conversation and origin,
        // sequence order.
        replay.sort_by(|(at_a, a), (at_b, b)| {
            (at_a, &a.conversation_id, a.sequence).cmp(&(at_b, &b.conversation_id, b.sequence))
        });
        Ok((
            ResyncAnswer {
                v: RESYNC_VERSION,
                conversations,
                replay: replay.into_iter().map(|(_, message)| message).collect(),
            },
            findings,
        ))
    }

    /// Applies `peer`'s answer (the transport has verified who sent it), conversation by
    /// conversation, each in one transaction.
    pub async fn apply_resync(
        &self,
        peer: &str,
        asked: &ResyncStatement,
        answer: &ResyncAnswer,
    ) -> Result<ResyncReport, AppError> {
        if answer.v != RESYNC_VERSION {
            return Err(AppError::invalid(
                "v",
                format!("unsupported resynchronisation version {}", answer.v),
            ));
        }
        check_statement_shape(&answer.conversations)?;
        let mut report = ResyncReport {
            peer: peer.to_string(),
            conversations: Vec::new(),
        };
        for ours in &asked.conversations {
            let conversation_id = ours.conversation_id.as_str();
            let Some(theirs) = answer
                .conversations
                .iter()
                .find(|statement| statement.conversation_id == conversation_id)
            else {
                continue;
            };
            let replay: Vec<&ReplayMessage> = answer
                .replay
                .iter()
                .filter(|message| message.conversation_id == conversation_id)
                .collect();
            let outcome = self
                .catch_up(peer, conversation_id, theirs, &replay)
                .await?;
            let conversation = match outcome {
                Ok(conversation) => conversation,
                Err(conflict) => {
                    let mut tx = self.store().begin().await?;
                    self.raise_alert_in(
                        &mut tx,
                        kinds::RESYNC_CONFLICT,
                        Some(peer),
                        Some(conversation_id),
                        &conflict,
                    )
                    .await?;
                    tx.mark_out_of_step(
                        conversation_id,
                        peer,
                        &format!("{CONFLICT}{conflict}"),
                        self.now(),
                    )
                    .await?;
                    tx.commit().await?;
                    ConversationReport {
                        conversation_id: conversation_id.to_string(),
                        outcome: "conflict".into(),
                        replayed_from_peer: 0,
                        restored_own: 0,
                        reissued: 0,
                        note: conflict,
                    }
                }
            };
            report.conversations.push(conversation);
        }
        if report
            .conversations
            .iter()
            .any(|conversation| conversation.reissued > 0)
        {
            self.outbox_signal().notify_one();
        }
        Ok(report)
    }

    /// Brings one conversation in step with the peer's statement. `Ok(Err(why))` is a
    /// conflict: nothing was changed.
    async fn catch_up(
        &self,
        peer: &str,
        conversation_id: &str,
        theirs: &ConversationStatement,
        replay: &[&ReplayMessage],
    ) -> Result<Result<ConversationReport, String>, AppError> {
        let mut tx = self.store().begin().await?;
        let ours = conversation_statement(&mut tx, conversation_id, peer).await?;
        let outbox = tx.conversation_outbox(conversation_id, peer).await?;
        // What we consumed from the peer must be what it sent.
        for (index, applied) in ours.applied.iter().enumerate() {
            match theirs.sent.get(index) {
                Some(sent) if sent == applied => {}
                other => {
                    return Ok(Err(format!(
                        "at sequence {} this node applied message {applied} from {peer}, which holds {} there",
                        index + 1,
                        other.map_or("nothing", String::as_str)
                    )));
                }
            }
        }
        // What the peer consumed from us must not contradict a message we saw accepted.
        let peer_applied: HashSet<&str> = theirs.applied.iter().map(String::as_str).collect();
        for (index, applied) in theirs.applied.iter().enumerate() {
            let sequence = i64::try_from(index + 1).unwrap_or(i64::MAX);
            let accepted_elsewhere = outbox.iter().find(|entry| {
                entry.message.sequence == sequence
                    && entry.message.message_id != *applied
                    && entry.message.status == OutboxStatus::Delivered
                    && entry.receipt_outcome.as_deref() != Some("restored")
            });
            if let Some(entry) = accepted_elsewhere {
                return Ok(Err(format!(
                    "at sequence {sequence} {peer} applied message {applied}, but its receipt for this node's message {} was recorded as delivered",
                    entry.message.message_id
                )));
            }
        }
        // A message the peer consumed but refused (the lifecycle did not allow it there)
        // leaves the copies apart: replaying cannot mend that.
        if let Some(entry) = outbox
            .iter()
            .find(|entry| entry.message.status == OutboxStatus::Rejected && stands(entry))
        {
            return Ok(Err(format!(
                "{peer} refused this node's message {} (sequence {}): {}; an operator must reconcile the copies",
                entry.message.message_id,
                entry.message.sequence,
                entry
                    .rejection_reason
                    .as_deref()
                    .unwrap_or("no reason given")
            )));
        }
        let Some(request) = copy_shared_with(&mut tx, conversation_id, peer).await? else {
            if replay.is_empty() {
                tx.clear_out_of_step(conversation_id, peer).await?;
                tx.commit().await?;
                return Ok(Ok(in_step(conversation_id)));
            }
            return Ok(Err(format!(
                "this node holds no copy of request {conversation_id} to bring in step"
            )));
        };
        // Local actions the peer never accepted: they are taken again after the replay.
        let consumed = theirs.applied.len();
        let mut reissue: Vec<OutboxEntry> = outbox
            .iter()
            .filter(|entry| !peer_applied.contains(entry.message.message_id.as_str()))
            .filter(|entry| match entry.message.status {
                OutboxStatus::Rejected => {
                    entry
                        .rejection_reason
                        .as_deref()
                        .is_some_and(is_sequence_consumed)
                        && !is_superseded(entry)
                }
                OutboxStatus::Pending | OutboxStatus::Dead => true,
                OutboxStatus::Delivered => false,
            })
            .cloned()
            .collect();
        let must_reissue = reissue.iter().any(|entry| {
            entry.message.status == OutboxStatus::Rejected
                || usize::try_from(entry.message.sequence)
                    .is_ok_and(|sequence| sequence <= consumed)
        });
        if !must_reissue {
            reissue.clear();
        }
        if replay.is_empty() && reissue.is_empty() {
            tx.clear_out_of_step(conversation_id, peer).await?;
            tx.commit().await?;
            return Ok(Ok(in_step(conversation_id)));
        }
        // Take the unaccepted local actions off the copy, back to where they started.
        let history = tx.history(&request.id, request.side).await?;
        let mut taken_again: Vec<(TransitionRecord, OutboxEntry)> = Vec::new();
        let mut request = request;
        if !reissue.is_empty() {
            let mut actions = Vec::new();
            for entry in &reissue {
                match FederationBody::decode(
                    &entry.message.message_type,
                    entry.message.body.as_bytes(),
                ) {
                    Ok(FederationBody::Request(request::Message::ActionTaken(taken))) => {
                        actions.push(taken.action);
                    }
                    _ => {
                        return Ok(Err(format!(
                            "message {} ({}) cannot be taken again automatically",
                            entry.message.message_id, entry.message.message_type
                        )));
                    }
                }
            }
            let local_rows: Vec<usize> = history
                .iter()
                .enumerate()
                .filter(|(_, record)| record.origin == Origin::Local)
                .map(|(index, _)| index)
                .collect();
            let Some(first) = local_rows
                .len()
                .checked_sub(actions.len())
                .and_then(|start| local_rows.get(start))
                .copied()
            else {
                return Ok(Err(
                    "the history holds fewer local actions than the peer has not accepted".into(),
                ));
            };
            let after = &history[first..];
            let matches = after.len() == actions.len()
                && after
                    .iter()
                    .zip(&actions)
                    .all(|(record, action)| record.action == *action);
            if !matches {
                return Ok(Err(
                    "actions were taken on this copy after the ones the peer refused; an operator must reconcile them"
                        .into(),
                ));
            }
            taken_again = after.iter().cloned().zip(reissue.iter().cloned()).collect();
            let start_state = after[0].from;
            tx.truncate_history(&request.id, request.side, i64::try_from(first).unwrap_or(0))
                .await?;
            request = set_state(&mut tx, request, start_state, self.now()).await?;
        }
        // The replay, in the order the peer applied it.
        let mut replayed_from_peer = 0;
        let mut restored_own = 0;
        for message in replay {
            match message.origin {
                ReplayOrigin::Answerer => {
                    let (_, expected) = tx.conversation_counters(conversation_id, peer).await?;
                    if message.sequence < expected {
                        continue;
                    }
                    if message.sequence > expected {
                        return Ok(Err(format!(
                            "{peer} replayed sequence {} but this node expects {expected}",
                            message.sequence
                        )));
                    }
                    let stored = InboxMessage {
                        message_id: message.message_id.clone(),
                        sender_node: peer.to_string(),
                        conversation_id: conversation_id.to_string(),
                        sequence: message.sequence,
                        message_type: message.message_type.clone(),
                        body: message.body.clone(),
                        envelope: String::new(),
                        status: InboxStatus::Waiting,
                        received_at: self.now(),
                        outcome: Some("replayed by a resynchronisation".into()),
                    };
                    if !tx.insert_inbox(&stored).await? {
                        return Ok(Err(format!(
                            "{peer} replayed message {} which this node already holds elsewhere",
                            message.message_id
                        )));
                    }
                    let (status, note) = match self
                        .dispatch(&mut tx, &mut Registry::default(), &stored)
                        .await?
                    {
                        Outcome::Applied => (InboxStatus::Applied, None),
                        Outcome::Rejected(reason) => {
                            (InboxStatus::Rejected, Some(reason.to_string()))
                        }
                    };
                    tx.finish_inbox(&stored.message_id, status, note.as_deref(), self.now())
                        .await?;
                    tx.advance_incoming_sequence(conversation_id, peer).await?;
                    replayed_from_peer += 1;
                }
                ReplayOrigin::Asker => {
                    if tx.outbox_entry(&message.message_id).await?.is_some() {
                        return Ok(Err(format!(
                            "{peer} returned this node's message {} at sequence {}, but this node holds it elsewhere",
                            message.message_id, message.sequence
                        )));
                    }
                    if message.took_effect {
                        let Some(current) = tx.request(&request.id, request.side).await? else {
                            return Ok(Err("the request disappeared".into()));
                        };
                        let record = match own_record(&request, message) {
                            Ok(record) => record,
                            Err(why) => return Ok(Err(why)),
                        };
                        let Some(to) = local_effect(record.action, current.state) else {
                            return Ok(Err(format!(
                                "this node's own action {} (sequence {}) cannot follow state {}",
                                record.action.code(),
                                message.sequence,
                                current.state.code()
                            )));
                        };
                        let record = TransitionRecord {
                            from: current.state,
                            to,
                            ..record
                        };
                        tx.append_history(&current.id, current.side, &record)
                            .await?;
                        request = set_state(&mut tx, current, to, record.at).await?;
                    }
                    tx.enqueue(&OutboxMessage {
                        message_id: message.message_id.clone(),
                        recipient_node: peer.to_string(),
                        conversation_id: conversation_id.to_string(),
                        sequence: message.sequence,
                        message_type: message.message_type.clone(),
                        in_reply_to: None,
                        body: message.body.clone(),
                        status: OutboxStatus::Pending,
                        attempts: 0,
                        next_attempt_at: self.now(),
                        created_at: self.now(),
                        last_error: None,
                        receipt: None,
                    })
                    .await?;
                    tx.mark_restored(&message.message_id, self.now()).await?;
                    restored_own += 1;
                }
            }
        }
        // The sequences the peer consumed are used up; unaccepted actions come after.
        let consumed = i64::try_from(consumed).unwrap_or(i64::MAX - 1);
        tx.raise_outgoing_sequence(conversation_id, peer, consumed + 1)
            .await?;
        let mut reissued = 0;
        for (record, entry) in taken_again {
            let Some(current) = tx.request(&request.id, request.side).await? else {
                return Ok(Err("the request disappeared".into()));
            };
            let Some(to) = local_effect(record.action, current.state) else {
                return Ok(Err(format!(
                    "the action {} taken here cannot follow state {} that the peer's copy reached",
                    record.action.code(),
                    current.state.code()
                )));
            };
            let record = TransitionRecord {
                from: current.state,
                to,
                ..record
            };
            tx.append_history(&current.id, current.side, &record)
                .await?;
            request = set_state(&mut tx, current, to, self.now()).await?;
            let sequence = tx.take_outgoing_sequence(conversation_id, peer).await?;
            let message_id = self.new_id();
            tx.mark_superseded(
                &entry.message.message_id,
                &format!("{SUPERSEDED_NOTE} as sequence {sequence} (message {message_id})"),
                self.now(),
            )
            .await?;
            tx.enqueue(&OutboxMessage {
                message_id,
                sequence,
                status: OutboxStatus::Pending,
                attempts: 0,
                next_attempt_at: self.now(),
                created_at: self.now(),
                last_error: None,
                receipt: None,
                ..entry.message.clone()
            })
            .await?;
            reissued += 1;
        }
        tx.clear_out_of_step(conversation_id, peer).await?;
        let note = format!(
            "resynchronised with {peer}: {replayed_from_peer} of its messages applied, \
             {restored_own} of this node's own restored from its record, {reissued} local actions sent again"
        );
        self.raise_alert_in(
            &mut tx,
            kinds::RESYNC_REPLAYED,
            Some(peer),
            Some(conversation_id),
            &note,
        )
        .await?;
        tx.commit().await?;
        Ok(Ok(ConversationReport {
            conversation_id: conversation_id.to_string(),
            outcome: "caught_up".into(),
            replayed_from_peer,
            restored_own,
            reissued,
            note,
        }))
    }
}

fn in_step(conversation_id: &str) -> ConversationReport {
    ConversationReport {
        conversation_id: conversation_id.to_string(),
        outcome: "in_step".into(),
        replayed_from_peer: 0,
        restored_own: 0,
        reissued: 0,
        note: "both copies hold the same messages".into(),
    }
}

async fn conversation_statement(
    tx: &mut Tx,
    conversation_id: &str,
    peer: &str,
) -> Result<ConversationStatement, AppError> {
    let outbox = tx.conversation_outbox(conversation_id, peer).await?;
    let inbox = tx.conversation_inbox(conversation_id, peer).await?;
    let (_, next_incoming) = tx.conversation_counters(conversation_id, peer).await?;
    let applied = consumed_ids(&inbox, next_incoming);
    let sent = sent_ids(&outbox);
    Ok(ConversationStatement {
        conversation_id: conversation_id.to_string(),
        applied_digest: digest(&applied),
        applied,
        sent_digest: digest(&sent),
        sent,
    })
}

/// The copy of a request this node holds whose other side is hosted by `peer`.
async fn copy_shared_with(
    tx: &mut Tx,
    conversation_id: &str,
    peer: &str,
) -> Result<Option<Request>, AppError> {
    let request_id = match ConversationId::parse(conversation_id) {
        Ok(conversation) if conversation.topic() == Topic::Request => {
            conversation.subject().to_string()
        }
        _ => return Ok(None),
    };
    for request in tx.request_sides(&request_id).await? {
        if tx
            .authority(request.counterpart())
            .await?
            .is_some_and(|record| record.node_id == peer)
        {
            return Ok(Some(request));
        }
    }
    Ok(None)
}

/// Where this side's own action leads from `state`, as the peer applied it: a
/// withdrawal wins over whatever the requested side did meanwhile.
fn local_effect(action: Action, state: RequestState) -> Option<RequestState> {
    if action == Action::Withdraw
        && !matches!(state, RequestState::Withdrawn | RequestState::Closed)
    {
        return Some(RequestState::Withdrawn);
    }
    action.target(state)
}

/// The history row of one of this node's own earlier messages, read back from its body.
fn own_record(request: &Request, message: &ReplayMessage) -> Result<TransitionRecord, String> {
    let body = FederationBody::decode(&message.message_type, message.body.as_bytes())
        .map_err(|error| format!("message {}: malformed body: {error}", message.message_id))?;
    match body {
        FederationBody::Request(request::Message::ActionTaken(request::ActionTaken {
            request_id,
            from_side,
            action,
            reason,
            grounds,
            taken_at_ms,
            ..
        })) if request.id == request_id.to_string() && from_side == request.side => {
            Ok(TransitionRecord {
                action,
                from: request.state,
                to: request.state,
                actor: Actor::System,
                origin: Origin::Local,
                at: Timestamp(taken_at_ms),
                reason,
                grounds,
            })
        }
        _ => Err(format!(
            "message {} is not an action of this side of request {}",
            message.message_id, request.id
        )),
    }
}

async fn set_state(
    tx: &mut Tx,
    request: Request,
    state: RequestState,
    at: Timestamp,
) -> Result<Request, AppError> {
    let mut updated = request.clone();
    updated.state = state;
    updated.updated_at = at;
    updated.version += 1;
    tx.update_request(&updated, request.version).await?;
    Ok(updated)
}

impl App {
    /// Records a receipt that refuses an outgoing message: the message is `rejected`
    /// (never delivered) with the peer's reason, an operator alert is raised and the
    /// request is marked out of step with the other side, in one transaction. Returns
    /// whether the refusal says the message reused a consumed sequence number (then a
    /// resynchronisation can bring the copies together).
    pub async fn record_rejection(
        &self,
        message_id: &str,
        receipt: &str,
        reason: &str,
    ) -> Result<bool, AppError> {
        let mut tx = self.store().begin().await?;
        let Some(entry) = tx
            .mark_rejected(message_id, receipt, reason, self.now())
            .await?
        else {
            // Settled before (a duplicate receipt), or not ours at all.
            if tx.outbox_message(message_id).await?.is_none() {
                return Err(AppError::NotFound(format!("outgoing message {message_id}")));
            }
            return Ok(false);
        };
        let peer = entry.message.recipient_node.as_str();
        let conversation_id = entry.message.conversation_id.as_str();
        let text = format!(
            "{peer} refused message {message_id} ({}, sequence {} of request {conversation_id}): {reason}",
            entry.message.message_type, entry.message.sequence
        );
        self.raise_alert_in(
            &mut tx,
            kinds::MESSAGE_REJECTED,
            Some(peer),
            Some(conversation_id),
            &text,
        )
        .await?;
        tx.mark_out_of_step(
            conversation_id,
            peer,
            &format!(
                "{peer} refused this node's message at sequence {}: {reason}",
                entry.message.sequence
            ),
            self.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(is_sequence_consumed(reason))
    }

    /// The conversations out of step with each peer, to hold their outgoing messages
    /// back until a resynchronisation.
    pub async fn held_conversations(&self) -> Result<HashSet<(String, String)>, AppError> {
        let mut tx = self.store().read().await?;
        Ok(tx
            .all_out_of_step()
            .await?
            .into_iter()
            .filter(|row| is_sequence_consumed(&row.reason) || row.reason.starts_with(CONFLICT))
            .map(|row| (row.conversation_id, row.peer_node))
            .collect())
    }
}

/// The node setting that asks for a resynchronisation of every conversation at the next
/// start (written by `comity node restore`).
pub const RESYNC_AFTER_RESTORE_SETTING: &str = "resync_after_restore";

impl App {
    /// Whether the database was restored from a backup and has not been resynchronised
    /// since.
    pub async fn restore_pending(&self) -> Result<bool, AppError> {
        let mut tx = self.store().begin().await?;
        Ok(tx
            .setting(RESYNC_AFTER_RESTORE_SETTING)
            .await?
            .is_some_and(|value| !value.is_empty()))
    }

    /// Records that the database was restored from a backup: the node resynchronises
    /// every conversation when it next starts.
    pub async fn mark_restore_pending(&self) -> Result<(), AppError> {
        let mut tx = self.store().begin().await?;
        tx.set_setting(RESYNC_AFTER_RESTORE_SETTING, &self.now().to_rfc3339())
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The resynchronisation after a restore is done.
    pub async fn clear_restore_pending(&self) -> Result<(), AppError> {
        let mut tx = self.store().begin().await?;
        tx.set_setting(RESYNC_AFTER_RESTORE_SETTING, "").await?;
        tx.commit().await?;
        Ok(())
    }
}

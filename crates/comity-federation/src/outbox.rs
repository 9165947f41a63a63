//! The outbox sender: a background worker that delivers committed messages in batches per
//! peer, retries with exponential backoff and jitter, and turns undeliverable ones into
//! dead letters. A message whose type the recipient's trust-list entry does not accept is
//! held back: it stays pending (logged once) until the entry lists the type. A
//! conversation out of step waits for its resynchronisation.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use comity_app::federation::{InboundOutcome, IncomingMessage};
use comity_domain::Timestamp;
use comity_store::OutboxMessage;
use rand::Rng;
use tokio::sync::watch;

use crate::FederationState;
use crate::batch::{MAX_BATCH_BYTES, MAX_BATCH_ENVELOPES};
use crate::config::OutboxConfig;
use crate::locks::lock;
use crate::transport::DeliveryError;

/// A delivery that reached the recipient: its signed receipt (base64) and, when the
/// receipt refuses the message, the recipient's reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settled {
    /// The receipt to store.
    pub receipt: String,
    /// The recipient's reason, when the receipt says `rejected`: the message is then
    /// never counted as delivered.
    pub refused: Option<String>,
}

/// Runs until `shutdown` turns true.
///
/// Due messages go to each peer in batches (see [`crate::batch`]): up to
/// [`BATCHES_PER_PEER`] batches per peer at once, each holding whole conversations in
/// sequence order, a conversation in one batch at a time. The loop does not wait for
/// the batches, so a slow or unreachable peer never holds back another; within a batch
/// every message gets its own receipt, so a failing conversation holds back only itself.
/// A commit, the poll interval or a finished batch wakes the loop, which picks up what
/// became due meanwhile; while every peer it found has all its batches under way, it
/// reads the outbox at most once every [`LOOK_GAP`].
pub async fn run_sender(state: FederationState, mut shutdown: watch::Receiver<bool>) {
    let signal = state.app.outbox_signal();
    let lanes = Lanes::default();
    let held = Held::default();
    let mut deliveries = tokio::task::JoinSet::new();
    let mut look = true;
    let mut saturated = false;
    let mut last_look = tokio::time::Instant::now();
    loop {
        while deliveries.try_join_next().is_some() {}
        if *shutdown.borrow() {
            // Deliveries under way finish (or reach their HTTP timeout) before the node
            // closes its database under them.
            let finished = async { while deliveries.join_next().await.is_some() {} };
            let _ = tokio::time::timeout(SHUTDOWN_GRACE, finished).await;
            return;
        }
        if look {
            last_look = tokio::time::Instant::now();
            match start_due(&state, &lanes, &held, &mut deliveries).await {
                Ok(full) => saturated = full,
                Err(error) => tracing::warn!(%error, "outbox pass failed"),
            }
        }
        let next_look = last_look + LOOK_GAP;
        look = tokio::select! {
            _ = signal.notified() => {
                if saturated && tokio::time::Instant::now() < next_look {
                    tokio::time::sleep_until(next_look).await;
                }
                true
            }
            _ = tokio::time::sleep(state.outbox.poll_interval()) => true,
            Some(_) = deliveries.join_next(), if !deliveries.is_empty() => true,
            _ = shutdown.changed() => true,
        };
    }
}

/// How long a stopping node waits for deliveries under way.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(4);

/// How many batches go to one peer at once.
pub const BATCHES_PER_PEER: usize = 4;

/// How many conversations go one message at a time (local deliveries, and peers without
/// the batch route) within one batch's task.
const SINGLE_SENDS_AT_ONCE: usize = 8;

/// The least time between two reads of the outbox while every peer is busy.
const LOOK_GAP: Duration = Duration::from_millis(5);

/// How long a peer that answered a batch with 404 or 405 gets single envelopes only.
const NO_BATCHES_FOR: Duration = Duration::from_secs(600);

/// What an envelope adds to a message's body, at most: COSE structure, signature, HPKE
/// encapsulation and tag, salt, commitment, key ids and CBOR heads. The header's text
/// fields are counted apart.
const ENVELOPE_OVERHEAD_BYTES: usize = 1024;

/// A conversation with one recipient: the unit that is delivered in order.
type ConversationKey = (String, String);

/// What is under way: the conversations being delivered, the batches per peer, and
/// the peers that take no batches.
#[derive(Debug, Clone, Default)]
struct Lanes(Arc<Mutex<LaneState>>);

#[derive(Debug, Default)]
struct LaneState {
    conversations: HashSet<ConversationKey>,
    /// Per peer: batches and messages under way.
    peers: HashMap<String, (usize, usize)>,
    /// Peers that answered a batch with 404 or 405, until when.
    no_batches: HashMap<String, tokio::time::Instant>,
}

impl Lanes {
    /// Batches that may still start to `peer`, and messages under way to it.
    fn room(&self, peer: &str) -> (usize, usize) {
        let lanes = lock(&self.0);
        let (batches, messages) = lanes.peers.get(peer).copied().unwrap_or((0, 0));
        (BATCHES_PER_PEER.saturating_sub(batches), messages)
    }

    fn is_claimed(&self, key: &ConversationKey) -> bool {
        lock(&self.0).conversations.contains(key)
    }

    /// Claims a batch's conversations for `peer`.
    fn claim(&self, peer: &str, batch: &Batch) {
        let mut lanes = lock(&self.0);
        for conversation in &batch.conversations {
            if let Some(first) = conversation.first() {
                lanes.conversations.insert(key_of(first));
            }
        }
        let entry = lanes.peers.entry(peer.to_string()).or_default();
        entry.0 += 1;
        entry.1 += batch.len();
    }

    fn release(&self, peer: &str, batch: &Batch) {
        let mut lanes = lock(&self.0);
        for conversation in &batch.conversations {
            if let Some(first) = conversation.first() {
                lanes.conversations.remove(&key_of(first));
            }
        }
        if let Some(entry) = lanes.peers.get_mut(peer) {
            entry.0 = entry.0.saturating_sub(1);
            entry.1 = entry.1.saturating_sub(batch.len());
            if entry.0 == 0 {
                lanes.peers.remove(peer);
            }
        }
    }

    fn takes_batches(&self, peer: &str) -> bool {
        lock(&self.0)
            .no_batches
            .get(peer)
            .is_none_or(|until| *until <= tokio::time::Instant::now())
    }

    fn refuse_batches(&self, peer: &str) {
        lock(&self.0).no_batches.insert(
            peer.to_string(),
            tokio::time::Instant::now() + NO_BATCHES_FOR,
        );
    }
}

fn key_of(message: &OutboxMessage) -> ConversationKey {
    (
        message.conversation_id.clone(),
        message.recipient_node.clone(),
    )
}

/// The messages held back because the recipient does not accept their type, so that
/// each is logged once rather than at every look.
#[derive(Debug, Clone, Default)]
struct Held(Arc<Mutex<HashSet<String>>>);

impl Held {
    /// Marks `message_id` held; `true` the first time.
    fn hold(&self, message_id: &str) -> bool {
        lock(&self.0).insert(message_id.to_string())
    }

    fn release(&self, message_id: &str) {
        lock(&self.0).remove(message_id);
    }
}

/// Whole conversations (each in sequence order) for one peer, sent together.
#[derive(Debug, Default)]
struct Batch {
    conversations: Vec<Vec<OutboxMessage>>,
    bytes: usize,
}

impl Batch {
    fn len(&self) -> usize {
        self.conversations.iter().map(Vec::len).sum()
    }
}

fn estimated_envelope_bytes(message: &OutboxMessage, sender: &str) -> usize {
    message.body.len()
        + message.message_type.len()
        + message.conversation_id.len()
        + message.recipient_node.len()
        + sender.len()
        + ENVELOPE_OVERHEAD_BYTES
}

/// Packs conversations (in the order given) into at most `room` batches of at most
/// [`MAX_BATCH_ENVELOPES`] messages and [`MAX_BATCH_BYTES`]; a conversation longer than
/// a batch sends its first messages now and the rest later.
fn pack(conversations: Vec<Vec<OutboxMessage>>, room: usize, sender: &str) -> Vec<Batch> {
    let mut batches: Vec<Batch> = Vec::new();
    let mut current = Batch::default();
    for mut conversation in conversations {
        let mut bytes = 0;
        let mut fits = 0;
        for message in &conversation {
            let size = estimated_envelope_bytes(message, sender);
            if fits == MAX_BATCH_ENVELOPES || (fits > 0 && bytes + size > MAX_BATCH_BYTES) {
                break;
            }
            bytes += size;
            fits += 1;
        }
        conversation.truncate(fits);
        if current.len() + conversation.len() > MAX_BATCH_ENVELOPES
            || (!current.conversations.is_empty() && current.bytes + bytes > MAX_BATCH_BYTES)
        {
            batches.push(std::mem::take(&mut current));
            if batches.len() == room {
                return batches;
            }
        }
        current.bytes += bytes;
        current.conversations.push(conversation);
    }
    if !current.conversations.is_empty() && batches.len() < room {
        batches.push(current);
    }
    batches
}

/// Starts batches for every peer with due messages and room, conversations under way
/// left out. Returns whether every peer found was left without room (nothing more can
/// start until a batch ends).
async fn start_due(
    state: &FederationState,
    lanes: &Lanes,
    held: &Held,
    deliveries: &mut tokio::task::JoinSet<()>,
) -> Result<bool, comity_app::AppError> {
    // A conversation out of step waits for its resynchronisation, which renumbers what
    // it holds.
    let out_of_step = state.app.held_conversations().await?;
    let peers = state.app.peers_with_due_messages().await?;
    let mut saturated = !peers.is_empty();
    for peer in peers {
        let (room, under_way) = lanes.room(&peer);
        if room == 0 {
            continue;
        }
        // The oldest due messages include those under way: read past them.
        let limit = under_way + room * MAX_BATCH_ENVELOPES;
        let due = state
            .app
            .due_messages_to(&peer, i64::try_from(limit).unwrap_or(i64::MAX))
            .await?;
        let mut conversations: Vec<Vec<OutboxMessage>> = Vec::new();
        let mut index: HashMap<ConversationKey, usize> = HashMap::new();
        for message in due {
            let key = key_of(&message);
            if out_of_step.contains(&key) {
                continue;
            }
            match index.get(&key) {
                Some(position) => conversations[*position].push(message),
                None if lanes.is_claimed(&key) => {}
                None => {
                    index.insert(key, conversations.len());
                    conversations.push(vec![message]);
                }
            }
        }
        // A message the peer does not accept holds back the rest of its conversation.
        let mut accepted = Vec::with_capacity(conversations.len());
        for mut conversation in conversations {
            if let Some(refused) = conversation
                .iter()
                .position(|message| !recipient_accepts(state, message))
            {
                hold_back(state, held, &conversation[refused]).await?;
                conversation.truncate(refused);
            }
            if !conversation.is_empty() {
                accepted.push(conversation);
            }
        }
        let batches = pack(accepted, room, state.app.node_id());
        if batches.len() < room {
            saturated = false;
        }
        for batch in batches {
            lanes.claim(&peer, &batch);
            let state = state.clone();
            let lanes = lanes.clone();
            let held = held.clone();
            let peer = peer.clone();
            deliveries.spawn(async move {
                if let Err(error) = deliver_batch(&state, &lanes, &held, &peer, &batch).await {
                    tracing::warn!(%error, %peer, "outbox delivery failed");
                }
                lanes.release(&peer, &batch);
            });
        }
    }
    Ok(saturated)
}

/// Delivers one batch: as one request when the peer takes batches and it holds more than
/// one message, otherwise conversation by conversation, one message at a time.
async fn deliver_batch(
    state: &FederationState,
    lanes: &Lanes,
    held: &Held,
    peer: &str,
    batch: &Batch,
) -> Result<(), comity_app::AppError> {
    let batched = batch.len() > 1 && peer != state.app.node_id() && lanes.takes_batches(peer);
    if batched {
        let messages: Vec<OutboxMessage> = batch.conversations.iter().flatten().cloned().collect();
        match crate::batch::send_batch(state, &messages).await {
            Ok(results) => return record_batch(state, &messages, results).await,
            Err(crate::batch::BatchError::Failed(error)) => {
                for message in &messages {
                    record_failure(state, message, &error).await?;
                }
                return Ok(());
            }
            Err(crate::batch::BatchError::NotSupported) => {
                tracing::info!(%peer, "the peer takes no batches; sending one envelope at a time");
                lanes.refuse_batches(peer);
            }
            Err(crate::batch::BatchError::TooLarge) => {}
        }
    }
    let mut sends = tokio::task::JoinSet::new();
    for conversation in &batch.conversations {
        if sends.len() >= SINGLE_SENDS_AT_ONCE
            && let Some(Ok(Err(error))) = sends.join_next().await
        {
            tracing::warn!(%error, %peer, "outbox delivery failed");
        }
        let state = state.clone();
        let held = held.clone();
        let conversation = conversation.clone();
        sends.spawn(async move { send_conversation(&state, &held, conversation).await });
    }
    while let Some(result) = sends.join_next().await {
        if let Ok(Err(error)) = result {
            tracing::warn!(%error, %peer, "outbox delivery failed");
        }
    }
    Ok(())
}

/// Records a batch's outcome: every receipt that accepts its message in one transaction,
/// then each refusal (as [`send_conversation`] records one) and each failure.
async fn record_batch(
    state: &FederationState,
    messages: &[OutboxMessage],
    results: Vec<Result<Settled, DeliveryError>>,
) -> Result<(), comity_app::AppError> {
    let mut receipts = Vec::with_capacity(messages.len());
    let mut refusals = Vec::new();
    let mut failures = Vec::new();
    for (message, result) in messages.iter().zip(results) {
        match result {
            Ok(Settled {
                receipt,
                refused: None,
            }) => receipts.push((message.message_id.clone(), receipt)),
            Ok(Settled {
                receipt,
                refused: Some(reason),
            }) => refusals.push((message, receipt, reason)),
            Err(error) => failures.push((message, error)),
        }
    }
    state.app.record_receipts(&receipts).await?;
    for (message, receipt, reason) in refusals {
        record_refusal(state, message, &receipt, &reason).await?;
    }
    for (message, error) in failures {
        record_failure(state, message, &error).await?;
    }
    Ok(())
}

async fn send_conversation(
    state: &FederationState,
    held: &Held,
    messages: Vec<OutboxMessage>,
) -> Result<usize, comity_app::AppError> {
    let mut sent = 0;
    for message in messages {
        if !recipient_accepts(state, &message) {
            // What follows in the conversation waits behind it, to keep the order.
            hold_back(state, held, &message).await?;
            break;
        }
        held.release(&message.message_id);
        match deliver(state, &message).await {
            Ok(Settled {
                receipt,
                refused: None,
            }) => {
                state
                    .app
                    .record_receipt(&message.message_id, &receipt)
                    .await?;
                sent += 1;
            }
            Ok(Settled {
                receipt,
                refused: Some(reason),
            }) => {
                record_refusal(state, &message, &receipt, &reason).await?;
                // What follows in this conversation was numbered after the refused
                // message: it waits for the resynchronisation.
                break;
            }
            Err(error) => {
                record_failure(state, &message, &error).await?;
                break;
            }
        }
    }
    Ok(sent)
}

/// Whether the recipient accepts the message's type. This node accepts every type it
/// knows; a recipient not on the trust list is left to fail delivery as before.
fn recipient_accepts(state: &FederationState, message: &OutboxMessage) -> bool {
    if message.recipient_node == state.app.node_id() {
        return comity_wire::federation::is_known_message_type(&message.message_type);
    }
    state
        .federation
        .peer(&message.recipient_node)
        .is_none_or(|peer| peer.accepts(&message.message_type))
}

/// Keeps a message the recipient does not accept pending, without counting an attempt,
/// and looks again after the longest retry delay.
async fn hold_back(
    state: &FederationState,
    held: &Held,
    message: &OutboxMessage,
) -> Result<(), comity_app::AppError> {
    if held.hold(&message.message_id) {
        tracing::warn!(
            message_id = %message.message_id,
            peer = %message.recipient_node,
            message_type = %message.message_type,
            "held back: the peer's trust-list entry does not accept this message type"
        );
    }
    let recheck_ms = i64::try_from(state.outbox.max_backoff_ms).unwrap_or(i64::MAX / 2);
    let until = Timestamp(state.app.now().millis().saturating_add(recheck_ms));
    state.app.hold_outgoing(&message.message_id, until).await
}

/// Records a receipt that refuses a message (never as delivery: an operator alert, the
/// conversation out of step) and, when the peer had consumed its sequence number with
/// another message, starts a resynchronisation with that peer.
async fn record_refusal(
    state: &FederationState,
    message: &OutboxMessage,
    receipt: &str,
    reason: &str,
) -> Result<(), comity_app::AppError> {
    let consumed = state
        .app
        .record_rejection(&message.message_id, receipt, reason)
        .await?;
    if consumed && state.config.resync_on_rejection && message.recipient_node != state.app.node_id()
    {
        // The peer consumed this sequence number with another message: this node lost
        // part of the conversation (a restore). Compare and catch up.
        let state = state.clone();
        let peer = message.recipient_node.clone();
        let conversation = message.conversation_id.clone();
        tokio::spawn(async move {
            match crate::resync::resync_with_peer(&state, &peer, Some(vec![conversation.clone()]))
                .await
            {
                Ok(report) => {
                    tracing::info!(%peer, ?conversation, ?report, "resynchronised after a rejection")
                }
                Err(error) => {
                    tracing::warn!(%peer, ?conversation, %error, "resynchronisation after a rejection failed");
                    let _ = state
                        .app
                        .raise_alert(
                            comity_app::alerts::kinds::RESYNC_FAILED,
                            Some(&peer),
                            Some(&conversation),
                            &format!("resynchronisation failed: {error}"),
                        )
                        .await;
                }
            }
        });
    }
    Ok(())
}

async fn record_failure(
    state: &FederationState,
    message: &OutboxMessage,
    error: &DeliveryError,
) -> Result<(), comity_app::AppError> {
    let now = state.app.now();
    let age_ms = now.millis() - message.created_at.millis();
    let dead_after_ms = i64::try_from(state.outbox.dead_letter_after_secs)
        .unwrap_or(i64::MAX / 1000)
        .saturating_mul(1000);
    if matches!(error, DeliveryError::Permanent(_)) || age_ms >= dead_after_ms {
        tracing::error!(
            alert = "dead_letter",
            message_id = %message.message_id,
            recipient = %message.recipient_node,
            %error,
            "OPERATOR ALERT: message moved to dead letters"
        );
        state
            .app
            .mark_dead_letter(&message.message_id, &error.to_string())
            .await
    } else {
        let delay = backoff(&state.outbox, message.attempts);
        let next =
            Timestamp(now.millis() + i64::try_from(delay.as_millis()).unwrap_or(i64::MAX / 2));
        tracing::info!(
            message_id = %message.message_id,
            peer = %message.recipient_node,
            %error,
            ?delay,
            "delivery failed; will retry"
        );
        state
            .app
            .reschedule_delivery(&message.message_id, next, &error.to_string())
            .await
    }
}

/// Exponential backoff with full jitter: a random delay up to `initial * 2^attempts`,
/// capped.
pub fn backoff(config: &OutboxConfig, attempts: i64) -> Duration {
    let exponent = u32::try_from(attempts.clamp(0, 30)).unwrap_or(30);
    let ceiling = config
        .initial_backoff_ms
        .saturating_mul(1u64 << exponent)
        .min(config.max_backoff_ms)
        .max(1);
    let jittered = rand::thread_rng().gen_range(ceiling / 2..=ceiling);
    Duration::from_millis(jittered)
}

/// One attempt to deliver a message; returns the receipt to store and its outcome.
async fn deliver(
    state: &FederationState,
    message: &OutboxMessage,
) -> Result<Settled, DeliveryError> {
    if message.recipient_node == state.app.node_id() {
        return deliver_locally(state, message).await;
    }
    crate::transport::send(state, message).await
}

/// Both authorities are hosted here: the message goes straight to this node's inbox.
async fn deliver_locally(
    state: &FederationState,
    message: &OutboxMessage,
) -> Result<Settled, DeliveryError> {
    let outcome = state
        .app
        .accept_incoming(&IncomingMessage {
            message_id: message.message_id.clone(),
            sender_node: message.recipient_node.clone(),
            conversation_id: message.conversation_id.clone(),
            sequence: message.sequence,
            message_type: message.message_type.clone(),
            body: message.body.clone(),
            envelope: String::new(),
        })
        .await
        .map_err(|error| DeliveryError::Unavailable(error.to_string()))?;
    let (outcome, refused) = match outcome {
        InboundOutcome::Applied => ("applied".to_string(), None),
        InboundOutcome::Queued => ("queued".to_string(), None),
        InboundOutcome::Duplicate => ("duplicate".to_string(), None),
        InboundOutcome::Rejected(reason) => (format!("rejected: {reason}"), Some(reason)),
    };
    Ok(Settled {
        receipt: format!("local delivery: {outcome}"),
        refused,
    })
}

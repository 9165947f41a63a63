//! The outbox sender: a background worker that delivers committed messages, retries
//! with exponential backoff and jitter, and turns undeliverable ones into dead letters.
//! A message whose type the recipient's trust-list entry does not accept is held back:
//! it stays pending (logged once) until the entry lists the type.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use comity_app::federation::{InboundOutcome, IncomingMessage};
use comity_domain::Timestamp;
use comity_store::OutboxMessage;
use rand::Rng;
use tokio::sync::watch;

use crate::FederationState;
use crate::config::OutboxConfig;
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
/// Each conversation (with one recipient) is delivered by a task of its own, in order;
/// the loop does not wait for those tasks, so a slow or unreachable peer, or one slow
/// conversation, never holds back another. A commit, the poll interval or a finished
/// task wakes the loop, which picks up what became due meanwhile; after a finished task
/// it looks only once there is room for several conversations (or none is under way),
/// so that a busy sender does not read the outbox after every single delivery.
pub async fn run_sender(state: FederationState, mut shutdown: watch::Receiver<bool>) {
    let signal = state.app.outbox_signal();
    let in_flight = InFlight::default();
    let held = Held::default();
    let mut deliveries = tokio::task::JoinSet::new();
    let mut look = true;
    loop {
        while deliveries.try_join_next().is_some() {}
        if *shutdown.borrow() {
            // Deliveries under way finish (or reach their HTTP timeout) before the node
            // closes its database under them.
            let finished = async { while deliveries.join_next().await.is_some() {} };
            let _ = tokio::time::timeout(SHUTDOWN_GRACE, finished).await;
            return;
        }
        if look && let Err(error) = start_due(&state, &in_flight, &held, &mut deliveries).await {
            tracing::warn!(%error, "outbox pass failed");
        }
        look = tokio::select! {
            _ = signal.notified() => true,
            _ = tokio::time::sleep(state.outbox.poll_interval()) => true,
            Some(_) = deliveries.join_next(), if !deliveries.is_empty() => {
                deliveries.is_empty() || in_flight.room() >= REFILL_AT
            }
            _ = shutdown.changed() => true,
        };
    }
}

/// After a delivery ends, the free slots needed before the outbox is read again.
const REFILL_AT: usize = CONCURRENT_CONVERSATIONS / 4;

/// How long a stopping node waits for deliveries under way.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(4);

/// How many conversations are delivered at once.
const CONCURRENT_CONVERSATIONS: usize = 32;

/// Due messages read for each free delivery slot, and the bounds of one read.
const DUE_PER_FREE_SLOT: usize = 4;
const MIN_DUE_READ: usize = 64;
const MAX_DUE_READ: usize = 1024;

/// A conversation with one recipient: the unit that is delivered in order.
type ConversationKey = (String, String);

/// The conversations a task is delivering now.
#[derive(Debug, Clone, Default)]
struct InFlight(Arc<Mutex<HashSet<ConversationKey>>>);

impl InFlight {
    fn len(&self) -> usize {
        self.0.lock().map(|keys| keys.len()).unwrap_or(usize::MAX)
    }

    /// How many more conversations may start.
    fn room(&self) -> usize {
        CONCURRENT_CONVERSATIONS.saturating_sub(self.len())
    }

    /// Claims `key`; `false` if a task already delivers it.
    fn claim(&self, key: &ConversationKey) -> bool {
        self.0
            .lock()
            .map(|mut keys| keys.insert(key.clone()))
            .unwrap_or(false)
    }

    fn release(&self, key: &ConversationKey) {
        if let Ok(mut keys) = self.0.lock() {
            keys.remove(key);
        }
    }
}

/// The messages held back because the recipient does not accept their type, so that
/// each is logged once rather than at every look.
#[derive(Debug, Clone, Default)]
struct Held(Arc<Mutex<HashSet<String>>>);

impl Held {
    /// Marks `message_id` held; `true` the first time.
    fn hold(&self, message_id: &str) -> bool {
        self.0
            .lock()
            .map(|mut ids| ids.insert(message_id.to_string()))
            .unwrap_or(false)
    }

    fn release(&self, message_id: &str) {
        if let Ok(mut ids) = self.0.lock() {
            ids.remove(message_id);
        }
    }
}

/// Starts a delivery task for every due conversation that has none yet, up to
/// [`CONCURRENT_CONVERSATIONS`] at once; returns how many it started.
async fn start_due(
    state: &FederationState,
    in_flight: &InFlight,
    held: &Held,
    deliveries: &mut tokio::task::JoinSet<()>,
) -> Result<usize, comity_app::AppError> {
    let room = in_flight.room();
    if room == 0 {
        return Ok(0);
    }
    let now = state.app.now();
    // The oldest due messages include those the tasks under way are sending: read only
    // what can fill the room left (a few messages a conversation), not a full page, since
    // this runs each time a delivery ends.
    let limit = (in_flight.len() + room * DUE_PER_FREE_SLOT).clamp(MIN_DUE_READ, MAX_DUE_READ);
    let due = {
        let mut tx = state.app.store().begin().await?;
        tx.due_messages(now, i64::try_from(limit).unwrap_or(i64::MAX))
            .await?
    };
    // A conversation out of step waits for its resynchronisation, which renumbers what
    // it holds.
    let out_of_step = state.app.held_conversations().await?;
    let mut conversations: Vec<(ConversationKey, Vec<OutboxMessage>)> = Vec::new();
    let mut index: HashMap<ConversationKey, usize> = HashMap::new();
    for message in due {
        let key = (
            message.conversation_id.clone(),
            message.recipient_node.clone(),
        );
        if out_of_step.contains(&key) {
            continue;
        }
        match index.get(&key) {
            Some(position) => conversations[*position].1.push(message),
            None => {
                index.insert(key.clone(), conversations.len());
                conversations.push((key, vec![message]));
            }
        }
    }
    let mut started = 0;
    for (key, messages) in conversations {
        if started == room {
            break;
        }
        if !in_flight.claim(&key) {
            continue;
        }
        started += 1;
        let state = state.clone();
        let in_flight = in_flight.clone();
        let held = held.clone();
        deliveries.spawn(async move {
            if let Err(error) = send_conversation(&state, &held, messages).await {
                tracing::warn!(%error, conversation = ?key.0, "outbox delivery failed");
            }
            in_flight.release(&key);
        });
    }
    Ok(started)
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
                let consumed = state
                    .app
                    .record_rejection(&message.message_id, &receipt, &reason)
                    .await?;
                if consumed
                    && state.config.resync_on_rejection
                    && message.recipient_node != state.app.node_id()
                {
                    // The peer consumed this sequence number with another message: this
                    // node lost part of the conversation (a restore). Compare and catch up.
                    let state = state.clone();
                    let peer = message.recipient_node.clone();
                    let conversation = message.conversation_id.clone();
                    tokio::spawn(async move {
                        match crate::resync::resync_with_peer(
                            &state,
                            &peer,
                            Some(vec![conversation.clone()]),
                        )
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
    let mut tx = state.app.store().begin().await?;
    tx.hold_outgoing(&message.message_id, until).await?;
    tx.commit().await?;
    Ok(())
}

async fn record_failure(
    state: &FederationState,
    message: &OutboxMessage,
    error: &DeliveryError,
) -> Result<(), comity_app::AppError> {
    let now = state.app.now();
    let mut tx = state.app.store().begin().await?;
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
        tx.mark_dead(&message.message_id, now, &error.to_string())
            .await?;
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
        tx.reschedule(&message.message_id, next, &error.to_string())
            .await?;
    }
    tx.commit().await?;
    Ok(())
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

//! The outbox sender: a background worker that delivers committed messages, retries
//! with exponential backoff and jitter, and turns undeliverable ones into dead letters.

use std::collections::HashMap;
use std::time::Duration;

use futures::StreamExt;

use comity_app::inbound::{InboundOutcome, IncomingMessage};
use comity_domain::Timestamp;
use comity_store::OutboxMessage;
use rand::Rng;
use tokio::sync::watch;

use crate::AppState;

/// Why one delivery attempt failed.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// The peer did not answer, or answered that it cannot take the message now.
    #[error("peer unavailable: {0}")]
    Unavailable(String),
    /// The peer or this node cannot ever deliver this message.
    #[error("undeliverable: {0}")]
    Permanent(String),
}

/// Runs until `shutdown` turns true.
pub async fn run_sender(state: AppState, mut shutdown: watch::Receiver<bool>) {
    let signal = state.app.outbox_signal();
    loop {
        if *shutdown.borrow() {
            return;
        }
        if let Err(error) = send_due(&state).await {
            tracing::warn!(%error, "outbox pass failed");
        }
        tokio::select! {
            _ = signal.notified() => {}
            _ = tokio::time::sleep(state.config.poll_interval()) => {}
            _ = shutdown.changed() => {}
        }
    }
}

/// How many conversations the sender works on at once.
const CONCURRENT_CONVERSATIONS: usize = 32;

/// Sends every due message once. Messages of one conversation go in order, one after
/// the other, and a failure holds back the rest of that conversation until the next
/// pass; different conversations are sent concurrently.
pub async fn send_due(state: &AppState) -> Result<usize, comity_app::AppError> {
    let now = state.app.now();
    let due = {
        let mut tx = state.app.store().begin().await?;
        tx.due_messages(now, 1024).await?
    };
    let mut conversations: Vec<Vec<OutboxMessage>> = Vec::new();
    let mut index: HashMap<(String, String), usize> = HashMap::new();
    for message in due {
        let key = (
            message.conversation_id.clone(),
            message.recipient_node.clone(),
        );
        match index.get(&key) {
            Some(position) => conversations[*position].push(message),
            None => {
                index.insert(key, conversations.len());
                conversations.push(vec![message]);
            }
        }
    }
    let results: Vec<Result<usize, comity_app::AppError>> = futures::stream::iter(conversations)
        .map(|messages| send_conversation(state, messages))
        .buffer_unordered(CONCURRENT_CONVERSATIONS)
        .collect()
        .await;
    let mut sent = 0;
    for result in results {
        sent += result?;
    }
    Ok(sent)
}

async fn send_conversation(
    state: &AppState,
    messages: Vec<OutboxMessage>,
) -> Result<usize, comity_app::AppError> {
    let mut sent = 0;
    for message in messages {
        match deliver(state, &message).await {
            Ok(receipt) => {
                state
                    .app
                    .record_receipt(&message.message_id, &receipt)
                    .await?;
                sent += 1;
            }
            Err(error) => {
                record_failure(state, &message, &error).await?;
                break;
            }
        }
    }
    Ok(sent)
}

async fn record_failure(
    state: &AppState,
    message: &OutboxMessage,
    error: &DeliveryError,
) -> Result<(), comity_app::AppError> {
    let now = state.app.now();
    let mut tx = state.app.store().begin().await?;
    let age_ms = now.millis() - message.created_at.millis();
    let dead_after_ms = i64::try_from(state.config.outbox.dead_letter_after_secs)
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
        let delay = backoff(&state.config.outbox, message.attempts);
        let next =
            Timestamp(now.millis() + i64::try_from(delay.as_millis()).unwrap_or(i64::MAX / 2));
        tracing::debug!(message_id = %message.message_id, %error, ?delay, "delivery failed; will retry");
        tx.reschedule(&message.message_id, next, &error.to_string())
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Exponential backoff with full jitter: a random delay up to `initial * 2^attempts`,
/// capped.
pub fn backoff(config: &crate::config::OutboxConfig, attempts: i64) -> Duration {
    let exponent = u32::try_from(attempts.clamp(0, 30)).unwrap_or(30);
    let ceiling = config
        .initial_backoff_ms
        .saturating_mul(1u64 << exponent)
        .min(config.max_backoff_ms)
        .max(1);
    let jittered = rand::thread_rng().gen_range(ceiling / 2..=ceiling);
    Duration::from_millis(jittered)
}

/// One attempt to deliver a message; returns the receipt to store.
async fn deliver(state: &AppState, message: &OutboxMessage) -> Result<String, DeliveryError> {
    if message.recipient_node == state.app.node_id() {
        return deliver_locally(state, message).await;
    }
    crate::federation::send(state, message).await
}

/// Both authorities are hosted here: the message goes straight to this node's inbox.
async fn deliver_locally(
    state: &AppState,
    message: &OutboxMessage,
) -> Result<String, DeliveryError> {
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
    let outcome = match outcome {
        InboundOutcome::Applied => "applied".to_string(),
        InboundOutcome::Queued => "queued".to_string(),
        InboundOutcome::Duplicate => "duplicate".to_string(),
        InboundOutcome::Rejected(reason) => format!("rejected: {reason}"),
    };
    Ok(format!("local delivery: {outcome}"))
}

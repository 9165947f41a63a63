//! Calls: a sealed question answered, sealed, in the HTTP response (`docs/protocol.md`,
//! section 10.1). Nothing is queued and nothing enters the outbox or the inbox; the
//! caller waits at most [`CALL_TIMEOUT`].
//!
//! Receiving: `POST /federation/v1/calls` opens the question as any envelope
//! ([`crate::transport`]'s checks: addressed here, sender trusted with a key valid now,
//! signature, decryption, commitment), refuses a stale question or one already answered
//! (a bounded in-memory replay window), and hands the JSON body to the handler a
//! capability registered for the call type in [`Calls`]. An unknown call type, or a
//! question the handler will not answer, gets a sealed [`TYPE_CALL_REFUSED`] answer that
//! says why.
//!
//! Calling: [`call`] seals the question to the peer's current key, posts it and accepts
//! only an answer from that peer, addressed here, naming the question in `in_reply_to`
//! and of the call's answer type ([`answer_type`]).

use std::collections::{HashMap, HashSet, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use comity_crypto::{MAX_ENVELOPE_BYTES, MessageId};
use comity_http::ApiError;
use serde::{Deserialize, Serialize};

use crate::FederationState;
use crate::locks::{lock, read, write};
use crate::transport::{
    COSE_MEDIA_TYPE, MAX_ERROR_ANSWER_BYTES, check_endpoint, open_from_peer, printable_excerpt,
    read_capped, refuse, refuse_untrusted, seal_outside_conversation,
};

/// The path peers post calls to.
pub const CALLS_PATH: &str = "/federation/v1/calls";
/// The answer type of a question the callee understands but will not answer, or whose
/// call type it does not know. Body: `{"reason": "..."}`.
pub const TYPE_CALL_REFUSED: &str = "comity.call.refused.v1";
/// How long a caller waits for the answer.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// How far a question's `sent_at_ms` may be from the callee's clock.
pub const MAX_CLOCK_SKEW_MS: i64 = 5 * 60 * 1000;
/// How long a callee remembers the questions it answered, to refuse them again.
pub const REPLAY_WINDOW_MS: i64 = 10 * 60 * 1000;
/// The most questions remembered at once. When the window is full, new questions are
/// refused (503) rather than forgetting one that could then be replayed.
pub const MAX_REMEMBERED_QUESTIONS: usize = 100_000;

/// Why a handler did not answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallRefusal {
    /// The callee will not answer this question: the caller gets a sealed
    /// [`TYPE_CALL_REFUSED`] answer with the reason.
    Refused(String),
    /// The callee cannot answer now (storage failure...): `503`, logged; the caller
    /// may ask again with a new question.
    Failed(String),
}

/// Who asks, and the node's state, given to a handler with the question's body.
#[derive(Debug, Clone)]
pub struct CallContext {
    /// The caller's node id (the verified sender of the question).
    pub caller: String,
    /// The answering node's federation state.
    pub state: FederationState,
}

/// What a handler returns: the answer's JSON body, or why there is none.
pub type CallFuture = Pin<Box<dyn Future<Output = Result<serde_json::Value, CallRefusal>> + Send>>;

/// A capability's answer to one call type: from the caller and the question's decoded
/// JSON body to the answer's body.
pub type CallHandler = Arc<dyn Fn(CallContext, serde_json::Value) -> CallFuture + Send + Sync>;

/// The call types this node answers, and the questions it answered recently.
pub struct Calls {
    handlers: RwLock<HashMap<String, CallHandler>>,
    answered: Mutex<ReplayWindow>,
}

impl std::fmt::Debug for Calls {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let types: Vec<String> = read(&self.handlers).keys().cloned().collect();
        formatter
            .debug_struct("Calls")
            .field("types", &types)
            .finish_non_exhaustive()
    }
}

impl Default for Calls {
    fn default() -> Self {
        Calls::new()
    }
}

impl Calls {
    /// The calls every node answers: blob fetches ([`crate::blobs`]).
    pub fn new() -> Calls {
        let calls = Calls {
            handlers: RwLock::new(HashMap::new()),
            answered: Mutex::new(ReplayWindow::default()),
        };
        // The name is a constant of the right form; registering it cannot fail.
        let _ = calls.register(crate::blobs::TYPE_BLOB_FETCH, |context, body| {
            Box::pin(crate::blobs::answer_fetch(context, body))
        });
        calls
    }

    /// Registers (or replaces) the handler of a call type, which must be of the form
    /// `comity.<topic>.<call>.v<N>`.
    pub fn register<F>(&self, call_type: &str, handler: F) -> Result<(), String>
    where
        F: Fn(CallContext, serde_json::Value) -> CallFuture + Send + Sync + 'static,
    {
        answer_type(call_type)?;
        write(&self.handlers).insert(call_type.to_string(), Arc::new(handler));
        Ok(())
    }

    /// The handler of a call type, if one is registered.
    fn handler(&self, call_type: &str) -> Option<CallHandler> {
        read(&self.handlers).get(call_type).cloned()
    }

    /// Remembers a question's id; `Err` if it was answered within the window, or the
    /// window is full.
    fn remember(&self, message_id: MessageId, now_ms: i64) -> Result<(), ApiError> {
        let mut window = lock(&self.answered);
        window.forget_before(now_ms);
        if window.seen.contains(&message_id) {
            return Err(refuse(
                StatusCode::CONFLICT,
                format!("call {message_id} was already answered: a call is not replayed"),
            ));
        }
        if window.seen.len() >= MAX_REMEMBERED_QUESTIONS {
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "calls-busy",
                "Too many calls",
                "too many calls in the replay window; ask again later",
            ));
        }
        window.seen.insert(message_id);
        window
            .order
            .push_back((now_ms.saturating_add(REPLAY_WINDOW_MS), message_id));
        Ok(())
    }
}

/// The question ids answered recently, in the order they arrived, each with the moment
/// it may be forgotten.
#[derive(Debug, Default)]
struct ReplayWindow {
    seen: HashSet<MessageId>,
    order: VecDeque<(i64, MessageId)>,
}

impl ReplayWindow {
    /// Forgets the questions whose window ended before `now_ms`.
    fn forget_before(&mut self, now_ms: i64) {
        while let Some((until, id)) = self.order.front().copied() {
            if until >= now_ms {
                break;
            }
            self.order.pop_front();
            self.seen.remove(&id);
        }
    }
}

/// The answer type of a call type: `comity.<topic>.<call>.v<N>` answers with
/// `comity.<topic>.<call>.answer.v<N>`. `Err` for a name not of that form.
pub fn answer_type(call_type: &str) -> Result<String, String> {
    let parts: Vec<&str> = call_type.split('.').collect();
    let well_formed = parts.len() >= 4
        && parts[0] == "comity"
        && parts.iter().all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'_')
        })
        && parts
            .last()
            .and_then(|version| version.strip_prefix('v'))
            .is_some_and(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
        && parts.get(parts.len() - 2) != Some(&"answer")
        && call_type.len() <= 1000;
    if !well_formed {
        return Err(format!(
            "a call type is `comity.<topic>.<call>.v<N>`, not {call_type:?}"
        ));
    }
    let (name, version) = call_type
        .rsplit_once('.')
        .ok_or_else(|| format!("no version in {call_type:?}"))?;
    Ok(format!("{name}.answer.{version}"))
}

/// The topic of a call type (`blob` in `comity.blob.fetch.v1`).
fn topic(call_type: &str) -> Option<&str> {
    call_type.split('.').nth(1)
}

/// The body of a [`TYPE_CALL_REFUSED`] answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefusedBody {
    /// Why the callee did not answer.
    pub reason: String,
}

/// Answers one call: opens the question, refuses a stale or replayed one, runs the
/// handler of its type and seals the answer (or the refusal) back to the caller.
pub(crate) async fn receive_call(
    State(state): State<FederationState>,
    headers: axum::http::HeaderMap,
    body: axum::body::Body,
) -> Result<Response, ApiError> {
    let body: Bytes = crate::intake::read_envelope(&state, &headers, body).await?;
    let opened = open_from_peer(&state, &body)?;
    let question = &opened.header;
    let now = state.app.now().millis();
    if question.sequence != 0 {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            format!("a call has sequence 0, not {}", question.sequence),
        ));
    }
    let conversation_ok = topic(&question.message_type).is_some_and(|topic| {
        question
            .conversation_id
            .strip_prefix(topic)
            .and_then(|rest| rest.strip_prefix(':'))
            .is_some_and(|call_id| call_id.parse::<MessageId>().is_ok())
    });
    if !conversation_ok {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            format!(
                "a call's conversation is `<topic>:<call id>` with the topic of its type, not {:?}",
                question.conversation_id
            ),
        ));
    }
    if question.sent_at_ms.abs_diff(now) > MAX_CLOCK_SKEW_MS.unsigned_abs() {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            format!(
                "the question was sent at {} ms, more than {} minutes from this node's clock",
                question.sent_at_ms,
                MAX_CLOCK_SKEW_MS / 60_000
            ),
        ));
    }
    state.calls.remember(question.message_id, now)?;
    let caller = question.sender.clone();
    let outcome = match state.calls.handler(&question.message_type) {
        None => Err(CallRefusal::Refused(format!(
            "unknown call type `{}`",
            question.message_type
        ))),
        Some(handler) => match serde_json::from_slice::<serde_json::Value>(&opened.body) {
            Ok(value) if value.is_object() => {
                let context = CallContext {
                    caller: caller.clone(),
                    state: state.clone(),
                };
                handler(context, value).await
            }
            Ok(_) => Err(CallRefusal::Refused(format!(
                "malformed {} body: not a JSON object",
                question.message_type
            ))),
            Err(error) => Err(CallRefusal::Refused(format!(
                "malformed {} body: {error}",
                question.message_type
            ))),
        },
    };
    let (answer_type, answer_body) = match outcome {
        Ok(answer) => (
            answer_type(&question.message_type)
                .map_err(|reason| refuse(StatusCode::BAD_REQUEST, reason))?,
            answer,
        ),
        Err(CallRefusal::Refused(reason)) => {
            tracing::info!(%caller, call_type = ?question.message_type, ?reason, "call refused");
            (
                TYPE_CALL_REFUSED.to_string(),
                serde_json::json!({ "reason": reason }),
            )
        }
        Err(CallRefusal::Failed(reason)) => {
            tracing::warn!(%caller, call_type = ?question.message_type, %reason, "call failed");
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "call-failed",
                "Call failed",
                "this node cannot answer now; ask again later",
            ));
        }
    };
    let answer_bytes = serde_json::to_vec(&answer_body).map_err(|error| {
        refuse(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot write the answer: {error}"),
        )
    })?;
    let peer = state
        .federation
        .peer(&caller)
        .ok_or_else(|| refuse_untrusted(format!("caller {caller} left the trust list")))?;
    let (sealed, _) = seal_outside_conversation(
        &state,
        &peer,
        &answer_type,
        &question.conversation_id,
        &answer_bytes,
        Some(question.message_id),
    )
    .map_err(|message| refuse(StatusCode::INTERNAL_SERVER_ERROR, message))?;
    let mut response = (StatusCode::OK, sealed).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(COSE_MEDIA_TYPE),
    );
    Ok(response)
}

/// Why a call got no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// The call could not be made (unknown peer, no valid key, bad endpoint, a call type
    /// not of the right form) or the peer could not be reached.
    #[error("call not made: {0}")]
    Unavailable(String),
    /// The peer answered with an HTTP error (its status and problem detail).
    #[error("peer answered {status}: {detail}")]
    Status {
        /// The HTTP status.
        status: u16,
        /// The start of the peer's answer.
        detail: String,
    },
    /// The peer refused the question with a sealed [`TYPE_CALL_REFUSED`] answer.
    #[error("call refused: {0}")]
    Refused(String),
    /// The answer did not verify, was not for this question, or was malformed.
    #[error("invalid answer: {0}")]
    InvalidAnswer(String),
    /// No answer within [`CALL_TIMEOUT`].
    #[error("no answer within {} seconds", CALL_TIMEOUT.as_secs())]
    Timeout,
}

/// Asks `peer_id` a question of `call_type` with `body` (a JSON object) and waits at
/// most [`CALL_TIMEOUT`] for its answer's body. No retry: the capability decides
/// whether to ask again (a new call, a new message id).
pub async fn call(
    state: &FederationState,
    peer_id: &str,
    call_type: &str,
    body: &serde_json::Value,
) -> Result<serde_json::Value, CallError> {
    match tokio::time::timeout(
        CALL_TIMEOUT,
        call_without_timeout(state, peer_id, call_type, body),
    )
    .await
    {
        Ok(result) => result,
        Err(_) => Err(CallError::Timeout),
    }
}

async fn call_without_timeout(
    state: &FederationState,
    peer_id: &str,
    call_type: &str,
    body: &serde_json::Value,
) -> Result<serde_json::Value, CallError> {
    let expected_answer = answer_type(call_type).map_err(CallError::Unavailable)?;
    let federation = &state.federation;
    let peer = federation
        .peer(peer_id)
        .ok_or_else(|| CallError::Unavailable(format!("{peer_id} is not on the trust list")))?;
    check_endpoint(&peer.endpoint, federation.allow_plain_http_loopback)
        .map_err(|error| CallError::Unavailable(error.to_string()))?;
    let body_bytes =
        serde_json::to_vec(body).map_err(|error| CallError::Unavailable(error.to_string()))?;
    let topic = topic(call_type).unwrap_or("call");
    let conversation_id = format!("{topic}:{}", MessageId::random(&mut rand::rngs::OsRng));
    let (envelope, question_id) =
        seal_outside_conversation(state, &peer, call_type, &conversation_id, &body_bytes, None)
            .map_err(CallError::Unavailable)?;
    let response = federation
        .client_for(peer_id)
        .map_err(CallError::Unavailable)?
        .post(format!("{}{CALLS_PATH}", peer.endpoint))
        .header(header::CONTENT_TYPE, COSE_MEDIA_TYPE)
        .body(envelope)
        .send()
        .await
        .map_err(|error| CallError::Unavailable(format!("{}: {error}", peer.endpoint)))?;
    let status = response.status();
    if !status.is_success() {
        let detail = read_capped(response, MAX_ERROR_ANSWER_BYTES)
            .await
            .map(|bytes| printable_excerpt(&bytes))
            .unwrap_or_default();
        return Err(CallError::Status {
            status: status.as_u16(),
            detail,
        });
    }
    let bytes = read_capped(response, MAX_ENVELOPE_BYTES)
        .await
        .map_err(CallError::InvalidAnswer)?;
    let invalid = CallError::InvalidAnswer;
    let peeked = comity_crypto::peek_envelope(&bytes)
        .map_err(|error| invalid(format!("malformed answer: {error}")))?;
    let now = state.app.now().millis();
    let sender_key = peer
        .key_valid_at(&peeked.sender_key_id, now)
        .ok_or_else(|| invalid("the answer is signed by a key of the peer not valid now".into()))?;
    let own_keys = federation
        .keys_for(&peeked.recipient_key_id)
        .ok_or_else(|| invalid("the answer is sealed to a key this node does not hold".into()))?;
    let opened = comity_crypto::open(&own_keys, &bytes, sender_key.signing_key_bytes())
        .map_err(|error| invalid(format!("the answer does not open: {error}")))?;
    let header = &opened.header;
    if header.sender != peer_id
        || header.recipient != state.app.node_id()
        || header.in_reply_to != Some(question_id)
        || header.conversation_id != conversation_id
    {
        return Err(invalid("the answer does not answer this question".into()));
    }
    if header.message_type == TYPE_CALL_REFUSED {
        let refused: RefusedBody = serde_json::from_slice(&opened.body)
            .map_err(|error| invalid(format!("malformed refusal: {error}")))?;
        return Err(CallError::Refused(refused.reason));
    }
    if header.message_type != expected_answer {
        return Err(invalid(format!(
            "the answer is of type {:?}, not {expected_answer}",
            header.message_type
        )));
    }
    serde_json::from_slice(&opened.body)
        .map_err(|error| invalid(format!("malformed answer body: {error}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answer_types_follow_the_call_type() {
        assert_eq!(
            answer_type("comity.blob.fetch.v1").as_deref(),
            Ok("comity.blob.fetch.answer.v1")
        );
        assert_eq!(
            answer_type("comity.audit.cosign.v12").as_deref(),
            Ok("comity.audit.cosign.answer.v12")
        );
        for wrong in [
            "comity.blob.v1",
            "other.blob.fetch.v1",
            "comity.blob.fetch",
            "comity.blob.fetch.vx",
            "comity..fetch.v1",
            "comity.blob.fetch.answer.v1",
            "comity.Blob.fetch.v1",
            "comity.blob.fetch v.v1",
        ] {
            assert!(answer_type(wrong).is_err(), "{wrong}");
        }
    }

    #[test]
    fn the_replay_window_forgets_only_after_it_ends() {
        let calls = Calls::new();
        let id = MessageId::random(&mut rand::rngs::OsRng);
        assert!(calls.remember(id, 1_000).is_ok());
        assert!(calls.remember(id, 1_000 + REPLAY_WINDOW_MS).is_err());
        assert!(calls.remember(id, 1_001 + REPLAY_WINDOW_MS).is_ok());
    }
}

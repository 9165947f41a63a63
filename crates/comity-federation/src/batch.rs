//! Batches: several envelopes in one HTTP request, accepted by the receiver in one
//! database transaction and answered by one signed receipt per envelope, in order
//! (`docs/protocol.md`, section 9.7).
//!
//! The body of `POST /federation/v1/batches` is a CBOR array of byte strings, each one
//! envelope exactly as it would be posted alone; the answer is a CBOR array of byte
//! strings of the same length, each one signed receipt. Both use definite lengths and the
//! shortest heads, nothing else: the codec here reads exactly that and refuses the rest.
//!
//! Whole-batch refusals (malformed body, too many envelopes or bytes, an envelope that is
//! not for this node, several senders, an untrusted sender or key, a storage failure) are
//! problems and change nothing. Past those checks every envelope gets its own receipt: an
//! envelope that cannot be opened is `rejected` on its own and stored nowhere.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use comity_app::inbound::{InboundOutcome, IncomingMessage};
use comity_crypto::{MAX_ENVELOPE_BYTES, MAX_RECEIPT_BYTES, MessageId, Receipt, ReceiptOutcome};
use comity_http::ApiError;
use comity_store::OutboxMessage;
use sha2::{Digest, Sha256};

use crate::FederationState;
use crate::outbox::Settled;
use crate::transport::{
    DeliveryError, check_endpoint, printable_excerpt, read_capped, refuse, refuse_untrusted,
    seal_message, truncate_reason, verify_peer_receipt,
};

/// The path peers post batches of envelopes to.
pub const BATCHES_PATH: &str = "/federation/v1/batches";
/// The media type of a batch and of its answer.
pub const BATCH_MEDIA_TYPE: &str = "application/cbor";
/// The most envelopes one batch may hold.
pub const MAX_BATCH_ENVELOPES: usize = 64;
/// The most bytes one batch body may hold (the CBOR array included).
pub const MAX_BATCH_BYTES: usize = MAX_ENVELOPE_BYTES;
/// The most bytes the answer to a batch may hold.
pub const MAX_BATCH_ANSWER_BYTES: usize = MAX_BATCH_ENVELOPES * (MAX_RECEIPT_BYTES + 9) + 9;

/// Why a batch body could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BatchFormatError {
    /// Not a CBOR array of byte strings in the required form.
    #[error("malformed batch: {0}")]
    Malformed(&'static str),
    /// More items than allowed.
    #[error("a batch holds at most {limit} envelopes; this one holds {count}")]
    TooMany {
        /// Items in the array.
        count: u64,
        /// The limit.
        limit: usize,
    },
}

/// Encodes `items` as a CBOR array of byte strings (definite lengths, shortest heads).
pub fn encode_byte_strings<T: AsRef<[u8]>>(items: &[T]) -> Vec<u8> {
    let total: usize = items.iter().map(|item| item.as_ref().len() + 9).sum();
    let mut out = Vec::with_capacity(total + 9);
    write_head(&mut out, 4, items.len() as u64);
    for item in items {
        write_head(&mut out, 2, item.as_ref().len() as u64);
        out.extend_from_slice(item.as_ref());
    }
    out
}

fn write_head(out: &mut Vec<u8>, major: u8, value: u64) {
    let major = major << 5;
    match value {
        0..=23 => out.push(major | value as u8),
        24..=0xff => out.extend_from_slice(&[major | 24, value as u8]),
        0x100..=0xffff => {
            out.push(major | 25);
            out.extend_from_slice(&(value as u16).to_be_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(major | 26);
            out.extend_from_slice(&(value as u32).to_be_bytes());
        }
        _ => {
            out.push(major | 27);
            out.extend_from_slice(&value.to_be_bytes());
        }
    }
}

/// Reads a CBOR array of at most `max_items` byte strings, all with definite lengths and
/// shortest heads, and nothing after it; returns the byte strings.
pub fn decode_byte_strings(bytes: &[u8], max_items: usize) -> Result<Vec<&[u8]>, BatchFormatError> {
    let mut rest = bytes;
    let count = read_head(&mut rest, 4)?;
    if count > max_items as u64 {
        return Err(BatchFormatError::TooMany {
            count,
            limit: max_items,
        });
    }
    let mut items = Vec::with_capacity(max_items.min(count as usize));
    for _ in 0..count {
        let length = read_head(&mut rest, 2)?;
        let length = usize::try_from(length)
            .ok()
            .filter(|length| *length <= rest.len())
            .ok_or(BatchFormatError::Malformed(
                "a byte string runs past the end",
            ))?;
        let (item, after) = rest.split_at(length);
        items.push(item);
        rest = after;
    }
    if !rest.is_empty() {
        return Err(BatchFormatError::Malformed("bytes after the array"));
    }
    Ok(items)
}

/// Reads one head of major type `major`, refusing other types, indefinite lengths and
/// heads longer than needed.
/// The bytes of a batch from its first envelope on, once the array's head and the first
/// byte string's head have arrived (`None` until then). Refuses, from the heads alone, a
/// batch that is not an array of byte strings (400) or holds more than
/// [`MAX_BATCH_ENVELOPES`] (413).
pub(crate) fn first_envelope_prefix(prefix: &[u8]) -> Result<Option<&[u8]>, ApiError> {
    // A head is at most 9 bytes; wait until both can be read whole.
    const HEADS: usize = 18;
    if prefix.len() < HEADS {
        return Ok(None);
    }
    let mut rest = prefix;
    let count = read_head(&mut rest, 4)
        .map_err(|error| refuse(StatusCode::BAD_REQUEST, error.to_string()))?;
    if count > MAX_BATCH_ENVELOPES as u64 {
        return Err(batch_too_large(format!(
            "a batch holds at most {MAX_BATCH_ENVELOPES} envelopes, this one {count}"
        )));
    }
    if count == 0 {
        return Err(refuse(StatusCode::BAD_REQUEST, "the batch is empty".into()));
    }
    read_head(&mut rest, 2).map_err(|error| refuse(StatusCode::BAD_REQUEST, error.to_string()))?;
    Ok(Some(rest))
}

fn read_head(rest: &mut &[u8], major: u8) -> Result<u64, BatchFormatError> {
    let (&first, after) = rest
        .split_first()
        .ok_or(BatchFormatError::Malformed("the body ends early"))?;
    if first >> 5 != major {
        return Err(BatchFormatError::Malformed(if major == 4 {
            "not an array"
        } else {
            "an item is not a byte string"
        }));
    }
    let (width, smallest) = match first & 0x1f {
        info @ 0..=23 => {
            *rest = after;
            return Ok(u64::from(info));
        }
        24 => (1, 24),
        25 => (2, 0x100),
        26 => (4, 0x1_0000),
        27 => (8, 0x1_0000_0000),
        _ => return Err(BatchFormatError::Malformed("indefinite or reserved length")),
    };
    if after.len() < width {
        return Err(BatchFormatError::Malformed("the body ends early"));
    }
    let (number, after) = after.split_at(width);
    let value = number
        .iter()
        .fold(0u64, |value, byte| (value << 8) | u64::from(*byte));
    if value < smallest {
        return Err(BatchFormatError::Malformed(
            "a length is not in its shortest form",
        ));
    }
    *rest = after;
    Ok(value)
}

fn batch_too_large(detail: String) -> ApiError {
    tracing::warn!(?detail, "federation batch refused");
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "batch-too-large",
        "Batch too large",
        detail,
    )
}

/// An envelope past the batch-wide checks: opened and handed to the inbox, or rejected
/// on its own with a reason.
enum Opened {
    Inbox {
        message: IncomingMessage,
        message_id: MessageId,
        body_commitment: [u8; 32],
        envelope_hash: [u8; 32],
    },
    Rejected {
        message_id: MessageId,
        envelope_hash: [u8; 32],
        reason: String,
    },
}

/// Receives a batch of envelopes from one peer and answers with their receipts.
pub(crate) async fn receive_batch(
    State(state): State<FederationState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let body = crate::intake::read_batch(&state, &headers, body).await?;
    let envelopes =
        decode_byte_strings(&body, MAX_BATCH_ENVELOPES).map_err(|error| match error {
            BatchFormatError::TooMany { .. } => batch_too_large(error.to_string()),
            BatchFormatError::Malformed(_) => refuse(StatusCode::BAD_REQUEST, error.to_string()),
        })?;
    if envelopes.is_empty() {
        return Err(refuse(StatusCode::BAD_REQUEST, "the batch is empty".into()));
    }
    let federation = &state.federation;
    let now = state.app.now().millis();
    let mut peeked: Vec<comity_crypto::PeekedEnvelope> = Vec::with_capacity(envelopes.len());
    for (position, envelope) in envelopes.iter().enumerate() {
        if envelope.len() > MAX_ENVELOPE_BYTES {
            return Err(batch_too_large(format!(
                "envelope {position} exceeds {MAX_ENVELOPE_BYTES} bytes"
            )));
        }
        let seen = comity_crypto::peek_envelope(envelope).map_err(|error| {
            refuse(
                StatusCode::BAD_REQUEST,
                format!("envelope {position}: malformed envelope: {error}"),
            )
        })?;
        if seen.header.recipient != state.app.node_id() {
            return Err(refuse(
                StatusCode::BAD_REQUEST,
                format!(
                    "envelope {position} is addressed to {}, not to this node",
                    seen.header.recipient
                ),
            ));
        }
        if let Some(first) = peeked.first()
            && first.header.sender != seen.header.sender
        {
            return Err(refuse(
                StatusCode::BAD_REQUEST,
                "the envelopes of one batch come from one sender".into(),
            ));
        }
        peeked.push(seen);
    }
    let sender = peeked
        .first()
        .map(|seen| seen.header.sender.clone())
        .unwrap_or_default();
    let peer = federation
        .peer(&sender)
        .ok_or_else(|| refuse_untrusted(format!("sender {sender} is not on the trust list")))?;
    let mut opened = Vec::with_capacity(envelopes.len());
    for (envelope, seen) in envelopes.iter().zip(&peeked) {
        let sender_key = peer.key_valid_at(&seen.sender_key_id, now).ok_or_else(|| {
            refuse_untrusted(format!(
                "key {} of {sender} is unknown or not valid now (retired keys are refused)",
                seen.sender_key_id
            ))
        })?;
        opened.push(open_one(
            &state,
            envelope,
            seen,
            sender_key.signing_key_bytes(),
        ));
    }
    let messages: Vec<IncomingMessage> = opened
        .iter()
        .filter_map(|entry| match entry {
            Opened::Inbox { message, .. } => Some(message.clone()),
            Opened::Rejected { .. } => None,
        })
        .collect();
    let mut outcomes = state
        .app
        .accept_incoming_batch(&messages)
        .await?
        .into_iter();
    let keys = federation.keys();
    let mut receipts = Vec::with_capacity(opened.len());
    for entry in opened {
        let receipt = match entry {
            Opened::Inbox {
                message_id,
                body_commitment,
                envelope_hash,
                ..
            } => {
                let outcome = match outcomes.next() {
                    Some(InboundOutcome::Applied | InboundOutcome::Queued) => {
                        ReceiptOutcome::Accepted
                    }
                    Some(InboundOutcome::Duplicate) => ReceiptOutcome::Duplicate,
                    Some(InboundOutcome::Rejected(reason)) => {
                        tracing::warn!(%message_id, %reason, "message stored but rejected");
                        ReceiptOutcome::Rejected(truncate_reason(&reason))
                    }
                    None => {
                        return Err(refuse(
                            StatusCode::INTERNAL_SERVER_ERROR,
                            "the inbox answered fewer outcomes than messages".into(),
                        ));
                    }
                };
                Receipt {
                    message_id,
                    recipient: state.app.node_id().to_string(),
                    sender: sender.clone(),
                    body_commitment: Some(body_commitment),
                    envelope_hash,
                    received_at_ms: now,
                    outcome,
                }
            }
            Opened::Rejected {
                message_id,
                envelope_hash,
                reason,
            } => Receipt {
                message_id,
                recipient: state.app.node_id().to_string(),
                sender: sender.clone(),
                body_commitment: None,
                envelope_hash,
                received_at_ms: now,
                outcome: ReceiptOutcome::Rejected(truncate_reason(&reason)),
            },
        };
        let signed = comity_crypto::sign_receipt(&keys, &receipt).map_err(|error| {
            refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("cannot sign receipt: {error}"),
            )
        })?;
        receipts.push(signed);
    }
    let mut response = (StatusCode::OK, encode_byte_strings(&receipts)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(BATCH_MEDIA_TYPE),
    );
    Ok(response)
}

/// Verifies and opens one envelope of a batch whose sender and key are trusted.
fn open_one(
    state: &FederationState,
    envelope: &[u8],
    seen: &comity_crypto::PeekedEnvelope,
    sender_key: &[u8; 32],
) -> Opened {
    let message_id = seen.header.message_id;
    let rejected = |reason: String| {
        // The reason may quote what the (unverified) envelope says: Debug-escaped.
        tracing::warn!(%message_id, ?reason, "envelope of a batch rejected");
        Opened::Rejected {
            message_id,
            envelope_hash: Sha256::digest(envelope).into(),
            reason,
        }
    };
    let Some(own_keys) = state.federation.keys_for(&seen.recipient_key_id) else {
        return rejected(format!(
            "envelope sealed to key {}, which this node does not hold",
            seen.recipient_key_id
        ));
    };
    let opened = match comity_crypto::open(&own_keys, envelope, sender_key) {
        Ok(opened) => opened,
        Err(error) => return rejected(format!("envelope rejected: {error}")),
    };
    let Ok(body) = String::from_utf8(opened.body) else {
        return rejected("body is not UTF-8 JSON".into());
    };
    let Ok(sequence) = i64::try_from(opened.header.sequence) else {
        return rejected("sequence out of range".into());
    };
    Opened::Inbox {
        message: IncomingMessage {
            message_id: opened.header.message_id.to_string(),
            sender_node: opened.header.sender.clone(),
            conversation_id: opened.header.conversation_id.clone(),
            sequence,
            message_type: opened.header.message_type.clone(),
            body,
            envelope: base64::engine::general_purpose::STANDARD.encode(envelope),
        },
        message_id: opened.header.message_id,
        body_commitment: opened.body_commitment,
        envelope_hash: opened.envelope_hash,
    }
}

/// Why a batch as a whole was not delivered.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// The peer has no batch route (an older node): send the envelopes one by one.
    #[error("the peer does not take batches")]
    NotSupported,
    /// The batch would exceed [`MAX_BATCH_BYTES`] once sealed: send the envelopes one by
    /// one.
    #[error("the sealed batch exceeds {MAX_BATCH_BYTES} bytes")]
    TooLarge,
    /// Nothing in the batch was delivered.
    #[error(transparent)]
    Failed(#[from] DeliveryError),
}

/// Seals `messages` (all to one peer) and posts them as one batch. Returns, in the same
/// order, each message's verified receipt (base64) or why it was not delivered.
pub async fn send_batch(
    state: &FederationState,
    messages: &[OutboxMessage],
) -> Result<Vec<Result<Settled, DeliveryError>>, BatchError> {
    let federation = &state.federation;
    let Some(first) = messages.first() else {
        return Ok(Vec::new());
    };
    let recipient = &first.recipient_node;
    if messages.len() > MAX_BATCH_ENVELOPES
        || messages
            .iter()
            .any(|message| &message.recipient_node != recipient)
    {
        return Err(BatchError::Failed(DeliveryError::Permanent(
            "a batch holds at most 64 messages, all to one peer".into(),
        )));
    }
    let peer = federation.peer(recipient).ok_or_else(|| {
        DeliveryError::Unavailable(format!("{recipient} is not on the trust list"))
    })?;
    let now = state.app.now().millis();
    let recipient_key = peer
        .current_key(now)
        .ok_or_else(|| DeliveryError::Unavailable(format!("no valid key for {recipient}")))?;
    check_endpoint(&peer.endpoint, federation.allow_plain_http_loopback)?;
    // Each message: sealed (message id, bytes), or why it could not be.
    let sealed: Vec<Result<(MessageId, Vec<u8>), DeliveryError>> = messages
        .iter()
        .map(|message| seal_message(state, recipient_key, message, now))
        .collect();
    let envelopes: Vec<&[u8]> = sealed
        .iter()
        .filter_map(|entry| entry.as_ref().ok().map(|(_, bytes)| bytes.as_slice()))
        .collect();
    let mut results: Vec<Result<Settled, DeliveryError>> = Vec::with_capacity(messages.len());
    if envelopes.is_empty() {
        // Nothing could be sealed: every entry is the error that says why.
        results.extend(sealed.into_iter().filter_map(Result::err).map(Err));
        return Ok(results);
    }
    let body = encode_byte_strings(&envelopes);
    if body.len() > MAX_BATCH_BYTES {
        return Err(BatchError::TooLarge);
    }
    let response = federation
        .client_for(&peer.node_id)
        .map_err(DeliveryError::Unavailable)?
        .post(format!("{}{BATCHES_PATH}", peer.endpoint))
        .header(header::CONTENT_TYPE, BATCH_MEDIA_TYPE)
        .body(body)
        .send()
        .await
        .map_err(|error| DeliveryError::Unavailable(format!("{}: {error}", peer.endpoint)))?;
    let status = response.status();
    if status == StatusCode::NOT_FOUND || status == StatusCode::METHOD_NOT_ALLOWED {
        return Err(BatchError::NotSupported);
    }
    if !status.is_success() {
        let detail = read_capped(response, crate::transport::MAX_ERROR_ANSWER_BYTES)
            .await
            .map(|bytes| printable_excerpt(&bytes))
            .unwrap_or_default();
        return Err(BatchError::Failed(DeliveryError::Unavailable(format!(
            "peer answered {status} to a batch: {detail}"
        ))));
    }
    let answer = read_capped(response, MAX_BATCH_ANSWER_BYTES)
        .await
        .map_err(|error| DeliveryError::Unavailable(format!("receipts: {error}")))?;
    let receipts = decode_byte_strings(&answer, envelopes.len())
        .map_err(|error| DeliveryError::Unavailable(format!("receipts: {error}")))?;
    if receipts.len() != envelopes.len() {
        return Err(BatchError::Failed(DeliveryError::Unavailable(format!(
            "{} receipts for {} envelopes",
            receipts.len(),
            envelopes.len()
        ))));
    }
    let mut receipts = receipts.into_iter();
    for (message, entry) in messages.iter().zip(sealed) {
        let result = match entry {
            Err(error) => Err(error),
            Ok((message_id, envelope)) => match receipts.next() {
                Some(bytes) => {
                    let envelope_hash: [u8; 32] = Sha256::digest(&envelope).into();
                    check_receipt(&peer, recipient_key, bytes, message_id, envelope_hash, now)
                        .map(|receipt| crate::transport::settled(message, receipt, bytes))
                }
                None => Err(DeliveryError::Unavailable("receipt missing".into())),
            },
        };
        results.push(result);
    }
    Ok(results)
}

/// Accepts one receipt of a batch only if it verifies under a valid key of the peer and
/// covers exactly the envelope sent.
fn check_receipt(
    peer: &crate::identity::Peer,
    recipient_key: &comity_crypto::PublicKeys,
    bytes: &[u8],
    message_id: MessageId,
    envelope_hash: [u8; 32],
    now: i64,
) -> Result<Receipt, DeliveryError> {
    let receipt = verify_peer_receipt(peer, recipient_key, bytes, now)?;
    if receipt.message_id != message_id || receipt.envelope_hash != envelope_hash {
        return Err(DeliveryError::Unavailable(
            "receipt does not cover the envelope sent".into(),
        ));
    }
    Ok(receipt)
}

//! Reading the body of a federation request from the network without holding large bodies
//! from strangers.
//!
//! The body is read as a stream. The size limit is enforced while reading: as soon as the
//! count passes it the request is refused (413), whatever `Content-Length` claimed. As soon
//! as the first bytes name who signed the object (the protected header of its COSE_Sign1,
//! see [`comity_crypto::peek_envelope_prefix`]), an envelope from a sender or key this node
//! does not trust, or a key announcement signed by no key of any peer, is refused before
//! the rest is read. What the prefix says is not verified: the route runs every check again
//! on the whole body.

use std::future::poll_fn;
use std::pin::Pin;

use axum::body::{Body, Bytes, HttpBody as _};
use axum::http::{HeaderMap, StatusCode, header};
use comity_crypto::{EnvelopePrefix, KeyAnnouncementPrefix, PrefixPeek};
use comity_http::ApiError;

use crate::FederationState;
use crate::transport::{refuse, refuse_untrusted};

/// Reads an envelope posted to `/federation/v1/messages`, `/federation/v1/resync` or
/// `/federation/v1/calls`, at most [`comity_crypto::MAX_ENVELOPE_BYTES`], refusing an
/// untrusted sender or key, or an envelope addressed to another node, as soon as its
/// protected header has arrived.
pub(crate) async fn read_envelope(
    state: &FederationState,
    headers: &HeaderMap,
    body: Body,
) -> Result<Bytes, ApiError> {
    read_checking_prefix(
        headers,
        body,
        comity_crypto::MAX_ENVELOPE_BYTES,
        |prefix| envelope_header_arrived(state, prefix, "envelope"),
        "truncated envelope: the body ends before its protected header is complete",
    )
    .await
}

/// Whether the protected header of the envelope starting `prefix` has arrived: once it
/// has, an envelope from a stranger or addressed to another node is refused, and a
/// malformed one is refused at once (`which` names the envelope in the refusal).
fn envelope_header_arrived(
    state: &FederationState,
    prefix: &[u8],
    which: &str,
) -> Result<bool, ApiError> {
    match comity_crypto::peek_envelope_prefix(prefix) {
        Ok(PrefixPeek::NeedMoreBytes) => Ok(false),
        Ok(PrefixPeek::Complete(claimed)) => check_claimed_sender(state, &claimed).map(|()| true),
        Err(error) => Err(refuse(
            StatusCode::BAD_REQUEST,
            format!("malformed {which}: {error}"),
        )),
    }
}

/// Reads a batch posted to `/federation/v1/batches`, at most
/// [`crate::batch::MAX_BATCH_BYTES`]: once the array's head and its first envelope's
/// protected header have arrived, a batch of too many envelopes, or whose first envelope
/// comes from a stranger or is addressed to another node, is refused before the rest is
/// read (the route checks every envelope again once the batch is whole).
pub(crate) async fn read_batch(
    state: &FederationState,
    headers: &HeaderMap,
    body: Body,
) -> Result<Bytes, ApiError> {
    read_checking_prefix(
        headers,
        body,
        crate::batch::MAX_BATCH_BYTES,
        |prefix| {
            let Some(first_envelope) = crate::batch::first_envelope_prefix(prefix)? else {
                return Ok(false);
            };
            envelope_header_arrived(state, first_envelope, "envelope 0")
        },
        "truncated or empty batch: the body ends before its first envelope's protected header",
    )
    .await
}

/// Reads a key announcement posted to `/federation/v1/keys`, at most
/// [`comity_crypto::MAX_KEY_ANNOUNCEMENT_BYTES`], refusing one whose signer is no key of
/// any peer as soon as its protected header has arrived.
pub(crate) async fn read_key_announcement(
    state: &FederationState,
    headers: &HeaderMap,
    body: Body,
) -> Result<Bytes, ApiError> {
    read_checking_prefix(
        headers,
        body,
        comity_crypto::MAX_KEY_ANNOUNCEMENT_BYTES,
        |prefix| match comity_crypto::peek_key_announcement_prefix(prefix) {
            Ok(PrefixPeek::NeedMoreBytes) => Ok(false),
            Ok(PrefixPeek::Complete(claimed)) => {
                check_claimed_signer(state, &claimed).map(|()| true)
            }
            Err(error) => Err(refuse(
                StatusCode::BAD_REQUEST,
                format!("malformed key announcement: {error}"),
            )),
        },
        "truncated key announcement: the body ends before its protected header is complete",
    )
    .await
}

/// The same checks, in the same order and with the same answers, as
/// [`crate::transport::open_from_peer`] makes on the whole envelope before opening it.
fn check_claimed_sender(state: &FederationState, claimed: &EnvelopePrefix) -> Result<(), ApiError> {
    if claimed.recipient != state.app.node_id() {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            format!(
                "envelope addressed to {}, not to this node",
                claimed.recipient
            ),
        ));
    }
    let peer = state.federation.peer(&claimed.sender).ok_or_else(|| {
        refuse_untrusted(format!(
            "sender {} of message {} is not on the trust list (refused before reading the body)",
            claimed.sender, claimed.message_id
        ))
    })?;
    let now = state.app.now().millis();
    if peer.key_valid_at(&claimed.sender_key_id, now).is_none() {
        return Err(refuse_untrusted(format!(
            "key {} of {} is unknown or not valid now (refused before reading the body)",
            claimed.sender_key_id, claimed.sender
        )));
    }
    Ok(())
}

/// An announcement is verified against every key (current or retired) of every peer, so
/// only a signer that is none of them is refused early.
fn check_claimed_signer(
    state: &FederationState,
    claimed: &KeyAnnouncementPrefix,
) -> Result<(), ApiError> {
    let known = {
        let trust = crate::locks::read(&state.federation.trust);
        trust.peers().any(|peer| {
            peer.keys
                .iter()
                .any(|key| key.keys.key_id() == claimed.signer_key_id)
        })
    };
    if known {
        return Ok(());
    }
    tracing::warn!(
        signer_key_id = ?claimed.signer_key_id,
        "key announcement signed by no key of any peer (refused before reading the body)"
    );
    Err(refuse(
        StatusCode::FORBIDDEN,
        "key announcement not signed by a trusted key of its node".into(),
    ))
}

/// Reads `body` up to `limit` bytes. `check_prefix` sees the bytes read so far after each
/// chunk until it answers `true` (the prefix was complete and acceptable) or refuses; a
/// body that ends before that is refused with `truncated`.
async fn read_checking_prefix(
    headers: &HeaderMap,
    mut body: Body,
    limit: usize,
    mut check_prefix: impl FnMut(&[u8]) -> Result<bool, ApiError>,
    truncated: &'static str,
) -> Result<Bytes, ApiError> {
    if declared_length(headers).is_some_and(|declared| declared > limit as u64) {
        return Err(too_large(limit));
    }
    let mut received: Vec<u8> = Vec::new();
    let mut prefix_accepted = false;
    while let Some(frame) = poll_fn(|context| Pin::new(&mut body).poll_frame(context)).await {
        let frame = frame.map_err(|error| {
            refuse(
                StatusCode::BAD_REQUEST,
                format!("the body could not be read: {error}"),
            )
        })?;
        // Trailers carry nothing Comity reads.
        let Ok(data) = frame.into_data() else {
            continue;
        };
        if received.len().saturating_add(data.len()) > limit {
            return Err(too_large(limit));
        }
        received.extend_from_slice(&data);
        if !prefix_accepted {
            prefix_accepted = check_prefix(&received)?;
        }
    }
    if !prefix_accepted {
        return Err(refuse(StatusCode::BAD_REQUEST, truncated.into()));
    }
    Ok(Bytes::from(received))
}

fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

fn too_large(limit: usize) -> ApiError {
    tracing::warn!(limit, "federation request body over the limit refused");
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body-too-large",
        "Body too large",
        format!("the request body exceeds the {limit}-byte limit"),
    )
}

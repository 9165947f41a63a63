//! The federation transport: sealed envelopes over HTTP between nodes on each other's
//! trust lists, answered by signed receipts.
//!
//! Receiving: `POST /federation/v1/messages` takes one envelope (`application/cose`),
//! checks it is addressed here, that its sender is on the trust list with a key valid
//! now, verifies the signature, decrypts, hands the body to the inbox (which drops
//! duplicates and keeps conversation order) and answers with a receipt signed by this
//! node. Every refusal is logged with its reason and changes nothing.
//!
//! Sending: [`send`] seals an outbox message to the peer's current key, posts it, and
//! checks the receipt's signature and that it covers exactly the bytes sent.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use comity_app::federation::{InboundOutcome, IncomingMessage};
use comity_crypto::{
    ENVELOPE_VERSION, EnvelopeHeader, MAX_ENVELOPE_BYTES, MessageId, NodeKeys, Receipt,
    ReceiptOutcome,
};
use comity_store::OutboxMessage;
use sha2::{Digest, Sha256};

use comity_http::ApiError;

use crate::FederationState;
use crate::identity::{Keyring, Peer, PeerEntry, PendingKey, TrustList};
use crate::locks::{read, write};
use crate::outbox::Settled;

/// The path peers post envelopes to.
pub const MESSAGES_PATH: &str = "/federation/v1/messages";
/// The path peers post key announcements to.
pub const KEYS_PATH: &str = "/federation/v1/keys";
/// The media type of envelopes and receipts.
pub const COSE_MEDIA_TYPE: &str = "application/cose";

/// This node's keys, trust list and HTTP client.
#[derive(Debug)]
pub struct Federation {
    /// This node's secret keys: the current ones and those it rotated away from.
    keyring: RwLock<Keyring>,
    /// The peers.
    pub trust: RwLock<TrustList>,
    /// Where the trust list is saved (none for in-memory nodes).
    pub data_dir: Option<PathBuf>,
    /// Whether plain HTTP to loopback peers is allowed.
    pub allow_plain_http_loopback: bool,
    /// This node's TLS certificate (PEM), published in its peer entry.
    pub tls_certificate: Option<String>,
    /// The last key announcement made, to send again to peers that missed it.
    last_announcement: RwLock<Option<StoredAnnouncement>>,
    /// One HTTP client per peer, by node id, each trusting only that peer's pinned
    /// certificate (see [`peer_client`]).
    peer_clients: RwLock<HashMap<String, reqwest::Client>>,
}

impl Federation {
    /// A federation layer for these keys and trust list.
    pub fn new(
        mut keyring: Keyring,
        trust: TrustList,
        data_dir: Option<PathBuf>,
        allow_plain_http_loopback: bool,
        tls_certificate: Option<String>,
    ) -> Arc<Federation> {
        let peer_clients = peer_clients(&trust);
        let recovery_signature = match &data_dir {
            Some(dir) => crate::identity::load_recovery_signature(dir).unwrap_or_else(|error| {
                tracing::warn!(%error, "the recovery countersignature of the last announcement is unreadable");
                None
            }),
            None => None,
        };
        let announcement = keyring
            .announcement
            .take()
            .map(|announcement| StoredAnnouncement {
                announcement,
                recovery_signature,
            });
        Arc::new(Federation {
            keyring: RwLock::new(keyring),
            trust: RwLock::new(trust),
            data_dir,
            allow_plain_http_loopback,
            tls_certificate,
            last_announcement: RwLock::new(announcement),
            peer_clients: RwLock::new(peer_clients),
        })
    }

    /// The current keys.
    pub fn keys(&self) -> Arc<NodeKeys> {
        read(&self.keyring).current.clone()
    }

    /// Since when the current keys are in use, milliseconds since the epoch.
    pub fn keys_since_ms(&self) -> i64 {
        read(&self.keyring).since_ms
    }

    /// The keys (current or retired) an envelope was sealed to, by key id.
    pub(crate) fn keys_for(&self, key_id: &str) -> Option<Arc<NodeKeys>> {
        let keyring = read(&self.keyring);
        std::iter::once(&keyring.current)
            .chain(keyring.previous.iter())
            .find(|keys| keys.key_id() == key_id)
            .cloned()
    }

    /// The HTTP client for one peer. There is no fallback: a peer whose pinned
    /// certificate cannot be read is not reached at all.
    pub(crate) fn client_for(&self, node_id: &str) -> Result<reqwest::Client, String> {
        read(&self.peer_clients)
            .get(node_id)
            .cloned()
            .ok_or_else(|| {
                format!("no HTTP client for {node_id}: its pinned TLS certificate is unreadable")
            })
    }

    /// This node's recovery public key, published in its peer entry, if it has one.
    pub fn recovery_public(&self) -> Option<comity_crypto::PublicKeys> {
        let dir = self.data_dir.as_ref()?;
        crate::identity::load_recovery_public(dir).unwrap_or_else(|error| {
            tracing::warn!(%error, "the recovery public key is unreadable");
            None
        })
    }

    /// A copy of one peer's entry.
    pub fn peer(&self, node_id: &str) -> Option<Peer> {
        read(&self.trust).peer(node_id).cloned()
    }
}

/// The receive routes: envelopes, calls, resynchronisation and key announcements.
pub fn routes<S: Clone + Send + Sync + 'static>(state: FederationState) -> axum::Router<S> {
    axum::Router::new()
        .route(
            MESSAGES_PATH,
            axum::routing::post(receive)
                .layer(axum::extract::DefaultBodyLimit::max(MAX_ENVELOPE_BYTES)),
        )
        .route(
            crate::resync::RESYNC_PATH,
            axum::routing::post(crate::resync::receive_resync)
                .layer(axum::extract::DefaultBodyLimit::max(MAX_ENVELOPE_BYTES)),
        )
        .route(
            crate::batch::BATCHES_PATH,
            axum::routing::post(crate::batch::receive_batch).layer(
                axum::extract::DefaultBodyLimit::max(crate::batch::MAX_BATCH_BYTES),
            ),
        )
        .route(
            crate::calls::CALLS_PATH,
            axum::routing::post(crate::calls::receive_call)
                .layer(axum::extract::DefaultBodyLimit::max(MAX_ENVELOPE_BYTES)),
        )
        .route(
            KEYS_PATH,
            axum::routing::post(receive_key_announcement).layer(
                axum::extract::DefaultBodyLimit::max(comity_crypto::MAX_KEY_ANNOUNCEMENT_BYTES),
            ),
        )
        .with_state(state)
}

pub(crate) fn refuse(status: StatusCode, reason: String) -> ApiError {
    // The reason may quote what an unauthenticated sender wrote: Debug-escaped in the log.
    tracing::warn!(?reason, "federation message refused");
    ApiError::new(status, "envelope-refused", "Envelope refused", reason)
}

/// A refusal before the signature is checked. The log says why; the answer does not, so
/// that nobody can learn who is on the trust list by trying names and keys.
pub(crate) fn refuse_untrusted(reason: String) -> ApiError {
    tracing::warn!(?reason, "federation message refused");
    ApiError::new(
        StatusCode::FORBIDDEN,
        "envelope-refused",
        "Envelope refused",
        "the envelope's sender or key is not trusted by this node",
    )
}

/// Seals `body` to `peer`'s current key as an envelope outside any ordered conversation
/// (sequence 0): a call's question or answer, a resynchronisation statement or answer.
/// Returns it with its message id.
pub(crate) fn seal_outside_conversation(
    state: &FederationState,
    peer: &Peer,
    message_type: &str,
    conversation_id: &str,
    body: &[u8],
    in_reply_to: Option<MessageId>,
) -> Result<(Vec<u8>, MessageId), String> {
    let now = state.app.now().millis();
    let recipient_key = peer
        .current_key(now)
        .ok_or_else(|| format!("no valid key for {}", peer.node_id))?;
    let message_id = MessageId::random(&mut rand::rngs::OsRng);
    let header = EnvelopeHeader {
        version: ENVELOPE_VERSION,
        message_id,
        sender: state.app.node_id().to_string(),
        recipient: peer.node_id.clone(),
        message_type: message_type.to_string(),
        conversation_id: conversation_id.to_string(),
        sequence: 0,
        sent_at_ms: now,
        in_reply_to,
    };
    let envelope = comity_crypto::seal(
        &state.federation.keys(),
        recipient_key,
        &header,
        body,
        &mut rand::rngs::OsRng,
    )
    .map_err(|error| format!("cannot seal: {error}"))?;
    Ok((envelope, message_id))
}

/// Checks that an envelope is addressed here, that its sender is on the trust list with
/// a key valid now, verifies its signature and opens it.
pub(crate) fn open_from_peer(
    state: &FederationState,
    body: &[u8],
) -> Result<comity_crypto::OpenedEnvelope, ApiError> {
    let federation = &state.federation;
    let peeked = comity_crypto::peek_envelope(body).map_err(|error| {
        refuse(
            StatusCode::BAD_REQUEST,
            format!("malformed envelope: {error}"),
        )
    })?;
    let header = &peeked.header;
    if header.recipient != state.app.node_id() {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            format!(
                "envelope addressed to {}, not to this node",
                header.recipient
            ),
        ));
    }
    let now = state.app.now().millis();
    let peer = federation.peer(&header.sender).ok_or_else(|| {
        refuse_untrusted(format!("sender {} is not on the trust list", header.sender))
    })?;
    let sender_key = peer
        .key_valid_at(&peeked.sender_key_id, now)
        .ok_or_else(|| {
            refuse_untrusted(format!(
                "key {} of {} is unknown or not valid now (retired keys are refused)",
                peeked.sender_key_id, header.sender
            ))
        })?;
    let own_keys = federation
        .keys_for(&peeked.recipient_key_id)
        .ok_or_else(|| {
            refuse(
                StatusCode::BAD_REQUEST,
                format!(
                    "envelope sealed to key {}, which this node does not hold",
                    peeked.recipient_key_id
                ),
            )
        })?;
    comity_crypto::open(&own_keys, body, sender_key.signing_key_bytes()).map_err(|error| {
        refuse(
            StatusCode::BAD_REQUEST,
            format!("envelope rejected: {error}"),
        )
    })
}

/// Receives one envelope and answers with a signed receipt.
async fn receive(
    State(state): State<FederationState>,
    headers: axum::http::HeaderMap,
    body: axum::body::Body,
) -> Result<Response, ApiError> {
    let body: Bytes = crate::intake::read_envelope(&state, &headers, body).await?;
    let federation = &state.federation;
    let now = state.app.now().millis();
    let opened = open_from_peer(&state, &body)?;
    if opened.header.conversation_id == comity_app::resync::RESYNC_CONVERSATION {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            format!(
                "resynchronisation envelopes go to {}",
                crate::resync::RESYNC_PATH
            ),
        ));
    }
    let body_text = String::from_utf8(opened.body.clone())
        .map_err(|_| refuse(StatusCode::BAD_REQUEST, "body is not UTF-8 JSON".into()))?;
    let sequence = i64::try_from(opened.header.sequence)
        .map_err(|_| refuse(StatusCode::BAD_REQUEST, "sequence out of range".into()))?;
    let outcome = state
        .app
        .accept_incoming(&IncomingMessage {
            message_id: opened.header.message_id.to_string(),
            sender_node: opened.header.sender.clone(),
            conversation_id: opened.header.conversation_id.clone(),
            sequence,
            message_type: opened.header.message_type.clone(),
            body: body_text,
            envelope: base64::engine::general_purpose::STANDARD.encode(&body),
        })
        .await?;
    let receipt_outcome = match outcome {
        InboundOutcome::Applied | InboundOutcome::Queued => ReceiptOutcome::Accepted,
        InboundOutcome::Duplicate => ReceiptOutcome::Duplicate,
        InboundOutcome::Rejected(reason) => {
            tracing::warn!(message_id = %opened.header.message_id, %reason, "message stored but rejected");
            ReceiptOutcome::Rejected(truncate_reason(&reason))
        }
    };
    let receipt = Receipt {
        message_id: opened.header.message_id,
        recipient: state.app.node_id().to_string(),
        sender: opened.header.sender.clone(),
        body_commitment: Some(opened.body_commitment),
        envelope_hash: opened.envelope_hash,
        received_at_ms: now,
        outcome: receipt_outcome,
    };
    let signed = comity_crypto::sign_receipt(&federation.keys(), &receipt).map_err(|error| {
        refuse(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot sign receipt: {error}"),
        )
    })?;
    let mut response = (StatusCode::OK, signed).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(COSE_MEDIA_TYPE),
    );
    Ok(response)
}

pub(crate) fn truncate_reason(reason: &str) -> String {
    reason.chars().take(500).collect()
}

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

/// Seals and posts one outbox message; returns the verified receipt and whether it
/// refuses the message.
pub async fn send(
    state: &FederationState,
    message: &OutboxMessage,
) -> Result<Settled, DeliveryError> {
    let federation = &state.federation;
    let peer = federation.peer(&message.recipient_node).ok_or_else(|| {
        DeliveryError::Unavailable(format!(
            "{} is not on the trust list",
            message.recipient_node
        ))
    })?;
    let now = state.app.now().millis();
    let recipient_key = peer.current_key(now).ok_or_else(|| {
        DeliveryError::Unavailable(format!("no valid key for {}", message.recipient_node))
    })?;
    check_endpoint(&peer.endpoint, federation.allow_plain_http_loopback)?;
    let (message_id, envelope) = seal_message(state, recipient_key, message, now)?;
    let envelope_hash: [u8; 32] = Sha256::digest(&envelope).into();
    let response = federation
        .client_for(&peer.node_id)
        .map_err(DeliveryError::Unavailable)?
        .post(format!("{}{MESSAGES_PATH}", peer.endpoint))
        .header(header::CONTENT_TYPE, COSE_MEDIA_TYPE)
        .body(envelope)
        .send()
        .await
        .map_err(|error| DeliveryError::Unavailable(format!("{}: {error}", peer.endpoint)))?;
    let status = response.status();
    if !status.is_success() {
        let detail = read_capped(response, MAX_ERROR_ANSWER_BYTES)
            .await
            .map(|bytes| printable_excerpt(&bytes))
            .unwrap_or_default();
        return Err(DeliveryError::Unavailable(format!(
            "peer answered {status}: {detail}"
        )));
    }
    let bytes = read_capped(response, comity_crypto::MAX_RECEIPT_BYTES)
        .await
        .map_err(|error| DeliveryError::Unavailable(format!("receipt: {error}")))?;
    let receipt = verify_peer_receipt(&peer, recipient_key, &bytes, now)?;
    if receipt.message_id != message_id || receipt.envelope_hash != envelope_hash {
        return Err(DeliveryError::Unavailable(
            "receipt does not cover the envelope sent".into(),
        ));
    }
    Ok(settled(message, receipt, &bytes))
}

/// What a verified receipt settles: the receipt to store (base64) and, when the peer
/// refused the message, why.
pub(crate) fn settled(message: &OutboxMessage, receipt: Receipt, bytes: &[u8]) -> Settled {
    let refused = match receipt.outcome {
        ReceiptOutcome::Rejected(reason) => {
            tracing::warn!(message_id = %message.message_id, peer = %message.recipient_node, ?reason, "peer stored the message but rejected it");
            Some(reason)
        }
        ReceiptOutcome::Accepted | ReceiptOutcome::Duplicate => None,
    };
    Settled {
        receipt: base64::engine::general_purpose::STANDARD.encode(bytes),
        refused,
    }
}

/// Seals one outbox message to `recipient_key` as sent at `now`; returns its message id
/// and the envelope bytes.
pub(crate) fn seal_message(
    state: &FederationState,
    recipient_key: &comity_crypto::PublicKeys,
    message: &OutboxMessage,
    now: i64,
) -> Result<(MessageId, Vec<u8>), DeliveryError> {
    let federation = &state.federation;
    let message_id: MessageId = message
        .message_id
        .parse()
        .map_err(|error| DeliveryError::Permanent(format!("bad message id: {error}")))?;
    let header = EnvelopeHeader {
        version: ENVELOPE_VERSION,
        message_id,
        sender: state.app.node_id().to_string(),
        recipient: message.recipient_node.clone(),
        message_type: message.message_type.clone(),
        conversation_id: message.conversation_id.clone(),
        sequence: u64::try_from(message.sequence)
            .map_err(|_| DeliveryError::Permanent("negative sequence".into()))?,
        sent_at_ms: now,
        in_reply_to: message
            .in_reply_to
            .as_deref()
            .and_then(|id| id.parse().ok()),
    };
    let envelope = comity_crypto::seal(
        &federation.keys(),
        recipient_key,
        &header,
        message.body.as_bytes(),
        &mut rand::rngs::OsRng,
    )
    .map_err(|error| DeliveryError::Permanent(format!("cannot seal: {error}")))?;
    Ok((message_id, envelope))
}

/// Verifies a peer's receipt under the key sealed to or, during a rotation, another of
/// the peer's keys valid at `now`.
pub(crate) fn verify_peer_receipt(
    peer: &Peer,
    recipient_key: &comity_crypto::PublicKeys,
    bytes: &[u8],
    now: i64,
) -> Result<Receipt, DeliveryError> {
    comity_crypto::verify_receipt(bytes, recipient_key.signing_key_bytes())
        .or_else(|first_error| {
            peer.keys
                .iter()
                .filter(|key| key.is_valid_at(now))
                .find_map(|key| {
                    comity_crypto::verify_receipt(bytes, key.keys.signing_key_bytes()).ok()
                })
                .ok_or(first_error)
        })
        .map_err(|error| DeliveryError::Unavailable(format!("receipt does not verify: {error}")))
}

/// How much of a peer's error answer is read, to quote in the outbox's last error.
pub(crate) const MAX_ERROR_ANSWER_BYTES: usize = 4096;

/// Reads a peer's answer, refusing one longer than `limit` bytes before holding it.
pub(crate) async fn read_capped(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, String> {
    let too_long = || format!("the answer exceeds the {limit}-byte limit");
    if response
        .content_length()
        .is_some_and(|length| length > limit as u64)
    {
        return Err(too_long());
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|error| error.to_string())? {
        if bytes.len() + chunk.len() > limit {
            return Err(too_long());
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// The start of a peer's answer, with control characters escaped.
pub(crate) fn printable_excerpt(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .chars()
        .take(300)
        .flat_map(char::escape_debug)
        .collect()
}

/// Refuses an endpoint that is not HTTPS, unless plain HTTP to a loopback address is
/// allowed and the parsed host is one (an IP address that is loopback, or `localhost`).
pub(crate) fn check_endpoint(
    endpoint: &str,
    allow_plain_http_loopback: bool,
) -> Result<(), DeliveryError> {
    let refused = |why: &str| DeliveryError::Unavailable(format!("{endpoint:?}: {why}"));
    let url = reqwest::Url::parse(endpoint).map_err(|_| refused("not a URL"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(refused("credentials in a peer's URL are refused"));
    }
    match url.scheme() {
        "https" => Ok(()),
        "http" => {
            let loopback = match url.host() {
                Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
                Some(url::Host::Ipv4(address)) => IpAddr::V4(address).is_loopback(),
                Some(url::Host::Ipv6(address)) => IpAddr::V6(address).is_loopback(),
                None => false,
            };
            if allow_plain_http_loopback && loopback {
                Ok(())
            } else {
                Err(refused(
                    "plain HTTP is refused (enable federation.allow_plain_http_loopback for loopback tests)",
                ))
            }
        }
        _ => Err(refused("not an http(s) URL")),
    }
}

/// Why a change to the trust list was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    /// The input is wrong; nothing changed.
    #[error("{field}: {message}")]
    Invalid {
        /// The field at fault.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// No such peer, or no such key waiting.
    #[error("{0}")]
    NotFound(String),
    /// The change no longer applies (for example the key that signed an announcement was
    /// retired meanwhile); nothing changed.
    #[error("{0}")]
    Conflict(String),
    /// The change could not be saved or applied.
    #[error("{0}")]
    Failed(String),
}

/// Saves the trust list (when the node has a data directory) and gives every peer an
/// HTTP client for its current endpoint and pinned certificate.
fn save_and_refresh(federation: &Federation, trust: &TrustList) -> Result<(), PeerError> {
    if let Some(dir) = &federation.data_dir {
        trust
            .save(dir)
            .map_err(|error| PeerError::Failed(error.to_string()))?;
    }
    *write(&federation.peer_clients) = peer_clients(trust);
    Ok(())
}

/// Adds a peer to the trust list, registers its authorities and saves the list.
pub async fn add_peer(state: &FederationState, entry: PeerEntry) -> Result<(), String> {
    add_peer_checked(state, entry, false)
        .await
        .map(|_| ())
        .map_err(|error| error.to_string())
}

/// Adds (or replaces) a peer: refuses an entry that claims this node or its authorities
/// and an unusable endpoint; takes authorities from other peers only with
/// `move_authorities` (the moves are returned). Applied at once and saved.
pub async fn add_peer_checked(
    state: &FederationState,
    entry: PeerEntry,
    move_authorities: bool,
) -> Result<Vec<crate::identity::HostChange>, PeerError> {
    let invalid =
        |field: &'static str| move |message: String| PeerError::Invalid { field, message };
    let local_authorities = local_authority_ids(&state.app)
        .await
        .map_err(PeerError::Failed)?;
    crate::identity::check_claims(&entry, state.app.node_id(), &local_authorities)
        .map_err(invalid("entry"))?;
    check_endpoint(&entry.endpoint, state.federation.allow_plain_http_loopback)
        .map_err(|error| invalid("endpoint")(error.to_string()))?;
    let (peer, changes) = {
        let mut trust = write(&state.federation.trust);
        let changes = if move_authorities {
            trust
                .insert_moving(entry.clone())
                .map_err(invalid("entry"))?
        } else {
            trust.insert(entry.clone()).map_err(invalid("entry"))?;
            Vec::new()
        };
        let peer = trust
            .peer(&entry.node_id)
            .cloned()
            .ok_or_else(|| PeerError::Failed("peer vanished".into()))?;
        save_and_refresh(&state.federation, &trust)?;
        (peer, changes)
    };
    for authority in peer.authorities {
        state
            .app
            .bootstrap()
            .register_authority(authority, &peer.node_id)
            .await
            .map_err(|error| PeerError::Failed(error.to_string()))?;
    }
    Ok(changes)
}

/// Points a peer at a new endpoint (and, when given, a new pinned certificate), at once.
pub fn update_peer(
    state: &FederationState,
    node_id: &str,
    endpoint: Option<String>,
    tls_certificate: Option<String>,
) -> Result<Peer, PeerError> {
    if let Some(endpoint) = &endpoint {
        check_endpoint(endpoint, state.federation.allow_plain_http_loopback).map_err(|error| {
            PeerError::Invalid {
                field: "endpoint",
                message: error.to_string(),
            }
        })?;
    }
    if let Some(pem) = &tls_certificate {
        reqwest::Certificate::from_pem(pem.as_bytes()).map_err(|error| PeerError::Invalid {
            field: "tls_certificate",
            message: format!("not a PEM certificate: {error}"),
        })?;
    }
    let mut trust = write(&state.federation.trust);
    let mut entry = trust
        .entry(node_id)
        .ok_or_else(|| PeerError::NotFound(format!("peer {node_id}")))?;
    if let Some(endpoint) = endpoint {
        entry.endpoint = endpoint;
    }
    if let Some(pem) = tls_certificate {
        entry.tls_certificate = Some(pem);
    }
    let peer = trust
        .insert(entry)
        .map_err(|message| PeerError::Invalid {
            field: "entry",
            message,
        })?
        .clone();
    save_and_refresh(&state.federation, &trust)?;
    Ok(peer)
}

/// Removes a peer from the trust list at once: nothing more is sent to it or accepted
/// from it. Its authorities stay in the registry, unreachable until a peer hosts them.
pub fn remove_peer(state: &FederationState, node_id: &str) -> Result<(), PeerError> {
    let mut trust = write(&state.federation.trust);
    if !trust.remove(node_id) {
        return Err(PeerError::NotFound(format!("peer {node_id}")));
    }
    save_and_refresh(&state.federation, &trust)
}

/// A copy of the trust list: every peer's entry, and the keys waiting for confirmation.
pub fn trust_snapshot(federation: &Federation) -> (Vec<PeerEntry>, Vec<PendingKey>) {
    let trust = read(&federation.trust);
    (
        trust
            .peers()
            .filter_map(|peer| trust.entry(&peer.node_id))
            .collect(),
        trust.pending_keys().to_vec(),
    )
}

/// An operator of this node confirms a key a peer announced, giving the fingerprint the
/// peer's operator told them out of band. A fingerprint that matches no waiting key of
/// that peer is refused and changes nothing. The announcement is verified again: the key
/// that signed it must still be trusted now.
pub fn accept_pending_key(
    state: &FederationState,
    node_id: &str,
    typed_fingerprint: &str,
) -> Result<PendingKey, PeerError> {
    let wanted =
        crate::identity::normalize_fingerprint(typed_fingerprint).ok_or(PeerError::Invalid {
            field: "fingerprint",
            message: "a key fingerprint is 64 hexadecimal digits (separators `:` allowed)".into(),
        })?;
    let now = state.app.now().millis();
    let mut trust = write(&state.federation.trust);
    let waiting: Vec<PendingKey> = trust
        .pending_keys()
        .iter()
        .filter(|pending| pending.node_id == node_id)
        .cloned()
        .collect();
    if waiting.is_empty() {
        return Err(PeerError::NotFound(format!(
            "key announced by {node_id} and waiting for confirmation"
        )));
    }
    let pending = waiting
        .into_iter()
        .find(|pending| {
            crate::identity::normalize_fingerprint(&pending.fingerprint).as_deref()
                == Some(wanted.as_str())
        })
        .ok_or(PeerError::Invalid {
            field: "fingerprint",
            message: format!(
                "no key {node_id} announced has this fingerprint; nothing was changed (compare it again with {node_id}'s operator)"
            ),
        })?;
    let peer = trust
        .peer(node_id)
        .cloned()
        .ok_or_else(|| PeerError::NotFound(format!("peer {node_id}")))?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&pending.announcement)
        .map_err(|_| PeerError::Failed("the stored announcement is not base64".into()))?;
    let announcement = peer
        .key_valid_at(&pending.signed_by, now)
        .and_then(|signer| {
            comity_crypto::KeyAnnouncement::verify(&bytes, signer.signing_key_bytes()).ok()
        })
        .filter(|announcement| announcement.node_id == node_id)
        .ok_or_else(|| {
            PeerError::Conflict(format!(
                "the key that signed this announcement ({}) is no longer trusted; ask {node_id} to announce again",
                pending.signed_by
            ))
        })?;
    let mut entry = trust
        .entry(node_id)
        .ok_or_else(|| PeerError::NotFound(format!("peer {node_id}")))?;
    apply_announced_key(
        &mut entry,
        &announcement,
        Retire::Signer(&pending.signed_by),
        now,
    );
    trust.insert(entry).map_err(PeerError::Failed)?;
    trust.clear_pending_keys(node_id);
    save_and_refresh(&state.federation, &trust)?;
    alert_key_announcement(
        state,
        &KeyAnnouncementAlert {
            node_id,
            key_id: &pending.key_id,
            fingerprint: &pending.fingerprint,
            outcome: "confirmed by an operator of this node: the new key is trusted",
        },
    );
    Ok(pending)
}

/// The ids of the authorities this node hosts.
pub async fn local_authority_ids(app: &comity_app::App) -> Result<Vec<String>, String> {
    Ok(app
        .list_authorities()
        .await
        .map_err(|error| error.to_string())?
        .into_iter()
        .filter(|record| record.is_local)
        .map(|record| record.authority.id.to_string())
        .collect())
}

/// One HTTP client per peer on the trust list; a peer whose pinned certificate cannot be
/// read gets none (and is not reached).
fn peer_clients(trust: &TrustList) -> HashMap<String, reqwest::Client> {
    trust
        .peers()
        .filter_map(|peer| match peer_client(peer) {
            Ok(client) => Some((peer.node_id.clone(), client)),
            Err(error) => {
                tracing::warn!(peer = %peer.node_id, %error, "unusable pinned certificate; the peer will not be reached");
                None
            }
        })
        .collect()
}

/// The HTTP client for one peer. With a pinned certificate it trusts that certificate
/// only: not another peer's, and not the public certificate authorities. A peer entry
/// without one is reached through the public authorities (a node behind a proxy with a
/// CA-issued certificate). Redirects are never followed: a peer answers, or fails.
fn peer_client(peer: &Peer) -> Result<reqwest::Client, reqwest::Error> {
    let mut builder = reqwest::Client::builder()
        .use_rustls_tls()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(std::time::Duration::from_secs(5))
        .timeout(std::time::Duration::from_secs(30))
        .pool_max_idle_per_host(8);
    if let Some(pem) = &peer.tls_certificate {
        builder = builder
            .tls_built_in_root_certs(false)
            .add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes())?);
    }
    builder.build()
}

/// This node as a peer entry for other nodes' trust lists: its endpoint, the authorities
/// it hosts, its public keys, its TLS certificate, its recovery key and the message
/// types it accepts.
pub async fn own_entry(
    app: &comity_app::App,
    keys: &NodeKeys,
    keys_since_ms: i64,
    endpoint: &str,
    tls_certificate: Option<String>,
    recovery_key: Option<&comity_crypto::PublicKeys>,
) -> Result<PeerEntry, comity_app::AppError> {
    let authorities = app
        .list_authorities()
        .await?
        .into_iter()
        .filter(|record| record.is_local)
        .map(|record| crate::identity::PeerAuthority {
            id: record.authority.id.to_string(),
            country: record.authority.country.to_string(),
            kind: record.authority.kind.code().to_string(),
            name: record.authority.name,
        })
        .collect();
    Ok(PeerEntry {
        node_id: app.node_id().to_string(),
        endpoint: endpoint.to_string(),
        authorities,
        keys: vec![crate::identity::PeerKey {
            public: keys.public_identity().to_text(),
            valid_from_ms: keys_since_ms,
            valid_until_ms: None,
        }],
        tls_certificate,
        recovery_key: recovery_key.map(comity_crypto::PublicKeys::to_text),
        accepts: Some(
            comity_wire::federation::known_message_types()
                .map(str::to_string)
                .collect(),
        ),
    })
}

/// The last announcement, with the recovery key's countersignature when it was a
/// recovery.
#[derive(Debug, Clone)]
struct StoredAnnouncement {
    announcement: Vec<u8>,
    recovery_signature: Option<Vec<u8>>,
}

/// The HTTP header that carries a recovery countersignature (base64 of a COSE_Sign1)
/// with a key announcement.
pub const RECOVERY_SIGNATURE_HEADER: &str = "comity-recovery-signature";
/// How far from the receiver's clock an announcement's `valid_from_ms` may be.
pub const ANNOUNCEMENT_WINDOW_MS: i64 = 10 * 60 * 1000;

/// What a key rotation did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RotationReport {
    /// The new key id.
    pub key_id: String,
    /// The new keys' fingerprint, for peers' operators to confirm.
    pub fingerprint: String,
    /// Peers that received the announcement (including those that keep it until an
    /// operator confirms the fingerprint).
    pub announced_to: Vec<String>,
    /// Of those, the peers where the key waits for an operator's confirmation.
    pub awaiting_confirmation: Vec<String>,
    /// Peers that did not, with the reason (announce again later).
    pub failed: Vec<(String, String)>,
}

/// Replaces this node's keys with new ones, keeps the old ones to open late envelopes,
/// and announces the new public keys to every peer, signed by the old signing key. Each
/// peer keeps the new key until its operator confirms the fingerprint.
pub async fn rotate_keys(state: &FederationState) -> Result<RotationReport, String> {
    rotate(state, None).await
}

/// A rotation after this node's current key leaked: the announcement is also signed by
/// the recovery key (its secret text, which the node uses and forgets), and peers that
/// pinned the recovery key trust the new key at once and retire every other key of this
/// node. A recovery key other than this node's is refused before anything changes.
pub async fn recover_keys(
    state: &FederationState,
    recovery_secret_text: &str,
) -> Result<RotationReport, PeerError> {
    let recovery =
        NodeKeys::from_secret_text(recovery_secret_text).map_err(|error| PeerError::Invalid {
            field: "recovery_key",
            message: format!("not a recovery key: {error}"),
        })?;
    let published = state.federation.recovery_public().ok_or_else(|| {
        PeerError::Conflict("this node has no recovery key (made by `comity init`)".into())
    })?;
    if published.key_id() != recovery.key_id() {
        return Err(PeerError::Invalid {
            field: "recovery_key",
            message: format!(
                "this is not the recovery key of this node (key {} expected)",
                published.key_id()
            ),
        });
    }
    rotate(state, Some(&recovery))
        .await
        .map_err(PeerError::Failed)
}

async fn rotate(
    state: &FederationState,
    recovery: Option<&NodeKeys>,
) -> Result<RotationReport, String> {
    let federation = &state.federation;
    let old = federation.keys();
    let new = Arc::new(NodeKeys::generate(&mut rand::rngs::OsRng));
    let now = state.app.now().millis();
    let announced = comity_crypto::KeyAnnouncement {
        node_id: state.app.node_id().to_string(),
        new_keys: new.public_identity(),
        valid_from_ms: now,
        valid_until_ms: None,
    };
    let announcement = announced.sign(&old).map_err(|error| error.to_string())?;
    let recovery_signature = recovery
        .map(|recovery| announced.sign(recovery))
        .transpose()
        .map_err(|error| error.to_string())?;
    if let Some(dir) = &federation.data_dir {
        crate::identity::store_rotated_keys(dir, &old, &new, now)
            .map_err(|error| error.to_string())?;
        crate::identity::store_announcement(dir, &announcement)
            .map_err(|error| error.to_string())?;
        crate::identity::store_recovery_signature(dir, recovery_signature.as_deref())
            .map_err(|error| error.to_string())?;
    }
    {
        let mut keyring = write(&federation.keyring);
        keyring.previous.push(old);
        keyring.current = new.clone();
        keyring.since_ms = now;
    }
    *write(&federation.last_announcement) = Some(StoredAnnouncement {
        announcement,
        recovery_signature,
    });
    let report = announce(state).await;
    Ok(RotationReport {
        key_id: new.key_id().to_string(),
        fingerprint: crate::identity::key_fingerprint(&new.public_identity()),
        announced_to: report.announced_to,
        awaiting_confirmation: report.awaiting_confirmation,
        failed: report.failed,
    })
}

/// What sending the last announcement to every peer did.
#[derive(Debug, Clone, Default)]
pub struct AnnouncementReport {
    /// Peers that received it (applied, kept for confirmation, or already had it).
    pub announced_to: Vec<String>,
    /// Of those, the peers that keep it until their operator confirms the fingerprint.
    pub awaiting_confirmation: Vec<String>,
    /// Peers that did not, with the reason.
    pub failed: Vec<(String, String)>,
}

/// Sends the last key announcement to every peer; returns who accepted and who did not.
pub async fn announce_keys(state: &FederationState) -> (Vec<String>, Vec<(String, String)>) {
    let report = announce(state).await;
    (report.announced_to, report.failed)
}

/// The last announcement, signed again with a `valid_from_ms` of now when it has grown
/// too old for peers' windows (peers that already trust the key answer "duplicate"
/// whatever its date). A recovery announcement cannot be signed again without the
/// recovery key, and is sent as it is.
fn fresh_announcement(state: &FederationState) -> Option<StoredAnnouncement> {
    let federation = &state.federation;
    let stored = read(&federation.last_announcement).clone()?;
    if stored.recovery_signature.is_some() {
        return Some(stored);
    }
    let signer = read(&federation.keyring).previous.last().cloned()?;
    let Ok(mut announced) = comity_crypto::KeyAnnouncement::verify(
        &stored.announcement,
        signer.public_identity().signing_key_bytes(),
    ) else {
        return Some(stored);
    };
    let now = state.app.now().millis();
    if now.saturating_sub(announced.valid_from_ms) < ANNOUNCEMENT_WINDOW_MS / 2 {
        return Some(stored);
    }
    announced.valid_from_ms = now;
    let Ok(resigned) = announced.sign(&signer) else {
        return Some(stored);
    };
    if let Some(dir) = &federation.data_dir
        && let Err(error) = crate::identity::store_announcement(dir, &resigned)
    {
        tracing::warn!(%error, "cannot keep the announcement signed again");
    }
    let fresh = StoredAnnouncement {
        announcement: resigned,
        recovery_signature: None,
    };
    *write(&federation.last_announcement) = Some(fresh.clone());
    Some(fresh)
}

/// Sends the last key announcement to every peer.
pub async fn announce(state: &FederationState) -> AnnouncementReport {
    let federation = &state.federation;
    let Some(stored) = fresh_announcement(state) else {
        return AnnouncementReport::default();
    };
    let peers: Vec<Peer> = read(&federation.trust).peers().cloned().collect();
    let mut report = AnnouncementReport::default();
    for peer in peers {
        if let Err(error) = check_endpoint(&peer.endpoint, federation.allow_plain_http_loopback) {
            report.failed.push((peer.node_id, error.to_string()));
            continue;
        }
        let client = match federation.client_for(&peer.node_id) {
            Ok(client) => client,
            Err(error) => {
                report.failed.push((peer.node_id, error));
                continue;
            }
        };
        let mut request = client
            .post(format!("{}{KEYS_PATH}", peer.endpoint))
            .header(
                header::CONTENT_TYPE,
                comity_crypto::KEY_ANNOUNCEMENT_CONTENT_TYPE,
            )
            .body(stored.announcement.clone());
        if let Some(signature) = &stored.recovery_signature {
            request = request.header(
                RECOVERY_SIGNATURE_HEADER,
                base64::engine::general_purpose::STANDARD.encode(signature),
            );
        }
        match request.send().await {
            Ok(response) if response.status() == StatusCode::ACCEPTED => {
                report.awaiting_confirmation.push(peer.node_id.clone());
                report.announced_to.push(peer.node_id);
            }
            Ok(response) if response.status().is_success() => {
                report.announced_to.push(peer.node_id)
            }
            Ok(response) => {
                let status = response.status();
                let detail = read_capped(response, MAX_ERROR_ANSWER_BYTES)
                    .await
                    .map(|bytes| printable_excerpt(&bytes))
                    .unwrap_or_default();
                report
                    .failed
                    .push((peer.node_id, format!("answered {status}: {detail}")));
            }
            Err(error) => report.failed.push((peer.node_id, error.to_string())),
        }
    }
    report
}

/// What an operator alert about a key announcement says.
#[derive(Debug, Clone, Copy)]
pub struct KeyAnnouncementAlert<'a> {
    /// The peer that announced.
    pub node_id: &'a str,
    /// The announced key id.
    pub key_id: &'a str,
    /// Its fingerprint.
    pub fingerprint: &'a str,
    /// What this node did with it.
    pub outcome: &'a str,
}

/// Tells this node's operators about a key announcement from a peer (every one that
/// verifies under a key of a peer on the trust list, whatever became of it): a peer's
/// key is changing, or someone holding one of its keys is trying to change it. Logged at
/// warn and raised as an operator alert (written in the background: the answer to the
/// peer does not wait for it).
pub fn alert_key_announcement(state: &FederationState, alert: &KeyAnnouncementAlert<'_>) {
    tracing::warn!(
        alert = "key-announcement",
        node = ?alert.node_id,
        key_id = ?alert.key_id,
        fingerprint = %alert.fingerprint,
        outcome = %alert.outcome,
        "operator alert: a peer announced a new key"
    );
    let app = state.app.clone();
    let peer = alert.node_id.to_string();
    let message = format!(
        "{} announced key {} (fingerprint {}): {}",
        alert.node_id, alert.key_id, alert.fingerprint, alert.outcome
    );
    tokio::spawn(async move {
        if let Err(error) = app
            .raise_alert(
                comity_app::alerts::kinds::KEY_ANNOUNCEMENT,
                Some(&peer),
                None,
                &message,
            )
            .await
        {
            tracing::warn!(%error, "cannot record the key announcement alert");
        }
    });
}

/// Which keys of a peer an announcement that takes effect retires.
enum Retire<'a> {
    /// The key that signed it, at the announcement's `valid_from_ms`.
    Signer(&'a str),
    /// Every other key of the peer, at once (a recovery: any of them may be the
    /// attacker's).
    AllOthers,
}

/// Adds the announced key to a peer's entry and retires what `retire` says.
fn apply_announced_key(
    entry: &mut PeerEntry,
    announcement: &comity_crypto::KeyAnnouncement,
    retire: Retire<'_>,
    now: i64,
) {
    let new_key_id = announcement.new_keys.key_id();
    let new_text = announcement.new_keys.to_text();
    for key in &mut entry.keys {
        let Ok(public) = comity_crypto::PublicKeys::from_text(&key.public) else {
            continue;
        };
        let (retired, at) = match retire {
            Retire::Signer(signer) => (public.key_id() == signer, announcement.valid_from_ms),
            Retire::AllOthers => (
                public.key_id() != new_key_id,
                announcement.valid_from_ms.min(now),
            ),
        };
        if retired && key.valid_until_ms.is_none_or(|until| until > at) {
            key.valid_until_ms = Some(at);
        }
    }
    if !entry.keys.iter().any(|key| key.public == new_text) {
        entry.keys.push(crate::identity::PeerKey {
            public: new_text,
            valid_from_ms: announcement.valid_from_ms,
            valid_until_ms: announcement.valid_until_ms,
        });
    }
}

/// A peer announces new keys. The announcement must verify under a key of that peer on
/// the trust list, and name the peer. Then:
///
/// - a key already trusted: nothing changes, `200` (a repeat is idempotent);
/// - without a recovery countersignature, signed by a retired key: refused, `403`;
/// - `valid_from_ms` more than [`ANNOUNCEMENT_WINDOW_MS`] from now: refused, `400`;
/// - countersigned by the peer's pinned recovery key ([`RECOVERY_SIGNATURE_HEADER`]):
///   the new key is trusted and every other key of the peer retired, `204`;
/// - otherwise kept until an operator of this node confirms its fingerprint, `202`.
///
/// Every announcement that verifies raises an operator alert.
async fn receive_key_announcement(
    State(state): State<FederationState>,
    headers: axum::http::HeaderMap,
    body: axum::body::Body,
) -> Result<StatusCode, ApiError> {
    let body: Bytes = crate::intake::read_key_announcement(&state, &headers, body).await?;
    let now = state.app.now().millis();
    let peers: Vec<Peer> = read(&state.federation.trust).peers().cloned().collect();
    let verified = peers.iter().find_map(|peer| {
        peer.keys.iter().find_map(|key| {
            comity_crypto::KeyAnnouncement::verify(&body, key.keys.signing_key_bytes())
                .ok()
                .filter(|announcement| announcement.node_id == peer.node_id)
                .map(|announcement| (peer, key.clone(), announcement))
        })
    });
    let Some((peer, signer, announcement)) = verified else {
        return Err(refuse(
            StatusCode::FORBIDDEN,
            "key announcement not signed by a trusted key of its node".into(),
        ));
    };
    let key_id = announcement.new_keys.key_id().to_string();
    let fingerprint = crate::identity::key_fingerprint(&announcement.new_keys);
    let alert = |outcome: &str| {
        alert_key_announcement(
            &state,
            &KeyAnnouncementAlert {
                node_id: &peer.node_id,
                key_id: &key_id,
                fingerprint: &fingerprint,
                outcome,
            },
        );
    };
    if peer.keys.iter().any(|known| known.keys.key_id() == key_id) {
        // The same announcement again (the sender did not hear our answer, or an
        // operator re-announced): nothing changes, and the sender learns it arrived.
        alert("already trusted; nothing changed");
        return Ok(StatusCode::OK);
    }
    let recovery_signature = headers.get(RECOVERY_SIGNATURE_HEADER);
    // Only a recovery may come from a retired key: the attacker's key may have been
    // confirmed by mistake, and the recovery retires it.
    if recovery_signature.is_none() && !signer.is_valid_at(now) {
        alert("refused: signed by a retired key");
        return Err(refuse(
            StatusCode::FORBIDDEN,
            "key announcement signed by a retired key".into(),
        ));
    }
    if announcement.valid_from_ms.abs_diff(now) > ANNOUNCEMENT_WINDOW_MS.unsigned_abs() {
        alert("refused: its valid_from_ms is too far from now");
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            format!(
                "valid_from_ms must be within {} minutes of the receiver's clock",
                ANNOUNCEMENT_WINDOW_MS / 60_000
            ),
        ));
    }
    if let Some(value) = recovery_signature {
        let countersigned = peer.recovery_key.as_ref().and_then(|recovery| {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(value.as_bytes())
                .ok()?;
            comity_crypto::KeyAnnouncement::verify(&bytes, recovery.signing_key_bytes()).ok()
        });
        if countersigned.as_ref() != Some(&announcement) {
            alert("refused: the recovery signature does not verify under the pinned recovery key");
            return Err(refuse(
                StatusCode::FORBIDDEN,
                "the recovery signature does not verify under the node's pinned recovery key"
                    .into(),
            ));
        }
        change_trust(&state, &peer.node_id, |trust, entry| {
            apply_announced_key(entry, &announcement, Retire::AllOthers, now);
            trust.clear_pending_keys(&peer.node_id);
        })?;
        alert(
            "applied: countersigned by the peer's recovery key; every other key of the peer is retired",
        );
        return Ok(StatusCode::NO_CONTENT);
    }
    let pending = PendingKey {
        node_id: peer.node_id.clone(),
        key_id: key_id.clone(),
        fingerprint: fingerprint.clone(),
        public: announcement.new_keys.to_text(),
        valid_from_ms: announcement.valid_from_ms,
        valid_until_ms: announcement.valid_until_ms,
        signed_by: signer.keys.key_id().to_string(),
        received_at_ms: now,
        announcement: base64::engine::general_purpose::STANDARD.encode(&body),
    };
    change_trust(&state, &peer.node_id, |trust, _entry| {
        trust.add_pending_key(pending);
    })?;
    alert("kept until an operator of this node confirms its fingerprint (`comity peer accept`)");
    Ok(StatusCode::ACCEPTED)
}

/// Changes a peer's entry and the pending keys under the trust list's lock, and saves.
fn change_trust(
    state: &FederationState,
    node_id: &str,
    change: impl FnOnce(&mut TrustList, &mut PeerEntry),
) -> Result<(), ApiError> {
    let failed = |message: String| refuse(StatusCode::INTERNAL_SERVER_ERROR, message);
    let mut trust = write(&state.federation.trust);
    let Some(mut entry) = trust.entry(node_id) else {
        return Err(refuse(StatusCode::FORBIDDEN, "unknown node".into()));
    };
    change(&mut trust, &mut entry);
    trust
        .insert(entry)
        .map_err(|message| refuse(StatusCode::BAD_REQUEST, message))?;
    match &state.federation.data_dir {
        Some(dir) => trust.save(dir).map_err(|error| failed(error.to_string())),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::check_endpoint;

    #[test]
    fn plain_http_only_to_parsed_loopback_addresses() {
        for allowed in [
            "https://mjusticia.example/",
            "https://10.1.2.3:8443",
            "http://127.0.0.1:8080",
            "http://127.8.9.10/",
            "http://localhost:8080",
            "http://[::1]:8080",
        ] {
            assert!(check_endpoint(allowed, true).is_ok(), "{allowed}");
        }
        for refused in [
            "http://localhost:x@remote.example/",
            "http://127.0.0.1.attacker.example/",
            "http://[::ffff:c000:201]/",
            "http://192.0.2.1/",
            "https://user:secret@mjusticia.example/",
            "ftp://127.0.0.1/",
            "127.0.0.1:8080",
        ] {
            assert!(check_endpoint(refused, true).is_err(), "{refused}");
        }
        assert!(check_endpoint("http://127.0.0.1:8080", false).is_err());
    }
}

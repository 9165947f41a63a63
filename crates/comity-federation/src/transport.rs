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
use comity_app::inbound::{InboundOutcome, IncomingMessage};
use comity_crypto::{
    ENVELOPE_VERSION, EnvelopeHeader, MAX_ENVELOPE_BYTES, MessageId, NodeKeys, Receipt,
    ReceiptOutcome,
};
use comity_store::OutboxMessage;
use sha2::{Digest, Sha256};

use comity_http::ApiError;

use crate::FederationState;
use crate::identity::{Keyring, Peer, PeerEntry, TrustList};

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
    last_announcement: RwLock<Option<Vec<u8>>>,
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
        let announcement = keyring.announcement.take();
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
        match self.keyring.read() {
            Ok(keyring) => keyring.current.clone(),
            Err(poisoned) => poisoned.into_inner().current.clone(),
        }
    }

    /// Since when the current keys are in use, milliseconds since the epoch.
    pub fn keys_since_ms(&self) -> i64 {
        self.keyring
            .read()
            .map(|keyring| keyring.since_ms)
            .unwrap_or(0)
    }

    /// The keys (current or retired) an envelope was sealed to, by key id.
    pub(crate) fn keys_for(&self, key_id: &str) -> Option<Arc<NodeKeys>> {
        let keyring = self.keyring.read().ok()?;
        std::iter::once(&keyring.current)
            .chain(keyring.previous.iter())
            .find(|keys| keys.key_id() == key_id)
            .cloned()
    }

    /// The HTTP client for one peer. There is no fallback: a peer whose pinned
    /// certificate cannot be read is not reached at all.
    pub(crate) fn client_for(&self, node_id: &str) -> Result<reqwest::Client, String> {
        let clients = self
            .peer_clients
            .read()
            .map_err(|_| "peer clients lock poisoned".to_string())?;
        clients.get(node_id).cloned().ok_or_else(|| {
            format!("no HTTP client for {node_id}: its pinned TLS certificate is unreadable")
        })
    }

    /// A copy of one peer's entry.
    pub fn peer(&self, node_id: &str) -> Option<Peer> {
        self.trust
            .read()
            .ok()
            .and_then(|trust| trust.peer(node_id).cloned())
    }
}

/// The receive routes: envelopes, and key announcements.
pub fn routes<S: Clone + Send + Sync + 'static>(state: FederationState) -> axum::Router<S> {
    axum::Router::new()
        .route(
            MESSAGES_PATH,
            axum::routing::post(receive)
                .layer(axum::extract::DefaultBodyLimit::max(MAX_ENVELOPE_BYTES)),
        )
        .route(
            crate::batch::BATCHES_PATH,
            axum::routing::post(crate::batch::receive_batch).layer(
                axum::extract::DefaultBodyLimit::max(crate::batch::MAX_BATCH_BYTES),
            ),
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

/// Receives one envelope and answers with a signed receipt.
async fn receive(State(state): State<FederationState>, body: Bytes) -> Result<Response, ApiError> {
    let federation = &state.federation;
    let peeked = comity_crypto::peek_envelope(&body).map_err(|error| {
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
    let opened =
        comity_crypto::open(&own_keys, &body, sender_key.signing_key_bytes()).map_err(|error| {
            refuse(
                StatusCode::BAD_REQUEST,
                format!("envelope rejected: {error}"),
            )
        })?;
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

/// Seals and posts one outbox message; returns the verified receipt, base64.
pub async fn send(
    state: &FederationState,
    message: &OutboxMessage,
) -> Result<String, DeliveryError> {
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
    if let ReceiptOutcome::Rejected(reason) = &receipt.outcome {
        tracing::warn!(message_id = %message.message_id, %reason, "peer stored the message but rejected it");
    }
    Ok(base64::engine::general_purpose::STANDARD.encode(&bytes))
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

/// Adds a peer to the trust list, registers its authorities and saves the list.
pub async fn add_peer(state: &FederationState, entry: PeerEntry) -> Result<(), String> {
    let local_authorities = local_authority_ids(&state.app).await?;
    crate::identity::check_claims(&entry, state.app.node_id(), &local_authorities)?;
    let peer = {
        let mut trust = state
            .federation
            .trust
            .write()
            .map_err(|_| "trust list lock poisoned".to_string())?;
        let peer = trust.insert(entry)?.clone();
        if let Some(dir) = &state.federation.data_dir {
            trust.save(dir).map_err(|error| error.to_string())?;
        }
        if let Ok(mut clients) = state.federation.peer_clients.write() {
            *clients = peer_clients(&trust);
        }
        peer
    };
    for authority in peer.authorities {
        state
            .app
            .register_authority(authority, &peer.node_id)
            .await
            .map_err(|error| error.to_string())?;
    }
    Ok(())
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
/// it hosts, its public keys and its TLS certificate.
pub async fn own_entry(
    app: &comity_app::App,
    keys: &NodeKeys,
    keys_since_ms: i64,
    endpoint: &str,
    tls_certificate: Option<String>,
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
    })
}

/// What a key rotation did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RotationReport {
    /// The new key id.
    pub key_id: String,
    /// Peers that accepted the announcement.
    pub announced_to: Vec<String>,
    /// Peers that did not, with the reason (announce again later).
    pub failed: Vec<(String, String)>,
}

/// Replaces this node's keys with new ones, keeps the old ones to open late envelopes,
/// and announces the new public keys to every peer, signed by the old signing key.
pub async fn rotate_keys(state: &FederationState) -> Result<RotationReport, String> {
    let federation = &state.federation;
    let old = federation.keys();
    let new = Arc::new(NodeKeys::generate(&mut rand::rngs::OsRng));
    let now = state.app.now().millis();
    if let Some(dir) = &federation.data_dir {
        crate::identity::store_rotated_keys(dir, &old, &new, now)
            .map_err(|error| error.to_string())?;
    }
    let announcement = comity_crypto::KeyAnnouncement {
        node_id: state.app.node_id().to_string(),
        new_keys: new.public_identity(),
        valid_from_ms: now,
        valid_until_ms: None,
    }
    .sign(&old)
    .map_err(|error| error.to_string())?;
    if let Some(dir) = &federation.data_dir {
        crate::identity::store_announcement(dir, &announcement)
            .map_err(|error| error.to_string())?;
    }
    {
        let mut keyring = federation
            .keyring
            .write()
            .map_err(|_| "keyring lock poisoned".to_string())?;
        keyring.previous.push(old);
        keyring.current = new.clone();
        keyring.since_ms = now;
    }
    if let Ok(mut last) = federation.last_announcement.write() {
        *last = Some(announcement);
    }
    let (announced_to, failed) = announce_keys(state).await;
    Ok(RotationReport {
        key_id: new.key_id().to_string(),
        announced_to,
        failed,
    })
}

/// Sends the last key announcement to every peer; returns who accepted and who did not.
pub async fn announce_keys(state: &FederationState) -> (Vec<String>, Vec<(String, String)>) {
    let federation = &state.federation;
    let Some(announcement) = federation
        .last_announcement
        .read()
        .ok()
        .and_then(|last| last.clone())
    else {
        return (Vec::new(), Vec::new());
    };
    let peers: Vec<Peer> = federation
        .trust
        .read()
        .map(|trust| trust.peers().cloned().collect())
        .unwrap_or_default();
    let mut accepted = Vec::new();
    let mut failed = Vec::new();
    for peer in peers {
        if let Err(error) = check_endpoint(&peer.endpoint, federation.allow_plain_http_loopback) {
            failed.push((peer.node_id, error.to_string()));
            continue;
        }
        let client = match federation.client_for(&peer.node_id) {
            Ok(client) => client,
            Err(error) => {
                failed.push((peer.node_id, error));
                continue;
            }
        };
        let result = client
            .post(format!("{}{KEYS_PATH}", peer.endpoint))
            .header(
                header::CONTENT_TYPE,
                comity_crypto::KEY_ANNOUNCEMENT_CONTENT_TYPE,
            )
            .body(announcement.clone())
            .send()
            .await;
        match result {
            Ok(response) if response.status().is_success() => accepted.push(peer.node_id),
            Ok(response) => failed.push((peer.node_id, format!("answered {}", response.status()))),
            Err(error) => failed.push((peer.node_id, error.to_string())),
        }
    }
    (accepted, failed)
}

/// Whether `body` is an announcement this node has already applied: it verifies under a
/// key of its node that is no longer valid, and every key it announces is already on the
/// trust list for that node. Such a repeat grants nothing and is answered as a duplicate.
fn is_repeat_announcement(peers: &[Peer], body: &[u8]) -> bool {
    peers.iter().any(|peer| {
        peer.keys.iter().any(|key| {
            comity_crypto::KeyAnnouncement::verify(body, key.keys.signing_key_bytes())
                .ok()
                .filter(|announcement| announcement.node_id == peer.node_id)
                .is_some_and(|announcement| {
                    let announced = announcement.new_keys.key_id();
                    peer.keys
                        .iter()
                        .any(|known| known.keys.key_id() == announced)
                })
        })
    })
}

/// A peer announces new keys, signed by a key this node trusts for it now: the new key
/// is trusted from its start, and the key that signed is retired at that moment.
async fn receive_key_announcement(
    State(state): State<FederationState>,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let now = state.app.now().millis();
    let peers: Vec<Peer> = state
        .federation
        .trust
        .read()
        .map(|trust| trust.peers().cloned().collect())
        .unwrap_or_default();
    let verified = peers.iter().find_map(|peer| {
        peer.keys
            .iter()
            .filter(|key| key.is_valid_at(now))
            .find_map(|key| {
                comity_crypto::KeyAnnouncement::verify(&body, key.keys.signing_key_bytes())
                    .ok()
                    .filter(|announcement| announcement.node_id == peer.node_id)
                    .map(|announcement| (announcement, key.keys.key_id().to_string()))
            })
    });
    let Some((announcement, signer_key_id)) = verified else {
        if is_repeat_announcement(&peers, &body) {
            // The same announcement again (the sender did not hear our answer, or an
            // operator re-announced): nothing changes, and the sender learns it arrived.
            return Ok(StatusCode::OK);
        }
        return Err(refuse(
            StatusCode::FORBIDDEN,
            "key announcement not signed by a currently trusted key of its node".into(),
        ));
    };
    let updated = {
        let mut trust = state.federation.trust.write().map_err(|_| {
            refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                "trust list lock poisoned".into(),
            )
        })?;
        let Some(mut entry) = trust.entry(&announcement.node_id) else {
            return Err(refuse(StatusCode::FORBIDDEN, "unknown node".into()));
        };
        let new_text = announcement.new_keys.to_text();
        for key in &mut entry.keys {
            let is_signer = comity_crypto::PublicKeys::from_text(&key.public)
                .map(|public| public.key_id() == signer_key_id)
                .unwrap_or(false);
            if is_signer
                && key
                    .valid_until_ms
                    .is_none_or(|until| until > announcement.valid_from_ms)
            {
                key.valid_until_ms = Some(announcement.valid_from_ms);
            }
        }
        if !entry.keys.iter().any(|key| key.public == new_text) {
            entry.keys.push(crate::identity::PeerKey {
                public: new_text,
                valid_from_ms: announcement.valid_from_ms,
                valid_until_ms: announcement.valid_until_ms,
            });
        }
        trust
            .insert(entry)
            .map_err(|message| refuse(StatusCode::BAD_REQUEST, message))?;
        match &state.federation.data_dir {
            Some(dir) => trust.save(dir).map_err(|error| error.to_string()),
            None => Ok(()),
        }
    };
    updated.map_err(|message| refuse(StatusCode::INTERNAL_SERVER_ERROR, message))?;
    tracing::info!(node = %announcement.node_id, key_id = %announcement.new_keys.key_id(), "peer rotated its keys");
    Ok(StatusCode::NO_CONTENT)
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

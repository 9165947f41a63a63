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

use crate::AppState;
use crate::error::ApiError;
use crate::identity::{Peer, PeerEntry, TrustList};
use crate::outbox::DeliveryError;

/// The path peers post envelopes to.
pub const MESSAGES_PATH: &str = "/federation/v1/messages";
/// The media type of envelopes and receipts.
pub const COSE_MEDIA_TYPE: &str = "application/cose";

/// This node's keys, trust list and HTTP client.
#[derive(Debug)]
pub struct Federation {
    /// This node's secret keys.
    pub keys: NodeKeys,
    /// The peers.
    pub trust: RwLock<TrustList>,
    /// Where the trust list is saved (none for in-memory nodes).
    pub data_dir: Option<PathBuf>,
    /// Whether plain HTTP to loopback peers is allowed.
    pub allow_plain_http_loopback: bool,
    /// This node's TLS certificate (PEM), published in its peer entry.
    pub tls_certificate: Option<String>,
    http: RwLock<reqwest::Client>,
}

impl Federation {
    /// A federation layer for these keys and trust list.
    pub fn new(
        keys: NodeKeys,
        trust: TrustList,
        data_dir: Option<PathBuf>,
        allow_plain_http_loopback: bool,
        tls_certificate: Option<String>,
    ) -> Arc<Federation> {
        let http = http_client(&trust);
        Arc::new(Federation {
            keys,
            trust: RwLock::new(trust),
            data_dir,
            allow_plain_http_loopback,
            tls_certificate,
            http: RwLock::new(http),
        })
    }

    fn client(&self) -> reqwest::Client {
        self.http
            .read()
            .map(|client| client.clone())
            .unwrap_or_default()
    }

    /// A copy of one peer's entry.
    pub fn peer(&self, node_id: &str) -> Option<Peer> {
        self.trust
            .read()
            .ok()
            .and_then(|trust| trust.peer(node_id).cloned())
    }
}

/// The receive route.
pub fn routes() -> axum::Router<AppState> {
    axum::Router::new().route(
        MESSAGES_PATH,
        axum::routing::post(receive)
            .layer(axum::extract::DefaultBodyLimit::max(MAX_ENVELOPE_BYTES)),
    )
}

fn refuse(status: StatusCode, reason: String) -> ApiError {
    tracing::warn!(%reason, "federation message refused");
    ApiError::new(status, "envelope-refused", "Envelope refused", reason)
}

/// Receives one envelope and answers with a signed receipt.
async fn receive(State(state): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
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
        refuse(
            StatusCode::FORBIDDEN,
            format!("sender {} is not on the trust list", header.sender),
        )
    })?;
    let sender_key = peer
        .key_valid_at(&peeked.sender_key_id, now)
        .ok_or_else(|| {
            refuse(
                StatusCode::FORBIDDEN,
                format!(
                    "key {} of {} is unknown or not valid now (retired keys are refused)",
                    peeked.sender_key_id, header.sender
                ),
            )
        })?;
    let opened = comity_crypto::open(&federation.keys, &body, sender_key.signing_key_bytes())
        .map_err(|error| {
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
    let signed = comity_crypto::sign_receipt(&federation.keys, &receipt).map_err(|error| {
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

fn truncate_reason(reason: &str) -> String {
    reason.chars().take(500).collect()
}

/// Seals and posts one outbox message; returns the verified receipt, base64.
pub async fn send(state: &AppState, message: &OutboxMessage) -> Result<String, DeliveryError> {
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
        &federation.keys,
        recipient_key,
        &header,
        message.body.as_bytes(),
        &mut rand::rngs::OsRng,
    )
    .map_err(|error| DeliveryError::Permanent(format!("cannot seal: {error}")))?;
    let envelope_hash: [u8; 32] = Sha256::digest(&envelope).into();
    let response = federation
        .client()
        .post(format!("{}{MESSAGES_PATH}", peer.endpoint))
        .header(header::CONTENT_TYPE, COSE_MEDIA_TYPE)
        .body(envelope)
        .send()
        .await
        .map_err(|error| DeliveryError::Unavailable(format!("{}: {error}", peer.endpoint)))?;
    let status = response.status();
    let bytes = response
        .bytes()
        .await
        .map_err(|error| DeliveryError::Unavailable(error.to_string()))?;
    if !status.is_success() {
        let detail = String::from_utf8_lossy(&bytes)
            .chars()
            .take(300)
            .collect::<String>();
        return Err(DeliveryError::Unavailable(format!(
            "peer answered {status}: {detail}"
        )));
    }
    let receipt = comity_crypto::verify_receipt(&bytes, recipient_key.signing_key_bytes())
        .or_else(|first_error| {
            // The peer may have signed with another of its valid keys (during rotation).
            peer.keys
                .iter()
                .filter(|key| key.is_valid_at(now))
                .find_map(|key| {
                    comity_crypto::verify_receipt(&bytes, key.keys.signing_key_bytes()).ok()
                })
                .ok_or(first_error)
        })
        .map_err(|error| DeliveryError::Unavailable(format!("receipt does not verify: {error}")))?;
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

fn check_endpoint(endpoint: &str, allow_plain_http_loopback: bool) -> Result<(), DeliveryError> {
    if endpoint.starts_with("https://") {
        return Ok(());
    }
    if let Some(rest) = endpoint.strip_prefix("http://") {
        let host = rest.split(['/', ':']).next().unwrap_or_default();
        let loopback = host == "localhost" || host.starts_with("127.") || host == "[";
        if allow_plain_http_loopback && loopback {
            return Ok(());
        }
        return Err(DeliveryError::Unavailable(format!(
            "{endpoint}: plain HTTP is refused (enable federation.allow_plain_http_loopback for loopback tests)"
        )));
    }
    Err(DeliveryError::Unavailable(format!(
        "{endpoint}: not an http(s) URL"
    )))
}

/// Adds a peer to the trust list, registers its authorities and saves the list.
pub async fn add_peer(state: &AppState, entry: PeerEntry) -> Result<(), String> {
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
        if let Ok(mut client) = state.federation.http.write() {
            *client = http_client(&trust);
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

/// The HTTP client for peers: it trusts the public certificate authorities and every
/// certificate pinned in the trust list.
fn http_client(trust: &TrustList) -> reqwest::Client {
    let mut builder = reqwest::Client::builder()
        .use_rustls_tls()
        .connect_timeout(std::time::Duration::from_secs(5))
        .timeout(std::time::Duration::from_secs(30))
        .pool_max_idle_per_host(8);
    for peer in trust.peers() {
        let Some(pem) = &peer.tls_certificate else {
            continue;
        };
        match reqwest::Certificate::from_pem(pem.as_bytes()) {
            Ok(certificate) => builder = builder.add_root_certificate(certificate),
            Err(error) => {
                tracing::warn!(peer = %peer.node_id, %error, "unreadable pinned certificate")
            }
        }
    }
    builder.build().unwrap_or_default()
}

/// This node as a peer entry for other nodes' trust lists: its endpoint, the authorities
/// it hosts, its public keys and its TLS certificate.
pub async fn own_entry(
    app: &comity_app::App,
    keys: &NodeKeys,
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
            valid_from_ms: 0,
            valid_until_ms: None,
        }],
        tls_certificate,
    })
}

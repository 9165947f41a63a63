//! The trust list over the API, for node operators: list peers with their keys and the
//! keys waiting for confirmation, add, update and remove peers, confirm an announced key
//! by its fingerprint, and recover from a leaked key with the recovery key. Every change
//! takes effect at once (trust list, per-peer HTTP clients) and is saved to `trust.toml`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use comity_domain::Role;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::FederationState;
use crate::identity::{PeerAuthority, PeerEntry, PendingKey, key_fingerprint};
use crate::transport::{self as federation, PeerError};
use comity_http::ApiError;
use comity_http::extract::{ApiJson, ApiPath, Authenticated};

/// The peer routes, under `/api/v1`.
pub fn routes() -> Router<FederationState> {
    Router::new()
        .route("/peers", get(list_peers).post(add_peer))
        .route("/peers/pending-keys", get(list_pending_keys))
        .route("/peers/{node_id}", patch(update_peer).delete(remove_peer))
        .route("/peers/{node_id}/keys/accept", post(accept_key))
        .route("/node/keys/recover", post(recover_keys))
}

/// A peer on the trust list.
#[derive(Debug, Serialize, ToSchema)]
pub struct PeerView {
    /// The peer's node id.
    pub node_id: String,
    /// Where it receives federation messages.
    pub endpoint: String,
    /// The authorities it hosts.
    pub authorities: Vec<PeerAuthority>,
    /// Its keys, with their validity and fingerprints.
    pub keys: Vec<PeerKeyView>,
    /// The fingerprint of its recovery key, if it published one.
    pub recovery_key_fingerprint: Option<String>,
    /// Whether its TLS certificate is pinned.
    pub tls_certificate_pinned: bool,
    /// Keys it announced that wait for an operator's confirmation.
    pub pending_keys: Vec<PendingKeyView>,
}

/// One key of a peer.
#[derive(Debug, Serialize, ToSchema)]
pub struct PeerKeyView {
    /// The key id.
    pub key_id: String,
    /// The fingerprint operators compare out of band.
    pub fingerprint: String,
    /// Valid from, milliseconds since the epoch.
    pub valid_from_ms: i64,
    /// Valid until (exclusive), if it ends.
    pub valid_until_ms: Option<i64>,
}

/// A key a peer announced that waits for confirmation.
#[derive(Debug, Serialize, ToSchema)]
pub struct PendingKeyView {
    /// The peer.
    pub node_id: String,
    /// The announced key id.
    pub key_id: String,
    /// Its fingerprint: confirm it with the peer's operator, out of band.
    pub fingerprint: String,
    /// From when the announcement says it is valid, milliseconds.
    pub valid_from_ms: i64,
    /// The key id of the peer's key that signed the announcement.
    pub signed_by: String,
    /// When this node received it, milliseconds.
    pub received_at_ms: i64,
}

/// A peer to add, as its operator printed it with `comity node show`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PeerAddInput {
    /// The peer's entry.
    pub entry: PeerEntry,
    /// Let the peer take over authorities another peer hosts now (the moves are listed
    /// in the answer).
    #[serde(default)]
    pub move_authorities: bool,
}

/// A peer added, with the authorities it took over.
#[derive(Debug, Serialize, ToSchema)]
pub struct PeerAddedView {
    /// The peer as trusted now.
    pub peer: PeerView,
    /// Each authority that moved to it: "authority X moves from A (url) to B (url)".
    pub moved_authorities: Vec<String>,
}

/// What to change in a peer's entry.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PeerUpdateInput {
    /// Its new base URL.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// Its new TLS certificate (PEM), pinned from now on.
    #[serde(default)]
    pub tls_certificate: Option<String>,
}

/// The fingerprint of an announced key, as the peer's operator gave it out of band.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyAcceptInput {
    /// 64 hexadecimal digits; `:`, spaces and `-` between them are ignored.
    pub fingerprint: String,
}

/// This node's recovery key, to recover from a leaked node key.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyRecoveryInput {
    /// The recovery key's secret text (the file `comity init` wrote). The node signs the
    /// announcement with it and keeps nothing of it.
    pub recovery_key: String,
}

impl std::fmt::Debug for KeyRecoveryInput {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("KeyRecoveryInput { recovery_key: <secret> }")
    }
}

fn require_operator(principal: &comity_app::Principal, what: &str) -> Result<(), ApiError> {
    principal.require_any(&[Role::NodeOperator], what)?;
    Ok(())
}

fn peer_error(error: PeerError) -> ApiError {
    match error {
        PeerError::Invalid { field, message } => {
            comity_app::AppError::invalid(field, message).into()
        }
        PeerError::NotFound(what) => comity_app::AppError::NotFound(what).into(),
        PeerError::Conflict(message) => comity_app::AppError::Conflict(message).into(),
        PeerError::Failed(message) => ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "trust-list-failed",
            "The trust list could not be changed",
            message,
        ),
    }
}

fn pending_view(pending: &PendingKey) -> PendingKeyView {
    PendingKeyView {
        node_id: pending.node_id.clone(),
        key_id: pending.key_id.clone(),
        fingerprint: pending.fingerprint.clone(),
        valid_from_ms: pending.valid_from_ms,
        signed_by: pending.signed_by.clone(),
        received_at_ms: pending.received_at_ms,
    }
}

fn peer_view(entry: &PeerEntry, pending: &[PendingKey]) -> PeerView {
    let fingerprint_of = |text: &str| {
        comity_crypto::PublicKeys::from_text(text)
            .map(|keys| (keys.key_id().to_string(), key_fingerprint(&keys)))
            .unwrap_or_default()
    };
    PeerView {
        node_id: entry.node_id.clone(),
        endpoint: entry.endpoint.clone(),
        authorities: entry.authorities.clone(),
        keys: entry
            .keys
            .iter()
            .map(|key| {
                let (key_id, fingerprint) = fingerprint_of(&key.public);
                PeerKeyView {
                    key_id,
                    fingerprint,
                    valid_from_ms: key.valid_from_ms,
                    valid_until_ms: key.valid_until_ms,
                }
            })
            .collect(),
        recovery_key_fingerprint: entry
            .recovery_key
            .as_deref()
            .map(|text| fingerprint_of(text).1),
        tls_certificate_pinned: entry.tls_certificate.is_some(),
        pending_keys: pending
            .iter()
            .filter(|key| key.node_id == entry.node_id)
            .map(pending_view)
            .collect(),
    }
}

/// The trust list (node operators): every peer with its keys and the keys it announced
/// that wait for confirmation.
#[utoipa::path(get, path = "/api/v1/peers",
    responses((status = 200, description = "The peers", body = [PeerView]), (status = 403, body = comity_wire::Problem)), security(("bearer" = [])))]
pub async fn list_peers(
    State(state): State<FederationState>,
    Authenticated(principal): Authenticated,
) -> Result<Json<Vec<PeerView>>, ApiError> {
    require_operator(&principal, "list the node's peers")?;
    let (entries, pending) = federation::trust_snapshot(&state.federation);
    Ok(Json(
        entries
            .iter()
            .map(|entry| peer_view(entry, &pending))
            .collect(),
    ))
}

/// Add (or replace) a peer, at once (node operators).
#[utoipa::path(post, path = "/api/v1/peers", request_body = PeerAddInput,
    responses((status = 201, description = "The peer is trusted", body = PeerAddedView), (status = 403, body = comity_wire::Problem), (status = 422, body = comity_wire::Problem)), security(("bearer" = [])))]
pub async fn add_peer(
    State(state): State<FederationState>,
    Authenticated(principal): Authenticated,
    ApiJson(input): ApiJson<PeerAddInput>,
) -> Result<(StatusCode, Json<PeerAddedView>), ApiError> {
    require_operator(&principal, "add peers")?;
    let node_id = input.entry.node_id.clone();
    let moves = federation::add_peer_checked(&state, input.entry, input.move_authorities)
        .await
        .map_err(peer_error)?;
    tracing::info!(peer = ?node_id, "peer added to the trust list");
    let (entries, pending) = federation::trust_snapshot(&state.federation);
    let entry = entries
        .iter()
        .find(|entry| entry.node_id == node_id)
        .ok_or_else(|| peer_error(PeerError::NotFound(format!("peer {node_id}"))))?;
    Ok((
        StatusCode::CREATED,
        Json(PeerAddedView {
            peer: peer_view(entry, &pending),
            moved_authorities: moves.iter().map(ToString::to_string).collect(),
        }),
    ))
}

/// Change a peer's endpoint or pinned certificate, at once (node operators).
#[utoipa::path(patch, path = "/api/v1/peers/{node_id}", params(("node_id" = String, Path)), request_body = PeerUpdateInput,
    responses((status = 200, description = "The peer as trusted now", body = PeerView), (status = 403, body = comity_wire::Problem), (status = 404, body = comity_wire::Problem), (status = 422, body = comity_wire::Problem)), security(("bearer" = [])))]
pub async fn update_peer(
    State(state): State<FederationState>,
    Authenticated(principal): Authenticated,
    ApiPath(node_id): ApiPath<String>,
    ApiJson(input): ApiJson<PeerUpdateInput>,
) -> Result<Json<PeerView>, ApiError> {
    require_operator(&principal, "change peers")?;
    if input.endpoint.is_none() && input.tls_certificate.is_none() {
        return Err(comity_app::AppError::invalid(
            "endpoint",
            "give an endpoint or a tls_certificate to change",
        )
        .into());
    }
    federation::update_peer(&state, &node_id, input.endpoint, input.tls_certificate)
        .map_err(peer_error)?;
    tracing::info!(peer = ?node_id, "peer entry changed");
    let (entries, pending) = federation::trust_snapshot(&state.federation);
    let entry = entries
        .iter()
        .find(|entry| entry.node_id == node_id)
        .ok_or_else(|| peer_error(PeerError::NotFound(format!("peer {node_id}"))))?;
    Ok(Json(peer_view(entry, &pending)))
}

/// Remove a peer from the trust list, at once (node operators).
#[utoipa::path(delete, path = "/api/v1/peers/{node_id}", params(("node_id" = String, Path)),
    responses((status = 204, description = "The peer is no longer trusted"), (status = 403, body = comity_wire::Problem), (status = 404, body = comity_wire::Problem)), security(("bearer" = [])))]
pub async fn remove_peer(
    State(state): State<FederationState>,
    Authenticated(principal): Authenticated,
    ApiPath(node_id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    require_operator(&principal, "remove peers")?;
    federation::remove_peer(&state, &node_id).map_err(peer_error)?;
    tracing::warn!(peer = ?node_id, "peer removed from the trust list");
    Ok(StatusCode::NO_CONTENT)
}

/// The keys peers announced that wait for confirmation (node operators).
#[utoipa::path(get, path = "/api/v1/peers/pending-keys",
    responses((status = 200, description = "Announced keys waiting for confirmation", body = [PendingKeyView]), (status = 403, body = comity_wire::Problem)), security(("bearer" = [])))]
pub async fn list_pending_keys(
    State(state): State<FederationState>,
    Authenticated(principal): Authenticated,
) -> Result<Json<Vec<PendingKeyView>>, ApiError> {
    require_operator(&principal, "list announced keys")?;
    let (_, pending) = federation::trust_snapshot(&state.federation);
    Ok(Json(pending.iter().map(pending_view).collect()))
}

/// Confirm a key a peer announced, by the fingerprint its operator gave out of band
/// (node operators). A fingerprint that matches no waiting key is refused.
#[utoipa::path(post, path = "/api/v1/peers/{node_id}/keys/accept", params(("node_id" = String, Path)), request_body = KeyAcceptInput,
    responses((status = 200, description = "The key is trusted; the key that announced it is retired", body = PendingKeyView), (status = 403, body = comity_wire::Problem), (status = 404, body = comity_wire::Problem), (status = 409, body = comity_wire::Problem), (status = 422, body = comity_wire::Problem)), security(("bearer" = [])))]
pub async fn accept_key(
    State(state): State<FederationState>,
    Authenticated(principal): Authenticated,
    ApiPath(node_id): ApiPath<String>,
    ApiJson(input): ApiJson<KeyAcceptInput>,
) -> Result<Json<PendingKeyView>, ApiError> {
    require_operator(&principal, "confirm peers' keys")?;
    let accepted =
        federation::accept_pending_key(&state, &node_id, &input.fingerprint).map_err(peer_error)?;
    Ok(Json(pending_view(&accepted)))
}

/// Rotate this node's keys with the recovery key, after the current key leaked (node
/// operators): peers that pinned the recovery key trust the new key at once.
#[utoipa::path(post, path = "/api/v1/node/keys/recover", request_body = KeyRecoveryInput,
    responses((status = 200, description = "New keys, and the peers told of them", body = super::KeyRotationView), (status = 403, body = comity_wire::Problem), (status = 409, body = comity_wire::Problem), (status = 422, body = comity_wire::Problem)), security(("bearer" = [])))]
pub async fn recover_keys(
    State(state): State<FederationState>,
    Authenticated(principal): Authenticated,
    ApiJson(input): ApiJson<KeyRecoveryInput>,
) -> Result<Json<super::KeyRotationView>, ApiError> {
    require_operator(&principal, "recover the node's keys")?;
    let report = federation::recover_keys(&state, &input.recovery_key)
        .await
        .map_err(peer_error)?;
    tracing::warn!(key_id = %report.key_id, "node keys rotated with the recovery key");
    Ok(Json(super::rotation_view(report)))
}

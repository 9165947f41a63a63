//! The federation's part of the node's API, for node operators (`/api/v1`): the node's
//! keys (rotate, announce again, recover), the peers on the trust list ([`peers`]), and
//! the federation's alerts, outbox, inbox and resynchronisation ([`operations`]).

pub mod operations;
pub mod peers;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use comity_http::ApiError;
use comity_http::extract::Authenticated;

use crate::FederationState;

/// The federation's API routes, to nest under `/api/v1`.
pub fn routes<S: Clone + Send + Sync + 'static>(state: FederationState) -> Router<S> {
    Router::new()
        .route("/node/keys/rotate", post(rotate_keys))
        .route("/node/keys/announce", post(announce_keys))
        .merge(peers::routes())
        .merge(operations::routes())
        .with_state(state)
}

/// The outcome of a key rotation or announcement.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct KeyRotationView {
    /// The node's current key id.
    pub key_id: String,
    /// The current keys' fingerprint: give it to peers' operators out of band, so they
    /// can confirm the new key (`comity peer accept`).
    pub fingerprint: String,
    /// Peers that received the announcement.
    pub announced_to: Vec<String>,
    /// Of those, peers that keep the new key until their operator confirms the
    /// fingerprint.
    pub awaiting_confirmation: Vec<String>,
    /// Peers that did not: announce again later.
    pub failed: Vec<AnnouncementFailure>,
}

/// The view of a rotation's report.
pub fn rotation_view(report: crate::RotationReport) -> KeyRotationView {
    KeyRotationView {
        key_id: report.key_id,
        fingerprint: report.fingerprint,
        announced_to: report.announced_to,
        awaiting_confirmation: report.awaiting_confirmation,
        failed: failures(report.failed),
    }
}

/// A peer that did not accept a key announcement.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct AnnouncementFailure {
    /// The peer's node id.
    pub node_id: String,
    /// Why, as far as this node could tell.
    pub reason: String,
}

fn failures(failed: Vec<(String, String)>) -> Vec<AnnouncementFailure> {
    failed
        .into_iter()
        .map(|(node_id, reason)| AnnouncementFailure { node_id, reason })
        .collect()
}

/// Rotate this node's keys and announce the new ones to every peer, signed by the old
/// key (node operators).
#[utoipa::path(post, path = "/api/v1/node/keys/rotate",
    responses((status = 200, description = "New keys, and the peers told of them", body = KeyRotationView), (status = 403, body = comity_wire::Problem), (status = 500, body = comity_wire::Problem)), security(("bearer" = [])))]
pub async fn rotate_keys(
    State(state): State<FederationState>,
    Authenticated(principal): Authenticated,
) -> Result<Json<KeyRotationView>, ApiError> {
    principal.require_any(
        &[comity_domain::Role::NodeOperator],
        "rotate the node's keys",
    )?;
    let report = crate::rotate_keys(&state).await.map_err(|message| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "rotation-failed",
            "Key rotation failed",
            message,
        )
    })?;
    tracing::info!(key_id = %report.key_id, "node keys rotated");
    Ok(Json(rotation_view(report)))
}

/// Send the last key announcement again to every peer (node operators).
#[utoipa::path(post, path = "/api/v1/node/keys/announce",
    responses((status = 200, description = "The peers told of the current keys", body = KeyRotationView), (status = 403, body = comity_wire::Problem)), security(("bearer" = [])))]
pub async fn announce_keys(
    State(state): State<FederationState>,
    Authenticated(principal): Authenticated,
) -> Result<Json<KeyRotationView>, ApiError> {
    principal.require_any(
        &[comity_domain::Role::NodeOperator],
        "announce the node's keys",
    )?;
    let report = crate::announce(&state).await;
    let keys = state.federation.keys();
    Ok(Json(KeyRotationView {
        key_id: keys.key_id().to_string(),
        fingerprint: crate::identity::key_fingerprint(&keys.public_identity()),
        announced_to: report.announced_to,
        awaiting_confirmation: report.awaiting_confirmation,
        failed: failures(report.failed),
    }))
}

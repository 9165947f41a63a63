//! The federation as node operators see it: alerts, the outbox with each receipt's
//! outcome, the inbox with the reasons for refusals, the conversations out of step, and
//! resynchronisation on demand. Every route takes the `node_operator` role.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use comity_app::alerts::Page;
use comity_domain::Role;
use comity_store::{AlertRecord, InboxStatus, OutboxStatus};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::FederationState;
use comity_http::ApiError;
use comity_http::extract::{ApiJson, ApiPath, ApiQuery, Authenticated};

pub use comity_http::operator_views::{
    InboxEntryView, OutboxEntryView, inbox_entry_view, outbox_entry_view,
};

/// The operator routes, nested under `/api/v1`.
pub fn routes() -> Router<FederationState> {
    Router::new()
        .route("/alerts", get(list_alerts))
        .route("/alerts/{alert_id}/acknowledge", post(acknowledge_alert))
        .route("/federation/outbox", get(outbox))
        .route("/federation/inbox", get(inbox))
        .route("/federation/out-of-step", get(out_of_step))
        .route("/federation/resync", post(resync))
}

/// Which page of a list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AlertParams {
    /// Include acknowledged alerts (default: open ones only).
    #[serde(default)]
    pub all: bool,
    /// Page, from 1.
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u32>,
    /// Rows per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u32>,
}

/// An outgoing message's status, as a filter.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OutboxStatusFilter {
    /// Waiting to be sent, or to be sent again.
    Pending,
    /// Delivered, with a receipt accepting it.
    Delivered,
    /// Given up: a dead letter.
    Dead,
    /// The recipient signed for it but refused it.
    Rejected,
}

/// A received message's status, as a filter.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InboxStatusFilter {
    /// Waiting for its predecessor.
    Waiting,
    /// Took effect.
    Applied,
    /// Could not take effect.
    Rejected,
}

/// Which outgoing messages, and which page.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OutboxParams {
    /// Only this status.
    pub status: Option<OutboxStatusFilter>,
    /// Page, from 1.
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u32>,
    /// Rows per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u32>,
}

/// Which received messages, and which page.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct InboxParams {
    /// Only this status.
    pub status: Option<InboxStatusFilter>,
    /// Page, from 1.
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u32>,
    /// Rows per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u32>,
}

/// An operator alert.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlertView {
    /// Alert id.
    pub id: String,
    /// `message_rejected`, `resync_conflict`, `resync_replayed` or `resync_failed`.
    pub kind: String,
    /// The peer concerned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer_node: Option<String>,
    /// The conversation (request id) concerned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<String>,
    /// What happened.
    pub message: String,
    /// RFC 3339.
    pub raised_at: String,
    /// RFC 3339, once acknowledged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acknowledged_at: Option<String>,
}

/// A page of alerts.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlertPage {
    /// The alerts, newest first.
    pub items: Vec<AlertView>,
    /// This page.
    pub page: u32,
    /// Rows per page.
    pub per_page: u32,
}

/// A page of the outbox.
#[derive(Debug, Serialize, ToSchema)]
pub struct OutboxPage {
    /// Outgoing messages, newest first.
    pub items: Vec<OutboxEntryView>,
    /// This page.
    pub page: u32,
    /// Rows per page.
    pub per_page: u32,
}

/// A page of the inbox.
#[derive(Debug, Serialize, ToSchema)]
pub struct InboxPage {
    /// Received messages, newest first.
    pub items: Vec<InboxEntryView>,
    /// This page.
    pub page: u32,
    /// Rows per page.
    pub per_page: u32,
}

/// A conversation whose copies differ.
#[derive(Debug, Serialize, ToSchema)]
pub struct OutOfStepView {
    /// Conversation (request id).
    pub conversation_id: String,
    /// The peer whose copy differs.
    pub peer_node: String,
    /// Why.
    pub reason: String,
    /// RFC 3339.
    pub since: String,
}

/// Which peer to resynchronise with.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResyncInput {
    /// A peer's node id; absent: every peer this node has conversations with.
    #[serde(default)]
    pub peer: Option<String>,
}

/// What a resynchronisation did with one conversation.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResyncConversationView {
    /// Conversation (request id).
    pub conversation_id: String,
    /// `in_step`, `caught_up` or `conflict`.
    pub outcome: String,
    /// The peer's messages applied here.
    pub replayed_from_peer: usize,
    /// This node's own messages restored from the peer's record.
    pub restored_own: usize,
    /// Local actions sent again under new sequence numbers.
    pub reissued: usize,
    /// What happened.
    pub note: String,
}

/// What a resynchronisation did with one peer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResyncPeerView {
    /// The peer.
    pub peer: String,
    /// Why it could not run, if it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Each conversation compared.
    pub conversations: Vec<ResyncConversationView>,
}

/// What a resynchronisation did.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResyncView {
    /// One entry per peer.
    pub peers: Vec<ResyncPeerView>,
}

fn alert_view(alert: &AlertRecord) -> AlertView {
    AlertView {
        id: alert.id.clone(),
        kind: alert.kind.clone(),
        peer_node: alert.peer_node.clone(),
        conversation_id: alert.conversation_id.clone(),
        message: alert.message.clone(),
        raised_at: alert.raised_at.to_rfc3339(),
        acknowledged_at: alert.acknowledged_at.map(|at| at.to_rfc3339()),
    }
}

/// Operator alerts, newest first (node operators).
#[utoipa::path(get, path = "/api/v1/alerts", params(AlertParams),
    responses((status = 200, description = "A page of alerts", body = AlertPage), (status = 403, body = comity_wire::Problem), (status = 422, body = comity_wire::Problem)), security(("bearer" = [])))]
pub async fn list_alerts(
    State(state): State<FederationState>,
    Authenticated(principal): Authenticated,
    ApiQuery(params): ApiQuery<AlertParams>,
) -> Result<Json<AlertPage>, ApiError> {
    let page = Page::new(params.page, params.per_page)?;
    let alerts = state.app.alerts(&principal, params.all, page).await?;
    Ok(Json(AlertPage {
        items: alerts.iter().map(alert_view).collect(),
        page: page.page,
        per_page: page.per_page,
    }))
}

/// Acknowledge an alert (node operators).
#[utoipa::path(post, path = "/api/v1/alerts/{alert_id}/acknowledge", params(("alert_id" = String, Path)),
    responses((status = 204, description = "The alert is acknowledged"), (status = 403, body = comity_wire::Problem), (status = 404, body = comity_wire::Problem)), security(("bearer" = [])))]
pub async fn acknowledge_alert(
    State(state): State<FederationState>,
    Authenticated(principal): Authenticated,
    ApiPath(alert_id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    state.app.acknowledge_alert(&principal, &alert_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Outgoing messages with their receipts' outcomes, newest first (node operators).
#[utoipa::path(get, path = "/api/v1/federation/outbox", params(OutboxParams),
    responses((status = 200, description = "A page of the outbox", body = OutboxPage), (status = 403, body = comity_wire::Problem), (status = 422, body = comity_wire::Problem)), security(("bearer" = [])))]
pub async fn outbox(
    State(state): State<FederationState>,
    Authenticated(principal): Authenticated,
    ApiQuery(params): ApiQuery<OutboxParams>,
) -> Result<Json<OutboxPage>, ApiError> {
    let page = Page::new(params.page, params.per_page)?;
    let status = params.status.map(|status| match status {
        OutboxStatusFilter::Pending => OutboxStatus::Pending,
        OutboxStatusFilter::Delivered => OutboxStatus::Delivered,
        OutboxStatusFilter::Dead => OutboxStatus::Dead,
        OutboxStatusFilter::Rejected => OutboxStatus::Rejected,
    });
    let entries = state.app.outbox_view(&principal, status, page).await?;
    Ok(Json(OutboxPage {
        items: entries.iter().map(outbox_entry_view).collect(),
        page: page.page,
        per_page: page.per_page,
    }))
}

/// Received messages, waiting, applied or rejected with the reason, newest first (node
/// operators).
#[utoipa::path(get, path = "/api/v1/federation/inbox", params(InboxParams),
    responses((status = 200, description = "A page of the inbox", body = InboxPage), (status = 403, body = comity_wire::Problem), (status = 422, body = comity_wire::Problem)), security(("bearer" = [])))]
pub async fn inbox(
    State(state): State<FederationState>,
    Authenticated(principal): Authenticated,
    ApiQuery(params): ApiQuery<InboxParams>,
) -> Result<Json<InboxPage>, ApiError> {
    let page = Page::new(params.page, params.per_page)?;
    let status = params.status.map(|status| match status {
        InboxStatusFilter::Waiting => InboxStatus::Waiting,
        InboxStatusFilter::Applied => InboxStatus::Applied,
        InboxStatusFilter::Rejected => InboxStatus::Rejected,
    });
    let messages = state.app.inbox_view(&principal, status, page).await?;
    Ok(Json(InboxPage {
        items: messages.iter().map(inbox_entry_view).collect(),
        page: page.page,
        per_page: page.per_page,
    }))
}

/// Conversations whose copies differ from the peer's (node operators).
#[utoipa::path(get, path = "/api/v1/federation/out-of-step",
    responses((status = 200, description = "Conversations out of step", body = [OutOfStepView]), (status = 403, body = comity_wire::Problem)), security(("bearer" = [])))]
pub async fn out_of_step(
    State(state): State<FederationState>,
    Authenticated(principal): Authenticated,
) -> Result<Json<Vec<OutOfStepView>>, ApiError> {
    let rows = state.app.conversations_out_of_step(&principal).await?;
    Ok(Json(
        rows.into_iter()
            .map(|row| OutOfStepView {
                conversation_id: row.conversation_id,
                peer_node: row.peer_node,
                reason: row.reason,
                since: row.since.to_rfc3339(),
            })
            .collect(),
    ))
}

/// Resynchronise with one peer, or with every peer (node operators): each side states
/// what it has applied; this node catches up or reports the conflicts.
#[utoipa::path(post, path = "/api/v1/federation/resync", request_body = ResyncInput,
    responses((status = 200, description = "What was compared and replayed", body = ResyncView), (status = 403, body = comity_wire::Problem), (status = 404, body = comity_wire::Problem)), security(("bearer" = [])))]
pub async fn resync(
    State(state): State<FederationState>,
    Authenticated(principal): Authenticated,
    ApiJson(input): ApiJson<ResyncInput>,
) -> Result<Json<ResyncView>, ApiError> {
    principal.require_any(&[Role::NodeOperator], "resynchronise with peers")?;
    let results = match input.peer {
        Some(peer) => {
            if state.federation.peer(&peer).is_none() {
                return Err(comity_app::AppError::NotFound(format!("peer {peer}")).into());
            }
            let result = crate::resync::resync_with_peer(&state, &peer, None).await;
            vec![(peer, result)]
        }
        None => crate::resync::resync_all(&state).await,
    };
    Ok(Json(resync_view(results)))
}

/// The report of resynchronisations, one entry per peer.
pub fn resync_view(
    results: Vec<(String, Result<comity_app::resync::ResyncReport, String>)>,
) -> ResyncView {
    ResyncView {
        peers: results
            .into_iter()
            .map(|(peer, result)| match result {
                Ok(report) => ResyncPeerView {
                    peer,
                    error: None,
                    conversations: report
                        .conversations
                        .into_iter()
                        .map(|conversation| ResyncConversationView {
                            conversation_id: conversation.conversation_id,
                            outcome: conversation.outcome,
                            replayed_from_peer: conversation.replayed_from_peer,
                            restored_own: conversation.restored_own,
                            reissued: conversation.reissued,
                            note: conversation.note,
                        })
                        .collect(),
                },
                Err(error) => ResyncPeerView {
                    peer,
                    error: Some(error),
                    conversations: Vec::new(),
                },
            })
            .collect(),
    }
}

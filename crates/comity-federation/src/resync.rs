//! Resynchronisation between two nodes (`docs/protocol.md`, section 11): each side states,
//! per conversation, what it has applied of the other's messages and what it sent; the
//! side that is behind catches up, and a real conflict is shown to both operators.
//!
//! `POST /federation/v1/resync` takes one sealed statement and answers, sealed, with this
//! node's own statement and the messages the asker is missing ([`receive_resync`]);
//! [`resync_with_peer`] asks, and [`resync_after_restore`] asks every peer after a restore.
//! What the statements mean is decided in `comity_app::resync`.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use comity_crypto::MAX_ENVELOPE_BYTES;
use comity_http::ApiError;

use crate::FederationState;
use crate::transport::{
    COSE_MEDIA_TYPE, MAX_ERROR_ANSWER_BYTES, check_endpoint, open_from_peer, printable_excerpt,
    read_capped, refuse, refuse_untrusted, seal_outside_conversation,
};

/// The path peers post resynchronisation statements to.
pub const RESYNC_PATH: &str = "/federation/v1/resync";

/// A peer states what it has applied of its conversations with this node: answer with
/// this node's statement and the messages it is missing, sealed to it.
pub(crate) async fn receive_resync(
    State(state): State<FederationState>,
    headers: axum::http::HeaderMap,
    body: axum::body::Body,
) -> Result<Response, ApiError> {
    use comity_app::resync::{RESYNC_CONVERSATION, TYPE_RESYNC_ANSWER, TYPE_RESYNC_STATEMENT};
    let body: Bytes = crate::intake::read_envelope(&state, &headers, body).await?;
    let opened = open_from_peer(&state, &body)?;
    if opened.header.message_type != TYPE_RESYNC_STATEMENT
        || opened.header.conversation_id != RESYNC_CONVERSATION
    {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            format!(
                "expected a {TYPE_RESYNC_STATEMENT} envelope in conversation {RESYNC_CONVERSATION}"
            ),
        ));
    }
    let asker = opened.header.sender.clone();
    let statement: comity_app::resync::ResyncStatement = serde_json::from_slice(&opened.body)
        .map_err(|error| {
            refuse(
                StatusCode::BAD_REQUEST,
                format!("malformed resynchronisation statement: {error}"),
            )
        })?;
    let (answer, findings) = state.app.answer_resync(&asker, &statement).await?;
    let answer_bytes = serde_json::to_vec(&answer).map_err(|error| {
        refuse(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot write the answer: {error}"),
        )
    })?;
    let peer = state
        .federation
        .peer(&asker)
        .ok_or_else(|| refuse_untrusted(format!("sender {asker} left the trust list")))?;
    let (sealed, _) = seal_outside_conversation(
        &state,
        &peer,
        TYPE_RESYNC_ANSWER,
        RESYNC_CONVERSATION,
        &answer_bytes,
        Some(opened.header.message_id),
    )
    .map_err(|message| refuse(StatusCode::INTERNAL_SERVER_ERROR, message))?;
    tracing::info!(peer = %asker, conversations = statement.conversations.len(), replayed = answer.replay.len(), "answered a resynchronisation");
    if !findings.behind_in.is_empty() {
        // The asker holds messages of ours this node lost (it was restored): ask in turn,
        // once the asker has had time to apply this answer.
        let state = state.clone();
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            if let Err(error) = resync_with_peer(&state, &asker, Some(findings.behind_in)).await {
                tracing::warn!(peer = %asker, %error, "resynchronisation in turn failed");
            }
        });
    }
    let mut response = (StatusCode::OK, sealed).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(COSE_MEDIA_TYPE),
    );
    Ok(response)
}

/// Resynchronises this node's conversations with one peer (the ones named, or all):
/// sends a sealed statement, opens the sealed answer and catches up.
pub async fn resync_with_peer(
    state: &FederationState,
    peer_id: &str,
    conversations: Option<Vec<String>>,
) -> Result<comity_app::resync::ResyncReport, String> {
    use comity_app::resync::{ResyncAnswer, TYPE_RESYNC_ANSWER, TYPE_RESYNC_STATEMENT};
    let federation = &state.federation;
    let peer = federation
        .peer(peer_id)
        .ok_or_else(|| format!("{peer_id} is not on the trust list"))?;
    check_endpoint(&peer.endpoint, federation.allow_plain_http_loopback)
        .map_err(|error| error.to_string())?;
    let statement = state
        .app
        .resync_statement(peer_id, conversations.as_deref())
        .await
        .map_err(|error| error.to_string())?;
    if statement.conversations.is_empty() {
        return Ok(comity_app::resync::ResyncReport {
            peer: peer_id.to_string(),
            conversations: Vec::new(),
        });
    }
    let body = serde_json::to_vec(&statement).map_err(|error| error.to_string())?;
    let (envelope, message_id) = seal_outside_conversation(
        state,
        &peer,
        TYPE_RESYNC_STATEMENT,
        comity_app::resync::RESYNC_CONVERSATION,
        &body,
        None,
    )?;
    let response = federation
        .client_for(peer_id)?
        .post(format!("{}{RESYNC_PATH}", peer.endpoint))
        .header(header::CONTENT_TYPE, COSE_MEDIA_TYPE)
        .body(envelope)
        .send()
        .await
        .map_err(|error| format!("{}: {error}", peer.endpoint))?;
    let status = response.status();
    if !status.is_success() {
        let detail = read_capped(response, MAX_ERROR_ANSWER_BYTES)
            .await
            .map(|bytes| printable_excerpt(&bytes))
            .unwrap_or_default();
        return Err(format!("peer answered {status}: {detail}"));
    }
    let bytes = read_capped(response, MAX_ENVELOPE_BYTES).await?;
    let peeked = comity_crypto::peek_envelope(&bytes)
        .map_err(|error| format!("malformed answer: {error}"))?;
    let now = state.app.now().millis();
    let sender_key = peer
        .key_valid_at(&peeked.sender_key_id, now)
        .ok_or_else(|| "the answer is signed by a key not valid now".to_string())?;
    let own_keys = federation
        .keys_for(&peeked.recipient_key_id)
        .ok_or_else(|| "the answer is sealed to a key this node does not hold".to_string())?;
    let opened = comity_crypto::open(&own_keys, &bytes, sender_key.signing_key_bytes())
        .map_err(|error| format!("answer rejected: {error}"))?;
    let header = &opened.header;
    if header.sender != peer_id
        || header.recipient != state.app.node_id()
        || header.message_type != TYPE_RESYNC_ANSWER
        || header.in_reply_to != Some(message_id)
    {
        return Err("the answer does not answer this statement".into());
    }
    let answer: ResyncAnswer = serde_json::from_slice(&opened.body)
        .map_err(|error| format!("malformed answer: {error}"))?;
    let report = state
        .app
        .apply_resync(peer_id, &statement, &answer)
        .await
        .map_err(|error| error.to_string())?;
    for conversation in &report.conversations {
        tracing::info!(peer = %peer_id, conversation = %conversation.conversation_id, outcome = %conversation.outcome, note = %conversation.note, "resynchronised");
    }
    Ok(report)
}

/// Resynchronises every conversation with every peer on the trust list (after a restore,
/// or when an operator asks): one report, or one error, per peer.
pub async fn resync_all(
    state: &FederationState,
) -> Vec<(String, Result<comity_app::resync::ResyncReport, String>)> {
    let peers = match state.app.conversation_peers().await {
        Ok(peers) => peers,
        Err(error) => return vec![(String::new(), Err(error.to_string()))],
    };
    let mut reports = Vec::new();
    for peer in peers {
        if state.federation.peer(&peer).is_none() {
            continue;
        }
        let report = resync_with_peer(state, &peer, None).await;
        reports.push((peer, report));
    }
    reports
}

/// After a restore from a backup (or when configured), resynchronises every
/// conversation with every peer, logging and alerting what was replayed; peers that
/// cannot be reached are tried again a few times.
pub async fn resync_after_restore(state: FederationState) {
    const ATTEMPTS: u32 = 10;
    for attempt in 1..=ATTEMPTS {
        let results = resync_all(&state).await;
        let mut failed = 0;
        let mut summary = Vec::new();
        for (peer, result) in &results {
            match result {
                Ok(report) => {
                    let replayed: usize = report
                        .conversations
                        .iter()
                        .map(|c| c.replayed_from_peer + c.restored_own + c.reissued)
                        .sum();
                    let conflicts = report
                        .conversations
                        .iter()
                        .filter(|c| c.outcome == "conflict")
                        .count();
                    tracing::info!(%peer, conversations = report.conversations.len(), replayed, conflicts, "resynchronised after a restore");
                    summary.push(format!(
                        "{peer}: {} conversations compared, {replayed} messages replayed or re-issued, {conflicts} conflicts",
                        report.conversations.len()
                    ));
                }
                Err(error) => {
                    failed += 1;
                    tracing::warn!(%peer, %error, attempt, "resynchronisation after a restore failed; will retry");
                }
            }
        }
        if failed == 0 {
            let message = if summary.is_empty() {
                "resynchronised after a restore: no conversation with a peer".to_string()
            } else {
                format!("resynchronised after a restore: {}", summary.join("; "))
            };
            let _ = state
                .app
                .raise_alert(
                    comity_app::alerts::kinds::RESYNC_REPLAYED,
                    None,
                    None,
                    &message,
                )
                .await;
            if let Err(error) = state.app.clear_restore_pending().await {
                tracing::warn!(%error, "cannot record that the resynchronisation after a restore is done");
            }
            return;
        }
        tokio::time::sleep(std::time::Duration::from_secs(u64::from(attempt) * 2)).await;
    }
    let _ = state
        .app
        .raise_alert(
            comity_app::alerts::kinds::RESYNC_FAILED,
            None,
            None,
            "resynchronisation after a restore did not reach every peer; run `comity node resync`",
        )
        .await;
}

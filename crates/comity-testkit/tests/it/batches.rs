//! Batches of envelopes (`POST /federation/v1/batches`): one receipt per envelope, in
//! order, with the inbox rules of single messages; oversized batches refused whole; the
//! outbox sending in batches, and one envelope at a time to a peer without the route.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::Bytes;
use axum::http::{StatusCode, Uri, header};
use axum::response::IntoResponse;
use comity_crypto::{Receipt, ReceiptOutcome};
use comity_domain::{AuthorityKind, Side, Timestamp};
use comity_node::federation::batch::{
    BATCHES_PATH, MAX_BATCH_BYTES, MAX_BATCH_ENVELOPES, decode_byte_strings, encode_byte_strings,
};
use comity_store::{OutboxMessage, OutboxStatus};
use comity_testkit::{Backend, TestNode};
use comity_wire::federation::{ConversationId, FederationBody, request};
use sha2::{Digest, Sha256};

use crate::federation::{action_body, dispatch, pair, seal_from};

async fn post_batch(node: &TestNode, body: Vec<u8>) -> (u16, String, Vec<u8>) {
    let response = reqwest::Client::new()
        .post(format!("{}{BATCHES_PATH}", node.url()))
        .header("content-type", "application/cbor")
        .body(body)
        .send()
        .await
        .expect("post");
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (
        status,
        content_type,
        response.bytes().await.expect("bytes").to_vec(),
    )
}

fn message_id_of(envelope: &[u8]) -> String {
    comity_crypto::peek_header(envelope)
        .expect("header")
        .message_id
        .to_string()
}

async fn in_inbox(node: &TestNode, message_id: &str) -> bool {
    let mut tx = node.app().store().begin().await.expect("tx");
    tx.inbox_message(message_id).await.expect("inbox").is_some()
}

#[tokio::test]
async fn a_batch_gets_one_receipt_per_envelope_in_order_and_its_good_messages_apply() {
    let pair = pair(Backend::Sqlite).await;
    let id = dispatch(&pair.prosecutor, &pair.es_officer).await;
    pair.ma_officer
        .wait_for_state(&id, "delivered", 15)
        .await
        .expect("delivered");
    for (action, reason) in [
        ("acknowledge", None),
        ("start_assessment", None),
        ("request_additional_information", Some("which bank?")),
    ] {
        let reply = pair.ma_officer.act(&id, action, reason).await.expect("act");
        assert_eq!(reply.status, 200, "{action}: {}", reply.body);
    }
    pair.prosecutor
        .wait_for_state(&id, "additional_information_requested", 15)
        .await
        .expect("in step");
    let history_before = pair
        .ma_officer
        .get(&format!("/api/v1/requests/{id}"))
        .await
        .expect("get")
        .body["history"]
        .as_array()
        .map(Vec::len)
        .expect("history");

    let spain_keys = pair.spain.node.federation().federation.keys();
    let morocco_keys = pair.morocco.node.federation().federation.keys();
    // Spain's outbox used sequence 1 for the dispatch; the next are 2 and 3.
    let seal = |sequence: u64, action: &str| {
        seal_from(
            &spain_keys,
            "es-node",
            &pair.morocco,
            &id,
            sequence,
            &action_body(&id, action),
        )
    };
    let provide = seal(2, "provide_additional_information");
    let withdraw = seal(3, "withdraw");
    let mut tampered = seal(4, "withdraw");
    let last = tampered.len() - 5;
    tampered[last] ^= 0x40;
    // 3 comes before 2 (it waits for 2 inside the batch), a tampered envelope sits in
    // between, and 2 comes twice (the second time a duplicate).
    let batch = [
        withdraw.clone(),
        tampered.clone(),
        provide.clone(),
        provide.clone(),
    ];
    let (status, content_type, answer) =
        post_batch(&pair.morocco, encode_byte_strings(&batch)).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
    assert_eq!(content_type, "application/cbor");
    let receipts = decode_byte_strings(&answer, MAX_BATCH_ENVELOPES).expect("array of receipts");
    assert_eq!(receipts.len(), batch.len(), "one receipt per envelope");
    let receipts: Vec<Receipt> = receipts
        .iter()
        .map(|bytes| {
            comity_crypto::verify_receipt(bytes, morocco_keys.public_identity().signing_key_bytes())
                .expect("signed by the receiver")
        })
        .collect();
    for (receipt, envelope) in receipts.iter().zip(&batch) {
        assert_eq!(
            receipt.message_id.to_string(),
            message_id_of(envelope),
            "in order"
        );
        let hash: [u8; 32] = Sha256::digest(envelope).into();
        assert_eq!(receipt.envelope_hash, hash, "covers the bytes received");
        assert_eq!(receipt.sender, "es-node");
    }
    assert_eq!(
        receipts[0].outcome,
        ReceiptOutcome::Accepted,
        "3 waits, then applies"
    );
    assert!(
        matches!(&receipts[1].outcome, ReceiptOutcome::Rejected(reason) if reason.contains("signature")),
        "tampered: {:?}",
        receipts[1].outcome
    );
    assert_eq!(receipts[1].body_commitment, None, "never opened");
    assert_eq!(receipts[2].outcome, ReceiptOutcome::Accepted);
    assert_eq!(receipts[3].outcome, ReceiptOutcome::Duplicate);

    // The good messages applied, in conversation order; the tampered one is stored nowhere.
    let view = pair
        .ma_officer
        .get(&format!("/api/v1/requests/{id}"))
        .await
        .expect("get");
    assert_eq!(view.text("state"), "withdrawn");
    let actions: Vec<String> = view.body["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|entry| entry["action"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(actions.len(), history_before + 2, "each applied once");
    assert_eq!(
        &actions[actions.len() - 2..],
        ["provide_additional_information", "withdraw"]
    );
    assert!(in_inbox(&pair.morocco, &message_id_of(&provide)).await);
    assert!(!in_inbox(&pair.morocco, &message_id_of(&tampered)).await);

    // The same batch again: every good message is a duplicate, nothing changes.
    let (status, _, answer) = post_batch(&pair.morocco, encode_byte_strings(&batch)).await;
    assert_eq!(status, 200);
    let outcomes: Vec<ReceiptOutcome> = decode_byte_strings(&answer, MAX_BATCH_ENVELOPES)
        .expect("receipts")
        .iter()
        .map(|bytes| {
            comity_crypto::verify_receipt(bytes, morocco_keys.public_identity().signing_key_bytes())
                .expect("receipt")
                .outcome
        })
        .collect();
    assert_eq!(outcomes[0], ReceiptOutcome::Duplicate);
    assert!(matches!(outcomes[1], ReceiptOutcome::Rejected(_)));
    assert_eq!(outcomes[2], ReceiptOutcome::Duplicate);
    assert_eq!(outcomes[3], ReceiptOutcome::Duplicate);
    let after = pair
        .ma_officer
        .get(&format!("/api/v1/requests/{id}"))
        .await
        .expect("get");
    assert_eq!(after.body["history"], view.body["history"]);
}

fn assert_batch_problem(status: u16, content_type: &str, answer: &[u8], expected: u16) {
    assert_eq!(status, expected, "{}", String::from_utf8_lossy(answer));
    assert_eq!(content_type, "application/problem+json");
    let problem: serde_json::Value = serde_json::from_slice(answer).expect("problem json");
    assert_eq!(problem["status"], expected);
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|detail| !detail.is_empty())
    );
}

#[tokio::test]
async fn an_oversized_or_malformed_batch_is_refused_and_changes_nothing() {
    let pair = pair(Backend::Sqlite).await;
    let id = dispatch(&pair.prosecutor, &pair.es_officer).await;
    pair.ma_officer
        .wait_for_state(&id, "delivered", 15)
        .await
        .expect("delivered");
    let spain_keys = pair.spain.node.federation().federation.keys();
    let before = pair
        .ma_officer
        .get(&format!("/api/v1/requests/{id}"))
        .await
        .expect("get");
    // One envelope too many: well-formed, validly signed, each would apply.
    let envelopes: Vec<Vec<u8>> = (0..=MAX_BATCH_ENVELOPES as u64)
        .map(|step| {
            seal_from(
                &spain_keys,
                "es-node",
                &pair.morocco,
                &id,
                2 + step,
                &action_body(&id, if step == 0 { "withdraw" } else { "acknowledge" }),
            )
        })
        .collect();
    let (status, content_type, answer) =
        post_batch(&pair.morocco, encode_byte_strings(&envelopes)).await;
    assert_batch_problem(status, &content_type, &answer, 413);

    // More bytes than a batch may hold, whatever they are.
    let (status, content_type, answer) =
        post_batch(&pair.morocco, vec![0x81; MAX_BATCH_BYTES + 1]).await;
    assert_batch_problem(status, &content_type, &answer, 413);

    // Not a definite-length array of byte strings, an empty batch, trailing bytes, and
    // a good envelope next to an unreadable one.
    let first = encode_byte_strings(&envelopes[..1]);
    let mut trailing = first.clone();
    trailing.push(0);
    let mut indefinite = vec![0x9f];
    indefinite.extend_from_slice(&first[1..]);
    indefinite.push(0xff);
    let with_garbage = encode_byte_strings(&[envelopes[0].clone(), b"not an envelope".to_vec()]);
    for body in [
        b"{}".to_vec(),
        encode_byte_strings::<Vec<u8>>(&[]),
        trailing,
        indefinite,
        with_garbage,
    ] {
        let (status, content_type, answer) = post_batch(&pair.morocco, body).await;
        assert_batch_problem(status, &content_type, &answer, 400);
    }

    for envelope in &envelopes {
        assert!(!in_inbox(&pair.morocco, &message_id_of(envelope)).await);
    }
    let after = pair
        .ma_officer
        .get(&format!("/api/v1/requests/{id}"))
        .await
        .expect("get");
    assert_eq!(after.text("state"), "delivered");
    assert_eq!(after.body["history"], before.body["history"]);
}

/// Serves a proxy to `target` that forwards single envelopes, and batches too when
/// `batches` is set (otherwise it answers them 404, as a node without the route would).
/// Returns its URL and the batch and single posts it saw.
async fn proxy(target: String, batches: bool) -> (String, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    let batch_posts = Arc::new(AtomicUsize::new(0));
    let single_posts = Arc::new(AtomicUsize::new(0));
    let (batch_count, single_count) = (batch_posts.clone(), single_posts.clone());
    let client = reqwest::Client::new();
    let router = axum::Router::new().fallback(move |uri: Uri, body: Bytes| {
        let (target, client) = (target.clone(), client.clone());
        let (batch_count, single_count) = (batch_count.clone(), single_count.clone());
        async move {
            if uri.path() == BATCHES_PATH {
                batch_count.fetch_add(1, Ordering::SeqCst);
                if !batches {
                    return StatusCode::NOT_FOUND.into_response();
                }
            } else {
                single_count.fetch_add(1, Ordering::SeqCst);
            }
            let Ok(response) = client
                .post(format!("{target}{}", uri.path()))
                .body(body)
                .send()
                .await
            else {
                return StatusCode::BAD_GATEWAY.into_response();
            };
            let status =
                StatusCode::from_u16(response.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
            let bytes = response.bytes().await.unwrap_or_default();
            (status, bytes).into_response()
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, router).await });
    (format!("http://{address}"), batch_posts, single_posts)
}

/// Commits `count` dispatches from es-ca to ma-ca to Spain's outbox in one transaction;
/// returns the request ids.
async fn enqueue_dispatches(spain: &TestNode, count: usize) -> Vec<String> {
    let now = spain.app().now();
    let mut ids = Vec::new();
    let mut tx = spain.app().store().begin().await.expect("tx");
    for _ in 0..count {
        let request_id = uuid::Uuid::now_v7().to_string();
        let content: comity_wire::RequestContentDto = serde_json::from_value(serde_json::json!({
            "requesting_authority": "es-ca", "requesting_country": "ES",
            "requested_authority": "ma-ca", "requested_country": "MA",
            "subject_matter": "Batch", "summary_of_facts": "Facts.",
            "measures": [{"kind": "bank_records", "description": "Statements"}],
            "purpose": "Evidence"
        }))
        .expect("content");
        let request_uuid: uuid::Uuid = request_id.parse().expect("request id");
        let body = FederationBody::from(request::Message::Dispatched(request::Dispatched {
            request_id: request_uuid,
            content: Box::new(content),
            case_reference: "BATCH".into(),
        }));
        tx.enqueue(&OutboxMessage {
            message_id: uuid::Uuid::now_v7().to_string(),
            recipient_node: "ma-node".into(),
            conversation_id: ConversationId::request(request_uuid).to_string(),
            sequence: 1,
            message_type: body.message_type().into(),
            in_reply_to: None,
            body: body.to_json().expect("json"),
            status: OutboxStatus::Pending,
            attempts: 0,
            next_attempt_at: now,
            created_at: Timestamp(now.millis()),
            last_error: None,
            receipt: None,
        })
        .await
        .expect("enqueue");
        ids.push(request_id);
    }
    tx.commit().await.expect("commit");
    spain.app().outbox_signal().notify_one();
    ids
}

/// Spain trusts Morocco reached through [`proxy`]; Morocco trusts Spain. Returns the
/// nodes and the proxy's counts of batch and single posts.
async fn spain_and_morocco_through_proxy(
    batches: bool,
) -> (TestNode, TestNode, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    let spain = TestNode::spawn("es-node", Backend::Sqlite)
        .await
        .expect("spain");
    let morocco = TestNode::spawn("ma-node", Backend::Sqlite)
        .await
        .expect("morocco");
    spain
        .local_authority("es-ca", "ES", AuthorityKind::CentralAuthority)
        .await
        .expect("es");
    morocco
        .local_authority("ma-ca", "MA", AuthorityKind::CentralAuthority)
        .await
        .expect("ma");
    let (endpoint, batch_posts, single_posts) = proxy(morocco.url(), batches).await;
    let mut morocco_entry = morocco.node.peer_entry().await.expect("entry");
    morocco_entry.endpoint = endpoint;
    spain.node.add_peer(morocco_entry).await.expect("trust");
    morocco
        .node
        .add_peer(spain.node.peer_entry().await.expect("entry"))
        .await
        .expect("trust");
    (spain, morocco, batch_posts, single_posts)
}

async fn delivered_everything(spain: &TestNode, morocco: &TestNode, ids: &[String]) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let delivered = {
            let mut tx = spain.app().store().begin().await.expect("tx");
            tx.count_outbox(OutboxStatus::Delivered)
                .await
                .expect("count")
        };
        if delivered == ids.len() as i64 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{delivered} of {} delivered",
            ids.len()
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let mut tx = morocco.app().store().begin().await.expect("tx");
    for id in ids {
        let request = tx.request(id, Side::Requested).await.expect("request");
        assert!(request.is_some(), "request {id} arrived");
    }
}

#[tokio::test]
async fn the_outbox_sends_in_batches_and_each_message_is_receipted() {
    let (spain, morocco, batch_posts, single_posts) = spain_and_morocco_through_proxy(true).await;
    let ids = enqueue_dispatches(&spain, 150).await;
    delivered_everything(&spain, &morocco, &ids).await;
    let batches = batch_posts.load(Ordering::SeqCst);
    let singles = single_posts.load(Ordering::SeqCst);
    assert!(
        batches >= 3,
        "150 messages need at least 3 batches of 64: {batches}"
    );
    assert!(
        singles < ids.len() / 2,
        "mostly batched: {singles} single posts"
    );
    // Every message holds its own receipt, signed by Morocco, saying accepted.
    let mut tx = spain.app().store().begin().await.expect("tx");
    let delivered = tx
        .outbox_in_status(OutboxStatus::Delivered, 1000)
        .await
        .expect("delivered");
    assert_eq!(delivered.len(), ids.len());
    let morocco_signing = *morocco
        .node
        .federation()
        .federation
        .keys()
        .public_identity()
        .signing_key_bytes();
    for message in delivered {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(message.receipt.expect("receipt"))
            .expect("base64");
        let receipt = comity_crypto::verify_receipt(&bytes, &morocco_signing).expect("receipt");
        assert_eq!(receipt.message_id.to_string(), message.message_id);
        assert_eq!(receipt.outcome, ReceiptOutcome::Accepted);
    }
}

#[tokio::test]
async fn a_peer_without_the_batch_route_gets_single_envelopes() {
    let (spain, morocco, batch_posts, single_posts) = spain_and_morocco_through_proxy(false).await;
    let ids = enqueue_dispatches(&spain, 20).await;
    delivered_everything(&spain, &morocco, &ids).await;
    assert!(batch_posts.load(Ordering::SeqCst) >= 1, "a batch was tried");
    assert_eq!(
        single_posts.load(Ordering::SeqCst),
        ids.len(),
        "then one at a time"
    );
    // The peer is remembered: later messages go one at a time without trying again.
    let tried = batch_posts.load(Ordering::SeqCst);
    let more = enqueue_dispatches(&spain, 10).await;
    let all: Vec<String> = ids.into_iter().chain(more).collect();
    delivered_everything(&spain, &morocco, &all).await;
    assert_eq!(batch_posts.load(Ordering::SeqCst), tried);
}

//! Two real nodes on loopback exchanging sealed envelopes over HTTP: the lifecycle
//! across nodes, and the faults the transport must survive.

use comity_crypto::{ENVELOPE_VERSION, EnvelopeHeader, MessageId, NodeKeys, ReceiptOutcome};
use comity_domain::AuthorityKind;
use comity_testkit::{ApiClient, Backend, TestNode, backends, sample_draft};
use comity_wire::federation::{FederationBody, request};
use serde_json::json;

/// A Spanish node and a Moroccan node that trust each other.
pub(crate) struct Pair {
    pub(crate) spain: TestNode,
    pub(crate) morocco: TestNode,
    pub(crate) prosecutor: ApiClient,
    pub(crate) es_officer: ApiClient,
    pub(crate) ma_officer: ApiClient,
}

pub(crate) async fn pair(backend: Backend) -> Pair {
    pair_with(backend, |_| {}).await
}

/// A pair whose Spanish node's configuration the test adjusts.
async fn pair_with(
    backend: Backend,
    adjust_spain: impl FnOnce(&mut comity_node::NodeConfig),
) -> Pair {
    let spain = TestNode::spawn_with(
        "es-node",
        backend,
        adjust_spain,
        std::sync::Arc::new(comity_app::SystemClock),
    )
    .await
    .expect("spain");
    let morocco = TestNode::spawn("ma-node", backend).await.expect("morocco");
    spain
        .local_authority("es-ca", "ES", AuthorityKind::CentralAuthority)
        .await
        .expect("es");
    morocco
        .local_authority("ma-ca", "MA", AuthorityKind::CentralAuthority)
        .await
        .expect("ma");
    spain.peer_with(&morocco).await.expect("trust");
    let prosecutor = spain
        .user("fiscal", "es-ca", &["requesting_prosecutor"])
        .await
        .expect("user");
    let es_officer = spain
        .user("ana", "es-ca", &["central_authority_officer"])
        .await
        .expect("user");
    let ma_officer = morocco
        .user(
            "karim",
            "ma-ca",
            &["central_authority_officer", "executing_officer"],
        )
        .await
        .expect("user");
    Pair {
        spain,
        morocco,
        prosecutor,
        es_officer,
        ma_officer,
    }
}

/// Logs in to the Moroccan node as its officer, waits until request `id` has been
/// delivered there, and checks it was applied exactly once.
async fn arrived_once(morocco: &TestNode, id: &str) -> ApiClient {
    let ma_officer = ApiClient::login(&morocco.url(), "karim", comity_testkit::TEST_PASSWORD)
        .await
        .expect("login");
    ma_officer
        .wait_for_state(id, "delivered", 15)
        .await
        .expect("delivered");
    let incoming = ma_officer.get("/api/v1/requests").await.expect("list");
    assert_eq!(
        incoming.body.as_array().map(Vec::len),
        Some(1),
        "applied exactly once"
    );
    ma_officer
}

/// Drafts, approves and dispatches a request; returns its id.
pub(crate) async fn dispatch(prosecutor: &ApiClient, es_officer: &ApiClient) -> String {
    let case = prosecutor
        .post(
            "/api/v1/cases",
            &json!({"reference": "DP 7/2026", "title": "Strait"}),
        )
        .await
        .expect("case");
    let draft = prosecutor
        .post(
            &format!("/api/v1/cases/{}/requests", case.text("id")),
            &sample_draft("es-ca", "ma-ca"),
        )
        .await
        .expect("draft");
    assert_eq!(draft.status, 201, "{}", draft.body);
    let id = draft.text("id");
    for (client, action) in [
        (prosecutor, "submit_for_approval"),
        (es_officer, "approve"),
        (es_officer, "dispatch"),
    ] {
        let reply = client.act(&id, action, None).await.expect("act");
        assert_eq!(reply.status, 200, "{action}: {}", reply.body);
    }
    id
}

#[tokio::test]
async fn the_lifecycle_runs_across_two_nodes() {
    for backend in backends() {
        let pair = pair(backend).await;
        let id = dispatch(&pair.prosecutor, &pair.es_officer).await;
        pair.prosecutor
            .wait_for_state(&id, "delivered", 15)
            .await
            .expect("receipt recorded");
        let incoming = pair
            .ma_officer
            .wait_for_state(&id, "delivered", 15)
            .await
            .expect("arrived");
        assert_eq!(incoming.text("side"), "requested");
        assert_eq!(
            incoming.body["content"]["persons"][0]["full_name"],
            "Youssef El Amrani"
        );
        let steps: [(&ApiClient, &str, &str); 9] = [
            (&pair.ma_officer, "acknowledge", "registered"),
            (&pair.ma_officer, "start_assessment", "under_assessment"),
            (
                &pair.ma_officer,
                "request_additional_information",
                "additional_information_requested",
            ),
            (
                &pair.prosecutor,
                "provide_additional_information",
                "additional_information_provided",
            ),
            (&pair.ma_officer, "accept_in_part", "accepted_in_part"),
            (&pair.ma_officer, "start_execution", "in_execution"),
            (
                &pair.ma_officer,
                "send_partial_response",
                "partially_executed",
            ),
            (&pair.ma_officer, "send_final_response", "executed"),
            (&pair.prosecutor, "close", "closed"),
        ];
        for (client, action, expected) in steps {
            let reply = client
                .act(&id, action, Some("per the treaty"))
                .await
                .expect("act");
            assert_eq!(reply.status, 200, "{action}: {}", reply.body);
            pair.prosecutor
                .wait_for_state(&id, expected, 15)
                .await
                .expect("spain in step");
            pair.ma_officer
                .wait_for_state(&id, expected, 15)
                .await
                .expect("morocco in step");
        }
        // Each side recorded the other's actions as remote, by the peer node.
        let view = pair
            .prosecutor
            .get(&format!("/api/v1/requests/{id}"))
            .await
            .expect("get");
        let remote: Vec<&str> = view.body["history"]
            .as_array()
            .expect("history")
            .iter()
            .filter(|entry| entry["origin"] == "remote")
            .map(|entry| entry["action"].as_str().unwrap_or_default())
            .collect();
        assert_eq!(remote.len(), 7, "{remote:?}");
        assert!(
            view.body["history"][4]["actor"]
                .as_str()
                .unwrap_or_default()
                .contains("ma-node")
        );
    }
}

#[tokio::test]
async fn a_receiver_that_is_down_gets_its_messages_when_it_returns() {
    let Pair {
        spain: _spain,
        morocco,
        prosecutor,
        es_officer,
        ..
    } = pair(Backend::Sqlite).await;
    let stopped = morocco.kill();
    let id = dispatch(&prosecutor, &es_officer).await;
    // The sender keeps retrying while the receiver is down.
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    let view = prosecutor
        .get(&format!("/api/v1/requests/{id}"))
        .await
        .expect("get");
    assert_eq!(view.text("state"), "dispatched");
    let morocco = stopped.restart().await.expect("restart");
    let ma_officer = arrived_once(&morocco, &id).await;
    prosecutor
        .wait_for_state(&id, "delivered", 15)
        .await
        .expect("receipt");
    ma_officer.act(&id, "acknowledge", None).await.expect("ack");
    prosecutor
        .wait_for_state(&id, "registered", 15)
        .await
        .expect("in step");
}

#[tokio::test]
async fn a_sender_killed_after_commit_sends_once_on_restart() {
    let Pair {
        spain,
        morocco,
        prosecutor,
        es_officer,
        ..
    } = pair(Backend::Sqlite).await;
    // The receiver is down, so the committed dispatch sits in the sender's outbox...
    let morocco_stopped = morocco.kill();
    let id = dispatch(&prosecutor, &es_officer).await;
    // ...when the sender dies abruptly.
    let spain_stopped = spain.kill();
    let morocco = morocco_stopped.restart().await.expect("morocco back");
    let spain = spain_stopped.restart().await.expect("spain back");
    let prosecutor = ApiClient::login(&spain.url(), "fiscal", comity_testkit::TEST_PASSWORD)
        .await
        .expect("login");
    arrived_once(&morocco, &id).await;
    prosecutor
        .wait_for_state(&id, "delivered", 15)
        .await
        .expect("receipt");
}

/// Seals `body` from `sender` to `recipient` as the transport would.
pub(crate) fn seal_from(
    sender_keys: &NodeKeys,
    sender: &str,
    recipient: &TestNode,
    conversation: &str,
    sequence: u64,
    body: &FederationBody,
) -> Vec<u8> {
    seal_raw(
        sender_keys,
        sender,
        recipient,
        (body.message_type(), conversation, sequence),
        &serde_json::to_string(body).expect("json"),
    )
}

/// Seals any body text under any message type, conversation and sequence.
fn seal_raw(
    sender_keys: &NodeKeys,
    sender: &str,
    recipient: &TestNode,
    (message_type, conversation, sequence): (&str, &str, u64),
    body: &str,
) -> Vec<u8> {
    let header = EnvelopeHeader {
        version: ENVELOPE_VERSION,
        message_id: MessageId::random(&mut rand::rngs::OsRng),
        sender: sender.into(),
        recipient: recipient.node.app().node_id().into(),
        message_type: message_type.into(),
        conversation_id: conversation.into(),
        sequence,
        sent_at_ms: recipient.app().now().millis(),
        in_reply_to: None,
    };
    let recipient_keys = recipient
        .node
        .federation()
        .federation
        .keys()
        .public_identity();
    comity_crypto::seal(
        sender_keys,
        &recipient_keys,
        &header,
        body.as_bytes(),
        &mut rand::rngs::OsRng,
    )
    .expect("seal")
}

pub(crate) fn action_body(id: &str, action: &str) -> FederationBody {
    request::Message::ActionTaken(request::ActionTaken {
        request_id: id.parse().expect("request id"),
        from_side: comity_domain::Side::Requesting,
        action: action.parse().expect("action code"),
        actor: "test".into(),
        reason: Some("test".into()),
        grounds: vec![],
        taken_at_ms: 0,
    })
    .into()
}

pub(crate) async fn post_envelope(node: &TestNode, bytes: Vec<u8>) -> (u16, Vec<u8>) {
    let response = reqwest::Client::new()
        .post(format!("{}/federation/v1/messages", node.url()))
        .header("content-type", "application/cose")
        .body(bytes)
        .send()
        .await
        .expect("post");
    let status = response.status().as_u16();
    (status, response.bytes().await.expect("bytes").to_vec())
}

#[tokio::test]
async fn duplicates_reordering_and_tampering_change_nothing_twice() {
    let pair = pair(Backend::Sqlite).await;
    let id = dispatch(&pair.prosecutor, &pair.es_officer).await;
    pair.ma_officer
        .wait_for_state(&id, "delivered", 15)
        .await
        .expect("delivered");
    pair.ma_officer
        .act(&id, "acknowledge", None)
        .await
        .expect("ack");
    pair.ma_officer
        .act(&id, "start_assessment", None)
        .await
        .expect("assess");
    pair.ma_officer
        .act(&id, "request_additional_information", Some("which bank?"))
        .await
        .expect("rfi");
    pair.prosecutor
        .wait_for_state(&id, "additional_information_requested", 15)
        .await
        .expect("in step");

    let spain_keys = &pair.spain.node.federation().federation.keys();
    let morocco_signing = *pair
        .morocco
        .node
        .federation()
        .federation
        .keys()
        .public_identity()
        .signing_key_bytes();
    // Spain's outbox used sequence 1 for the dispatch; the next are 2 and 3.
    let provide = seal_from(
        spain_keys,
        "es-node",
        &pair.morocco,
        &id,
        2,
        &action_body(&id, "provide_additional_information"),
    );
    let withdraw = seal_from(
        spain_keys,
        "es-node",
        &pair.morocco,
        &id,
        3,
        &action_body(&id, "withdraw"),
    );

    // Reordered: 3 arrives first and waits for 2.
    let (status, receipt) = post_envelope(&pair.morocco, withdraw.clone()).await;
    assert_eq!(status, 200);
    let receipt =
        comity_crypto::verify_receipt(&receipt, &morocco_signing).expect("signed receipt");
    assert_eq!(receipt.outcome, ReceiptOutcome::Accepted);
    let view = pair
        .ma_officer
        .get(&format!("/api/v1/requests/{id}"))
        .await
        .expect("get");
    assert_eq!(
        view.text("state"),
        "additional_information_requested",
        "3 waits for 2"
    );

    // Tampered copies of 2 are refused and change nothing.
    for position in [10, provide.len() / 2, provide.len() - 5] {
        let mut tampered = provide.clone();
        tampered[position] ^= 0x40;
        let (status, _) = post_envelope(&pair.morocco, tampered).await;
        assert!(
            status == 400 || status == 403,
            "tampered byte {position}: {status}"
        );
    }
    let view = pair
        .ma_officer
        .get(&format!("/api/v1/requests/{id}"))
        .await
        .expect("get");
    assert_eq!(view.text("state"), "additional_information_requested");

    // 2 arrives: 2 then 3 apply, in order.
    let (status, _) = post_envelope(&pair.morocco, provide.clone()).await;
    assert_eq!(status, 200);
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
    assert_eq!(
        &actions[actions.len() - 2..],
        ["provide_additional_information", "withdraw"]
    );

    // Duplicates and replays are acknowledged as such and change nothing.
    let (status, receipt) = post_envelope(&pair.morocco, provide).await;
    assert_eq!(status, 200);
    let receipt = comity_crypto::verify_receipt(&receipt, &morocco_signing).expect("receipt");
    assert_eq!(receipt.outcome, ReceiptOutcome::Duplicate);
    let after = pair
        .ma_officer
        .get(&format!("/api/v1/requests/{id}"))
        .await
        .expect("get");
    assert_eq!(after.body["history"], view.body["history"]);
}

#[tokio::test]
async fn envelopes_from_strangers_or_for_others_are_refused() {
    let pair = pair(Backend::Sqlite).await;
    let id = dispatch(&pair.prosecutor, &pair.es_officer).await;
    pair.ma_officer
        .wait_for_state(&id, "delivered", 15)
        .await
        .expect("delivered");
    let before = pair
        .ma_officer
        .get(&format!("/api/v1/requests/{id}"))
        .await
        .expect("get");

    // A node not on the trust list, even one using a trusted node's name.
    let stranger = NodeKeys::generate(&mut rand::rngs::OsRng);
    let forged = seal_from(
        &stranger,
        "es-node",
        &pair.morocco,
        &id,
        2,
        &action_body(&id, "withdraw"),
    );
    let (status, known_name) = post_envelope(&pair.morocco, forged).await;
    assert_eq!(status, 403);
    let unknown = seal_from(
        &stranger,
        "xx-node",
        &pair.morocco,
        &id,
        2,
        &action_body(&id, "withdraw"),
    );
    let (status, unknown_name) = post_envelope(&pair.morocco, unknown).await;
    assert_eq!(status, 403);
    // The two refusals read the same: trying names does not reveal the trust list.
    assert_eq!(known_name, unknown_name);
    assert!(!String::from_utf8_lossy(&unknown_name).contains("xx-node"));

    // A message addressed to another node.
    let spain_keys = &pair.spain.node.federation().federation.keys();
    let misaddressed = seal_from(
        spain_keys,
        "es-node",
        &pair.spain,
        &id,
        2,
        &action_body(&id, "withdraw"),
    );
    assert_eq!(post_envelope(&pair.morocco, misaddressed).await.0, 400);

    // Garbage and oversize bodies.
    assert_eq!(
        post_envelope(&pair.morocco, b"not an envelope".to_vec())
            .await
            .0,
        400
    );
    assert_eq!(
        post_envelope(&pair.morocco, vec![0u8; 17 * 1024 * 1024])
            .await
            .0,
        413
    );

    let after = pair
        .ma_officer
        .get(&format!("/api/v1/requests/{id}"))
        .await
        .expect("get");
    assert_eq!(
        after.body["history"], before.body["history"],
        "nothing changed"
    );
}

#[tokio::test]
async fn a_retired_key_is_refused() {
    let pair = pair(Backend::Sqlite).await;
    let id = dispatch(&pair.prosecutor, &pair.es_officer).await;
    pair.ma_officer
        .wait_for_state(&id, "delivered", 15)
        .await
        .expect("delivered");
    // Morocco's administrator records that Spain's key was retired a minute ago.
    let mut entry = pair.spain.node.peer_entry().await.expect("entry");
    let now = pair.morocco.app().now().millis();
    entry.keys[0].valid_until_ms = Some(now - 60_000);
    pair.morocco
        .node
        .add_peer(entry)
        .await
        .expect("update trust");
    let spain_keys = &pair.spain.node.federation().federation.keys();
    let late = seal_from(
        spain_keys,
        "es-node",
        &pair.morocco,
        &id,
        2,
        &action_body(&id, "withdraw"),
    );
    assert_eq!(post_envelope(&pair.morocco, late).await.0, 403);
    let view = pair
        .ma_officer
        .get(&format!("/api/v1/requests/{id}"))
        .await
        .expect("get");
    assert_eq!(view.text("state"), "delivered");
}

#[tokio::test]
async fn undeliverable_messages_become_dead_letters_an_operator_can_retry() {
    let Pair {
        spain,
        morocco,
        prosecutor,
        es_officer: officer,
        ..
    } = pair_with(Backend::Sqlite, |config| {
        config.outbox.dead_letter_after_secs = 0
    })
    .await;
    let admin = spain
        .user("root", "es-ca", &["administrator", "node_operator"])
        .await
        .expect("user");
    let stopped = morocco.kill();
    let id = dispatch(&prosecutor, &officer).await;

    let mut dead = Vec::new();
    for _ in 0..200 {
        let reply = admin
            .get("/api/v1/outbox?status=dead")
            .await
            .expect("outbox");
        dead = reply.body.as_array().cloned().unwrap_or_default();
        if !dead.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!(dead.len(), 1, "the dispatch became a dead letter");
    // The request's conversation, written with its topic (docs/protocol.md, 9.4).
    assert_eq!(dead[0]["conversation_id"], format!("request:{id}").as_str());
    assert!(
        !dead[0]["last_error"]
            .as_str()
            .unwrap_or_default()
            .is_empty()
    );
    assert_eq!(
        prosecutor.get("/api/v1/outbox").await.expect("get").status,
        403,
        "operators only"
    );

    let morocco = stopped.restart().await.expect("restart");
    let message_id = dead[0]["message_id"].as_str().expect("id");
    let retry = admin
        .post(&format!("/api/v1/outbox/{message_id}/retry"), &json!({}))
        .await
        .expect("retry");
    assert_eq!(retry.status, 204, "{}", retry.body);
    prosecutor
        .wait_for_state(&id, "delivered", 15)
        .await
        .expect("delivered after retry");
    arrived_once(&morocco, &id).await;
}

#[tokio::test]
async fn nodes_talk_over_https_with_pinned_certificates() {
    let spain = TestNode::spawn_https("es-node").await.expect("https node");
    let morocco = TestNode::spawn_https("ma-node").await.expect("https node");
    assert!(spain.url().starts_with("https://"), "{}", spain.url());
    spain
        .local_authority("es-ca", "ES", AuthorityKind::CentralAuthority)
        .await
        .expect("es");
    morocco
        .local_authority("ma-ca", "MA", AuthorityKind::CentralAuthority)
        .await
        .expect("ma");

    // Before the certificates are pinned the TLS handshake fails and nothing is delivered.
    let mut unpinned = morocco.node.peer_entry().await.expect("entry");
    assert!(
        unpinned.tls_certificate.is_some(),
        "the entry publishes the certificate"
    );
    unpinned.tls_certificate = None;
    spain
        .node
        .add_peer(unpinned)
        .await
        .expect("trust without pin");
    morocco
        .node
        .add_peer(spain.node.peer_entry().await.expect("entry"))
        .await
        .expect("trust");

    let prosecutor = spain
        .user("fiscal", "es-ca", &["requesting_prosecutor"])
        .await
        .expect("user over https");
    let officer = spain
        .user("ana", "es-ca", &["central_authority_officer"])
        .await
        .expect("user over https");
    let id = dispatch(&prosecutor, &officer).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let view = prosecutor
        .get(&format!("/api/v1/requests/{id}"))
        .await
        .expect("get");
    assert_eq!(
        view.text("state"),
        "dispatched",
        "an unpinned certificate is not trusted"
    );

    // Pinning the peer's certificate lets the queued message through.
    spain
        .node
        .add_peer(morocco.node.peer_entry().await.expect("entry"))
        .await
        .expect("pin");
    prosecutor
        .wait_for_state(&id, "delivered", 15)
        .await
        .expect("delivered over https");
}

#[tokio::test]
async fn keys_rotate_with_an_announcement_signed_by_the_old_key() {
    let pair = pair(Backend::Sqlite).await;
    let first = dispatch(&pair.prosecutor, &pair.es_officer).await;
    pair.prosecutor
        .wait_for_state(&first, "delivered", 15)
        .await
        .expect("delivered");
    let old_keys = pair.spain.node.federation().federation.keys();
    let admin = pair
        .spain
        .user("root", "es-ca", &["administrator", "node_operator"])
        .await
        .expect("admin");
    assert_eq!(
        pair.prosecutor
            .post("/api/v1/node/keys/rotate", &json!({}))
            .await
            .expect("post")
            .status,
        403,
        "administrators only"
    );
    let rotated = admin
        .post("/api/v1/node/keys/rotate", &json!({}))
        .await
        .expect("rotate");
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    assert_eq!(
        rotated.body["announced_to"],
        json!(["ma-node"]),
        "{}",
        rotated.body
    );
    assert_ne!(rotated.text("key_id"), old_keys.key_id());
    // Morocco keeps the new key until its operator confirms the fingerprint that
    // Spain's operator gave out of band.
    assert_eq!(rotated.body["awaiting_confirmation"], json!(["ma-node"]));
    crate::federation_keys::confirm_key(&pair.morocco, "es-node", &rotated.text("fingerprint"));

    // Announcing again right away is acknowledged as a duplicate, not reported failed,
    // although the key that signed the announcement is retired by now.
    let again = admin
        .post("/api/v1/node/keys/announce", &json!({}))
        .await
        .expect("announce");
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(
        again.body["announced_to"],
        json!(["ma-node"]),
        "{}",
        again.body
    );
    assert_eq!(again.body["failed"], json!([]), "{}", again.body);
    // But the retired key cannot announce a key Morocco does not trust yet.
    let usurper = NodeKeys::generate(&mut rand::rngs::OsRng);
    let retired_announcing_new = comity_crypto::KeyAnnouncement {
        node_id: "es-node".into(),
        new_keys: usurper.public_identity(),
        valid_from_ms: 0,
        valid_until_ms: None,
    }
    .sign(&old_keys)
    .expect("sign");
    let response = reqwest::Client::new()
        .post(format!("{}/federation/v1/keys", pair.morocco.url()))
        .body(retired_announcing_new)
        .send()
        .await
        .expect("post");
    assert_eq!(response.status().as_u16(), 403);

    // New messages are signed with the new key and accepted.
    let second = dispatch(&pair.prosecutor, &pair.es_officer).await;
    pair.prosecutor
        .wait_for_state(&second, "delivered", 15)
        .await
        .expect("delivered with the new key");

    // The old key is retired: an envelope it signs now is refused.
    let late = seal_from(
        &old_keys,
        "es-node",
        &pair.morocco,
        &first,
        2,
        &action_body(&first, "withdraw"),
    );
    assert_eq!(post_envelope(&pair.morocco, late).await.0, 403);

    // A forged announcement (signed by a key Morocco does not trust) is refused.
    let stranger = NodeKeys::generate(&mut rand::rngs::OsRng);
    let forged = comity_crypto::KeyAnnouncement {
        node_id: "es-node".into(),
        new_keys: stranger.public_identity(),
        valid_from_ms: 0,
        valid_until_ms: None,
    }
    .sign(&stranger)
    .expect("sign");
    let response = reqwest::Client::new()
        .post(format!("{}/federation/v1/keys", pair.morocco.url()))
        .body(forged)
        .send()
        .await
        .expect("post");
    assert_eq!(response.status().as_u16(), 403);

    // The rotation survives a restart of the rotated node.
    let spain_keys_after = pair
        .spain
        .node
        .federation()
        .federation
        .keys()
        .key_id()
        .to_string();
    let stopped = pair.spain.kill();
    let spain = stopped.restart().await.expect("restart");
    assert_eq!(
        spain.node.federation().federation.keys().key_id(),
        spain_keys_after
    );
    // And the announcement with it: it can still be sent again, and is a duplicate.
    let mut admin_again = admin.clone();
    admin_again.base = spain.url();
    admin_again
        .log_in("root", comity_testkit::TEST_PASSWORD)
        .await
        .expect("log in");
    let announced = admin_again
        .post("/api/v1/node/keys/announce", &json!({}))
        .await
        .expect("announce");
    assert_eq!(
        announced.body["announced_to"],
        json!(["ma-node"]),
        "{}",
        announced.body
    );
}

/// Posts a dispatch from Morocco to Spain and returns the receipt's outcome.
async fn forged_dispatch(
    pair: &Pair,
    request_id: &str,
    content: serde_json::Value,
) -> ReceiptOutcome {
    let morocco_keys = pair.morocco.node.federation().federation.keys();
    let body = FederationBody::from(request::Message::Dispatched(request::Dispatched {
        request_id: request_id.parse().expect("request id"),
        content: Box::new(serde_json::from_value(content).expect("content")),
        case_reference: "RABAT 1/2026".into(),
    }));
    let envelope = seal_from(&morocco_keys, "ma-node", &pair.spain, request_id, 1, &body);
    let (status, receipt) = post_envelope(&pair.spain, envelope).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&receipt));
    let spain_signing = pair
        .spain
        .node
        .federation()
        .federation
        .keys()
        .public_identity()
        .signing_key_bytes()
        .to_owned();
    comity_crypto::verify_receipt(&receipt, &spain_signing)
        .expect("signed receipt")
        .outcome
}

#[tokio::test]
async fn a_peer_cannot_shadow_a_request_or_move_an_authority_to_another_state() {
    let pair = pair(Backend::Sqlite).await;
    let id = dispatch(&pair.prosecutor, &pair.es_officer).await;
    pair.ma_officer
        .wait_for_state(&id, "delivered", 15)
        .await
        .expect("delivered");
    let before = pair
        .prosecutor
        .get(&format!("/api/v1/requests/{id}"))
        .await
        .expect("get");

    // Morocco sends Spain's own request id back as a request of its own.
    let mut forged = sample_draft("ma-ca", "es-ca");
    forged["summary_of_facts"] = json!("FORGED: please transfer the file to Rabat");
    let outcome = forged_dispatch(&pair, &id, forged).await;
    assert!(
        matches!(&outcome, ReceiptOutcome::Rejected(reason) if reason.contains("already in use")),
        "{outcome:?}"
    );
    let after = pair
        .prosecutor
        .get(&format!("/api/v1/requests/{id}"))
        .await
        .expect("get");
    assert_eq!(after.status, 200);
    assert_eq!(
        after.body, before.body,
        "the requester still sees its own request"
    );
    let listed = pair.prosecutor.get("/api/v1/requests").await.expect("list");
    let copies = listed
        .body
        .as_array()
        .map(|requests| requests.iter().filter(|r| r["id"] == json!(id)).count())
        .unwrap_or_default();
    assert_eq!(copies, 1);

    // Morocco cannot place its own authority in France.
    let mut moved = sample_draft("ma-ca", "es-ca");
    moved["requesting_country"] = json!("FR");
    let fresh_id = uuid::Uuid::now_v7().to_string();
    let outcome = forged_dispatch(&pair, &fresh_id, moved).await;
    assert!(
        matches!(&outcome, ReceiptOutcome::Rejected(reason) if reason.contains("belongs to MA")),
        "{outcome:?}"
    );
    let mut honest = sample_draft("ma-ca", "es-ca");
    honest["requesting_country"] = json!("MA");
    let honest_id = uuid::Uuid::now_v7().to_string();
    assert_eq!(
        forged_dispatch(&pair, &honest_id, honest).await,
        ReceiptOutcome::Accepted
    );
}

#[tokio::test]
async fn a_rotation_a_peer_missed_is_announced_again_after_a_restart() {
    let spain = TestNode::spawn("es-node", Backend::Sqlite)
        .await
        .expect("spain");
    let morocco = TestNode::spawn("ma-node", Backend::Sqlite)
        .await
        .expect("morocco");
    spain.peer_with(&morocco).await.expect("trust");
    let morocco_down = morocco.kill();

    let report = comity_node::federation::rotate_keys(spain.node.federation())
        .await
        .expect("rotation");
    assert!(report.announced_to.is_empty(), "Morocco was down");
    let new_key = report.key_id.clone();

    // Spain crashes before Morocco is back; both start again.
    let spain = spain.kill().restart().await.expect("spain back");
    let morocco = morocco_down.restart().await.expect("morocco back");
    let (announced_to, _failed) =
        comity_node::federation::announce_keys(spain.node.federation()).await;
    assert_eq!(announced_to, vec!["ma-node".to_string()]);
    // Morocco's operator confirms the fingerprint Spain's operator gave out of band.
    crate::federation_keys::confirm_key(&morocco, "es-node", &report.fingerprint);
    let now = morocco.app().now().millis();
    let trusted = morocco
        .node
        .federation()
        .federation
        .peer("es-node")
        .expect("peer")
        .key_valid_at(&new_key, now)
        .is_some();
    assert!(trusted, "Morocco trusts Spain's new key");
}

#[tokio::test]
async fn a_peer_entry_cannot_claim_this_node_or_its_authorities() {
    let pair = pair(Backend::Sqlite).await;
    let mut impostor = pair.morocco.node.peer_entry().await.expect("entry");
    impostor.node_id = "zz-evil".into();
    impostor.authorities[0].id = "es-ca".into();
    let refused = pair
        .spain
        .node
        .add_peer(impostor.clone())
        .await
        .expect_err("es-ca is hosted here");
    assert!(refused.contains("which this node hosts"), "{refused}");

    let mut same_node = pair.morocco.node.peer_entry().await.expect("entry");
    same_node.node_id = "es-node".into();
    let refused = pair
        .spain
        .node
        .add_peer(same_node)
        .await
        .expect_err("own id");
    assert!(refused.contains("which is this node"), "{refused}");

    // Another peer's authority is not taken over by a second entry either.
    impostor.authorities[0].id = "ma-ca".into();
    let refused = pair
        .spain
        .node
        .add_peer(impostor)
        .await
        .expect_err("ma-ca is hosted by ma-node");
    assert!(refused.contains("hosted by peer ma-node"), "{refused}");

    // Nor through the registry directly: a local authority stays local.
    let es_ca = pair
        .spain
        .app()
        .list_authorities()
        .await
        .expect("authorities")
        .into_iter()
        .find(|record| record.authority.id.as_str() == "es-ca")
        .expect("es-ca");
    assert!(
        pair.spain
            .app()
            .bootstrap()
            .register_authority(es_ca.authority.clone(), "zz-evil")
            .await
            .is_err()
    );
    let after = pair
        .spain
        .app()
        .list_authorities()
        .await
        .expect("authorities");
    let es_ca_after = after
        .iter()
        .find(|record| record.authority.id.as_str() == "es-ca")
        .expect("es-ca");
    assert!(es_ca_after.is_local && es_ca_after.node_id == "es-node");
}

#[tokio::test]
async fn a_type_the_peer_does_not_accept_is_held_back_until_its_entry_lists_it() {
    let Pair {
        spain,
        morocco,
        prosecutor,
        es_officer,
        ma_officer,
    } = pair_with(Backend::Sqlite, |config| {
        config.outbox.max_backoff_ms = 100;
        // A message held back must not age into a dead letter.
        config.outbox.dead_letter_after_secs = 0;
    })
    .await;
    let operator = spain
        .user("root", "es-ca", &["node_operator"])
        .await
        .expect("operator");
    let mut entry = morocco.node.peer_entry().await.expect("entry");
    assert!(
        entry
            .accepts
            .as_ref()
            .is_some_and(|types| types.iter().any(|t| t == request::TYPE_ACTION)),
        "a node's own entry lists what it accepts"
    );
    entry.accepts = Some(vec![request::TYPE_DISPATCHED.into()]);
    spain.node.add_peer(entry.clone()).await.expect("narrowed");

    let id = dispatch(&prosecutor, &es_officer).await;
    ma_officer
        .wait_for_state(&id, "delivered", 15)
        .await
        .expect("the dispatch is accepted and goes out");
    let reply = prosecutor
        .act(&id, "withdraw", Some("no longer needed"))
        .await
        .expect("withdraw");
    assert_eq!(reply.status, 200, "{}", reply.body);

    // Several rechecks later the action is still pending, unsent and not dead.
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    let pending = operator
        .get("/api/v1/outbox?status=pending")
        .await
        .expect("pending");
    let pending = pending.body.as_array().cloned().unwrap_or_default();
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert_eq!(pending[0]["message_type"], request::TYPE_ACTION);
    assert_eq!(
        pending[0]["attempts"], 0,
        "holding back is not a failed attempt"
    );
    let dead = operator
        .get("/api/v1/outbox?status=dead")
        .await
        .expect("dead");
    assert_eq!(dead.body.as_array().map(Vec::len), Some(0));
    let view = ma_officer
        .get(&format!("/api/v1/requests/{id}"))
        .await
        .expect("get");
    assert_eq!(view.text("state"), "delivered", "nothing reached Morocco");

    // Once Morocco's entry lists the type, the action goes out.
    entry.accepts = None;
    spain.node.add_peer(entry).await.expect("widened");
    ma_officer
        .wait_for_state(&id, "withdrawn", 15)
        .await
        .expect("the held action is delivered");
}

#[tokio::test]
async fn an_unknown_message_type_or_another_conversation_is_stored_and_rejected_by_name() {
    let pair = pair(Backend::Sqlite).await;
    let id = dispatch(&pair.prosecutor, &pair.es_officer).await;
    pair.ma_officer
        .wait_for_state(&id, "delivered", 15)
        .await
        .expect("delivered");
    let spain_keys = pair.spain.node.federation().federation.keys();
    let morocco_signing = *pair
        .morocco
        .node
        .federation()
        .federation
        .keys()
        .public_identity()
        .signing_key_bytes();
    let withdraw = serde_json::to_string(&action_body(&id, "withdraw")).expect("json");
    let conversation = format!("request:{id}");
    let rejection = |bytes: Vec<u8>| {
        let morocco = &pair.morocco;
        async move {
            let (status, receipt) = post_envelope(morocco, bytes).await;
            assert_eq!(status, 200);
            match comity_crypto::verify_receipt(&receipt, &morocco_signing)
                .expect("signed receipt")
                .outcome
            {
                ReceiptOutcome::Rejected(reason) => reason,
                other => panic!("expected a rejection, got {other:?}"),
            }
        }
    };

    let unknown = seal_raw(
        &spain_keys,
        "es-node",
        &pair.morocco,
        ("comity.request.action.v9", &conversation, 2),
        &withdraw,
    );
    assert_eq!(
        rejection(unknown).await,
        "unknown message type `comity.request.action.v9`"
    );
    let other_request = uuid::Uuid::now_v7();
    let elsewhere = seal_raw(
        &spain_keys,
        "es-node",
        &pair.morocco,
        (request::TYPE_ACTION, &format!("request:{other_request}"), 1),
        &withdraw,
    );
    let reason = rejection(elsewhere).await;
    assert!(
        reason.contains("is not the envelope's conversation"),
        "{reason}"
    );

    let view = pair
        .ma_officer
        .get(&format!("/api/v1/requests/{id}"))
        .await
        .expect("get");
    assert_eq!(view.text("state"), "delivered", "neither took effect");
}

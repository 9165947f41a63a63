//! Key announcements are proposals: a peer's new key takes effect when an operator here
//! confirms its fingerprint, or at once when the peer's pinned recovery key countersigns
//! it; and the trust list changes live through the peers API.

use comity_crypto::{KeyAnnouncement, NodeKeys};
use comity_domain::AuthorityKind;
use comity_node::federation;
use comity_testkit::{ApiClient, Backend, TestNode, assert_problem};
use serde_json::json;

use crate::federation::{action_body, post_envelope, seal_from};

/// Confirms, as Morocco's operator would after a telephone call, the key `peer` announced
/// with this fingerprint.
pub(crate) fn confirm_key(node: &TestNode, peer: &str, fingerprint: &str) {
    federation::accept_pending_key(node.node.federation(), peer, fingerprint)
        .expect("the operator confirms the fingerprint");
}

/// Spain and Morocco trusting each other, each with a node operator; Spain made a
/// recovery key first (as `comity init` does), so Morocco pins it.
struct Nodes {
    spain: TestNode,
    morocco: TestNode,
    es_operator: ApiClient,
    ma_operator: ApiClient,
    recovery_secret: String,
}

async fn nodes() -> Nodes {
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
    let secret_path = spain.directory.path().join("offline").join("recovery.key");
    comity_node::identity::create_recovery_key(spain.directory.path(), &secret_path)
        .expect("recovery key");
    let recovery_secret = std::fs::read_to_string(&secret_path).expect("secret");
    spain.peer_with(&morocco).await.expect("trust");
    let es_operator = spain
        .user("es-op", "es-ca", &["node_operator"])
        .await
        .expect("operator");
    let ma_operator = morocco
        .user("ma-op", "ma-ca", &["node_operator"])
        .await
        .expect("operator");
    Nodes {
        spain,
        morocco,
        es_operator,
        ma_operator,
        recovery_secret,
    }
}

fn trusts(node: &TestNode, peer: &str, key_id: &str) -> bool {
    let now = node.app().now().millis();
    node.node
        .federation()
        .federation
        .peer(peer)
        .and_then(|peer| peer.key_valid_at(key_id, now).cloned())
        .is_some()
}

/// Posts a key announcement, with a recovery countersignature when given.
async fn post_announcement(
    node: &TestNode,
    announcement: Vec<u8>,
    recovery: Option<Vec<u8>>,
) -> u16 {
    use base64::Engine;
    let mut request = reqwest::Client::new()
        .post(format!("{}/federation/v1/keys", node.url()))
        .header("content-type", comity_crypto::KEY_ANNOUNCEMENT_CONTENT_TYPE)
        .body(announcement);
    if let Some(signature) = recovery {
        request = request.header(
            federation::transport::RECOVERY_SIGNATURE_HEADER,
            base64::engine::general_purpose::STANDARD.encode(signature),
        );
    }
    request.send().await.expect("post").status().as_u16()
}

/// An envelope from Spain signed by `keys`, as Morocco answers it.
async fn envelope_status(nodes: &Nodes, keys: &NodeKeys) -> u16 {
    let conversation = uuid::Uuid::now_v7().to_string();
    let envelope = seal_from(
        keys,
        "es-node",
        &nodes.morocco,
        &conversation,
        1,
        &action_body(&conversation, "withdraw"),
    );
    post_envelope(&nodes.morocco, envelope).await.0
}

#[tokio::test]
async fn an_announced_key_takes_effect_only_once_an_operator_confirms_its_fingerprint() {
    let nodes = nodes().await;
    let old_keys = nodes.spain.node.federation().federation.keys();
    let rotated = nodes
        .es_operator
        .post("/api/v1/node/keys/rotate", &json!({}))
        .await
        .expect("rotate");
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    assert_eq!(rotated.body["announced_to"], json!(["ma-node"]));
    assert_eq!(rotated.body["awaiting_confirmation"], json!(["ma-node"]));
    let new_key = rotated.text("key_id");
    let fingerprint = rotated.text("fingerprint");
    let new_keys = nodes.spain.node.federation().federation.keys();
    assert_eq!(new_keys.key_id(), new_key);

    // Until confirmed, Morocco trusts the old key only, and refuses the new one.
    assert!(!trusts(&nodes.morocco, "es-node", &new_key));
    assert!(trusts(&nodes.morocco, "es-node", old_keys.key_id()));
    assert_eq!(envelope_status(&nodes, &new_keys).await, 403);
    let pending = nodes
        .ma_operator
        .get("/api/v1/peers/pending-keys")
        .await
        .expect("pending");
    assert_eq!(pending.status, 200, "{}", pending.body);
    assert_eq!(pending.body[0]["node_id"], "es-node", "{}", pending.body);
    assert_eq!(pending.body[0]["key_id"], new_key.as_str());
    assert_eq!(pending.body[0]["fingerprint"], fingerprint.as_str());
    // Announcing again keeps one pending key, not two.
    let again = nodes
        .es_operator
        .post("/api/v1/node/keys/announce", &json!({}))
        .await
        .expect("announce");
    assert_eq!(again.body["awaiting_confirmation"], json!(["ma-node"]));
    let pending = nodes
        .ma_operator
        .get("/api/v1/peers/pending-keys")
        .await
        .expect("pending");
    assert_eq!(
        pending.body.as_array().map(Vec::len),
        Some(1),
        "{}",
        pending.body
    );

    // A wrong fingerprint (another key's) is refused and changes nothing; so is garbage.
    let other = NodeKeys::generate(&mut rand::rngs::OsRng);
    let wrong = comity_node::identity::key_fingerprint(&other.public_identity());
    let accept = |fingerprint: String| {
        let operator = nodes.ma_operator.clone();
        async move {
            operator
                .post(
                    "/api/v1/peers/es-node/keys/accept",
                    &json!({"fingerprint": fingerprint}),
                )
                .await
                .expect("accept")
        }
    };
    assert_problem(&accept(wrong).await, 422, Some("fingerprint"));
    assert_problem(
        &accept("not a fingerprint".into()).await,
        422,
        Some("fingerprint"),
    );
    assert!(!trusts(&nodes.morocco, "es-node", &new_key));
    assert_eq!(envelope_status(&nodes, &new_keys).await, 403);
    let nobody = nodes
        .ma_operator
        .post(
            "/api/v1/peers/zz-node/keys/accept",
            &json!({"fingerprint": fingerprint}),
        )
        .await
        .expect("accept");
    assert_problem(&nobody, 404, None);
    // Only node operators confirm keys.
    let officer = nodes
        .morocco
        .user("karim", "ma-ca", &["central_authority_officer"])
        .await
        .expect("officer");
    let refused = officer
        .post(
            "/api/v1/peers/es-node/keys/accept",
            &json!({"fingerprint": fingerprint}),
        )
        .await
        .expect("accept");
    assert_problem(&refused, 403, None);
    assert!(!trusts(&nodes.morocco, "es-node", &new_key));

    // The right fingerprint, as typed (upper case, without separators), takes effect.
    let typed = fingerprint.replace(':', "").to_uppercase();
    let accepted = accept(typed).await;
    assert_eq!(accepted.status, 200, "{}", accepted.body);
    assert!(trusts(&nodes.morocco, "es-node", &new_key));
    assert!(!trusts(&nodes.morocco, "es-node", old_keys.key_id()));
    assert_eq!(envelope_status(&nodes, &new_keys).await, 200);
    assert_eq!(envelope_status(&nodes, &old_keys).await, 403);
    let pending = nodes
        .ma_operator
        .get("/api/v1/peers/pending-keys")
        .await
        .expect("pending");
    assert_eq!(pending.body, json!([]));
    // And a repeat of the announcement is now a duplicate.
    let again = nodes
        .es_operator
        .post("/api/v1/node/keys/announce", &json!({}))
        .await
        .expect("announce");
    assert_eq!(
        again.body["announced_to"],
        json!(["ma-node"]),
        "{}",
        again.body
    );
    assert_eq!(
        again.body["awaiting_confirmation"],
        json!([]),
        "{}",
        again.body
    );
}

#[tokio::test]
async fn pending_keys_survive_a_restart_in_an_owner_only_file() {
    let nodes = nodes().await;
    let report = federation::rotate_keys(nodes.spain.node.federation())
        .await
        .expect("rotate");
    assert_eq!(report.awaiting_confirmation, vec!["ma-node".to_string()]);
    let Nodes { spain, morocco, .. } = nodes;
    let pending_file = morocco
        .directory
        .path()
        .join(comity_node::identity::PENDING_KEYS_FILE);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&pending_file)
            .expect("pending keys file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "owner-only ({mode:o})");
    }
    let morocco = morocco.kill().restart().await.expect("morocco back");
    let state = morocco.node.federation();
    let (_, pending) = federation::trust_snapshot(&state.federation);
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert_eq!(pending[0].key_id, report.key_id);
    assert_eq!(pending[0].fingerprint, report.fingerprint);
    assert!(!trusts(&morocco, "es-node", &report.key_id));
    confirm_key(&morocco, "es-node", &report.fingerprint);
    assert!(trusts(&morocco, "es-node", &report.key_id));
    // Confirmed keys stay confirmed, and are no longer pending, after another restart.
    let morocco = morocco.kill().restart().await.expect("morocco again");
    assert!(trusts(&morocco, "es-node", &report.key_id));
    let (_, pending) = federation::trust_snapshot(&morocco.node.federation().federation);
    assert!(pending.is_empty(), "{pending:?}");
    drop(spain);
}

#[tokio::test]
async fn announcements_dated_far_from_now_are_refused() {
    let nodes = nodes().await;
    let keys = nodes.spain.node.federation().federation.keys();
    let now = nodes.morocco.app().now().millis();
    for valid_from_ms in [now + 60 * 60 * 1000, now - 60 * 60 * 1000, i64::MAX] {
        let usurper = NodeKeys::generate(&mut rand::rngs::OsRng);
        let announcement = KeyAnnouncement {
            node_id: "es-node".into(),
            new_keys: usurper.public_identity(),
            valid_from_ms,
            valid_until_ms: None,
        }
        .sign(&keys)
        .expect("sign");
        assert_eq!(
            post_announcement(&nodes.morocco, announcement, None).await,
            400
        );
    }
    let (_, pending) = federation::trust_snapshot(&nodes.morocco.node.federation().federation);
    assert!(pending.is_empty(), "{pending:?}");
    // Within the window it is kept for confirmation.
    let usurper = NodeKeys::generate(&mut rand::rngs::OsRng);
    let announcement = KeyAnnouncement {
        node_id: "es-node".into(),
        new_keys: usurper.public_identity(),
        valid_from_ms: now + 60 * 1000,
        valid_until_ms: None,
    }
    .sign(&keys)
    .expect("sign");
    assert_eq!(
        post_announcement(&nodes.morocco, announcement, None).await,
        202
    );
    assert!(!trusts(&nodes.morocco, "es-node", usurper.key_id()));
}

#[tokio::test]
async fn a_node_whose_key_leaked_recovers_with_its_recovery_key() {
    let nodes = nodes().await;
    let leaked = nodes.spain.node.federation().federation.keys();
    let now = nodes.morocco.app().now().millis();

    // Whoever holds the leaked key announces their own: it only waits for confirmation.
    let attacker = NodeKeys::generate(&mut rand::rngs::OsRng);
    let hostile = KeyAnnouncement {
        node_id: "es-node".into(),
        new_keys: attacker.public_identity(),
        valid_from_ms: now,
        valid_until_ms: None,
    };
    let signed = hostile.sign(&leaked).expect("sign");
    assert_eq!(
        post_announcement(&nodes.morocco, signed.clone(), None).await,
        202
    );
    assert!(!trusts(&nodes.morocco, "es-node", attacker.key_id()));
    // Countersigning with anything but Spain's recovery key is refused.
    let forged_recovery = hostile.sign(&attacker).expect("sign");
    assert_eq!(
        post_announcement(&nodes.morocco, signed, Some(forged_recovery)).await,
        403
    );
    assert!(!trusts(&nodes.morocco, "es-node", attacker.key_id()));

    // Another key is not Spain's recovery key: refused, nothing rotated.
    let wrong = NodeKeys::generate(&mut rand::rngs::OsRng);
    let refused = nodes
        .es_operator
        .post(
            "/api/v1/node/keys/recover",
            &json!({"recovery_key": wrong.to_secret_text().as_str()}),
        )
        .await
        .expect("recover");
    assert_problem(&refused, 422, Some("recovery_key"));
    assert_eq!(
        nodes.spain.node.federation().federation.keys().key_id(),
        leaked.key_id()
    );

    // Spain's operator recovers with the recovery key: Morocco applies it at once.
    let recovered = nodes
        .es_operator
        .post(
            "/api/v1/node/keys/recover",
            &json!({"recovery_key": nodes.recovery_secret}),
        )
        .await
        .expect("recover");
    assert_eq!(recovered.status, 200, "{}", recovered.body);
    assert_eq!(recovered.body["announced_to"], json!(["ma-node"]));
    assert_eq!(recovered.body["awaiting_confirmation"], json!([]));
    let new_key = recovered.text("key_id");
    assert!(trusts(&nodes.morocco, "es-node", &new_key));
    assert!(!trusts(&nodes.morocco, "es-node", leaked.key_id()));
    let new_keys = nodes.spain.node.federation().federation.keys();
    assert_eq!(envelope_status(&nodes, &new_keys).await, 200);
    assert_eq!(envelope_status(&nodes, &leaked).await, 403);
    // The attacker's proposal is gone, and the leaked key can propose nothing more.
    let (_, pending) = federation::trust_snapshot(&nodes.morocco.node.federation().federation);
    assert!(pending.is_empty(), "{pending:?}");
    let late = KeyAnnouncement {
        node_id: "es-node".into(),
        new_keys: attacker.public_identity(),
        valid_from_ms: nodes.morocco.app().now().millis(),
        valid_until_ms: None,
    }
    .sign(&leaked)
    .expect("sign");
    assert_eq!(post_announcement(&nodes.morocco, late, None).await, 403);
    // Sending the recovery announcement again is a harmless duplicate.
    let again = nodes
        .es_operator
        .post("/api/v1/node/keys/announce", &json!({}))
        .await
        .expect("announce");
    assert_eq!(
        again.body["announced_to"],
        json!(["ma-node"]),
        "{}",
        again.body
    );
}

#[tokio::test]
async fn the_peers_api_adds_updates_and_removes_peers_live() {
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
    let operator = spain
        .user("es-op", "es-ca", &["node_operator"])
        .await
        .expect("operator");
    let officer = spain
        .user("ana", "es-ca", &["central_authority_officer"])
        .await
        .expect("officer");
    // Morocco trusts Spain already (so that it hears Spain's announcements).
    morocco
        .node
        .add_peer(spain.node.peer_entry().await.expect("entry"))
        .await
        .expect("trust spain");
    let morocco_keys = morocco.node.federation().federation.keys();
    let from_morocco = || {
        let conversation = uuid::Uuid::now_v7().to_string();
        seal_from(
            &morocco_keys,
            "ma-node",
            &spain,
            &conversation,
            1,
            &action_body(&conversation, "withdraw"),
        )
    };
    assert_eq!(post_envelope(&spain, from_morocco()).await.0, 403);

    let entry =
        serde_json::to_value(morocco.node.peer_entry().await.expect("entry")).expect("json");
    assert_problem(
        &officer
            .post("/api/v1/peers", &json!({"entry": entry}))
            .await
            .expect("post"),
        403,
        None,
    );
    let mut claims_spain = entry.clone();
    claims_spain["authorities"][0]["id"] = json!("es-ca");
    assert_problem(
        &operator
            .post("/api/v1/peers", &json!({"entry": claims_spain}))
            .await
            .expect("post"),
        422,
        Some("entry"),
    );
    let mut bad_url = entry.clone();
    bad_url["endpoint"] = json!("ftp://127.0.0.1/");
    assert_problem(
        &operator
            .post("/api/v1/peers", &json!({"entry": bad_url}))
            .await
            .expect("post"),
        422,
        Some("endpoint"),
    );
    let unknown_field = operator
        .post("/api/v1/peers", &json!({"entry": entry, "trust_me": true}))
        .await
        .expect("post");
    assert_eq!(unknown_field.content_type, "application/problem+json");
    assert!(unknown_field.status >= 400 && unknown_field.status < 500);
    assert_eq!(
        operator.get("/api/v1/peers").await.expect("list").body,
        json!([]),
        "nothing was added"
    );

    // Added: trusted at once, without a restart.
    let added = operator
        .post("/api/v1/peers", &json!({"entry": entry}))
        .await
        .expect("post");
    assert_eq!(added.status, 201, "{}", added.body);
    assert_eq!(post_envelope(&spain, from_morocco()).await.0, 200);
    let listed = operator.get("/api/v1/peers").await.expect("list");
    assert_eq!(listed.body[0]["node_id"], "ma-node", "{}", listed.body);
    assert_eq!(
        listed.body[0]["keys"][0]["fingerprint"],
        json!(comity_node::identity::key_fingerprint(
            &morocco_keys.public_identity()
        ))
    );
    assert!(
        std::fs::read_to_string(spain.directory.path().join("trust.toml"))
            .expect("trust.toml")
            .contains("ma-node"),
        "saved"
    );

    // The endpoint changes at once: a dead address fails, the real one works again.
    let dead = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let address = listener.local_addr().expect("address");
        drop(listener);
        format!("http://{address}")
    };
    let patch = |endpoint: String| {
        let operator = operator.clone();
        async move {
            operator
                .send(
                    reqwest::Method::PATCH,
                    "/api/v1/peers/ma-node",
                    Some(&json!({"endpoint": endpoint})),
                )
                .await
                .expect("patch")
        }
    };
    assert_problem(&patch("not a url".into()).await, 422, Some("endpoint"));
    let moved = patch(dead.clone()).await;
    assert_eq!(moved.status, 200, "{}", moved.body);
    assert_eq!(moved.body["endpoint"], dead.as_str());
    federation::rotate_keys(spain.node.federation())
        .await
        .expect("rotate");
    let report = federation::announce(spain.node.federation()).await;
    assert_eq!(report.failed.len(), 1, "{report:?}");
    assert_eq!(patch(morocco.url()).await.status, 200);
    let report = federation::announce(spain.node.federation()).await;
    assert_eq!(
        report.announced_to,
        vec!["ma-node".to_string()],
        "{report:?}"
    );
    let missing = operator
        .send(
            reqwest::Method::PATCH,
            "/api/v1/peers/zz-node",
            Some(&json!({"endpoint": morocco.url()})),
        )
        .await
        .expect("patch");
    assert_problem(&missing, 404, None);

    // Removed: refused at once, and gone from trust.toml.
    let removed = operator
        .send(reqwest::Method::DELETE, "/api/v1/peers/ma-node", None)
        .await
        .expect("delete");
    assert_eq!(removed.status, 204, "{}", removed.body);
    assert_eq!(post_envelope(&spain, from_morocco()).await.0, 403);
    assert!(
        !std::fs::read_to_string(spain.directory.path().join("trust.toml"))
            .expect("trust.toml")
            .contains("ma-node")
    );
    let again = operator
        .send(reqwest::Method::DELETE, "/api/v1/peers/ma-node", None)
        .await
        .expect("delete");
    assert_problem(&again, 404, None);
}

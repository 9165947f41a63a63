//! A sender restored from a backup reuses sequence numbers its peer has consumed (D1):
//! the rejection is never counted as delivered, operators are alerted, the request shows
//! it is out of step, and a resynchronisation between the two real nodes brings both
//! copies to the same state and history.

use comity_domain::AuthorityKind;
use comity_testkit::{ApiClient, Backend, StoppedNode, TEST_PASSWORD, TestNode, sample_draft};
use serde_json::{Value, json};

/// Spain (the sender that will be restored) and Morocco, trusting each other.
struct Pair {
    spain: TestNode,
    morocco: TestNode,
    prosecutor: ApiClient,
    es_officer: ApiClient,
    ma_officer: ApiClient,
}

async fn pair(resync_on_rejection: bool) -> Pair {
    pair_on(Backend::Sqlite, resync_on_rejection).await
}

async fn pair_on(backend: Backend, resync_on_rejection: bool) -> Pair {
    let spain = TestNode::spawn_with(
        "es-node",
        backend,
        |config| config.federation.resync_on_rejection = resync_on_rejection,
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
        .user(
            "ana",
            "es-ca",
            &["central_authority_officer", "node_operator"],
        )
        .await
        .expect("user");
    let ma_officer = morocco
        .user(
            "karim",
            "ma-ca",
            &[
                "central_authority_officer",
                "executing_officer",
                "node_operator",
            ],
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

async fn act(client: &ApiClient, id: &str, action: &str) {
    let reply = client
        .act(id, action, Some("per the treaty"))
        .await
        .expect("act");
    assert_eq!(reply.status, 200, "{action}: {}", reply.body);
}

/// Drafts, approves and dispatches a request, and waits until both copies are delivered.
async fn dispatched(pair: &Pair) -> String {
    let case = pair
        .prosecutor
        .post(
            "/api/v1/cases",
            &json!({"reference": "DP 9/2026", "title": "Strait"}),
        )
        .await
        .expect("case");
    let draft = pair
        .prosecutor
        .post(
            &format!("/api/v1/cases/{}/requests", case.text("id")),
            &sample_draft("es-ca", "ma-ca"),
        )
        .await
        .expect("draft");
    assert_eq!(draft.status, 201, "{}", draft.body);
    let id = draft.text("id");
    act(&pair.prosecutor, &id, "submit_for_approval").await;
    act(&pair.es_officer, &id, "approve").await;
    act(&pair.es_officer, &id, "dispatch").await;
    pair.prosecutor
        .wait_for_state(&id, "delivered", 15)
        .await
        .expect("receipt");
    pair.ma_officer
        .wait_for_state(&id, "delivered", 15)
        .await
        .expect("arrived");
    id
}

/// Puts the backup in place of a stopped node's database, as an operator restoring it
/// would.
fn restore(stopped: &mut StoppedNode, backup: &std::path::Path) {
    let database = stopped.directory.path().join("restored.db");
    std::fs::copy(backup, &database).expect("restore the backup");
    stopped.config.database_url = Some(comity_store::Store::sqlite_url(&database));
}

/// The shared part of a request's history: what happened from the dispatch on, as
/// (action, state after) pairs, without the requesting side's own delivery record.
fn shared_history(view: &Value) -> Vec<(String, String)> {
    let history = view["history"].as_array().cloned().unwrap_or_default();
    let start = history
        .iter()
        .position(|entry| entry["action"] == "dispatch")
        .map_or(history.len(), |index| index + 1);
    history[start..]
        .iter()
        .filter(|entry| entry["action"] != "record_delivery")
        .map(|entry| {
            (
                entry["action"].as_str().unwrap_or_default().to_string(),
                entry["to"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// A page as the client's user sees it (status 200), as text.
async fn html(client: &ApiClient, path: &str) -> String {
    let response = reqwest::Client::new()
        .get(format!("{}{path}", client.base))
        .bearer_auth(&client.token)
        .send()
        .await
        .expect("page");
    assert_eq!(response.status().as_u16(), 200, "{path}");
    response.text().await.expect("text")
}

/// Waits until the request is in `state` on both nodes and neither copy is out of step.
async fn both_settle(
    spain: &ApiClient,
    morocco: &ApiClient,
    id: &str,
    state: &str,
) -> (Value, Value) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let es = spain
            .get(&format!("/api/v1/requests/{id}"))
            .await
            .expect("get");
        let ma = morocco
            .get(&format!("/api/v1/requests/{id}"))
            .await
            .expect("get");
        if es.text("state") == state
            && ma.text("state") == state
            && es.body.get("out_of_step").is_none()
            && ma.body.get("out_of_step").is_none()
        {
            return (es.body, ma.body);
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the copies did not settle in {state}: spain {} / morocco {}",
            es.body,
            ma.body
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Backs Spain up once the request is delivered, lets both sides act (Spain's own
/// answer takes sequence 2), restores the backup and logs in again. Returns the
/// restored Spain and its clients.
async fn restored_spain(
    pair: Pair,
    id: &str,
    resync_at_start: bool,
) -> (TestNode, TestNode, ApiClient, ApiClient, ApiClient) {
    let backup_dir = tempfile::tempdir().expect("tempdir");
    let backup = backup_dir.path().join("spain.db");
    pair.spain
        .app()
        .store()
        .backup_sqlite_to(&backup)
        .await
        .expect("VACUUM INTO");
    for action in [
        "acknowledge",
        "start_assessment",
        "request_additional_information",
    ] {
        act(&pair.ma_officer, id, action).await;
    }
    pair.prosecutor
        .wait_for_state(id, "additional_information_requested", 15)
        .await
        .expect("spain in step");
    act(&pair.prosecutor, id, "provide_additional_information").await;
    pair.ma_officer
        .wait_for_state(id, "additional_information_provided", 15)
        .await
        .expect("morocco in step");

    // The operator stops the node and restores the backup.
    let TestNode {
        node,
        directory,
        config,
    } = pair.spain;
    node.stop().await;
    let mut stopped = StoppedNode { directory, config };
    restore(&mut stopped, &backup);
    if resync_at_start {
        // What `comity node restore` records in the restored database.
        let url = stopped.config.database_url().expect("database");
        let store = comity_store::Store::open(&url).await.expect("open");
        let app = comity_app::App::new(
            store,
            "es-node",
            std::sync::Arc::new(comity_app::SystemClock),
        )
        .expect("app");
        app.mark_restore_pending().await.expect("mark");
        app.store().close().await;
    }
    let spain = stopped.restart().await.expect("restart from the backup");
    let prosecutor = ApiClient::login(&spain.url(), "fiscal", TEST_PASSWORD)
        .await
        .expect("login");
    let operator = ApiClient::login(&spain.url(), "ana", TEST_PASSWORD)
        .await
        .expect("login");
    if !resync_at_start {
        let restored = prosecutor
            .get(&format!("/api/v1/requests/{id}"))
            .await
            .expect("get");
        assert_eq!(restored.text("state"), "delivered", "the backup's state");
    }
    (spain, pair.morocco, prosecutor, operator, pair.ma_officer)
}

#[tokio::test]
async fn a_rejected_receipt_after_a_restore_is_an_alert_and_resync_reunites_the_copies() {
    let pair = pair(false).await;
    let id = dispatched(&pair).await;
    let (spain, morocco, prosecutor, operator, ma_officer) = restored_spain(pair, &id, false).await;

    // The restored sender's next action reuses sequence 2, which Morocco consumed.
    act(&prosecutor, &id, "withdraw").await;
    let mut rejected = Vec::new();
    for _ in 0..300 {
        let reply = operator
            .get("/api/v1/federation/outbox?status=rejected")
            .await
            .expect("outbox");
        assert_eq!(reply.status, 200, "{}", reply.body);
        rejected = reply.body["items"].as_array().cloned().unwrap_or_default();
        if !rejected.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!(
        rejected.len(),
        1,
        "the rejection is not counted as delivered"
    );
    assert_eq!(rejected[0]["sequence"], 2);
    assert_eq!(rejected[0]["receipt_outcome"], "rejected");
    assert!(
        rejected[0]["rejection_reason"]
            .as_str()
            .unwrap_or_default()
            .contains("sequence 2 already consumed"),
        "{}",
        rejected[0]
    );
    let delivered = operator
        .get("/api/v1/federation/outbox?status=delivered")
        .await
        .expect("outbox");
    assert!(
        delivered.body["items"]
            .as_array()
            .is_some_and(|items| items.iter().all(|item| item["sequence"] != 2)),
        "{}",
        delivered.body
    );
    let alerts = operator.get("/api/v1/alerts").await.expect("alerts");
    assert_eq!(alerts.status, 200, "{}", alerts.body);
    assert!(
        alerts.body["items"].as_array().is_some_and(|items| items
            .iter()
            .any(|alert| alert["kind"] == "message_rejected"
                && alert["conversation_id"] == format!("request:{id}"))),
        "{}",
        alerts.body
    );
    let view = prosecutor
        .get(&format!("/api/v1/requests/{id}"))
        .await
        .expect("get");
    assert!(
        view.text("out_of_step")
            .contains("out of step with the other side"),
        "{}",
        view.body
    );
    // The same, as pages: the operator's outbox and alerts, and the request page.
    let outbox_page = html(&operator, "/operator/outbox?status=rejected").await;
    assert!(
        outbox_page.contains("sequence 2 already consumed"),
        "{outbox_page}"
    );
    let alerts_page = html(&operator, "/operator/alerts").await;
    assert!(alerts_page.contains("message_rejected"), "{alerts_page}");
    let request_page = html(&prosecutor, &format!("/requests/{id}")).await;
    assert!(
        request_page.contains("Out of step with the other side."),
        "{request_page}"
    );
    // Morocco keeps the refused message in its inbox, rejected with the reason.
    let inbox = ma_officer
        .get("/api/v1/federation/inbox?status=rejected")
        .await
        .expect("inbox");
    assert_eq!(inbox.status, 200, "{}", inbox.body);
    assert_eq!(
        inbox.body["items"].as_array().map(Vec::len),
        Some(1),
        "{}",
        inbox.body
    );
    assert!(
        inbox.body["items"][0]["outcome"]
            .as_str()
            .unwrap_or_default()
            .contains("already consumed"),
        "{}",
        inbox.body
    );
    let inbox_page = html(&ma_officer, "/operator/inbox?status=rejected").await;
    assert!(inbox_page.contains("already consumed"), "{inbox_page}");
    // Only operators read these views.
    assert_eq!(
        prosecutor.get("/api/v1/alerts").await.expect("get").status,
        403
    );

    // The operator asks for a resynchronisation with Morocco.
    let report = operator
        .post("/api/v1/federation/resync", &json!({"peer": "ma-node"}))
        .await
        .expect("resync");
    assert_eq!(report.status, 200, "{}", report.body);
    let conversation = &report.body["peers"][0]["conversations"][0];
    assert_eq!(conversation["outcome"], "caught_up", "{}", report.body);
    assert_eq!(conversation["replayed_from_peer"], 3, "{}", report.body);
    assert_eq!(conversation["restored_own"], 1, "{}", report.body);
    assert_eq!(conversation["reissued"], 1, "{}", report.body);

    let (es, ma) = both_settle(&prosecutor, &ma_officer, &id, "withdrawn").await;
    assert!(
        !html(&prosecutor, &format!("/requests/{id}"))
            .await
            .contains("Out of step")
    );
    assert_eq!(shared_history(&es), shared_history(&ma));
    assert_eq!(
        shared_history(&es)
            .iter()
            .map(|(action, _)| action.as_str())
            .collect::<Vec<_>>(),
        [
            "acknowledge",
            "start_assessment",
            "request_additional_information",
            "provide_additional_information",
            "withdraw"
        ]
    );
    // A second resynchronisation finds nothing to do.
    let again =
        comity_node::federation::resync::resync_with_peer(spain.node.federation(), "ma-node", None)
            .await
            .expect("resync");
    assert!(
        again
            .conversations
            .iter()
            .all(|conversation| conversation.outcome == "in_step"),
        "{again:?}"
    );
    drop(morocco);
}

#[tokio::test]
async fn the_rejection_itself_starts_the_resynchronisation() {
    let pair = pair(true).await;
    let id = dispatched(&pair).await;
    let (_spain, _morocco, prosecutor, operator, ma_officer) =
        restored_spain(pair, &id, false).await;
    act(&prosecutor, &id, "withdraw").await;
    let (es, ma) = both_settle(&prosecutor, &ma_officer, &id, "withdrawn").await;
    assert_eq!(shared_history(&es), shared_history(&ma));
    let alerts = operator.get("/api/v1/alerts").await.expect("alerts");
    let kinds: Vec<&str> = alerts.body["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|alert| alert["kind"].as_str())
                .collect()
        })
        .unwrap_or_default();
    assert!(kinds.contains(&"message_rejected"), "{kinds:?}");
    assert!(kinds.contains(&"resync_replayed"), "{kinds:?}");
}

#[tokio::test]
async fn a_node_restored_from_a_backup_resynchronises_every_conversation_at_start() {
    let pair = pair(true).await;
    let id = dispatched(&pair).await;
    let (spain, _morocco, prosecutor, operator, ma_officer) = restored_spain(pair, &id, true).await;
    // Without anyone acting, the restored copy catches up with what it lost.
    let (es, ma) = both_settle(
        &prosecutor,
        &ma_officer,
        &id,
        "additional_information_provided",
    )
    .await;
    assert_eq!(shared_history(&es), shared_history(&ma));
    assert_eq!(shared_history(&es).len(), 4, "{es}");
    // The report of what was replayed is an alert, and the flag is cleared.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let alerts = operator.get("/api/v1/alerts").await.expect("alerts");
        let report = alerts.body["items"].as_array().and_then(|items| {
            items
                .iter()
                .find(|alert| {
                    alert["message"]
                        .as_str()
                        .unwrap_or_default()
                        .contains("after a restore")
                })
                .cloned()
        });
        if let Some(report) = report {
            assert!(
                report["message"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("ma-node: 1 conversations compared, 4 messages replayed"),
                "{report}"
            );
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{}", alerts.body);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(!spain.app().restore_pending().await.expect("flag"));
    // The next action takes the next free sequence number and is accepted.
    act(&prosecutor, &id, "withdraw").await;
    let (es, ma) = both_settle(&prosecutor, &ma_officer, &id, "withdrawn").await;
    assert_eq!(shared_history(&es), shared_history(&ma));
}

#[tokio::test]
async fn a_conflict_is_shown_to_both_operators_and_the_request_stays_out_of_step() {
    let pair = pair(false).await;
    let id = dispatched(&pair).await;
    let (spain, _morocco, prosecutor, operator, ma_officer) =
        restored_spain(pair, &id, false).await;
    act(&prosecutor, &id, "withdraw").await;
    let mut rejected = Vec::new();
    for _ in 0..300 {
        let reply = operator
            .get("/api/v1/federation/outbox?status=rejected")
            .await
            .expect("outbox");
        rejected = reply.body["items"].as_array().cloned().unwrap_or_default();
        if !rejected.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let message_id = rejected
        .first()
        .and_then(|entry| entry["message_id"].as_str())
        .expect("a rejected message")
        .to_string();
    // What a node built before this change did: it counted the refusal as delivery.
    // Now both copies claim a different message at sequence 2.
    let mut tx = spain.app().store().begin().await.expect("tx");
    tx.mark_delivered(&message_id, "counted as delivered", spain.app().now())
        .await
        .expect("mark");
    tx.commit().await.expect("commit");

    let report = operator
        .post("/api/v1/federation/resync", &json!({"peer": "ma-node"}))
        .await
        .expect("resync");
    assert_eq!(report.status, 200, "{}", report.body);
    assert_eq!(
        report.body["peers"][0]["conversations"][0]["outcome"], "conflict",
        "{}",
        report.body
    );
    for (client, side) in [(&operator, "spain"), (&ma_officer, "morocco")] {
        let alerts = client.get("/api/v1/alerts").await.expect("alerts");
        assert!(
            alerts.body["items"].as_array().is_some_and(|items| items
                .iter()
                .any(|alert| alert["kind"] == "resync_conflict"
                    && alert["conversation_id"] == format!("request:{id}"))),
            "{side}: {}",
            alerts.body
        );
    }
    let es = prosecutor
        .get(&format!("/api/v1/requests/{id}"))
        .await
        .expect("get");
    let ma = ma_officer
        .get(&format!("/api/v1/requests/{id}"))
        .await
        .expect("get");
    assert!(es.text("out_of_step").contains("conflict"), "{}", es.body);
    assert!(ma.text("out_of_step").contains("conflict"), "{}", ma.body);
    // Nothing was replayed into either copy.
    assert_eq!(es.text("state"), "withdrawn");
    assert_eq!(ma.text("state"), "additional_information_provided");
}

#[tokio::test]
async fn copies_in_step_resynchronise_to_nothing_on_every_backend() {
    for backend in comity_testkit::backends() {
        let pair = pair_on(backend, true).await;
        let id = dispatched(&pair).await;
        act(&pair.ma_officer, &id, "acknowledge").await;
        pair.prosecutor
            .wait_for_state(&id, "registered", 15)
            .await
            .expect("in step");
        for (client, peer) in [(&pair.es_officer, "ma-node"), (&pair.ma_officer, "es-node")] {
            let report = client
                .post("/api/v1/federation/resync", &json!({"peer": peer}))
                .await
                .expect("resync");
            assert_eq!(report.status, 200, "{backend:?}: {}", report.body);
            assert_eq!(
                report.body["peers"][0]["conversations"][0]["outcome"], "in_step",
                "{backend:?}: {}",
                report.body
            );
        }
        let all = pair
            .es_officer
            .post("/api/v1/federation/resync", &json!({}))
            .await
            .expect("resync");
        assert_eq!(all.body["peers"][0]["peer"], "ma-node", "{}", all.body);
        for path in [
            "/api/v1/alerts?all=true&page=1&per_page=10",
            "/api/v1/federation/outbox?status=delivered",
            "/api/v1/federation/inbox?status=applied&page=1",
            "/api/v1/federation/out-of-step",
        ] {
            let reply = pair.es_officer.get(path).await.expect("get");
            assert_eq!(reply.status, 200, "{backend:?} {path}: {}", reply.body);
        }
        let delivered = pair
            .es_officer
            .get("/api/v1/federation/outbox?status=delivered")
            .await
            .expect("outbox");
        assert_eq!(
            delivered.body["items"][0]["receipt_outcome"], "accepted",
            "{}",
            delivered.body
        );
        // Bad filters and pages are refused, naming the field: a status outside the
        // schema's list cannot be read as a query (400), a page out of range can (422).
        for (path, status, field) in [
            ("/api/v1/federation/outbox?status=lost", 400, "status"),
            ("/api/v1/federation/inbox?status=lost", 400, "status"),
            ("/api/v1/federation/inbox?page=0", 422, "page"),
            ("/api/v1/federation/inbox?page=1000001", 422, "page"),
            ("/api/v1/alerts?per_page=1000", 422, "per_page"),
        ] {
            let reply = pair.es_officer.get(path).await.expect("get");
            comity_testkit::assert_problem(&reply, status, Some(field));
        }
        let unknown = pair
            .es_officer
            .post("/api/v1/federation/resync", &json!({"peer": "xx-node"}))
            .await
            .expect("resync");
        comity_testkit::assert_problem(&unknown, 404, None);
    }
}

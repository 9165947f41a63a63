//! The REST API against a real node on a random port, on SQLite and on PostgreSQL.

use std::sync::Arc;

use comity_app::SystemClock;
use comity_testkit::{ApiClient, Backend, TestNode, assert_problem, backends, sample_draft};
use serde_json::{Value, json};

/// A node hosting a Spanish and a Moroccan central authority, with users on both sides.
struct OneNode {
    node: TestNode,
    prosecutor: ApiClient,
    es_officer: ApiClient,
    ma_officer: ApiClient,
    ma_executor: ApiClient,
}

async fn one_node(backend: Backend) -> OneNode {
    let node = TestNode::spawn_spain_and_morocco("node-one", backend, Arc::new(SystemClock))
        .await
        .expect("node starts");
    let prosecutor = node
        .user("fiscal", "es-ca", &["requesting_prosecutor"])
        .await
        .expect("user");
    let es_officer = node
        .user("ana", "es-ca", &["central_authority_officer"])
        .await
        .expect("user");
    let ma_officer = node
        .user("karim", "ma-ca", &["central_authority_officer"])
        .await
        .expect("user");
    let ma_executor = node
        .user("salma", "ma-ca", &["executing_officer"])
        .await
        .expect("user");
    OneNode {
        node,
        prosecutor,
        es_officer,
        ma_officer,
        ma_executor,
    }
}

async fn new_case(client: &ApiClient) -> String {
    let reply = client
        .post(
            "/api/v1/cases",
            &json!({"reference": "DP 12/2026", "title": "Estrecho ring"}),
        )
        .await
        .expect("post");
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.text("id")
}

async fn new_draft(client: &ApiClient, case_id: &str) -> Value {
    let reply = client
        .post(
            &format!("/api/v1/cases/{case_id}/requests"),
            &sample_draft("es-ca", "ma-ca"),
        )
        .await
        .expect("post");
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.body
}

#[tokio::test]
async fn the_whole_lifecycle_runs_on_one_node() {
    for backend in backends() {
        let setup = one_node(backend).await;
        let case_id = new_case(&setup.prosecutor).await;
        let draft = new_draft(&setup.prosecutor, &case_id).await;
        let id = draft["id"].as_str().expect("id").to_string();
        assert_eq!(draft["state"], "draft");
        assert_eq!(draft["content"]["requested_country"], "MA");

        let steps: [(&ApiClient, &str, Option<&str>, &str); 4] = [
            (
                &setup.prosecutor,
                "submit_for_approval",
                None,
                "pending_approval",
            ),
            (&setup.es_officer, "approve", None, "approved"),
            (&setup.es_officer, "dispatch", None, "dispatched"),
            (&setup.ma_officer, "acknowledge", None, "registered"),
        ];
        for (index, (client, action, reason, expected)) in steps.into_iter().enumerate() {
            if index == 3 {
                // The requested side's copy arrives through the outbox.
                setup
                    .ma_officer
                    .wait_for_state(&id, "delivered", 10)
                    .await
                    .expect("delivered");
                setup
                    .prosecutor
                    .wait_for_state(&id, "delivered", 10)
                    .await
                    .expect("receipt");
            }
            let reply = client.act(&id, action, reason).await.expect("act");
            assert_eq!(reply.status, 200, "{action}: {}", reply.body);
            assert_eq!(reply.text("state"), expected);
        }
        let remaining: [(&ApiClient, &str, &str); 7] = [
            (&setup.ma_officer, "start_assessment", "under_assessment"),
            (
                &setup.ma_officer,
                "request_additional_information",
                "additional_information_requested",
            ),
            (
                &setup.prosecutor,
                "provide_additional_information",
                "additional_information_provided",
            ),
            (&setup.ma_officer, "accept_in_part", "accepted_in_part"),
            (&setup.ma_executor, "start_execution", "in_execution"),
            (
                &setup.ma_executor,
                "send_partial_response",
                "partially_executed",
            ),
            (&setup.ma_executor, "send_final_response", "executed"),
        ];
        for (client, action, expected) in remaining {
            let reply = client
                .act(&id, action, Some("as discussed"))
                .await
                .expect("act");
            assert_eq!(reply.status, 200, "{action}: {}", reply.body);
            assert_eq!(reply.text("state"), expected);
            // Both sides converge before the next step.
            setup
                .prosecutor
                .wait_for_state(&id, expected, 10)
                .await
                .expect("requesting side");
            setup
                .ma_officer
                .wait_for_state(&id, expected, 10)
                .await
                .expect("requested side");
        }
        let closed = setup
            .prosecutor
            .act(&id, "close", None)
            .await
            .expect("close");
        assert_eq!(closed.text("state"), "closed");
        setup
            .ma_officer
            .wait_for_state(&id, "closed", 10)
            .await
            .expect("closed there too");

        let view = setup
            .prosecutor
            .get(&format!("/api/v1/requests/{id}"))
            .await
            .expect("get");
        let history = view.body["history"].as_array().expect("history");
        assert_eq!(history.len(), 13, "{}", view.body);
        assert!(
            history
                .iter()
                .all(|entry| !entry["at"].as_str().unwrap_or_default().is_empty())
        );
        let four_eyes = &history[1];
        assert_eq!(four_eyes["action"], "approve");
        assert!(
            view.body["available_actions"]
                .as_array()
                .expect("actions")
                .is_empty()
        );
    }
}

#[tokio::test]
async fn approval_needs_a_second_person() {
    let setup = one_node(Backend::Sqlite).await;
    let officer = setup
        .node
        .user("solo", "es-ca", &["central_authority_officer"])
        .await
        .expect("user");
    let case_id = new_case(&officer).await;
    let id = new_draft(&officer, &case_id).await["id"]
        .as_str()
        .expect("id")
        .to_string();
    assert_eq!(
        officer
            .act(&id, "submit_for_approval", None)
            .await
            .expect("act")
            .status,
        200
    );
    let refused = officer.act(&id, "approve", None).await.expect("act");
    assert_problem(&refused, 403, None);
    assert!(
        refused.text("detail").contains("four-eyes"),
        "{}",
        refused.body
    );
    let view = officer
        .get(&format!("/api/v1/requests/{id}"))
        .await
        .expect("get");
    assert_eq!(view.text("state"), "pending_approval", "nothing changed");
}

#[tokio::test]
async fn authentication_is_required_and_checked() {
    let setup = one_node(Backend::Sqlite).await;
    let anonymous = ApiClient::anonymous(&setup.node.url());
    assert_problem(
        &anonymous.get("/api/v1/cases").await.expect("get"),
        401,
        None,
    );
    assert_problem(
        &anonymous.get("/api/v1/requests").await.expect("get"),
        401,
        None,
    );
    let wrong = anonymous
        .post(
            "/api/v1/sessions",
            &json!({"username": "fiscal", "password": "not the password"}),
        )
        .await
        .expect("post");
    assert_problem(&wrong, 401, None);
    let mut forged = anonymous.clone();
    forged.token = "forged-token".into();
    assert_problem(&forged.get("/api/v1/me").await.expect("get"), 401, None);
    let me = setup.prosecutor.get("/api/v1/me").await.expect("me");
    assert_eq!(me.body["roles"], json!(["requesting_prosecutor"]));
    // Users are created by administrators only.
    let denied = setup
        .prosecutor
        .post(
            "/api/v1/users",
            &json!({"username": "x1x", "display_name": "X", "authority": "es-ca",
                    "roles": ["administrator"], "password": "long enough password"}),
        )
        .await
        .expect("post");
    assert_problem(&denied, 403, None);
    // Logging out ends the session.
    let logout = setup
        .prosecutor
        .send(reqwest::Method::DELETE, "/api/v1/sessions/current", None)
        .await
        .expect("logout");
    assert_eq!(logout.status, 204);
    assert_problem(
        &setup.prosecutor.get("/api/v1/me").await.expect("get"),
        401,
        None,
    );
}

/// Who sends a call in the bad-input tables.
#[derive(Debug, Clone, Copy)]
enum Caller {
    /// `fiscal`, the Spanish requesting prosecutor who drafts.
    Prosecutor,
    /// `ana`, a Spanish central authority officer.
    EsOfficer,
    /// `karim`, a Moroccan central authority officer (another authority).
    MaOfficer,
}

/// The body of a call in the bad-input tables.
#[derive(Debug, Clone)]
enum Sent {
    /// No body.
    Nothing,
    /// A JSON body.
    Json(Value),
    /// Raw bytes with a content type.
    Raw(&'static str, &'static [u8]),
}

/// One call that must be refused with a problem: who sends what where, the status and
/// the field the problem names (if it must name one), and a word its detail must
/// contain (if any).
#[derive(Debug, Clone)]
struct Refused {
    caller: Caller,
    method: reqwest::Method,
    path: String,
    sent: Sent,
    status: u16,
    field: Option<&'static str>,
    detail_mentions: Option<&'static str>,
}

/// A row of a bad-input table.
fn refused(
    caller: Caller,
    method: reqwest::Method,
    path: impl Into<String>,
    sent: Sent,
    status: u16,
    field: Option<&'static str>,
) -> Refused {
    Refused {
        caller,
        method,
        path: path.into(),
        sent,
        status,
        field,
        detail_mentions: None,
    }
}

impl Refused {
    /// The problem's detail must contain `word`.
    fn mentioning(mut self, word: &'static str) -> Refused {
        self.detail_mentions = Some(word);
        self
    }
}

/// The sample draft with one change.
fn draft_with(change: impl FnOnce(&mut Value)) -> Sent {
    let mut draft = sample_draft("es-ca", "ma-ca");
    change(&mut draft);
    Sent::Json(draft)
}

/// A transition body naming only an action.
fn action(code: &str) -> Sent {
    Sent::Json(json!({"action": code}))
}

/// Sends every row in order and checks each gets its problem.
async fn assert_all_refused(setup: &OneNode, rows: &[Refused]) {
    for row in rows {
        let client = match row.caller {
            Caller::Prosecutor => &setup.prosecutor,
            Caller::EsOfficer => &setup.es_officer,
            Caller::MaOfficer => &setup.ma_officer,
        };
        let reply = match &row.sent {
            Sent::Nothing => client.send(row.method.clone(), &row.path, None).await,
            Sent::Json(body) => client.send(row.method.clone(), &row.path, Some(body)).await,
            Sent::Raw(content_type, bytes) => {
                client
                    .send_raw(row.method.clone(), &row.path, content_type, bytes.to_vec())
                    .await
            }
        }
        .expect("the node answers");
        assert_problem(&reply, row.status, row.field);
        if let Some(word) = row.detail_mentions {
            assert!(
                reply.text("detail").contains(word),
                "{row:?}: {}",
                reply.body
            );
        }
    }
}

#[tokio::test]
async fn bad_input_gets_a_problem_and_changes_nothing() {
    use Caller::{EsOfficer, MaOfficer, Prosecutor};
    use reqwest::Method;
    for backend in backends() {
        let setup = one_node(backend).await;
        let client = &setup.prosecutor;
        let case_id = new_case(client).await;
        let drafts = format!("/api/v1/cases/{case_id}/requests");
        let oversize = json!({"reference": "x", "title": "y".repeat(2 * 1024 * 1024)});

        #[rustfmt::skip]
        let drafting = [
            refused(Prosecutor, Method::POST, &drafts, Sent::Raw("application/json", b"{not json"), 400, None),
            refused(Prosecutor, Method::POST, &drafts, draft_with(|d| d["colour"] = json!("red")), 422, None).mentioning("colour"),
            refused(Prosecutor, Method::POST, &drafts, draft_with(|d| d["measures"] = json!("bank records")), 422, None),
            refused(Prosecutor, Method::POST, &drafts, draft_with(|d| d["measures"][1]["kind"] = json!("torture")), 422, Some("measures[1].kind")),
            refused(Prosecutor, Method::POST, &drafts, draft_with(|d| d["persons"][0]["nationalities"] = json!(["XX"])), 422, Some("persons[0].nationalities[0]")),
            refused(Prosecutor, Method::POST, &drafts, Sent::Json(sample_draft("ma-ca", "es-ca")), 422, Some("requesting_authority")),
            refused(Prosecutor, Method::POST, "/api/v1/cases", Sent::Json(oversize), 413, None),
            refused(Prosecutor, Method::POST, &drafts, Sent::Raw("text/plain", b"{}"), 415, None),
        ];
        assert_all_refused(&setup, &drafting).await;
        // Nothing was written by any of the above.
        let listed = client.get("/api/v1/requests").await.expect("list");
        assert_eq!(listed.body, json!([]));

        let id = new_draft(client, &case_id).await["id"]
            .as_str()
            .expect("id")
            .to_string();
        let transitions = format!("/api/v1/requests/{id}/transitions");
        // The role is checked before the state: a prosecutor may never dispatch (403),
        // an officer may, but not a draft (409).
        #[rustfmt::skip]
        let on_the_draft = [
            refused(Prosecutor, Method::POST, &transitions, action("dispatch"), 403, Some("action")),
            refused(EsOfficer, Method::POST, &transitions, action("dispatch"), 409, Some("action")),
            refused(Prosecutor, Method::POST, &transitions, action("teleport"), 422, Some("action")),
        ];
        assert_all_refused(&setup, &on_the_draft).await;
        assert_eq!(
            client
                .act(&id, "submit_for_approval", None)
                .await
                .expect("act")
                .status,
            200
        );
        // Once submitted: the wrong role, a missing reason and a stale version are refused,
        // and another authority's request and case are out of reach.
        #[rustfmt::skip]
        let pending_approval = [
            refused(Prosecutor, Method::POST, &transitions, action("approve"), 403, Some("action")),
            refused(EsOfficer, Method::POST, &transitions, action("return_to_draft"), 422, Some("reason")),
            refused(EsOfficer, Method::POST, &transitions, Sent::Json(json!({"action": "approve", "expected_version": 1})), 409, None),
            refused(MaOfficer, Method::GET, format!("/api/v1/requests/{id}"), Sent::Nothing, 403, None),
            refused(MaOfficer, Method::GET, format!("/api/v1/cases/{case_id}"), Sent::Nothing, 403, None),
            refused(MaOfficer, Method::POST, &transitions, action("approve"), 403, None),
            refused(Prosecutor, Method::GET, "/api/v1/nowhere", Sent::Nothing, 404, None),
        ];
        assert_all_refused(&setup, &pending_approval).await;

        // None of the refusals changed the request: still submitted, once.
        let view = client
            .get(&format!("/api/v1/requests/{id}"))
            .await
            .expect("get");
        assert_eq!(view.text("state"), "pending_approval");
        assert_eq!(view.body["history"].as_array().map(Vec::len), Some(1));
    }
}

#[tokio::test]
async fn drafts_can_be_edited_until_submitted() {
    let setup = one_node(Backend::Sqlite).await;
    let client = &setup.prosecutor;
    let case_id = new_case(client).await;
    let draft = new_draft(client, &case_id).await;
    let id = draft["id"].as_str().expect("id");
    let mut changed = sample_draft("es-ca", "ma-ca");
    changed["purpose"] = json!("A new purpose");
    let edited = client
        .put(
            &format!("/api/v1/requests/{id}?expected_version=1"),
            &changed,
        )
        .await
        .expect("put");
    assert_eq!(edited.status, 200, "{}", edited.body);
    assert_eq!(edited.body["content"]["purpose"], "A new purpose");
    assert_eq!(edited.body["version"], 2);
    let stale = client
        .put(
            &format!("/api/v1/requests/{id}?expected_version=1"),
            &changed,
        )
        .await
        .expect("put");
    assert_problem(&stale, 409, None);
    assert_eq!(
        client
            .act(id, "submit_for_approval", None)
            .await
            .expect("act")
            .status,
        200
    );
    let locked = client
        .put(&format!("/api/v1/requests/{id}"), &changed)
        .await
        .expect("put");
    assert_problem(&locked, 409, None);
}

#[tokio::test]
async fn health_and_openapi_are_served() {
    let node = TestNode::spawn("node-docs", Backend::Sqlite)
        .await
        .expect("node");
    let client = ApiClient::anonymous(&node.url());
    let health = client.get("/healthz").await.expect("health");
    assert_eq!(health.status, 200);
    assert_eq!(health.body["node_id"], "node-docs");
    let spec = client.get("/api/openapi.json").await.expect("spec");
    assert_eq!(spec.status, 200);
    assert!(
        spec.body["openapi"]
            .as_str()
            .unwrap_or_default()
            .starts_with("3.")
    );
    for path in [
        "/api/v1/requests/{request_id}/transitions",
        "/api/v1/cases",
        "/healthz",
    ] {
        assert!(spec.body["paths"][path].is_object(), "{path} documented");
    }
    assert!(spec.body["components"]["schemas"]["Problem"].is_object());
}

#[tokio::test]
async fn the_legal_engine_guides_drafting_and_gates_approval_and_refusal() {
    let setup = one_node(Backend::Sqlite).await;
    let supervisor = setup
        .node
        .user(
            "jefa",
            "es-ca",
            &["central_authority_officer", "supervisor"],
        )
        .await
        .expect("user");
    let case_id = new_case(&setup.prosecutor).await;

    // Live guidance on a draft that is not stored.
    let assessment = setup
        .prosecutor
        .post("/api/v1/assessments", &sample_draft("es-ca", "ma-ca"))
        .await
        .expect("assess");
    assert_eq!(assessment.status, 200, "{}", assessment.body);
    assert!(
        assessment.body["prevailing"]["instrument_id"].is_string()
            || assessment.body["fallback"].is_object()
    );
    assert!(
        !assessment.body["checklist"]
            .as_array()
            .expect("checklist")
            .is_empty()
    );
    assert_eq!(
        setup
            .prosecutor
            .get("/api/v1/requests")
            .await
            .expect("list")
            .body,
        json!([])
    );

    // A draft missing its facts and purpose cannot be approved...
    let mut incomplete = sample_draft("es-ca", "ma-ca");
    incomplete["summary_of_facts"] = json!("");
    incomplete["purpose"] = json!("");
    let draft = setup
        .prosecutor
        .post(&format!("/api/v1/cases/{case_id}/requests"), &incomplete)
        .await
        .expect("draft");
    let id = draft.text("id");
    let checked = setup
        .prosecutor
        .get(&format!("/api/v1/requests/{id}/assessment"))
        .await
        .expect("assessment");
    let missing = checked.body["missing_mandatory_content"]
        .as_array()
        .expect("missing")
        .len();
    assert!(missing >= 2, "{}", checked.body);
    setup
        .prosecutor
        .act(&id, "submit_for_approval", None)
        .await
        .expect("submit");
    let blocked = setup
        .es_officer
        .act(&id, "approve", None)
        .await
        .expect("approve");
    assert_problem(&blocked, 422, None);
    assert!(
        blocked.text("detail").contains("18(15)"),
        "cites the article: {}",
        blocked.body
    );
    // ...an officer cannot override...
    let not_supervisor = setup
        .es_officer
        .post(
            &format!("/api/v1/requests/{id}/transitions"),
            &json!({"action": "approve", "override_justification": "urgent"}),
        )
        .await
        .expect("post");
    assert_problem(&not_supervisor, 403, None);
    // ...a supervisor can, and the justification is recorded.
    let overridden = supervisor
        .post(
            &format!("/api/v1/requests/{id}/transitions"),
            &json!({"action": "approve", "role": "supervisor",
                    "override_justification": "Facts follow by secure phone call; custody deadline"}),
        )
        .await
        .expect("post");
    assert_eq!(overridden.status, 200, "{}", overridden.body);
    let reason = overridden.body["history"][1]["reason"]
        .as_str()
        .unwrap_or_default();
    assert!(
        reason.contains("supervisor override") && reason.contains("custody deadline"),
        "{reason}"
    );

    // On the requested side a refusal must cite a ground of the prevailing instrument.
    supervisor
        .act(&id, "dispatch", None)
        .await
        .expect("dispatch");
    setup
        .ma_officer
        .wait_for_state(&id, "delivered", 10)
        .await
        .expect("delivered");
    setup
        .ma_officer
        .act(&id, "acknowledge", None)
        .await
        .expect("ack");
    setup
        .ma_officer
        .act(&id, "start_assessment", None)
        .await
        .expect("assess");
    let grounds = setup
        .ma_officer
        .get(&format!("/api/v1/requests/{id}/assessment"))
        .await
        .expect("grounds");
    let reference = |ground: &serde_json::Value| {
        format!(
            "{} art. {}",
            ground["citation"]["instrument_id"]
                .as_str()
                .unwrap_or_default(),
            ground["citation"]["article"].as_str().unwrap_or_default()
        )
    };
    let offered = grounds.body["refusal_grounds"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    // UNTOC 18(26): consult before refusing under 18(21); 18(9) carries no such duty.
    let consult_first = offered
        .iter()
        .find(|ground| ground.get("consult_first").is_some())
        .map(reference)
        .expect("a ground that needs consultation first");
    let valid = offered
        .iter()
        .find(|ground| ground.get("consult_first").is_none())
        .map(reference)
        .expect("a ground without it");
    assert_eq!(
        grounds.body["refusal_reasons"]["article"], "18(23)",
        "reasons are required for any refusal"
    );
    let unconsulted = setup
        .ma_officer
        .post(
            &format!("/api/v1/requests/{id}/transitions"),
            &json!({"action": "refuse", "reason": "Essential interests", "grounds": [consult_first]}),
        )
        .await
        .expect("post");
    assert_problem(&unconsulted, 422, None);
    assert!(
        unconsulted.body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("must be consulted"),
        "{}",
        unconsulted.body
    );
    let invented = setup
        .ma_officer
        .post(
            &format!("/api/v1/requests/{id}/transitions"),
            &json!({"action": "refuse", "reason": "no", "grounds": ["we do not like it"]}),
        )
        .await
        .expect("post");
    assert_problem(&invented, 422, Some("grounds[0]"));
    let refused = setup
        .ma_officer
        .post(
            &format!("/api/v1/requests/{id}/transitions"),
            &json!({"action": "refuse", "reason": "Execution would prejudice essential interests", "grounds": [valid]}),
        )
        .await
        .expect("post");
    assert_eq!(refused.status, 200, "{}", refused.body);
    setup
        .prosecutor
        .wait_for_state(&id, "refused", 10)
        .await
        .expect("refusal reaches Spain");
}

#[tokio::test]
async fn the_letter_of_request_is_rendered_in_the_requested_language() {
    let setup = one_node(Backend::Sqlite).await;
    let case_id = new_case(&setup.prosecutor).await;
    let mut draft = sample_draft("es-ca", "ma-ca");
    draft["summary_of_facts"] = json!("Les faits <script>alert(1)</script> tels que rédigés.");
    let id = setup
        .prosecutor
        .post(&format!("/api/v1/cases/{case_id}/requests"), &draft)
        .await
        .expect("draft")
        .text("id");
    let http = reqwest::Client::new();
    let fetch = |query: &str| {
        let request = http
            .get(format!(
                "{}/api/v1/requests/{id}/letter{query}",
                setup.node.url()
            ))
            .bearer_auth(&setup.prosecutor.token);
        async move { request.send().await.expect("letter") }
    };
    let french = fetch("?lang=fr").await;
    assert_eq!(french.status().as_u16(), 200);
    assert_eq!(french.headers()["content-type"], "text/html; charset=utf-8");
    assert_eq!(french.headers()["content-language"], "fr");
    let html = french.text().await.expect("body");
    assert!(html.contains("lang=\"fr\""), "{html}");
    assert!(!html.contains("<script>alert"), "free text is escaped");
    assert!(
        html.contains("for-translation"),
        "free text is marked for translation"
    );
    assert!(
        html.contains("<bdi dir=\"auto\">Authority es-ca</bdi>")
            && html.contains("<bdi dir=\"auto\">Authority ma-ca</bdi>"),
        "the authorities' registered names head the letter: {html}"
    );

    let default_language = fetch("").await;
    assert_eq!(default_language.status().as_u16(), 200);
    let arabic = default_language.text().await.expect("body");
    assert!(
        arabic.contains("dir=\"rtl\""),
        "Morocco's first accepted language is Arabic"
    );

    for pdf_query in ["?lang=es&format=pdf", "?lang=ar&format=pdf"] {
        let pdf = fetch(pdf_query).await;
        assert_eq!(pdf.status().as_u16(), 200, "{pdf_query}");
        assert_eq!(pdf.headers()["content-type"], "application/pdf");
        assert!(pdf.bytes().await.expect("pdf").starts_with(b"%PDF-"));
    }

    for bad in ["?lang=xx", "?format=docx"] {
        let response = fetch(bad).await;
        assert_eq!(response.status().as_u16(), 422, "{bad}");
    }
    let other_authority = http
        .get(format!("{}/api/v1/requests/{id}/letter", setup.node.url()))
        .bearer_auth(&setup.ma_officer.token)
        .send()
        .await
        .expect("letter");
    assert_eq!(other_authority.status().as_u16(), 403);
}

#[tokio::test]
async fn unknown_pages_are_html_for_browsers_and_problems_for_clients() {
    let node = TestNode::spawn("node-404", Backend::Sqlite)
        .await
        .expect("node");
    let http = reqwest::Client::new();
    let browser = http
        .get(format!("{}/no-such-page", node.url()))
        .header("accept", "text/html")
        .send()
        .await
        .expect("get");
    assert_eq!(browser.status().as_u16(), 404);
    assert!(
        browser.headers()["content-type"]
            .to_str()
            .unwrap_or_default()
            .starts_with("text/html")
    );
    let client = ApiClient::anonymous(&node.url())
        .get("/api/v1/no-such-thing")
        .await
        .expect("get");
    assert_problem(&client, 404, None);
}

#[tokio::test]
async fn an_assessment_gives_each_warning_as_a_code_with_parameters() {
    let setup = one_node(Backend::Sqlite).await;
    let mut draft = sample_draft("es-ca", "ma-ca");
    draft["persons"][1]["role"] = json!("suspect");
    let assessment = setup
        .prosecutor
        .post("/api/v1/assessments", &draft)
        .await
        .expect("assess");
    assert_eq!(assessment.status, 200, "{}", assessment.body);
    let warnings = assessment.body["warnings"].as_array().expect("warnings");
    for warning in warnings {
        let code = warning["code"].as_str().expect("code");
        assert!(
            !code.is_empty() && code.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
            "kebab-case code: {warning}"
        );
        assert!(warning["parameters"].is_object(), "{warning}");
    }
    let minor = warnings
        .iter()
        .find(|warning| warning["code"] == "minor-prosecuted")
        .expect("a minor treated as a suspect is flagged");
    assert_eq!(minor["kind"], "vulnerable_person_prosecuted");
    assert_eq!(minor["parameters"]["person"], "Awa Diallo");
    let safeguard = &minor["parameters"]["safeguard"];
    assert_eq!(safeguard["article"], minor["citation"]["article"]);
    let explanation = minor["explanation"].as_str().expect("explanation");
    assert!(
        explanation.starts_with("Awa Diallo is a minor treated as a suspect or accused")
            && explanation.ends_with(safeguard["rule"].as_str().expect("rule text")),
        "{explanation}"
    );
}

/// Checks one sentence of an assessment (`code` and `parameters` under these keys) and the
/// sentences nested in its parameters.
fn check_sentence(item: &Value, code_key: &str, parameters_key: &str) {
    let code = item[code_key].as_str().unwrap_or_default();
    assert!(
        !code.is_empty() && code.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
        "kebab-case code: {item}"
    );
    let parameters = item[parameters_key].as_object().expect("parameters object");
    for value in parameters.values() {
        let nested: Vec<&Value> = match value {
            Value::Object(object) if object.contains_key("code") => vec![value],
            Value::Array(items) => items.iter().filter(|item| item.is_object()).collect(),
            _ => Vec::new(),
        };
        for sentence in nested {
            check_sentence(sentence, "code", "parameters");
        }
    }
}

#[tokio::test]
async fn an_assessment_gives_every_sentence_as_a_code_with_parameters() {
    let setup = one_node(Backend::Sqlite).await;
    let mut draft = sample_draft("es-ca", "ma-ca");
    draft["measures"]
        .as_array_mut()
        .expect("measures")
        .push(json!({"kind": "search_and_seizure", "description": ""}));
    let reply = setup
        .prosecutor
        .post("/api/v1/assessments", &draft)
        .await
        .expect("assess");
    assert_eq!(reply.status, 200, "{}", reply.body);
    let assessment = &reply.body;
    let prevailing = &assessment["prevailing"];
    check_sentence(prevailing, "reason_code", "reason_parameters");
    assert_eq!(
        prevailing["reason_parameters"]["instrument"], prevailing["title"],
        "{prevailing}"
    );
    for list in [
        "measure_bases",
        "channels",
        "checklist",
        "dual_criminality",
        "deadlines",
        "warnings",
    ] {
        let items = assessment[list].as_array().expect(list);
        assert!(!items.is_empty(), "{list}: {assessment}");
        for item in items {
            assert!(
                item["explanation"]
                    .as_str()
                    .is_some_and(|text| !text.is_empty())
            );
            check_sentence(item, "code", "parameters");
        }
    }
    check_sentence(&assessment["languages"], "code", "parameters");
    // The undescribed measure is named by its code, for the client to word.
    let undescribed = assessment["checklist"]
        .as_array()
        .expect("checklist")
        .iter()
        .find(|check| check["code"] == "content-measure-undescribed")
        .expect("the measure without a description is flagged");
    assert_eq!(undescribed["parameters"]["measure"], "search_and_seizure");
    let spec = setup
        .prosecutor
        .get("/api/openapi.json")
        .await
        .expect("spec")
        .body;
    let schemas = &spec["components"]["schemas"];
    assert!(schemas["SentenceDto"]["properties"]["parameters"].is_object());
    for schema in [
        "MeasureBasisDto",
        "ChannelDto",
        "LanguagesDto",
        "ContentCheckDto",
    ] {
        let properties = &schemas[schema]["properties"];
        assert!(
            properties["code"].is_object() && properties["parameters"].is_object(),
            "{schema}"
        );
    }
    assert!(schemas["PrevailingDto"]["properties"]["reason_code"].is_object());
}

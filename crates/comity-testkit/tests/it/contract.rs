//! The API as a contract (issue 20): bad input refused at the edge with a problem naming
//! the field on both backends, authority and role before state, every error a problem,
//! and an OpenAPI document whose structure a generated client can rely on.

use std::collections::BTreeSet;

use std::sync::Arc;

use comity_app::SystemClock;
use comity_testkit::{ApiClient, Backend, Reply, TestNode, assert_problem, backends, sample_draft};
use serde_json::{Value, json};

struct Setup {
    node: TestNode,
    prosecutor: ApiClient,
    officer: ApiClient,
    admin: ApiClient,
}

async fn setup(backend: Backend) -> Setup {
    let node = TestNode::spawn_spain_and_morocco("node-contract", backend, Arc::new(SystemClock))
        .await
        .expect("node starts");
    let prosecutor = node
        .user("fiscal", "es-ca", &["requesting_prosecutor"])
        .await
        .expect("user");
    let officer = node
        .user("ana", "es-ca", &["central_authority_officer"])
        .await
        .expect("user");
    let admin = node
        .user("root", "es-ca", &["administrator"])
        .await
        .expect("user");
    Setup {
        node,
        prosecutor,
        officer,
        admin,
    }
}

async fn new_case(client: &ApiClient) -> String {
    let reply = client
        .post(
            "/api/v1/cases",
            &json!({"reference": "DP 20/2026", "title": "Contract"}),
        )
        .await
        .expect("post");
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.text("id")
}

async fn new_request(client: &ApiClient, case_id: &str, draft: &Value) -> Reply {
    client
        .post(&format!("/api/v1/cases/{case_id}/requests"), draft)
        .await
        .expect("post")
}

/// A problem detail with this status, naming `field` when one is given.
/// The draft with one change made by `change`.
fn draft_with(change: impl FnOnce(&mut Value)) -> Value {
    let mut draft = sample_draft("es-ca", "ma-ca");
    change(&mut draft);
    draft
}

async fn request_count(client: &ApiClient) -> usize {
    client
        .get("/api/v1/requests")
        .await
        .expect("list")
        .body
        .as_array()
        .map_or(0, Vec::len)
}

#[tokio::test]
async fn control_characters_are_refused_at_the_edge_on_both_backends() {
    for backend in backends() {
        let setup = setup(backend).await;
        let anonymous = ApiClient::anonymous(&setup.node.url());
        // Before log-in: a NUL in the login name is a 422, not a storage failure.
        let login = anonymous
            .post(
                "/api/v1/sessions",
                &json!({"username": "a\u{0}b", "password": "x"}),
            )
            .await
            .expect("post");
        assert_problem(&login, 422, Some("username"));

        let client = &setup.prosecutor;
        let case_id = new_case(client).await;
        let created = new_request(client, &case_id, &sample_draft("es-ca", "ma-ca")).await;
        assert_eq!(created.status, 201, "{}", created.body);
        let request_id = created.text("id");

        for path in [
            "/api/v1/requests/a%00b",
            "/api/v1/cases/a%00b",
            "/api/v1/requests/a%00b/assessment",
            "/api/v1/requests/a%1Bb/letter",
        ] {
            let reply = client.get(path).await.expect("get");
            assert_eq!(reply.status, 404, "{path}: {}", reply.body);
            assert_eq!(reply.content_type, "application/problem+json", "{path}");
            assert!(reply.body["field"].is_string(), "{path}: {}", reply.body);
        }
        // The web pages too: such a segment names no page.
        for path in ["/requests/a%00b", "/cases/a%00b", "/requests/a%00b/letter"] {
            let reply = client.get(path).await.expect("get");
            assert_eq!(reply.status, 404, "{path}");
        }
        let retry = setup
            .admin
            .post("/api/v1/outbox/a%00b/retry", &json!({}))
            .await
            .expect("post");
        assert_problem(&retry, 404, Some("message_id"));
        assert_problem(
            &client
                .get("/api/v1/requests?case_id=a%00b")
                .await
                .expect("get"),
            422,
            Some("case_id"),
        );

        let reason = client
            .post(
                &format!("/api/v1/requests/{request_id}/transitions"),
                &json!({"action": "submit_for_approval", "reason": "a\u{0}\u{1b}[31mb"}),
            )
            .await
            .expect("post");
        assert_problem(&reason, 422, Some("reason"));
        let display_name = setup
            .admin
            .post(
                "/api/v1/users",
                &json!({"username": "nul", "display_name": "nu\u{0}l", "authority": "es-ca",
                        "roles": ["analyst"], "password": "password-nul-1234"}),
            )
            .await
            .expect("post");
        assert_problem(&display_name, 422, Some("display_name"));

        for (draft, field) in [
            (
                draft_with(|d| d["persons"][0]["location"] = json!("Tang\u{0}ier\u{1b}[31m")),
                "persons[0].location",
            ),
            (
                draft_with(|d| {
                    d["attachments"] = json!([{"file_name": "a.pdf", "media_type": "application/pdf\u{7}",
                        "size_bytes": 10, "sha256": "0".repeat(64)}])
                }),
                "attachments[0].media_type",
            ),
            (
                draft_with(|d| d["summary_of_facts"] = json!("bell\u{7}")),
                "summary_of_facts",
            ),
            (
                draft_with(|d| d["legal_basis"] = json!(["\u{7}bell"])),
                "legal_basis[0]",
            ),
        ] {
            let reply = new_request(client, &case_id, &draft).await;
            assert_problem(&reply, 422, Some(field));
        }

        // Nothing was written by any of the above.
        assert_eq!(request_count(client).await, 1);
        let view = client
            .get(&format!("/api/v1/requests/{request_id}"))
            .await
            .expect("get");
        assert_eq!(view.text("state"), "draft");
        let users = setup.admin.get("/api/v1/users").await.expect("users");
        assert_eq!(users.body.as_array().map(Vec::len), Some(3));
    }
}

#[tokio::test]
async fn bidirectional_controls_are_refused_in_names_and_kept_in_free_text() {
    let setup = setup(Backend::Sqlite).await;
    let client = &setup.prosecutor;
    let case_id = new_case(client).await;
    let spoofed = "Ahmed\u{202E}dna\u{202C}";
    for (draft, field) in [
        (
            draft_with(|d| d["persons"][0]["full_name"] = json!(spoofed)),
            "persons[0].full_name",
        ),
        (
            draft_with(|d| {
                d["attachments"] = json!([{"file_name": "invoice\u{2067}fdp.exe\u{2069}",
                    "media_type": "application/pdf", "size_bytes": 10, "sha256": "0".repeat(64)}])
            }),
            "attachments[0].file_name",
        ),
        (
            draft_with(|d| d["persons"][1]["full_name"] = json!("Awa\u{200B}Diallo")),
            "persons[1].full_name",
        ),
    ] {
        let reply = new_request(client, &case_id, &draft).await;
        assert_problem(&reply, 422, Some(field));
    }
    let reference = client
        .post(
            "/api/v1/cases",
            &json!({"reference": "DP\u{202E}21", "title": "t"}),
        )
        .await
        .expect("post");
    assert_problem(&reference, 422, Some("reference"));
    let line_break = client
        .post(
            "/api/v1/cases",
            &json!({"reference": "DP 21\n", "title": "t"}),
        )
        .await
        .expect("post");
    assert_problem(&line_break, 422, Some("reference"));
    let display_name = setup
        .admin
        .post(
            "/api/v1/users",
            &json!({"username": "spoof", "display_name": spoofed, "authority": "es-ca",
                    "roles": ["analyst"], "password": "password-spoof-1234"}),
        )
        .await
        .expect("post");
    assert_problem(&display_name, 422, Some("display_name"));
    // Free text keeps them: a sentence may mix scripts, and the pages isolate it.
    let free_text = new_request(
        client,
        &case_id,
        &draft_with(|d| {
            d["summary_of_facts"] = json!("The vessel \u{2067}سفينة\u{2069} left Tangier.")
        }),
    )
    .await;
    assert_eq!(free_text.status, 201, "{}", free_text.body);
    // Persian names keep their zero-width non-joiner.
    let persian = new_request(
        client,
        &case_id,
        &draft_with(|d| d["persons"][0]["full_name"] = json!("مهر\u{200C}داد")),
    )
    .await;
    assert_eq!(persian.status, 201, "{}", persian.body);
}

#[tokio::test]
async fn input_that_should_be_refused_is() {
    let setup = setup(Backend::Sqlite).await;
    let client = &setup.prosecutor;
    let case_id = new_case(client).await;
    let too_long = |chars: usize| json!("x".repeat(chars));
    for (draft, field) in [
        (
            draft_with(|d| d["legal_basis"] = json!(["untoc", "smuggling-protocol"])),
            "legal_basis[1]",
        ),
        (
            draft_with(|d| d["legal_basis"] = json!(["x".repeat(100_000)])),
            "legal_basis[0]",
        ),
        (
            draft_with(|d| {
                d["attachments"] = json!([{"file_name": "a.pdf", "media_type": "application/pdf",
                    "size_bytes": 18_446_744_073_709_551_615_u64, "sha256": "0".repeat(64)}])
            }),
            "attachments[0].size_bytes",
        ),
        (
            draft_with(|d| {
                d["attachments"] = json!([{"file_name": "", "media_type": "application/pdf",
                    "size_bytes": 1, "sha256": "0".repeat(64)}])
            }),
            "attachments[0].file_name",
        ),
        (
            draft_with(|d| {
                d["attachments"] = json!([{"file_name": "a.pdf", "media_type": "",
                    "size_bytes": 1, "sha256": "0".repeat(64)}])
            }),
            "attachments[0].media_type",
        ),
        (
            draft_with(|d| d["requested_deadline"] = json!("1900-01-01")),
            "requested_deadline",
        ),
        (
            draft_with(|d| d["persons"][0]["date_of_birth"] = json!("2999-12-31")),
            "persons[0].date_of_birth",
        ),
        (
            draft_with(|d| d["persons"][0]["date_of_birth"] = json!("0000")),
            "persons[0].date_of_birth",
        ),
        (
            draft_with(|d| d["persons"][0]["nationalities"] = json!(vec!["MA"; 5_000])),
            "persons[0].nationalities",
        ),
        (
            draft_with(|d| d["persons"][0]["location"] = too_long(200_000)),
            "persons[0].location",
        ),
        (
            draft_with(|d| d["offences"][0]["national_provision"] = too_long(1_001)),
            "offences[0].national_provision",
        ),
    ] {
        let reply = new_request(client, &case_id, &draft).await;
        assert_problem(&reply, 422, Some(field));
    }
    // An integer written as `96.0` is the integer JSON Schema says it is.
    let integral = new_request(
        client,
        &case_id,
        &draft_with(|d| d["offences"][0]["maximum_penalty_months"] = json!(96.0)),
    )
    .await;
    assert_eq!(integral.status, 201, "{}", integral.body);
    assert_eq!(
        integral.body["content"]["offences"][0]["maximum_penalty_months"],
        96
    );
    let request_id = integral.text("id");

    let long_reason = client
        .post(
            &format!("/api/v1/requests/{request_id}/transitions"),
            &json!({"action": "submit_for_approval", "reason": "r".repeat(100_000)}),
        )
        .await
        .expect("post");
    assert_problem(&long_reason, 422, Some("reason"));
    let many_grounds = client
        .post(
            &format!("/api/v1/requests/{request_id}/transitions"),
            &json!({"action": "submit_for_approval", "grounds": vec!["g".repeat(50_000); 10]}),
        )
        .await
        .expect("post");
    assert_problem(&many_grounds, 422, Some("grounds[0]"));

    for (user, field) in [
        (
            json!({"username": "ctl_user", "display_name": "Evil\u{1b}[2J\u{7}Name", "authority": "es-ca",
                   "roles": ["analyst"], "password": "a good long password"}),
            "display_name",
        ),
        (
            json!({"username": "spaces", "display_name": "Spaces", "authority": "es-ca",
                   "roles": ["analyst"], "password": "            "}),
            "password",
        ),
    ] {
        let reply = setup
            .admin
            .post("/api/v1/users", &user)
            .await
            .expect("post");
        assert_problem(&reply, 422, Some(field));
    }
    assert_eq!(request_count(client).await, 1, "only the integral draft");
}

#[tokio::test]
async fn a_transition_checks_authority_and_role_before_revealing_state_or_version() {
    let setup = setup(Backend::Sqlite).await;
    let case_id = new_case(&setup.prosecutor).await;
    let created = new_request(&setup.prosecutor, &case_id, &sample_draft("es-ca", "ma-ca")).await;
    let request_id = created.text("id");
    let transitions = format!("/api/v1/requests/{request_id}/transitions");
    assert_problem(
        &setup
            .admin
            .get(&format!("/api/v1/requests/{request_id}"))
            .await
            .expect("get"),
        403,
        None,
    );
    // The request is a draft at version 1: neither "cannot approve a draft" (409) nor
    // "version 1 now" (409) may reach someone who may not read it.
    for body in [
        json!({"action": "approve"}),
        json!({"action": "approve", "expected_version": 0}),
        json!({"action": "withdraw", "reason": "x", "expected_version": 0}),
        json!({"action": "record_delivery"}),
    ] {
        let reply = setup.admin.post(&transitions, &body).await.expect("post");
        assert_problem(&reply, 403, None);
        let detail = reply.text("detail");
        assert!(
            !detail.contains("draft") && !detail.contains("version"),
            "{detail}"
        );
    }
    // A reader with the wrong role for the action learns nothing of the state either.
    let wrong_role = setup
        .prosecutor
        .post(
            &transitions,
            &json!({"action": "approve", "expected_version": 0}),
        )
        .await
        .expect("post");
    assert_problem(&wrong_role, 403, Some("action"));
    // A reader who may take the action gets the 409s as before.
    let stale = setup
        .officer
        .post(
            &transitions,
            &json!({"action": "approve", "expected_version": 0}),
        )
        .await
        .expect("post");
    assert_problem(&stale, 409, None);
}

#[tokio::test]
async fn every_error_is_a_problem_including_query_path_and_method_errors() {
    let setup = setup(Backend::Sqlite).await;
    let client = &setup.prosecutor;
    // A body is an object: serde alone would read a struct from an array of its fields.
    for body in [
        &b"[null, null]"[..],
        b"[\"DP 1\", \"title\"]",
        b"\"text\"",
        b"42",
    ] {
        let reply = client
            .send_raw(
                reqwest::Method::POST,
                "/api/v1/cases",
                "application/json",
                body.to_vec(),
            )
            .await
            .expect("post");
        assert_eq!(reply.status, 422, "{}", String::from_utf8_lossy(body));
        assert_eq!(reply.content_type, "application/problem+json");
    }
    let case_id = new_case(client).await;
    let request_id = new_request(client, &case_id, &sample_draft("es-ca", "ma-ca"))
        .await
        .text("id");
    assert_problem(
        &client
            .get("/api/v1/requests?overdue=maybe")
            .await
            .expect("get"),
        400,
        Some("overdue"),
    );
    assert_problem(
        &client.get("/api/v1/requests?foo=1").await.expect("get"),
        400,
        None,
    );
    assert_problem(
        &client
            .put(
                &format!("/api/v1/requests/{request_id}?expected_version=abc"),
                &sample_draft("es-ca", "ma-ca"),
            )
            .await
            .expect("put"),
        400,
        Some("expected_version"),
    );
    assert_problem(
        &client.get("/api/v1/requests/%FF").await.expect("get"),
        400,
        None,
    );
    let response = reqwest::Client::new()
        .delete(format!("{}/api/v1/cases", setup.node.url()))
        .bearer_auth(&client.token)
        .send()
        .await
        .expect("delete");
    assert_eq!(response.status().as_u16(), 405);
    let allow = response
        .headers()
        .get("allow")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|value| value.to_str().ok()),
        Some("application/problem+json")
    );
    // Logging out needs no token and stays idempotent, as the document says.
    let anonymous = ApiClient::anonymous(&setup.node.url());
    let mut garbage = anonymous.clone();
    garbage.token = "garbage".into();
    for caller in [&anonymous, &garbage] {
        let reply = caller
            .send(reqwest::Method::DELETE, "/api/v1/sessions/current", None)
            .await
            .expect("logout");
        assert_eq!(reply.status, 204);
    }
}

#[tokio::test]
async fn a_long_unbroken_word_renders_as_a_pdf_letter() {
    let setup = setup(Backend::Sqlite).await;
    let client = &setup.prosecutor;
    let case_id = new_case(client).await;
    let draft = draft_with(|d| {
        d["summary_of_facts"] = json!("x".repeat(20_000));
        d["persons"][0]["location"] = json!("y".repeat(1_000));
    });
    let created = new_request(client, &case_id, &draft).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let url = format!(
        "{}/api/v1/requests/{}/letter?format=pdf",
        setup.node.url(),
        created.text("id")
    );
    let http = reqwest::Client::new();
    let letter = http.get(&url).bearer_auth(&client.token).send();
    // The node keeps serving while it renders.
    let health = http.get(format!("{}/healthz", setup.node.url())).send();
    let (letter, health) = tokio::join!(letter, health);
    assert_eq!(health.expect("health").status().as_u16(), 200);
    let letter = letter.expect("letter");
    assert_eq!(letter.status().as_u16(), 200);
    let bytes = letter.bytes().await.expect("bytes");
    assert!(bytes.starts_with(b"%PDF-1.4"));

    // More text than the PDF budget: refused naming the format; HTML has no such limit.
    let huge = draft_with(|d| {
        d["measures"] = json!(
            (0..16)
                .map(|_| json!({"kind": "bank_records", "description": "z".repeat(20_000)}))
                .collect::<Vec<_>>()
        );
    });
    let created = new_request(client, &case_id, &huge).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let letter_path = format!("/api/v1/requests/{}/letter", created.text("id"));
    assert_problem(
        &client
            .get(&format!("{letter_path}?format=pdf"))
            .await
            .expect("pdf"),
        422,
        Some("format"),
    );
    let html = http
        .get(format!("{}{letter_path}", setup.node.url()))
        .bearer_auth(&client.token)
        .send()
        .await
        .expect("html");
    assert_eq!(html.status().as_u16(), 200);
}

/// `{name}` placeholders of a path template.
fn placeholders(path: &str) -> BTreeSet<String> {
    path.split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name.to_string()))
        .collect()
}

fn contains_key(value: &Value, key: &str) -> bool {
    match value {
        Value::Object(map) => map
            .iter()
            .any(|(name, inner)| name == key || contains_key(inner, key)),
        Value::Array(items) => items.iter().any(|item| contains_key(item, key)),
        _ => false,
    }
}

#[tokio::test]
async fn the_openapi_document_is_a_contract_a_client_can_be_generated_from() {
    let node = TestNode::spawn("node-openapi", Backend::Sqlite)
        .await
        .expect("node");
    let spec = ApiClient::anonymous(&node.url())
        .get("/api/openapi.json")
        .await
        .expect("spec")
        .body;
    assert_eq!(spec["openapi"], "3.1.0");
    assert!(spec["servers"].as_array().is_some_and(|s| !s.is_empty()));
    assert!(!contains_key(&spec, "prefixItems"), "no Rust tuples");
    let problem_responses = &spec["components"]["responses"];
    for (name, response) in problem_responses.as_object().expect("shared responses") {
        assert_eq!(
            response["content"]["application/problem+json"]["schema"]["$ref"],
            "#/components/schemas/Problem",
            "{name}"
        );
    }
    let mut operations = 0;
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            operations += 1;
            let name = format!("{method} {path}");
            let parameters = operation["parameters"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let declared: BTreeSet<String> = parameters
                .iter()
                .filter(|p| p["in"] == "path")
                .filter_map(|p| p["name"].as_str().map(str::to_string))
                .collect();
            assert_eq!(declared, placeholders(path), "{name}: path parameters");
            assert!(
                parameters
                    .iter()
                    .all(|p| p["in"] != "path" || p["required"] == true),
                "{name}"
            );
            let responses = operation["responses"].as_object().expect("responses");
            for (status, response) in responses {
                let code: u16 = status.parse().expect("numeric status");
                if code >= 400 {
                    let reference = response["$ref"].as_str().unwrap_or_default();
                    let shared = reference.trim_start_matches("#/components/responses/");
                    assert!(
                        problem_responses[shared].is_object(),
                        "{name} {status}: a shared problem response, not {response}"
                    );
                } else {
                    assert!(
                        response["description"]
                            .as_str()
                            .is_some_and(|d| !d.is_empty()),
                        "{name} {status}: a description"
                    );
                }
            }
            assert!(responses.contains_key("503"), "{name}: 503");
            let secured = operation["security"]
                .as_array()
                .is_some_and(|s| !s.is_empty() && !s.contains(&json!({})));
            if secured {
                assert!(responses.contains_key("401"), "{name}: 401");
            }
            if operation["requestBody"].is_object() {
                for status in ["400", "413", "415", "422"] {
                    assert!(responses.contains_key(status), "{name}: {status}");
                }
            }
        }
    }
    // The 22 operations of the core, the account administration (7), the second
    // factor (4), the peers (6), the key recovery (1) and the federation operators'
    // views (6): none forgotten by the rules above.
    assert_eq!(operations, 46);
    // Query parameters are query parameters, with their codes.
    let list = &spec["paths"]["/api/v1/requests"]["get"]["parameters"];
    let by_name = |name: &str| {
        list.as_array()
            .and_then(|all| all.iter().find(|p| p["name"] == name))
            .cloned()
            .unwrap_or(Value::Null)
    };
    for name in ["case_id", "side", "state", "overdue"] {
        assert_eq!(by_name(name)["in"], "query", "{name}");
    }
    assert!(
        by_name("state")["schema"]["enum"]
            .as_array()
            .is_some_and(|codes| codes.contains(&json!("pending_approval")))
    );
    let logout = &spec["paths"]["/api/v1/sessions/current"]["delete"];
    assert!(
        logout["security"]
            .as_array()
            .is_some_and(|s| s.contains(&json!({}))),
        "logout needs no token"
    );
    let letter = &spec["paths"]["/api/v1/requests/{request_id}/letter"]["get"]["responses"]["200"]
        ["content"];
    assert!(letter["text/html"].is_object() && letter["application/pdf"].is_object());
    let schemas = &spec["components"]["schemas"];
    let content = &schemas["RequestContentDto"]["properties"];
    assert!(
        content["legal_basis"]["items"]["enum"]
            .as_array()
            .is_some_and(|ids| ids.contains(&json!("smuggling_protocol")))
    );
    assert_eq!(
        schemas["AttachmentDto"]["properties"]["sha256"]["pattern"],
        "^[0-9a-f]{64}$"
    );
    assert_eq!(content["summary_of_facts"]["maxLength"], 20_000);
    assert_eq!(content["persons"]["maxItems"], 200);
    assert!(schemas["TransitionInput"]["properties"]["action"]["enum"].is_array());
    // The limits the schema states are the ones the use cases apply.
    let user = &schemas["UserInput"]["properties"];
    assert_eq!(
        user["password"]["minLength"],
        comity_app::auth::MIN_PASSWORD_CHARS
    );
    assert_eq!(
        user["display_name"]["maxLength"],
        comity_app::auth::MAX_DISPLAY_NAME_CHARS
    );
    let transition = &schemas["TransitionInput"]["properties"];
    assert_eq!(
        transition["reason"]["maxLength"],
        comity_app::requests::MAX_REASON_CHARS
    );
    assert_eq!(
        transition["grounds"]["maxItems"],
        comity_app::requests::MAX_GROUNDS
    );
    assert_eq!(
        schemas["KeyRotationView"]["properties"]["failed"]["items"]["$ref"],
        "#/components/schemas/AnnouncementFailure"
    );
}

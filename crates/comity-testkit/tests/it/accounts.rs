//! Accounts end to end: log-in throttling, the account administration API, the scoping
//! of administrators and node operators, session lifetimes and the session cookie.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use comity_app::{Clock, SystemClock};
use comity_domain::{AuthorityKind, Timestamp};
use comity_testkit::{
    ApiClient, Backend, Reply, TEST_PASSWORD, TestNode, assert_problem, backends,
};
use serde_json::json;

/// The system clock plus an offset tests move forward.
#[derive(Debug, Default)]
struct SteppingClock {
    offset_ms: AtomicI64,
}

impl SteppingClock {
    fn advance_minutes(&self, minutes: i64) {
        self.offset_ms.fetch_add(minutes * 60_000, Ordering::SeqCst);
    }
}

impl Clock for SteppingClock {
    fn now(&self) -> Timestamp {
        Timestamp(SystemClock.now().millis() + self.offset_ms.load(Ordering::SeqCst))
    }
}

/// A clock that does not move: a delay, once given, lasts for the whole test.
#[derive(Debug)]
struct FrozenClock(Timestamp);

impl Clock for FrozenClock {
    fn now(&self) -> Timestamp {
        self.0
    }
}

/// A node hosting `es-ca` and `ma-ca`.
async fn two_authorities(backend: Backend, clock: Arc<dyn Clock>) -> TestNode {
    TestNode::spawn_spain_and_morocco("node-acc", backend, clock)
        .await
        .expect("node starts")
}

async fn login_reply(node: &TestNode, username: &str, password: &str) -> Reply {
    ApiClient::anonymous(&node.url())
        .post(
            "/api/v1/sessions",
            &json!({"username": username, "password": password}),
        )
        .await
        .expect("post")
}

fn new_user(username: &str, authority: &str, roles: &[&str]) -> serde_json::Value {
    json!({"username": username, "display_name": format!("User {username}"),
           "authority": authority, "roles": roles, "password": TEST_PASSWORD})
}

#[tokio::test]
async fn an_administrator_manages_the_users_of_their_own_authority_only() {
    for backend in backends() {
        let node = two_authorities(backend, Arc::new(SystemClock)).await;
        let admin_es = node
            .user("admin-es", "es-ca", &["administrator"])
            .await
            .expect("admin");
        let karim = node
            .user("karim", "ma-ca", &["central_authority_officer"])
            .await
            .expect("karim");
        let karim_id = karim.get("/api/v1/me").await.expect("me").text("id");
        // The "mole" of the security review: a supervisor made in another authority.
        let mole = admin_es
            .post(
                "/api/v1/users",
                &new_user(
                    "mole",
                    "ma-ca",
                    &["supervisor", "central_authority_officer"],
                ),
            )
            .await
            .expect("post");
        assert_problem(&mole, 403, None);
        assert_problem(&login_reply(&node, "mole", TEST_PASSWORD).await, 401, None);
        // Others' users are neither listed nor reachable.
        let listed = admin_es.get("/api/v1/users").await.expect("list");
        assert_eq!(listed.status, 200, "{}", listed.body);
        let names: Vec<&str> = listed
            .body
            .as_array()
            .expect("array")
            .iter()
            .filter_map(|user| user["username"].as_str())
            .collect();
        assert_eq!(names, ["admin-es"]);
        let path = format!("/api/v1/users/{karim_id}");
        assert_problem(&admin_es.get(&path).await.expect("get"), 404, None);
        let edit = admin_es
            .send(
                reqwest::Method::PATCH,
                &path,
                Some(&json!({"roles": ["supervisor"], "active": false})),
            )
            .await
            .expect("patch");
        assert_problem(&edit, 404, None);
        let reset = admin_es
            .post(
                &format!("{path}/password-reset"),
                &json!({"password": "a password of the mole"}),
            )
            .await
            .expect("reset");
        assert_problem(&reset, 404, None);
        assert_problem(
            &admin_es
                .get(&format!("{path}/sessions"))
                .await
                .expect("get"),
            404,
            None,
        );
        let revoke = admin_es
            .send(reqwest::Method::DELETE, &format!("{path}/sessions"), None)
            .await
            .expect("delete");
        assert_problem(&revoke, 404, None);
        // Karim is untouched: same roles, still logged in.
        let me = karim.get("/api/v1/me").await.expect("me");
        assert_eq!(me.status, 200, "{}", me.body);
        assert_eq!(me.body["roles"], json!(["central_authority_officer"]));
        // An administrator may not hand out node_operator, nor read requests.
        let operator = admin_es
            .post(
                "/api/v1/users",
                &new_user("op", "es-ca", &["node_operator"]),
            )
            .await
            .expect("post");
        assert_problem(&operator, 403, None);
        assert_problem(
            &admin_es.get("/api/v1/requests").await.expect("get"),
            403,
            None,
        );
        assert_problem(
            &admin_es.get("/api/v1/cases").await.expect("get"),
            403,
            None,
        );
    }
}

#[tokio::test]
async fn node_operations_belong_to_node_operators_who_cannot_read_requests() {
    let node = two_authorities(Backend::Sqlite, Arc::new(SystemClock)).await;
    let admin = node
        .user("admin", "es-ca", &["administrator"])
        .await
        .expect("admin");
    let operator = node
        .user("operator", "es-ca", &["node_operator"])
        .await
        .expect("op");
    for path in ["/api/v1/node/keys/rotate", "/api/v1/node/keys/announce"] {
        assert_problem(
            &admin.post(path, &json!({})).await.expect("post"),
            403,
            None,
        );
    }
    assert_problem(&admin.get("/api/v1/outbox").await.expect("get"), 403, None);
    let outbox = operator.get("/api/v1/outbox").await.expect("get");
    assert_eq!(outbox.status, 200, "{}", outbox.body);
    let announce = operator
        .post("/api/v1/node/keys/announce", &json!({}))
        .await
        .expect("post");
    assert_eq!(announce.status, 200, "{}", announce.body);
    for path in ["/api/v1/requests", "/api/v1/cases"] {
        assert_problem(&operator.get(path).await.expect("get"), 403, None);
    }
    assert_problem(
        &operator.get("/api/v1/users").await.expect("get"),
        403,
        None,
    );
}

#[tokio::test]
async fn administrators_create_edit_disable_reset_and_revoke() {
    for backend in backends() {
        let node = two_authorities(backend, Arc::new(SystemClock)).await;
        let admin = node
            .user("admin", "es-ca", &["administrator"])
            .await
            .expect("admin");
        // Bad input names the field and changes nothing.
        for (body, field) in [
            (new_user("x", "es-ca", &["analyst"]), "username"),
            (new_user("bea", "es-ca", &["no_such_role"]), "roles[0]"),
            (new_user("bea", "es-ca", &[]), "roles"),
            (
                new_user("bea", "es-ca", &["analyst", "supervisor", "analyst"]),
                "roles[2]",
            ),
            (
                json!({"username": "bea", "display_name": "Bea", "authority": "es-ca",
                       "roles": ["analyst"], "password": "            "}),
                "password",
            ),
            (
                json!({"username": "bea", "display_name": "Bea", "authority": "es-ca",
                       "roles": ["analyst"], "password": "1234567890qwerty"}),
                "password",
            ),
            (
                json!({"username": "bea", "display_name": "Bea", "authority": "es-ca",
                       "roles": ["analyst"], "password": "I am bea, hello there"}),
                "password",
            ),
        ] {
            let reply = admin.post("/api/v1/users", &body).await.expect("post");
            assert_problem(&reply, 422, Some(field));
        }
        assert_eq!(
            admin
                .get("/api/v1/users")
                .await
                .expect("list")
                .body
                .as_array()
                .map(Vec::len),
            Some(1)
        );
        let created = admin
            .post(
                "/api/v1/users",
                &new_user("bea", "es-ca", &["central_authority_officer"]),
            )
            .await
            .expect("post");
        assert_eq!(created.status, 201, "{}", created.body);
        let bea_id = created.text("id");
        let path = format!("/api/v1/users/{bea_id}");
        let bea = ApiClient::login(&node.url(), "bea", TEST_PASSWORD)
            .await
            .expect("bea");
        let bea_other = ApiClient::login(&node.url(), "bea", TEST_PASSWORD)
            .await
            .expect("bea");
        // Sessions are listed by public id, never by token.
        let sessions = admin
            .get(&format!("{path}/sessions"))
            .await
            .expect("sessions");
        assert_eq!(sessions.status, 200, "{}", sessions.body);
        let listed = sessions.body.as_array().expect("array");
        assert_eq!(listed.len(), 2, "{}", sessions.body);
        assert!(!sessions.body.to_string().contains(&bea.token));
        // Revoke one session: that token stops working, the other goes on.
        let own = bea.get(&format!("{path}/sessions")).await.expect("own");
        let current = own
            .body
            .as_array()
            .expect("array")
            .iter()
            .find(|session| session["current"] == true)
            .map(|session| session["id"].as_str().unwrap_or_default().to_string())
            .expect("current session");
        let revoked = admin
            .send(
                reqwest::Method::DELETE,
                &format!("{path}/sessions/{current}"),
                None,
            )
            .await
            .expect("revoke");
        assert_eq!(revoked.status, 204, "{}", revoked.body);
        assert_problem(&bea.get("/api/v1/cases").await.expect("get"), 401, None);
        assert_eq!(
            bea_other.get("/api/v1/cases").await.expect("get").status,
            200
        );
        // Edit: bad roles change nothing; good ones apply.
        let bad = admin
            .send(reqwest::Method::PATCH, &path, Some(&json!({"roles": []})))
            .await
            .expect("patch");
        assert_problem(&bad, 422, Some("roles"));
        let edited = admin
            .send(
                reqwest::Method::PATCH,
                &path,
                Some(&json!({"display_name": "Beatriz Ruiz", "roles": ["supervisor"]})),
            )
            .await
            .expect("patch");
        assert_eq!(edited.status, 200, "{}", edited.body);
        assert_eq!(edited.body["roles"], json!(["supervisor"]));
        assert_eq!(edited.body["display_name"], "Beatriz Ruiz");
        // Disabling ends the sessions and refuses log-in; enabling lets her back.
        let disabled = admin
            .send(
                reqwest::Method::PATCH,
                &path,
                Some(&json!({"active": false})),
            )
            .await
            .expect("patch");
        assert_eq!(disabled.body["active"], false, "{}", disabled.body);
        assert_problem(
            &bea_other.get("/api/v1/cases").await.expect("get"),
            401,
            None,
        );
        assert_problem(&login_reply(&node, "bea", TEST_PASSWORD).await, 401, None);
        let enabled = admin
            .send(
                reqwest::Method::PATCH,
                &path,
                Some(&json!({"active": true})),
            )
            .await
            .expect("patch");
        assert_eq!(enabled.body["active"], true, "{}", enabled.body);
        let bea = ApiClient::login(&node.url(), "bea", TEST_PASSWORD)
            .await
            .expect("bea");
        // An administrator cannot lock themselves out.
        let admin_id = admin.get("/api/v1/me").await.expect("me").text("id");
        let own_disable = admin
            .send(
                reqwest::Method::PATCH,
                &format!("/api/v1/users/{admin_id}"),
                Some(&json!({"active": false})),
            )
            .await
            .expect("patch");
        assert_problem(&own_disable, 422, Some("active"));
        // Reset: sessions end; the temporary password only lets her change it.
        let reset = admin
            .post(
                &format!("{path}/password-reset"),
                &json!({"password": "temporary pass 7431"}),
            )
            .await
            .expect("reset");
        assert_eq!(reset.status, 204, "{}", reset.body);
        assert_problem(&bea.get("/api/v1/me").await.expect("get"), 401, None);
        assert_problem(&login_reply(&node, "bea", TEST_PASSWORD).await, 401, None);
        let bea = ApiClient::login(&node.url(), "bea", "temporary pass 7431")
            .await
            .expect("temporary");
        let blocked = bea.get("/api/v1/cases").await.expect("get");
        assert_problem(&blocked, 403, None);
        assert_eq!(blocked.body["type"], "/problems/password-change-required");
        assert_eq!(
            bea.get("/api/v1/me").await.expect("me").body["must_change_password"],
            true
        );
        let other = ApiClient::login(&node.url(), "bea", "temporary pass 7431")
            .await
            .expect("second session");
        let change =
            |current: &str, new: &str| json!({"current_password": current, "new_password": new});
        for (body, field) in [
            (
                change("wrong password here", "a brand new phrase 99"),
                "current_password",
            ),
            (
                change("temporary pass 7431", "1234567890qwerty"),
                "new_password",
            ),
            (change("temporary pass 7431", "short"), "new_password"),
            (
                change("temporary pass 7431", "temporary pass 7431"),
                "new_password",
            ),
        ] {
            let reply = bea.put("/api/v1/me/password", &body).await.expect("put");
            assert_problem(&reply, 422, Some(field));
        }
        let changed = bea
            .put(
                "/api/v1/me/password",
                &change("temporary pass 7431", "a brand new phrase 99"),
            )
            .await
            .expect("put");
        assert_eq!(changed.status, 204, "{}", changed.body);
        assert_eq!(bea.get("/api/v1/cases").await.expect("get").status, 200);
        assert_problem(&other.get("/api/v1/me").await.expect("get"), 401, None);
        assert!(
            ApiClient::login(&node.url(), "bea", "a brand new phrase 99")
                .await
                .is_ok()
        );
        // Revoke all.
        let all = admin
            .send(reqwest::Method::DELETE, &format!("{path}/sessions"), None)
            .await
            .expect("delete");
        assert_eq!(all.status, 200, "{}", all.body);
        assert_eq!(all.body["revoked"], 2, "{}", all.body);
        assert_problem(&bea.get("/api/v1/me").await.expect("get"), 401, None);
    }
}

#[tokio::test]
async fn guessing_a_password_is_slowed_then_locked_out() {
    let node = two_authorities(Backend::Sqlite, Arc::new(FrozenClock(SystemClock.now()))).await;
    node.user("ana", "es-ca", &["central_authority_officer"])
        .await
        .expect("ana");
    let http = reqwest::Client::new();
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for _ in 0..7 {
        let response = http
            .post(format!("{}/api/v1/sessions", node.url()))
            .json(&json!({"username": "ana", "password": "guess guess guess"}))
            .send()
            .await
            .expect("post");
        statuses.push(response.status().as_u16());
        if response.status() == 429 {
            retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.parse::<u64>().ok());
            assert_eq!(
                response
                    .headers()
                    .get("content-type")
                    .and_then(|v| v.to_str().ok()),
                Some("application/problem+json")
            );
        }
    }
    assert_eq!(statuses, [401, 401, 401, 401, 401, 401, 429]);
    assert!(
        retry_after.is_some_and(|seconds| seconds >= 1),
        "{retry_after:?}"
    );
    // While locked, even the right password is refused; unknown names are throttled
    // the same way, so the lockout does not tell which names exist.
    assert_problem(&login_reply(&node, "ana", TEST_PASSWORD).await, 429, None);
    let mut unknown = Vec::new();
    for _ in 0..7 {
        unknown.push(
            login_reply(&node, "nobody-here", "guess guess guess")
                .await
                .status,
        );
    }
    assert_eq!(unknown, [401, 401, 401, 401, 401, 401, 429]);
    // The web page says so in words.
    let page = http
        .post(format!("{}/login", node.url()))
        .form(&[("username", "ana"), ("password", "guess guess guess")])
        .send()
        .await
        .expect("post");
    assert_eq!(page.status(), 429);
    let html = page.text().await.expect("text");
    assert!(html.contains("too many failed log-ins"), "{html}");
}

#[tokio::test]
async fn a_flood_of_wrong_log_ins_is_refused_while_the_node_stays_healthy() {
    let node = two_authorities(Backend::Sqlite, Arc::new(SystemClock)).await;
    node.user("ana", "es-ca", &["central_authority_officer"])
        .await
        .expect("ana");
    let http = reqwest::Client::new();
    let url = node.url();
    let attempts = (0..200).map(|n| {
        let http = http.clone();
        let url = url.clone();
        tokio::spawn(async move {
            let username = if n % 2 == 0 {
                "ana".to_string()
            } else {
                format!("user{n}")
            };
            http.post(format!("{url}/api/v1/sessions"))
                .json(&json!({"username": username, "password": "wrong wrong wrong"}))
                .send()
                .await
                .map(|response| response.status().as_u16())
        })
    });
    let attempts: Vec<_> = attempts.collect();
    let mut health = Vec::new();
    for _ in 0..10 {
        let response = http
            .get(format!("{url}/healthz"))
            .send()
            .await
            .expect("healthz");
        health.push(response.status().as_u16());
    }
    let mut throttled = 0;
    for attempt in attempts {
        let status = attempt.await.expect("task").expect("reply");
        assert!(
            status == 401 || status == 429,
            "a wrong log-in got {status}"
        );
        throttled += usize::from(status == 429);
    }
    // Most are refused by the throttle without any password hashing at all.
    assert!(throttled >= 100, "{throttled} of 200 throttled");
    assert!(health.iter().all(|status| *status == 200), "{health:?}");
}

#[tokio::test]
async fn idle_and_expired_sessions_end_and_are_purged() {
    let clock = Arc::new(SteppingClock::default());
    let node = two_authorities(Backend::Sqlite, clock.clone()).await;
    let ana = node
        .user("ana", "es-ca", &["central_authority_officer"])
        .await
        .expect("ana");
    let ana_id = ana.get("/api/v1/me").await.expect("me").text("id");
    // Used every 20 minutes, the session lives on.
    for _ in 0..3 {
        clock.advance_minutes(20);
        assert_eq!(ana.get("/api/v1/cases").await.expect("get").status, 200);
    }
    // Idle for 31 minutes (the default timeout is 30), it ends.
    clock.advance_minutes(31);
    assert_problem(&ana.get("/api/v1/cases").await.expect("get"), 401, None);
    // The next log-in purges it from the database.
    let count_rows = || async {
        let mut tx = node.app().store().begin().await.expect("begin");
        tx.sessions_of(&ana_id, Timestamp(0), Timestamp(i64::MIN))
            .await
            .expect("rows")
            .len()
    };
    assert_eq!(count_rows().await, 1);
    let again = ApiClient::login(&node.url(), "ana", TEST_PASSWORD)
        .await
        .expect("login");
    assert_eq!(count_rows().await, 1, "only the new session is left");
    // However busy, a session ends after a day.
    for _ in 0..((24 * 60) / 20) {
        clock.advance_minutes(20);
        let _ = again.get("/api/v1/me").await.expect("get");
    }
    clock.advance_minutes(20);
    assert_problem(&again.get("/api/v1/me").await.expect("get"), 401, None);
    assert_eq!(node.app().purge_sessions().await.expect("purge"), 1);
}

#[tokio::test]
async fn the_idle_timeout_is_configurable() {
    let clock = Arc::new(SteppingClock::default());
    let node = TestNode::spawn_with(
        "node-idle",
        Backend::Sqlite,
        |config| config.sessions.idle_timeout_minutes = 5,
        clock.clone(),
    )
    .await
    .expect("node");
    node.local_authority("es-ca", "ES", AuthorityKind::CentralAuthority)
        .await
        .expect("es");
    let ana = node.user("ana", "es-ca", &["analyst"]).await.expect("ana");
    clock.advance_minutes(6);
    assert_problem(&ana.get("/api/v1/me").await.expect("get"), 401, None);
}

async fn web_login(node: &TestNode, username: &str) -> reqwest::Response {
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none());
    let http = match &node.node.federation().federation.tls_certificate {
        Some(pem) => {
            http.add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes()).expect("pem"))
        }
        None => http,
    };
    http.build()
        .expect("client")
        .post(format!("{}/login", node.url()))
        .form(&[("username", username), ("password", TEST_PASSWORD)])
        .send()
        .await
        .expect("post")
}

fn set_cookie(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("set-cookie")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn the_session_cookie_is_secure_when_the_node_serves_https() {
    let node = TestNode::spawn_with(
        "node-tls",
        Backend::Sqlite,
        |config| {
            let directory = config.data_dir.clone().expect("data dir");
            let (cert, key) = comity_node::tls::generate_certificate(
                &directory,
                &["localhost".to_string(), "127.0.0.1".to_string()],
            )
            .expect("certificate");
            config.tls.cert_path = Some(cert);
            config.tls.key_path = Some(key);
        },
        Arc::new(SystemClock),
    )
    .await
    .expect("https node");
    assert!(node.url().starts_with("https://"), "{}", node.url());
    node.local_authority("es-ca", "ES", AuthorityKind::CentralAuthority)
        .await
        .expect("es");
    node.user("ana", "es-ca", &["analyst"]).await.expect("ana");
    let response = web_login(&node, "ana").await;
    assert_eq!(response.status(), 303);
    let cookie = set_cookie(&response);
    assert!(cookie.contains("; Secure"), "{cookie}");
    // Plain HTTP on loopback (tests, behind a proxy without public_url): not Secure.
    let plain = two_authorities(Backend::Sqlite, Arc::new(SystemClock)).await;
    plain.user("ana", "es-ca", &["analyst"]).await.expect("ana");
    let cookie = set_cookie(&web_login(&plain, "ana").await);
    assert!(cookie.starts_with("comity_session="), "{cookie}");
    assert!(!cookie.contains("Secure"), "{cookie}");
}

#[tokio::test]
async fn the_web_pages_let_an_administrator_run_the_accounts() {
    let node = two_authorities(Backend::Sqlite, Arc::new(SystemClock)).await;
    node.user("admin", "es-ca", &["administrator"])
        .await
        .expect("admin");
    node.user("karim", "ma-ca", &["analyst"])
        .await
        .expect("karim");
    let response = web_login(&node, "admin").await;
    assert_eq!(
        response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok()),
        Some("/users"),
        "an administrator lands on the user list"
    );
    let cookie = set_cookie(&response);
    let session = cookie.split(';').next().unwrap_or_default().to_string();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let users = http
        .get(format!("{}/users", node.url()))
        .header("cookie", &session)
        .header("origin", node.url())
        .send()
        .await
        .expect("get");
    assert_eq!(users.status(), 200);
    let html = users.text().await.expect("html");
    assert!(
        html.contains(">admin<") && !html.contains("karim"),
        "{html}"
    );
    // A form error is summarised, linked to the field and marked on it.
    let refused = http
        .post(format!("{}/users", node.url()))
        .header("cookie", &session)
        .header("origin", node.url())
        .form(&[
            ("username", "bea"),
            ("display_name", "Bea"),
            ("roles", "analyst"),
            ("password", "short"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(refused.status(), 422);
    let html = refused.text().await.expect("html");
    assert!(html.contains("href=\"#password\""), "{html}");
    assert!(html.contains("aria-invalid=\"true\""), "{html}");
    let created = http
        .post(format!("{}/users", node.url()))
        .header("cookie", &session)
        .header("origin", node.url())
        .form(&[
            ("username", "bea"),
            ("display_name", "Bea"),
            ("roles", "analyst"),
            ("password", "a long and fine phrase"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(created.status(), 303);
    let location = created
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let reset = http
        .post(format!("{}{location}/password-reset", node.url()))
        .header("cookie", &session)
        .header("origin", node.url())
        .form(&[("password", "temporary phrase 12")])
        .send()
        .await
        .expect("reset");
    assert_eq!(reset.status(), 200);
    // Bea must change her password first: every page sends her to the password page.
    let bea = http
        .post(format!("{}/login", node.url()))
        .form(&[("username", "bea"), ("password", "temporary phrase 12")])
        .send()
        .await
        .expect("login");
    assert_eq!(
        bea.headers().get("location").and_then(|v| v.to_str().ok()),
        Some("/account/password")
    );
    let bea_session = set_cookie(&bea)
        .split(';')
        .next()
        .unwrap_or_default()
        .to_string();
    let cases = http
        .get(format!("{}/requests", node.url()))
        .header("cookie", &bea_session)
        .header("origin", node.url())
        .send()
        .await
        .expect("get");
    assert_eq!(
        cases
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok()),
        Some("/account/password")
    );
    let changed = http
        .post(format!("{}/account/password", node.url()))
        .header("cookie", &bea_session)
        .header("origin", node.url())
        .form(&[
            ("current_password", "temporary phrase 12"),
            ("new_password", "my very own phrase 3"),
            ("confirm_password", "my very own phrase 3"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(changed.status(), 200);
    assert!(
        changed
            .text()
            .await
            .expect("html")
            .contains("Your password was changed")
    );
    // Saving a node operator's page, an administrator who is not one keeps that role.
    let operator = node
        .user("oscar", "es-ca", &["analyst", "node_operator"])
        .await
        .expect("op");
    let operator_id = operator.get("/api/v1/me").await.expect("me").text("id");
    let saved = http
        .post(format!("{}/users/{operator_id}", node.url()))
        .header("cookie", &session)
        .header("origin", node.url())
        .form(&[
            ("display_name", "Oscar Operator"),
            ("roles", "analyst"),
            ("active", "yes"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(saved.status(), 200);
    let me = operator.get("/api/v1/me").await.expect("me");
    assert_eq!(me.body["roles"], json!(["analyst", "node_operator"]));
    assert_eq!(me.body["display_name"], "Oscar Operator");
}

#[tokio::test]
async fn the_account_operations_are_described_in_openapi() {
    let node = two_authorities(Backend::Sqlite, Arc::new(SystemClock)).await;
    let document = ApiClient::anonymous(&node.url())
        .get("/api/openapi.json")
        .await
        .expect("get");
    let paths = &document.body["paths"];
    for (path, method) in [
        ("/api/v1/users", "post"),
        ("/api/v1/users/{user_id}", "patch"),
        ("/api/v1/users/{user_id}/password-reset", "post"),
        ("/api/v1/me/password", "put"),
        ("/api/v1/users/{user_id}/sessions", "get"),
        ("/api/v1/users/{user_id}/sessions", "delete"),
        ("/api/v1/users/{user_id}/sessions/{session_id}", "delete"),
    ] {
        assert!(
            paths[path][method].is_object(),
            "{method} {path} is described"
        );
    }
    let throttled = &paths["/api/v1/sessions"]["post"]["responses"]["429"];
    assert_eq!(
        throttled["$ref"], "#/components/responses/TooManyRequests",
        "{throttled}"
    );
    let shared = &document.body["components"]["responses"]["TooManyRequests"];
    assert!(shared["headers"]["Retry-After"].is_object(), "{shared}");
    assert!(
        shared["content"]["application/problem+json"].is_object(),
        "{shared}"
    );
}

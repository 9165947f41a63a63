//! The second factor over HTTP: a deciding role must enrol before doing anything else,
//! enrolment takes effect on a valid code, log-in then needs a code (accepted once per
//! time step) or a recovery code (once), and an administrator's reset sends the user back
//! to enrolment. Codes are computed here from the secret the node hands out, with HMAC-SHA-1
//! written out in the test, and the node runs on a clock the test moves.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use comity_app::Clock;
use comity_domain::{AuthorityKind, Timestamp};
use comity_testkit::{ApiClient, Backend, TEST_PASSWORD, TestNode, backends};
use comity_wire::api::UserInput;
use hmac::{Hmac, Mac};
use serde_json::json;

/// A clock the test sets.
#[derive(Debug)]
struct ManualClock(AtomicI64);

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.0.load(Ordering::SeqCst))
    }
}

impl ManualClock {
    fn advance_seconds(&self, seconds: i64) {
        self.0.fetch_add(seconds * 1000, Ordering::SeqCst);
    }
    fn unix_seconds(&self) -> i64 {
        self.0.load(Ordering::SeqCst) / 1000
    }
}

/// RFC 4648 base32, as authenticator apps read the secret.
fn base32(text: &str) -> Vec<u8> {
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut bytes = Vec::new();
    let (mut buffer, mut bits) = (0u64, 0u32);
    for character in text.chars() {
        let value = alphabet.find(character).expect("base32 character") as u64;
        buffer = (buffer << 5) | value;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            bytes.push((buffer >> bits) as u8);
        }
    }
    bytes
}

/// RFC 6238 TOTP with HMAC-SHA-1, 6 digits, 30-second steps.
fn code_at(secret: &[u8], unix_seconds: i64) -> String {
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret).expect("any key length");
    mac.update(&((unix_seconds / 30) as u64).to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = (digest[19] & 0x0f) as usize;
    let value = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    format!("{:06}", value % 1_000_000)
}

fn another_code(code: &str) -> String {
    let value: u32 = code.parse().expect("digits");
    format!("{:06}", (value + 1) % 1_000_000)
}

async fn spawn(backend: Backend, clock: Arc<ManualClock>) -> TestNode {
    let node = TestNode::spawn_with(
        "node-mfa",
        backend,
        |config| {
            config.second_factor.required_roles =
                vec!["supervisor".into(), "central_authority_officer".into()];
        },
        clock,
    )
    .await
    .expect("node starts");
    node.local_authority("es-ca", "ES", AuthorityKind::CentralAuthority)
        .await
        .expect("authority");
    node
}

async fn add_user(node: &TestNode, username: &str, roles: &[&str]) {
    node.app()
        .bootstrap()
        .insert_user(&UserInput {
            username: username.into(),
            display_name: format!("User {username}"),
            authority: "es-ca".into(),
            roles: roles.iter().map(|role| role.to_string()).collect(),
            password: TEST_PASSWORD.into(),
        })
        .await
        .expect("user");
}

async fn log_in(
    node: &TestNode,
    username: &str,
    extra: serde_json::Value,
) -> comity_testkit::Reply {
    let mut body = json!({"username": username, "password": TEST_PASSWORD});
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    ApiClient::anonymous(&node.url())
        .post("/api/v1/sessions", &body)
        .await
        .expect("reply")
}

fn problem_type(reply: &comity_testkit::Reply) -> String {
    assert_eq!(
        reply.content_type, "application/problem+json",
        "{:?}",
        reply.body
    );
    reply.text("type")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deciding_role_enrols_then_logs_in_with_a_code_once_per_step() {
    for backend in backends() {
        let clock = Arc::new(ManualClock(AtomicI64::new(1_790_000_000_000)));
        let node = spawn(backend, clock.clone()).await;
        add_user(&node, "sofia", &["supervisor"]).await;

        // Password only: a session that can do nothing but enrol.
        let reply = log_in(&node, "sofia", json!({})).await;
        assert_eq!(reply.status, 201, "{:?}", reply.body);
        let sofia = node_client(&node, reply);
        let refused = sofia.get("/api/v1/cases").await.expect("reply");
        assert_eq!(refused.status, 403);
        assert_eq!(
            problem_type(&refused),
            "/problems/second-factor-enrolment-required"
        );
        let status = sofia.get("/api/v1/me/second-factor").await.expect("reply");
        assert_eq!(status.body["required"], true);
        assert_eq!(status.body["enrolled"], false);

        // Enrolment shows the secret as a URI and as base32 text.
        let enrolment = sofia
            .post("/api/v1/me/second-factor", &json!({}))
            .await
            .expect("reply");
        assert_eq!(enrolment.status, 201, "{:?}", enrolment.body);
        let secret_text = enrolment.text("secret");
        let uri = enrolment.text("otpauth_uri");
        assert!(uri.starts_with("otpauth://totp/"), "{uri}");
        assert!(uri.contains(&format!("secret={secret_text}")), "{uri}");
        assert!(
            uri.contains("digits=6") && uri.contains("period=30"),
            "{uri}"
        );
        let secret = base32(&secret_text);
        assert_eq!(secret.len(), 20);

        // Not in effect until confirmed: a password log-in still needs no code.
        assert_eq!(log_in(&node, "sofia", json!({})).await.status, 201);

        // A wrong code is refused, naming the field, and changes nothing.
        let now_code = code_at(&secret, clock.unix_seconds());
        let wrong = sofia
            .post(
                "/api/v1/me/second-factor/confirm",
                &json!({"code": another_code(&now_code)}),
            )
            .await
            .expect("reply");
        assert_eq!(wrong.status, 422);
        assert_eq!(wrong.body["field"], "code");
        let malformed = sofia
            .post(
                "/api/v1/me/second-factor/confirm",
                &json!({"code": "12ab56"}),
            )
            .await
            .expect("reply");
        assert_eq!(malformed.status, 422);
        assert_eq!(malformed.body["field"], "code");

        let confirmed = sofia
            .post(
                "/api/v1/me/second-factor/confirm",
                &json!({"code": now_code}),
            )
            .await
            .expect("reply");
        assert_eq!(confirmed.status, 200, "{:?}", confirmed.body);
        let recovery_codes: Vec<String> = confirmed.body["recovery_codes"]
            .as_array()
            .expect("codes")
            .iter()
            .map(|code| code.as_str().expect("text").to_string())
            .collect();
        assert_eq!(recovery_codes.len(), 10);
        // The session that enrolled is now a full one.
        assert_eq!(sofia.get("/api/v1/cases").await.expect("reply").status, 200);
        // A second enrolment over a confirmed one is a conflict.
        let again = sofia
            .post("/api/v1/me/second-factor", &json!({}))
            .await
            .expect("reply");
        assert_eq!(again.status, 409);

        // Log-in now asks for the second factor.
        let missing = log_in(&node, "sofia", json!({})).await;
        assert_eq!(missing.status, 401);
        assert_eq!(problem_type(&missing), "/problems/second-factor-required");
        // The code that confirmed the enrolment is spent for its time step.
        let replayed = log_in(&node, "sofia", json!({"totp_code": now_code})).await;
        assert_eq!(replayed.status, 401, "{:?}", replayed.body);
        assert_eq!(problem_type(&replayed), "/problems/second-factor-rejected");
        assert_eq!(replayed.body["field"], "totp_code");

        clock.advance_seconds(30);
        let next_code = code_at(&secret, clock.unix_seconds());
        let wrong = log_in(
            &node,
            "sofia",
            json!({"totp_code": another_code(&next_code)}),
        )
        .await;
        assert_eq!(wrong.status, 401);
        assert_eq!(wrong.body["field"], "totp_code");
        let malformed = log_in(&node, "sofia", json!({"totp_code": "12345"})).await;
        assert_eq!(malformed.status, 422);
        assert_eq!(malformed.body["field"], "totp_code");
        let ok = log_in(&node, "sofia", json!({"totp_code": next_code})).await;
        assert_eq!(ok.status, 201, "{:?}", ok.body);
        let replayed = log_in(&node, "sofia", json!({"totp_code": next_code})).await;
        assert_eq!(replayed.status, 401, "a code works once per time step");
        // A code from long ago is refused.
        let stale = code_at(&secret, clock.unix_seconds() - 300);
        assert_eq!(
            log_in(&node, "sofia", json!({"totp_code": stale}))
                .await
                .status,
            401
        );

        // Guessing is locked out: after five wrong codes even the right one is refused
        // for fifteen minutes, while a recovery code still works.
        clock.advance_seconds(30);
        let right = code_at(&secret, clock.unix_seconds());
        for _ in 0..5 {
            let wrong = log_in(&node, "sofia", json!({"totp_code": another_code(&right)})).await;
            assert_eq!(wrong.status, 401);
        }
        let locked = log_in(&node, "sofia", json!({"totp_code": right})).await;
        assert_eq!(locked.status, 401);
        assert!(
            locked.text("detail").contains("too many wrong codes"),
            "{:?}",
            locked.body
        );
        let recovered = log_in(&node, "sofia", json!({"recovery_code": recovery_codes[5]})).await;
        assert_eq!(
            recovered.status, 201,
            "a recovery code works during the lockout"
        );
        clock.advance_seconds(15 * 60);
        let right = code_at(&secret, clock.unix_seconds());
        let unlocked = log_in(&node, "sofia", json!({"totp_code": right})).await;
        assert_eq!(unlocked.status, 201, "{:?}", unlocked.body);

        // A recovery code works once, however it is typed.
        let recovery = recovery_codes[3].to_uppercase().replace('-', " ");
        let ok = log_in(&node, "sofia", json!({"recovery_code": recovery})).await;
        assert_eq!(ok.status, 201, "{:?}", ok.body);
        let reused = log_in(&node, "sofia", json!({"recovery_code": recovery_codes[3]})).await;
        assert_eq!(reused.status, 401);
        assert_eq!(reused.body["field"], "recovery_code");
        let status = sofia.get("/api/v1/me/second-factor").await.expect("reply");
        assert_eq!(status.body["recovery_codes_left"], 8);

        // Only an administrator resets; the reset ends the user's sessions and the next
        // log-in must enrol again.
        add_user(&node, "alex", &["requesting_prosecutor"]).await;
        let alex = node_client(&node, log_in(&node, "alex", json!({})).await);
        let forbidden = alex
            .send(
                reqwest::Method::DELETE,
                "/api/v1/users/sofia/second-factor",
                None,
            )
            .await
            .expect("reply");
        assert_eq!(forbidden.status, 403);
        add_user(&node, "admin", &["administrator"]).await;
        let admin = node_client(&node, log_in(&node, "admin", json!({})).await);
        let unknown = admin
            .send(
                reqwest::Method::DELETE,
                "/api/v1/users/nobody/second-factor",
                None,
            )
            .await
            .expect("reply");
        assert_eq!(unknown.status, 404);
        let reset = admin
            .send(
                reqwest::Method::DELETE,
                "/api/v1/users/sofia/second-factor",
                None,
            )
            .await
            .expect("reply");
        assert_eq!(reset.status, 204, "{:?}", reset.body);
        assert_eq!(
            sofia
                .get("/api/v1/me/second-factor")
                .await
                .expect("reply")
                .status,
            401
        );
        let restricted = node_client(&node, log_in(&node, "sofia", json!({})).await);
        assert_eq!(
            restricted.get("/api/v1/cases").await.expect("reply").status,
            403
        );
        let status = restricted
            .get("/api/v1/me/second-factor")
            .await
            .expect("reply");
        assert_eq!(status.body["enrolled"], false);
        assert_eq!(status.body["recovery_codes_left"], 0);

        // The endpoints are described, with their problems.
        let spec = ApiClient::anonymous(&node.url())
            .get("/api/openapi.json")
            .await
            .expect("spec");
        let paths = &spec.body["paths"];
        for (path, method) in [
            ("/api/v1/me/second-factor", "get"),
            ("/api/v1/me/second-factor", "post"),
            ("/api/v1/me/second-factor/confirm", "post"),
            ("/api/v1/users/{username}/second-factor", "delete"),
        ] {
            assert!(
                paths[path][method].is_object(),
                "{method} {path} is described"
            );
        }
        assert_eq!(
            paths["/api/v1/sessions"]["post"]["responses"]["401"]["$ref"],
            "#/components/responses/Unauthenticated",
            "a second-factor refusal is a problem like any 401"
        );
        assert!(spec.body["components"]["schemas"]["EnrolmentView"].is_object());
        assert!(
            spec.body["components"]["schemas"]["LoginInput"]["properties"]["totp_code"].is_object()
        );

        node.node.stop().await;
    }
}

fn node_client(node: &TestNode, reply: comity_testkit::Reply) -> ApiClient {
    assert_eq!(reply.status, 201, "{:?}", reply.body);
    ApiClient::with_client(&node.url(), &reply.text("token"), reqwest::Client::new())
}

/// The same in the browser's terms: the restricted session is sent to the enrolment
/// page, enrols there, and the log-in form then asks for a code.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_web_interface_enrols_and_asks_for_the_code() {
    let clock = Arc::new(ManualClock(AtomicI64::new(1_790_000_000_000)));
    let node = spawn(Backend::Sqlite, clock.clone()).await;
    add_user(&node, "carla", &["central_authority_officer"]).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let url = node.url();
    let form = |fields: &[(&str, &str)]| {
        fields
            .iter()
            .map(|(key, value)| format!("{key}={}", value.replace(' ', "+")))
            .collect::<Vec<_>>()
            .join("&")
    };
    let post = |path: &str, body: String, cookie: Option<&str>| {
        let mut request = http
            .post(format!("{url}{path}"))
            .header("content-type", "application/x-www-form-urlencoded")
            // A browser sends the page's origin with every form it posts.
            .header("origin", &url)
            .body(body);
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        request.send()
    };
    let session_cookie = |response: &reqwest::Response| {
        response
            .headers()
            .get("set-cookie")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(';').next())
            .map(str::to_string)
    };

    let login = post(
        "/login",
        form(&[("username", "carla"), ("password", TEST_PASSWORD)]),
        None,
    )
    .await
    .expect("login");
    assert_eq!(login.status(), 303);
    let cookie = session_cookie(&login).expect("session cookie");
    let requests = http
        .get(format!("{url}/requests"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("requests");
    assert_eq!(requests.status(), 303);
    assert_eq!(requests.headers()["location"], "/second-factor");

    let enrol = post("/second-factor/enrol", String::new(), Some(&cookie))
        .await
        .expect("enrol");
    assert_eq!(enrol.status(), 200);
    let page = enrol.text().await.expect("page");
    let secret_text = page
        .split("<code id=\"secret\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .expect("the page shows the secret")
        .to_string();
    assert!(page.contains("otpauth://totp/"));
    let secret = base32(&secret_text);
    let code = code_at(&secret, clock.unix_seconds());
    let confirmed = post(
        "/second-factor/confirm",
        form(&[("code", &code)]),
        Some(&cookie),
    )
    .await
    .expect("confirm");
    assert_eq!(confirmed.status(), 200);
    let page = confirmed.text().await.expect("page");
    assert_eq!(
        page.matches("<li><code>").count(),
        10,
        "ten recovery codes: {page}"
    );
    let requests = http
        .get(format!("{url}/requests"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("requests");
    assert_eq!(requests.status(), 200);

    // Log-in without the code is refused on the page, with the code it succeeds.
    let without = post(
        "/login",
        form(&[("username", "carla"), ("password", TEST_PASSWORD)]),
        None,
    )
    .await
    .expect("login");
    assert_eq!(without.status(), 401);
    assert!(
        without
            .text()
            .await
            .expect("page")
            .contains("id=\"code-error\"")
    );
    clock.advance_seconds(30);
    let code = code_at(&secret, clock.unix_seconds());
    let with = post(
        "/login",
        form(&[
            ("username", "carla"),
            ("password", TEST_PASSWORD),
            ("code", &code),
        ]),
        None,
    )
    .await
    .expect("login");
    assert_eq!(with.status(), 303);
    let carla_cookie = session_cookie(&with).expect("session cookie");

    // The reset page is for administrators only; a reset ends the user's sessions.
    let not_admin = http
        .get(format!("{url}/admin/second-factor"))
        .header("cookie", &carla_cookie)
        .send()
        .await
        .expect("page");
    assert_eq!(not_admin.status(), 403);
    add_user(&node, "root", &["administrator"]).await;
    let admin_login = post(
        "/login",
        form(&[("username", "root"), ("password", TEST_PASSWORD)]),
        None,
    )
    .await
    .expect("login");
    let admin_cookie = session_cookie(&admin_login).expect("session cookie");
    let unknown = post(
        "/admin/second-factor",
        form(&[("username", "nobody")]),
        Some(&admin_cookie),
    )
    .await
    .expect("reset");
    assert_eq!(unknown.status(), 404);
    assert!(
        unknown
            .text()
            .await
            .expect("page")
            .contains("id=\"username-error\"")
    );
    let reset = post(
        "/admin/second-factor",
        form(&[("username", "carla")]),
        Some(&admin_cookie),
    )
    .await
    .expect("reset");
    assert_eq!(reset.status(), 200);
    assert!(reset.text().await.expect("page").contains("was reset"));
    let ended = http
        .get(format!("{url}/requests"))
        .header("cookie", &carla_cookie)
        .send()
        .await
        .expect("requests");
    assert_eq!(ended.status(), 303);
    assert_eq!(ended.headers()["location"], "/login");
    node.node.stop().await;
}

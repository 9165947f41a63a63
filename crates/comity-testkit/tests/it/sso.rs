//! Single sign-on against a real OpenID Connect provider: the `oidc-provider` package
//! from npm, run by node from `crates/comity-testkit/oidc` (installed there with
//! `npm ci`, which `.ci/run` does). The test plays the browser: it follows redirects,
//! keeps each site's cookies, fills in the provider's log-in form, and checks the session
//! Comity opens. Without node or the installed package the test is skipped with a note,
//! unless `CI` is set: then it fails.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use comity_app::SystemClock;
use comity_domain::AuthorityKind;
use comity_node::config::{OidcConfig, SecretText};
use comity_testkit::{Backend, TestNode};
use reqwest::Url;
use serde_json::Value;

const CLIENT_SECRET: &str = "a-client-secret-for-tests-only";

/// The provider process, stopped when dropped.
struct Provider {
    child: Child,
    issuer: String,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn provider_directory() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("oidc")
}

/// Whether node and the installed provider are there; otherwise skips (or fails in CI).
fn provider_available() -> bool {
    let node_runs = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success());
    let installed = provider_directory()
        .join("node_modules/oidc-provider/package.json")
        .is_file();
    if node_runs && installed {
        return true;
    }
    let message = "the single sign-on test needs node and `npm ci` in crates/comity-testkit/oidc";
    if std::env::var_os("CI").is_some() {
        panic!("{message}");
    }
    eprintln!("\n!!!!!!!!\n!!! skipped: {message}\n!!!!!!!!\n");
    false
}

/// A free port for the provider, below the range the system hands out for port 0
/// (32768 and up on Linux): the node started between this choice and the provider's
/// start, and every other test's listener, bind port 0 and so cannot take it meanwhile.
fn free_port() -> u16 {
    use rand::Rng;
    let mut random = rand::thread_rng();
    for _ in 0..1000 {
        let port = random.gen_range(20_000..32_000);
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port between 20000 and 32000")
}

fn start_provider(port: u16, redirect_uri: &str) -> Provider {
    let mut child = Command::new("node")
        .arg("provider.mjs")
        .current_dir(provider_directory())
        .env("PORT", port.to_string())
        .env("REDIRECT_URI", redirect_uri)
        .env("CLIENT_SECRET", CLIENT_SECRET)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("node starts");
    let stdout = child.stdout.take().expect("stdout");
    // Read until the provider says where it listens, then keep draining its output so
    // it never writes to a closed pipe.
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut sender = Some(sender);
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(issuer) = line.strip_prefix("listening ")
                && let Some(sender) = sender.take()
            {
                let _ = sender.send(issuer.to_string());
            }
        }
    });
    let issuer = receiver
        .recv_timeout(std::time::Duration::from_secs(30))
        .expect("the provider reports where it listens");
    Provider { child, issuer }
}

/// A browser: follows redirects itself and keeps cookies per host and port.
struct Browser {
    http: reqwest::Client,
    cookies: HashMap<String, HashMap<String, String>>,
}

/// Where a walk through redirects stopped.
struct Stop {
    url: Url,
    status: u16,
    body: String,
}

fn site(url: &Url) -> String {
    format!(
        "{}:{}",
        url.host_str().unwrap_or(""),
        url.port_or_known_default().unwrap_or(0)
    )
}

impl Browser {
    fn new() -> Browser {
        Browser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            cookies: HashMap::new(),
        }
    }

    fn cookie_header(&self, url: &Url) -> String {
        self.cookies
            .get(&site(url))
            .map(|jar| {
                jar.iter()
                    .map(|(name, value)| format!("{name}={value}"))
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .unwrap_or_default()
    }

    fn cookie(&self, url: &Url, name: &str) -> Option<String> {
        self.cookies.get(&site(url))?.get(name).cloned()
    }

    async fn request(
        &mut self,
        method: reqwest::Method,
        url: &Url,
        form: Option<&[(&str, &str)]>,
    ) -> reqwest::Response {
        let mut request = self.http.request(method, url.clone());
        let cookies = self.cookie_header(url);
        if !cookies.is_empty() {
            request = request.header("cookie", cookies);
        }
        if let Some(form) = form {
            request = request.form(form);
        }
        let response = request.send().await.expect("response");
        let jar = self.cookies.entry(site(url)).or_default();
        for value in response.headers().get_all("set-cookie") {
            let text = value.to_str().expect("cookie text");
            let Some((name, value)) = text.split(';').next().and_then(|pair| pair.split_once('='))
            else {
                continue;
            };
            if value.is_empty() || text.to_ascii_lowercase().contains("max-age=0") {
                jar.remove(name.trim());
            } else {
                jar.insert(name.trim().to_string(), value.to_string());
            }
        }
        response
    }

    /// Requests `url` and follows redirects, stopping before any URL that starts with
    /// `stop_before` (returned with status 0).
    async fn walk(
        &mut self,
        method: reqwest::Method,
        url: Url,
        form: Option<&[(&str, &str)]>,
        stop_before: &str,
    ) -> Stop {
        let mut response = self.request(method, &url, form).await;
        let mut current = url;
        for _ in 0..20 {
            let status = response.status().as_u16();
            if !(300..400).contains(&status) {
                let body = response.text().await.expect("body");
                return Stop {
                    url: current,
                    status,
                    body,
                };
            }
            let location = response.headers()["location"]
                .to_str()
                .expect("location")
                .to_string();
            let next = current.join(&location).expect("redirect URL");
            if next.as_str().starts_with(stop_before) {
                return Stop {
                    url: next,
                    status: 0,
                    body: String::new(),
                };
            }
            response = self.request(reqwest::Method::GET, &next, None).await;
            current = next;
        }
        panic!("too many redirects");
    }
}

/// The `action` of the first form on a page.
fn form_action(page: &str) -> String {
    page.split("action=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no form on the page: {page}"))
        .replace("&amp;", "&")
}

/// Starts a log-in at the node, logs in at the provider as `account`, and returns the
/// callback URL the provider sends the browser to (not yet visited).
async fn log_in_at_provider(browser: &mut Browser, node_url: &str, account: &str) -> Url {
    let callback = format!("{node_url}/login/oidc/callback");
    let start = Url::parse(&format!("{node_url}/login/oidc")).expect("url");
    fill_in_provider_form(browser, start, account, &callback).await
}

/// Walks from `start` to the provider's log-in form, logs in as `account` and returns the
/// URL the provider then sends the browser to, which starts with `redirect_uri`.
async fn fill_in_provider_form(
    browser: &mut Browser,
    start: Url,
    account: &str,
    redirect_uri: &str,
) -> Url {
    let form_page = browser
        .walk(reqwest::Method::GET, start, None, redirect_uri)
        .await;
    assert_eq!(
        form_page.status, 200,
        "the provider's log-in form: {}",
        form_page.body
    );
    assert!(
        form_page.body.contains("name=\"login\""),
        "{}",
        form_page.body
    );
    let action = form_page
        .url
        .join(&form_action(&form_page.body))
        .expect("action");
    let fields = [
        ("prompt", "login"),
        ("login", account),
        ("password", "any password"),
    ];
    let back = browser
        .walk(reqwest::Method::POST, action, Some(&fields), redirect_uri)
        .await;
    assert_eq!(
        back.status, 0,
        "the provider sends the browser back: {}",
        back.body
    );
    back.url
}

async fn spawn_node(issuer: &str, backend: Backend) -> TestNode {
    let issuer = issuer.to_string();
    let node = TestNode::spawn_with(
        "node-sso",
        backend,
        move |config| {
            // SSO users are exempt by default: their provider owns the second factor.
            config.second_factor.required_roles = vec!["supervisor".into()];
            config.oidc = Some(OidcConfig {
                issuer,
                client_id: "comity".into(),
                client_secret: Some(SecretText(CLIENT_SECRET.into())),
                client_secret_env: "COMITY_OIDC_CLIENT_SECRET".into(),
                redirect_url: None,
                authority: "es-ca".into(),
                role_claim: "comity_roles".into(),
                username_claim: "preferred_username".into(),
                display_name_claim: "name".into(),
                allowed_roles: vec![
                    "central_authority_officer".into(),
                    "supervisor".into(),
                    "requesting_prosecutor".into(),
                ],
                scopes: vec!["openid".into(), "profile".into(), "comity".into()],
                provider_name: "Test Provider".into(),
            });
        },
        Arc::new(SystemClock),
    )
    .await
    .expect("node starts");
    node.local_authority("es-ca", "ES", AuthorityKind::CentralAuthority)
        .await
        .expect("authority");
    node
}

async fn me(browser: &mut Browser, node_url: &str) -> (u16, Value) {
    let url = Url::parse(&format!("{node_url}/api/v1/me")).expect("url");
    let response = browser.request(reqwest::Method::GET, &url, None).await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_sign_on_maps_the_provider_s_claims_to_authority_and_roles() {
    if !provider_available() {
        return;
    }
    for backend in comity_testkit::backends() {
        maps_claims_on(backend).await;
    }
}

async fn maps_claims_on(backend: Backend) {
    let provider_port = free_port();
    let issuer = format!("http://127.0.0.1:{provider_port}");
    let node = spawn_node(&issuer, backend).await;
    let node_url = node.url();
    let provider = start_provider(provider_port, &format!("{node_url}/login/oidc/callback"));
    assert_eq!(provider.issuer, issuer);

    // The log-in page offers the provider.
    let mut browser = Browser::new();
    let login_page = browser
        .walk(
            reqwest::Method::GET,
            Url::parse(&format!("{node_url}/login")).expect("url"),
            None,
            "-",
        )
        .await;
    assert!(
        login_page.body.contains("Log in with Test Provider"),
        "{}",
        login_page.body
    );

    // Alice: a first log-in creates her account in the configured authority, with the
    // roles her claims grant.
    let callback = log_in_at_provider(&mut browser, &node_url, "alice").await;
    let query: HashMap<String, String> = callback.query_pairs().into_owned().collect();
    assert!(
        query.contains_key("code") && query.contains_key("state"),
        "{callback}"
    );
    let landed = browser
        .walk(reqwest::Method::GET, callback.clone(), None, "-")
        .await;
    assert_eq!(landed.status, 200, "{}", landed.body);
    assert!(browser.cookie(&callback, "comity_session").is_some());
    let (status, user) = me(&mut browser, &node_url).await;
    assert_eq!(status, 200, "{user}");
    assert_eq!(user["username"], "alice.sso");
    assert_eq!(user["display_name"], "Alice Example");
    assert_eq!(user["authority"], "es-ca");
    assert_eq!(
        user["roles"],
        serde_json::json!(["central_authority_officer", "supervisor"])
    );
    // The session is a full one (the provider owns SSO users' second factor).
    let cases = Url::parse(&format!("{node_url}/api/v1/cases")).expect("url");
    assert_eq!(
        browser
            .request(reqwest::Method::GET, &cases, None)
            .await
            .status(),
        200
    );

    // The same callback a second time: the state is spent.
    let mut replay = Browser::new();
    replay.cookies = browser.cookies.clone();
    replay
        .cookies
        .entry(site(&callback))
        .or_default()
        .insert("comity_oidc_state".into(), query["state"].clone());
    replay
        .cookies
        .entry(site(&callback))
        .or_default()
        .remove("comity_session");
    let again = replay
        .walk(reqwest::Method::GET, callback.clone(), None, "-")
        .await;
    assert_eq!(again.status, 401, "{}", again.body);
    assert!(replay.cookie(&callback, "comity_session").is_none());

    // A second log-in finds the same account.
    let mut second = Browser::new();
    let callback = log_in_at_provider(&mut second, &node_url, "alice").await;
    assert_eq!(
        second
            .walk(reqwest::Method::GET, callback, None, "-")
            .await
            .status,
        200
    );
    let (_, again) = me(&mut second, &node_url).await;
    assert_eq!(again["id"], user["id"]);

    // Bob's claims hold a role code that does not exist: it is left out.
    let mut bob = Browser::new();
    let callback = log_in_at_provider(&mut bob, &node_url, "bob").await;
    assert_eq!(
        bob.walk(reqwest::Method::GET, callback, None, "-")
            .await
            .status,
        200
    );
    let (_, bob_user) = me(&mut bob, &node_url).await;
    assert_eq!(
        bob_user["roles"],
        serde_json::json!(["requesting_prosecutor"])
    );
    drop(provider);
    node.node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_sign_on_refuses_a_wrong_state_and_roles_not_allowed() {
    if !provider_available() {
        return;
    }
    let provider_port = free_port();
    let issuer = format!("http://127.0.0.1:{provider_port}");
    let node = spawn_node(&issuer, Backend::Sqlite).await;
    let node_url = node.url();
    let provider = start_provider(provider_port, &format!("{node_url}/login/oidc/callback"));

    // A callback whose state is not the one this browser started with.
    let mut browser = Browser::new();
    let callback = log_in_at_provider(&mut browser, &node_url, "alice").await;
    let mut tampered = callback.clone();
    let pairs: Vec<(String, String)> = callback
        .query_pairs()
        .into_owned()
        .map(|(key, value)| {
            if key == "state" {
                (key, "a-state-this-browser-never-saw".to_string())
            } else {
                (key, value)
            }
        })
        .collect();
    tampered.query_pairs_mut().clear().extend_pairs(pairs);
    let refused = browser
        .walk(reqwest::Method::GET, tampered, None, "-")
        .await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(refused.body.contains("state mismatch"), "{}", refused.body);
    assert!(browser.cookie(&callback, "comity_session").is_none());
    assert_eq!(me(&mut browser, &node_url).await.0, 401);

    // Mallory's provider claims a role that no provider may grant here.
    let mut mallory = Browser::new();
    let callback = log_in_at_provider(&mut mallory, &node_url, "mallory").await;
    let refused = mallory
        .walk(reqwest::Method::GET, callback.clone(), None, "-")
        .await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(mallory.cookie(&callback, "comity_session").is_none());
    // Nobody has no roles at all.
    let mut nobody = Browser::new();
    let callback = log_in_at_provider(&mut nobody, &node_url, "nobody").await;
    assert_eq!(
        nobody
            .walk(reqwest::Method::GET, callback, None, "-")
            .await
            .status,
        403
    );
    // Neither account was created.
    let mut tx = node.app().store().begin().await.expect("tx");
    assert!(
        tx.user_by_username("mallory.sso")
            .await
            .expect("query")
            .is_none()
    );
    assert!(
        tx.user_by_username("nobody.sso")
            .await
            .expect("query")
            .is_none()
    );
    drop(tx);
    drop(provider);
    node.node.stop().await;
}

/// ID tokens issued by the real provider verify; the same tokens altered, replayed for
/// another nonce or audience, expired, unsigned or checked against other keys do not.
/// The test is the client here: it runs the code flow itself to hold a real ID token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_id_tokens_verify_and_altered_ones_do_not() {
    use base64::Engine;
    use comity_app::sso::{JwkSet, SsoMapping, pkce_challenge, verify_id_token};
    use comity_domain::{Role, Timestamp};
    if !provider_available() {
        return;
    }
    let port = free_port();
    let redirect_uri = "http://127.0.0.1:9/callback";
    let provider = start_provider(port, redirect_uri);
    let issuer = provider.issuer.clone();
    let verifier = "a-pkce-verifier-of-at-least-forty-three-characters-long";
    let start = Url::parse_with_params(
        &format!("{issuer}/auth"),
        [
            ("response_type", "code"),
            ("client_id", "comity"),
            ("redirect_uri", redirect_uri),
            ("scope", "openid profile comity"),
            ("state", "test-state"),
            ("nonce", "test-nonce"),
            ("code_challenge", pkce_challenge(verifier).as_str()),
            ("code_challenge_method", "S256"),
        ],
    )
    .expect("url");
    let mut browser = Browser::new();
    let back = fill_in_provider_form(&mut browser, start, "alice", redirect_uri).await;
    let code = back
        .query_pairs()
        .find(|(key, _)| key == "code")
        .map(|(_, value)| value.into_owned())
        .expect("a code");
    let http = reqwest::Client::new();
    let tokens: Value = http
        .post(format!("{issuer}/token"))
        .basic_auth("comity", Some(CLIENT_SECRET))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", redirect_uri),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .expect("token response")
        .json()
        .await
        .expect("json");
    let id_token = tokens["id_token"]
        .as_str()
        .expect("an ID token")
        .to_string();
    let keys: JwkSet = http
        .get(format!("{issuer}/jwks"))
        .send()
        .await
        .expect("jwks")
        .json()
        .await
        .expect("json");
    let mapping = SsoMapping {
        issuer: issuer.clone(),
        client_id: "comity".into(),
        authority: "es-ca".parse().expect("authority"),
        role_claim: "comity_roles".into(),
        username_claim: "preferred_username".into(),
        display_name_claim: "name".into(),
        allowed_roles: vec![Role::Supervisor],
    };
    let now = comity_app::Clock::now(&SystemClock);

    let claims = verify_id_token(&id_token, &keys, &mapping, "test-nonce", now).expect("verifies");
    assert_eq!(claims["preferred_username"], "alice.sso");
    assert_eq!(claims["sub"], "alice");

    // Another log-in's nonce.
    assert!(verify_id_token(&id_token, &keys, &mapping, "another-nonce", now).is_err());
    // Meant for another client.
    let other_client = SsoMapping {
        client_id: "another-client".into(),
        ..mapping.clone()
    };
    assert!(verify_id_token(&id_token, &keys, &other_client, "test-nonce", now).is_err());
    // From another issuer.
    let other_issuer = SsoMapping {
        issuer: "http://127.0.0.1:1".into(),
        ..mapping.clone()
    };
    assert!(verify_id_token(&id_token, &keys, &other_issuer, "test-nonce", now).is_err());
    // Expired: two hours after its expiry.
    let expiry = claims["exp"].as_i64().expect("exp");
    let later = Timestamp((expiry + 7200) * 1000);
    assert!(verify_id_token(&id_token, &keys, &mapping, "test-nonce", later).is_err());
    // Checked against keys that did not sign it.
    let no_keys = JwkSet { keys: Vec::new() };
    assert!(verify_id_token(&id_token, &no_keys, &mapping, "test-nonce", now).is_err());

    // The claims altered to grant a role, signature kept.
    let parts: Vec<&str> = id_token.split('.').collect();
    assert_eq!(parts.len(), 3);
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut payload: Value =
        serde_json::from_slice(&engine.decode(parts[1]).expect("base64")).expect("json");
    payload["comity_roles"] = serde_json::json!(["administrator"]);
    let altered_payload = engine.encode(serde_json::to_vec(&payload).expect("json"));
    let altered = format!("{}.{altered_payload}.{}", parts[0], parts[2]);
    assert!(verify_id_token(&altered, &keys, &mapping, "test-nonce", now).is_err());
    // The same claims without a signature (`alg: none`).
    let unsigned_header = engine.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let unsigned = format!("{unsigned_header}.{}.", parts[1]);
    assert!(verify_id_token(&unsigned, &keys, &mapping, "test-nonce", now).is_err());
    // Signed with HMAC over the public key's modulus (algorithm confusion).
    let hs_header = engine.encode(br#"{"alg":"HS256","typ":"JWT","kid":"test-key-1"}"#);
    let confused = format!("{hs_header}.{}.{}", parts[1], parts[2]);
    assert!(verify_id_token(&confused, &keys, &mapping, "test-nonce", now).is_err());
    drop(provider);
}

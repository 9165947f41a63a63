//! What protects a browser user: the session cookie works only from the node's own pages
//! (on the API too), and every response carries the browser security headers.

use comity_domain::AuthorityKind;
use comity_testkit::{ApiClient, Backend, TEST_PASSWORD, TestNode};
use reqwest::header::HeaderMap;
use serde_json::json;

/// A node with one prosecutor, and that prosecutor's session cookie (`name=value`) from
/// the login form.
async fn node_with_cookie(node: &TestNode) -> (ApiClient, String) {
    node.local_authority("es-ca", "ES", AuthorityKind::CentralAuthority)
        .await
        .expect("authority");
    let prosecutor = node
        .user("fiscal", "es-ca", &["requesting_prosecutor"])
        .await
        .expect("user");
    let cookie = log_in_by_form(node).await;
    (prosecutor, cookie)
}

async fn log_in_by_form(node: &TestNode) -> String {
    let http = no_redirects(node);
    let response = http
        .post(format!("{}/login", node.url()))
        .header("origin", node.url())
        .form(&[("username", "fiscal"), ("password", TEST_PASSWORD)])
        .send()
        .await
        .expect("login");
    assert_eq!(response.status().as_u16(), 303);
    set_cookie(response.headers())
}

fn set_cookie(headers: &HeaderMap) -> String {
    headers
        .get("set-cookie")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

fn no_redirects(node: &TestNode) -> reqwest::Client {
    let mut builder = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none());
    if let Some(pem) = &node.node.federation().federation.tls_certificate {
        builder = builder
            .add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes()).expect("pem"));
    }
    builder.build().expect("client")
}

async fn case_count(prosecutor: &ApiClient) -> usize {
    let reply = prosecutor.get("/api/v1/cases").await.expect("list");
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body.as_array().map(Vec::len).unwrap_or_default()
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_api_takes_the_session_cookie_only_from_the_nodes_own_pages() {
    let node = TestNode::spawn("es-node", Backend::Sqlite)
        .await
        .expect("node");
    let (prosecutor, cookie) = node_with_cookie(&node).await;
    let session = cookie.split(';').next().unwrap_or_default().to_string();
    let http = no_redirects(&node);
    let create_case = |origin: Option<&str>| {
        let mut request = http
            .post(format!("{}/api/v1/cases", node.url()))
            .header("cookie", &session)
            .json(&json!({"reference": "CSRF 1/2026", "title": "forged"}));
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        request.send()
    };

    let before = case_count(&prosecutor).await;
    for origin in [
        Some("https://evil.example"),
        Some("http://127.0.0.1:1"),
        None,
    ] {
        let response = create_case(origin).await.expect("post");
        assert_eq!(response.status().as_u16(), 403, "origin {origin:?}");
        assert_eq!(
            header(response.headers(), "content-type"),
            "application/problem+json"
        );
        let problem: serde_json::Value = response.json().await.expect("problem");
        assert_eq!(problem["type"], "/problems/cross-origin");
    }
    assert_eq!(case_count(&prosecutor).await, before, "nothing was created");

    // A body-less state change (logout) is refused too, and the session survives it.
    let logout = http
        .delete(format!("{}/api/v1/sessions/current", node.url()))
        .header("cookie", &session)
        .header("origin", "https://evil.example")
        .send()
        .await
        .expect("delete");
    assert_eq!(logout.status().as_u16(), 403);
    let me = http
        .get(format!("{}/api/v1/me", node.url()))
        .header("cookie", &session)
        .send()
        .await
        .expect("me");
    assert_eq!(me.status().as_u16(), 200, "the session still works");

    // From the node's own origin, or with fetch metadata saying so, the cookie works.
    let own = create_case(Some(&node.url())).await.expect("post");
    assert_eq!(own.status().as_u16(), 201);
    let fetch_metadata = http
        .post(format!("{}/api/v1/cases", node.url()))
        .header("cookie", &session)
        .header("sec-fetch-site", "same-origin")
        .json(&json!({"reference": "CSRF 2/2026", "title": "own page"}))
        .send()
        .await
        .expect("post");
    assert_eq!(fetch_metadata.status().as_u16(), 201);

    // Bearer tokens are not sent by browsers on their own: an Origin does not matter.
    let token = http
        .post(format!("{}/api/v1/sessions", node.url()))
        .json(&json!({"username": "fiscal", "password": TEST_PASSWORD}))
        .send()
        .await
        .expect("login")
        .json::<serde_json::Value>()
        .await
        .expect("session")["token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let bearer = http
        .post(format!("{}/api/v1/cases", node.url()))
        .bearer_auth(&token)
        .header("origin", "https://integration.example")
        .json(&json!({"reference": "CSRF 3/2026", "title": "case system"}))
        .send()
        .await
        .expect("post");
    assert_eq!(bearer.status().as_u16(), 201);
    assert_eq!(case_count(&prosecutor).await, before + 3);
}

#[tokio::test]
async fn pages_and_api_answers_carry_the_browser_security_headers() {
    let node = TestNode::spawn("es-node", Backend::Sqlite)
        .await
        .expect("node");
    let (_prosecutor, cookie) = node_with_cookie(&node).await;
    assert!(
        !cookie.contains("Secure"),
        "no Secure cookie on plain HTTP: {cookie}"
    );
    let http = no_redirects(&node);
    let page = http
        .get(format!("{}/login", node.url()))
        .send()
        .await
        .expect("page");
    let headers = page.headers().clone();
    let html = page.text().await.expect("html");
    let csp = header(&headers, "content-security-policy");
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(!csp.contains("script-src"), "no script is allowed: {csp}");
    // The page's one inline stylesheet is allowed by its hash, and nothing else.
    let style = html
        .split_once("<style>")
        .and_then(|(_, rest)| rest.split_once("</style>"))
        .map(|(style, _)| style)
        .expect("an inline stylesheet");
    let hash = {
        use base64::Engine;
        use sha2::Digest;
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(style))
    };
    assert!(csp.contains(&format!("style-src 'sha256-{hash}'")), "{csp}");
    assert!(!html.contains(" style="), "no inline style attributes");
    assert_eq!(header(&headers, "x-content-type-options"), "nosniff");
    assert_eq!(header(&headers, "x-frame-options"), "DENY");
    assert_eq!(header(&headers, "referrer-policy"), "same-origin");
    assert_eq!(header(&headers, "cache-control"), "no-store");
    assert_eq!(header(&headers, "strict-transport-security"), "");

    let api = http
        .get(format!("{}/api/v1/cases", node.url()))
        .header("cookie", cookie.split(';').next().unwrap_or_default())
        .send()
        .await
        .expect("api");
    assert_eq!(api.status().as_u16(), 200);
    assert_eq!(header(api.headers(), "cache-control"), "no-store");
    assert_eq!(header(api.headers(), "x-content-type-options"), "nosniff");
}

#[tokio::test]
async fn an_https_node_sends_hsts_and_a_secure_cookie() {
    let node = TestNode::spawn_https("es-node").await.expect("node");
    assert!(node.url().starts_with("https://"));
    let (_prosecutor, cookie) = node_with_cookie(&node).await;
    assert!(cookie.contains("; Secure"), "{cookie}");
    let page = no_redirects(&node)
        .get(format!("{}/login", node.url()))
        .send()
        .await
        .expect("page");
    let hsts = header(page.headers(), "strict-transport-security");
    assert!(hsts.starts_with("max-age="), "{hsts}");
}

/// Whether every occurrence of `needle` in `html` sits in an element that isolates its
/// direction (`dir="auto"`, or `bdi`): the text node's own element, or, for a form
/// field's value, the tag that carries it.
fn unisolated_occurrences(html: &str, needle: char) -> Vec<String> {
    let mut problems = Vec::new();
    for (position, _) in html.match_indices(needle) {
        let before = &html[..position];
        let tag_start = before.rfind('<').unwrap_or(0);
        let tag_end = html[tag_start..]
            .find('>')
            .map(|end| tag_start + end)
            .unwrap_or(html.len());
        let tag = &html[tag_start..=tag_end.min(html.len() - 1)];
        let isolated =
            !tag.starts_with("</") && (tag.contains("dir=\"auto\"") || tag.starts_with("<bdi"));
        if !isolated {
            let context_start = before
                .char_indices()
                .rev()
                .nth(80)
                .map(|(index, _)| index)
                .unwrap_or(0);
            problems.push(html[context_start..position].to_string());
        }
    }
    problems
}

#[tokio::test]
async fn free_text_with_bidi_controls_is_isolated_on_every_page_and_letter() {
    const OVERRIDE: char = '\u{202E}';
    let node = TestNode::spawn("es-node", Backend::Sqlite)
        .await
        .expect("node");
    let (prosecutor, cookie) = node_with_cookie(&node).await;
    node.local_authority("ma-ca", "MA", AuthorityKind::CentralAuthority)
        .await
        .expect("authority");
    let spoof = |text: &str| format!("{text} {OVERRIDE}txet desrever");
    let case = prosecutor
        .post(
            "/api/v1/cases",
            &json!({"reference": "DP 7/2026", "title": "Operation Strait"}),
        )
        .await
        .expect("case");
    assert_eq!(case.status, 201, "{}", case.body);
    let case_id = case.text("id");
    let mut draft = comity_testkit::sample_draft("es-ca", "ma-ca");
    draft["subject_matter"] = json!(spoof("Smuggling"));
    draft["summary_of_facts"] = json!(spoof("Crossings in 2026."));
    draft["purpose"] = json!(spoof("Financial flows"));
    draft["conducting_authority"] = json!(spoof("Investigating judge"));
    draft["measures"][0]["description"] = json!(spoof("Entries and exits"));
    draft["offences"][0]["national_provision"] = json!(spoof("art. 318 bis"));
    let request = prosecutor
        .post(&format!("/api/v1/cases/{case_id}/requests"), &draft)
        .await
        .expect("request");
    assert_eq!(request.status, 201, "{}", request.body);
    let request_id = request.text("id");
    let http = no_redirects(&node);
    let session = cookie.split(';').next().unwrap_or_default().to_string();
    let isolated_on = |path: String| {
        let request = http
            .get(format!("{}{path}", node.url()))
            .header("cookie", &session)
            .header("accept", "text/html");
        async move {
            let response = request.send().await.expect("page");
            let status = response.status().as_u16();
            let html = response.text().await.expect("html");
            assert_eq!(status, 200, "{path}: {html:.300}");
            let problems = unisolated_occurrences(&html, OVERRIDE);
            assert!(
                problems.is_empty(),
                "{path}: free text not isolated after: {problems:#?}"
            );
        }
    };
    isolated_on(format!("/requests/{request_id}/edit")).await;
    let submitted = prosecutor
        .act(&request_id, "submit_for_approval", Some(&spoof("ready")))
        .await
        .expect("submit");
    assert_eq!(submitted.status, 200, "{}", submitted.body);
    for path in [
        "/cases".to_string(),
        format!("/cases/{case_id}"),
        "/requests".to_string(),
        format!("/requests/{request_id}"),
        format!("/requests/{request_id}/letter"),
        format!("/api/v1/requests/{request_id}/letter?format=html&lang=ar"),
    ] {
        isolated_on(path).await;
    }
}

//! The web interface driven in real headless Chromium through chromedriver: a
//! prosecutor drafts a request, a central authority officer approves and dispatches
//! it, the requested side acknowledges it; with one keyboard-only path, a wrong
//! password, a rejected draft and the cross-site form check along the way. The
//! legal-basis panel is checked on the draft form ("Check legal basis", which saves
//! nothing) and on the requested side, with its refusal grounds and the letter of
//! request; the timeline names who acted.
//!
//! Needs `/usr/bin/chromium` and `chromedriver` (Debian: `apt install chromium
//! chromium-driver`). Without them the test is skipped with a loud note, unless `CI` is
//! set, where it fails.
//!
//! The browser is driven through the W3C WebDriver protocol by the small client in
//! [`webdriver`] (over `reqwest`), not fantoccini: fantoccini's rustls connector panics in
//! this workspace because rustls is built with both the `ring` and `aws-lc-rs` providers
//! and no process default is installed (see the note in that module).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, bail, ensure};
use comity_domain::AuthorityKind;
use comity_testkit::{Backend, TEST_PASSWORD, TestNode};
use serde_json::json;
use webdriver::{Browser, Element};

const CHROMIUM: &str = "/usr/bin/chromium";
const TAB: &str = "\u{e004}";
const ENTER: &str = "\u{e007}";
/// How long to wait for an element or a page.
const WAIT: Duration = Duration::from_secs(10);
const SUBJECT: &str = "Smuggling network across the Strait of Gibraltar";
const ARABIC_NAME: &str = "يوسف العمراني";

/// A chromedriver child process, killed when dropped (also when the test fails).
struct Chromedriver {
    child: Child,
    url: String,
}

impl Chromedriver {
    async fn start(binary: &Path) -> anyhow::Result<Chromedriver> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let child = Command::new(binary)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("cannot start {}", binary.display()))?;
        let driver = Chromedriver {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let deadline = tokio::time::Instant::now() + WAIT;
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            ensure!(
                tokio::time::Instant::now() < deadline,
                "chromedriver did not listen on port {port}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(driver)
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find_chromedriver() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([
            PathBuf::from("/usr/bin"),
            PathBuf::from("/usr/lib/chromium"),
        ])
        .map(|dir| dir.join("chromedriver"))
        .find(|candidate| candidate.is_file())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_is_drafted_approved_dispatched_and_acknowledged_in_the_browser() {
    let chromedriver = find_chromedriver();
    let Some(chromedriver) = chromedriver.filter(|_| Path::new(CHROMIUM).is_file()) else {
        let message = "browser test needs /usr/bin/chromium and chromedriver: install chromium chromium-driver";
        if std::env::var_os("CI").is_some() {
            panic!("{message}");
        }
        eprintln!(
            "\n!!!!!!!!\n!!! skipped: install chromium chromium-driver ({message})\n!!!!!!!!\n"
        );
        return;
    };

    let node = TestNode::spawn("node-web", Backend::Sqlite)
        .await
        .expect("node starts");
    node.local_authority("es-ca", "ES", AuthorityKind::CentralAuthority)
        .await
        .expect("es authority");
    node.local_authority("ma-ca", "MA", AuthorityKind::CentralAuthority)
        .await
        .expect("ma authority");
    for (username, authority, role) in [
        ("fiscal", "es-ca", "requesting_prosecutor"),
        ("ana", "es-ca", "central_authority_officer"),
        ("karim", "ma-ca", "central_authority_officer"),
        ("sofia", "es-ca", "supervisor"),
        ("root", "es-ca", "administrator"),
    ] {
        node.user(username, authority, &[role])
            .await
            .expect("user created");
    }
    let base = node.url();
    check_without_browser(&base).await;

    let driver = Chromedriver::start(&chromedriver)
        .await
        .expect("chromedriver starts");
    let profile = tempfile::tempdir().expect("profile directory");
    let capabilities = json!({
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-dev-shm-usage", "--no-first-run",
                format!("--user-data-dir={}", profile.path().display()),
            ]
        }
    });
    let client = Browser::start(&driver.url, capabilities)
        .await
        .expect("browser session");
    let outcome = drive(&client, &base).await;
    // Close the browser whatever happened; the guard then stops chromedriver.
    let _ = client.close().await;
    drop(driver);
    if let Err(error) = outcome {
        panic!("browser scenario failed: {error:#}");
    }
}

/// What needs no browser: pages redirect to the login, cross-site posts are refused.
async fn check_without_browser(base: &str) {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client");
    let anonymous = http
        .get(format!("{base}/requests"))
        .send()
        .await
        .expect("get");
    assert_eq!(anonymous.status().as_u16(), 303);
    assert_eq!(
        anonymous
            .headers()
            .get("location")
            .and_then(|value| value.to_str().ok()),
        Some("/login")
    );
    let cross_site = http
        .post(format!("{base}/login"))
        .header("origin", "https://evil.example")
        .form(&[("username", "fiscal"), ("password", TEST_PASSWORD)])
        .send()
        .await
        .expect("post");
    assert_eq!(cross_site.status().as_u16(), 403);
    assert!(
        cross_site.headers().get("set-cookie").is_none(),
        "no session for a cross-site form"
    );
    let same_site = http
        .post(format!("{base}/login"))
        .header("origin", base)
        .form(&[("username", "fiscal"), ("password", TEST_PASSWORD)])
        .send()
        .await
        .expect("post");
    assert_eq!(same_site.status().as_u16(), 303);
    let cookie = same_site
        .headers()
        .get("set-cookie")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    assert!(
        cookie.starts_with("comity_session=")
            && cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Strict")
            && cookie.contains("Path=/"),
        "{cookie}"
    );
    let missing = http
        .get(format!("{base}/requests/no-such-request"))
        .header("cookie", cookie.split(';').next().unwrap_or_default())
        .send()
        .await
        .expect("get");
    assert_eq!(missing.status().as_u16(), 404);
    let content_type = missing
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let fiscal = cookie.split(';').next().unwrap_or_default().to_string();
    check_supervisor_override(&http, base, &fiscal).await;
}

/// Logs in by form and returns the session cookie (`name=value`).
async fn session_cookie(http: &reqwest::Client, base: &str, username: &str) -> String {
    let response = http
        .post(format!("{base}/login"))
        .form(&[("username", username), ("password", TEST_PASSWORD)])
        .send()
        .await
        .expect("post");
    assert_eq!(response.status().as_u16(), 303);
    response
        .headers()
        .get("set-cookie")
        .and_then(|value| value.to_str().ok())
        .and_then(|cookie| cookie.split(';').next())
        .unwrap_or_default()
        .to_string()
}

/// Posts a form with a session cookie, as a browser without JavaScript would.
async fn post_form(
    http: &reqwest::Client,
    url: &str,
    cookie: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    // A browser sends the page's origin with every form it posts.
    let origin = url
        .split_once("://")
        .map(|(scheme, rest)| format!("{scheme}://{}", rest.split('/').next().unwrap_or_default()))
        .unwrap_or_default();
    http.post(url)
        .header("cookie", cookie)
        .header("origin", origin)
        .form(form)
        .send()
        .await
        .expect("post")
}

/// The `Location` of a 303 answer to a form.
fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

/// A draft with most mandatory content missing: approval is refused with the list of
/// what is missing, and a supervisor approves it with a justification that the
/// timeline records.
async fn check_supervisor_override(http: &reqwest::Client, base: &str, fiscal: &str) {
    let case = post_form(
        http,
        &format!("{base}/cases"),
        fiscal,
        &[("reference", "DP 8/2026"), ("title", "Incomplete")],
    )
    .await;
    assert_eq!(case.status().as_u16(), 303);
    let case_path = location(&case);
    let draft = post_form(
        http,
        &format!("{base}{case_path}/requests/new"),
        fiscal,
        &[
            ("requested_authority", "ma-ca"),
            ("legal_basis", "untoc"),
            ("subject_matter", "Incomplete request"),
        ],
    )
    .await;
    assert_eq!(draft.status().as_u16(), 303);
    let request_path = location(&draft)
        .split('?')
        .next()
        .unwrap_or_default()
        .to_string();
    let submitted = post_form(
        http,
        &format!("{base}{request_path}/transitions"),
        fiscal,
        &[("action", "submit_for_approval")],
    )
    .await;
    assert_eq!(submitted.status().as_u16(), 303);

    let sofia = session_cookie(http, base, "sofia").await;
    let page = http
        .get(format!("{base}{request_path}"))
        .header("cookie", &sofia)
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("body");
    assert!(
        page.contains(r#"name="override_justification""#)
            && page.contains("recorded in the history"),
        "a supervisor is offered the override"
    );
    let blocked = post_form(
        http,
        &format!("{base}{request_path}/transitions"),
        &sofia,
        &[("action", "approve")],
    )
    .await;
    assert_eq!(blocked.status().as_u16(), 422);
    let body = blocked.text().await.expect("body");
    assert!(
        body.contains("approval is blocked until these are resolved")
            && body.contains("untoc art. 18(15)"),
        "the refusal lists what is missing"
    );
    let approved = post_form(
        http,
        &format!("{base}{request_path}/transitions"),
        &sofia,
        &[
            ("action", "approve"),
            (
                "override_justification",
                "Detained suspect: the facts follow by phone",
            ),
        ],
    )
    .await;
    assert_eq!(
        approved.status().as_u16(),
        303,
        "{:?}",
        approved.text().await
    );
    let page = http
        .get(format!("{base}{request_path}"))
        .header("cookie", &sofia)
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("body");
    assert!(
        page.contains("supervisor override of blocking findings")
            && page.contains("Detained suspect: the facts follow by phone")
            && page.contains("User sofia (supervisor)"),
        "the timeline records the override and who made it"
    );
    assert!(
        page.contains("Nothing blocks dispatch.") && !page.contains("Approval is blocked"),
        "the supervisor's approval covers the dispatch of the same content"
    );
}

async fn drive(client: &Browser, base: &str) -> anyhow::Result<()> {
    // The prosecutor logs in by keyboard alone, first with a wrong password.
    client.goto(&format!("{base}/")).await?;
    wait_for_path(client, |path| path == "/login").await?;
    keyboard_login(client, "fiscal", "not the password").await?;
    let alert = find(client, "[role=alert]").await?;
    let alert_text = client.text(&alert).await?;
    ensure!(
        alert_text.contains("wrong password"),
        "the error says what is wrong: {alert_text}"
    );
    ensure!(
        client
            .prop(&find(client, "#username").await?, "value")
            .await?
            == Some("fiscal".into()),
        "the user name is kept"
    );
    type_into(client, "#password", &format!("{TEST_PASSWORD}{ENTER}")).await?;
    wait_for_path(client, |path| path == "/requests").await?;

    // A case, then a draft through the form: first rejected, then saved.
    click(client, "nav a[href='/cases']").await?;
    wait_for_path(client, |path| path == "/cases").await?;
    type_into(client, "#reference", "DP 7/2026").await?;
    type_into(client, "#title", "Estrecho ring").await?;
    click(client, "form[action='/cases'] button[type=submit]").await?;
    wait_for_path(client, |path| path.starts_with("/cases/")).await?;
    click_link(client, "New request").await?;
    wait_for_path(client, |path| path.ends_with("/requests/new")).await?;
    let form_path = current_path(client).await?;
    fill_draft(client).await?;

    // "Check legal basis" shows the engine's view of what was typed, without saving.
    click(client, "#check-legal-basis").await?;
    let panel = text_of(client, "section#legal-basis[aria-labelledby]").await?;
    for expected in [
        "Governing instrument",
        "untoc art. 18(15)",
        "Present: Subject matter",
    ] {
        ensure!(
            panel.contains(expected),
            "the panel shows {expected:?}: {panel}"
        );
    }
    let link = find(client, "#legal-basis cite.citation a").await?;
    ensure!(
        client
            .attr(&link, "href")
            .await?
            .is_some_and(|href| href.starts_with("http")),
        "a citation links its source"
    );
    ensure!(
        current_path(client).await? == form_path,
        "nothing was saved"
    );
    ensure!(
        client
            .prop(&find(client, "#person0_name").await?, "value")
            .await?
            == Some(ARABIC_NAME.into()),
        "the check keeps what the user typed"
    );
    type_into(client, "#person0_dob", "1990-13").await?;
    click(client, "#save-draft").await?;
    let summary = find(client, ".error-summary[role=alert]").await?;
    let summary_text = client.text(&summary).await?;
    ensure!(
        summary_text.contains("date of birth"),
        "the summary names the field: {summary_text}"
    );
    let dob = find(client, "#person0_dob").await?;
    ensure!(client.attr(&dob, "aria-invalid").await? == Some("true".into()));
    ensure!(
        text_of(client, "#person0_dob-error")
            .await?
            .contains("date of birth"),
        "the message sits next to the field"
    );
    let name_input = find(client, "#person0_name").await?;
    ensure!(
        client.prop(&name_input, "value").await? == Some(ARABIC_NAME.into()),
        "what the user typed is kept"
    );
    ensure!(current_path(client).await? == form_path);
    client.clear(&dob).await?;
    client.send_keys(&dob, "1988-02-11").await?;
    click(client, "#save-draft").await?;
    wait_for_path(client, |path| {
        path.starts_with("/requests/") && !path.ends_with("/edit")
    })
    .await?;
    let request_path = current_path(client).await?;
    let name = find(client, ".person-name").await?;
    ensure!(
        client.text(&name).await? == ARABIC_NAME,
        "the Arabic name displays"
    );
    ensure!(client.attr(&name, "dir").await? == Some("auto".into()));
    let main = text_of(client, "main").await?;
    for expected in [
        "The draft was saved.",
        "Production of bank and financial records: Statements of accounts",
        "Awa Diallo",
        "2027-03-01",
        "art. 318 bis Código Penal",
    ] {
        ensure!(main.contains(expected), "the request shows {expected:?}");
    }

    // Listed, then submitted for approval.
    click(client, "nav a[href='/requests']").await?;
    wait_for_path(client, |path| path == "/requests").await?;
    click_link(client, SUBJECT).await?;
    wait_for_path(client, |path| path == request_path).await?;
    take_action(client, "submit_for_approval", "pending approval").await?;
    log_out(client).await?;

    // The officer approves (another person: four eyes) and dispatches.
    log_in(client, "ana").await?;
    client.goto(&format!("{base}{request_path}")).await?;
    take_action(client, "approve", "approved").await?;
    take_action(client, "dispatch", "dispatched|delivered").await?;
    let timeline = text_of(client, "#timeline-table").await?;
    for expected in [
        "submit for approval",
        "approve",
        "dispatch",
        "User fiscal (requesting prosecutor)",
        "User ana (central authority officer) — you",
    ] {
        ensure!(
            timeline.contains(expected),
            "the timeline shows {expected:?}: {timeline}"
        );
    }
    log_out(client).await?;

    // The requested side sees it arrive (local delivery, by the outbox worker).
    log_in(client, "karim").await?;
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        client.goto(&format!("{base}/requests")).await?;
        if let Some(link) = client.find_link(SUBJECT).await? {
            client.click(&link).await?;
            break;
        }
        ensure!(
            tokio::time::Instant::now() < deadline,
            "the incoming request did not appear"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    wait_for_path(client, |path| path == request_path).await?;
    take_action(client, "acknowledge", "registered (acknowledged)").await?;
    let rows = client.find_all("#timeline-table tbody tr").await?;
    ensure!(rows.len() >= 2, "timeline has {} entries", rows.len());
    let timeline = text_of(client, "#timeline-table").await?;
    ensure!(
        timeline.contains("register and acknowledge") && timeline.contains("dispatch"),
        "the requested side's timeline: {timeline}"
    );
    let main = text_of(client, "main").await?;
    ensure!(
        main.contains(ARABIC_NAME),
        "the requested side sees the name"
    );
    let panel = text_of(client, "#legal-basis").await?;
    for expected in ["Legal basis", "Mandatory content", "untoc art. 18"] {
        ensure!(
            panel.contains(expected),
            "the requested side's legal panel shows {expected:?}: {panel}"
        );
    }

    // Under assessment, the refuse form offers the instrument's grounds; a ground that
    // is not one of them comes back as an error next to the grounds.
    take_action(client, "start_assessment", "under assessment").await?;
    let grounds = client
        .find_all("#grounds-refuse input[type=checkbox][name=ground]")
        .await?;
    ensure!(
        !grounds.is_empty(),
        "the refuse form offers the instrument's grounds"
    );
    type_into(client, "#reason-refuse", "Not a ground of the convention").await?;
    type_into(client, "#grounds-refuse-other", "untoc art. 99").await?;
    click(client, "#action-refuse button[type=submit]").await?;
    let error = text_of(client, "#grounds-refuse-error").await?;
    ensure!(
        error.contains("untoc art. 99") && error.contains("grounds[0]"),
        "the wrong ground is named next to the field: {error}"
    );
    ensure!(
        text_of(client, "#request-state").await? == "under assessment",
        "nothing changed"
    );

    // The letter of request, in French: a document of its own, in that language.
    click(client, "#letter a[hreflang=fr]").await?;
    wait_for(client, "html[lang=fr]").await?;
    ensure!(
        current_path(client).await? == format!("{request_path}/letter"),
        "the letter has its own address"
    );
    client.goto(&format!("{base}{request_path}")).await?;
    wait_for_path(client, |path| path == request_path).await?;
    log_out(client).await?;
    administer_accounts(client).await
}

/// An administrator lands on the user list, creates a user (a refused password first:
/// summarised, linked and marked on the field) and disables the account.
async fn administer_accounts(client: &Browser) -> anyhow::Result<()> {
    wait_for_path(client, |path| path == "/login").await?;
    type_into(client, "#username", "root").await?;
    type_into(client, "#password", TEST_PASSWORD).await?;
    click(client, "form[action='/login'] button[type=submit]").await?;
    wait_for_path(client, |path| path == "/users").await?;
    ensure!(
        text_of(client, "nav a[aria-current=page]").await? == "Users",
        "the administrator's landing page is the user list"
    );
    click_link(client, "Create a user").await?;
    wait_for_path(client, |path| path == "/users/new").await?;
    type_into(client, "#username", "bea").await?;
    type_into(client, "#display_name", "Beatriz Ruiz").await?;
    click(client, "#role-analyst").await?;
    type_into(client, "#password", "too short").await?;
    click(client, "#create-user").await?;
    let summary = text_of(client, ".error-summary a[href='#password']").await?;
    ensure!(
        summary.contains("at least 12 characters"),
        "the summary links to the password: {summary}"
    );
    let password = find(client, "#password").await?;
    ensure!(
        client.attr(&password, "aria-invalid").await? == Some("true".into()),
        "the password field is marked invalid"
    );
    ensure!(
        client.attr(&password, "aria-describedby").await?
            == Some("password-hint password-error".into()),
        "the password field is described by its hint and its error"
    );
    type_into(client, "#password", "a long and fine phrase").await?;
    click(client, "#create-user").await?;
    wait_for_path(client, |path| {
        path.starts_with("/users/") && path != "/users/new"
    })
    .await?;
    ensure!(
        text_of(client, "h1").await? == "User bea",
        "the new user's page opens"
    );
    select(client, "#active", "no").await?;
    click(client, "#save-user").await?;
    wait_for(client, "[role=status]").await?;
    ensure!(
        text_of(client, "main p strong").await? == "Disabled",
        "the account is disabled"
    );
    log_out(client).await?;
    Ok(())
}

/// From a fresh login page: Tab to the skip link, follow it, Tab into the user name,
/// type, Tab to the password, type, and Enter.
async fn keyboard_login(client: &Browser, username: &str, password: &str) -> anyhow::Result<()> {
    find(client, "#username").await?;
    let body = client.active().await?;
    client.send_keys(&body, TAB).await?;
    let skip = client.active().await?;
    ensure!(
        client.text(&skip).await? == "Skip to main content",
        "the first Tab reaches the skip link, not {:?}",
        client.prop(&skip, "outerHTML").await?
    );
    client.send_keys(&skip, ENTER).await?;
    let main = client.active().await?;
    client.send_keys(&main, TAB).await?;
    let focused = client.active().await?;
    ensure!(
        client.attr(&focused, "id").await? == Some("username".into()),
        "Tab after the skip link reaches the user name, not {:?}",
        client.prop(&focused, "outerHTML").await?
    );
    client
        .send_keys(&focused, &format!("{username}{TAB}"))
        .await?;
    let focused = client.active().await?;
    ensure!(client.attr(&focused, "id").await? == Some("password".into()));
    client
        .send_keys(&focused, &format!("{password}{ENTER}"))
        .await?;
    // The form posts; wait for the page to come back.
    wait_for(client, "[role=alert], nav").await?;
    Ok(())
}

async fn log_in(client: &Browser, username: &str) -> anyhow::Result<()> {
    wait_for_path(client, |path| path == "/login").await?;
    type_into(client, "#username", username).await?;
    type_into(client, "#password", TEST_PASSWORD).await?;
    click(client, "form[action='/login'] button[type=submit]").await?;
    wait_for_path(client, |path| path == "/requests").await
}

async fn log_out(client: &Browser) -> anyhow::Result<()> {
    click(client, "#logout").await?;
    wait_for_path(client, |path| path == "/login").await?;
    Ok(())
}

async fn fill_draft(client: &Browser) -> anyhow::Result<()> {
    select(client, "#requested_authority", "ma-ca").await?;
    type_into(client, "#legal_basis", "untoc").await?;
    type_into(client, "#subject_matter", SUBJECT).await?;
    type_into(
        client,
        "#conducting_authority",
        "Juzgado Central de Instrucción n.º 3 (investigating judge)",
    )
    .await?;
    type_into(
        client,
        "#summary_of_facts",
        "Between March and June 2026 the suspects organised twelve crossings.",
    )
    .await?;
    type_into(client, "#purpose", "To establish the financial flows").await?;
    type_into(client, "#offence0_provision", "art. 318 bis Código Penal").await?;
    select(
        client,
        "#offence0_category",
        "facilitation_of_unauthorised_entry",
    )
    .await?;
    type_into(client, "#offence0_months", "96").await?;
    click(client, "#measure_bank_records").await?;
    type_into(
        client,
        "#measure_description_bank_records",
        "Statements of accounts held by the suspect",
    )
    .await?;
    type_into(client, "#person0_name", ARABIC_NAME).await?;
    type_into(client, "#person0_nationalities", "MA").await?;
    select(client, "#person0_role", "suspect").await?;
    type_into(client, "#person1_name", "Awa Diallo").await?;
    type_into(client, "#person1_dob", "2010").await?;
    select(client, "#person1_role", "smuggled_migrant").await?;
    click(client, "#person1_vulnerability_minor").await?;
    select(client, "#confidentiality", "confidential").await?;
    // A date input's typing format depends on the browser's locale: set the value.
    client
        .execute(
            "document.getElementById('requested_deadline').value = arguments[0];",
            json!(["2027-03-01"]),
        )
        .await?;
    Ok(())
}

/// Presses the button of the action's form and waits for the new state.
/// `new_state` may list alternatives separated by `|` (a dispatched request may already
/// be delivered when the page comes back).
async fn take_action(client: &Browser, action: &str, new_state: &str) -> anyhow::Result<()> {
    click(client, &format!("#action-{action} button[type=submit]")).await?;
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Ok(Some(state)) = client.find("#request-state").await
            && let Ok(text) = client.text(&state).await
            && new_state.split('|').any(|state| state == text)
        {
            let flash = text_of(client, ".flash[role=status]").await?;
            ensure!(flash.starts_with("Done:"), "flash: {flash}");
            return Ok(());
        }
        if tokio::time::Instant::now() > deadline {
            let main = text_of(client, "main").await?;
            bail!("after {action} the request is not {new_state}: {main}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits up to [`WAIT`] for an element to appear.
async fn wait_for(client: &Browser, css: &str) -> anyhow::Result<Element> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Some(element) = client.find(css).await? {
            return Ok(element);
        }
        ensure!(
            tokio::time::Instant::now() < deadline,
            "no element {css} appeared on {}",
            current_path(client).await.unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn find(client: &Browser, css: &str) -> anyhow::Result<Element> {
    wait_for(client, css).await
}

async fn text_of(client: &Browser, css: &str) -> anyhow::Result<String> {
    let element = find(client, css).await?;
    client.text(&element).await
}

async fn click(client: &Browser, css: &str) -> anyhow::Result<()> {
    let element = find(client, css).await?;
    client.click(&element).await
}

async fn click_link(client: &Browser, text: &str) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Some(link) = client.find_link(text).await? {
            return client.click(&link).await;
        }
        ensure!(tokio::time::Instant::now() < deadline, "no link {text:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn type_into(client: &Browser, css: &str, text: &str) -> anyhow::Result<()> {
    let element = find(client, css).await?;
    client.clear(&element).await?;
    client.send_keys(&element, text).await
}

async fn select(client: &Browser, css: &str, value: &str) -> anyhow::Result<()> {
    let element = find(client, &format!("{css} option[value='{value}']")).await?;
    client.click(&element).await
}

async fn current_path(client: &Browser) -> anyhow::Result<String> {
    client.current_path().await
}

/// Waits until the browser shows a page whose path satisfies `accept`.
async fn wait_for_path(client: &Browser, accept: impl Fn(&str) -> bool) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let path = current_path(client).await?;
        if accept(&path) && client.find("main").await?.is_some() {
            return Ok(());
        }
        ensure!(
            tokio::time::Instant::now() < deadline,
            "the browser stayed on {path}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Just enough of the W3C WebDriver protocol for this test, over `reqwest`.
///
/// fantoccini (the workspace's choice) cannot connect here: its rustls connector asks
/// rustls for the process-default crypto provider, and rustls, built with both `ring`
/// (for reqwest) and `aws-lc-rs` (for hyper-rustls), cannot pick one and panics. Adding
/// `rustls` (feature `ring`) as a dev-dependency and calling
/// `rustls::crypto::ring::default_provider().install_default()` would let the test move
/// to fantoccini; the protocol below is the same either way.
mod webdriver {
    use anyhow::{Context, bail};
    use serde_json::{Value, json};

    /// The key under which WebDriver returns an element reference.
    const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

    /// A browser session.
    pub struct Browser {
        http: reqwest::Client,
        session: String,
    }

    /// An element of the current page.
    pub struct Element(String);

    impl Browser {
        /// Opens a session with these capabilities (`alwaysMatch`).
        pub async fn start(driver: &str, capabilities: Value) -> anyhow::Result<Browser> {
            let http = reqwest::Client::new();
            let reply = call(
                &http,
                reqwest::Method::POST,
                &format!("{driver}/session"),
                Some(json!({"capabilities": {"alwaysMatch": capabilities}})),
            )
            .await?;
            let id = reply["sessionId"]
                .as_str()
                .context("no session id")?
                .to_string();
            Ok(Browser {
                http,
                session: format!("{driver}/session/{id}"),
            })
        }

        async fn send(
            &self,
            method: reqwest::Method,
            path: &str,
            body: Option<Value>,
        ) -> anyhow::Result<Value> {
            call(&self.http, method, &format!("{}{path}", self.session), body).await
        }

        async fn post(&self, path: &str, body: Value) -> anyhow::Result<Value> {
            self.send(reqwest::Method::POST, path, Some(body)).await
        }

        async fn get(&self, path: &str) -> anyhow::Result<Value> {
            self.send(reqwest::Method::GET, path, None).await
        }

        /// Ends the session (closes the browser).
        pub async fn close(&self) -> anyhow::Result<()> {
            self.send(reqwest::Method::DELETE, "", None).await?;
            Ok(())
        }

        /// Navigates to `url`.
        pub async fn goto(&self, url: &str) -> anyhow::Result<()> {
            self.post("/url", json!({ "url": url })).await?;
            Ok(())
        }

        /// The path of the current page's URL.
        pub async fn current_path(&self) -> anyhow::Result<String> {
            let url = self.get("/url").await?;
            let url = url.as_str().context("url is not a string")?;
            let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
            let path = after_scheme
                .find('/')
                .map_or("/", |start| &after_scheme[start..]);
            Ok(path.split(['?', '#']).next().unwrap_or("/").to_string())
        }

        async fn locate(&self, using: &str, value: &str) -> anyhow::Result<Option<Element>> {
            match self
                .post("/element", json!({ "using": using, "value": value }))
                .await
            {
                Ok(found) => Ok(Some(element(&found)?)),
                Err(error) if error.to_string().contains("no such element") => Ok(None),
                Err(error) => Err(error),
            }
        }

        /// The first element matching a CSS selector, if any.
        pub async fn find(&self, css: &str) -> anyhow::Result<Option<Element>> {
            self.locate("css selector", css).await
        }

        /// The first link with exactly this text, if any.
        pub async fn find_link(&self, text: &str) -> anyhow::Result<Option<Element>> {
            self.locate("link text", text).await
        }

        /// Every element matching a CSS selector.
        pub async fn find_all(&self, css: &str) -> anyhow::Result<Vec<Element>> {
            let found = self
                .post(
                    "/elements",
                    json!({ "using": "css selector", "value": css }),
                )
                .await?;
            found
                .as_array()
                .context("elements is not a list")?
                .iter()
                .map(element)
                .collect()
        }

        /// The element that has the focus.
        pub async fn active(&self) -> anyhow::Result<Element> {
            element(&self.get("/element/active").await?)
        }

        /// Clicks an element.
        pub async fn click(&self, element: &Element) -> anyhow::Result<()> {
            self.post(&format!("/element/{}/click", element.0), json!({}))
                .await?;
            Ok(())
        }

        /// Empties an input.
        pub async fn clear(&self, element: &Element) -> anyhow::Result<()> {
            self.post(&format!("/element/{}/clear", element.0), json!({}))
                .await?;
            Ok(())
        }

        /// Types into an element (WebDriver key codes such as Tab and Enter included).
        pub async fn send_keys(&self, element: &Element, text: &str) -> anyhow::Result<()> {
            self.post(
                &format!("/element/{}/value", element.0),
                json!({ "text": text }),
            )
            .await?;
            Ok(())
        }

        /// The rendered text of an element.
        pub async fn text(&self, element: &Element) -> anyhow::Result<String> {
            let text = self.get(&format!("/element/{}/text", element.0)).await?;
            Ok(text.as_str().unwrap_or_default().to_string())
        }

        /// An attribute of an element.
        pub async fn attr(&self, element: &Element, name: &str) -> anyhow::Result<Option<String>> {
            let value = self
                .get(&format!("/element/{}/attribute/{name}", element.0))
                .await?;
            Ok(value.as_str().map(str::to_string))
        }

        /// A DOM property of an element.
        pub async fn prop(&self, element: &Element, name: &str) -> anyhow::Result<Option<String>> {
            let value = self
                .get(&format!("/element/{}/property/{name}", element.0))
                .await?;
            Ok(value.as_str().map(str::to_string))
        }

        /// Runs a script in the page.
        pub async fn execute(&self, script: &str, args: Value) -> anyhow::Result<Value> {
            self.post("/execute/sync", json!({ "script": script, "args": args }))
                .await
        }
    }

    fn element(value: &Value) -> anyhow::Result<Element> {
        value[ELEMENT_KEY]
            .as_str()
            .map(|id| Element(id.to_string()))
            .with_context(|| format!("not an element: {value}"))
    }

    async fn call(
        http: &reqwest::Client,
        method: reqwest::Method,
        url: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let mut request = http.request(method, url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("webdriver {url}"))?;
        let status = response.status();
        let reply: Value = response
            .json()
            .await
            .with_context(|| format!("webdriver {url}: not JSON"))?;
        let value = reply["value"].clone();
        if !status.is_success() {
            bail!(
                "webdriver {url}: {} ({})",
                value["error"].as_str().unwrap_or("error"),
                value["message"].as_str().unwrap_or_default()
            );
        }
        Ok(value)
    }
}

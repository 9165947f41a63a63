//! Test harness: real nodes on port 0 with fresh databases, seeded users, and an HTTP
//! client that logs in as them.
//!
//! [`TestNode::spawn`] starts a node on SQLite in a temporary directory, or on a fresh
//! PostgreSQL database when [`Backend::Postgres`] is asked and `COMITY_TEST_DATABASE_URL`
//! is set. [`TestNode::user`] creates an account and returns a logged-in [`ApiClient`].

use std::sync::Arc;

use anyhow::Context;
use comity_app::{App, Clock, SystemClock};
use comity_domain::{Authority, AuthorityKind};
use comity_node::{Node, NodeConfig};
use comity_wire::api::UserInput;
use serde_json::Value;

/// Which database a test node uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite in a temporary directory.
    Sqlite,
    /// A fresh PostgreSQL database.
    Postgres,
}

/// The backends to run a suite on: SQLite always, PostgreSQL when configured (and
/// always under CI).
pub fn backends() -> Vec<Backend> {
    let mut backends = vec![Backend::Sqlite];
    if std::env::var_os(comity_store::test_support::POSTGRES_URL_VARIABLE).is_some()
        || std::env::var_os("CI").is_some()
    {
        backends.push(Backend::Postgres);
    }
    backends
}

/// A running node for a test, with its data directory.
#[derive(Debug)]
pub struct TestNode {
    /// The node.
    pub node: Node,
    /// Its data directory (removed when the test ends).
    pub directory: tempfile::TempDir,
    /// The configuration it was started with, to restart it the same way.
    pub config: NodeConfig,
}

/// What survives a killed test node: its data directory and configuration.
#[derive(Debug)]
pub struct StoppedNode {
    /// The data directory.
    pub directory: tempfile::TempDir,
    /// The configuration, with the port it had.
    pub config: NodeConfig,
}

impl StoppedNode {
    /// Starts the node again on the same data, database and address.
    pub async fn restart(self) -> anyhow::Result<TestNode> {
        let node = Node::build(self.config.clone()).await?;
        Ok(TestNode {
            node,
            directory: self.directory,
            config: self.config,
        })
    }
}

/// The password every test user gets.
pub const TEST_PASSWORD: &str = "correct horse battery staple";

impl TestNode {
    /// Starts a node called `node_id` on `backend`, with default settings.
    pub async fn spawn(node_id: &str, backend: Backend) -> anyhow::Result<TestNode> {
        TestNode::spawn_with(node_id, backend, |_| {}, Arc::new(SystemClock)).await
    }

    /// Starts a node, letting the test adjust the configuration and clock.
    pub async fn spawn_with(
        node_id: &str,
        backend: Backend,
        adjust: impl FnOnce(&mut NodeConfig),
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<TestNode> {
        let directory = tempfile::tempdir()?;
        let mut config = NodeConfig::new(node_id);
        config.listen = "127.0.0.1:0".parse()?;
        config.data_dir = Some(directory.path().to_path_buf());
        config.outbox.poll_interval_ms = 50;
        config.outbox.initial_backoff_ms = 20;
        config.outbox.max_backoff_ms = 200;
        config.federation.allow_plain_http_loopback = true;
        // Tests of other features log in with a password alone; the second-factor tests
        // set the roles that require one in `adjust`.
        config.second_factor.required_roles = Vec::new();
        if backend == Backend::Postgres {
            config.database_url = Some(
                comity_store::test_support::fresh_postgres_url()
                    .await?
                    .context("COMITY_TEST_DATABASE_URL is not set")?,
            );
        }
        adjust(&mut config);
        let node = Node::build_with_clock(config.clone(), clock).await?;
        config.listen = node.address();
        config.public_url = Some(node.url().to_string());
        Ok(TestNode {
            node,
            directory,
            config,
        })
    }

    /// Starts a node on SQLite that serves HTTPS with a self-signed certificate made in its
    /// data directory, and refuses plain HTTP to peers.
    pub async fn spawn_https(node_id: &str) -> anyhow::Result<TestNode> {
        let mut certificate_error = None;
        let node = TestNode::spawn_with(
            node_id,
            Backend::Sqlite,
            |config| {
                let Some(directory) = config.data_dir.clone() else {
                    return;
                };
                match comity_node::tls::generate_certificate(
                    &directory,
                    &["localhost".to_string(), "127.0.0.1".to_string()],
                ) {
                    Ok((cert, key)) => {
                        config.tls.cert_path = Some(cert);
                        config.tls.key_path = Some(key);
                    }
                    Err(error) => certificate_error = Some(error),
                }
                config.federation.allow_plain_http_loopback = false;
            },
            Arc::new(SystemClock),
        )
        .await?;
        match certificate_error {
            Some(error) => Err(error.into()),
            None => Ok(node),
        }
    }

    /// Starts a node hosting two central authorities, `es-ca` (Spain) and `ma-ca`
    /// (Morocco): both sides of a request on one node.
    pub async fn spawn_spain_and_morocco(
        node_id: &str,
        backend: Backend,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<TestNode> {
        let node = TestNode::spawn_with(node_id, backend, |_| {}, clock).await?;
        node.local_authority("es-ca", "ES", AuthorityKind::CentralAuthority)
            .await?;
        node.local_authority("ma-ca", "MA", AuthorityKind::CentralAuthority)
            .await?;
        Ok(node)
    }

    /// Kills the node abruptly, as a crash would: in-flight work is cut off.
    pub fn kill(self) -> StoppedNode {
        self.node.kill();
        StoppedNode {
            directory: self.directory,
            config: self.config,
        }
    }

    /// Makes `self` and `other` trust each other.
    pub async fn peer_with(&self, other: &TestNode) -> anyhow::Result<()> {
        let mine = self.node.peer_entry().await?;
        let theirs = other.node.peer_entry().await?;
        self.node
            .add_peer(theirs)
            .await
            .map_err(anyhow::Error::msg)?;
        other
            .node
            .add_peer(mine)
            .await
            .map_err(anyhow::Error::msg)?;
        Ok(())
    }

    /// The node's application.
    pub fn app(&self) -> &App {
        self.node.app()
    }

    /// The node's base URL.
    pub fn url(&self) -> String {
        self.node.url().to_string()
    }

    /// Registers an authority hosted on this node.
    pub async fn local_authority(
        &self,
        id: &str,
        country: &str,
        kind: AuthorityKind,
    ) -> anyhow::Result<()> {
        let node_id = self.app().node_id().to_string();
        self.authority(id, country, kind, &node_id).await
    }

    /// Registers an authority hosted on `node_id`.
    pub async fn authority(
        &self,
        id: &str,
        country: &str,
        kind: AuthorityKind,
        node_id: &str,
    ) -> anyhow::Result<()> {
        self.app()
            .bootstrap()
            .register_authority(
                Authority {
                    id: id.parse()?,
                    country: country.parse()?,
                    kind,
                    name: format!("Authority {id}"),
                },
                node_id,
            )
            .await?;
        Ok(())
    }

    /// Creates a user with the given roles at `authority` and logs them in.
    pub async fn user(
        &self,
        username: &str,
        authority: &str,
        roles: &[&str],
    ) -> anyhow::Result<ApiClient> {
        self.app()
            .bootstrap()
            .insert_user(&UserInput {
                username: username.into(),
                display_name: format!("User {username}"),
                authority: authority.into(),
                roles: roles.iter().map(|role| role.to_string()).collect(),
                password: TEST_PASSWORD.into(),
            })
            .await?;
        let mut client = ApiClient::with_client(&self.url(), "", self.http_client()?);
        client.log_in(username, TEST_PASSWORD).await?;
        Ok(client)
    }

    /// An HTTP client that reaches this node: it trusts the node's own certificate when
    /// the node serves HTTPS.
    pub fn http_client(&self) -> anyhow::Result<reqwest::Client> {
        let mut builder = reqwest::Client::builder();
        if let Some(pem) = &self.node.federation().federation.tls_certificate {
            builder = builder.add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes())?);
        }
        Ok(builder.build()?)
    }
}

/// An HTTP client logged in to a node.
#[derive(Debug, Clone)]
pub struct ApiClient {
    /// The node's base URL.
    pub base: String,
    /// The bearer token ("" when anonymous).
    pub token: String,
    http: reqwest::Client,
}

/// A response's status and JSON body.
#[derive(Debug, Clone)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// `Content-Type`.
    pub content_type: String,
    /// The body as JSON (`Value::Null` if it was not JSON).
    pub body: Value,
}

impl Reply {
    /// The body's field `name` as a string ("" if absent).
    pub fn text(&self, name: &str) -> String {
        self.body[name].as_str().unwrap_or_default().to_string()
    }
}

impl ApiClient {
    /// A client with no credentials.
    pub fn anonymous(base: &str) -> ApiClient {
        ApiClient {
            base: base.trim_end_matches('/').to_string(),
            token: String::new(),
            http: reqwest::Client::new(),
        }
    }

    /// A client with a token and a prepared HTTP client (for example one that trusts a
    /// node's self-signed certificate).
    pub fn with_client(base: &str, token: &str, http: reqwest::Client) -> ApiClient {
        ApiClient {
            base: base.trim_end_matches('/').to_string(),
            token: token.to_string(),
            http,
        }
    }

    /// Logs in and keeps the token.
    pub async fn login(base: &str, username: &str, password: &str) -> anyhow::Result<ApiClient> {
        let mut client = ApiClient::anonymous(base);
        client.log_in(username, password).await?;
        Ok(client)
    }

    /// Opens a session and keeps its token.
    pub async fn log_in(&mut self, username: &str, password: &str) -> anyhow::Result<()> {
        let reply = self
            .post(
                "/api/v1/sessions",
                &serde_json::json!({"username": username, "password": password}),
            )
            .await?;
        anyhow::ensure!(reply.status == 201, "login failed: {:?}", reply.body);
        self.token = reply.text("token");
        Ok(())
    }

    /// Sends a request with an optional JSON body.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<Reply> {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if !self.token.is_empty() {
            request = request.bearer_auth(&self.token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await?;
        Reply::read(response).await
    }

    /// Sends raw bytes with a content type.
    pub async fn send_raw(
        &self,
        method: reqwest::Method,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> anyhow::Result<Reply> {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("content-type", content_type)
            .body(body);
        if !self.token.is_empty() {
            request = request.bearer_auth(&self.token);
        }
        Reply::read(request.send().await?).await
    }

    /// GET.
    pub async fn get(&self, path: &str) -> anyhow::Result<Reply> {
        self.send(reqwest::Method::GET, path, None).await
    }

    /// POST with a JSON body.
    pub async fn post(&self, path: &str, body: &Value) -> anyhow::Result<Reply> {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    /// PUT with a JSON body.
    pub async fn put(&self, path: &str, body: &Value) -> anyhow::Result<Reply> {
        self.send(reqwest::Method::PUT, path, Some(body)).await
    }

    /// Takes a lifecycle action and returns the reply.
    pub async fn act(
        &self,
        request_id: &str,
        action: &str,
        reason: Option<&str>,
    ) -> anyhow::Result<Reply> {
        let mut body = serde_json::json!({"action": action});
        if let Some(reason) = reason {
            body["reason"] = Value::String(reason.into());
        }
        self.post(&format!("/api/v1/requests/{request_id}/transitions"), &body)
            .await
    }

    /// Waits until the request reaches `state` as this client sees it (messages between
    /// nodes are delivered by background workers). Fails after `seconds`.
    pub async fn wait_for_state(
        &self,
        request_id: &str,
        state: &str,
        seconds: u64,
    ) -> anyhow::Result<Reply> {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(seconds);
        loop {
            let reply = self.get(&format!("/api/v1/requests/{request_id}")).await?;
            if reply.status == 200 && reply.text("state") == state {
                return Ok(reply);
            }
            if tokio::time::Instant::now() > deadline {
                anyhow::bail!(
                    "request {request_id} did not reach {state}: last {} {}",
                    reply.status,
                    reply.body
                );
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
    }
}

impl Reply {
    async fn read(response: reqwest::Response) -> anyhow::Result<Reply> {
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let bytes = response.bytes().await?;
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Ok(Reply {
            status,
            content_type,
            body,
        })
    }
}

/// Checks that `reply` is an RFC 9457 problem with `status`, naming `field` when one is
/// given.
pub fn assert_problem(reply: &Reply, status: u16, field: Option<&str>) {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(
        reply.content_type, "application/problem+json",
        "{}",
        reply.body
    );
    assert_eq!(reply.body["status"], status, "{}", reply.body);
    assert!(
        reply.body["type"]
            .as_str()
            .unwrap_or_default()
            .starts_with("/problems/"),
        "{}",
        reply.body
    );
    assert!(!reply.text("detail").is_empty(), "{}", reply.body);
    if let Some(field) = field {
        assert_eq!(reply.text("field"), field, "{}", reply.body);
    }
}

/// A complete, valid draft from `requesting` to `requested`.
pub fn sample_draft(requesting: &str, requested: &str) -> Value {
    serde_json::json!({
        "requesting_authority": requesting,
        "requested_authority": requested,
        "legal_basis": ["untoc"],
        "subject_matter": "Investigation of a migrant smuggling network operating across the Strait of Gibraltar",
        "conducting_authority": "Juzgado Central de Instrucción n.º 3, Audiencia Nacional (investigating judge)",
        "offences": [{
            "national_provision": "art. 318 bis Código Penal",
            "category": "facilitation_of_unauthorised_entry",
            "maximum_penalty_months": 96
        }],
        "summary_of_facts": "Between March and June 2026 the suspects organised at least twelve crossings in inflatable boats.",
        "measures": [
            {"kind": "travel_history_information", "description": "Entries and exits of the suspect, 2025-2026"},
            {"kind": "bank_records", "description": "Statements of accounts held by the suspect at Moroccan banks"}
        ],
        "persons": [
            {"full_name": "Youssef El Amrani", "date_of_birth": "1988-02-11", "nationalities": ["MA"], "role": "suspect"},
            {"full_name": "Awa Diallo", "date_of_birth": "2010", "nationalities": ["GN"], "role": "smuggled_migrant", "vulnerabilities": ["minor"]}
        ],
        "purpose": "To establish the financial flows of the network and the suspect's presence in Tangier",
        "confidentiality": "confidential",
        "requested_deadline": "2027-03-01"
    })
}

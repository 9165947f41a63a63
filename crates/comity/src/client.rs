//! A small HTTP client for the node's API, turning problem details into errors.

use serde_json::Value;

/// The node refused: its problem detail, on one line.
#[derive(Debug, thiserror::Error)]
#[error("{status} {title}: {detail}")]
pub struct ApiFailure {
    /// HTTP status.
    pub status: u16,
    /// Problem title.
    pub title: String,
    /// Problem detail.
    pub detail: String,
}

impl ApiFailure {
    /// The failure a problem-details body describes.
    fn from_problem(status: u16, body: &Value) -> ApiFailure {
        ApiFailure {
            status,
            title: body["title"].as_str().unwrap_or("error").to_string(),
            detail: body["detail"].as_str().unwrap_or("no detail").to_string(),
        }
    }
}

/// A client for one node.
#[derive(Debug)]
pub struct Client {
    base: String,
    token: Option<String>,
    http: reqwest::Client,
}

impl Client {
    /// A client for the node at `base`.
    pub fn new(base: &str, token: Option<String>) -> Client {
        Client {
            base: base.trim_end_matches('/').to_string(),
            token,
            http: reqwest::Client::new(),
        }
    }

    /// GET a JSON resource.
    pub async fn get(&self, path: &str) -> anyhow::Result<Value> {
        self.send_request(self.http.get(format!("{}{path}", self.base)))
            .await
    }

    /// GET a document as bytes.
    pub async fn get_bytes(&self, path: &str) -> anyhow::Result<Vec<u8>> {
        let mut request = self.http.get(format!("{}{path}", self.base));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let response = request
            .send()
            .await
            .map_err(|error| anyhow::anyhow!("cannot reach {}: {error}", self.base))?;
        let status = response.status();
        let bytes = response.bytes().await?.to_vec();
        if status.is_success() {
            return Ok(bytes);
        }
        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Err(ApiFailure::from_problem(status.as_u16(), &body).into())
    }

    /// POST JSON.
    pub async fn post(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        self.send_request(self.http.post(format!("{}{path}", self.base)).json(body))
            .await
    }

    /// DELETE a resource.
    pub async fn delete(&self, path: &str) -> anyhow::Result<Value> {
        self.send_request(self.http.delete(format!("{}{path}", self.base)))
            .await
    }

    /// Any method, with an optional JSON body. An empty success (204) is `null`.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<Value> {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request.json(body);
        }
        self.send_request(request).await
    }

    async fn send_request(&self, mut request: reqwest::RequestBuilder) -> anyhow::Result<Value> {
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let response = request
            .send()
            .await
            .map_err(|error| anyhow::anyhow!("cannot reach {}: {error}", self.base))?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if status.is_success() {
            return Ok(body);
        }
        Err(ApiFailure::from_problem(status.as_u16(), &body).into())
    }
}

//! Helpers for Mercato's integration tests: which real backends a run has (and the rule that
//! CI may not skip any), an HTTP client that talks to a shop by `Host` header, and a real DNS
//! server on loopback whose TXT records a test sets.

mod dns;

pub use dns::TestDns;

use serde_json::Value;

/// Environment variables naming the real servers.
pub const POSTGRES: &str = "MERCATO_TEST_POSTGRES_URL";
pub const REDIS: &str = "MERCATO_TEST_REDIS_URL";
pub const AMQP: &str = "MERCATO_TEST_AMQP_URL";
/// An S3-compatible server's URL; its credentials are in the two variables after it.
pub const S3: &str = "MERCATO_TEST_S3_ENDPOINT";
pub const S3_ACCESS_KEY: &str = "MERCATO_TEST_S3_ACCESS_KEY";
pub const S3_SECRET_KEY: &str = "MERCATO_TEST_S3_SECRET_KEY";
/// Set (to 1) by CI: a test that would skip for want of a backend fails instead.
pub const REQUIRE: &str = "MERCATO_TEST_REQUIRE_BACKENDS";

/// The value of `var`, or `None` after saying the test is skipped. Under
/// `MERCATO_TEST_REQUIRE_BACKENDS=1` a missing backend fails the test.
#[allow(clippy::panic)]
pub fn backend(var: &str, test: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(value) if !value.is_empty() => Some(value),
        _ => {
            if std::env::var(REQUIRE).is_ok_and(|v| v == "1") {
                panic!("{test} needs {var}, and {REQUIRE}=1 forbids skipping");
            }
            eprintln!("SKIPPED: {test} needs {var}");
            None
        }
    }
}

/// A unique, valid name for things a test creates (slugs, emails, schemas).
pub fn unique(prefix: &str) -> String {
    let id = uuid::Uuid::now_v7().simple().to_string();
    format!("{prefix}{}", &id[id.len() - 12..])
}

/// An HTTP client aimed at one server, choosing the shop by `Host`.
#[derive(Clone)]
pub struct Client {
    base: String,
    http: reqwest::Client,
}

/// A response, read whole.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Reply {
    /// `body[key]` as a string, or "" (tests then fail on the value, with the body shown).
    pub fn str(&self, key: &str) -> String {
        self.body
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    }

    pub fn content_type(&self) -> String {
        self.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    }
}

impl Client {
    pub fn new(addr: std::net::SocketAddr) -> Self {
        Self {
            base: format!("http://{addr}"),
            http: reqwest::Client::new(),
        }
    }

    /// The absolute URL of `path` on this server (for raw requests, e.g. binary downloads).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends a request with `Host: host`, an optional bearer token and an optional JSON body.
    pub async fn send(
        &self,
        method: &str,
        host: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> anyhow::Result<Reply> {
        let method = reqwest::Method::from_bytes(method.as_bytes())?;
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("host", host);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        self.finish(request).await
    }

    /// Sends raw bytes with a content type (for malformed-input tests) and extra headers.
    pub async fn send_raw(
        &self,
        method: &str,
        host: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> anyhow::Result<Reply> {
        let method = reqwest::Method::from_bytes(method.as_bytes())?;
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("host", host)
            .body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.finish(request).await
    }

    async fn finish(&self, request: reqwest::RequestBuilder) -> anyhow::Result<Reply> {
        let response = request.send().await?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await?;
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Ok(Reply {
            status,
            headers,
            body,
            text,
        })
    }

    pub async fn get(&self, host: &str, path: &str, token: Option<&str>) -> anyhow::Result<Reply> {
        self.send("GET", host, path, token, None).await
    }

    pub async fn post(
        &self,
        host: &str,
        path: &str,
        token: Option<&str>,
        body: &Value,
    ) -> anyhow::Result<Reply> {
        self.send("POST", host, path, token, Some(body)).await
    }

    pub async fn patch(
        &self,
        host: &str,
        path: &str,
        token: Option<&str>,
        body: &Value,
    ) -> anyhow::Result<Reply> {
        self.send("PATCH", host, path, token, Some(body)).await
    }

    pub async fn delete(
        &self,
        host: &str,
        path: &str,
        token: Option<&str>,
    ) -> anyhow::Result<Reply> {
        self.send("DELETE", host, path, token, None).await
    }
}

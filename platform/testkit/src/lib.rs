//! Helpers for Mercato's integration tests: which real backends a run has (and the rule that
//! CI may not skip any), a migrated database of its own per test on SQLite and on
//! PostgreSQL ([`TestDb`], [`on_every_database!`]), an HTTP client that talks to a shop by
//! `Host` header, a real DNS server on loopback whose TXT records a test sets, and direct
//! access to the S3 server (to remove a test's bucket).

pub mod db;
mod dns;
pub mod s3;

pub use db::{Backend, Schema, TestDb, clean_up_now};
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
            // Straight to the process's stderr, not through `eprintln!`: the test harness
            // captures that for a passing test, and a skip must show in `cargo test`'s output.
            use std::io::Write as _;
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED: {test} needs {var} (see the README's Tests section)"
            );
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
    addr: std::net::SocketAddr,
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
            addr,
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

    /// Sends `target` exactly as written, on a connection of its own. reqwest (like any URL
    /// parser) would collapse `..`, `%2e%2e` and `\` before sending; attacks on routing need
    /// the raw request line.
    pub async fn send_verbatim(
        &self,
        method: &str,
        host: &str,
        target: &str,
        headers: &[(&str, &str)],
    ) -> anyhow::Result<Reply> {
        let mut head = format!("{method} {target} HTTP/1.1\r\nhost: {host}\r\n");
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("content-length: 0\r\nconnection: close\r\n\r\n");
        let addr = self.addr;
        let raw = tokio::task::spawn_blocking(move || -> std::io::Result<Vec<u8>> {
            use std::io::{Read, Write};
            let mut stream = std::net::TcpStream::connect(addr)?;
            stream.set_read_timeout(Some(std::time::Duration::from_secs(30)))?;
            stream.write_all(head.as_bytes())?;
            let mut raw = Vec::new();
            stream.read_to_end(&mut raw)?;
            Ok(raw)
        })
        .await??;
        parse_response(&raw)
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

/// Reads a whole HTTP/1.1 response (the server closed the connection after it).
fn parse_response(raw: &[u8]) -> anyhow::Result<Reply> {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| {
            anyhow::anyhow!("no end of headers in {:?}", String::from_utf8_lossy(raw))
        })?;
    let head = std::str::from_utf8(&raw[..split])?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status: u16 = status_line
        .split(' ')
        .nth(1)
        .ok_or_else(|| anyhow::anyhow!("bad status line {status_line:?}"))?
        .parse()?;
    let mut headers = reqwest::header::HeaderMap::new();
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            headers.append(
                reqwest::header::HeaderName::from_bytes(name.trim().as_bytes())?,
                reqwest::header::HeaderValue::from_str(value.trim())?,
            );
        }
    }
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers
        .get("transfer-encoding")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"chunked"));
    if chunked {
        body = dechunk(&body)?;
    }
    let text = String::from_utf8_lossy(&body).into_owned();
    Ok(Reply {
        status,
        headers,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
        text,
    })
}

fn dechunk(mut rest: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let end = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or_else(|| anyhow::anyhow!("truncated chunk size"))?;
        let size_text = std::str::from_utf8(&rest[..end])?;
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)?;
        rest = &rest[end + 2..];
        if size == 0 {
            return Ok(out);
        }
        let chunk = rest
            .get(..size)
            .ok_or_else(|| anyhow::anyhow!("truncated chunk"))?;
        out.extend_from_slice(chunk);
        rest = rest.get(size + 2..).unwrap_or_default();
    }
}

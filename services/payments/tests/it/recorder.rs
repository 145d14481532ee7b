//! A local HTTP server on 127.0.0.1 that records every request and answers each with the
//! next scripted reply (200 `{}` when none is left). The Stripe adapter's tests script it
//! with Stripe's answers; the localstripe tests use it as a webhook endpoint.

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde_json::Value;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// One request as the server received it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    /// The query string, if the URL had one (an empty one counts).
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Seen {
    /// The form-encoded body's pairs, decoded (`metadata[tenant_id]`, not `%5B…%5D`).
    pub fn form(&self) -> Vec<(String, String)> {
        form_urlencoded::parse(&self.body)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }

    /// The value of form field `name`; `None` if it was not sent (or sent twice).
    pub fn field(&self, name: &str) -> Option<String> {
        let values: Vec<String> = self
            .form()
            .into_iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v)
            .collect();
        match values.as_slice() {
            [one] => Some(one.clone()),
            _ => None,
        }
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }
}

/// A scripted answer: a status and a body (JSON, or raw text to look like a proxy's page).
#[derive(Debug, Clone)]
pub enum Reply {
    Json(u16, Value),
    Text(u16, String),
}

#[derive(Default)]
struct Script {
    replies: VecDeque<Reply>,
    seen: Vec<Seen>,
}

/// The server; it stops with the test's runtime.
#[derive(Clone)]
pub struct Recorder {
    pub addr: SocketAddr,
    script: Arc<Mutex<Script>>,
}

impl Recorder {
    pub async fn start() -> Self {
        let script = Arc::new(Mutex::new(Script::default()));
        let app = Router::new().fallback(answer).with_state(script.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { addr, script }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Queues the answer to the next request.
    pub fn reply(&self, status: u16, body: Value) -> &Self {
        self.script
            .lock()
            .unwrap()
            .replies
            .push_back(Reply::Json(status, body));
        self
    }

    pub fn reply_text(&self, status: u16, body: &str) -> &Self {
        self.script
            .lock()
            .unwrap()
            .replies
            .push_back(Reply::Text(status, body.to_owned()));
        self
    }

    /// The requests received so far, in order.
    pub fn seen(&self) -> Vec<Seen> {
        self.script.lock().unwrap().seen.clone()
    }
}

async fn answer(State(script): State<Arc<Mutex<Script>>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = to_bytes(body, 1 << 20).await.unwrap_or_default().to_vec();
    let reply = {
        let mut script = script.lock().unwrap();
        script.seen.push(Seen {
            method: parts.method.to_string(),
            path: parts.uri.path().to_owned(),
            query: parts.uri.query().map(str::to_owned),
            headers: parts.headers,
            body,
        });
        script
            .replies
            .pop_front()
            .unwrap_or_else(|| Reply::Json(200, serde_json::json!({})))
    };
    let (status, content_type, body) = match reply {
        Reply::Json(status, value) => (status, "application/json", value.to_string()),
        Reply::Text(status, text) => (status, "text/html", text),
    };
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap())
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .unwrap()
}

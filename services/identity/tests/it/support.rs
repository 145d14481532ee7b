//! A migrated identity database of its own for each test, on each backend (through
//! `mercato_testkit`), and the service's router on it, called with a signed context as the
//! gateway would call it.

use axum::Extension;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt as _;
use mercato_auth::{SigningKey, TokenKeys};
use mercato_db::Db;
use mercato_identity::domain::Realm;
use mercato_identity::mail::{Mail, MailError, Mailer};
use mercato_identity::{IdentityConfig, IdentityState};
use mercato_kernel::Secret;
use mercato_tenant_context::{
    Actor, CONTEXT_HEADER, ContextKey, PlanLimits, RequestContext, RequestId, ShopTerms,
};
use sea_orm::DbErr;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

/// The tests' database: the identity service's tables.
pub struct Identity;

impl mercato_testkit::Schema for Identity {
    const NAME: &'static str = "identity";
    const SQLITE_CONNECTIONS: u32 = 4;
    const POSTGRES_CONNECTIONS: u32 = 4;

    async fn migrate(db: &Db) -> Result<(), DbErr> {
        mercato_identity::migrate(db).await
    }
}

/// Declares each listed `async fn(Db)` as a test per backend (see
/// `mercato_testkit::on_every_database!`).
#[macro_export]
macro_rules! on_every_backend {
    ($($name:ident),* $(,)?) => {
        mercato_testkit::on_every_database!(
            $crate::support::Identity, mercato_testkit::TestDb::pool; $($name),*
        );
    };
}

/// The service under test, called as the gateway would: its router with a signed context.
#[derive(Clone)]
pub struct Service {
    pub state: IdentityState,
    pub router: axum::Router,
    /// Every mail the service sent.
    pub sent: Arc<SentMail>,
    key: ContextKey,
}

/// A mailer that keeps what it is given.
#[derive(Default)]
pub struct SentMail(Mutex<Vec<Mail>>);

#[async_trait::async_trait]
impl Mailer for SentMail {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        self.0.lock().unwrap().push(mail.clone());
        Ok(())
    }
}

impl SentMail {
    /// The mails sent to `to`, in the order they were sent.
    pub fn to(&self, to: &str) -> Vec<Mail> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|m| m.to == to)
            .cloned()
            .collect()
    }

    pub fn count(&self) -> usize {
        self.0.lock().unwrap().len()
    }
}

/// A response, read whole.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn str(&self, key: &str) -> String {
        self.body[key].as_str().unwrap_or_default().to_owned()
    }

    /// `Retry-After` in seconds; `None` without one.
    pub fn retry_after(&self) -> Option<u64> {
        self.headers
            .get(axum::http::header::RETRY_AFTER)
            .map(|v| v.to_str().unwrap().parse().unwrap())
    }
}

pub const PASSWORD: &str = "correct horse battery";

impl Service {
    /// The service on `db` with `config` (signing keys and mailer made up for the test).
    pub fn start(db: Db, config: IdentityConfig) -> Self {
        let keys = TokenKeys::new(
            &[SigningKey {
                kid: "test".into(),
                secret: Secret::new("identity-test-signing-key-0123456789"),
            }],
            900,
        )
        .unwrap();
        let sent = Arc::new(SentMail::default());
        let state = IdentityState::new(
            db,
            keys,
            config,
            Arc::new(tokio::sync::Notify::new()),
            sent.clone(),
        )
        .unwrap();
        let key = ContextKey::new(b"identity-test-context-key-0123456789");
        let router = mercato_identity::router(state.clone()).layer(Extension(key.clone()));
        Self {
            state,
            router,
            sent,
            key,
        }
    }

    /// POSTs `body` to `path` anonymously, on a shop's domain or the platform host.
    pub async fn post(&self, realm: Realm, path: &str, body: Value) -> Reply {
        use tower::ServiceExt as _;
        let context = RequestContext {
            scope: realm.scope(),
            actor: Actor::Anonymous,
            roles: Vec::new(),
            vendors: Vec::new(),
            request_id: RequestId::new(),
            terms: matches!(realm, Realm::Shop(_)).then(terms),
            client_ip: None,
        };
        let request = Request::builder()
            .method("POST")
            .uri(path)
            .header(CONTEXT_HEADER, self.key.sign(&context))
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        Reply {
            status,
            headers,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        }
    }

    pub async fn register(&self, realm: Realm, email: &str) -> Reply {
        let reply = self
            .post(
                realm,
                "/api/v1/auth/register",
                json!({ "email": email, "password": PASSWORD }),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
        reply
    }

    pub async fn login(&self, realm: Realm, email: &str, password: &str) -> Reply {
        self.post(
            realm,
            "/api/v1/auth/login",
            json!({ "email": email, "password": password }),
        )
        .await
    }
}

fn terms() -> ShopTerms {
    ShopTerms {
        plan: "growth".into(),
        limits: PlanLimits {
            staff_seats: 10,
            api_requests_per_second: 100,
            api_burst: 100,
            custom_domains: 2,
            products: 10_000,
            vendors: 100,
            storage_mb: 1_000,
        },
        features: Default::default(),
    }
}

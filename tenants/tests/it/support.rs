//! A migrated tenants database of its own for each test, on each backend (through
//! `mercato_testkit`), and the service's router called directly with a signed context, as
//! the gateway would call it. DNS answers come from [`FakeDns`], a `TxtLookup` the test
//! fills in, and the verification worker is run by hand ([`Service::check_domains`]).

use axum::Extension;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::SubsecRound as _;
use http_body_util::BodyExt;
use mercato_db::Db;
use mercato_jobs::Worker;
use mercato_tenant_context::{
    Actor, AdminId, CONTEXT_HEADER, ContextKey, RequestContext, RequestId, Role, Scope,
    ServiceName, TenantId, UserId,
};
use mercato_tenants::dns::{LookupError, TxtLookup};
use mercato_tenants::domain::plan::Plan;
use mercato_tenants::verification::{self, DomainVerifier};
use mercato_tenants::{Resolution, TenantsConfig, TenantsState};
use mercato_testkit::TestDb;
use sea_orm::{ConnectionTrait as _, DbErr, Statement};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Shops get `<slug>.mercato.test`; the platform is `platform.mercato.test`.
pub const PLATFORM_DOMAIN: &str = "mercato.test";
/// Checks before a domain is marked failed, in these tests.
pub const MAX_CHECKS: i32 = 3;

/// The tests' database: the tenants service's tables.
pub struct Tenants;

impl mercato_testkit::Schema for Tenants {
    const NAME: &'static str = "tenants";

    async fn migrate(db: &Db) -> Result<(), DbErr> {
        mercato_tenants::migrate(db).await
    }
}

/// Declares each listed `async fn(Service)` as a test per backend (see
/// `mercato_testkit::on_every_database!`).
#[macro_export]
macro_rules! on_every_backend {
    ($($name:ident),* $(,)?) => {
        mercato_testkit::on_every_database!(
            $crate::support::Tenants, $crate::support::Service::start; $($name),*
        );
    };
}

/// TXT records as the test publishes them. A name with no entry has no record
/// (NXDOMAIN); a name marked [`FakeDns::break_name`] gets a resolver failure (SERVFAIL).
#[derive(Clone, Default)]
pub struct FakeDns {
    records: Arc<Mutex<HashMap<String, Option<Vec<String>>>>>,
}

impl FakeDns {
    /// Replaces the TXT records at `name`.
    pub fn set_txt(&self, name: &str, values: &[&str]) {
        let values = values.iter().map(|v| (*v).to_owned()).collect();
        self.records
            .lock()
            .expect("dns records")
            .insert(name.to_owned(), Some(values));
    }

    /// Look-ups of `name` fail as a timeout or SERVFAIL would.
    pub fn break_name(&self, name: &str) {
        self.records
            .lock()
            .expect("dns records")
            .insert(name.to_owned(), None);
    }
}

#[async_trait::async_trait]
impl TxtLookup for FakeDns {
    async fn txt(&self, name: &str) -> Result<Vec<String>, LookupError> {
        match self.records.lock().expect("dns records").get(name) {
            Some(Some(values)) => Ok(values.clone()),
            Some(None) => Err(LookupError::Failed {
                name: name.to_owned(),
                message: "SERVFAIL".to_owned(),
            }),
            None => Err(LookupError::NotFound(name.to_owned())),
        }
    }
}

/// The service under test: its state, its router, and the DNS its verifier asks.
#[derive(Clone)]
pub struct Service {
    pub state: TenantsState,
    pub router: axum::Router,
    pub dns: FakeDns,
    key: ContextKey,
}

impl Service {
    /// The service on the test's database.
    pub async fn start(t: &TestDb) -> Self {
        let mut config = TenantsConfig {
            platform_domain: PLATFORM_DOMAIN.into(),
            ..TenantsConfig::default()
        };
        config.domain_checks.max_attempts = MAX_CHECKS;
        let state = TenantsState {
            db: t.db.clone(),
            config: Arc::new(config),
            outbox: Arc::new(tokio::sync::Notify::new()),
        };
        let key = ContextKey::new(b"tenants-test-context-key-0123456789");
        let router = mercato_tenants::router(state.clone()).layer(Extension(key.clone()));
        Self {
            state,
            router,
            dns: FakeDns::default(),
            key,
        }
    }
}

/// Who is calling, and on which host: a shop's domain or the platform's.
#[derive(Debug, Clone)]
pub struct Caller {
    pub scope: Scope,
    pub actor: Actor,
    pub roles: Vec<Role>,
}

impl Caller {
    /// A platform administrator on the platform host.
    pub fn admin() -> Self {
        Self {
            scope: Scope::Platform,
            actor: Actor::PlatformAdmin(AdminId::new()),
            roles: Vec::new(),
        }
    }

    /// The gateway asking for itself (host resolution).
    pub fn gateway() -> Self {
        Self {
            scope: Scope::Platform,
            actor: Actor::Service(ServiceName::Gateway),
            roles: Vec::new(),
        }
    }

    /// Nobody signed in, on the platform host.
    pub fn platform_anonymous() -> Self {
        Self {
            scope: Scope::Platform,
            actor: Actor::Anonymous,
            roles: Vec::new(),
        }
    }

    /// The shop's owner: merchant staff with every right.
    pub fn owner(tenant: TenantId) -> Self {
        Self::with_role(tenant, Role::Owner)
    }

    /// Signed-in user of `tenant` with one role.
    pub fn with_role(tenant: TenantId, role: Role) -> Self {
        Self {
            scope: Scope::Shop(tenant),
            actor: Actor::User(UserId::new()),
            roles: vec![role],
        }
    }

    /// Nobody signed in, on the shop's domain.
    pub fn anonymous(tenant: TenantId) -> Self {
        Self {
            scope: Scope::Shop(tenant),
            actor: Actor::Anonymous,
            roles: Vec::new(),
        }
    }
}

/// A response, read whole.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
}

impl Reply {
    /// `body[key]` as a string, or "" (the test then fails on the value, body shown).
    pub fn str(&self, key: &str) -> String {
        self.body[key].as_str().unwrap_or_default().to_owned()
    }

    /// The problem code.
    pub fn code(&self) -> String {
        self.str("code")
    }

    /// The field paths a problem names, in order.
    pub fn fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e["field"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The message of the first error about `field`.
    pub fn message(&self, field: &str) -> String {
        self.body["errors"]
            .as_array()
            .and_then(|a| a.iter().find(|e| e["field"] == field))
            .and_then(|e| e["message"].as_str())
            .unwrap_or_default()
            .to_owned()
    }

    /// A list's `data`.
    pub fn data(&self) -> Vec<Value> {
        self.body["data"].as_array().cloned().unwrap_or_default()
    }
}

/// A shop the test opened.
#[derive(Debug, Clone)]
pub struct Shop {
    pub id: TenantId,
    pub slug: String,
    pub owner: Caller,
    pub body: Value,
}

impl Service {
    /// Calls the router with `caller`'s context signed by the service's key.
    pub async fn call(
        &self,
        caller: &Caller,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Reply {
        self.call_signed(caller, &self.key, method, path, body)
            .await
    }

    /// Calls the router with the context signed by `key` (a wrong key: a forged context).
    pub async fn call_signed(
        &self,
        caller: &Caller,
        key: &ContextKey,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Reply {
        // The gateway signs the shop's terms on every shop-scoped context; tenants reads the
        // plan from its own rows, so any terms do.
        let terms = match caller.scope {
            Scope::Shop(_) => Some(Plan::Growth.terms(&Default::default())),
            Scope::Platform => None,
        };
        let context = RequestContext {
            scope: caller.scope,
            actor: caller.actor,
            roles: caller.roles.clone(),
            vendors: Vec::new(),
            request_id: RequestId::new(),
            terms,
            client_ip: None,
        };
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header(CONTEXT_HEADER, key.sign(&context));
        let request = match body {
            Some(body) => request
                .header("content-type", "application/json")
                .body(Body::from(body.to_string())),
            None => request.body(Body::empty()),
        }
        .expect("request");
        self.send(request).await
    }

    /// Calls the router with no context at all, as a request that did not come through the
    /// gateway.
    pub async fn call_without_context(&self, method: &str, path: &str, body: Value) -> Reply {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .expect("request");
        self.send(request).await
    }

    async fn send(&self, request: Request<Body>) -> Reply {
        use tower::ServiceExt as _;
        let response = self.router.clone().oneshot(request).await.expect("respond");
        let status = response.status();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        Reply {
            status,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        }
    }

    pub async fn get(&self, caller: &Caller, path: &str) -> Reply {
        self.call(caller, "GET", path, None).await
    }

    pub async fn post(&self, caller: &Caller, path: &str, body: Value) -> Reply {
        self.call(caller, "POST", path, Some(body)).await
    }

    pub async fn patch(&self, caller: &Caller, path: &str, body: Value) -> Reply {
        self.call(caller, "PATCH", path, Some(body)).await
    }

    pub async fn delete(&self, caller: &Caller, path: &str) -> Reply {
        self.call(caller, "DELETE", path, None).await
    }

    /// Opens a shop on `plan` as a platform admin would.
    pub async fn open_shop(&self, plan: &str) -> Shop {
        let slug = mercato_testkit::unique("shop-");
        let reply = self
            .post(
                &Caller::admin(),
                "/api/v1/admin/shops",
                json!({
                    "name": format!("Shop {slug}"), "slug": slug, "default_currency": "EUR",
                    "plan": plan, "locale": "de-DE", "timezone": "Europe/Berlin"
                }),
            )
            .await;
        assert_eq!(reply.status, 201, "{}", reply.body);
        let id: TenantId = reply.str("id").parse().expect("a shop id");
        Shop {
            id,
            slug,
            owner: Caller::owner(id),
            body: reply.body,
        }
    }

    /// A shop as the platform admin sees it.
    pub async fn admin_view(&self, shop: TenantId) -> Reply {
        let reply = self
            .get(&Caller::admin(), &format!("/api/v1/admin/shops/{shop}"))
            .await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply
    }

    /// Every shop, as the platform admin lists them.
    pub async fn all_shops(&self) -> Vec<Value> {
        let reply = self
            .get(&Caller::admin(), "/api/v1/admin/shops?limit=100")
            .await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.data()
    }

    /// Adds a custom domain as `caller`.
    pub async fn add_domain(&self, caller: &Caller, hostname: &str) -> Reply {
        self.post(
            caller,
            "/api/v1/shop/domains",
            json!({ "hostname": hostname }),
        )
        .await
    }

    /// Adds a custom domain as the shop's owner; returns the domain.
    pub async fn added_domain(&self, shop: &Shop, hostname: &str) -> Reply {
        let reply = self.add_domain(&shop.owner, hostname).await;
        assert_eq!(reply.status, 201, "{}", reply.body);
        reply
    }

    /// One domain as its shop's owner reads it.
    pub async fn domain(&self, shop: &Shop, id: &str) -> Reply {
        let reply = self
            .get(&shop.owner, &format!("/api/v1/shop/domains/{id}"))
            .await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply
    }

    /// The host names of a shop's domains, as its owner lists them.
    pub async fn hostnames(&self, shop: &Shop) -> Vec<String> {
        let reply = self.get(&shop.owner, "/api/v1/shop/domains").await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply
            .data()
            .iter()
            .filter_map(|d| d["hostname"].as_str().map(str::to_owned))
            .collect()
    }

    /// Publishes a domain's verification token (and a decoy) in the fake DNS.
    pub fn publish_token(&self, domain: &Reply) {
        let name = domain.body["verification"]["name"].as_str().expect("name");
        let value = domain.body["verification"]["value"]
            .as_str()
            .expect("value");
        self.dns.set_txt(name, &["v=spf1 -all", value]);
    }

    /// Runs one round of the verification worker, as its loop would (retries are due at
    /// once here); whether a check was due.
    pub async fn check_domains_once(&self) -> bool {
        self.verifier()
            .run_once()
            .await
            .expect("verification round")
    }

    /// Runs verification rounds until no check is due; how many ran.
    pub async fn check_domains(&self) -> usize {
        let worker = self.verifier();
        let mut rounds = 0;
        while worker.run_once().await.expect("verification round") {
            rounds += 1;
            assert!(rounds < 100, "verification jobs never settle");
        }
        rounds
    }

    fn verifier(&self) -> Worker {
        let verifier = DomainVerifier {
            db: self.state.db.clone(),
            lookup: Arc::new(self.dns.clone()),
            outbox: self.state.outbox.clone(),
        };
        Worker::new(
            self.state.db.clone(),
            verification::JOB_KIND,
            Arc::new(verifier),
        )
        .backoff(Duration::ZERO, Duration::ZERO)
    }

    /// The gateway's question: which shop is `host`? (status, the answer if 200)
    pub async fn resolve(&self, host: &str) -> (StatusCode, Option<Resolution>) {
        let reply = self
            .get(
                &Caller::gateway(),
                &format!("/internal/v1/resolve?host={host}"),
            )
            .await;
        let resolution = (reply.status == StatusCode::OK)
            .then(|| serde_json::from_value(reply.body.clone()).expect("a resolution"));
        (reply.status, resolution)
    }

    /// The shop `host` resolves to, or `None` when it is a 404.
    pub async fn resolved_shop(&self, host: &str) -> Option<TenantId> {
        match self.resolve(host).await {
            (StatusCode::OK, Some(Resolution::Shop { shop_id, .. })) => Some(shop_id),
            (StatusCode::NOT_FOUND, None) => None,
            other => panic!("resolving {host}: {other:?}"),
        }
    }

    /// Every event in the outbox, oldest first: (shop, name, payload).
    pub async fn events(&self) -> Vec<(TenantId, String, Value)> {
        let tx = self
            .state
            .db
            .platform_read("test reads the outbox")
            .await
            .expect("read");
        let rows = tx
            .query_all_raw(Statement::from_string(
                tx.get_database_backend(),
                "SELECT tenant_id, name, payload FROM outbox ORDER BY seq",
            ))
            .await
            .expect("outbox");
        rows.iter()
            .map(|row| {
                let tenant: uuid::Uuid = row.try_get("", "tenant_id").expect("tenant_id");
                let name: String = row.try_get("", "name").expect("name");
                let payload: Value = row.try_get("", "payload").expect("payload");
                (TenantId::from_uuid(tenant), name, payload)
            })
            .collect()
    }

    /// The names of `shop`'s events, oldest first.
    pub async fn event_names(&self, shop: TenantId) -> Vec<String> {
        self.events()
            .await
            .into_iter()
            .filter(|(t, _, _)| *t == shop)
            .map(|(_, name, _)| name)
            .collect()
    }
}

/// `value` with every timestamp cut to microseconds. A create or update answers with the
/// nanoseconds it computed; PostgreSQL keeps microseconds of them (SQLite all), so an
/// answer compares with a later read on both backends only at that precision.
pub fn micros(value: &Value) -> Value {
    match value {
        Value::String(text) => match chrono::DateTime::parse_from_rfc3339(text) {
            Ok(at) => Value::String(
                at.with_timezone(&chrono::Utc)
                    .trunc_subsecs(6)
                    .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            ),
            Err(_) => value.clone(),
        },
        Value::Array(items) => Value::Array(items.iter().map(micros).collect()),
        Value::Object(fields) => {
            Value::Object(fields.iter().map(|(k, v)| (k.clone(), micros(v))).collect())
        }
        other => other.clone(),
    }
}

/// `shop`'s subdomain.
pub fn subdomain(shop: &Shop) -> String {
    format!("{}.{PLATFORM_DOMAIN}", shop.slug)
}

/// A host name nobody else in the test run uses.
pub fn unique_host(prefix: &str) -> String {
    format!("{}.example.com", mercato_testkit::unique(prefix))
}

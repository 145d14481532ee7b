//! The vendors service on a migrated database of its own for each test, on each backend
//! (through `mercato_testkit`), and its router called directly with a signed context.

use axum::Extension;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use mercato_db::Db;
use mercato_kernel::config::Secret;
use mercato_tenant_context::{
    Actor, CONTEXT_HEADER, ContextKey, PlanLimits, RequestContext, RequestId, Role, Scope,
    ShopTerms, TenantId, UserId, VendorId, VendorMembership, VendorRole,
};
use mercato_testkit::TestDb;
use mercato_vendors::VendorsState;
use sea_orm::{ConnectionTrait as _, DbErr, Statement};
use serde_json::{Value, json};
use std::sync::Arc;

/// The tests' database: the vendors service's tables.
pub struct Vendors;

impl mercato_testkit::Schema for Vendors {
    const NAME: &'static str = "vendors";

    async fn migrate(db: &Db) -> Result<(), DbErr> {
        mercato_vendors::migrate(db).await
    }
}

/// The service under test: its state and its router.
#[derive(Clone)]
pub struct Service {
    pub state: VendorsState,
    pub router: axum::Router,
    key: ContextKey,
}

impl Service {
    /// The service on the test's database, its objects stored in the test's directory.
    pub async fn start(t: &TestDb) -> Self {
        let storage = mercato_storage::Storage::local(
            t.dir().join("objects"),
            &Secret::new("vendors-test-storage-secret-0123456789"),
        )
        .expect("storage");
        let state = VendorsState {
            db: t.db.clone(),
            outbox: Arc::new(tokio::sync::Notify::new()),
            storage,
        };
        let key = ContextKey::new(b"vendors-test-context-key-0123456789");
        let router = mercato_vendors::router(state.clone()).layer(Extension(key.clone()));
        Self { state, router, key }
    }
}

/// Declares each listed `async fn(Service)` as a test per backend (see
/// `mercato_testkit::on_every_database!`).
#[macro_export]
macro_rules! on_every_backend {
    ($($name:ident),* $(,)?) => {
        mercato_testkit::on_every_database!(
            $crate::support::Vendors, $crate::support::Service::start; $($name),*
        );
    };
}

/// Who is calling, in which shop.
#[derive(Debug, Clone)]
pub struct Caller {
    pub tenant: TenantId,
    pub actor: Actor,
    pub roles: Vec<Role>,
    pub vendors: Vec<VendorMembership>,
    /// The shop's plan's storage limit as this caller's context carries it.
    pub storage_mb: u32,
}

impl Caller {
    /// The shop's owner: merchant staff with every right.
    pub fn merchant(tenant: TenantId) -> Self {
        Self {
            tenant,
            actor: Actor::User(UserId::new()),
            roles: vec![Role::Owner],
            vendors: Vec::new(),
            storage_mb: 1_000,
        }
    }

    /// A signed-in customer (who may apply to sell).
    pub fn customer(tenant: TenantId) -> Self {
        Self {
            roles: vec![Role::Customer],
            ..Self::merchant(tenant)
        }
    }

    pub fn vendor_staff(tenant: TenantId, vendor: VendorId, role: VendorRole) -> Self {
        Self {
            vendors: vec![VendorMembership { vendor, role }],
            ..Self::customer(tenant)
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
    pub fn str(&self, key: &str) -> String {
        self.body[key].as_str().unwrap_or_default().to_owned()
    }

    /// The field paths a problem names.
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
}

fn terms(storage_mb: u32) -> ShopTerms {
    ShopTerms {
        plan: "growth".into(),
        limits: PlanLimits {
            staff_seats: 10,
            api_requests_per_second: 100,
            api_burst: 100,
            custom_domains: 2,
            products: 10_000,
            vendors: 100,
            storage_mb,
        },
        features: Default::default(),
    }
}

impl Service {
    pub async fn call(
        &self,
        caller: &Caller,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Reply {
        let body = body.map(|body| ("application/json", body.to_string().into_bytes()));
        self.send(caller, method, path, body).await
    }

    /// Calls the router as `caller` with `body` (its content type and bytes), if any.
    pub async fn send(
        &self,
        caller: &Caller,
        method: &str,
        path: &str,
        body: Option<(&str, Vec<u8>)>,
    ) -> Reply {
        use tower::ServiceExt as _;
        let context = RequestContext {
            scope: Scope::Shop(caller.tenant),
            actor: caller.actor,
            roles: caller.roles.clone(),
            vendors: caller.vendors.clone(),
            request_id: RequestId::new(),
            terms: Some(terms(caller.storage_mb)),
            client_ip: None,
        };
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header(CONTEXT_HEADER, self.key.sign(&context));
        let request = match body {
            Some((content_type, bytes)) => request
                .header("content-type", content_type)
                .body(Body::from(bytes)),
            None => request.body(Body::empty()),
        }
        .expect("request");
        let response = self.router.clone().oneshot(request).await.expect("respond");
        let status = response.status();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply { status, body }
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

    /// `applicant` applies to sell as `name`; returns the vendor's id.
    pub async fn apply(&self, applicant: &Caller, name: &str) -> VendorId {
        let reply = self
            .post(
                applicant,
                "/api/v1/vendors",
                json!({
                    "store_name": name, "legal_entity": format!("{name} GmbH"), "country": "DE",
                    "contact_email": "sales@example.com",
                }),
            )
            .await;
        assert_eq!(reply.status, 201, "{:?}", reply.body);
        reply.str("id").parse().expect("a vendor id")
    }

    /// Every event the service wrote to its outbox for `tenant`, oldest first: (name, payload).
    pub async fn events(&self, tenant: TenantId) -> Vec<(String, Value)> {
        let tx = self.state.db.tenant_read(tenant).await.expect("read");
        let rows = tx
            .query_all_raw(Statement::from_sql_and_values(
                tx.get_database_backend(),
                "SELECT name, payload FROM outbox WHERE tenant_id = $1 ORDER BY seq",
                [tenant.as_uuid().into()],
            ))
            .await
            .expect("outbox");
        rows.iter()
            .map(|row| {
                let name: String = row.try_get("", "name").expect("name");
                let payload: Value = row.try_get("", "payload").expect("payload");
                (name, payload)
            })
            .collect()
    }

    /// The events named `name`.
    pub async fn events_named(&self, tenant: TenantId, name: &str) -> Vec<Value> {
        self.events(tenant)
            .await
            .into_iter()
            .filter(|(n, _)| n == name)
            .map(|(_, p)| p)
            .collect()
    }
}

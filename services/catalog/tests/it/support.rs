//! A migrated catalog database of its own for each test, on each backend (through
//! `mercato_testkit`), with local object storage and an embedded search index in the test's
//! temporary directory; the service's router called directly with a signed context, as the
//! gateway would call it; and its outbox relayed to its own consumers when a test asks
//! ([`Service::settle`]).

use axum::Extension;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use mercato_catalog::{CatalogState, events};
use mercato_db::Db;
use mercato_events::{Bus, Envelope, Handler, InProcessBus, Relay};
use mercato_kernel::Secret;
use mercato_tenant_context::{
    Actor, CONTEXT_HEADER, ContextKey, PlanLimits, RequestContext, RequestId, Role, Scope,
    ShopTerms, TenantId, UserId, VendorId, VendorMembership, VendorRole,
};
use mercato_testkit::TestDb;
use mercato_vendors_api::vendor::{VendorSnapshot, VendorStatus};
use sea_orm::{ConnectionTrait as _, DbErr, Statement};
use serde_json::Value;
use std::sync::Arc;

/// The tests' database: the catalog service's tables.
pub struct Catalog;

impl mercato_testkit::Schema for Catalog {
    const NAME: &'static str = "catalog";
    const POSTGRES_CONNECTIONS: u32 = 8;

    async fn migrate(db: &Db) -> Result<(), DbErr> {
        mercato_catalog::migrate(db).await
    }
}

/// The service under test.
#[derive(Clone)]
pub struct Service {
    pub state: CatalogState,
    pub router: axum::Router,
    key: ContextKey,
    relay: Arc<Relay>,
}

impl Service {
    /// The service on the test's database, its media and search index in the test's
    /// directory, its consumers subscribed to an in-process bus its outbox is relayed to.
    pub async fn start(t: &TestDb) -> Self {
        let bus = Arc::new(InProcessBus::new());
        let relay = Relay::new(t.db.clone(), bus.clone());
        let storage = mercato_storage::Storage::local(
            t.dir().join("media"),
            &Secret::new("catalog-test-media-signing-secret-0123456789"),
        )
        .expect("storage");
        let search = mercato_search::open(&mercato_search::SearchConfig::default(), t.dir())
            .expect("search");
        let state = CatalogState {
            db: t.db.clone(),
            outbox: relay.notifier(),
            storage,
            search,
        };
        for subscription in mercato_catalog::subscriptions(&state) {
            bus.subscribe(
                subscription.consumer,
                subscription.patterns,
                subscription.handler,
            )
            .await
            .expect("subscribe");
        }
        let key = ContextKey::new(b"catalog-test-context-key-0123456789");
        let router = mercato_catalog::router(state.clone()).layer(Extension(key.clone()));
        Self {
            state,
            router,
            key,
            relay: Arc::new(relay),
        }
    }
}

/// Declares each listed `async fn(Service)` as a test per backend (see
/// `mercato_testkit::on_every_database!`).
#[macro_export]
macro_rules! on_every_backend {
    ($($name:ident),* $(,)?) => {
        mercato_testkit::on_every_database!(
            $crate::support::Catalog, $crate::support::Service::start; $($name),*
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
    /// The shop's owner: merchant staff with every right, the moderator of listings.
    pub fn merchant(tenant: TenantId) -> Self {
        Self {
            tenant,
            actor: Actor::User(UserId::new()),
            roles: vec![Role::Owner],
            vendors: Vec::new(),
            storage_mb: 1_000,
        }
    }

    /// A shopper who is signed in, or nobody at all.
    pub fn shopper(tenant: TenantId) -> Self {
        Self {
            roles: vec![Role::Customer],
            ..Self::merchant(tenant)
        }
    }

    pub fn anonymous(tenant: TenantId) -> Self {
        Self {
            actor: Actor::Anonymous,
            roles: Vec::new(),
            ..Self::merchant(tenant)
        }
    }

    /// Vendor staff who manage the vendor's listings.
    pub fn vendor_staff(tenant: TenantId, vendor: VendorId) -> Self {
        Self {
            vendors: vec![VendorMembership {
                vendor,
                role: VendorRole::Staff,
            }],
            ..Self::shopper(tenant)
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

    /// The `slug`s of a list's `data`.
    pub fn slugs(&self) -> Vec<String> {
        self.body["data"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v["slug"].as_str().map(str::to_owned))
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
    /// Calls the router as `caller`; `body` is JSON, or raw bytes with their content type.
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
        self.send(caller, "GET", path, None).await
    }

    pub async fn json(&self, caller: &Caller, method: &str, path: &str, body: Value) -> Reply {
        let bytes = body.to_string().into_bytes();
        self.send(caller, method, path, Some(("application/json", bytes)))
            .await
    }

    /// Relays the outbox to the catalog's own consumers until it is empty: the in-process bus
    /// returns once they handled each batch, so the search index is then up to date.
    pub async fn settle(&self) {
        while self.relay.relay_once().await.expect("relay") > 0 {}
    }

    /// An approved vendor of `tenant`, as the vendors service announces one.
    pub async fn approved_vendor(&self, tenant: TenantId) -> VendorId {
        let vendor = VendorId::new();
        let slug = format!("v-{}", vendor.as_uuid().simple());
        let payload = VendorSnapshot {
            vendor_id: vendor,
            slug,
            store_name: "Kyoto Ceramics".into(),
            status: VendorStatus::Approved,
            owner_user_id: UserId::new(),
            holiday_until: None,
            reason: None,
            actor: "usr_test".into(),
            shipping: Default::default(),
            legal: None,
        };
        let event = Envelope::new("vendor.approved", 1, tenant, &payload).expect("envelope");
        mercato_events::Mirrored::new(
            events::VENDORS,
            self.state.db.clone(),
            events::VendorsMirror,
        )
        .waking(self.state.outbox.clone())
        .handle(&event)
        .await
        .expect("vendor.approved handled");
        vendor
    }

    /// The `product.changed` payloads the service wrote for `tenant`, oldest first: what
    /// search, inventory and orders (whose carts refuse what is not `visible`) learn.
    pub async fn product_changes(&self, tenant: TenantId) -> Vec<Value> {
        let tx = self.state.db.tenant_read(tenant).await.expect("read");
        let rows = tx
            .query_all_raw(Statement::from_sql_and_values(
                tx.get_database_backend(),
                "SELECT CAST(payload AS TEXT) AS payload FROM outbox \
                 WHERE tenant_id = $1 AND name = 'product.changed' ORDER BY seq",
                [tenant.as_uuid().into()],
            ))
            .await
            .expect("outbox");
        rows.iter()
            .map(|row| {
                let text: String = row.try_get("", "payload").expect("payload");
                serde_json::from_str(&text).expect("json")
            })
            .collect()
    }
}

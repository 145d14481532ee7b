//! A migrated inventory database of its own for each test, on each backend (through
//! `mercato_testkit`), and the service's router called directly with a signed context, as
//! the gateway would call it.

use axum::Extension;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use mercato_catalog_api::{PRODUCT_CHANGED, ProductChanged, ProductStatus, VariantSnapshot};
use mercato_db::Db;
use mercato_events::{Envelope, Handler, Mirrored};
use mercato_inventory::{InventoryState, events};
use mercato_tenant_context::{
    Actor, ApiKeyId, CONTEXT_HEADER, ContextKey, PlanLimits, ProductId, RequestContext, RequestId,
    Role, Scope, ServiceName, ShopTerms, TenantId, UserId, VariantId, VendorId, VendorMembership,
    VendorRole,
};
use mercato_testkit::TestDb;
use mercato_vendors_api::vendor::{VendorSnapshot, VendorStatus};
use sea_orm::{ConnectionTrait as _, DbErr, Statement};
use serde_json::{Value, json};
use std::sync::Arc;

/// The tests' database: the inventory service's tables.
pub struct Inventory;

impl mercato_testkit::Schema for Inventory {
    const NAME: &'static str = "inventory";
    const POSTGRES_CONNECTIONS: u32 = 8;

    async fn migrate(db: &Db) -> Result<(), DbErr> {
        mercato_inventory::migrate(db).await
    }
}

/// The service under test: its state (for handlers and workers) and its router.
#[derive(Clone)]
pub struct Service {
    pub state: InventoryState,
    pub router: axum::Router,
    key: ContextKey,
}

impl Service {
    /// The service on the test's database.
    pub async fn start(t: &TestDb) -> Self {
        let state = InventoryState {
            db: t.db.clone(),
            outbox: Arc::new(tokio::sync::Notify::new()),
            sweeps: Default::default(),
        };
        let key = ContextKey::new(b"inventory-test-context-key-0123456789");
        let router = mercato_inventory::router(state.clone()).layer(Extension(key.clone()));
        Self { state, router, key }
    }
}

/// Declares each listed `async fn(Service)` as a test per backend (see
/// `mercato_testkit::on_every_database!`).
#[macro_export]
macro_rules! on_every_backend {
    ($($name:ident),* $(,)?) => {
        mercato_testkit::on_every_database!(
            $crate::support::Inventory, $crate::support::Service::start; $($name),*
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
}

impl Caller {
    /// The shop's owner: merchant staff with every right.
    pub fn merchant(tenant: TenantId) -> Self {
        Self {
            tenant,
            actor: Actor::User(UserId::new()),
            roles: vec![Role::Owner],
            vendors: Vec::new(),
        }
    }

    /// Merchant staff who may see every vendor but change none.
    pub fn merchant_staff(tenant: TenantId) -> Self {
        Self {
            roles: vec![Role::Staff],
            ..Self::merchant(tenant)
        }
    }

    /// A signed-in shopper.
    pub fn shopper(tenant: TenantId) -> Self {
        Self {
            roles: vec![Role::Customer],
            ..Self::merchant(tenant)
        }
    }

    pub fn vendor_staff(tenant: TenantId, vendor: VendorId, role: VendorRole) -> Self {
        Self {
            vendors: vec![VendorMembership { vendor, role }],
            ..Self::shopper(tenant)
        }
    }

    pub fn anonymous(tenant: TenantId) -> Self {
        Self {
            actor: Actor::Anonymous,
            roles: Vec::new(),
            ..Self::merchant(tenant)
        }
    }

    /// An integration's API key with a merchant role.
    pub fn api_key(tenant: TenantId, role: Role) -> Self {
        Self {
            actor: Actor::ApiKey(ApiKeyId::new()),
            roles: vec![role],
            ..Self::merchant(tenant)
        }
    }

    /// The orders service acting as itself (reserving stock for a checkout).
    pub fn orders_service(tenant: TenantId) -> Self {
        Self {
            actor: Actor::Service(ServiceName::Orders),
            roles: Vec::new(),
            ..Self::merchant(tenant)
        }
    }

    /// The same caller in another shop (a token replayed on another domain).
    pub fn in_shop(&self, tenant: TenantId) -> Self {
        Self {
            tenant,
            ..self.clone()
        }
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

impl Service {
    pub async fn call(
        &self,
        caller: &Caller,
        method: &str,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        use tower::ServiceExt as _;
        let context = RequestContext {
            scope: Scope::Shop(caller.tenant),
            actor: caller.actor,
            roles: caller.roles.clone(),
            vendors: caller.vendors.clone(),
            request_id: RequestId::new(),
            terms: Some(terms()),
            client_ip: None,
        };
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(CONTEXT_HEADER, self.key.sign(&context));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = match body {
            Some(body) => request
                .header("content-type", "application/json")
                .body(Body::from(body.to_string())),
            None => request.body(Body::empty()),
        }
        .expect("request");
        let response = self.router.clone().oneshot(request).await.expect("respond");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, caller: &Caller, path: &str) -> Reply {
        self.call(caller, "GET", path, None, &[]).await
    }

    pub async fn post(&self, caller: &Caller, path: &str, body: Value) -> Reply {
        self.call(caller, "POST", path, Some(body), &[]).await
    }

    /// Delivers `product.changed` to the catalog mirror, as the bus would.
    pub async fn product_changed(&self, event: &Envelope) {
        Mirrored::new(
            events::CATALOG_MIRROR,
            self.state.db.clone(),
            events::CatalogMirror,
        )
        .handle(event)
        .await
        .expect("product.changed handled");
    }

    /// Delivers a `vendor.*` event to the vendor mirror.
    pub async fn vendor_event(&self, tenant: TenantId, name: &str, vendor: VendorId, status: &str) {
        self.vendor_payload(tenant, name, vendor_snapshot(vendor, status))
            .await;
    }

    /// Delivers a `vendor.*` snapshot to the vendor mirror.
    pub async fn vendor_payload(&self, tenant: TenantId, name: &str, payload: VendorSnapshot) {
        self.vendor_raw(tenant, name, serde_json::to_value(payload).expect("json"))
            .await;
    }

    /// Delivers any `vendor.*` payload to the vendor mirror (one that is no snapshot, too).
    pub async fn vendor_raw(&self, tenant: TenantId, name: &str, payload: Value) {
        let event = Envelope::new(name, 1, tenant, &payload).expect("envelope");
        Mirrored::new(
            events::VENDOR_MIRROR,
            self.state.db.clone(),
            events::VendorMirror,
        )
        .handle(&event)
        .await
        .expect("vendor event handled");
    }

    /// Delivers an orders event (`order.*`, `refund.completed`) to the order-stock consumer;
    /// returns the envelope, to deliver again.
    pub async fn order_event(&self, tenant: TenantId, name: &str, payload: Value) -> Envelope {
        let event = Envelope::new(name, 1, tenant, &payload).expect("envelope");
        self.deliver_order_event(&event).await;
        event
    }

    /// Delivers `event` to the order-stock consumer (again), as the bus would.
    pub async fn deliver_order_event(&self, event: &Envelope) {
        events::OrderStock(self.state.clone())
            .handle(event)
            .await
            .expect("order event handled");
    }

    /// Delivers `events` to the order-stock consumer as one batch, as the in-process bus
    /// does with events that queued up.
    pub async fn deliver_order_batch(&self, events: &[Envelope]) {
        events::OrderStock(self.state.clone())
            .handle_batch(events)
            .await
            .expect("order events handled");
    }

    /// Lists a product with `variants` for `vendor` (as catalog would announce it) and
    /// returns the variant ids.
    pub async fn product(
        &self,
        tenant: TenantId,
        vendor: VendorId,
        variants: usize,
    ) -> (ProductId, Vec<VariantId>) {
        let product = ProductId::new();
        let ids: Vec<VariantId> = (0..variants).map(|_| VariantId::new()).collect();
        self.product_changed(&product_event(tenant, product, vendor, &ids, false))
            .await;
        (product, ids)
    }

    /// A vendor of `tenant` with a warehouse holding `units` of a new variant; returns
    /// (vendor, warehouse id, variant).
    pub async fn stocked(&self, tenant: TenantId, units: i64) -> (VendorId, String, VariantId) {
        let vendor = VendorId::new();
        let (_, variants) = self.product(tenant, vendor, 1).await;
        let staff = Caller::vendor_staff(tenant, vendor, VendorRole::Staff);
        let warehouse = self.warehouse(&staff, vendor, "Main").await;
        if units > 0 {
            self.receive(&staff, &warehouse, variants[0], units).await;
        }
        (vendor, warehouse, variants[0])
    }

    /// Creates a warehouse; returns its id.
    pub async fn warehouse(&self, caller: &Caller, vendor: VendorId, name: &str) -> String {
        let reply = self
            .post(caller, "/api/v1/warehouses", warehouse_body(vendor, name))
            .await;
        assert_eq!(reply.status, 201, "{:?}", reply.body);
        reply.str("id")
    }

    /// Receives `units` of `variant` into `warehouse`.
    pub async fn receive(
        &self,
        caller: &Caller,
        warehouse: &str,
        variant: VariantId,
        units: i64,
    ) -> Reply {
        let reply = self
            .post(
                caller,
                &format!("/api/v1/warehouses/{warehouse}/adjustments"),
                json!({ "variant_id": variant, "delta": units, "reason": "received" }),
            )
            .await;
        assert_eq!(reply.status, 201, "{:?}", reply.body);
        reply
    }

    /// A variant's totals as merchant staff see them: (on hand, reserved, available).
    pub async fn totals(&self, tenant: TenantId, variant: VariantId) -> (i64, i64, i64) {
        let reply = self
            .get(
                &Caller::merchant(tenant),
                &format!("/api/v1/stock/{variant}"),
            )
            .await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        let n = |k: &str| reply.body[k].as_i64().expect("a number");
        (n("on_hand"), n("reserved"), n("available"))
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

/// `vendor` with `status` (a lifecycle code) as the vendors service announces it.
pub fn vendor_snapshot(vendor: VendorId, status: &str) -> VendorSnapshot {
    VendorSnapshot {
        vendor_id: vendor,
        slug: "x".into(),
        store_name: "X".into(),
        status: VendorStatus::parse(status).expect("a vendor status"),
        owner_user_id: mercato_tenant_context::UserId::new(),
        holiday_until: None,
        reason: None,
        actor: "usr_test".into(),
        shipping: Default::default(),
        legal: None,
    }
}

pub fn product_event(
    tenant: TenantId,
    product: ProductId,
    vendor: VendorId,
    variants: &[VariantId],
    deleted: bool,
) -> Envelope {
    let eur = mercato_kernel::Currency::parse("EUR").expect("EUR");
    let variants = variants
        .iter()
        .enumerate()
        .map(|(i, v)| VariantSnapshot {
            variant_id: *v,
            sku: format!("SKU-{i}"),
            price: mercato_kernel::Money::new(1000, eur),
            compare_at_price: None,
        })
        .collect();
    let now = chrono::Utc::now();
    let payload = ProductChanged {
        product_id: product,
        vendor_id: vendor,
        slug: "tea".into(),
        title: "Tea".into(),
        description: None,
        status: ProductStatus::Active,
        visible: !deleted,
        category_id: None,
        category_path: Vec::new(),
        tags: Vec::new(),
        attributes: Vec::new(),
        vendor_name: "X".into(),
        variants,
        created_at: now,
        updated_at: now,
        deleted,
    };
    Envelope::new(PRODUCT_CHANGED, 1, tenant, &payload).expect("envelope")
}

pub fn warehouse_body(vendor: VendorId, name: &str) -> Value {
    json!({
        "vendor_id": vendor,
        "name": name,
        "address": {
            "line1": "Speicherstadt 1", "postal_code": "20457", "city": "Hamburg", "country": "DE"
        }
    })
}

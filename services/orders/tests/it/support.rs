//! A migrated orders database of its own for each test, on each backend (through
//! `mercato_testkit`); the service's router called directly with a signed context, as the
//! gateway would call it; a local inventory in place of the inventory service
//! ([`crate::inventory`]); and catalog, vendor, commission and stock events delivered to the
//! service's mirror consumers, as the bus would deliver them.

use crate::inventory::LocalInventory;
use axum::Extension;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::{TimeDelta, Utc};
use mercato_catalog_api::{PRODUCT_CHANGED, ProductChanged, ProductStatus, VariantSnapshot};
use mercato_db::Db;
use mercato_events::Envelope;
use mercato_inventory_api::{STOCK_CHANGED, StockChanged};
use mercato_kernel::{Currency, Money};
use mercato_orders::events::{CATALOG_MIRROR, COMMISSION_MIRROR, STOCK_MIRROR, VENDOR_MIRROR};
use mercato_orders::inventory::{InventoryClient, InventoryLink};
use mercato_orders::usecases::payment::Providers;
use mercato_orders::{OrdersConfig, OrdersState};
use mercato_tenant_context::{
    Actor, CONTEXT_HEADER, ContextKey, PlanLimits, ProductId, RequestContext, RequestId, Role,
    Scope, ShopTerms, TenantId, UserId, VariantId, VendorId, VendorMembership, VendorRole,
};
use mercato_vendors_api::commission::{CommissionRule, CommissionRuleId, Percent};
use mercato_vendors_api::events::{COMMISSION_RULE_CREATED, CommissionRuleEvent};
use mercato_vendors_api::vendor::{VendorSnapshot, VendorStatus};
use sea_orm::{ConnectionTrait as _, DbErr, Statement};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

/// The test payment provider's card that pays at once.
pub const PAYS: &str = "4242424242424242";

/// The tests' database: the orders service's tables (the payment provider's with them).
pub struct Orders;

impl mercato_testkit::Schema for Orders {
    const NAME: &'static str = "orders";
    const POSTGRES_CONNECTIONS: u32 = 8;

    async fn migrate(db: &Db) -> Result<(), DbErr> {
        mercato_orders::migrate(db).await
    }
}

/// The service under test: its state, its router, and the inventory it reserves from.
#[derive(Clone)]
pub struct Service {
    pub state: OrdersState,
    pub router: axum::Router,
    pub inventory: LocalInventory,
    key: ContextKey,
}

impl Service {
    /// The service on the test's database, paying with the built-in test provider.
    pub async fn start(t: &mercato_testkit::TestDb) -> Self {
        let key = ContextKey::new(b"orders-test-context-key-0123456789ab");
        let inventory = LocalInventory::new(key.clone());
        let config = OrdersConfig {
            test_provider: true,
            ..OrdersConfig::default()
        };
        let payments = Providers::new(config.webhook_tolerance_secs).with_test(
            mercato_payments::TestProvider::new(
                t.db.clone(),
                "whsec_orders_test".into(),
                Duration::from_millis(config.test_webhook_delay_ms),
            ),
        );
        let state = OrdersState {
            db: t.db.clone(),
            outbox: Arc::new(tokio::sync::Notify::new()),
            config: Arc::new(config),
            inventory: InventoryClient {
                link: InventoryLink::Local(inventory.router()),
                key: key.clone(),
            },
            payments,
            token_key: Arc::from(&b"orders-test-order-tokens"[..]),
            sweeps: Default::default(),
        };
        let router = mercato_orders::router(state.clone()).layer(Extension(key.clone()));
        Self {
            state,
            router,
            inventory,
            key,
        }
    }
}

/// Declares each listed `async fn(Service)` as a test per backend (see
/// `mercato_testkit::on_every_database!`).
#[macro_export]
macro_rules! on_every_backend {
    ($($name:ident),* $(,)?) => {
        mercato_testkit::on_every_database!(
            $crate::support::Orders, $crate::support::Service::start; $($name),*
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

    /// A signed-in shopper.
    pub fn shopper(tenant: TenantId) -> Self {
        Self {
            roles: vec![Role::Customer],
            ..Self::merchant(tenant)
        }
    }

    /// A signed-in member of `vendor`'s staff.
    pub fn vendor_staff(tenant: TenantId, vendor: VendorId) -> Self {
        Self {
            vendors: vec![VendorMembership {
                vendor,
                role: VendorRole::Staff,
            }],
            ..Self::shopper(tenant)
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
    pub body: Value,
}

impl Reply {
    pub fn str(&self, key: &str) -> String {
        self.body[key].as_str().unwrap_or_default().to_owned()
    }

    /// The problem's code.
    pub fn code(&self) -> String {
        self.str("code")
    }

    /// The (field, message) pairs a problem names.
    pub fn errors(&self) -> Vec<(String, String)> {
        self.body["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| {
                        let s = |k: &str| e[k].as_str().unwrap_or_default().to_owned();
                        (s("field"), s("message"))
                    })
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

pub fn eur(amount: i64) -> Money {
    Money::new(amount, Currency::parse("EUR").expect("EUR"))
}

/// A product of one variant as orders mirrors it.
#[derive(Debug, Clone, Copy)]
pub struct Listed {
    pub vendor: VendorId,
    pub product: ProductId,
    pub variant: VariantId,
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
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body");
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply { status, body }
    }

    pub async fn get(&self, caller: &Caller, path: &str) -> Reply {
        self.call(caller, "GET", path, None, &[]).await
    }

    pub async fn post(&self, caller: &Caller, path: &str, body: Value) -> Reply {
        self.call(caller, "POST", path, Some(body), &[]).await
    }

    /// Delivers `event` to the consumer named `consumer` of `mercato_orders::subscriptions`,
    /// as the bus would.
    async fn deliver(&self, consumer: &str, event: &Envelope) {
        let subscription = mercato_orders::subscriptions(&self.state)
            .into_iter()
            .find(|s| s.consumer == consumer)
            .expect("orders has this consumer");
        subscription
            .handler
            .handle(event)
            .await
            .unwrap_or_else(|e| panic!("{} handled by {consumer}: {e}", event.name));
    }

    /// A vendor of `tenant` as the vendors service announces it (`vendor.<status>`).
    pub async fn vendor(&self, tenant: TenantId, status: VendorStatus) -> VendorId {
        let vendor = VendorId::new();
        self.vendor_is(tenant, vendor, status).await;
        vendor
    }

    /// `vendor` moved to `status` (`vendor.<status>`).
    pub async fn vendor_is(&self, tenant: TenantId, vendor: VendorId, status: VendorStatus) {
        self.vendor_ships(tenant, vendor, status, None).await;
    }

    /// An approved vendor of `tenant` charging `flat_rate` (EUR cents) for shipping.
    pub async fn vendor_charging(&self, tenant: TenantId, flat_rate: i64) -> VendorId {
        let vendor = VendorId::new();
        self.vendor_ships(tenant, vendor, VendorStatus::Approved, Some(flat_rate))
            .await;
        vendor
    }

    async fn vendor_ships(
        &self,
        tenant: TenantId,
        vendor: VendorId,
        status: VendorStatus,
        flat_rate: Option<i64>,
    ) {
        let snapshot = VendorSnapshot {
            vendor_id: vendor,
            slug: "teahouse".into(),
            store_name: "Teahouse".into(),
            status,
            owner_user_id: UserId::new(),
            holiday_until: None,
            reason: None,
            actor: "usr_test".into(),
            shipping: mercato_vendors_api::vendor::Shipping {
                flat_rate: flat_rate.map(eur),
                free_over: None,
            },
            legal: None,
        };
        let name = format!("vendor.{}", status.code());
        let event = Envelope::new(&name, 1, tenant, &snapshot).expect("envelope");
        self.deliver(VENDOR_MIRROR, &event).await;
    }

    /// Lists a product of one variant for `vendor` at `price` (EUR cents), as catalog
    /// announces it, with `units` in stock (in inventory and as inventory reports it).
    pub async fn list(
        &self,
        tenant: TenantId,
        vendor: VendorId,
        title: &str,
        price: i64,
        units: i64,
    ) -> Listed {
        let listed = Listed {
            vendor,
            product: ProductId::new(),
            variant: VariantId::new(),
        };
        self.price(tenant, listed, title, price).await;
        self.inventory.set_on_hand(tenant, listed.variant, units);
        self.stock_reported(tenant, listed, units).await;
        listed
    }

    /// `product.changed`: `listed` now costs `price`.
    pub async fn price(&self, tenant: TenantId, listed: Listed, title: &str, price: i64) {
        let now = Utc::now();
        let payload = ProductChanged {
            product_id: listed.product,
            vendor_id: listed.vendor,
            slug: title.to_lowercase(),
            title: title.into(),
            description: None,
            status: ProductStatus::Active,
            visible: true,
            category_id: None,
            category_path: Vec::new(),
            tags: Vec::new(),
            attributes: Vec::new(),
            vendor_name: "Teahouse".into(),
            variants: vec![VariantSnapshot {
                variant_id: listed.variant,
                sku: format!("{}-1", title.to_uppercase()),
                price: eur(price),
                compare_at_price: None,
            }],
            created_at: now,
            updated_at: now,
            deleted: false,
        };
        let event = Envelope::new(PRODUCT_CHANGED, 1, tenant, &payload).expect("envelope");
        self.deliver(CATALOG_MIRROR, &event).await;
    }

    /// `stock.changed`: inventory reports `available` units of `listed`.
    pub async fn stock_reported(&self, tenant: TenantId, listed: Listed, available: i64) {
        let payload = StockChanged {
            variant_id: listed.variant,
            product_id: listed.product,
            vendor_id: listed.vendor,
            sku: "SKU".into(),
            on_hand: available,
            reserved: 0,
            available,
        };
        let event = Envelope::new(STOCK_CHANGED, 1, tenant, &payload).expect("envelope");
        self.deliver(STOCK_MIRROR, &event).await;
    }

    /// `commission_rule.created`: a rule for `vendor` (or the whole shop) taking `percent`
    /// and/or `fixed_fee` (EUR cents), valid since an hour ago.
    pub async fn commission_rule(
        &self,
        tenant: TenantId,
        vendor: Option<VendorId>,
        percent: Option<&str>,
        fixed_fee: Option<i64>,
    ) {
        let now = Utc::now();
        let rule = CommissionRule {
            id: CommissionRuleId::new(),
            vendor,
            category: None,
            percent: percent.map(|p| Percent::parse(p).expect("a percent")),
            fixed_fee: fixed_fee.map(eur),
            limits: Vec::new(),
            valid_from: now - TimeDelta::hours(1),
            valid_until: None,
            created_at: now - TimeDelta::hours(1),
            created_by: "usr_test".into(),
        };
        let payload = CommissionRuleEvent::new(&rule, "usr_test", false);
        let event = Envelope::new(COMMISSION_RULE_CREATED, 1, tenant, &payload).expect("envelope");
        self.deliver(COMMISSION_MIRROR, &event).await;
    }

    /// A new cart of `caller` with `lines`; its id.
    pub async fn cart(&self, caller: &Caller, lines: &[(VariantId, i64)]) -> String {
        let lines: Vec<Value> = lines
            .iter()
            .map(|(v, q)| json!({ "variant_id": v, "quantity": q }))
            .collect();
        let reply = self
            .post(caller, "/api/v1/carts", json!({ "lines": lines }))
            .await;
        assert_eq!(reply.status, 201, "{:?}", reply.body);
        reply.str("id")
    }

    /// Checks `cart` out with `Idempotency-Key: key`, paying with [`PAYS`].
    pub async fn checkout(&self, caller: &Caller, cart: &str, key: &str) -> Reply {
        let body = json!({
            "cart_id": cart,
            "email": "erika@example.test",
            "shipping_address": {
                "name": "Erika Mustermann", "line1": "Speicherstadt 1", "city": "Hamburg",
                "postal_code": "20457", "country": "DE"
            },
            "payment": { "provider": "test", "card": PAYS }
        });
        self.call(
            caller,
            "POST",
            "/api/v1/checkout",
            Some(body),
            &[("idempotency-key", key)],
        )
        .await
    }

    /// The payloads of the events named `name` the service wrote to its outbox for
    /// `tenant`, oldest first.
    pub async fn events_named(&self, tenant: TenantId, name: &str) -> Vec<Value> {
        let tx = self.state.db.tenant_read(tenant).await.expect("read");
        let rows = tx
            .query_all_raw(Statement::from_sql_and_values(
                tx.get_database_backend(),
                "SELECT payload FROM outbox WHERE tenant_id = $1 AND name = $2 ORDER BY seq",
                [tenant.as_uuid().into(), name.into()],
            ))
            .await
            .expect("outbox");
        rows.iter()
            .map(|row| row.try_get("", "payload").expect("payload"))
            .collect()
    }
}

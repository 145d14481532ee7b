//! A migrated accounting database of its own for each test, on each backend (through
//! `mercato_testkit`), orders' events built from orders' contract, and the service's router
//! called with a signed context, as the gateway would call it.

use axum::Extension;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use mercato_accounting::{AccountingState, events};
use mercato_db::Db;
use mercato_events::{Envelope, Handler, HandlerError};
use mercato_kernel::{Currency, Money};
use mercato_orders_api::events::{
    ORDER_PAID, OrderChanged, REFUND_COMPLETED, RefundCompleted, VendorOrderMoney, VendorShare,
};
use mercato_orders_api::lifecycle::OrderStatus;
use mercato_orders_api::{OrderId, RefundId, VendorOrderId};
use mercato_tenant_context::{
    Actor, CONTEXT_HEADER, ContextKey, PlanLimits, RequestContext, RequestId, Role, Scope,
    ShopTerms, TenantId, UserId, VendorId, VendorMembership, VendorRole,
};
use sea_orm::DbErr;
use serde_json::Value;

pub struct Accounting;

impl mercato_testkit::Schema for Accounting {
    const NAME: &'static str = "accounting";
    const POSTGRES_CONNECTIONS: u32 = 4;

    async fn migrate(db: &Db) -> Result<(), DbErr> {
        mercato_accounting::migrate(db).await
    }
}

#[derive(Clone)]
pub struct Service {
    pub state: AccountingState,
    pub router: axum::Router,
    key: ContextKey,
    /// The local object store's directory, removed with the last clone.
    _files: std::sync::Arc<tempfile::TempDir>,
}

impl Service {
    pub async fn start(t: &mercato_testkit::TestDb) -> Self {
        let files = tempfile::tempdir().expect("a directory for objects");
        let storage = mercato_storage::Storage::local(
            files.path(),
            &mercato_kernel::Secret::new("accounting-test-media-secret-0123456789".to_owned()),
        )
        .expect("local storage");
        let state = AccountingState {
            db: t.db.clone(),
            storage,
        };
        let key = ContextKey::new(b"accounting-test-context-key-0123456789");
        let router = mercato_accounting::router(state.clone()).layer(Extension(key.clone()));
        Self {
            state,
            router,
            key,
            _files: std::sync::Arc::new(files),
        }
    }

    /// Delivers `event` to the consumer as the bus would.
    pub async fn deliver(&self, event: &Envelope) -> Result<(), HandlerError> {
        events::OrderPostings(self.state.clone())
            .handle(event)
            .await
    }

    /// Delivers `events` as one batch, as the bus does with events that queued up.
    pub async fn deliver_batch(&self, events: &[Envelope]) -> Result<(), HandlerError> {
        events::OrderPostings(self.state.clone())
            .handle_batch(events)
            .await
    }
}

#[macro_export]
macro_rules! on_every_backend {
    ($($name:ident),* $(,)?) => {
        mercato_testkit::on_every_database!(
            $crate::support::Accounting, $crate::support::Service::start; $($name),*
        );
    };
}

pub fn eur() -> Currency {
    Currency::parse("EUR").expect("EUR")
}

/// A vendor order's money: `total` paid with `tax` in it, `commission`, and a discount the
/// shop funds; earnings as orders computes them.
pub fn vendor_order(
    vendor: VendorId,
    total: i64,
    tax: i64,
    commission: i64,
    by_shop: i64,
) -> VendorOrderMoney {
    VendorOrderMoney {
        vendor_order_id: VendorOrderId::new(),
        vendor_id: vendor,
        subtotal: total - tax,
        discount_by_shop: by_shop,
        discount_by_vendor: 0,
        shipping: 0,
        tax,
        total,
        commission,
        earnings: total - tax + by_shop - commission,
        refunded: 0,
    }
}

/// `order.paid` of an order made of `vendor_orders`, in `shop`.
pub fn paid(shop: TenantId, order: OrderId, vendor_orders: &[VendorOrderMoney]) -> Envelope {
    let total: i64 = vendor_orders.iter().map(|v| v.total).sum();
    let payload = OrderChanged {
        order_id: order,
        status: OrderStatus::Paid,
        previous_status: OrderStatus::PendingPayment,
        reservation_id: None,
        customer_id: None,
        total: Money::new(total, eur()),
        refunded: Money::zero(eur()),
        lines: Vec::new(),
        restock: false,
        vendor_order_ids: vendor_orders.iter().map(|v| v.vendor_order_id).collect(),
        vendor_orders: vendor_orders.to_vec(),
        actor: "provider:test".into(),
        reason: None,
        invoice: None,
    };
    Envelope::new(ORDER_PAID, 1, shop, &payload).expect("envelope")
}

/// `refund.completed` of `shares` (vendor order, amount) of `order`, in `shop`.
pub fn refunded(
    shop: TenantId,
    order: OrderId,
    refund: RefundId,
    shares: &[(VendorOrderId, i64)],
) -> Envelope {
    let payload = RefundCompleted {
        order_id: order,
        refund_id: refund,
        reservation_id: None,
        vendor_order_id: None,
        amount: Money::new(shares.iter().map(|s| s.1).sum(), eur()),
        shares: shares
            .iter()
            .map(|&(vendor_order_id, amount)| VendorShare {
                vendor_order_id,
                amount,
            })
            .collect(),
        stray_payment: false,
        restock_lines: Vec::new(),
        actor: "usr_staff".into(),
    };
    Envelope::new(REFUND_COMPLETED, 1, shop, &payload).expect("envelope")
}

/// Who calls, in which shop.
#[derive(Debug, Clone)]
pub struct Caller {
    pub tenant: TenantId,
    pub actor: Actor,
    pub roles: Vec<Role>,
    pub vendors: Vec<VendorMembership>,
}

impl Caller {
    pub fn owner(tenant: TenantId) -> Self {
        Self {
            tenant,
            actor: Actor::User(UserId::new()),
            roles: vec![Role::Owner],
            vendors: Vec::new(),
        }
    }

    pub fn with_role(tenant: TenantId, role: Role) -> Self {
        Self {
            roles: vec![role],
            ..Self::owner(tenant)
        }
    }

    pub fn vendor_owner(tenant: TenantId, vendor: VendorId) -> Self {
        Self {
            roles: vec![Role::Customer],
            vendors: vec![VendorMembership {
                vendor,
                role: VendorRole::Owner,
            }],
            ..Self::owner(tenant)
        }
    }

    pub fn anonymous(tenant: TenantId) -> Self {
        Self {
            actor: Actor::Anonymous,
            roles: Vec::new(),
            ..Self::owner(tenant)
        }
    }
}

#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
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

/// A reply as bytes, with its headers (a PDF).
#[derive(Debug)]
pub struct RawReply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub bytes: Vec<u8>,
}

impl Service {
    pub async fn get(&self, caller: &Caller, path: &str) -> Reply {
        let raw = self.get_raw(caller, path).await;
        let body = serde_json::from_slice(&raw.bytes).unwrap_or(Value::Null);
        Reply {
            status: raw.status,
            body,
        }
    }

    pub async fn get_raw(&self, caller: &Caller, path: &str) -> RawReply {
        self.send(caller, "GET", path, &[], Vec::new()).await
    }

    /// POSTs `body` as JSON with an `Idempotency-Key` when one is given.
    pub async fn post_json(
        &self,
        caller: &Caller,
        path: &str,
        idempotency_key: Option<&str>,
        body: &Value,
    ) -> Reply {
        let mut headers = vec![("content-type", "application/json")];
        if let Some(key) = idempotency_key {
            headers.push(("idempotency-key", key));
        }
        let raw = self
            .send(
                caller,
                "POST",
                path,
                &headers,
                body.to_string().into_bytes(),
            )
            .await;
        Reply {
            status: raw.status,
            body: serde_json::from_slice(&raw.bytes).unwrap_or(Value::Null),
        }
    }

    /// PUTs `bytes` as `content_type`.
    pub async fn put_bytes(
        &self,
        caller: &Caller,
        path: &str,
        content_type: &str,
        bytes: &[u8],
    ) -> Reply {
        let raw = self
            .send(
                caller,
                "PUT",
                path,
                &[("content-type", content_type)],
                bytes.to_vec(),
            )
            .await;
        Reply {
            status: raw.status,
            body: serde_json::from_slice(&raw.bytes).unwrap_or(Value::Null),
        }
    }

    /// Delivers a payout event to the payouts consumer.
    pub async fn deliver_payout(&self, event: &Envelope) -> Result<(), HandlerError> {
        mercato_accounting::payouts::PayoutPostings(self.state.clone())
            .handle(event)
            .await
    }

    pub async fn send(
        &self,
        caller: &Caller,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> RawReply {
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
        let request = request.body(Body::from(body)).expect("request");
        let response = self.router.clone().oneshot(request).await.expect("respond");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        RawReply {
            status,
            headers,
            bytes: bytes.to_vec(),
        }
    }

    /// The trial balance's accounts as (code, debit, credit) with non-zero balances, and
    /// its two totals, as the owner of `shop` reads it.
    pub async fn trial_balance(&self, shop: TenantId) -> (Vec<(String, i64, i64)>, i64, i64) {
        let reply = self
            .get(
                &Caller::owner(shop),
                "/api/v1/ledger/trial-balance?currency=EUR",
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let accounts = reply.body["accounts"]
            .as_array()
            .expect("accounts")
            .iter()
            .map(|a| {
                (
                    a["code"].as_str().unwrap().to_owned(),
                    a["debit"]["amount"].as_i64().unwrap(),
                    a["credit"]["amount"].as_i64().unwrap(),
                )
            })
            .filter(|(_, d, c)| *d != 0 || *c != 0)
            .collect();
        (
            accounts,
            reply.body["total_debit"]["amount"].as_i64().unwrap(),
            reply.body["total_credit"]["amount"].as_i64().unwrap(),
        )
    }
}

//! The orders service owns buying: carts (guests' and customers'), coupons, tax rates and a
//! shop's buying settings, checkout, orders split into one vendor order per vendor, their
//! lifecycle (`domain::lifecycle`), payments through a provider (`mercato-payments`, linked
//! into this service so an order and its payment change in one transaction), expiry of
//! unpaid orders, cancellations, refunds and returns.
//!
//! It publishes `order.*`, `vendor_order.*` and `refund.completed` (see `events`), and
//! the provider's fee of each payment and its balance transactions (`payment.fee_reported`,
//! `payment.balance_imported`, `usecases::provider_balance`); inventory
//! commits, releases and restocks from them. It consumes catalog's `product.changed`
//! (prices, titles, visibility), vendors' `vendor.*` (who sells, shipping rates) and
//! `commission_rule.*`, and inventory's `stock.changed` (availability shown in carts), each
//! into a local mirror. Stock is reserved by a call to inventory (`inventory`). Its
//! bookkeeping (checkout keys, provider event ids, outbox, inbox, finished jobs) is purged
//! after documented windows (`retention`).

pub mod domain;
pub mod events;
pub mod http;
pub mod inventory;
pub mod problems;
pub mod repo;
pub mod retention;
pub mod usecases;

use axum::Router;
use mercato_db::Db;
use mercato_events::Subscription;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// The deployment's defaults for shops that have not set their own, and the payment set-up.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OrdersConfig {
    /// Unpaid orders expire after this many seconds (default 900).
    pub order_ttl_secs: i64,
    /// Untouched carts expire after this many seconds (default 30 days).
    pub cart_idle_secs: i64,
    /// Customers may cancel a paid, unshipped order for this long (default 1 hour).
    pub cancel_window_secs: i64,
    pub prices_include_tax: bool,
    pub vendor_refunds: bool,
    /// The built-in test payment provider: it marks orders paid with no money taken, so it
    /// is off unless asked for (`serve --demo` turns it on), and start-up refuses it on
    /// PostgreSQL unless `allow_test_payments` says so too.
    pub test_provider: bool,
    /// Lets the test provider run against PostgreSQL (a staging deployment); a warning is
    /// logged at start-up when it does.
    pub allow_test_payments: bool,
    /// The test provider's webhook signing secret; empty: derived from the internal key.
    pub test_webhook_secret: String,
    /// How long the test provider takes to confirm a `4000000000003220` payment.
    pub test_webhook_delay_ms: u64,
    /// What the test provider charges on each payment it takes (default 1.5 % + 25).
    pub test_fee: mercato_payments::TestFee,
    /// Webhook timestamps older or newer than this are refused.
    pub webhook_tolerance_secs: i64,
    /// Stripe as a payment provider (off while its secret key is empty).
    pub stripe: StripeConfig,
    /// How long checkout keys and provider event ids are kept (see `retention`).
    pub retention: retention::RetentionConfig,
    /// A shop's providers' balance transactions are imported at most this long after a
    /// payment's fee or a refund (`usecases::provider_balance`; default 60).
    pub provider_import_delay_secs: u64,
}

/// Stripe's set-up: one platform account takes every shop's payments.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StripeConfig {
    /// The secret API key (`sk_…`); empty: Stripe is not offered.
    pub secret_key: mercato_kernel::Secret,
    /// The webhook endpoint's signing secrets (`whsec_…`); several while one is rolled.
    pub webhook_secrets: Vec<mercato_kernel::Secret>,
    /// Where Stripe's API is; empty: Stripe's own. Tests point it at an emulator.
    pub api_base: String,
}

impl Default for StripeConfig {
    fn default() -> Self {
        Self {
            secret_key: mercato_kernel::Secret::new(""),
            webhook_secrets: Vec::new(),
            api_base: String::new(),
        }
    }
}

impl Default for OrdersConfig {
    fn default() -> Self {
        Self {
            order_ttl_secs: 900,
            cart_idle_secs: 30 * 24 * 3600,
            cancel_window_secs: 3600,
            prices_include_tax: false,
            vendor_refunds: false,
            test_provider: false,
            allow_test_payments: false,
            test_webhook_secret: String::new(),
            test_webhook_delay_ms: 2000,
            test_fee: mercato_payments::TestFee::default(),
            webhook_tolerance_secs: 300,
            stripe: StripeConfig::default(),
            retention: retention::RetentionConfig::default(),
            provider_import_delay_secs: 60,
        }
    }
}

impl OrdersConfig {
    pub fn default_settings(&self) -> repo::settings::OrderSettings {
        repo::settings::OrderSettings {
            prices_include_tax: self.prices_include_tax,
            order_ttl_secs: self.order_ttl_secs,
            cart_idle_secs: self.cart_idle_secs,
            cancel_window_secs: self.cancel_window_secs,
            vendor_refunds: self.vendor_refunds,
            payment_providers: None,
        }
    }
}

/// Cheap handles shared by the handlers.
#[derive(Clone)]
pub struct OrdersState {
    pub db: Db,
    /// Poked after a commit that wrote to the outbox, so the relay publishes at once.
    pub outbox: Arc<tokio::sync::Notify>,
    pub config: Arc<OrdersConfig>,
    pub inventory: inventory::InventoryClient,
    pub payments: usecases::payment::Providers,
    /// Signs the tokens that let guests read their orders.
    pub token_key: Arc<[u8]>,
    /// Shops whose next cart and order sweeps are known to be queued.
    pub sweeps: mercato_jobs::SweepsQueued,
}

/// The current instant as the database keeps it (microseconds).
pub fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::SubsecRound;
    chrono::Utc::now().trunc_subsecs(6)
}

pub async fn migrate(db: &Db) -> Result<(), sea_orm::DbErr> {
    mercato_db::migrate(db, "orders", repo::MIGRATIONS).await?;
    mercato_payments::migrate(db).await
}

pub fn router(state: OrdersState) -> Router {
    Router::new()
        .merge(http::carts::router())
        .merge(http::checkout::router())
        .merge(http::orders::router())
        .merge(http::refunds::router())
        .merge(http::review::router())
        .merge(http::coupons::router())
        .merge(http::settings::router())
        .merge(http::webhooks::router())
        .with_state(state)
}

/// The events this service consumes.
pub fn subscriptions(state: &OrdersState) -> Vec<Subscription> {
    events::subscriptions(state)
}

/// Its background workers (jobs), run until `shutdown`.
pub fn workers(
    state: &OrdersState,
    shutdown: CancellationToken,
) -> Vec<futures::future::BoxFuture<'static, ()>> {
    let mut workers: Vec<futures::future::BoxFuture<'static, ()>> = vec![
        Box::pin(usecases::expiry::order_worker(state).run(shutdown.clone())),
        Box::pin(usecases::expiry::order_sweep_worker(state).run(shutdown.clone())),
        Box::pin(usecases::expiry::cart_worker(state).run(shutdown.clone())),
        Box::pin(usecases::payment::auto_refund_worker(state).run(shutdown.clone())),
        Box::pin(usecases::refunds::worker(state).run(shutdown.clone())),
        Box::pin(usecases::provider_balance::fee_worker(state).run(shutdown.clone())),
        Box::pin(usecases::provider_balance::import_worker(state).run(shutdown.clone())),
        Box::pin(retention::worker(
            state.db.clone(),
            state.config.retention.clone(),
            shutdown.clone(),
        )),
    ];
    if let Some(worker) = usecases::payment::test_webhook_worker(state) {
        workers.push(Box::pin(worker.run(shutdown)));
    }
    workers
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        http::carts::create,
        http::carts::show,
        http::carts::update,
        http::carts::add_line,
        http::carts::update_line,
        http::carts::remove_line,
        http::carts::accept_prices,
        http::carts::merge,
        http::checkout::checkout,
        http::checkout::pay,
        http::orders::list,
        http::orders::show,
        http::orders::cancel,
        http::orders::vendor_orders,
        http::orders::vendor_order,
        http::orders::ship,
        http::orders::deliver,
        http::refunds::refund,
        http::refunds::request_return,
        http::refunds::decide_return,
        http::review::decide,
        http::coupons::create,
        http::coupons::list,
        http::coupons::show,
        http::coupons::update,
        http::settings::show,
        http::settings::replace,
        http::settings::list_rates,
        http::settings::put_rate,
        http::settings::delete_rate,
        http::webhooks::receive,
    ),
    tags(
        (name = "carts", description = "Guests' and customers' carts, re-priced on every read, on the shop's domain"),
        (name = "orders", description = "Checkout, orders and vendor orders, payments, cancellations, refunds, returns, coupons and taxes, on the shop's domain")
    )
)]
pub struct ApiDoc;

/// The layers hold: `http` → `usecases` → `domain` ← `repo`, and no module calls up.
#[cfg(test)]
mod layers {
    use std::path::{Path, PathBuf};

    /// Every `.rs` file under `dir` (relative to `src/`), with its text.
    fn sources(dir: &str) -> Vec<(PathBuf, String)> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(dir);
        let mut out = Vec::new();
        let mut todo = vec![root];
        while let Some(path) = todo.pop() {
            if path.is_dir() {
                for entry in std::fs::read_dir(&path).unwrap() {
                    todo.push(entry.unwrap().path());
                }
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                out.push((path, text));
            }
        }
        assert!(!out.is_empty(), "no sources under {dir}");
        out
    }

    fn refuse(dir: &str, forbidden: &[&str]) {
        for (path, text) in sources(dir) {
            for word in forbidden {
                assert!(
                    !text.contains(word),
                    "{} uses {word}: {dir} may not",
                    path.display()
                );
            }
        }
    }

    #[test]
    fn no_module_calls_up_a_layer() {
        refuse(
            "domain",
            &[
                "crate::repo",
                "crate::usecases",
                "crate::http",
                "sea_orm",
                "mercato_db",
                "OrdersState",
            ],
        );
        refuse("repo", &["crate::usecases", "crate::http"]);
        refuse("usecases", &["crate::http", "super::super"]);
        for file in ["events.rs", "inventory.rs", "retention.rs"] {
            let text = std::fs::read_to_string(
                Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(file),
            )
            .unwrap();
            assert!(!text.contains("crate::http"), "{file} uses crate::http");
        }
    }

    #[test]
    fn handlers_share_only_the_order_view() {
        // A handler module may use `out` (the DTOs) and `orders`' view of an order; no other
        // handler module, so none imports another in a circle.
        for (path, text) in sources("http") {
            let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
            for other in [
                "carts", "checkout", "coupons", "refunds", "review", "settings", "webhooks",
            ] {
                if other == name {
                    continue;
                }
                for import in [
                    format!("super::{other}::"),
                    format!("crate::http::{other}::"),
                ] {
                    assert!(
                        !text.contains(&import) || name == "mod",
                        "{} imports {import}",
                        path.display()
                    );
                }
            }
        }
    }
}

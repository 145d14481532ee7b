//! The inventory service owns stock: vendors' warehouses, stock levels per variant and
//! warehouse with a history of every adjustment (who, when, how many, why), reservations
//! that hold units for a checkout for a while and are committed on payment, released on
//! cancel or expired by a job, and low-stock thresholds.
//!
//! It publishes `stock.changed` (a variant's totals, after every change), `stock.low` (once
//! per crossing below a threshold) and `reservation.created|committed|released|expired`
//! (see `events`). It consumes catalog's `product.changed`, to know which variants exist
//! and which vendor sells each, `vendor.*`, to know the shop's vendors, and orders'
//! `order.paid|expired|cancelled` and `refund.completed`, to commit, release or restock the
//! order's reservation.
//!
//! Idempotency keys, outbox and inbox rows and finished jobs are purged after documented
//! windows (`retention`).
//!
//! No oversell: every movement locks the variants it moves (row locks on PostgreSQL, the
//! write lock on SQLite) and changes levels by guarded updates; see `movements`.

pub mod domain;
pub mod events;
pub mod expiry;
pub mod http;
pub mod movements;
pub mod problems;
pub mod repo;
pub mod retention;

use axum::Router;
use mercato_db::Db;
use mercato_events::{Mirrored, Subscription};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Cheap handles shared by the handlers.
#[derive(Clone)]
pub struct InventoryState {
    pub db: Db,
    /// Poked after a commit that wrote to the outbox, so the relay publishes at once.
    pub outbox: Arc<tokio::sync::Notify>,
    /// Shops whose next reservation sweep is known to be queued.
    pub sweeps: mercato_jobs::SweepsQueued,
}

pub async fn migrate(db: &Db) -> Result<(), sea_orm::DbErr> {
    mercato_db::migrate(db, "inventory", repo::MIGRATIONS).await
}

pub fn router(state: InventoryState) -> Router {
    Router::new()
        .merge(http::warehouses::router())
        .merge(http::stock::router())
        .merge(http::reservations::router())
        .with_state(state)
}

/// The events this service consumes.
pub fn subscriptions(state: &InventoryState) -> Vec<Subscription> {
    vec![
        Mirrored::new(
            events::CATALOG_MIRROR,
            state.db.clone(),
            events::CatalogMirror,
        )
        .subscribe(events::CATALOG_MIRROR_PATTERNS),
        Mirrored::new(
            events::VENDOR_MIRROR,
            state.db.clone(),
            events::VendorMirror,
        )
        .subscribe(events::VENDOR_MIRROR_PATTERNS),
        Subscription {
            consumer: events::ORDER_STOCK,
            patterns: events::ORDER_STOCK_PATTERNS,
            handler: Arc::new(events::OrderStock(state.clone())),
        },
    ]
}

/// Its background workers (jobs), run until `shutdown`.
pub fn workers(
    state: &InventoryState,
    shutdown: CancellationToken,
) -> Vec<futures::future::BoxFuture<'static, ()>> {
    vec![
        Box::pin(expiry::worker(state).run(shutdown.clone())),
        Box::pin(expiry::sweep_worker(state).run(shutdown.clone())),
        Box::pin(retention::worker(state.db.clone(), shutdown)),
    ]
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        http::warehouses::create,
        http::warehouses::list,
        http::warehouses::show,
        http::warehouses::update,
        http::warehouses::levels,
        http::warehouses::adjust,
        http::warehouses::history,
        http::stock::show,
        http::stock::set_threshold,
        http::reservations::create,
        http::reservations::list,
        http::reservations::show,
        http::reservations::commit,
        http::reservations::release,
    ),
    tags((name = "inventory", description = "Vendors' warehouses, stock levels and adjustments, low-stock thresholds and reservations, on the shop's domain"))
)]
pub struct ApiDoc;

//! The inventory service owns stock: vendors' warehouses, stock levels per variant and
//! warehouse with an adjustment history, reservations with a time to live, and low-stock
//! events. (Being built: see issue 3.)

pub mod http;

use axum::Router;
use mercato_db::Db;
use mercato_events::Subscription;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Cheap handles shared by the handlers.
#[derive(Clone)]
pub struct InventoryState {
    pub db: Db,
    /// Poked after a commit that wrote to the outbox, so the relay publishes at once.
    pub outbox: Arc<tokio::sync::Notify>,
}

pub async fn migrate(db: &Db) -> Result<(), sea_orm::DbErr> {
    mercato_db::migrate(db, "inventory", &[mercato_events::OUTBOX_MIGRATION]).await
}

pub fn router(state: InventoryState) -> Router {
    Router::new().merge(http::router()).with_state(state)
}

/// The events this service consumes.
pub fn subscriptions(_state: &InventoryState) -> Vec<Subscription> {
    Vec::new()
}

/// Its background workers (jobs), run until `shutdown`.
pub fn workers(
    _state: &InventoryState,
    _shutdown: CancellationToken,
) -> Vec<futures::future::BoxFuture<'static, ()>> {
    Vec::new()
}

#[derive(utoipa::OpenApi)]
#[openapi()]
pub struct ApiDoc;

//! The catalog service owns what vendors sell: products, variants, categories, attributes,
//! media, moderation, CSV import and export, and the shop's public product pages.
//! (Being built: see issue 3.)

pub mod http;

use axum::Router;
use mercato_db::Db;
use mercato_events::Subscription;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Cheap handles shared by the handlers.
#[derive(Clone)]
pub struct CatalogState {
    pub db: Db,
    /// Poked after a commit that wrote to the outbox, so the relay publishes at once.
    pub outbox: Arc<tokio::sync::Notify>,
    /// Product media, under the shop's and vendor's prefix.
    pub storage: mercato_storage::Storage,
}

pub async fn migrate(db: &Db) -> Result<(), sea_orm::DbErr> {
    mercato_db::migrate(db, "catalog", &[mercato_events::OUTBOX_MIGRATION]).await
}

pub fn router(state: CatalogState) -> Router {
    Router::new().merge(http::router()).with_state(state)
}

/// The events this service consumes.
pub fn subscriptions(_state: &CatalogState) -> Vec<Subscription> {
    Vec::new()
}

/// Its background workers (jobs), run until `shutdown`.
pub fn workers(
    _state: &CatalogState,
    _shutdown: CancellationToken,
) -> Vec<futures::future::BoxFuture<'static, ()>> {
    Vec::new()
}

#[derive(utoipa::OpenApi)]
#[openapi()]
pub struct ApiDoc;

//! The catalog service owns what vendors sell: products with their variants, prices, option
//! types, typed attributes, tags and SEO fields; the shop's category tree and attribute
//! definitions; product images in object storage; listing moderation (in a shop that
//! moderates, a vendor's later edit of what shoppers see sends an approved product back to
//! review, see `app::review`); CSV import (a durable job, also run by `mercato import
//! products`) and export; and the shop's public product list and pages.
//!
//! It publishes `product.changed` (a full snapshot, whenever a product, its variants or its
//! visibility change), `product.approved` and `product.rejected` (see `events`). It consumes
//! `vendor.*` into a vendors mirror (who may list; a suspended vendor's products vanish at
//! once) and `stock.changed` into a stock mirror (`available`, `in_stock`).
//!
//! It keeps the shop's product search index (`mercato-search`) in step with its rows: a
//! durable consumer of its own `product.changed` (re-published when the stock mirror sees a
//! product flip between in stock and sold out) upserts or deletes each product's document
//! (see `search`), and it answers `GET /api/v1/search` and
//! `GET /api/v1/search/suggest` from that index.

pub mod app;
pub mod domain;
pub mod events;
pub mod http;
pub mod import;
pub mod problems;
pub mod repo;
pub mod retention;
pub mod search;

use axum::Router;
use mercato_db::Db;
use mercato_events::{Mirrored, Subscription};
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
    /// The product search index shared by all shops (every read names the shop).
    pub search: Arc<dyn mercato_search::SearchIndex>,
}

pub async fn migrate(db: &Db) -> Result<(), sea_orm::DbErr> {
    mercato_db::migrate(db, "catalog", repo::MIGRATIONS).await
}

pub fn router(state: CatalogState) -> Router {
    Router::new().merge(http::router()).with_state(state)
}

/// The events this service consumes.
pub fn subscriptions(state: &CatalogState) -> Vec<Subscription> {
    vec![
        Mirrored::new(events::VENDORS, state.db.clone(), events::VendorsMirror)
            .waking(state.outbox.clone())
            .subscribe(events::VENDORS_PATTERNS),
        Mirrored::new(events::STOCK, state.db.clone(), events::StockMirror)
            .waking(state.outbox.clone())
            .subscribe(events::STOCK_PATTERNS),
        Subscription {
            consumer: search::INDEXER,
            patterns: search::INDEXER_PATTERNS,
            handler: Arc::new(search::SearchIndexer {
                db: state.db.clone(),
                search: state.search.clone(),
            }),
        },
    ]
}

/// Its background workers (jobs), run until `shutdown`.
pub fn workers(
    state: &CatalogState,
    shutdown: CancellationToken,
) -> Vec<futures::future::BoxFuture<'static, ()>> {
    vec![
        Box::pin(import::worker(state).run(shutdown.clone())),
        Box::pin(search::reindex_worker(state).run(shutdown.clone())),
        Box::pin(retention::worker(state.db.clone(), shutdown)),
    ]
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        http::public::list,
        http::public::show,
        http::products::create,
        http::products::list,
        http::products::show,
        http::products::update,
        http::products::remove,
        http::products::transition,
        http::variants::add,
        http::variants::update,
        http::variants::remove,
        http::media::upload,
        http::media::reorder,
        http::media::remove,
        http::categories::list,
        http::categories::show,
        http::categories::create,
        http::categories::update,
        http::categories::remove,
        http::attributes::list,
        http::attributes::show,
        http::attributes::create,
        http::attributes::update,
        http::attributes::remove,
        http::settings::show,
        http::settings::save,
        http::imports::start,
        http::imports::show,
        http::imports::export,
        http::search::search,
        http::search::suggest,
        http::search::reindex,
    ),
    tags((name = "products", description = "The shop's products on sale, for shoppers, on the shop's domain"),
         (name = "catalog", description = "Managing listings: products, variants, images, moderation, CSV import and export (vendor staff and merchant staff)"),
         (name = "categories", description = "The shop's category tree"),
         (name = "attributes", description = "The shop's typed product attributes"),
         (name = "search", description = "Product search on the shop's domain: full text with typos, filters, facets, autocomplete"))
)]
pub struct ApiDoc;

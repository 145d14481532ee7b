//! The vendors service owns a shop's vendors: applications and their lifecycle (with a
//! history of who did what and why), the onboarding checklist each shop configures and the
//! merchant's overrides, store profiles, commission rules (and the "what commission applies
//! to this line" answer later checkout uses), and payout accounts.
//!
//! It publishes `vendor.*` events (`vendor.applied`, `vendor.approved`, …; see `events`) and
//! consumes identity's `vendor_staff.removed` (an applicant removed from their vendor is no
//! longer its owner). Identity consumes `vendor.applied` to make the applicant the owner.

pub mod domain;
pub mod events;
pub mod http;
pub mod problems;
pub mod repo;
pub mod retention;

use axum::Router;
use mercato_db::Db;
use std::sync::Arc;

/// Cheap handles shared by the handlers.
#[derive(Clone)]
pub struct VendorsState {
    pub db: Db,
    /// Poked after a commit that wrote to the outbox, so the relay publishes at once.
    pub outbox: Arc<tokio::sync::Notify>,
    /// Checklist documents (and later logos and banners), under the vendor's prefix.
    pub storage: mercato_storage::Storage,
}

pub async fn migrate(db: &Db) -> Result<(), sea_orm::DbErr> {
    mercato_db::migrate(db, "vendors", repo::MIGRATIONS).await
}

/// The events this service consumes.
pub fn subscriptions(state: &VendorsState) -> Vec<mercato_events::Subscription> {
    vec![mercato_events::Subscription {
        consumer: events::STAFF_REMOVALS,
        patterns: events::STAFF_REMOVALS_PATTERNS,
        handler: Arc::new(events::StaffRemovals(state.clone())),
    }]
}

pub fn router(state: VendorsState) -> Router {
    Router::new()
        .merge(http::vendors::router())
        .merge(http::lifecycle::router())
        .merge(http::images::router())
        .merge(http::checklist::router())
        .merge(http::commission::router())
        .merge(http::payout::router())
        .with_state(state)
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        http::vendors::apply,
        http::vendors::list,
        http::vendors::mine,
        http::vendors::show,
        http::vendors::update,
        http::vendors::set_holiday,
        http::vendors::history_list,
        http::images::upload,
        http::images::remove,
        http::lifecycle::transition,
        http::checklist::config,
        http::checklist::configure,
        http::checklist::progress,
        http::checklist::complete,
        http::checklist::override_item,
        http::checklist::upload_document,
        http::checklist::document_link,
        http::commission::create,
        http::commission::list,
        http::commission::show,
        http::commission::remove,
        http::commission::quote,
        http::payout::show,
        http::payout::save,
    ),
    tags((name = "vendors", description = "A shop's vendors: applications, lifecycle, checklist, profiles, on the shop's domain"),
         (name = "commission", description = "A shop's commission rules and the commission that applies to a line"))
)]
pub struct ApiDoc;

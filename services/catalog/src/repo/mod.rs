//! The only place that queries the catalog database. Every function takes a `TenantTx`:
//! one shop's rows are all it can see.

pub mod attributes;
pub mod bundle;
pub mod categories;
pub mod entities;
pub mod imports;
pub mod listing;
pub mod media;
pub mod products;
pub mod settings;
pub mod stock;
pub mod variants;
pub mod vendors;

use mercato_db::Migration;

pub const MIGRATIONS: &[Migration] = &[
    Migration::portable(
        1,
        "catalog: vendors mirror, categories, attributes, products, variants, media, stock mirror, imports",
        include_str!("../../migrations/0001_catalog.sql"),
        &[
            "catalog_settings",
            "vendors",
            "categories",
            "attributes",
            "products",
            "product_attributes",
            "variants",
            "media",
            "stock",
            "imports",
        ],
    ),
    Migration::portable(
        2,
        "vendors' holidays in the vendors mirror",
        include_str!("../../migrations/0002_vendor_holidays.sql"),
        &[],
    ),
    mercato_events::OUTBOX_MIGRATION,
    mercato_events::OUTBOX_AGE_INDEX_MIGRATION,
    mercato_events::INBOX_MIGRATION,
    mercato_events::INBOX_AGE_INDEX_MIGRATION,
    mercato_jobs::JOBS_MIGRATION,
    mercato_jobs::JOBS_AGE_INDEX_MIGRATION,
    mercato_storage::quota::STORAGE_USAGE_MIGRATION,
];

/// A stored value the code cannot read: the schema's checks should make this impossible.
pub(crate) fn corrupt(what: &str, value: &str) -> sea_orm::DbErr {
    sea_orm::DbErr::Custom(format!("stored {what} is invalid: {value:?}"))
}

pub(crate) fn json_err(e: serde_json::Error) -> sea_orm::DbErr {
    sea_orm::DbErr::Json(e.to_string())
}

/// How many ids go into one `IN (…)` list: far below SQLite's and PostgreSQL's limits.
pub(crate) const IN_CHUNK: usize = 500;

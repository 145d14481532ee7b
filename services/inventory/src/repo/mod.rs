//! The only place that queries the inventory database. Every function takes a `TenantTx`:
//! one shop's rows are all it can see.

pub mod entities;
pub mod idempotency;
pub mod mirror;
pub mod reservations;
pub mod stock;
pub mod warehouses;

use mercato_db::Migration;
use sea_orm::DbErr;

pub const MIGRATIONS: &[Migration] = &[
    Migration::portable(
        1,
        "warehouses, stock, reservations, catalog mirror",
        include_str!("../../migrations/0001_inventory.sql"),
        &[
            "vendors",
            "variants",
            "warehouses",
            "stock_levels",
            "stock_adjustments",
            "reservations",
            "reservation_lines",
            "idempotency_keys",
        ],
    ),
    Migration::portable(
        2,
        "adjustments by reservation, for restocking orders",
        include_str!("../../migrations/0002_restock_index.sql"),
        &[],
    ),
    Migration::portable(
        3,
        "active reservations by deadline, for the expiry sweep",
        include_str!("../../migrations/0003_expiry_sweep_index.sql"),
        &[],
    ),
    Migration::portable(
        4,
        "vendors' holidays in the vendor mirror",
        include_str!("../../migrations/0004_vendor_holidays.sql"),
        &[],
    ),
    mercato_events::OUTBOX_MIGRATION,
    mercato_events::OUTBOX_AGE_INDEX_MIGRATION,
    mercato_events::INBOX_MIGRATION,
    mercato_events::INBOX_AGE_INDEX_MIGRATION,
    mercato_jobs::JOBS_MIGRATION,
    mercato_jobs::JOBS_AGE_INDEX_MIGRATION,
];

/// A stored value the code cannot read: the schema's checks should make this impossible.
pub(crate) fn corrupt(what: &str, value: &str) -> DbErr {
    DbErr::Custom(format!("stored {what} is invalid: {value:?}"))
}

pub(crate) use mercato_db::sql::{for_update, placeholders, statement, value_rows};

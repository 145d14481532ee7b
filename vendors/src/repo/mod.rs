//! The only place that queries the vendors database. Every function takes a `TenantTx`:
//! one shop's rows are all it can see.

pub mod checklist;
pub mod commission;
pub mod entities;
pub mod history;
pub mod payout;
pub mod vendors;

use mercato_db::Migration;

pub const MIGRATIONS: &[Migration] = &[
    Migration::portable(
        1,
        "vendors, history, checklist",
        include_str!("../../migrations/0001_vendors.sql"),
        &[
            "vendors",
            "vendor_history",
            "checklist_items",
            "vendor_checklist",
        ],
    ),
    mercato_events::OUTBOX_MIGRATION,
    mercato_events::OUTBOX_AGE_INDEX_MIGRATION,
    Migration::portable(
        2,
        "commission rules, payout accounts",
        include_str!("../../migrations/0002_commission_payouts.sql"),
        &["commission_rules", "payout_accounts"],
    ),
    mercato_events::INBOX_MIGRATION,
    mercato_events::INBOX_AGE_INDEX_MIGRATION,
    Migration::portable(
        3,
        "vendor shipping settings",
        include_str!("../../migrations/0003_vendor_shipping.sql"),
        &[],
    ),
    mercato_storage::quota::STORAGE_USAGE_MIGRATION,
    Migration::portable(
        4,
        "vendor legal details: invoice address and VAT id",
        include_str!("../../migrations/0004_vendor_legal_details.sql"),
        &[],
    ),
];

/// A stored value the code cannot read: the schema's checks should make this impossible.
pub(crate) fn corrupt(what: &str, value: &str) -> sea_orm::DbErr {
    sea_orm::DbErr::Custom(format!("stored {what} is invalid: {value:?}"))
}

//! The only place that queries the tenants database. Every function takes the transaction it
//! runs in: a `TenantTx` for one shop's rows, a `PlatformTx` for the platform's own work.

pub mod domains;
pub mod entities;
pub mod shops;

use mercato_db::Migration;

pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "shops and domains",
        sqlite: include_str!("../../migrations/0001_shops.sqlite.sql"),
        postgres: include_str!("../../migrations/0001_shops.postgres.sql"),
        tenant_tables: &["shops", "domains"],
    },
    mercato_events::OUTBOX_MIGRATION,
    mercato_events::OUTBOX_AGE_INDEX_MIGRATION,
    mercato_jobs::JOBS_MIGRATION,
    mercato_jobs::JOBS_AGE_INDEX_MIGRATION,
];

//! The only place that queries the inventory database. Every function takes a `TenantTx`:
//! one shop's rows are all it can see.

pub mod entities;
pub mod idempotency;
pub mod mirror;
pub mod reservations;
pub mod stock;
pub mod warehouses;

use mercato_db::Migration;
use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement, Value};

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
    mercato_events::OUTBOX_MIGRATION,
    mercato_events::INBOX_MIGRATION,
    mercato_jobs::JOBS_MIGRATION,
];

/// A stored value the code cannot read: the schema's checks should make this impossible.
pub(crate) fn corrupt(what: &str, value: &str) -> DbErr {
    DbErr::Custom(format!("stored {what} is invalid: {value:?}"))
}

/// A raw statement with `$n` placeholders (both backends accept them).
pub(crate) fn statement(
    conn: &impl ConnectionTrait,
    sql: &str,
    values: impl IntoIterator<Item = Value>,
) -> Statement {
    Statement::from_sql_and_values(conn.get_database_backend(), sql, values)
}

/// `$from, $from+1, …` for an `IN (…)` list of `n` values.
pub(crate) fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `FOR UPDATE` where the backend has row locks. SQLite has none and needs none: its
/// write transactions begin IMMEDIATE and run one at a time.
pub(crate) fn for_update(conn: &impl ConnectionTrait) -> &'static str {
    if conn.get_database_backend() == DbBackend::Postgres {
        " FOR UPDATE"
    } else {
        ""
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders_number_from_the_start() {
        assert_eq!(super::placeholders(2, 3), "$2, $3, $4");
        assert_eq!(super::placeholders(1, 0), "");
    }
}

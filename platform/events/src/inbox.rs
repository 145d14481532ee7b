//! The inbox: which events each consumer has already applied, so that a redelivered event
//! (the bus delivers at least once) has its effect only once.

use crate::Envelope;
use chrono::Utc;
use mercato_db::Migration;
use sea_orm::{ConnectionTrait, DbErr, Statement};

/// The inbox table. Services that consume events append it to their migrations list.
pub const INBOX_MIGRATION: Migration = Migration {
    version: 9002,
    name: "event inbox",
    sqlite: "CREATE TABLE processed_events (
    tenant_id BLOB NOT NULL,
    consumer TEXT NOT NULL,
    event_id BLOB NOT NULL,
    event_name TEXT NOT NULL,
    processed_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, consumer, event_id)
);
",
    postgres: "CREATE TABLE processed_events (
    tenant_id UUID NOT NULL,
    consumer TEXT NOT NULL,
    event_id UUID NOT NULL,
    event_name TEXT NOT NULL,
    processed_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, consumer, event_id)
);
",
    tenant_tables: &["processed_events"],
};

/// Records, in the consumer's own transaction, that `consumer` processed `event`. Returns
/// false if it already had: the caller must then skip its effect. Because the record and
/// the effect commit together, a crash between them leaves neither, and the redelivery
/// applies both. A concurrent duplicate waits on the primary key and then sees false.
pub async fn mark_processed(
    conn: &impl ConnectionTrait,
    consumer: &str,
    event: &Envelope,
) -> Result<bool, DbErr> {
    let backend = conn.get_database_backend();
    let result = conn
        .execute_raw(Statement::from_sql_and_values(
            backend,
            "INSERT INTO processed_events (tenant_id, consumer, event_id, event_name, processed_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            [
                event.tenant_id.as_uuid().into(),
                consumer.into(),
                event.id.as_uuid().into(),
                event.name.as_str().into(),
                Utc::now().into(),
            ],
        ))
        .await?;
    let first = result.rows_affected() == 1;
    if !first {
        tracing::debug!(
            consumer, tenant_id = %event.tenant_id, event = %event.name, event_id = %event.id,
            "event already processed, skipping"
        );
    }
    Ok(first)
}

//! The inbox: which events each consumer has already applied, so that a redelivered event
//! (the bus delivers at least once) has its effect only once.

use crate::Envelope;
use chrono::Utc;
use mercato_db::Migration;
use sea_orm::{ConnectionTrait, DbErr, Statement, Value};
use std::collections::HashSet;

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

/// The inbox's age index, for the retention purge of processed records
/// ([`crate::purge_processed`]). Services append it after [`INBOX_MIGRATION`].
pub const INBOX_AGE_INDEX_MIGRATION: Migration = Migration::portable(
    9004,
    "event inbox by processing time",
    "CREATE INDEX processed_events_processed_at ON processed_events (processed_at);\n",
    &[],
);

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

/// How many events one statement of [`mark_processed_all`] records. At 2 bind values a row
/// (plus 3 shared) it stays far below SQLite's 32766 and PostgreSQL's 65535 parameters.
const ROWS_PER_INSERT: usize = 500;

/// [`mark_processed`] for several events of one shop at once, in one multi-row `INSERT …
/// ON CONFLICT DO NOTHING RETURNING event_id` per 500 events instead of one statement each.
/// Returns, in the order of `events`, whether each is new to `consumer`: the caller applies
/// the effects of those that are and skips the others. An id that appears twice in
/// `events` is new at most the first time.
///
/// All of `events` must belong to the shop of the transaction `conn` (on PostgreSQL its
/// row-level security would refuse another's rows anyway); an event of another shop is an
/// error and records nothing.
pub async fn mark_processed_all(
    conn: &impl ConnectionTrait,
    consumer: &str,
    events: &[&Envelope],
) -> Result<Vec<bool>, DbErr> {
    let Some(first) = events.first() else {
        return Ok(Vec::new());
    };
    let tenant = first.tenant_id;
    if let Some(stranger) = events.iter().find(|e| e.tenant_id != tenant) {
        return Err(DbErr::Custom(format!(
            "cannot mark event {} of shop {} processed together with shop {tenant}'s",
            stranger.id, stranger.tenant_id
        )));
    }
    // PostgreSQL would take a repeated id in one INSERT too, but leaving it out keeps the
    // rule plain: only an id's first occurrence can be new.
    let mut seen = HashSet::with_capacity(events.len());
    let distinct: Vec<&Envelope> = events
        .iter()
        .copied()
        .filter(|e| seen.insert(e.id))
        .collect();
    let backend = conn.get_database_backend();
    let now = Utc::now();
    let mut inserted = HashSet::with_capacity(distinct.len());
    for chunk in distinct.chunks(ROWS_PER_INSERT) {
        let mut values: Vec<Value> = Vec::with_capacity(3 + 2 * chunk.len());
        values.extend([tenant.as_uuid().into(), consumer.into(), now.into()]);
        let mut rows = Vec::with_capacity(chunk.len());
        for event in chunk {
            let id = values.len() + 1;
            rows.push(format!("($1, $2, ${id}, ${}, $3)", id + 1));
            values.push(event.id.as_uuid().into());
            values.push(event.name.as_str().into());
        }
        let sql = format!(
            "INSERT INTO processed_events (tenant_id, consumer, event_id, event_name, processed_at) \
             VALUES {} ON CONFLICT DO NOTHING RETURNING event_id",
            rows.join(", ")
        );
        for row in conn
            .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
            .await?
        {
            inserted.insert(row.try_get_by_index::<uuid::Uuid>(0)?);
        }
    }
    Ok(events
        .iter()
        .map(|event| {
            // Removing makes a repeated id's later occurrences not new.
            let first = inserted.remove(&event.id.as_uuid());
            if !first {
                tracing::debug!(
                    consumer, tenant_id = %event.tenant_id, event = %event.name, event_id = %event.id,
                    "event already processed, skipping"
                );
            }
            first
        })
        .collect())
}

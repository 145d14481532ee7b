//! The transactional outbox: events are rows written in the same transaction as the state
//! change they describe, so an event exists if and only if its change was committed.

use crate::{Envelope, EventId};
use chrono::{DateTime, Utc};
use mercato_db::Migration;
use mercato_tenant_context::TenantId;
use sea_orm::{ConnectionTrait, DbBackend, DbErr, QueryResult, Statement};

/// The outbox table. Services append it to their own migrations list.
///
/// `seq` gives "oldest first" a meaning that survives clock skew and equal timestamps;
/// PostgreSQL fills it from an identity, SQLite (one writer at a time) from `MAX + 1`.
pub const OUTBOX_MIGRATION: Migration = Migration {
    version: 9001,
    name: "event outbox",
    sqlite: "CREATE TABLE outbox (
    tenant_id BLOB NOT NULL,
    id BLOB NOT NULL,
    seq INTEGER NOT NULL,
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    occurred_at TEXT NOT NULL,
    payload TEXT NOT NULL,
    published_at TEXT,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX outbox_seq ON outbox (seq);
CREATE INDEX outbox_unpublished ON outbox (seq) WHERE published_at IS NULL;
",
    postgres: "CREATE TABLE outbox (
    tenant_id UUID NOT NULL,
    id UUID NOT NULL,
    seq BIGINT GENERATED ALWAYS AS IDENTITY,
    name TEXT NOT NULL,
    version BIGINT NOT NULL,
    occurred_at TIMESTAMPTZ NOT NULL,
    payload JSONB NOT NULL,
    published_at TIMESTAMPTZ,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX outbox_unpublished ON outbox (seq) WHERE published_at IS NULL;
",
    tenant_tables: &["outbox"],
};

/// The outbox's age index, for the retention purge of published rows
/// ([`crate::purge_published`]): without it each purge batch scans the whole table. Services
/// append it after [`OUTBOX_MIGRATION`].
pub const OUTBOX_AGE_INDEX_MIGRATION: Migration = Migration::portable(
    9003,
    "event outbox by publication time",
    "CREATE INDEX outbox_published_at ON outbox (published_at) WHERE published_at IS NOT NULL;\n",
    &[],
);

/// What an outbox holds at one moment: the rows the relay has not published yet, and the
/// last sequence number given out (it only grows: a new value means new events).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct OutboxState {
    pub unpublished: u64,
    pub last_seq: i64,
}

/// The outbox of `db` as it is now, across every shop (a platform read, like the relay's).
pub async fn outbox_state(db: &mercato_db::Db) -> Result<OutboxState, DbErr> {
    let tx = db.platform_read("outbox state").await?;
    let row = tx
        .query_one_raw(Statement::from_string(
            db.backend(),
            "SELECT (SELECT count(*) FROM outbox WHERE published_at IS NULL), \
                    (SELECT COALESCE(MAX(seq), 0) FROM outbox)",
        ))
        .await?;
    tx.commit().await?;
    let (unpublished, last_seq) = match row {
        Some(row) => (
            row.try_get_by_index::<i64>(0)?,
            row.try_get_by_index::<i64>(1)?,
        ),
        None => (0, 0),
    };
    Ok(OutboxState {
        unpublished: u64::try_from(unpublished).unwrap_or_default(),
        last_seq,
    })
}

/// Builds the envelope of a version-1 event `name` for `tenant` and writes it to the outbox
/// in the caller's transaction (the usual way a service publishes).
pub async fn publish(
    conn: &impl ConnectionTrait,
    name: &str,
    tenant: mercato_tenant_context::TenantId,
    payload: &impl serde::Serialize,
) -> Result<(), DbErr> {
    let event = Envelope::new(name, 1, tenant, payload).map_err(|e| DbErr::Json(e.to_string()))?;
    enqueue(conn, &event).await
}

/// Writes `event` to the outbox in the caller's transaction (a `TenantTx` or `PlatformTx`
/// derefs to one). The relay publishes it once the transaction commits; if it rolls back,
/// the event never existed. On PostgreSQL, row-level security refuses an event for another
/// tenant than the transaction's.
pub async fn enqueue(conn: &impl ConnectionTrait, event: &Envelope) -> Result<(), DbErr> {
    enqueue_all(conn, std::slice::from_ref(event)).await
}

/// Rows per multi-row insert (six parameters each, well under either backend's limit).
const ROWS_PER_INSERT: usize = 100;

/// [`enqueue`] for several events of one transaction, in one statement per hundred: they
/// keep the order given (`seq` increases along the slice).
pub async fn enqueue_all(conn: &impl ConnectionTrait, events: &[Envelope]) -> Result<(), DbErr> {
    // Refuse here, in the producer's transaction, rather than letting a row the broker can
    // never route block the relay.
    for event in events {
        if let Some(reason) = crate::envelope::invalid_name_reason(&event.name) {
            return Err(DbErr::Custom(format!(
                "invalid event name {:?}: {reason}",
                event.name
            )));
        }
    }
    let backend = conn.get_database_backend();
    for chunk in events.chunks(ROWS_PER_INSERT) {
        let mut values = Vec::with_capacity(chunk.len() * 6);
        let rows: Vec<String> = chunk
            .iter()
            .enumerate()
            .map(|(k, event)| {
                values.extend([
                    event.tenant_id.as_uuid().into(),
                    event.id.as_uuid().into(),
                    event.name.as_str().into(),
                    i64::from(event.version).into(),
                    event.occurred_at.into(),
                    event.payload.clone().into(),
                ]);
                let params = mercato_db::sql::placeholders(k * 6 + 1, 6);
                match backend {
                    // The identity fills `seq` row by row, in the order of the list.
                    DbBackend::Postgres => format!("({params})"),
                    // One writer at a time: the rows follow the highest `seq` so far.
                    _ => format!(
                        "({params}, (SELECT COALESCE(MAX(seq), 0) FROM outbox) + {})",
                        k + 1
                    ),
                }
            })
            .collect();
        let columns = match backend {
            DbBackend::Postgres => "tenant_id, id, name, version, occurred_at, payload",
            _ => "tenant_id, id, name, version, occurred_at, payload, seq",
        };
        conn.execute_raw(Statement::from_sql_and_values(
            backend,
            format!("INSERT INTO outbox ({columns}) VALUES {}", rows.join(", ")),
            values,
        ))
        .await?;
    }
    for event in events {
        tracing::debug!(tenant_id = %event.tenant_id, event = %event.name, event_id = %event.id, "event enqueued");
    }
    Ok(())
}

/// Up to `limit` unpublished events, oldest first. On PostgreSQL the rows stay locked
/// until the transaction ends and rows another relay holds are skipped, so several relays
/// can run without publishing the same batch.
pub(crate) async fn unpublished(
    conn: &impl ConnectionTrait,
    limit: u64,
) -> Result<Vec<Envelope>, DbErr> {
    let backend = conn.get_database_backend();
    let lock = if backend == DbBackend::Postgres {
        " FOR UPDATE SKIP LOCKED"
    } else {
        ""
    };
    let sql = format!(
        "SELECT tenant_id, id, name, version, occurred_at, payload FROM outbox \
         WHERE published_at IS NULL ORDER BY seq LIMIT {limit}{lock}"
    );
    conn.query_all_raw(Statement::from_string(backend, sql))
        .await?
        .iter()
        .map(decode)
        .collect()
}

/// Records that `events` reached the bus, in one statement.
pub(crate) async fn mark_published(
    conn: &impl ConnectionTrait,
    events: &[Envelope],
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    if events.is_empty() {
        return Ok(());
    }
    let backend = conn.get_database_backend();
    let keys: Vec<String> = (0..events.len())
        .map(|i| format!("(${}, ${})", 2 * i + 2, 2 * i + 3))
        .collect();
    let mut values: Vec<sea_orm::Value> = Vec::with_capacity(1 + 2 * events.len());
    values.push(at.into());
    for event in events {
        values.push(event.tenant_id.as_uuid().into());
        values.push(event.id.as_uuid().into());
    }
    conn.execute_raw(Statement::from_sql_and_values(
        backend,
        format!(
            "UPDATE outbox SET published_at = $1 WHERE (tenant_id, id) IN (VALUES {})",
            keys.join(", ")
        ),
        values,
    ))
    .await?;
    Ok(())
}

fn decode(row: &QueryResult) -> Result<Envelope, DbErr> {
    let version: i64 = row.try_get("", "version")?;
    Ok(Envelope {
        id: EventId::from_uuid(row.try_get("", "id")?),
        name: row.try_get("", "name")?,
        version: u32::try_from(version)
            .map_err(|_| DbErr::Type(format!("outbox version {version} out of range")))?,
        tenant_id: TenantId::from_uuid(row.try_get("", "tenant_id")?),
        occurred_at: row.try_get("", "occurred_at")?,
        payload: row.try_get("", "payload")?,
    })
}

//! Retention: published outbox rows and inbox records are bookkeeping, and a busy shop writes
//! several of each per checkout. Nothing reads a published row again, and an inbox record
//! only matters while its event can still be redelivered, so both are deleted once they are
//! older than a window (see ADR 0027). Unpublished rows are never touched: they are events
//! still on their way.
//!
//! Each statement deletes at most [`PURGE_BATCH`] rows in a short platform transaction of its
//! own (`mercato_db::purge_in_batches`), so a purge of a large backlog never holds SQLite's
//! write lock, or PostgreSQL's row locks, for long: producers and consumers slip in between
//! batches.

use chrono::{DateTime, TimeDelta, Utc};
pub use mercato_db::PURGE_BATCH;
use mercato_db::{Db, purge_in_batches};
use sea_orm::DbErr;

/// How long a published outbox row is kept. Nothing reads it after the relay marked it;
/// the week leaves time to look at what a service published while investigating an incident.
pub const KEEP_PUBLISHED: TimeDelta = TimeDelta::days(7);

/// How long an inbox record is kept: far beyond any redelivery. A relay republishes a row
/// at most until it is marked (seconds to minutes, or as long as a broker outage lasts), the
/// bus retries within seconds, and a dead letter replayed by hand is replayed within days. A
/// redelivery after its record was purged would be applied twice.
pub const KEEP_PROCESSED: TimeDelta = TimeDelta::days(30);

/// Deletes the outbox rows published before `before`, in batches; how many went.
/// Unpublished rows stay whatever their age.
pub async fn purge_published(db: &Db, before: DateTime<Utc>) -> Result<u64, DbErr> {
    purge_in_batches(
        db,
        "purge published events",
        &format!(
            "DELETE FROM outbox WHERE (tenant_id, id) IN (\
               SELECT tenant_id, id FROM outbox \
               WHERE published_at IS NOT NULL AND published_at < $1 LIMIT {PURGE_BATCH})"
        ),
        before,
    )
    .await
}

/// Deletes the inbox records of events processed before `before`, in batches; how many went.
pub async fn purge_processed(db: &Db, before: DateTime<Utc>) -> Result<u64, DbErr> {
    purge_in_batches(
        db,
        "purge processed events",
        &format!(
            "DELETE FROM processed_events WHERE (tenant_id, consumer, event_id) IN (\
               SELECT tenant_id, consumer, event_id FROM processed_events \
               WHERE processed_at < $1 LIMIT {PURGE_BATCH})"
        ),
        before,
    )
    .await
}

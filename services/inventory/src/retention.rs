//! Retention: the sweep that keeps this service's bookkeeping tables bounded on a busy
//! shop. At start and then hourly it deletes, across all shops and in bounded batches, what
//! has outlived its window (ADR 0027):
//!
//! - idempotency keys after a day (`repo::idempotency::KEEP_FOR`): a reservation lives an
//!   hour at most, so no retry of one comes later;
//! - published outbox rows after 7 days, inbox records after 30 days
//!   (`mercato_events::KEEP_PUBLISHED`, `KEEP_PROCESSED`) and finished jobs after 14 days
//!   (`mercato_jobs::KEEP_FINISHED`).
//!
//! (It used to purge a shop's keys in every reservation's expiry job: one unbounded delete
//! per reservation, on the path that gives stock back.)

use crate::repo::idempotency;
use mercato_db::Db;
use sea_orm::DbErr;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How often the sweep runs.
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(3600);

/// One sweep: everything past its window goes; how many rows in all.
pub async fn sweep(db: &Db) -> Result<u64, DbErr> {
    let now = crate::movements::now();
    let mut purged = idempotency::purge(db, now - idempotency::KEEP_FOR).await?;
    purged += mercato_events::purge_published(db, now - mercato_events::KEEP_PUBLISHED).await?;
    purged += mercato_events::purge_processed(db, now - mercato_events::KEEP_PROCESSED).await?;
    purged += mercato_jobs::purge_finished(db, now - mercato_jobs::KEEP_FINISHED).await?;
    Ok(purged)
}

/// Sweeps at start and then every [`SWEEP_INTERVAL`] until `shutdown`.
pub async fn worker(db: Db, shutdown: CancellationToken) {
    mercato_jobs::sweep_every("inventory", SWEEP_INTERVAL, shutdown, || sweep(&db)).await;
}

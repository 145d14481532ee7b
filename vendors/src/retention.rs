//! Retention: the sweep that keeps this service's bookkeeping tables bounded. At start and
//! then hourly it deletes, across all shops and in bounded batches, what has outlived its
//! window (ADR 0027): published outbox rows after 7 days and inbox records after 30 days
//! (`mercato_events::KEEP_PUBLISHED`, `KEEP_PROCESSED`). Vendors runs no jobs. A vendor's
//! history is not bookkeeping: it stays.

use chrono::{SubsecRound, Utc};
use mercato_db::Db;
use sea_orm::DbErr;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How often the sweep runs.
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(3600);

/// One sweep: everything past its window goes; how many rows in all.
pub async fn sweep(db: &Db) -> Result<u64, DbErr> {
    let now = Utc::now().trunc_subsecs(6);
    let mut purged =
        mercato_events::purge_published(db, now - mercato_events::KEEP_PUBLISHED).await?;
    purged += mercato_events::purge_processed(db, now - mercato_events::KEEP_PROCESSED).await?;
    Ok(purged)
}

/// Sweeps at start and then every [`SWEEP_INTERVAL`] until `shutdown`.
pub async fn worker(db: Db, shutdown: CancellationToken) {
    mercato_jobs::sweep_every("vendors", SWEEP_INTERVAL, shutdown, || sweep(&db)).await;
}

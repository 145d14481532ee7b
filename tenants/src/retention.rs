//! Retention: the sweep that keeps this service's bookkeeping tables bounded. At start and
//! then hourly it deletes, across all shops and in bounded batches, what has outlived its
//! window (ADR 0027): published outbox rows after 7 days (`mercato_events::KEEP_PUBLISHED`)
//! and finished domain-verification jobs after 14 days (`mercato_jobs::KEEP_FINISHED`).
//! Tenants consumes no events, so it has no inbox.

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
    purged += mercato_jobs::purge_finished(db, now - mercato_jobs::KEEP_FINISHED).await?;
    Ok(purged)
}

/// Sweeps at start and then every [`SWEEP_INTERVAL`] until `shutdown`.
pub async fn worker(db: Db, shutdown: CancellationToken) {
    mercato_jobs::sweep_every("tenants", SWEEP_INTERVAL, shutdown, || sweep(&db)).await;
}

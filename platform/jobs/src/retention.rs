//! Retention: a finished job is only read back by the API ("the expiry job of order X"), and
//! a busy shop finishes several per checkout, so succeeded and failed jobs are deleted once
//! they finished longer ago than a window (see ADR 0027). Queued and running jobs are never
//! touched, whatever their age.
//!
//! Services run their purges together in one periodic [`sweep_every`] loop, and use
//! [`purge_in_batches`] for their own tables (idempotency keys, provider event ids).

use chrono::{DateTime, TimeDelta, Utc};
use mercato_db::Db;
pub use mercato_db::{PURGE_BATCH, purge_in_batches};
use sea_orm::DbErr;
use std::future::Future;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How long a succeeded or failed job is kept: two weeks to see what happened to an order's
/// expiry or a report run, and to find a failed job's `last_error`, before it goes.
pub const KEEP_FINISHED: TimeDelta = TimeDelta::days(14);

/// Deletes the jobs that succeeded or failed for good before `before`, in batches; how many
/// went. A finished job's `updated_at` is when its outcome was recorded.
pub async fn purge_finished(db: &Db, before: DateTime<Utc>) -> Result<u64, DbErr> {
    purge_in_batches(
        db,
        "purge finished jobs",
        &format!(
            "DELETE FROM jobs WHERE (tenant_id, id) IN (\
               SELECT tenant_id, id FROM jobs \
               WHERE status IN ('succeeded', 'failed') AND updated_at < $1 LIMIT {PURGE_BATCH})"
        ),
        before,
    )
    .await
}

/// Runs `round` (a service's purges; it returns how many rows went) at once and then every
/// `interval` until `shutdown` is cancelled. At once, because a process restarted more often
/// than `interval` (deploys) would otherwise never sweep. A failed round is logged and tried
/// again at the next interval: the rows only wait a little longer. Several processes of one
/// service may sweep side by side; a row is deleted once whoever gets there first.
pub async fn sweep_every<F, Fut>(
    service: &'static str,
    interval: Duration,
    shutdown: CancellationToken,
    mut round: F,
) where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<u64, DbErr>>,
{
    tracing::info!(
        service,
        interval_secs = interval.as_secs(),
        "retention sweep started"
    );
    while !shutdown.is_cancelled() {
        match round().await {
            Ok(0) => {}
            Ok(purged) => tracing::info!(service, purged, "retention sweep purged old rows"),
            Err(error) => tracing::error!(service, %error, "retention sweep failed"),
        }
        tokio::select! {
            () = shutdown.cancelled() => break,
            // A zero interval would spin on an empty database.
            () = tokio::time::sleep(interval.max(Duration::from_millis(100))) => {}
        }
    }
    tracing::info!(service, "retention sweep stopped");
}

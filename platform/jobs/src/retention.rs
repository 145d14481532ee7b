//! Retention: a finished job is only read back by the API ("the expiry job of order X"), and
//! a busy shop finishes several per checkout, so succeeded and failed jobs are deleted once
//! they finished longer ago than a window (see ADR 0027). Queued and running jobs are never
//! touched, whatever their age.
//!
//! Services run their purges together in one periodic [`sweep_every`] loop, and use
//! [`purge_in_batches`] for their own tables (idempotency keys, provider event ids).

use chrono::{DateTime, TimeDelta, Utc};
use mercato_db::Db;
use sea_orm::{ConnectionTrait, DbErr, Statement};
use std::future::Future;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How long a succeeded or failed job is kept: two weeks to see what happened to an order's
/// expiry or a report run, and to find a failed job's `last_error`, before it goes.
pub const KEEP_FINISHED: TimeDelta = TimeDelta::days(14);

/// Rows one purge statement deletes at most.
pub const PURGE_BATCH: u64 = 1000;

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

/// Runs `delete` — one statement that deletes at most [`PURGE_BATCH`] rows older than the
/// cut-off bound as `$1`, such as `DELETE FROM t WHERE (k1, k2) IN (SELECT k1, k2 FROM t
/// WHERE created_at < $1 LIMIT 1000)` — each time in a platform transaction of its own, until
/// a batch comes back short; the rows it deleted in all.
///
/// Short transactions, so purging a large backlog never holds SQLite's write lock or
/// PostgreSQL's row locks for long: the service's own writes slip in between batches. The
/// key-based subquery is portable: PostgreSQL has no `DELETE … LIMIT`, and SQLite only with a
/// compile-time option.
pub async fn purge_in_batches(
    db: &Db,
    purpose: &'static str,
    delete: &str,
    before: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let mut total = 0;
    loop {
        let tx = db.platform_tx(purpose).await?;
        let deleted = tx
            .execute_raw(Statement::from_sql_and_values(
                tx.get_database_backend(),
                delete,
                [before.into()],
            ))
            .await?
            .rows_affected();
        tx.commit().await?;
        total += deleted;
        if deleted < PURGE_BATCH {
            return Ok(total);
        }
    }
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

//! Deleting old rows in bounded batches, for every crate's retention (ADR 0027).

use crate::Db;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr, Statement};

/// Rows one purge statement deletes at most.
pub const PURGE_BATCH: u64 = 1000;

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

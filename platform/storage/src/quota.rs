//! The plan's storage limit, kept as a running total instead of a listing per upload.
//!
//! Each service that stores a shop's files keeps, in its own database, one `storage_usage`
//! row per shop: the bytes of the files it stores for the shop ([`STORAGE_USAGE_MIGRATION`],
//! appended to the service's migrations). An upload adds its bytes with [`reserve`] in the
//! transaction that records the file, so the total changes exactly when a file becomes
//! referenced: a guarded relative update that refuses to pass the limit, which on
//! PostgreSQL locks the shop's row (concurrent uploads of one shop add up one after the
//! other and cannot pass the limit together) and on SQLite runs under the write lock. A
//! removed file gives its bytes back with [`release`]. A shop's row is counted from the
//! objects themselves (a listing of the service's areas) when an upload's [`precheck`] finds
//! none, before its object is written: on its first upload after the table came, and after
//! an operator deleted the row to have a drifted total counted again; [`recompute`] does the
//! same at once. Uploads whose objects are written but not yet recorded while a row is
//! counted are counted twice, an over-count the next count corrects.

use crate::{Storage, StorageError};
use chrono::Utc;
use mercato_db::{Db, Migration, TenantTx};
use mercato_kernel::Problem;
use mercato_tenant_context::TenantId;
use sea_orm::{ConnectionTrait, DbErr, Statement, Value};

/// The `storage_usage` table for a service's schema; its version (9201) stays clear of a
/// service's own numbering.
pub const STORAGE_USAGE_MIGRATION: Migration = Migration::portable(
    9201,
    "storage_usage",
    "CREATE TABLE storage_usage (
    tenant_id UUID NOT NULL,
    used_bytes BIGINT NOT NULL CHECK (used_bytes >= 0),
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id)
);
",
    &["storage_usage"],
);

const MB: u64 = 1024 * 1024;

fn statement(tx: &TenantTx, sql: &str, values: impl IntoIterator<Item = Value>) -> Statement {
    Statement::from_sql_and_values(tx.get_database_backend(), sql, values)
}

fn bytes_value(bytes: u64) -> Value {
    i64::try_from(bytes).unwrap_or(i64::MAX).into()
}

/// The bytes the shop's files in this service take, as last counted (0 if none yet).
pub async fn used(tx: &TenantTx) -> Result<u64, DbErr> {
    Ok(counted(tx).await?.unwrap_or(0))
}

/// The shop's total, or `None` when it has no row yet.
async fn counted(tx: &TenantTx) -> Result<Option<u64>, DbErr> {
    let row = tx
        .query_one_raw(statement(
            tx,
            "SELECT used_bytes FROM storage_usage WHERE tenant_id = $1",
            [tx.tenant().as_uuid().into()],
        ))
        .await?;
    let Some(row) = row else { return Ok(None) };
    let used: i64 = row.try_get("", "used_bytes")?;
    Ok(Some(u64::try_from(used).unwrap_or(0)))
}

/// Creates the shop's row, counted from its objects in `areas` less `uploading` (an upload
/// already written), if it has none; true if it did.
async fn count_if_missing(
    tx: &TenantTx,
    storage: &Storage,
    areas: &[&str],
    uploading: u64,
) -> Result<bool, Problem> {
    let created = tx
        .execute_raw(statement(
            tx,
            "INSERT INTO storage_usage (tenant_id, used_bytes, updated_at) VALUES ($1, 0, $2) \
             ON CONFLICT (tenant_id) DO NOTHING",
            [tx.tenant().as_uuid().into(), Utc::now().into()],
        ))
        .await?;
    if created.rows_affected() != 1 {
        return Ok(false);
    }
    let stored = storage
        .usage_of_areas(tx.tenant(), areas)
        .await
        .map_err(StorageError::into_problem)?;
    set(tx, stored.saturating_sub(uploading)).await?;
    Ok(true)
}

fn over_limit(used: u64, limit_mb: u32) -> Problem {
    Problem::limit_exceeded(format!(
        "the plan allows {limit_mb} MB of files; {} MB are in use",
        used.div_ceil(MB)
    ))
}

/// Refuses early, without a lock, an upload of `bytes` that would already pass `limit_mb`
/// (the plan's `storage_mb`): 402 `plan_limit_exceeded`, before the object is written;
/// [`reserve`] decides. A shop without a row yet gets one here, counted from its objects in
/// `areas` (before this upload's object exists, so it is not among them).
pub async fn precheck(
    db: &Db,
    tenant: TenantId,
    storage: &Storage,
    areas: &[&str],
    bytes: u64,
    limit_mb: u32,
) -> Result<(), Problem> {
    let read = db.tenant_read(tenant).await?;
    let known = counted(&read).await?;
    drop(read);
    let used = match known {
        Some(used) => used,
        None => {
            let tx = db.tenant_tx(tenant).await?;
            count_if_missing(&tx, storage, areas, 0).await?;
            let used = used(&tx).await?;
            tx.commit().await?;
            used
        }
    };
    if used.saturating_add(bytes) > u64::from(limit_mb) * MB {
        return Err(over_limit(used, limit_mb));
    }
    Ok(())
}

/// Adds `bytes` (an upload already written to `storage`) to the shop's total in `tx` (the
/// transaction that records the file), or refuses with 402 `plan_limit_exceeded` if that
/// would pass `limit_mb` megabytes. The shop's row stays locked until `tx` ends, so a
/// concurrent upload of the shop waits and then sees these bytes.
///
/// A shop still without a row ([`precheck`] creates it; an operator may have deleted it
/// since) gets one counted from its objects in `areas`, this upload's object left out.
pub async fn reserve(
    tx: &TenantTx,
    storage: &Storage,
    areas: &[&str],
    bytes: u64,
    limit_mb: u32,
) -> Result<(), Problem> {
    let limit = u64::from(limit_mb) * MB;
    let now = Utc::now();
    count_if_missing(tx, storage, areas, bytes).await?;
    let added = tx
        .execute_raw(statement(
            tx,
            "UPDATE storage_usage SET used_bytes = used_bytes + $2, updated_at = $3 \
             WHERE tenant_id = $1 AND used_bytes + $2 <= $4",
            [
                tx.tenant().as_uuid().into(),
                bytes_value(bytes),
                now.into(),
                bytes_value(limit),
            ],
        ))
        .await?;
    if added.rows_affected() == 0 {
        return Err(over_limit(used(tx).await?, limit_mb));
    }
    Ok(())
}

async fn set(tx: &TenantTx, bytes: u64) -> Result<(), DbErr> {
    tx.execute_raw(statement(
        tx,
        "UPDATE storage_usage SET used_bytes = $2, updated_at = $3 WHERE tenant_id = $1",
        [
            tx.tenant().as_uuid().into(),
            bytes_value(bytes),
            Utc::now().into(),
        ],
    ))
    .await?;
    Ok(())
}

/// Gives `bytes` back to the shop's total in `tx` (the transaction that forgets the file);
/// the total never goes below zero.
pub async fn release(tx: &TenantTx, bytes: u64) -> Result<(), DbErr> {
    tx.execute_raw(statement(
        tx,
        "UPDATE storage_usage SET used_bytes = CASE WHEN used_bytes > $2 \
         THEN used_bytes - $2 ELSE 0 END, updated_at = $3 WHERE tenant_id = $1",
        [
            tx.tenant().as_uuid().into(),
            bytes_value(bytes),
            Utc::now().into(),
        ],
    ))
    .await?;
    Ok(())
}

/// Why [`recompute`] failed.
#[derive(Debug, thiserror::Error)]
pub enum RecomputeError {
    #[error(transparent)]
    Db(#[from] DbErr),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Sets the shop's total in `tx` to the bytes its objects in `areas` (this service's areas,
/// e.g. `products`) take now, and returns it. The shop's row is locked first, so uploads
/// wait for the count; an upload whose object was written but not yet recorded may be
/// counted twice (once listed, once reserved), an over-count the next recompute corrects.
pub async fn recompute(
    tx: &TenantTx,
    storage: &Storage,
    areas: &[&str],
) -> Result<u64, RecomputeError> {
    let now = Utc::now();
    tx.execute_raw(statement(
        tx,
        "INSERT INTO storage_usage (tenant_id, used_bytes, updated_at) VALUES ($1, 0, $2) \
         ON CONFLICT (tenant_id) DO NOTHING",
        [tx.tenant().as_uuid().into(), now.into()],
    ))
    .await?;
    tx.execute_raw(statement(
        tx,
        &format!(
            "SELECT used_bytes FROM storage_usage WHERE tenant_id = $1{}",
            mercato_db::sql::for_update(&**tx)
        ),
        [tx.tenant().as_uuid().into()],
    ))
    .await?;
    let stored = storage.usage_of_areas(tx.tenant(), areas).await?;
    set(tx, stored).await?;
    Ok(stored)
}

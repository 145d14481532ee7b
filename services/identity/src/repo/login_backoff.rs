//! Sign-in back-off state of one realm: one row per subject (`account:<digest>`,
//! `address:<ip>`), locked while an attempt is judged so concurrent attempts are counted one
//! after another.

use super::entities::login_backoff as row;
use crate::domain::backoff::Attempts;
use chrono::{DateTime, Utc};
use mercato_db::TenantTx;
use mercato_db::sql::{for_update, statement};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter, Set};

/// Rows a new subject sweeps at most: each new row removes up to this many forgotten ones, so
/// the table stays near the number of subjects that still matter, a little at a time.
const PURGE_BATCH: u32 = 100;

fn to_count(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

fn from_count(n: i32) -> u32 {
    u32::try_from(n).unwrap_or(0)
}

/// The subject's state, locked until the transaction ends (PostgreSQL; SQLite's write
/// transactions run one at a time anyway). A subject seen for the first time gets an empty
/// row to lock, and that is also when rows nobody needs any more are deleted: only new
/// subjects grow the table.
pub async fn lock(
    tx: &TenantTx,
    subject: &str,
    now: DateTime<Utc>,
) -> Result<Option<Attempts>, DbErr> {
    let inserted = row::Entity::insert(row::ActiveModel {
        tenant_id: Set(tx.tenant().as_uuid()),
        subject: Set(subject.to_owned()),
        attempts: Set(0),
        window_started_at: Set(now),
        lockouts: Set(0),
        locked_until: Set(None),
        // Forgettable at once unless an attempt is saved over it.
        forget_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([row::Column::TenantId, row::Column::Subject])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(&**tx)
    .await?;
    if inserted > 0 {
        purge(tx, now).await?;
    }
    let found = row::Entity::find()
        .from_raw_sql(statement(
            &**tx,
            &format!(
                "SELECT tenant_id, subject, attempts, window_started_at, lockouts, locked_until, \
                 forget_at FROM login_backoff WHERE tenant_id = $1 AND subject = $2{}",
                for_update(&**tx)
            ),
            [tx.tenant().as_uuid().into(), subject.into()],
        ))
        .one(&**tx)
        .await?;
    Ok(found.map(|m| Attempts {
        count: from_count(m.attempts),
        window_started_at: m.window_started_at,
        lockouts: from_count(m.lockouts),
        locked_until: m.locked_until,
    }))
}

/// Stores the subject's state. An upsert: the row [`lock`] made may have been cleared by a
/// sign-in of the same account meanwhile (PostgreSQL), and the attempt still counts.
pub async fn save(
    tx: &TenantTx,
    subject: &str,
    attempts: &Attempts,
    forget_at: DateTime<Utc>,
) -> Result<(), DbErr> {
    row::Entity::insert(row::ActiveModel {
        tenant_id: Set(tx.tenant().as_uuid()),
        subject: Set(subject.to_owned()),
        attempts: Set(to_count(attempts.count)),
        window_started_at: Set(attempts.window_started_at),
        lockouts: Set(to_count(attempts.lockouts)),
        locked_until: Set(attempts.locked_until),
        forget_at: Set(forget_at),
    })
    .on_conflict(
        OnConflict::columns([row::Column::TenantId, row::Column::Subject])
            .update_columns([
                row::Column::Attempts,
                row::Column::WindowStartedAt,
                row::Column::Lockouts,
                row::Column::LockedUntil,
                row::Column::ForgetAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(&**tx)
    .await?;
    Ok(())
}

/// Deletes up to [`PURGE_BATCH`] rows past their `forget_at`. On PostgreSQL it skips rows
/// another attempt holds, so two attempts that each purge never wait for each other.
async fn purge(tx: &TenantTx, now: DateTime<Utc>) -> Result<(), DbErr> {
    let skip_locked = if tx.get_database_backend() == DbBackend::Postgres {
        " FOR UPDATE SKIP LOCKED"
    } else {
        ""
    };
    tx.execute_raw(statement(
        &**tx,
        &format!(
            "DELETE FROM login_backoff WHERE tenant_id = $1 AND subject IN (\
                 SELECT subject FROM login_backoff WHERE tenant_id = $1 AND forget_at < $2 \
                 LIMIT {PURGE_BATCH}{skip_locked})"
        ),
        [tx.tenant().as_uuid().into(), now.into()],
    ))
    .await?;
    Ok(())
}

/// Takes back one counted attempt, if the subject has any: an address's attempt that signed
/// in.
pub async fn forgive(tx: &TenantTx, subject: &str) -> Result<(), DbErr> {
    row::Entity::update_many()
        .col_expr(
            row::Column::Attempts,
            Expr::col(row::Column::Attempts).sub(1),
        )
        .filter(row::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(row::Column::Subject.eq(subject))
        .filter(row::Column::Attempts.gt(0))
        .exec(&**tx)
        .await?;
    Ok(())
}

/// Forgets the subject altogether (an account that signed in).
pub async fn clear(tx: &TenantTx, subject: &str) -> Result<(), DbErr> {
    row::Entity::delete_many()
        .filter(row::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(row::Column::Subject.eq(subject))
        .exec(&**tx)
        .await?;
    Ok(())
}

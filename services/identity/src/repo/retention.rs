//! Purging this service's own bookkeeping by age, across every realm: a named platform
//! operation like the outbox relay, so it takes the database rather than a `TenantTx`. It
//! deletes in bounded batches of short transactions (`mercato_jobs::purge_in_batches`).

use chrono::{DateTime, Utc};
use mercato_db::Db;
use mercato_jobs::{PURGE_BATCH, purge_in_batches};
use sea_orm::DbErr;

/// Deletes the sign-in back-off rows whose `forget_at` is before `now`; how many went.
pub async fn purge_forgotten_backoff(db: &Db, now: DateTime<Utc>) -> Result<u64, DbErr> {
    purge_in_batches(
        db,
        "purge sign-in back-off",
        &format!(
            "DELETE FROM login_backoff WHERE (tenant_id, subject) IN (\
               SELECT tenant_id, subject FROM login_backoff \
               WHERE forget_at < $1 LIMIT {PURGE_BATCH})"
        ),
        now,
    )
    .await
}

/// Deletes the records of mail sent before `before` (their bodies went at sending); how
/// many went. Mail not sent yet stays.
pub async fn purge_sent_mail(db: &Db, before: DateTime<Utc>) -> Result<u64, DbErr> {
    purge_in_batches(
        db,
        "purge sent mail",
        &format!(
            "DELETE FROM mail_outbox WHERE (tenant_id, id) IN (\
               SELECT tenant_id, id FROM mail_outbox \
               WHERE sent_at IS NOT NULL AND sent_at < $1 LIMIT {PURGE_BATCH})"
        ),
        before,
    )
    .await
}

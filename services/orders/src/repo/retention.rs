//! Purging this service's own bookkeeping by age, across every shop: a named platform
//! operation like the outbox relay, so these take the database rather than a `TenantTx`.
//! Each deletes in bounded batches of short transactions (`mercato_jobs::purge_in_batches`).

use chrono::{DateTime, Utc};
use mercato_db::Db;
use mercato_jobs::{PURGE_BATCH, purge_in_batches};
use sea_orm::DbErr;

/// Forgets the checkout keys used before `before`; how many went.
pub async fn purge_checkout_keys(db: &Db, before: DateTime<Utc>) -> Result<u64, DbErr> {
    purge_in_batches(
        db,
        "purge checkout keys",
        &format!(
            "DELETE FROM checkout_caller_keys WHERE (tenant_id, caller, key) IN (\
               SELECT tenant_id, caller, key FROM checkout_caller_keys \
               WHERE created_at < $1 LIMIT {PURGE_BATCH})"
        ),
        before,
    )
    .await
}

/// Forgets the provider events received before `before`; how many went.
pub async fn purge_payment_events(db: &Db, before: DateTime<Utc>) -> Result<u64, DbErr> {
    purge_in_batches(
        db,
        "purge provider payment events",
        &format!(
            "DELETE FROM order_payment_events WHERE (tenant_id, provider, event_id) IN (\
               SELECT tenant_id, provider, event_id FROM order_payment_events \
               WHERE received_at < $1 LIMIT {PURGE_BATCH})"
        ),
        before,
    )
    .await
}

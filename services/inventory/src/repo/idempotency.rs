//! Idempotency keys: the request a key was first used with and the response it got, kept
//! per shop and caller, written in the same transaction as the effect.

use super::entities::idempotency_key;
use chrono::{DateTime, Utc};
use mercato_db::{Db, TenantTx};
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, Set};

/// How long a key and its answer are kept: far longer than any retry of a reservation (whose
/// time to live is an hour at most) could come.
pub const KEEP_FOR: chrono::TimeDelta = chrono::TimeDelta::hours(24);

/// A response to give again when the same request comes with the same key.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    pub operation: String,
    pub request: serde_json::Value,
    pub status: u16,
    pub response: serde_json::Value,
}

pub async fn find(tx: &TenantTx, actor: &str, key: &str) -> Result<Option<Stored>, DbErr> {
    let Some(m) = idempotency_key::Entity::find()
        .filter(idempotency_key::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(idempotency_key::Column::Actor.eq(actor))
        .filter(idempotency_key::Column::IdempotencyKey.eq(key))
        .one(&**tx)
        .await?
    else {
        return Ok(None);
    };
    Ok(Some(Stored {
        operation: m.operation,
        request: m.request,
        status: u16::try_from(m.status)
            .map_err(|_| super::corrupt("status", &m.status.to_string()))?,
        response: m.response,
    }))
}

/// Stores the key. A concurrent request that stored it first makes this a unique violation:
/// the caller rolls back and replays the stored response.
pub async fn insert(
    tx: &TenantTx,
    actor: &str,
    key: &str,
    stored: &Stored,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    idempotency_key::Entity::insert(idempotency_key::ActiveModel {
        tenant_id: Set(tx.tenant().as_uuid()),
        actor: Set(actor.to_owned()),
        idempotency_key: Set(key.to_owned()),
        operation: Set(stored.operation.clone()),
        request: Set(stored.request.clone()),
        status: Set(i32::from(stored.status)),
        response: Set(stored.response.clone()),
        created_at: Set(at),
    })
    .exec_without_returning(&**tx)
    .await
    .map(|_| ())
}

/// Forgets every shop's keys stored before `before`, in bounded batches of short platform
/// transactions (a named platform operation, like the outbox relay); how many went.
pub async fn purge(db: &Db, before: DateTime<Utc>) -> Result<u64, DbErr> {
    mercato_jobs::purge_in_batches(
        db,
        "purge idempotency keys",
        &format!(
            "DELETE FROM idempotency_keys WHERE (tenant_id, actor, idempotency_key) IN (\
               SELECT tenant_id, actor, idempotency_key FROM idempotency_keys \
               WHERE created_at < $1 LIMIT {})",
            mercato_jobs::PURGE_BATCH
        ),
        before,
    )
    .await
}

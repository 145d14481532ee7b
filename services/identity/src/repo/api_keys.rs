//! Integration API keys of one shop.

use super::entities::api_key;
use crate::domain::staff::role_code;
use chrono::{DateTime, SubsecRound, Utc};
use mercato_db::TenantTx;
use mercato_tenant_context::{ApiKeyId, Role};
use sea_orm::prelude::Expr;
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub name: String,
    pub role: Role,
    /// The first characters of the key, to recognise it.
    pub prefix: String,
    pub created_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

fn from_model(m: api_key::Model) -> Result<ApiKey, DbErr> {
    let role = crate::domain::api_keys::parse_key_role(&m.role)
        .ok_or_else(|| DbErr::Custom(format!("stored api key has role {:?}", m.role)))?;
    Ok(ApiKey {
        id: ApiKeyId::from_uuid(m.id),
        name: m.name,
        role,
        prefix: m.prefix,
        created_by: m.created_by,
        created_at: m.created_at,
        revoked_at: m.revoked_at,
    })
}

/// Stores a new key by the digest of its secret.
pub async fn insert(
    tx: &TenantTx,
    name: &str,
    role: Role,
    digest: &str,
    prefix: &str,
    created_by: Option<String>,
) -> Result<ApiKey, DbErr> {
    let key = ApiKey {
        id: ApiKeyId::new(),
        name: name.to_owned(),
        role,
        prefix: prefix.to_owned(),
        created_by,
        created_at: Utc::now().trunc_subsecs(6),
        revoked_at: None,
    };
    let model = api_key::ActiveModel {
        tenant_id: Set(tx.tenant().as_uuid()),
        id: Set(key.id.as_uuid()),
        name: Set(key.name.clone()),
        role: Set(role_code(role).to_owned()),
        key_digest: Set(digest.to_owned()),
        prefix: Set(key.prefix.clone()),
        created_by: Set(key.created_by.clone()),
        created_at: Set(key.created_at),
        revoked_at: Set(None),
    };
    api_key::Entity::insert(model)
        .exec_without_returning(&**tx)
        .await?;
    Ok(key)
}

pub async fn find(tx: &TenantTx, id: ApiKeyId) -> Result<Option<ApiKey>, DbErr> {
    api_key::Entity::find_by_id((tx.tenant().as_uuid(), id.as_uuid()))
        .one(&**tx)
        .await?
        .map(from_model)
        .transpose()
}

/// The unrevoked key with this digest, in this shop only.
pub async fn find_active_by_digest(tx: &TenantTx, digest: &str) -> Result<Option<ApiKey>, DbErr> {
    api_key::Entity::find()
        .filter(api_key::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(api_key::Column::KeyDigest.eq(digest))
        .filter(api_key::Column::RevokedAt.is_null())
        .one(&**tx)
        .await?
        .map(from_model)
        .transpose()
}

/// Keys, newest first, older than `before`.
pub async fn list(
    tx: &TenantTx,
    before: Option<ApiKeyId>,
    limit: u64,
) -> Result<Vec<ApiKey>, DbErr> {
    let mut query =
        api_key::Entity::find().filter(api_key::Column::TenantId.eq(tx.tenant().as_uuid()));
    if let Some(before) = before {
        query = query.filter(api_key::Column::Id.lt(before.as_uuid()));
    }
    query
        .order_by_desc(api_key::Column::Id)
        .limit(limit)
        .all(&**tx)
        .await?
        .into_iter()
        .map(from_model)
        .collect()
}

/// Revokes a key; false if it was revoked already.
pub async fn revoke(tx: &TenantTx, id: ApiKeyId) -> Result<bool, DbErr> {
    let result = api_key::Entity::update_many()
        .col_expr(
            api_key::Column::RevokedAt,
            Expr::value(Some(Utc::now().trunc_subsecs(6))),
        )
        .filter(api_key::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(api_key::Column::Id.eq(id.as_uuid()))
        .filter(api_key::Column::RevokedAt.is_null())
        .exec(&**tx)
        .await?;
    Ok(result.rows_affected == 1)
}

/// The unrevoked keys `created_by` (a `usr_…` label) made.
pub async fn live_created_by(tx: &TenantTx, created_by: &str) -> Result<Vec<ApiKey>, DbErr> {
    api_key::Entity::find()
        .filter(api_key::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(api_key::Column::CreatedBy.eq(created_by))
        .filter(api_key::Column::RevokedAt.is_null())
        .order_by_asc(api_key::Column::Id)
        .all(&**tx)
        .await?
        .into_iter()
        .map(from_model)
        .collect()
}

/// Changes the role an unrevoked key acts with; false if it is revoked or unknown.
pub async fn set_role(tx: &TenantTx, id: ApiKeyId, role: Role) -> Result<bool, DbErr> {
    let result = api_key::Entity::update_many()
        .col_expr(api_key::Column::Role, Expr::value(role_code(role)))
        .filter(api_key::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(api_key::Column::Id.eq(id.as_uuid()))
        .filter(api_key::Column::RevokedAt.is_null())
        .exec(&**tx)
        .await?;
    Ok(result.rows_affected == 1)
}

//! Refresh tokens. Each login starts a family; each refresh marks the presented token used
//! and issues the next one in the family. Presenting a used token again means it leaked:
//! the whole family is revoked.

use super::entities::refresh_token;
use mercato_db::TenantTx;
use mercato_tenant_context::UserId;
use sea_orm::prelude::Expr;
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, Set};

#[derive(Debug, Clone)]
pub struct RefreshToken {
    pub id: uuid::Uuid,
    pub user: UserId,
    pub family: uuid::Uuid,
    pub expires_at: chrono::DateTime<chrono::Utc>,
    pub used_at: Option<chrono::DateTime<chrono::Utc>>,
    pub revoked_at: Option<chrono::DateTime<chrono::Utc>>,
}

pub async fn insert(
    tx: &TenantTx,
    user: UserId,
    family: uuid::Uuid,
    digest: &str,
    expires_at: chrono::DateTime<chrono::Utc>,
) -> Result<(), DbErr> {
    let model = refresh_token::ActiveModel {
        tenant_id: Set(tx.tenant().as_uuid()),
        id: Set(uuid::Uuid::now_v7()),
        user_id: Set(user.as_uuid()),
        family_id: Set(family),
        token_digest: Set(digest.to_owned()),
        expires_at: Set(expires_at),
        used_at: Set(None),
        revoked_at: Set(None),
        created_at: Set(chrono::Utc::now()),
    };
    refresh_token::Entity::insert(model)
        .exec_without_returning(&**tx)
        .await
        .map(|_| ())
}

pub async fn find_by_digest(tx: &TenantTx, digest: &str) -> Result<Option<RefreshToken>, DbErr> {
    Ok(refresh_token::Entity::find()
        .filter(refresh_token::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(refresh_token::Column::TokenDigest.eq(digest))
        .one(&**tx)
        .await?
        .map(|m| RefreshToken {
            id: m.id,
            user: UserId::from_uuid(m.user_id),
            family: m.family_id,
            expires_at: m.expires_at,
            used_at: m.used_at,
            revoked_at: m.revoked_at,
        }))
}

/// Marks a token used, only if it still is unused: false when another request won the race.
pub async fn mark_used(tx: &TenantTx, id: uuid::Uuid) -> Result<bool, DbErr> {
    let result = refresh_token::Entity::update_many()
        .col_expr(
            refresh_token::Column::UsedAt,
            Expr::value(Some(chrono::Utc::now())),
        )
        .filter(refresh_token::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(refresh_token::Column::Id.eq(id))
        .filter(refresh_token::Column::UsedAt.is_null())
        .exec(&**tx)
        .await?;
    Ok(result.rows_affected == 1)
}

pub async fn revoke_family(tx: &TenantTx, family: uuid::Uuid) -> Result<u64, DbErr> {
    let result = refresh_token::Entity::update_many()
        .col_expr(
            refresh_token::Column::RevokedAt,
            Expr::value(Some(chrono::Utc::now())),
        )
        .filter(refresh_token::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(refresh_token::Column::FamilyId.eq(family))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(&**tx)
        .await?;
    Ok(result.rows_affected)
}

/// Ends every session of `user` (password reset, removal from the staff).
pub async fn revoke_all_for_user(tx: &TenantTx, user: UserId) -> Result<u64, DbErr> {
    let result = refresh_token::Entity::update_many()
        .col_expr(
            refresh_token::Column::RevokedAt,
            Expr::value(Some(chrono::Utc::now())),
        )
        .filter(refresh_token::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(refresh_token::Column::UserId.eq(user.as_uuid()))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(&**tx)
        .await?;
    Ok(result.rows_affected)
}

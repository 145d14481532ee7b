//! One-time tokens of one realm: staff invitations and password resets.

use super::entities::one_time_token as ott;
use crate::domain::one_time::{self, Purpose, TokenStatus};
use crate::domain::staff::{parse_staff_role, role_code};
use chrono::{DateTime, SubsecRound, Utc};
use mercato_db::TenantTx;
use mercato_tenant_context::{Role, UserId};
use sea_orm::prelude::Expr;
use sea_orm::{
    ColumnTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OneTimeToken {
    pub id: uuid::Uuid,
    pub purpose: Purpose,
    pub email: String,
    /// The role an invitation grants.
    pub role: Option<Role>,
    /// The account a password reset is for.
    pub user: Option<UserId>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// Who issued it (`usr_…`, `key_…`), or `None` for the platform itself.
    pub created_by: Option<String>,
}

impl OneTimeToken {
    pub fn status(&self, now: DateTime<Utc>) -> TokenStatus {
        one_time::status(self.expires_at, self.used_at, self.revoked_at, now)
    }
}

/// What to store for a new token; `digest` is the secret's, never the secret.
pub struct NewToken<'a> {
    /// A chosen id (a reset request's job id, so that a job run again finds its token);
    /// `None`: a new one.
    pub id: Option<uuid::Uuid>,
    pub purpose: Purpose,
    pub email: &'a str,
    pub role: Option<Role>,
    pub user: Option<UserId>,
    pub digest: &'a str,
    pub created_by: Option<String>,
}

fn from_model(m: ott::Model) -> Result<OneTimeToken, DbErr> {
    let purpose = Purpose::parse(&m.purpose)
        .ok_or_else(|| DbErr::Custom(format!("stored token has purpose {:?}", m.purpose)))?;
    let role = match m.role.as_deref() {
        None => None,
        Some(code) => Some(
            parse_staff_role(code)
                .ok_or_else(|| DbErr::Custom(format!("stored token has role {code:?}")))?,
        ),
    };
    Ok(OneTimeToken {
        id: m.id,
        purpose,
        email: m.email,
        role,
        user: m.user_id.map(UserId::from_uuid),
        expires_at: m.expires_at,
        used_at: m.used_at,
        revoked_at: m.revoked_at,
        created_at: m.created_at,
        created_by: m.created_by,
    })
}

fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

pub async fn insert(tx: &TenantTx, new: NewToken<'_>) -> Result<OneTimeToken, DbErr> {
    let created_at = now();
    let token = OneTimeToken {
        id: new.id.unwrap_or_else(uuid::Uuid::now_v7),
        purpose: new.purpose,
        email: new.email.to_owned(),
        role: new.role,
        user: new.user,
        expires_at: created_at + new.purpose.lifetime(),
        used_at: None,
        revoked_at: None,
        created_at,
        created_by: new.created_by,
    };
    let model = ott::ActiveModel {
        tenant_id: Set(tx.tenant().as_uuid()),
        id: Set(token.id),
        purpose: Set(token.purpose.code().to_owned()),
        email: Set(token.email.clone()),
        role: Set(token.role.map(|r| role_code(r).to_owned())),
        user_id: Set(token.user.map(|u| u.as_uuid())),
        token_digest: Set(new.digest.to_owned()),
        expires_at: Set(token.expires_at),
        used_at: Set(None),
        revoked_at: Set(None),
        created_at: Set(token.created_at),
        created_by: Set(token.created_by.clone()),
    };
    ott::Entity::insert(model)
        .exec_without_returning(&**tx)
        .await?;
    Ok(token)
}

/// The token with this secret digest and purpose, if it can still be used.
pub async fn find_usable(
    tx: &TenantTx,
    purpose: Purpose,
    digest: &str,
) -> Result<Option<OneTimeToken>, DbErr> {
    let found = ott::Entity::find()
        .filter(ott::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(ott::Column::TokenDigest.eq(digest))
        .filter(ott::Column::Purpose.eq(purpose.code()))
        .one(&**tx)
        .await?
        .map(from_model)
        .transpose()?;
    Ok(found.filter(|t| t.status(Utc::now()) == TokenStatus::Pending))
}

/// Whether a token with this id exists, whatever its purpose or status.
pub async fn exists(tx: &TenantTx, id: uuid::Uuid) -> Result<bool, DbErr> {
    let count = ott::Entity::find_by_id((tx.tenant().as_uuid(), id))
        .count(&**tx)
        .await?;
    Ok(count > 0)
}

pub async fn find_invitation(tx: &TenantTx, id: uuid::Uuid) -> Result<Option<OneTimeToken>, DbErr> {
    ott::Entity::find_by_id((tx.tenant().as_uuid(), id))
        .filter(ott::Column::Purpose.eq(Purpose::Invitation.code()))
        .one(&**tx)
        .await?
        .map(from_model)
        .transpose()
}

/// Invitations, newest first, older than `before`.
pub async fn list_invitations(
    tx: &TenantTx,
    before: Option<uuid::Uuid>,
    limit: u64,
) -> Result<Vec<OneTimeToken>, DbErr> {
    let mut query = ott::Entity::find()
        .filter(ott::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(ott::Column::Purpose.eq(Purpose::Invitation.code()));
    if let Some(before) = before {
        query = query.filter(ott::Column::Id.lt(before));
    }
    query
        .order_by_desc(ott::Column::Id)
        .limit(limit)
        .all(&**tx)
        .await?
        .into_iter()
        .map(from_model)
        .collect()
}

fn pending(purpose: Purpose) -> sea_orm::Condition {
    sea_orm::Condition::all()
        .add(ott::Column::Purpose.eq(purpose.code()))
        .add(ott::Column::UsedAt.is_null())
        .add(ott::Column::RevokedAt.is_null())
        .add(ott::Column::ExpiresAt.gt(now()))
}

/// Invitations that still hold a seat.
pub async fn count_pending_invitations(tx: &TenantTx) -> Result<u64, DbErr> {
    ott::Entity::find()
        .filter(ott::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(pending(Purpose::Invitation))
        .count(&**tx)
        .await
}

/// Is an invitation for `email` pending already?
pub async fn pending_invitation_for(tx: &TenantTx, email: &str) -> Result<bool, DbErr> {
    let count = ott::Entity::find()
        .filter(ott::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(ott::Column::Email.eq(email))
        .filter(pending(Purpose::Invitation))
        .count(&**tx)
        .await?;
    Ok(count > 0)
}

/// Unexpired, unused reset tokens of one account.
pub async fn count_pending_resets(tx: &TenantTx, user: UserId) -> Result<u64, DbErr> {
    ott::Entity::find()
        .filter(ott::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(ott::Column::UserId.eq(user.as_uuid()))
        .filter(pending(Purpose::PasswordReset))
        .count(&**tx)
        .await
}

/// Spends a token, only if it is still pending: false when another request used it first
/// (or it was revoked or expired meanwhile).
pub async fn mark_used(tx: &TenantTx, id: uuid::Uuid) -> Result<bool, DbErr> {
    let result = ott::Entity::update_many()
        .col_expr(ott::Column::UsedAt, Expr::value(Some(now())))
        .filter(ott::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(ott::Column::Id.eq(id))
        .filter(ott::Column::UsedAt.is_null())
        .filter(ott::Column::RevokedAt.is_null())
        .filter(ott::Column::ExpiresAt.gt(now()))
        .exec(&**tx)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Revokes a token not used yet; false if it was used or revoked already.
pub async fn revoke(tx: &TenantTx, id: uuid::Uuid) -> Result<bool, DbErr> {
    let result = ott::Entity::update_many()
        .col_expr(ott::Column::RevokedAt, Expr::value(Some(now())))
        .filter(ott::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(ott::Column::Id.eq(id))
        .filter(ott::Column::UsedAt.is_null())
        .filter(ott::Column::RevokedAt.is_null())
        .exec(&**tx)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Revokes every pending reset token of `user` (after a successful reset).
pub async fn revoke_resets_of(tx: &TenantTx, user: UserId) -> Result<u64, DbErr> {
    let result = ott::Entity::update_many()
        .col_expr(ott::Column::RevokedAt, Expr::value(Some(now())))
        .filter(ott::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(ott::Column::UserId.eq(user.as_uuid()))
        .filter(pending(Purpose::PasswordReset))
        .exec(&**tx)
        .await?;
    Ok(result.rows_affected)
}

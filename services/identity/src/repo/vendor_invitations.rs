//! Invitations to work for a vendor, by its owner or managers. Like staff invitations, only
//! the digest of the code is stored; a code works once, within its lifetime.

use super::entities::vendor_invitation as vi;
use chrono::{DateTime, Utc};
use mercato_db::TenantTx;
use mercato_tenant_context::{VendorId, VendorRole};
use sea_orm::prelude::Expr;
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set};

/// How long a vendor invitation can be accepted.
pub const LIFETIME_DAYS: i64 = 7;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VendorInvitation {
    pub id: uuid::Uuid,
    pub vendor: VendorId,
    pub email: String,
    pub role: VendorRole,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
}

impl VendorInvitation {
    pub fn is_pending(&self, now: DateTime<Utc>) -> bool {
        self.used_at.is_none() && self.revoked_at.is_none() && now < self.expires_at
    }
}

fn from_model(m: vi::Model) -> Result<VendorInvitation, DbErr> {
    let role = VendorRole::parse(&m.role)
        .ok_or_else(|| DbErr::Custom(format!("stored vendor role is invalid: {:?}", m.role)))?;
    Ok(VendorInvitation {
        id: m.id,
        vendor: VendorId::from_uuid(m.vendor_id),
        email: m.email,
        role,
        expires_at: m.expires_at,
        used_at: m.used_at,
        revoked_at: m.revoked_at,
        created_at: m.created_at,
        created_by: m.created_by,
    })
}

pub async fn insert(
    tx: &TenantTx,
    vendor: VendorId,
    email: &str,
    role: VendorRole,
    digest: &str,
    created_by: &str,
) -> Result<VendorInvitation, DbErr> {
    let created_at = Utc::now();
    let id = uuid::Uuid::now_v7();
    let expires_at = created_at + chrono::Duration::days(LIFETIME_DAYS);
    let model = vi::ActiveModel {
        tenant_id: Set(tx.tenant().as_uuid()),
        id: Set(id),
        vendor_id: Set(vendor.as_uuid()),
        email: Set(email.to_owned()),
        role: Set(role.code().to_owned()),
        token_digest: Set(digest.to_owned()),
        expires_at: Set(expires_at),
        used_at: Set(None),
        revoked_at: Set(None),
        created_at: Set(created_at),
        created_by: Set(created_by.to_owned()),
    };
    let invitation = VendorInvitation {
        id,
        vendor,
        email: email.to_owned(),
        role,
        expires_at,
        used_at: None,
        revoked_at: None,
        created_at,
        created_by: created_by.to_owned(),
    };
    vi::Entity::insert(model)
        .exec_without_returning(&**tx)
        .await?;
    Ok(invitation)
}

/// The invitation with this code's digest, if it can still be accepted.
pub async fn find_usable(tx: &TenantTx, digest: &str) -> Result<Option<VendorInvitation>, DbErr> {
    let found = vi::Entity::find()
        .filter(vi::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(vi::Column::TokenDigest.eq(digest))
        .one(&**tx)
        .await?
        .map(from_model)
        .transpose()?;
    Ok(found.filter(|i| i.is_pending(Utc::now())))
}

/// Whether `email` has a pending invitation to `vendor`.
pub async fn pending_for(tx: &TenantTx, vendor: VendorId, email: &str) -> Result<bool, DbErr> {
    let found = vi::Entity::find()
        .filter(vi::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(vi::Column::VendorId.eq(vendor.as_uuid()))
        .filter(vi::Column::Email.eq(email))
        .filter(vi::Column::UsedAt.is_null())
        .filter(vi::Column::RevokedAt.is_null())
        .filter(vi::Column::ExpiresAt.gt(Utc::now()))
        .one(&**tx)
        .await?;
    Ok(found.is_some())
}

/// A vendor's invitations, newest first.
pub async fn list(tx: &TenantTx, vendor: VendorId) -> Result<Vec<VendorInvitation>, DbErr> {
    vi::Entity::find()
        .filter(vi::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(vi::Column::VendorId.eq(vendor.as_uuid()))
        .order_by_desc(vi::Column::Id)
        .all(&**tx)
        .await?
        .into_iter()
        .map(from_model)
        .collect()
}

/// Marks the invitation used; false when it was used or revoked meanwhile.
pub async fn mark_used(tx: &TenantTx, id: uuid::Uuid) -> Result<bool, DbErr> {
    let done = vi::Entity::update_many()
        .col_expr(vi::Column::UsedAt, Expr::value(Utc::now()))
        .filter(vi::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(vi::Column::Id.eq(id))
        .filter(vi::Column::UsedAt.is_null())
        .filter(vi::Column::RevokedAt.is_null())
        .exec(&**tx)
        .await?;
    Ok(done.rows_affected == 1)
}

//! Which vendors a shop user works for. The vendors service decides (an application makes
//! its applicant the owner); identity keeps the memberships so access tokens can carry them.

use super::entities::vendor_member;
use mercato_db::TenantTx;
use mercato_tenant_context::{UserId, VendorId, VendorMembership, VendorRole};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set};

/// Grants `role` at `vendor`, or changes the role of an existing membership.
pub async fn upsert(
    tx: &TenantTx,
    user: UserId,
    vendor: VendorId,
    role: VendorRole,
) -> Result<(), DbErr> {
    let model = vendor_member::ActiveModel {
        tenant_id: Set(tx.tenant().as_uuid()),
        user_id: Set(user.as_uuid()),
        vendor_id: Set(vendor.as_uuid()),
        role: Set(role.code().to_owned()),
        created_at: Set(chrono::Utc::now()),
    };
    vendor_member::Entity::insert(model)
        .on_conflict(
            OnConflict::columns([
                vendor_member::Column::TenantId,
                vendor_member::Column::UserId,
                vendor_member::Column::VendorId,
            ])
            .update_column(vendor_member::Column::Role)
            .to_owned(),
        )
        .exec_without_returning(&**tx)
        .await
        .map(|_| ())
}

/// The user's memberships, oldest first.
pub async fn for_user(tx: &TenantTx, user: UserId) -> Result<Vec<VendorMembership>, DbErr> {
    let rows = vendor_member::Entity::find()
        .filter(vendor_member::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(vendor_member::Column::UserId.eq(user.as_uuid()))
        .order_by_asc(vendor_member::Column::CreatedAt)
        .all(&**tx)
        .await?;
    rows.into_iter()
        .map(|row| {
            let role = VendorRole::parse(&row.role)
                .ok_or_else(|| DbErr::Custom(format!("unknown vendor role {:?}", row.role)))?;
            Ok(VendorMembership {
                vendor: VendorId::from_uuid(row.vendor_id),
                role,
            })
        })
        .collect()
}

/// The user's role at `vendor`, if they work for it.
pub async fn role_of(
    tx: &TenantTx,
    user: UserId,
    vendor: VendorId,
) -> Result<Option<VendorRole>, DbErr> {
    let Some(row) = vendor_member::Entity::find_by_id((
        tx.tenant().as_uuid(),
        user.as_uuid(),
        vendor.as_uuid(),
    ))
    .one(&**tx)
    .await?
    else {
        return Ok(None);
    };
    VendorRole::parse(&row.role)
        .map(Some)
        .ok_or_else(|| DbErr::Custom(format!("unknown vendor role {:?}", row.role)))
}

/// Everyone who works for `vendor`, with their role, oldest first.
pub async fn of_vendor(
    tx: &TenantTx,
    vendor: VendorId,
) -> Result<Vec<(UserId, VendorRole)>, DbErr> {
    let rows = vendor_member::Entity::find()
        .filter(vendor_member::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(vendor_member::Column::VendorId.eq(vendor.as_uuid()))
        .order_by_asc(vendor_member::Column::CreatedAt)
        .all(&**tx)
        .await?;
    rows.into_iter()
        .map(|row| {
            let role = VendorRole::parse(&row.role)
                .ok_or_else(|| DbErr::Custom(format!("unknown vendor role {:?}", row.role)))?;
            Ok((UserId::from_uuid(row.user_id), role))
        })
        .collect()
}

/// Ends a membership; false when there was none.
pub async fn remove(tx: &TenantTx, user: UserId, vendor: VendorId) -> Result<bool, DbErr> {
    let done = vendor_member::Entity::delete_many()
        .filter(vendor_member::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(vendor_member::Column::UserId.eq(user.as_uuid()))
        .filter(vendor_member::Column::VendorId.eq(vendor.as_uuid()))
        .exec(&**tx)
        .await?;
    Ok(done.rows_affected == 1)
}

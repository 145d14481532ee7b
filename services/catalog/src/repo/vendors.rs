//! The vendors mirror: written only by the `vendor.*` consumer.

use super::corrupt;
use super::entities::vendor;
use crate::domain::{VendorMirror, VendorStatus};
use mercato_db::TenantTx;
use mercato_tenant_context::{UserId, VendorId};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, Set};

fn from_model(m: vendor::Model) -> Result<VendorMirror, DbErr> {
    Ok(VendorMirror {
        id: VendorId::from_uuid(m.id),
        status: VendorStatus::parse(&m.status)
            .ok_or_else(|| corrupt("vendor status", &m.status))?,
        slug: m.slug,
        store_name: m.store_name,
        owner: UserId::from_uuid(m.owner_user_id),
        holiday_until: m.holiday_until,
        event_at: m.event_at,
    })
}

pub async fn find(tx: &TenantTx, id: VendorId) -> Result<Option<VendorMirror>, DbErr> {
    vendor::Entity::find()
        .filter(vendor::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(vendor::Column::Id.eq(id.as_uuid()))
        .one(&**tx)
        .await?
        .map(from_model)
        .transpose()
}

pub async fn find_many(tx: &TenantTx, ids: &[VendorId]) -> Result<Vec<VendorMirror>, DbErr> {
    let mut out = Vec::new();
    for chunk in ids.chunks(super::IN_CHUNK) {
        let rows = vendor::Entity::find()
            .filter(vendor::Column::TenantId.eq(tx.tenant().as_uuid()))
            .filter(vendor::Column::Id.is_in(chunk.iter().map(|id| id.as_uuid())))
            .all(&**tx)
            .await?;
        for row in rows {
            out.push(from_model(row)?);
        }
    }
    Ok(out)
}

/// Vendors whose recorded owner is `user`.
pub async fn owned_by(tx: &TenantTx, user: UserId) -> Result<Vec<VendorMirror>, DbErr> {
    vendor::Entity::find()
        .filter(vendor::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(vendor::Column::OwnerUserId.eq(user.as_uuid()))
        .all(&**tx)
        .await?
        .into_iter()
        .map(from_model)
        .collect()
}

pub async fn upsert(tx: &TenantTx, v: &VendorMirror) -> Result<(), DbErr> {
    let model = vendor::ActiveModel {
        tenant_id: Set(tx.tenant().as_uuid()),
        id: Set(v.id.as_uuid()),
        slug: Set(v.slug.clone()),
        store_name: Set(v.store_name.clone()),
        status: Set(v.status.code().to_owned()),
        owner_user_id: Set(v.owner.as_uuid()),
        holiday_until: Set(v.holiday_until),
        event_at: Set(v.event_at),
    };
    vendor::Entity::insert(model)
        .on_conflict(
            OnConflict::columns([vendor::Column::TenantId, vendor::Column::Id])
                .update_columns([
                    vendor::Column::Slug,
                    vendor::Column::StoreName,
                    vendor::Column::Status,
                    vendor::Column::OwnerUserId,
                    vendor::Column::HolidayUntil,
                    vendor::Column::EventAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(&**tx)
        .await
        .map(|_| ())
}

//! The vendors mirror: written only by the `vendor.*` consumer, through the platform's
//! mirror mechanism (`mercato_events::Mirror`).

use super::corrupt;
use super::entities::vendor;
use crate::domain::{VendorMirror, VendorStatus};
use mercato_db::TenantTx;
use mercato_events::{MirrorRow, MirrorTable};
use mercato_tenant_context::{UserId, VendorId};
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, Value};

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

/// The mirror's table, kept by `events::VendorsMirror`.
pub const TABLE: MirrorTable = MirrorTable {
    name: "vendors",
    key: "id",
    version: "event_at",
    columns: &[
        "slug",
        "store_name",
        "status",
        "owner_user_id",
        "holiday_until",
    ],
    on_insert: &[],
};

impl MirrorRow for VendorMirror {
    fn key(&self) -> uuid::Uuid {
        self.id.as_uuid()
    }

    fn values(&self) -> Vec<Value> {
        vec![
            self.slug.clone().into(),
            self.store_name.clone().into(),
            self.status.code().into(),
            self.owner.as_uuid().into(),
            self.holiday_until.into(),
        ]
    }
}

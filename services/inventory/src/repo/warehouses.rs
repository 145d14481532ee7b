//! Warehouses. Lists page by id (UUIDv7, so oldest first).

use super::entities::warehouse;
use crate::domain::WarehouseId;
use crate::domain::warehouse::{Address, Warehouse};
use mercato_db::TenantTx;
use mercato_tenant_context::VendorId;
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};

fn from_model(m: warehouse::Model) -> Result<Warehouse, DbErr> {
    let address = serde_json::from_value::<Address>(m.address)
        .map_err(|e| DbErr::Json(format!("stored warehouse address: {e}")))?;
    Ok(Warehouse {
        id: WarehouseId::from_uuid(m.id),
        vendor: VendorId::from_uuid(m.vendor_id),
        name: m.name,
        address,
        active: m.active,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

fn to_model(tx: &TenantTx, w: &Warehouse) -> Result<warehouse::ActiveModel, DbErr> {
    Ok(warehouse::ActiveModel {
        tenant_id: Set(tx.tenant().as_uuid()),
        id: Set(w.id.as_uuid()),
        vendor_id: Set(w.vendor.as_uuid()),
        name: Set(w.name.clone()),
        address: Set(serde_json::to_value(&w.address).map_err(|e| DbErr::Json(e.to_string()))?),
        active: Set(w.active),
        created_at: Set(w.created_at),
        updated_at: Set(w.updated_at),
    })
}

pub async fn insert(tx: &TenantTx, w: &Warehouse) -> Result<(), DbErr> {
    warehouse::Entity::insert(to_model(tx, w)?)
        .exec_without_returning(&**tx)
        .await
        .map(|_| ())
}

/// Saves every field of an existing warehouse.
pub async fn update(tx: &TenantTx, w: &Warehouse) -> Result<(), DbErr> {
    warehouse::Entity::update(to_model(tx, w)?)
        .exec(&**tx)
        .await
        .map(|_| ())
}

pub async fn find(tx: &TenantTx, id: WarehouseId) -> Result<Option<Warehouse>, DbErr> {
    warehouse::Entity::find()
        .filter(warehouse::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(warehouse::Column::Id.eq(id.as_uuid()))
        .one(&**tx)
        .await?
        .map(from_model)
        .transpose()
}

pub async fn find_many(tx: &TenantTx, ids: &[WarehouseId]) -> Result<Vec<Warehouse>, DbErr> {
    warehouse::Entity::find()
        .filter(warehouse::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(warehouse::Column::Id.is_in(ids.iter().map(|id| id.as_uuid())))
        .order_by_asc(warehouse::Column::Id)
        .all(&**tx)
        .await?
        .into_iter()
        .map(from_model)
        .collect()
}

/// A page of warehouses of `vendors` (every vendor's when `None`), after `after`.
pub async fn list(
    tx: &TenantTx,
    vendors: Option<&[VendorId]>,
    after: Option<WarehouseId>,
    limit: u64,
) -> Result<Vec<Warehouse>, DbErr> {
    let mut query = warehouse::Entity::find()
        .filter(warehouse::Column::TenantId.eq(tx.tenant().as_uuid()))
        .order_by_asc(warehouse::Column::Id)
        .limit(limit);
    if let Some(vendors) = vendors {
        query =
            query.filter(warehouse::Column::VendorId.is_in(vendors.iter().map(|v| v.as_uuid())));
    }
    if let Some(after) = after {
        query = query.filter(warehouse::Column::Id.gt(after.as_uuid()));
    }
    query
        .all(&**tx)
        .await?
        .into_iter()
        .map(from_model)
        .collect()
}

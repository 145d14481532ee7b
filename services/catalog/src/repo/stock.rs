//! The stock mirror: what inventory last said each variant has available, fed by
//! `stock.changed`. A variant inventory has not spoken of has 0 available.

use super::entities::stock;
use mercato_db::TenantTx;
use mercato_tenant_context::{ProductId, VariantId, VendorId};
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, Set};
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockLevel {
    pub variant: VariantId,
    pub product: ProductId,
    pub vendor: VendorId,
    pub available: i64,
    pub on_hand: i64,
    pub reserved: i64,
    pub event_at: chrono::DateTime<chrono::Utc>,
}

/// Available units of each of `variants` that inventory has reported.
pub async fn available(
    tx: &TenantTx,
    variants: &[VariantId],
) -> Result<HashMap<VariantId, i64>, DbErr> {
    let mut out = HashMap::new();
    for chunk in variants.chunks(super::IN_CHUNK) {
        let rows = stock::Entity::find()
            .filter(stock::Column::TenantId.eq(tx.tenant().as_uuid()))
            .filter(stock::Column::VariantId.is_in(chunk.iter().map(|v| v.as_uuid())))
            .all(&**tx)
            .await?;
        for row in rows {
            out.insert(VariantId::from_uuid(row.variant_id), row.available.max(0));
        }
    }
    Ok(out)
}

/// Records `level` unless a newer report is already stored. Returns whether it was applied.
pub async fn record(tx: &TenantTx, level: &StockLevel) -> Result<bool, DbErr> {
    let existing = stock::Entity::find()
        .filter(stock::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(stock::Column::VariantId.eq(level.variant.as_uuid()))
        .one(&**tx)
        .await?;
    let model = stock::ActiveModel {
        tenant_id: Set(tx.tenant().as_uuid()),
        variant_id: Set(level.variant.as_uuid()),
        product_id: Set(level.product.as_uuid()),
        vendor_id: Set(level.vendor.as_uuid()),
        available: Set(level.available),
        on_hand: Set(level.on_hand),
        reserved: Set(level.reserved),
        event_at: Set(level.event_at),
    };
    match existing {
        Some(row) if row.event_at > level.event_at => Ok(false),
        Some(_) => {
            stock::Entity::update(model).exec(&**tx).await?;
            Ok(true)
        }
        None => {
            stock::Entity::insert(model)
                .exec_without_returning(&**tx)
                .await?;
            Ok(true)
        }
    }
}

pub async fn delete_of_product(tx: &TenantTx, product: ProductId) -> Result<(), DbErr> {
    stock::Entity::delete_many()
        .filter(stock::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(stock::Column::ProductId.eq(product.as_uuid()))
        .exec(&**tx)
        .await
        .map(|_| ())
}

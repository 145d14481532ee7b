//! The stock mirror: what inventory last said each variant has available, fed by
//! `stock.changed`. A variant inventory has not spoken of has 0 available.

use super::entities::stock;
use mercato_db::TenantTx;
use mercato_db::sql::{placeholders, statement};
use mercato_events::{MirrorRow, MirrorTable};
use mercato_tenant_context::{ProductId, VariantId, VendorId};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Value};
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

/// The catalog's variants of each of `products` with what inventory last said they have
/// available (0 when it never did), for telling when a product flips between in stock and
/// sold out. A product without variants has none; one the catalog does not know is absent.
pub async fn levels_of_products(
    tx: &TenantTx,
    products: &[ProductId],
) -> Result<HashMap<ProductId, HashMap<VariantId, i64>>, DbErr> {
    let mut out: HashMap<ProductId, HashMap<VariantId, i64>> = HashMap::new();
    for chunk in products.chunks(super::IN_CHUNK) {
        let mut values: Vec<Value> = Vec::with_capacity(1 + chunk.len());
        values.push(tx.tenant().as_uuid().into());
        values.extend(chunk.iter().map(|p| p.as_uuid().into()));
        let rows = tx
            .query_all_raw(statement(
                &**tx,
                &format!(
                    "SELECT v.product_id, v.id, s.available FROM variants v \
                     LEFT JOIN stock s ON s.tenant_id = v.tenant_id AND s.variant_id = v.id \
                     WHERE v.tenant_id = $1 AND v.product_id IN ({})",
                    placeholders(2, chunk.len())
                ),
                values,
            ))
            .await?;
        for row in rows {
            let product = ProductId::from_uuid(row.try_get("", "product_id")?);
            let variant = VariantId::from_uuid(row.try_get("", "id")?);
            let available: Option<i64> = row.try_get("", "available")?;
            out.entry(product)
                .or_default()
                .insert(variant, available.unwrap_or(0).max(0));
        }
    }
    Ok(out)
}

/// The mirror's table, kept by `events::StockMirror`.
pub const TABLE: MirrorTable = MirrorTable {
    name: "stock",
    key: "variant_id",
    version: "event_at",
    columns: &[
        "product_id",
        "vendor_id",
        "available",
        "on_hand",
        "reserved",
    ],
    on_insert: &[],
};

impl MirrorRow for StockLevel {
    fn key(&self) -> uuid::Uuid {
        self.variant.as_uuid()
    }

    fn values(&self) -> Vec<Value> {
        vec![
            self.product.as_uuid().into(),
            self.vendor.as_uuid().into(),
            self.available.into(),
            self.on_hand.into(),
            self.reserved.into(),
        ]
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

//! The stock mirror: what inventory last said each variant has available, fed by
//! `stock.changed`. A variant inventory has not spoken of has 0 available.

use super::entities::stock;
use mercato_db::TenantTx;
use mercato_db::sql::{placeholders, statement};
use mercato_tenant_context::{ProductId, VariantId, VendorId};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Value};
use std::collections::{HashMap, HashSet};

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

/// Records each of `levels` unless a newer report of its variant is already stored (one of
/// the same time wins), in one upsert per 500. Returns the variants it recorded. Each
/// variant may appear only once (PostgreSQL refuses to update a row twice in one
/// statement): keep its latest report.
pub async fn record_all(tx: &TenantTx, levels: &[StockLevel]) -> Result<HashSet<VariantId>, DbErr> {
    let mut recorded = HashSet::with_capacity(levels.len());
    for chunk in levels.chunks(super::IN_CHUNK) {
        let mut values: Vec<Value> = Vec::with_capacity(1 + 7 * chunk.len());
        values.push(tx.tenant().as_uuid().into());
        let mut rows = Vec::with_capacity(chunk.len());
        for level in chunk {
            rows.push(format!("($1, {})", placeholders(values.len() + 1, 7)));
            values.extend([
                level.variant.as_uuid().into(),
                level.product.as_uuid().into(),
                level.vendor.as_uuid().into(),
                level.available.into(),
                level.on_hand.into(),
                level.reserved.into(),
                level.event_at.into(),
            ]);
        }
        let rows = tx
            .query_all_raw(statement(
                &**tx,
                &format!(
                    "INSERT INTO stock (tenant_id, variant_id, product_id, vendor_id, available, \
                       on_hand, reserved, event_at) VALUES {} \
                     ON CONFLICT (tenant_id, variant_id) DO UPDATE SET \
                       product_id = excluded.product_id, vendor_id = excluded.vendor_id, \
                       available = excluded.available, on_hand = excluded.on_hand, \
                       reserved = excluded.reserved, event_at = excluded.event_at \
                     WHERE stock.event_at <= excluded.event_at \
                     RETURNING variant_id",
                    rows.join(", ")
                ),
                values,
            ))
            .await?;
        for row in rows {
            recorded.insert(VariantId::from_uuid(row.try_get("", "variant_id")?));
        }
    }
    Ok(recorded)
}

pub async fn delete_of_product(tx: &TenantTx, product: ProductId) -> Result<(), DbErr> {
    stock::Entity::delete_many()
        .filter(stock::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(stock::Column::ProductId.eq(product.as_uuid()))
        .exec(&**tx)
        .await
        .map(|_| ())
}

//! What inventory knows of other services' things: the shop's vendors, their status and
//! holidays (from `vendor.*`), and catalog's variants (from `product.changed`). An event
//! older than what a row already reflects is ignored, so redelivered or reordered events
//! cannot roll a row back.

use super::entities::{variant, vendor};
use crate::domain::Variant;
use crate::domain::vendor::MirroredVendor;
use chrono::{DateTime, NaiveDate, Utc};
use mercato_db::TenantTx;
use mercato_tenant_context::{ProductId, VariantId, VendorId};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait, Select, Set,
};
use std::collections::HashMap;

fn from_model(m: variant::Model) -> Variant {
    Variant {
        id: VariantId::from_uuid(m.id),
        product: ProductId::from_uuid(m.product_id),
        vendor: VendorId::from_uuid(m.vendor_id),
        sku: m.sku,
        deleted: m.deleted,
        low_stock_threshold: m.low_stock_threshold,
        low_stock: m.low_stock,
    }
}

/// Records a vendor's status and holiday as of `at`.
pub async fn save_vendor(
    tx: &TenantTx,
    id: VendorId,
    vendor: &MirroredVendor,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    let existing = vendor::Entity::find_by_id((tx.tenant().as_uuid(), id.as_uuid()))
        .one(&**tx)
        .await?;
    match existing {
        Some(row) if row.synced_at > at => Ok(()),
        Some(row) => {
            let mut row: vendor::ActiveModel = row.into();
            row.status = Set(vendor.status.clone());
            row.holiday_until = Set(vendor.holiday_until);
            row.synced_at = Set(at);
            row.update(&**tx).await.map(|_| ())
        }
        None => vendor::Entity::insert(vendor::ActiveModel {
            tenant_id: Set(tx.tenant().as_uuid()),
            id: Set(id.as_uuid()),
            status: Set(vendor.status.clone()),
            holiday_until: Set(vendor.holiday_until),
            synced_at: Set(at),
        })
        .on_conflict(
            OnConflict::columns([vendor::Column::TenantId, vendor::Column::Id])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&**tx)
        .await
        .map(|_| ()),
    }
}

/// Whether the shop has this vendor (in any state but rejected).
pub async fn vendor_exists(tx: &TenantTx, id: VendorId) -> Result<bool, DbErr> {
    Ok(
        vendor::Entity::find_by_id((tx.tenant().as_uuid(), id.as_uuid()))
            .one(&**tx)
            .await?
            .is_some_and(|v| v.status != "rejected"),
    )
}

/// What catalog says a variant is, as of `at`.
pub struct CatalogVariant<'a> {
    pub id: VariantId,
    pub product: ProductId,
    pub vendor: VendorId,
    pub sku: &'a str,
    pub deleted: bool,
}

/// Records one variant as of `at`, keeping the low-stock settings of an existing row.
pub async fn save_variant(
    tx: &TenantTx,
    v: &CatalogVariant<'_>,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    let existing = variant::Entity::find_by_id((tx.tenant().as_uuid(), v.id.as_uuid()))
        .one(&**tx)
        .await?;
    match existing {
        Some(row) if row.synced_at > at => Ok(()),
        Some(row) => {
            let mut row: variant::ActiveModel = row.into();
            row.product_id = Set(v.product.as_uuid());
            row.vendor_id = Set(v.vendor.as_uuid());
            row.sku = Set(v.sku.to_owned());
            row.deleted = Set(v.deleted);
            row.synced_at = Set(at);
            row.update(&**tx).await.map(|_| ())
        }
        None => variant::Entity::insert(variant::ActiveModel {
            tenant_id: Set(tx.tenant().as_uuid()),
            id: Set(v.id.as_uuid()),
            product_id: Set(v.product.as_uuid()),
            vendor_id: Set(v.vendor.as_uuid()),
            sku: Set(v.sku.to_owned()),
            deleted: Set(v.deleted),
            synced_at: Set(at),
            low_stock_threshold: Set(None),
            low_stock: Set(false),
        })
        .exec_without_returning(&**tx)
        .await
        .map(|_| ()),
    }
}

/// Marks the product's variants not in `keep` deleted, as of `at`.
pub async fn delete_other_variants(
    tx: &TenantTx,
    product: ProductId,
    keep: &[VariantId],
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    variant::Entity::update_many()
        .col_expr(variant::Column::Deleted, true.into())
        .col_expr(variant::Column::SyncedAt, at.into())
        .filter(variant::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(variant::Column::ProductId.eq(product.as_uuid()))
        .filter(variant::Column::Id.is_not_in(keep.iter().map(|v| v.as_uuid())))
        .filter(variant::Column::SyncedAt.lte(at))
        .exec(&**tx)
        .await
        .map(|_| ())
}

pub async fn find_variant(tx: &TenantTx, id: VariantId) -> Result<Option<Variant>, DbErr> {
    Ok(variant::Entity::find()
        .filter(variant::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(variant::Column::Id.eq(id.as_uuid()))
        .one(&**tx)
        .await?
        .map(from_model))
}

pub async fn find_variants(tx: &TenantTx, ids: &[VariantId]) -> Result<Vec<Variant>, DbErr> {
    Ok(variant::Entity::find()
        .filter(variant::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(variant::Column::Id.is_in(ids.iter().map(|v| v.as_uuid())))
        .order_by_asc(variant::Column::Id)
        .all(&**tx)
        .await?
        .into_iter()
        .map(from_model)
        .collect())
}

/// The variants, locked for the rest of the transaction, in id order.
///
/// Every change of stock locks the variants it touches first, always in id order, and only
/// then their stock rows: so changes to one variant run one after another (its totals and
/// low-stock state are computed from a settled state) and two changes never wait for each
/// other in a circle. On SQLite the transaction already holds the database's write lock.
pub async fn lock_variants(tx: &TenantTx, ids: &[VariantId]) -> Result<Vec<Variant>, DbErr> {
    Ok(locking(tx, ids)
        .all(&**tx)
        .await?
        .into_iter()
        .map(from_model)
        .collect())
}

/// [`lock_variants`], with what the mirror knows of their vendors (status and holiday), read
/// in the same statement. A vendor the mirror has not heard of yet is left out: its events
/// may still be on their way, and it is not held back.
pub async fn lock_variants_and_vendors(
    tx: &TenantTx,
    ids: &[VariantId],
) -> Result<(Vec<Variant>, HashMap<VendorId, MirroredVendor>), DbErr> {
    // Scalar subqueries rather than a join: PostgreSQL locks only the variants' rows, and
    // `FOR UPDATE` may not apply to the nullable side of an outer join.
    let of_vendor = |column: &str| {
        Expr::cust(format!(
            "(SELECT b.{column} FROM vendors b WHERE b.tenant_id = variants.tenant_id \
             AND b.id = variants.vendor_id)"
        ))
    };
    let statement = locking(tx, ids)
        .expr_as(of_vendor("status"), "vendor_status")
        .expr_as(of_vendor("holiday_until"), "vendor_holiday_until")
        .build(tx.get_database_backend());
    let mut variants = Vec::new();
    let mut vendors = HashMap::new();
    for row in tx.query_all_raw(statement).await? {
        let model = variant::Model::from_query_result(&row, "")?;
        if let Some(status) = row.try_get::<Option<String>>("", "vendor_status")? {
            let holiday_until = row.try_get::<Option<NaiveDate>>("", "vendor_holiday_until")?;
            vendors.insert(
                VendorId::from_uuid(model.vendor_id),
                MirroredVendor {
                    status,
                    holiday_until,
                },
            );
        }
        variants.push(from_model(model));
    }
    Ok((variants, vendors))
}

/// The query of [`lock_variants`].
fn locking(tx: &TenantTx, ids: &[VariantId]) -> Select<variant::Entity> {
    let mut ids: Vec<_> = ids.iter().map(VariantId::as_uuid).collect();
    ids.sort();
    ids.dedup();
    variant::Entity::find()
        .filter(variant::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(variant::Column::Id.is_in(ids))
        .order_by_asc(variant::Column::Id)
        .lock_exclusive()
}

/// Saves a variant's low-stock settings.
pub async fn save_low_stock(
    tx: &TenantTx,
    id: VariantId,
    threshold: Option<i64>,
    low: bool,
) -> Result<(), DbErr> {
    variant::Entity::update_many()
        .col_expr(variant::Column::LowStockThreshold, threshold.into())
        .col_expr(variant::Column::LowStock, low.into())
        .filter(variant::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(variant::Column::Id.eq(id.as_uuid()))
        .exec(&**tx)
        .await
        .map(|_| ())
}

/// The ids of every variant recorded for a product.
pub async fn product_variants(tx: &TenantTx, product: ProductId) -> Result<Vec<VariantId>, DbErr> {
    Ok(variant::Entity::find()
        .filter(variant::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(variant::Column::ProductId.eq(product.as_uuid()))
        .order_by_asc(variant::Column::Id)
        .all(&**tx)
        .await?
        .into_iter()
        .map(|m| VariantId::from_uuid(m.id))
        .collect())
}

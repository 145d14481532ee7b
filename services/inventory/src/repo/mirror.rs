//! What inventory knows of other services' things: the shop's vendors, their status and
//! holidays (from `vendor.*`), and catalog's variants (from `product.changed`): the tables
//! `events` keeps with the platform's mirror mechanism (`mercato_events::Mirror`), declared
//! here, and how the service reads them. An event older than what a row already reflects
//! is ignored, so redelivered or reordered events cannot roll a row back.

use super::entities::{variant, vendor};
use crate::domain::Variant;
use crate::domain::vendor::MirroredVendor;
use chrono::NaiveDate;
use mercato_db::TenantTx;
use mercato_events::{MirrorRow, MirrorTable, Retire};
use mercato_tenant_context::{ProductId, VariantId, VendorId};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, Select,
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

/// `vendors`, kept by `events::VendorMirror`.
pub const VENDORS: MirrorTable = MirrorTable {
    name: "vendors",
    key: "id",
    version: "synced_at",
    columns: &["status", "holiday_until"],
    on_insert: &[],
};

/// A vendor's row of [`VENDORS`].
pub struct VendorRow {
    pub id: VendorId,
    pub vendor: MirroredVendor,
}

impl MirrorRow for VendorRow {
    fn key(&self) -> uuid::Uuid {
        self.id.as_uuid()
    }

    fn values(&self) -> Vec<sea_orm::Value> {
        vec![
            self.vendor.status.clone().into(),
            self.vendor.holiday_until.into(),
        ]
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

/// `variants`, kept by `events::CatalogMirror`. The low-stock settings are inventory's
/// own: a new variant has none, and catalog's events leave them alone.
pub const VARIANTS: MirrorTable = MirrorTable {
    name: "variants",
    key: "id",
    version: "synced_at",
    columns: &["product_id", "vendor_id", "sku", "deleted"],
    on_insert: &[("low_stock_threshold", "NULL"), ("low_stock", "FALSE")],
};

/// What catalog says a variant is: a row of [`VARIANTS`].
pub struct CatalogVariant {
    pub id: VariantId,
    pub product: ProductId,
    pub vendor: VendorId,
    pub sku: String,
    pub deleted: bool,
}

impl MirrorRow for CatalogVariant {
    fn key(&self) -> uuid::Uuid {
        self.id.as_uuid()
    }

    fn values(&self) -> Vec<sea_orm::Value> {
        vec![
            self.product.as_uuid().into(),
            self.vendor.as_uuid().into(),
            self.sku.clone().into(),
            self.deleted.into(),
        ]
    }
}

/// A product's variants other than those of its latest event take no new stock or
/// reservations; their stock and history stay.
pub fn retire_other_variants(product: ProductId) -> Retire {
    Retire {
        column: "product_id",
        group: product.as_uuid(),
        set: "deleted = TRUE",
    }
}

/// The ids of the shop's variants that are not deleted, in id order.
pub async fn live_variant_ids(tx: &TenantTx) -> Result<Vec<VariantId>, DbErr> {
    Ok(variant::Entity::find()
        .select_only()
        .column(variant::Column::Id)
        .filter(variant::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(variant::Column::Deleted.eq(false))
        .order_by_asc(variant::Column::Id)
        .into_tuple::<uuid::Uuid>()
        .all(&**tx)
        .await?
        .into_iter()
        .map(VariantId::from_uuid)
        .collect())
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

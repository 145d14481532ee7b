//! Products. Lists page by id (UUIDv7, so oldest first).

use super::entities::product;
use super::{corrupt, json_err};
use crate::domain::product::Seo;
use crate::domain::{Product, ProductStatus};
use mercato_db::{RowLock, TenantTx};
use mercato_kernel::Currency;
use mercato_tenant_context::{CategoryId, ProductId, VendorId};
use sea_orm::{
    ColumnTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

pub(crate) fn from_model(m: product::Model) -> Result<Product, DbErr> {
    Ok(Product {
        id: ProductId::from_uuid(m.id),
        vendor: VendorId::from_uuid(m.vendor_id),
        status: ProductStatus::parse(&m.status)
            .ok_or_else(|| corrupt("product status", &m.status))?,
        currency: match m.currency {
            Some(code) => Some(Currency::parse(&code).map_err(|_| corrupt("currency", &code))?),
            None => None,
        },
        tags: serde_json::from_value(m.tags).map_err(json_err)?,
        option_types: serde_json::from_value(m.option_types).map_err(json_err)?,
        category: m.category_id.map(CategoryId::from_uuid),
        seo: Seo {
            title: m.seo_title,
            description: m.seo_description,
            canonical_slug: m.canonical_slug,
        },
        slug: m.slug,
        title: m.title,
        description: m.description,
        status_reason: m.status_reason,
        min_price: m.min_price,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

fn to_model(tx: &TenantTx, p: &Product) -> Result<product::ActiveModel, DbErr> {
    Ok(product::ActiveModel {
        tenant_id: Set(tx.tenant().as_uuid()),
        id: Set(p.id.as_uuid()),
        vendor_id: Set(p.vendor.as_uuid()),
        slug: Set(p.slug.clone()),
        title: Set(p.title.clone()),
        description: Set(p.description.clone()),
        status: Set(p.status.code().to_owned()),
        status_reason: Set(p.status_reason.clone()),
        category_id: Set(p.category.map(|c| c.as_uuid())),
        tags: Set(serde_json::to_value(&p.tags).map_err(json_err)?),
        option_types: Set(serde_json::to_value(&p.option_types).map_err(json_err)?),
        seo_title: Set(p.seo.title.clone()),
        seo_description: Set(p.seo.description.clone()),
        canonical_slug: Set(p.seo.canonical_slug.clone()),
        currency: Set(p.currency.map(|c| c.code().to_owned())),
        min_price: Set(p.min_price),
        created_at: Set(p.created_at),
        updated_at: Set(p.updated_at),
    })
}

pub async fn insert(tx: &TenantTx, p: &Product) -> Result<(), DbErr> {
    insert_many(tx, std::slice::from_ref(p)).await
}

pub async fn insert_many(tx: &TenantTx, products: &[Product]) -> Result<(), DbErr> {
    for chunk in products.chunks(200) {
        let models = chunk
            .iter()
            .map(|p| to_model(tx, p))
            .collect::<Result<Vec<_>, _>>()?;
        product::Entity::insert_many(models)
            .exec_without_returning(&**tx)
            .await?;
    }
    Ok(())
}

/// Saves every field of an existing product.
pub async fn update(tx: &TenantTx, p: &Product) -> Result<(), DbErr> {
    product::Entity::update(to_model(tx, p)?)
        .exec(&**tx)
        .await
        .map(|_| ())
}

pub async fn delete(tx: &TenantTx, id: ProductId) -> Result<(), DbErr> {
    product::Entity::delete_many()
        .filter(product::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(product::Column::Id.eq(id.as_uuid()))
        .exec(&**tx)
        .await
        .map(|_| ())
}

pub async fn find(tx: &TenantTx, id: ProductId) -> Result<Option<Product>, DbErr> {
    product::Entity::find()
        .filter(product::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(product::Column::Id.eq(id.as_uuid()))
        .one(&**tx)
        .await?
        .map(from_model)
        .transpose()
}

/// Like [`find`], locking the row until `tx` ends (PostgreSQL; SQLite's write transactions
/// run one at a time). Every change that may move the product's status or what shoppers see
/// of it reads it so: an approval and a vendor's edit of the same product then happen one
/// after the other, and whichever comes second sees the other's outcome.
pub async fn find_to_change(tx: &TenantTx, id: ProductId) -> Result<Option<Product>, DbErr> {
    product::Entity::find()
        .filter(product::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(product::Column::Id.eq(id.as_uuid()))
        .lock_exclusive()
        .one(&**tx)
        .await?
        .map(from_model)
        .transpose()
}

pub async fn find_by_slug(tx: &TenantTx, slug: &str) -> Result<Option<Product>, DbErr> {
    product::Entity::find()
        .filter(product::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(product::Column::Slug.eq(slug))
        .one(&**tx)
        .await?
        .map(from_model)
        .transpose()
}

pub async fn find_many(tx: &TenantTx, ids: &[ProductId]) -> Result<Vec<Product>, DbErr> {
    let mut out = Vec::new();
    for chunk in ids.chunks(super::IN_CHUNK) {
        let rows = product::Entity::find()
            .filter(product::Column::TenantId.eq(tx.tenant().as_uuid()))
            .filter(product::Column::Id.is_in(chunk.iter().map(|p| p.as_uuid())))
            .all(&**tx)
            .await?;
        for row in rows {
            out.push(from_model(row)?);
        }
    }
    Ok(out)
}

/// The products with these slugs, their rows locked until `tx` ends (see [`find_to_change`]),
/// in id order so that concurrent imports lock shared rows in the same order.
pub async fn find_by_slugs_to_change(
    tx: &TenantTx,
    slugs: &[String],
) -> Result<Vec<Product>, DbErr> {
    let mut slugs = slugs.to_vec();
    slugs.sort();
    slugs.dedup();
    let mut out = Vec::new();
    for chunk in slugs.chunks(super::IN_CHUNK) {
        let rows = product::Entity::find()
            .filter(product::Column::TenantId.eq(tx.tenant().as_uuid()))
            .filter(product::Column::Slug.is_in(chunk.iter().cloned()))
            .order_by_asc(product::Column::Id)
            .lock_exclusive()
            .all(&**tx)
            .await?;
        for row in rows {
            out.push(from_model(row)?);
        }
    }
    Ok(out)
}

/// How many products the shop has, in any state (what the plan counts).
pub async fn count(tx: &TenantTx) -> Result<u64, DbErr> {
    product::Entity::find()
        .filter(product::Column::TenantId.eq(tx.tenant().as_uuid()))
        .count(&**tx)
        .await
}

/// What the management list may narrow to.
#[derive(Debug, Clone, Default)]
pub struct ManageFilter {
    /// Only these vendors' products (`None`: every vendor's).
    pub vendors: Option<Vec<VendorId>>,
    pub status: Option<ProductStatus>,
}

pub async fn list(
    tx: &TenantTx,
    filter: &ManageFilter,
    after: Option<ProductId>,
    limit: u64,
) -> Result<Vec<Product>, DbErr> {
    let mut query = product::Entity::find()
        .filter(product::Column::TenantId.eq(tx.tenant().as_uuid()))
        .order_by_asc(product::Column::Id)
        .limit(limit);
    if let Some(vendors) = &filter.vendors {
        query = query.filter(product::Column::VendorId.is_in(vendors.iter().map(|v| v.as_uuid())));
    }
    if let Some(status) = filter.status {
        query = query.filter(product::Column::Status.eq(status.code()));
    }
    if let Some(after) = after {
        query = query.filter(product::Column::Id.gt(after.as_uuid()));
    }
    query
        .all(&**tx)
        .await?
        .into_iter()
        .map(from_model)
        .collect()
}

/// The ids of one vendor's products (or of all vendors'), in id order, locked as `lock`
/// says.
pub async fn ids(
    tx: &TenantTx,
    vendor: Option<VendorId>,
    lock: RowLock,
) -> Result<Vec<ProductId>, DbErr> {
    let mut query = lock.on(product::Entity::find()
        .select_only()
        .column(product::Column::Id)
        .filter(product::Column::TenantId.eq(tx.tenant().as_uuid()))
        .order_by_asc(product::Column::Id));
    if let Some(vendor) = vendor {
        query = query.filter(product::Column::VendorId.eq(vendor.as_uuid()));
    }
    Ok(query
        .into_tuple::<uuid::Uuid>()
        .all(&**tx)
        .await?
        .into_iter()
        .map(ProductId::from_uuid)
        .collect())
}

/// The ids of the products in any of `categories`.
pub async fn ids_in_categories(
    tx: &TenantTx,
    categories: &[CategoryId],
) -> Result<Vec<ProductId>, DbErr> {
    let mut out = Vec::new();
    for chunk in categories.chunks(super::IN_CHUNK) {
        let rows = product::Entity::find()
            .select_only()
            .column(product::Column::Id)
            .filter(product::Column::TenantId.eq(tx.tenant().as_uuid()))
            .filter(product::Column::CategoryId.is_in(chunk.iter().map(|c| c.as_uuid())))
            .into_tuple::<uuid::Uuid>()
            .all(&**tx)
            .await?;
        out.extend(rows.into_iter().map(ProductId::from_uuid));
    }
    Ok(out)
}

//! Variants, by product and by SKU.

use super::entities::variant;
use super::{corrupt, json_err};
use crate::domain::Variant;
use crate::domain::variant::Dimensions;
use mercato_db::TenantTx;
use mercato_kernel::{Currency, Money};
use mercato_tenant_context::{ProductId, VariantId};
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set};

fn from_model(m: variant::Model) -> Result<Variant, DbErr> {
    let currency = Currency::parse(&m.currency).map_err(|_| corrupt("currency", &m.currency))?;
    let dimensions = match (m.length_mm, m.width_mm, m.height_mm) {
        (Some(length), Some(width), Some(height)) => Some(Dimensions {
            length,
            width,
            height,
        }),
        _ => None,
    };
    Ok(Variant {
        id: VariantId::from_uuid(m.id),
        product: ProductId::from_uuid(m.product_id),
        options: serde_json::from_value(m.options).map_err(json_err)?,
        price: Money::new(m.price_amount, currency),
        compare_at: m.compare_at_amount.map(|a| Money::new(a, currency)),
        sku: m.sku,
        title: m.title,
        weight_grams: m.weight_grams,
        dimensions,
        barcode: m.barcode,
        position: m.position,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

fn to_model(tx: &TenantTx, v: &Variant) -> Result<variant::ActiveModel, DbErr> {
    Ok(variant::ActiveModel {
        tenant_id: Set(tx.tenant().as_uuid()),
        id: Set(v.id.as_uuid()),
        product_id: Set(v.product.as_uuid()),
        sku: Set(v.sku.clone()),
        title: Set(v.title.clone()),
        options: Set(serde_json::to_value(&v.options).map_err(json_err)?),
        price_amount: Set(v.price.amount),
        currency: Set(v.price.currency.code().to_owned()),
        compare_at_amount: Set(v.compare_at.map(|m| m.amount)),
        weight_grams: Set(v.weight_grams),
        length_mm: Set(v.dimensions.map(|d| d.length)),
        width_mm: Set(v.dimensions.map(|d| d.width)),
        height_mm: Set(v.dimensions.map(|d| d.height)),
        barcode: Set(v.barcode.clone()),
        position: Set(v.position),
        created_at: Set(v.created_at),
        updated_at: Set(v.updated_at),
    })
}

pub async fn insert_many(tx: &TenantTx, variants: &[Variant]) -> Result<(), DbErr> {
    for chunk in variants.chunks(200) {
        let models = chunk
            .iter()
            .map(|v| to_model(tx, v))
            .collect::<Result<Vec<_>, _>>()?;
        variant::Entity::insert_many(models)
            .exec_without_returning(&**tx)
            .await?;
    }
    Ok(())
}

pub async fn update(tx: &TenantTx, v: &Variant) -> Result<(), DbErr> {
    variant::Entity::update(to_model(tx, v)?)
        .exec(&**tx)
        .await
        .map(|_| ())
}

pub async fn delete(tx: &TenantTx, id: VariantId) -> Result<(), DbErr> {
    variant::Entity::delete_many()
        .filter(variant::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(variant::Column::Id.eq(id.as_uuid()))
        .exec(&**tx)
        .await
        .map(|_| ())
}

pub async fn delete_of_product(tx: &TenantTx, product: ProductId) -> Result<(), DbErr> {
    variant::Entity::delete_many()
        .filter(variant::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(variant::Column::ProductId.eq(product.as_uuid()))
        .exec(&**tx)
        .await
        .map(|_| ())
}

/// The variants of `products`, each product's by position.
pub async fn of_products(tx: &TenantTx, products: &[ProductId]) -> Result<Vec<Variant>, DbErr> {
    let mut out = Vec::new();
    for chunk in products.chunks(super::IN_CHUNK) {
        let rows = variant::Entity::find()
            .filter(variant::Column::TenantId.eq(tx.tenant().as_uuid()))
            .filter(variant::Column::ProductId.is_in(chunk.iter().map(|p| p.as_uuid())))
            .order_by_asc(variant::Column::ProductId)
            .order_by_asc(variant::Column::Position)
            .order_by_asc(variant::Column::Id)
            .all(&**tx)
            .await?;
        for row in rows {
            out.push(from_model(row)?);
        }
    }
    Ok(out)
}

pub async fn find_by_skus(tx: &TenantTx, skus: &[String]) -> Result<Vec<Variant>, DbErr> {
    let mut out = Vec::new();
    for chunk in skus.chunks(super::IN_CHUNK) {
        let rows = variant::Entity::find()
            .filter(variant::Column::TenantId.eq(tx.tenant().as_uuid()))
            .filter(variant::Column::Sku.is_in(chunk.iter().cloned()))
            .all(&**tx)
            .await?;
        for row in rows {
            out.push(from_model(row)?);
        }
    }
    Ok(out)
}

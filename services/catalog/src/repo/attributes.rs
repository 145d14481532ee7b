//! Attribute definitions and the products' values of them.

use super::entities::{attribute, product_attribute};
use super::{corrupt, json_err};
use crate::domain::{Attribute, AttributeKind};
use mercato_db::TenantTx;
use mercato_tenant_context::ProductId;
use sea_orm::{ColumnTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set};

fn from_model(m: attribute::Model) -> Result<Attribute, DbErr> {
    Ok(Attribute {
        kind: AttributeKind::parse(&m.kind).ok_or_else(|| corrupt("attribute kind", &m.kind))?,
        options: serde_json::from_value(m.options).map_err(json_err)?,
        code: m.code,
        name: m.name,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

fn to_model(tx: &TenantTx, a: &Attribute) -> Result<attribute::ActiveModel, DbErr> {
    Ok(attribute::ActiveModel {
        tenant_id: Set(tx.tenant().as_uuid()),
        code: Set(a.code.clone()),
        name: Set(a.name.clone()),
        kind: Set(a.kind.code().to_owned()),
        options: Set(serde_json::to_value(&a.options).map_err(json_err)?),
        created_at: Set(a.created_at),
        updated_at: Set(a.updated_at),
    })
}

/// Every attribute of the shop, by code.
pub async fn all(tx: &TenantTx) -> Result<Vec<Attribute>, DbErr> {
    attribute::Entity::find()
        .filter(attribute::Column::TenantId.eq(tx.tenant().as_uuid()))
        .order_by_asc(attribute::Column::Code)
        .all(&**tx)
        .await?
        .into_iter()
        .map(from_model)
        .collect()
}

pub async fn find(tx: &TenantTx, code: &str) -> Result<Option<Attribute>, DbErr> {
    attribute::Entity::find()
        .filter(attribute::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(attribute::Column::Code.eq(code))
        .one(&**tx)
        .await?
        .map(from_model)
        .transpose()
}

pub async fn insert(tx: &TenantTx, a: &Attribute) -> Result<(), DbErr> {
    attribute::Entity::insert(to_model(tx, a)?)
        .exec_without_returning(&**tx)
        .await
        .map(|_| ())
}

pub async fn update(tx: &TenantTx, a: &Attribute) -> Result<(), DbErr> {
    attribute::Entity::update(to_model(tx, a)?)
        .exec(&**tx)
        .await
        .map(|_| ())
}

pub async fn delete(tx: &TenantTx, code: &str) -> Result<(), DbErr> {
    attribute::Entity::delete_many()
        .filter(attribute::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(attribute::Column::Code.eq(code))
        .exec(&**tx)
        .await
        .map(|_| ())
}

/// How many products have a value for `code` (optionally: one of `values`).
pub async fn usage(tx: &TenantTx, code: &str, values: Option<&[String]>) -> Result<u64, DbErr> {
    let mut query = product_attribute::Entity::find()
        .filter(product_attribute::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(product_attribute::Column::Code.eq(code));
    if let Some(values) = values {
        query = query.filter(product_attribute::Column::Value.is_in(values.iter().cloned()));
    }
    query.count(&**tx).await
}

/// The attribute values of `products`: (product, code, canonical value), by product and code.
pub async fn values_of(
    tx: &TenantTx,
    products: &[ProductId],
) -> Result<Vec<(ProductId, String, String)>, DbErr> {
    let mut out = Vec::new();
    for chunk in products.chunks(super::IN_CHUNK) {
        let rows = product_attribute::Entity::find()
            .filter(product_attribute::Column::TenantId.eq(tx.tenant().as_uuid()))
            .filter(product_attribute::Column::ProductId.is_in(chunk.iter().map(|p| p.as_uuid())))
            .order_by_asc(product_attribute::Column::ProductId)
            .order_by_asc(product_attribute::Column::Code)
            .all(&**tx)
            .await?;
        out.extend(
            rows.into_iter()
                .map(|r| (ProductId::from_uuid(r.product_id), r.code, r.value)),
        );
    }
    Ok(out)
}

/// Replaces the attribute values of several products at once.
pub async fn replace_values(
    tx: &TenantTx,
    values: &[(ProductId, Vec<(String, String)>)],
) -> Result<(), DbErr> {
    let ids: Vec<ProductId> = values.iter().map(|(p, _)| *p).collect();
    remove_values(tx, &ids).await?;
    let rows: Vec<product_attribute::ActiveModel> = values
        .iter()
        .flat_map(|(product, pairs)| {
            pairs
                .iter()
                .map(|(code, value)| product_attribute::ActiveModel {
                    tenant_id: Set(tx.tenant().as_uuid()),
                    product_id: Set(product.as_uuid()),
                    code: Set(code.clone()),
                    value: Set(value.clone()),
                })
        })
        .collect();
    for chunk in rows.chunks(200) {
        product_attribute::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&**tx)
            .await?;
    }
    Ok(())
}

pub async fn remove_values(tx: &TenantTx, products: &[ProductId]) -> Result<(), DbErr> {
    for chunk in products.chunks(super::IN_CHUNK) {
        product_attribute::Entity::delete_many()
            .filter(product_attribute::Column::TenantId.eq(tx.tenant().as_uuid()))
            .filter(product_attribute::Column::ProductId.is_in(chunk.iter().map(|p| p.as_uuid())))
            .exec(&**tx)
            .await?;
    }
    Ok(())
}

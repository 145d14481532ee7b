//! The shop's categories. The tree is small; it is read whole.

use super::entities::{category, product};
use crate::domain::Category;
use mercato_db::TenantTx;
use mercato_tenant_context::CategoryId;
use sea_orm::{ColumnTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set};

fn from_model(m: category::Model) -> Category {
    Category {
        id: CategoryId::from_uuid(m.id),
        parent: m.parent_id.map(CategoryId::from_uuid),
        name: m.name,
        slug: m.slug,
        position: m.position,
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

fn to_model(tx: &TenantTx, c: &Category) -> category::ActiveModel {
    category::ActiveModel {
        tenant_id: Set(tx.tenant().as_uuid()),
        id: Set(c.id.as_uuid()),
        parent_id: Set(c.parent.map(|p| p.as_uuid())),
        name: Set(c.name.clone()),
        slug: Set(c.slug.clone()),
        position: Set(c.position),
        created_at: Set(c.created_at),
        updated_at: Set(c.updated_at),
    }
}

/// Every category of the shop, siblings by position then name.
pub async fn all(tx: &TenantTx) -> Result<Vec<Category>, DbErr> {
    Ok(category::Entity::find()
        .filter(category::Column::TenantId.eq(tx.tenant().as_uuid()))
        .order_by_asc(category::Column::Position)
        .order_by_asc(category::Column::Name)
        .order_by_asc(category::Column::Id)
        .all(&**tx)
        .await?
        .into_iter()
        .map(from_model)
        .collect())
}

pub async fn insert(tx: &TenantTx, c: &Category) -> Result<(), DbErr> {
    category::Entity::insert(to_model(tx, c))
        .exec_without_returning(&**tx)
        .await
        .map(|_| ())
}

pub async fn update(tx: &TenantTx, c: &Category) -> Result<(), DbErr> {
    category::Entity::update(to_model(tx, c))
        .exec(&**tx)
        .await
        .map(|_| ())
}

pub async fn delete(tx: &TenantTx, id: CategoryId) -> Result<(), DbErr> {
    category::Entity::delete_many()
        .filter(category::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(category::Column::Id.eq(id.as_uuid()))
        .exec(&**tx)
        .await
        .map(|_| ())
}

/// How many products sit directly in `id`.
pub async fn product_count(tx: &TenantTx, id: CategoryId) -> Result<u64, DbErr> {
    product::Entity::find()
        .filter(product::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(product::Column::CategoryId.eq(id.as_uuid()))
        .count(&**tx)
        .await
}

//! Product images: the object key in storage and the order they are shown in.

use super::entities::media;
use crate::domain::MediaId;
use mercato_db::TenantTx;
use mercato_tenant_context::ProductId;
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media {
    pub id: MediaId,
    pub product: ProductId,
    /// Under `shops/<shop>/vendors/<vendor>/products/`.
    pub object_key: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub position: i32,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

fn from_model(m: media::Model) -> Media {
    Media {
        id: MediaId::from_uuid(m.id),
        product: ProductId::from_uuid(m.product_id),
        object_key: m.object_key,
        content_type: m.content_type,
        size_bytes: m.size_bytes,
        position: m.position,
        created_at: m.created_at,
    }
}

pub async fn insert(tx: &TenantTx, m: &Media) -> Result<(), DbErr> {
    let model = media::ActiveModel {
        tenant_id: Set(tx.tenant().as_uuid()),
        id: Set(m.id.as_uuid()),
        product_id: Set(m.product.as_uuid()),
        object_key: Set(m.object_key.clone()),
        content_type: Set(m.content_type.clone()),
        size_bytes: Set(m.size_bytes),
        position: Set(m.position),
        created_at: Set(m.created_at),
    };
    media::Entity::insert(model)
        .exec_without_returning(&**tx)
        .await
        .map(|_| ())
}

/// The images of `products`, each product's in display order.
pub async fn of_products(tx: &TenantTx, products: &[ProductId]) -> Result<Vec<Media>, DbErr> {
    let mut out = Vec::new();
    for chunk in products.chunks(super::IN_CHUNK) {
        let rows = media::Entity::find()
            .filter(media::Column::TenantId.eq(tx.tenant().as_uuid()))
            .filter(media::Column::ProductId.is_in(chunk.iter().map(|p| p.as_uuid())))
            .order_by_asc(media::Column::ProductId)
            .order_by_asc(media::Column::Position)
            .order_by_asc(media::Column::Id)
            .all(&**tx)
            .await?;
        out.extend(rows.into_iter().map(from_model));
    }
    Ok(out)
}

pub async fn set_position(tx: &TenantTx, id: MediaId, position: i32) -> Result<(), DbErr> {
    media::Entity::update_many()
        .col_expr(
            media::Column::Position,
            sea_orm::sea_query::Expr::value(position),
        )
        .filter(media::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(media::Column::Id.eq(id.as_uuid()))
        .exec(&**tx)
        .await
        .map(|_| ())
}

pub async fn delete(tx: &TenantTx, id: MediaId) -> Result<(), DbErr> {
    media::Entity::delete_many()
        .filter(media::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(media::Column::Id.eq(id.as_uuid()))
        .exec(&**tx)
        .await
        .map(|_| ())
}

pub async fn delete_of_product(tx: &TenantTx, product: ProductId) -> Result<(), DbErr> {
    media::Entity::delete_many()
        .filter(media::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(media::Column::ProductId.eq(product.as_uuid()))
        .exec(&**tx)
        .await
        .map(|_| ())
}

//! Shops. Creating, listing and changing a shop's status or plan are platform operations;
//! a shop reads and edits only its own row.

use super::entities::shop;
use crate::domain::plan::Plan;
use crate::domain::shop::{Branding, Shop, ShopStatus};
use mercato_db::{PlatformTx, TenantTx};
use mercato_kernel::Currency;
use mercato_tenant_context::TenantId;
use sea_orm::prelude::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

fn corrupt(what: &str, value: &str) -> DbErr {
    DbErr::Custom(format!("stored shop has an invalid {what}: {value:?}"))
}

fn from_model(m: shop::Model) -> Result<Shop, DbErr> {
    Ok(Shop {
        tenant: TenantId::from_uuid(m.tenant_id),
        status: ShopStatus::parse(&m.status).ok_or_else(|| corrupt("status", &m.status))?,
        plan: Plan::parse(&m.plan).ok_or_else(|| corrupt("plan", &m.plan))?,
        currency: Currency::parse(&m.currency).map_err(|_| corrupt("currency", &m.currency))?,
        feature_overrides: serde_json::from_value(m.feature_overrides)
            .map_err(|e| DbErr::Json(e.to_string()))?,
        branding: Branding {
            name: m.branding_name,
            primary_colour: m.primary_colour,
            accent_colour: m.accent_colour,
        },
        slug: m.slug,
        name: m.name,
        status_reason: m.status_reason,
        locale: m.locale,
        timezone: m.timezone,
        support_email: m.support_email,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

fn to_active(s: &Shop) -> Result<shop::ActiveModel, DbErr> {
    Ok(shop::ActiveModel {
        tenant_id: Set(s.tenant.as_uuid()),
        slug: Set(s.slug.clone()),
        name: Set(s.name.clone()),
        status: Set(s.status.code().to_owned()),
        status_reason: Set(s.status_reason.clone()),
        plan: Set(s.plan.code().to_owned()),
        currency: Set(s.currency.code().to_owned()),
        locale: Set(s.locale.clone()),
        timezone: Set(s.timezone.clone()),
        branding_name: Set(s.branding.name.clone()),
        primary_colour: Set(s.branding.primary_colour.clone()),
        accent_colour: Set(s.branding.accent_colour.clone()),
        support_email: Set(s.support_email.clone()),
        feature_overrides: Set(
            serde_json::to_value(&s.feature_overrides).map_err(|e| DbErr::Json(e.to_string()))?
        ),
        created_at: Set(s.created_at),
        updated_at: Set(s.updated_at),
    })
}

async fn find_by_tenant(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
) -> Result<Option<Shop>, DbErr> {
    shop::Entity::find_by_id(tenant.as_uuid())
        .one(conn)
        .await?
        .map(from_model)
        .transpose()
}

/// Opens a shop. Fails with a unique violation when the slug is taken.
pub async fn insert(tx: &PlatformTx, shop: &Shop) -> Result<(), DbErr> {
    shop::Entity::insert(to_active(shop)?)
        .exec_without_returning(&**tx)
        .await
        .map(|_| ())
}

/// The transaction's own shop.
pub async fn current(tx: &TenantTx) -> Result<Option<Shop>, DbErr> {
    find_by_tenant(&**tx, tx.tenant()).await
}

/// Saves the editable settings of the transaction's own shop.
pub async fn save_settings(tx: &TenantTx, shop: &Shop) -> Result<(), DbErr> {
    shop::Entity::update_many()
        .col_expr(shop::Column::Name, Expr::value(shop.name.clone()))
        .col_expr(
            shop::Column::Currency,
            Expr::value(shop.currency.code().to_owned()),
        )
        .col_expr(shop::Column::Locale, Expr::value(shop.locale.clone()))
        .col_expr(shop::Column::Timezone, Expr::value(shop.timezone.clone()))
        .col_expr(
            shop::Column::BrandingName,
            Expr::value(shop.branding.name.clone()),
        )
        .col_expr(
            shop::Column::PrimaryColour,
            Expr::value(shop.branding.primary_colour.clone()),
        )
        .col_expr(
            shop::Column::AccentColour,
            Expr::value(shop.branding.accent_colour.clone()),
        )
        .col_expr(
            shop::Column::SupportEmail,
            Expr::value(shop.support_email.clone()),
        )
        .col_expr(shop::Column::UpdatedAt, Expr::value(shop.updated_at))
        .filter(shop::Column::TenantId.eq(tx.tenant().as_uuid()))
        .exec(&**tx)
        .await
        .map(|_| ())
}

/// Any shop, for the platform admin.
pub async fn find(tx: &PlatformTx, tenant: TenantId) -> Result<Option<Shop>, DbErr> {
    find_by_tenant(&**tx, tenant).await
}

pub async fn find_by_slug(tx: &PlatformTx, slug: &str) -> Result<Option<Shop>, DbErr> {
    shop::Entity::find()
        .filter(shop::Column::Slug.eq(slug))
        .one(&**tx)
        .await?
        .map(from_model)
        .transpose()
}

/// Shops in id (creation) order after `after`, optionally of one status.
pub async fn list(
    tx: &PlatformTx,
    status: Option<ShopStatus>,
    after: Option<TenantId>,
    limit: u64,
) -> Result<Vec<Shop>, DbErr> {
    let mut query = shop::Entity::find()
        .order_by_asc(shop::Column::TenantId)
        .limit(limit);
    if let Some(status) = status {
        query = query.filter(shop::Column::Status.eq(status.code()));
    }
    if let Some(after) = after {
        query = query.filter(shop::Column::TenantId.gt(after.as_uuid()));
    }
    query
        .all(&**tx)
        .await?
        .into_iter()
        .map(from_model)
        .collect()
}

/// Saves what a platform admin may change: status, plan, feature overrides.
pub async fn save_admin_fields(tx: &PlatformTx, shop: &Shop) -> Result<(), DbErr> {
    to_active(shop)?.update(&**tx).await.map(|_| ())
}

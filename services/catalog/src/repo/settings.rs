//! The shop's catalog settings (one row per shop, absent until first saved).

use super::entities::settings;
use mercato_db::TenantTx;
use sea_orm::sea_query::OnConflict;
use sea_orm::{DbErr, EntityTrait, Set};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CatalogSettings {
    /// Vendors' "publish" waits for the merchant's approval.
    pub require_listing_approval: bool,
    pub updated_at: Option<chrono::DateTime<chrono::Utc>>,
    pub updated_by: Option<String>,
}

pub async fn get(tx: &TenantTx) -> Result<CatalogSettings, DbErr> {
    Ok(settings::Entity::find_by_id(tx.tenant().as_uuid())
        .one(&**tx)
        .await?
        .map(|m| CatalogSettings {
            require_listing_approval: m.require_listing_approval,
            updated_at: Some(m.updated_at),
            updated_by: Some(m.updated_by),
        })
        .unwrap_or_default())
}

pub async fn save(
    tx: &TenantTx,
    require_listing_approval: bool,
    by: &str,
) -> Result<CatalogSettings, DbErr> {
    let now = crate::domain::now();
    let model = settings::ActiveModel {
        tenant_id: Set(tx.tenant().as_uuid()),
        require_listing_approval: Set(require_listing_approval),
        updated_at: Set(now),
        updated_by: Set(by.to_owned()),
    };
    settings::Entity::insert(model)
        .on_conflict(
            OnConflict::column(settings::Column::TenantId)
                .update_columns([
                    settings::Column::RequireListingApproval,
                    settings::Column::UpdatedAt,
                    settings::Column::UpdatedBy,
                ])
                .to_owned(),
        )
        .exec_without_returning(&**tx)
        .await?;
    Ok(CatalogSettings {
        require_listing_approval,
        updated_at: Some(now),
        updated_by: Some(by.to_owned()),
    })
}

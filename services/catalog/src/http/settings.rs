//! The shop's catalog settings: whether vendors' listings wait for the merchant's approval.

use super::body::Body;
use crate::CatalogState;
use crate::repo;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use mercato_kernel::Problem;
use mercato_kernel::http::Json;
use mercato_tenant_context::{Permission, TenantContext};
use serde::{Deserialize, Serialize};

pub fn router() -> Router<CatalogState> {
    Router::new().route("/api/v1/catalog/settings", get(show).put(save))
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CatalogSettingsIn {
    /// A vendor's "publish" puts the listing in review; the merchant approves or rejects it.
    /// Later, a vendor's change to what shoppers see of an active listing puts it back in
    /// review (off sale until approved again).
    pub require_listing_approval: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CatalogSettingsOut {
    pub require_listing_approval: bool,
    pub updated_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[utoipa::path(get, path = "/api/v1/catalog/settings", tag = "catalog",
    responses((status = 200, body = CatalogSettingsOut)))]
pub async fn show(
    State(state): State<CatalogState>,
    ctx: TenantContext,
) -> Result<Json<CatalogSettingsOut>, Problem> {
    let tx = state.db.tenant_read(ctx.tenant).await?;
    let settings = repo::settings::get(&tx).await?;
    Ok(Json(CatalogSettingsOut {
        require_listing_approval: settings.require_listing_approval,
        updated_at: settings.updated_at,
    }))
}

#[utoipa::path(put, path = "/api/v1/catalog/settings", tag = "catalog", request_body = CatalogSettingsIn,
    responses((status = 200, body = CatalogSettingsOut), (status = 401), (status = 403), (status = 422)))]
pub async fn save(
    State(state): State<CatalogState>,
    ctx: TenantContext,
    Body(body): Body<CatalogSettingsIn>,
) -> Result<Json<CatalogSettingsOut>, Problem> {
    ctx.require(Permission::CatalogManage)?;
    let tx = state.db.tenant_tx(ctx.tenant).await?;
    let saved =
        repo::settings::save(&tx, body.require_listing_approval, &ctx.actor.label()).await?;
    tx.commit().await?;
    Ok(Json(CatalogSettingsOut {
        require_listing_approval: saved.require_listing_approval,
        updated_at: saved.updated_at,
    }))
}

//! Internal endpoints for the gateway, never routed from outside: they require a context
//! signed with the internal key.

use crate::TenantsState;
use crate::domain::hostname::normalize_host;
use crate::domain::shop::{Shop, ShopStatus};
use crate::repo::{domains, shops};
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use mercato_kernel::Problem;
use mercato_kernel::http::{Json, Query};
use mercato_tenant_context::{PlatformContext, ShopTerms, TenantId};
use serde::{Deserialize, Serialize};

pub fn router() -> Router<TenantsState> {
    Router::new().route("/internal/v1/resolve", get(resolve))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResolveQuery {
    pub host: String,
}

/// What a host name routes to.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Resolution {
    Platform,
    Shop {
        shop_id: TenantId,
        slug: String,
        status: ShopStatus,
        terms: ShopTerms,
    },
}

impl Resolution {
    fn of(shop: Shop) -> Self {
        Resolution::Shop {
            terms: shop.plan.terms(&shop.feature_overrides),
            shop_id: shop.tenant,
            slug: shop.slug,
            status: shop.status,
        }
    }
}

pub async fn resolve(
    State(state): State<TenantsState>,
    _ctx: PlatformContext,
    Query(query): Query<ResolveQuery>,
) -> Result<Json<Resolution>, Problem> {
    let host = normalize_host(&query.host);
    let platform_domain = state.config.platform_domain.as_str();
    if host == format!("platform.{platform_domain}") {
        return Ok(Json(Resolution::Platform));
    }
    let tx = state.db.platform_read("resolve host").await?;
    let shop = match host.strip_suffix(&format!(".{platform_domain}")) {
        Some(slug) if !slug.contains('.') => shops::find_by_slug(&tx, slug).await?,
        _ => domains::verified_owner(&tx, &host).await?,
    };
    shop.map(|s| Json(Resolution::of(s)))
        .ok_or_else(Problem::not_found)
}

//! Internal endpoints for the gateway, never routed from outside: they require a context
//! signed with the internal key whose actor is the gateway itself, so a client's request
//! that reached `/internal` some other way (a proxy that normalises paths, a misrouted
//! upstream) is a 404.

use crate::TenantsState;
use crate::domain::hostname::normalize_host;
use crate::domain::shop::{Shop, ShopStatus};
use crate::repo::{domains, shops};
use axum::Router;
use axum::extract::FromRequestParts;
use axum::extract::State;
use axum::http::request::Parts;
use axum::routing::get;
use mercato_kernel::Problem;
use mercato_kernel::http::{Json, Query};
use mercato_tenant_context::{Actor, PlatformContext, ServiceName, ShopTerms, TenantId};
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
    _gateway: FromGateway,
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

/// A platform-scoped request the gateway made for itself. Anyone else (any actor the
/// gateway forwards for a client) gets a 404 before the query is even read.
pub struct FromGateway(pub PlatformContext);

impl<S: Send + Sync> FromRequestParts<S> for FromGateway {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let ctx = PlatformContext::from_request_parts(parts, state).await?;
        if ctx.actor != Actor::Service(ServiceName::Gateway) {
            return Err(Problem::not_found());
        }
        Ok(Self(ctx))
    }
}

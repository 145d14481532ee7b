//! Endpoints only the gateway calls (it never routes `/internal` from outside): checking an
//! API key in the shop the request arrived at. Each one also requires the gateway's own
//! actor in the signed context, so a client's request that reached `/internal` some other
//! way (a proxy that normalises paths, a misrouted upstream) is a 404.

use crate::IdentityState;
use crate::domain::api_keys::looks_like_key;
use crate::repo::api_keys;
use axum::Router;
use axum::extract::FromRequestParts;
use axum::extract::State;
use axum::http::request::Parts;
use axum::routing::post;
use mercato_kernel::Problem;
use mercato_kernel::http::Json;
use mercato_tenant_context::{Actor, ApiKeyId, Role, ServiceName, TenantContext};
use serde::{Deserialize, Serialize};

pub fn router() -> Router<IdentityState> {
    Router::new().route("/internal/v1/api-keys/verify", post(verify_key))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyIn {
    pub key: String,
}

#[derive(Debug, Serialize)]
pub struct VerifiedOut {
    pub key_id: ApiKeyId,
    pub role: Role,
}

/// 200 with the key's id and role when it is a live key of this shop; 404 otherwise
/// (unknown, revoked, or another shop's — which this shop's rows cannot even show), and
/// 404 for any caller but the gateway itself.
pub async fn verify_key(
    State(state): State<IdentityState>,
    FromGateway(ctx): FromGateway,
    Json(body): Json<VerifyIn>,
) -> Result<Json<VerifiedOut>, Problem> {
    if !looks_like_key(&body.key) {
        return Err(Problem::not_found());
    }
    let tx = state.db.tenant_read(ctx.tenant).await?;
    let key = api_keys::find_active_by_digest(&tx, &mercato_auth::digest(&body.key))
        .await?
        .ok_or_else(Problem::not_found)?;
    Ok(Json(VerifiedOut {
        key_id: key.id,
        role: key.role,
    }))
}

/// A shop-scoped request the gateway made for itself. Anyone else (any actor the gateway
/// forwards for a client) gets a 404 before the body is even read.
pub struct FromGateway(pub TenantContext);

impl<S: Send + Sync> FromRequestParts<S> for FromGateway {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let ctx = TenantContext::from_request_parts(parts, state).await?;
        if ctx.actor != Actor::Service(ServiceName::Gateway) {
            return Err(Problem::not_found());
        }
        Ok(Self(ctx))
    }
}

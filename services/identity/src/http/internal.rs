//! Endpoints only the gateway calls (it never routes `/internal` from outside): checking an
//! API key in the shop the request arrived at, and an account's session epoch in the realm
//! the request arrived at (ADR 0029). Each one also requires the gateway's own
//! actor in the signed context, so a client's request that reached `/internal` some other
//! way (a proxy that normalises paths, a misrouted upstream) is a 404.

use crate::IdentityState;
use crate::domain::Realm;
use crate::domain::api_keys::looks_like_key;
use crate::repo::{api_keys, users};
use axum::Router;
use axum::extract::FromRequestParts;
use axum::extract::{Path, State};
use axum::http::request::Parts;
use axum::routing::{get, post};
use mercato_kernel::Problem;
use mercato_kernel::http::Json;
use mercato_tenant_context::{
    Actor, AdminId, ApiKeyId, RequestContext, Role, ServiceName, TenantContext, UserId,
};
use serde::{Deserialize, Serialize};

pub fn router() -> Router<IdentityState> {
    Router::new()
        .route("/internal/v1/api-keys/verify", post(verify_key))
        .route("/internal/v1/sessions/{account_id}", get(session))
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

/// An account's current session standing, as the gateway caches it.
#[derive(Debug, Serialize)]
pub struct SessionOut {
    /// Access tokens issued with an older epoch are no longer good.
    pub session_epoch: u64,
    /// False once the account is disabled: none of its tokens is good.
    pub active: bool,
}

/// 200 with the session epoch of a shop's user (`usr_…`, on the shop's realm) or a platform
/// admin (`adm_…`, on the platform); 404 for unknown accounts and any caller but the
/// gateway itself.
pub async fn session(
    State(state): State<IdentityState>,
    ctx: RequestContext,
    Path(account): Path<String>,
) -> Result<Json<SessionOut>, Problem> {
    if ctx.actor != Actor::Service(ServiceName::Gateway) {
        return Err(Problem::not_found());
    }
    let realm = Realm::from(ctx.scope);
    let id = match realm {
        Realm::Shop(_) => account.parse::<UserId>().ok(),
        Realm::Platform => account
            .parse::<AdminId>()
            .ok()
            .map(|id| UserId::from_uuid(id.as_uuid())),
    }
    .ok_or_else(Problem::not_found)?;
    let tx = state.db.tenant_read(realm.storage_tenant()).await?;
    let (session_epoch, active) = users::session_epoch(&tx, id)
        .await?
        .ok_or_else(Problem::not_found)?;
    Ok(Json(SessionOut {
        session_epoch,
        active,
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

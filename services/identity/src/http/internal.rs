//! Endpoints only the gateway calls (it never routes `/internal` from outside): checking an
//! API key in the shop the request arrived at.

use crate::IdentityState;
use crate::domain::api_keys::looks_like_key;
use crate::repo::api_keys;
use axum::Router;
use axum::extract::State;
use axum::routing::post;
use mercato_kernel::Problem;
use mercato_kernel::http::Json;
use mercato_tenant_context::{ApiKeyId, Role, TenantContext};
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
/// (unknown, revoked, or another shop's — which this shop's rows cannot even show).
pub async fn verify_key(
    State(state): State<IdentityState>,
    ctx: TenantContext,
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

//! Integration API keys: created by the shop's admins when the plan has the `api_keys`
//! feature, shown once, listed without secrets, revoked at any time.

use super::{acting_role, actor_label, refused};
use crate::IdentityState;
use crate::domain::api_keys::{KEY_PREFIX, display_prefix, parse_key_role, parse_name};
use crate::domain::staff::{check_grant, role_code};
use crate::problems::IdentityProblem;
use crate::repo::api_keys::{self, ApiKey};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, post};
use mercato_kernel::http::{Json, Query, path_id};
use mercato_kernel::{FieldError, ListQuery, ListResponse, Problem};
use mercato_tenant_context::{Actor, ApiKeyId, Permission, TenantContext};
use serde::{Deserialize, Serialize};

pub fn router() -> Router<IdentityState> {
    Router::new()
        .route("/api/v1/api-keys", post(create).get(list))
        .route("/api/v1/api-keys/{key_id}", delete(revoke))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyIn {
    /// What the key is for, e.g. `ERP sync`.
    pub name: String,
    /// admin or staff: what the key may do.
    pub role: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ApiKeyOut {
    pub id: ApiKeyId,
    pub name: String,
    pub role: String,
    /// The key's first characters, to recognise it.
    pub prefix: String,
    pub created_by: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub revoked_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl From<ApiKey> for ApiKeyOut {
    fn from(k: ApiKey) -> Self {
        Self {
            id: k.id,
            role: role_code(k.role).to_owned(),
            name: k.name,
            prefix: k.prefix,
            created_by: k.created_by,
            created_at: k.created_at,
            revoked_at: k.revoked_at,
        }
    }
}

/// A new key, with its secret: shown this once, never again.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ApiKeyCreated {
    pub id: ApiKeyId,
    pub name: String,
    pub role: String,
    pub prefix: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// `mk_…`: send it as `Authorization: Bearer <key>`. Store it now; it cannot be shown again.
    pub key: String,
}

/// Keys are managed by people: a key that could mint keys would outlive its own revocation.
fn by_a_person(ctx: &TenantContext) -> Result<(), Problem> {
    match ctx.actor {
        Actor::ApiKey(_) => Err(Problem::forbidden(
            "API keys are managed by signed-in staff, not with an API key",
        )),
        _ => Ok(()),
    }
}

#[utoipa::path(post, path = "/api/v1/api-keys", tag = "api_keys", request_body = ApiKeyIn,
    responses((status = 201, body = ApiKeyCreated), (status = 403, description = "`feature_disabled` on plans without API keys, or not allowed"),
        (status = 422)))]
pub async fn create(
    State(state): State<IdentityState>,
    ctx: TenantContext,
    Json(body): Json<ApiKeyIn>,
) -> Result<(StatusCode, Json<ApiKeyCreated>), Problem> {
    ctx.require(Permission::ApiKeysManage)?;
    by_a_person(&ctx)?;
    if !ctx.terms.has("api_keys") {
        return Err(
            Problem::from(IdentityProblem::FeatureDisabled).with_detail(format!(
                "API keys are not part of the {} plan",
                ctx.terms.plan
            )),
        );
    }
    let name = parse_name(&body.name);
    let role = parse_key_role(&body.role);
    let mut errors = Vec::new();
    if let Err(m) = &name {
        errors.push(FieldError::new("/name", *m));
    }
    if role.is_none() {
        errors.push(FieldError::new("/role", "admin or staff"));
    }
    let (Ok(name), Some(role)) = (name, role) else {
        return Err(Problem::validation(errors));
    };
    let tx = state.db.tenant_tx(ctx.tenant).await?;
    let actor = acting_role(&tx, &ctx, Permission::ApiKeysManage).await?;
    check_grant(actor, role).map_err(refused)?;
    let secret = mercato_auth::OpaqueSecret::generate(KEY_PREFIX);
    let key = api_keys::insert(
        &tx,
        &name,
        role,
        &secret.digest,
        &display_prefix(&secret.text),
        actor_label(ctx.actor),
    )
    .await?;
    crate::events::api_key_created(&*tx, ctx.tenant, &key).await?;
    tx.commit().await?;
    state.outbox.notify_one();
    Ok((
        StatusCode::CREATED,
        Json(ApiKeyCreated {
            id: key.id,
            name: key.name,
            role: role_code(key.role).to_owned(),
            prefix: key.prefix,
            created_at: key.created_at,
            key: secret.text,
        }),
    ))
}

#[utoipa::path(get, path = "/api/v1/api-keys", tag = "api_keys", params(ListQuery),
    responses((status = 200, body = ListResponse<ApiKeyOut>), (status = 403)))]
pub async fn list(
    State(state): State<IdentityState>,
    ctx: TenantContext,
    Query(query): Query<ListQuery>,
) -> Result<Json<ListResponse<ApiKeyOut>>, Problem> {
    ctx.require(Permission::ApiKeysManage)?;
    by_a_person(&ctx)?;
    let (limit, cursor) = query.page::<ApiKeyId>()?;
    let tx = state.db.tenant_read(ctx.tenant).await?;
    let rows = api_keys::list(&tx, cursor, limit + 1).await?;
    let rows = rows.into_iter().map(ApiKeyOut::from).collect();
    Ok(Json(ListResponse::from_overfetch(rows, limit, |k| {
        k.id.to_string()
    })))
}

#[utoipa::path(delete, path = "/api/v1/api-keys/{key_id}", tag = "api_keys",
    params(("key_id" = String, Path, description = "`key_…`")),
    responses((status = 204, description = "revoked; requests with it now get 401"), (status = 404)))]
pub async fn revoke(
    State(state): State<IdentityState>,
    ctx: TenantContext,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    ctx.require(Permission::ApiKeysManage)?;
    by_a_person(&ctx)?;
    let id: ApiKeyId = path_id(&id)?;
    let tx = state.db.tenant_tx(ctx.tenant).await?;
    let key = api_keys::find(&tx, id)
        .await?
        .ok_or_else(Problem::not_found)?;
    // Revoking twice is not an error, and publishes nothing new.
    if api_keys::revoke(&tx, key.id).await? {
        crate::events::api_key_revoked(&*tx, ctx.tenant, key.id, actor_label(ctx.actor)).await?;
        tx.commit().await?;
        state.outbox.notify_one();
    }
    Ok(StatusCode::NO_CONTENT)
}

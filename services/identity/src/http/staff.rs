//! A shop's merchant staff: who they are, changing their roles, removing them. A shop always
//! keeps an active owner.

use super::{acting_role, actor_label, refused};
use crate::IdentityState;
use crate::app::sessions::{Reason, end_sessions, settle_keys};
use crate::domain::AccountRole;
use crate::domain::staff::{check_removal, check_role_change, parse_staff_role, role_code};
use crate::repo::tokens;
use crate::repo::users::{self, User};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, patch};
use mercato_db::TenantTx;
use mercato_kernel::http::{Json, Query, path_id};
use mercato_kernel::{ListQuery, ListResponse, Problem};
use mercato_tenant_context::{Permission, Role, TenantContext, UserId};
use serde::{Deserialize, Serialize};

pub fn router() -> Router<IdentityState> {
    Router::new()
        .route("/api/v1/staff", get(list))
        .route("/api/v1/staff/{user_id}", patch(update).delete(remove))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StaffOut {
    pub id: UserId,
    pub email: String,
    pub name: Option<String>,
    /// owner, admin or staff.
    pub role: String,
    /// active, or disabled once removed.
    pub status: &'static str,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<User> for StaffOut {
    fn from(u: User) -> Self {
        Self {
            id: u.id,
            role: u.role.code().to_owned(),
            status: if u.active { "active" } else { "disabled" },
            email: u.email,
            name: u.name,
            created_at: u.created_at,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffPatch {
    /// owner, admin or staff.
    pub role: String,
}

#[utoipa::path(get, path = "/api/v1/staff", tag = "staff", params(ListQuery),
    responses((status = 200, body = ListResponse<StaffOut>), (status = 401), (status = 403)))]
pub async fn list(
    State(state): State<IdentityState>,
    ctx: TenantContext,
    Query(query): Query<ListQuery>,
) -> Result<Json<ListResponse<StaffOut>>, Problem> {
    ctx.require(Permission::UsersRead)?;
    let (limit, cursor) = query.page::<UserId>()?;
    let tx = state.db.tenant_read(ctx.tenant).await?;
    let rows = users::list_staff(&tx, cursor, limit + 1).await?;
    let rows = rows.into_iter().map(StaffOut::from).collect();
    Ok(Json(ListResponse::from_overfetch(rows, limit, |s| {
        s.id.to_string()
    })))
}

/// An active staff member of this shop, with their role; anyone else is a 404.
async fn member(tx: &TenantTx, id: &str) -> Result<(User, Role), Problem> {
    let user = users::find(tx, path_id(id)?)
        .await?
        .filter(|u| u.active)
        .ok_or_else(Problem::not_found)?;
    let role = user.role.staff_role().ok_or_else(Problem::not_found)?;
    Ok((user, role))
}

#[utoipa::path(patch, path = "/api/v1/staff/{user_id}", tag = "staff",
    params(("user_id" = String, Path, description = "`usr_…`")), request_body = StaffPatch,
    responses((status = 200, body = StaffOut, description = "role changed; the member's access tokens end (their refresh tokens mint ones with the new role), and their API keys above the new role are cut down to it"),
        (status = 403, description = "above the caller's role"), (status = 404),
        (status = 409, description = "`last_owner`: the shop must keep an owner"), (status = 422)))]
pub async fn update(
    State(state): State<IdentityState>,
    ctx: TenantContext,
    Path(id): Path<String>,
    Json(body): Json<StaffPatch>,
) -> Result<Json<StaffOut>, Problem> {
    ctx.require(Permission::StaffManage)?;
    let new = parse_staff_role(&body.role)
        .ok_or_else(|| Problem::invalid_field("/role", "one of owner, admin, staff"))?;
    let tx = state.db.tenant_tx(ctx.tenant).await?;
    users::lock_staff(&tx).await?;
    let actor = acting_role(&tx, &ctx, Permission::StaffManage).await?;
    let (user, current) = member(&tx, &id).await?;
    let owners = users::count_active_owners(&tx).await?;
    check_role_change(actor, current, new, owners).map_err(refused)?;
    if new == current {
        return Ok(Json(user.into()));
    }
    users::set_membership(&tx, user.id, AccountRole::Shop(new), true).await?;
    // Tokens carry the role: the old ones go, refresh tokens mint ones with the new role.
    end_sessions(&tx, user.id, Reason::RoleChanged).await?;
    let keys = settle_keys(&tx, user.id, Some(new), actor_label(ctx.actor)).await?;
    crate::events::staff_role_changed(
        &*tx,
        ctx.tenant,
        user.id,
        current,
        new,
        actor_label(ctx.actor),
    )
    .await?;
    tx.commit().await?;
    state.outbox.notify_one();
    tracing::info!(user_id = %user.id, from = role_code(current), to = role_code(new), keys_cut_down = keys.cut_down, "staff role changed");
    Ok(Json(
        User {
            role: AccountRole::Shop(new),
            ..user
        }
        .into(),
    ))
}

#[utoipa::path(delete, path = "/api/v1/staff/{user_id}", tag = "staff",
    params(("user_id" = String, Path, description = "`usr_…`")),
    responses((status = 204, description = "account disabled, sessions ended (access tokens too, within seconds), API keys they created revoked"), (status = 403), (status = 404),
        (status = 409, description = "`last_owner`: the shop must keep an owner")))]
pub async fn remove(
    State(state): State<IdentityState>,
    ctx: TenantContext,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    ctx.require(Permission::StaffManage)?;
    let tx = state.db.tenant_tx(ctx.tenant).await?;
    users::lock_staff(&tx).await?;
    let actor = acting_role(&tx, &ctx, Permission::StaffManage).await?;
    let (user, current) = member(&tx, &id).await?;
    let owners = users::count_active_owners(&tx).await?;
    check_removal(actor, current, owners).map_err(refused)?;
    users::set_membership(&tx, user.id, user.role, false).await?;
    let ended = tokens::revoke_all_for_user(&tx, user.id).await?;
    end_sessions(&tx, user.id, Reason::Removed).await?;
    let keys = settle_keys(&tx, user.id, None, actor_label(ctx.actor)).await?;
    crate::events::staff_removed(&*tx, ctx.tenant, user.id, current, actor_label(ctx.actor))
        .await?;
    tx.commit().await?;
    state.outbox.notify_one();
    tracing::info!(user_id = %user.id, sessions_ended = ended, keys_revoked = keys.revoked, "staff member removed");
    Ok(StatusCode::NO_CONTENT)
}

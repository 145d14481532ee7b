//! Vendor staff: a vendor's owner and managers invite people by email with a vendor role
//! (owner, manager, staff); the invitee accepts with the mailed code, with a new account or
//! the one they have in the shop. Memberships are identity's; tokens carry them (ADR 0010).

use super::auth::{TokensOut, start_session};
use super::{actor_label, check_new_password, invalid_token};
use crate::IdentityState;
use crate::domain::{AccountRole, Email, Realm};
use crate::mail::{self, letters};
use crate::problems::IdentityProblem;
use crate::repo::users::{self, User};
use crate::repo::{vendor_invitations, vendor_members};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use mercato_kernel::http::{Json, Query, path_id};
use mercato_kernel::{Checks, Problem};
use mercato_tenant_context::{
    Permission, Role, TenantContext, UserId, VendorId, VendorPermission, VendorRole,
};
use serde::{Deserialize, Serialize};

pub fn router() -> Router<IdentityState> {
    Router::new()
        .route("/api/v1/vendor-staff", get(list))
        .route("/api/v1/vendor-staff/invitations", post(invite))
        .route("/api/v1/vendor-staff/{vendor_id}/{user_id}", delete(remove))
        .route("/api/v1/auth/vendor-invitations/accept", post(accept))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VendorInvitationIn {
    pub vendor_id: String,
    pub email: String,
    /// owner, manager or staff; at most what the inviter may grant.
    pub role: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VendorInvitationOut {
    pub id: String,
    pub vendor_id: VendorId,
    pub email: String,
    pub role: VendorRole,
    pub expires_at: chrono::DateTime<chrono::Utc>,
    pub created_by: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<vendor_invitations::VendorInvitation> for VendorInvitationOut {
    fn from(i: vendor_invitations::VendorInvitation) -> Self {
        Self {
            id: i.id.to_string(),
            vendor_id: i.vendor,
            email: i.email,
            role: i.role,
            expires_at: i.expires_at,
            created_by: i.created_by,
            created_at: i.created_at,
        }
    }
}

/// The caller's role at `vendor`, from identity's own records (the token may be older than
/// a membership); 404 when they have none, so vendors are not probed.
async fn acting_vendor_role(
    tx: &mercato_db::TenantTx,
    ctx: &TenantContext,
    vendor: VendorId,
) -> Result<VendorRole, Problem> {
    let user = ctx.user()?;
    vendor_members::role_of(tx, user, vendor)
        .await?
        .ok_or_else(Problem::not_found)
}

#[utoipa::path(post, path = "/api/v1/vendor-staff/invitations", tag = "vendor_staff", request_body = VendorInvitationIn,
    responses((status = 201, body = VendorInvitationOut), (status = 403, description = "the role is above what the inviter may grant"),
        (status = 404, description = "not staff of this vendor"), (status = 409, description = "already a member, or invited"), (status = 422)))]
pub async fn invite(
    State(state): State<IdentityState>,
    ctx: TenantContext,
    Json(body): Json<VendorInvitationIn>,
) -> Result<(StatusCode, Json<VendorInvitationOut>), Problem> {
    let mut checks = Checks::default();
    let vendor = path_id::<VendorId>(&body.vendor_id);
    checks.field(
        "/vendor_id",
        vendor
            .as_ref()
            .map(|_| ())
            .map_err(|_| "a vendor id (ven_…)"),
    );
    let email = Email::parse(&body.email);
    checks.field("/email", email.as_ref().map(|_| ()).map_err(|m| *m));
    let role = VendorRole::parse(&body.role);
    checks.field(
        "/role",
        role.map(|_| ()).ok_or("one of owner, manager, staff"),
    );
    checks.finish()?;
    let (Ok(vendor), Ok(email), Some(role)) = (vendor, email, role) else {
        return Err(Problem::invalid_field("/", "invalid"));
    };

    let tx = state.db.tenant_tx(ctx.tenant).await?;
    let inviter = acting_vendor_role(&tx, &ctx, vendor).await?;
    if !inviter.grants(VendorPermission::StaffManage) || !inviter.may_grant(role) {
        return Err(Problem::forbidden(format!(
            "a vendor {} cannot invite a {}",
            inviter.code(),
            role.code()
        )));
    }
    if let Some(user) = users::find_by_email(&tx, &email).await?
        && vendor_members::role_of(&tx, user.id, vendor)
            .await?
            .is_some()
    {
        return Err(Problem::of(
            IdentityProblem::AlreadyMember,
            "this person works for the vendor already",
        ));
    }
    if vendor_invitations::pending_for(&tx, vendor, email.as_str()).await? {
        return Err(Problem::of(
            IdentityProblem::AlreadyInvited,
            "an invitation for this email is pending",
        ));
    }
    let secret = mercato_auth::OpaqueSecret::generate("mvi_");
    let created_by = actor_label(ctx.actor).unwrap_or_default();
    let invitation = vendor_invitations::insert(
        &tx,
        vendor,
        email.as_str(),
        role,
        &secret.digest,
        &created_by,
    )
    .await?;
    let letter = letters::vendor_invitation(role.code(), &secret.text);
    let mail = mail::queue(&tx, email.as_str(), &letter.subject, &letter.body).await?;
    mercato_events::publish(
        &*tx,
        "vendor_staff.invited",
        ctx.tenant,
        &serde_json::json!({
            "vendor_id": vendor, "email": email.as_str(), "role": role.code(),
            "invited_by": created_by, "expires_at": invitation.expires_at,
        }),
    )
    .await?;
    tx.commit().await?;
    state.outbox.notify_one();
    state.mail.dispatch(ctx.tenant, vec![mail]);
    Ok((StatusCode::CREATED, Json(invitation.into())))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct VendorStaffQuery {
    pub vendor_id: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VendorMemberOut {
    pub user_id: UserId,
    pub email: String,
    pub name: Option<String>,
    pub role: VendorRole,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VendorStaffOut {
    pub data: Vec<VendorMemberOut>,
    /// Pending invitations (for the vendor's owner and managers).
    pub invitations: Vec<VendorInvitationOut>,
}

#[utoipa::path(get, path = "/api/v1/vendor-staff", tag = "vendor_staff", params(VendorStaffQuery),
    responses((status = 200, body = VendorStaffOut), (status = 404)))]
pub async fn list(
    State(state): State<IdentityState>,
    ctx: TenantContext,
    Query(query): Query<VendorStaffQuery>,
) -> Result<Json<VendorStaffOut>, Problem> {
    let vendor: VendorId = path_id(&query.vendor_id)
        .map_err(|_| Problem::invalid_field("/vendor_id", "a vendor id (ven_…)"))?;
    let tx = state.db.tenant_read(ctx.tenant).await?;
    let members = vendor_members::of_vendor(&tx, vendor).await?;
    let caller = match ctx.user() {
        Ok(user) => members.iter().find(|(u, _)| *u == user).map(|(_, r)| *r),
        Err(_) => None,
    };
    let merchant = ctx.can(Permission::VendorsRead);
    // A vendor with no members is not one this shop knows.
    if members.is_empty() || (caller.is_none() && !merchant) {
        return Err(Problem::not_found());
    }
    let mut data = Vec::with_capacity(members.len());
    for (user_id, role) in members {
        if let Some(user) = users::find(&tx, user_id).await? {
            data.push(VendorMemberOut {
                user_id,
                email: user.email,
                name: user.name,
                role,
            });
        }
    }
    let now = chrono::Utc::now();
    let invitations = if merchant || caller.is_some_and(|r| r.grants(VendorPermission::StaffManage))
    {
        vendor_invitations::list(&tx, vendor)
            .await?
            .into_iter()
            .filter(|i| i.is_pending(now))
            .map(Into::into)
            .collect()
    } else {
        Vec::new()
    };
    Ok(Json(VendorStaffOut { data, invitations }))
}

#[utoipa::path(delete, path = "/api/v1/vendor-staff/{vendor_id}/{user_id}", tag = "vendor_staff",
    params(("vendor_id" = String, Path), ("user_id" = String, Path)),
    responses((status = 204, description = "removed; the member's access tokens end within seconds (a refresh mints one without the membership)"),
        (status = 403), (status = 404), (status = 409, description = "the vendor's last owner")))]
pub async fn remove(
    State(state): State<IdentityState>,
    ctx: TenantContext,
    Path((vendor, user)): Path<(String, String)>,
) -> Result<StatusCode, Problem> {
    let vendor: VendorId = path_id(&vendor)?;
    let target: UserId = path_id(&user)?;
    let tx = state.db.tenant_tx(ctx.tenant).await?;
    let remover = acting_vendor_role(&tx, &ctx, vendor).await?;
    let members = vendor_members::of_vendor(&tx, vendor).await?;
    let target_role = members
        .iter()
        .find(|(u, _)| *u == target)
        .map(|(_, r)| *r)
        .ok_or_else(Problem::not_found)?;
    let leaving = ctx.user()? == target;
    if !leaving
        && (!remover.grants(VendorPermission::StaffManage) || !remover.may_grant(target_role))
    {
        return Err(Problem::forbidden(format!(
            "a vendor {} cannot remove a {}",
            remover.code(),
            target_role.code()
        )));
    }
    let owners = members
        .iter()
        .filter(|(_, r)| *r == VendorRole::Owner)
        .count();
    if target_role == VendorRole::Owner && owners <= 1 {
        return Err(Problem::of(
            IdentityProblem::LastOwner,
            "a vendor always keeps an owner; make someone else owner first",
        ));
    }
    vendor_members::remove(&tx, target, vendor).await?;
    // Tokens carry memberships: the member's current ones go; a refresh mints new ones.
    crate::app::sessions::end_sessions(
        &tx,
        target,
        crate::app::sessions::Reason::VendorMembershipChanged,
    )
    .await?;
    mercato_events::publish(
        &*tx,
        crate::events::VENDOR_STAFF_REMOVED,
        ctx.tenant,
        &crate::events::VendorStaffRemoved {
            vendor_id: vendor,
            user_id: target,
            role: target_role.code().to_owned(),
            removed_by: actor_label(ctx.actor),
        },
    )
    .await?;
    tx.commit().await?;
    state.outbox.notify_one();
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VendorAcceptIn {
    /// The code from the invitation mail (`mvi_…`).
    #[schema(pattern = "^mvi_")]
    pub token: String,
    /// A new password (10 to 128 characters), or the current password of the account this
    /// email already has in the shop.
    #[schema(min_length = 10, max_length = 128)]
    pub password: String,
    /// For a new account: 1 to 100 characters, not blank.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 100, pattern = "\\S")]
    pub name: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/auth/vendor-invitations/accept", tag = "auth", request_body = VendorAcceptIn,
    responses((status = 201, body = TokensOut, description = "joined the vendor; signed in, the token carries the membership"),
        (status = 400, description = "`invalid_token`"), (status = 401, description = "the account's password is not right"),
        (status = 422), (status = 503, description = "`busy`: too many passwords being checked at once; see `Retry-After`")))]
pub async fn accept(
    State(state): State<IdentityState>,
    ctx: TenantContext,
    Json(body): Json<VendorAcceptIn>,
) -> Result<(StatusCode, Json<TokensOut>), Problem> {
    let name = match body.name.as_deref().map(str::trim) {
        Some(n) if n.is_empty() || n.chars().count() > 100 => {
            return Err(Problem::invalid_field("/name", "1-100 characters"));
        }
        other => other.map(str::to_owned),
    };
    let digest = mercato_auth::digest(&body.token);
    let tx = state.db.tenant_read(ctx.tenant).await?;
    let invitation = vendor_invitations::find_usable(&tx, &digest)
        .await?
        .ok_or_else(invalid_token)?;
    let email = Email::parse(&invitation.email).map_err(|_| invalid_token())?;
    let existing = users::find_by_email(&tx, &email).await?;
    drop(tx);
    // Passwords are hashed or checked outside any transaction.
    let new_hash = match &existing {
        Some(user) => {
            if !user.active
                || !state
                    .hashing
                    .verify(body.password, user.password_hash.clone())
                    .await?
            {
                return Err(Problem::unauthorized(
                    "an account with this email exists in this shop: give its current password",
                ));
            }
            None
        }
        None => {
            check_new_password(&body.password)?;
            Some(state.hashing.hash(body.password).await?)
        }
    };

    let tx = state.db.tenant_tx(ctx.tenant).await?;
    if !vendor_invitations::mark_used(&tx, invitation.id).await? {
        return Err(invalid_token());
    }
    let user = match (existing, new_hash) {
        (Some(seen), _) => users::find(&tx, seen.id)
            .await?
            .filter(|now| *now == seen)
            .ok_or_else(|| {
                Problem::of(
                    IdentityProblem::AccountChanged,
                    "the account changed while joining; try again",
                )
            })?,
        (None, Some(phc)) => {
            let user = User {
                id: UserId::new(),
                email: email.as_str().to_owned(),
                name,
                password_hash: phc,
                role: AccountRole::Shop(Role::Customer),
                active: true,
                created_at: chrono::Utc::now(),
            };
            users::insert(&tx, &user).await.map_err(|e| {
                if mercato_db::is_unique_violation(&e) {
                    Problem::of(
                        IdentityProblem::AccountChanged,
                        "the account changed while joining; try again",
                    )
                } else {
                    e.into()
                }
            })?;
            crate::events::user_registered(&*tx, ctx.tenant, &user).await?;
            user
        }
        (None, None) => return Err(invalid_token()),
    };
    vendor_members::upsert(&tx, user.id, invitation.vendor, invitation.role).await?;
    mercato_events::publish(
        &*tx,
        "vendor_staff.joined",
        ctx.tenant,
        &serde_json::json!({
            "vendor_id": invitation.vendor, "user_id": user.id, "role": invitation.role.code(),
        }),
    )
    .await?;
    let tokens = start_session(&state, &tx, Realm::Shop(ctx.tenant), &user).await?;
    tx.commit().await?;
    state.outbox.notify_one();
    Ok((StatusCode::CREATED, Json(tokens)))
}

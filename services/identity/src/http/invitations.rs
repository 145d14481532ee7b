//! Staff invitations: a merchant invites someone by email with a role; the invitee accepts
//! with the mailed code, creating an account or joining with the one they have.

use super::auth::{TokensOut, start_session};
use super::{acting_role, actor_label, check_new_password, invalid_token, refused};
use crate::IdentityState;
use crate::domain::one_time::{InvitationId, Purpose, TokenStatus};
use crate::domain::staff::{check_grant, parse_staff_role, role_code};
use crate::domain::{AccountRole, Email, Realm};
use crate::invitations::{self, Invite, InviteError};
use crate::problems::IdentityProblem;
use crate::repo::one_time::{self, OneTimeToken};
use crate::repo::users::{self, User};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, post};
use mercato_kernel::http::{Json, Query, path_id};
use mercato_kernel::{FieldError, ListQuery, ListResponse, Problem};
use mercato_tenant_context::{Permission, TenantContext, UserId};
use serde::{Deserialize, Serialize};

pub fn router() -> Router<IdentityState> {
    Router::new()
        .route("/api/v1/staff/invitations", post(create).get(list))
        .route("/api/v1/staff/invitations/{invitation_id}", delete(revoke))
        .route("/api/v1/auth/invitations/accept", post(accept))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvitationIn {
    pub email: String,
    /// owner, admin or staff; at most the inviter's own role.
    pub role: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct InvitationOut {
    pub id: InvitationId,
    pub email: String,
    pub role: String,
    pub status: TokenStatus,
    /// `usr_…` or `key_…` of the inviter; null when the platform invited (a new shop's owner).
    pub invited_by: Option<String>,
    pub expires_at: chrono::DateTime<chrono::Utc>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<OneTimeToken> for InvitationOut {
    fn from(t: OneTimeToken) -> Self {
        Self {
            id: InvitationId::from_uuid(t.id),
            status: t.status(chrono::Utc::now()),
            role: t.role.map(role_code).unwrap_or_default().to_owned(),
            email: t.email,
            invited_by: t.created_by,
            expires_at: t.expires_at,
            created_at: t.created_at,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptIn {
    /// The code from the invitation mail (`mit_…`).
    #[schema(pattern = "^mit_")]
    pub token: String,
    /// A new password (10 to 128 characters), or the current password of the account this
    /// email already has in the shop.
    #[schema(min_length = 10, max_length = 128)]
    pub password: String,
    /// For a new account: 1 to 100 characters, not blank.
    #[schema(min_length = 1, max_length = 100, pattern = "\\S")]
    pub name: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/staff/invitations", tag = "staff", request_body = InvitationIn,
    responses((status = 201, body = InvitationOut), (status = 402, description = "`plan_limit_exceeded`: no staff seat left"),
        (status = 403, description = "the role is above the inviter's"), (status = 409, description = "already staff or invited"),
        (status = 422)))]
pub async fn create(
    State(state): State<IdentityState>,
    ctx: TenantContext,
    Json(body): Json<InvitationIn>,
) -> Result<(StatusCode, Json<InvitationOut>), Problem> {
    ctx.require(Permission::StaffManage)?;
    let email = Email::parse(&body.email);
    let role = parse_staff_role(&body.role);
    let mut errors = Vec::new();
    if let Err(m) = &email {
        errors.push(FieldError::new("/email", *m));
    }
    if role.is_none() {
        errors.push(FieldError::new("/role", "one of owner, admin, staff"));
    }
    let (Ok(email), Some(role)) = (email, role) else {
        return Err(Problem::validation(errors));
    };
    let tx = state.db.tenant_tx(ctx.tenant).await?;
    let actor = acting_role(&tx, &ctx, Permission::StaffManage).await?;
    check_grant(actor, role).map_err(refused)?;
    let invite = Invite {
        email: &email,
        role,
        created_by: actor_label(ctx.actor),
        seat_limit: Some(ctx.terms.limits.staff_seats),
        shop: None,
    };
    let issued = invitations::issue(&tx, invite).await.map_err(|e| match e {
        InviteError::AlreadyStaff => Problem::of(
            IdentityProblem::AlreadyStaff,
            "an active staff account has this email; change its role instead",
        ),
        InviteError::AlreadyInvited => Problem::of(
            IdentityProblem::AlreadyInvited,
            "an invitation for this email is pending; revoke it to send a new one",
        ),
        InviteError::NoSeat { limit } => Problem::limit_exceeded(format!(
            "the {} plan allows {limit} staff seat(s), pending invitations included",
            ctx.terms.plan
        )),
        InviteError::Db(e) => e.into(),
    })?;
    tx.commit().await?;
    state.outbox.notify_one();
    state.mail.dispatch(ctx.tenant, vec![issued.mail]);
    Ok((StatusCode::CREATED, Json(issued.invitation.into())))
}

#[utoipa::path(get, path = "/api/v1/staff/invitations", tag = "staff", params(ListQuery),
    responses((status = 200, body = ListResponse<InvitationOut>), (status = 403)))]
pub async fn list(
    State(state): State<IdentityState>,
    ctx: TenantContext,
    Query(query): Query<ListQuery>,
) -> Result<Json<ListResponse<InvitationOut>>, Problem> {
    ctx.require(Permission::StaffManage)?;
    let (limit, cursor) = query.page::<InvitationId>()?;
    let tx = state.db.tenant_read(ctx.tenant).await?;
    let rows = one_time::list_invitations(&tx, cursor.map(|c| c.as_uuid()), limit + 1).await?;
    let rows = rows.into_iter().map(InvitationOut::from).collect();
    Ok(Json(ListResponse::from_overfetch(rows, limit, |i| {
        i.id.to_string()
    })))
}

#[utoipa::path(delete, path = "/api/v1/staff/invitations/{invitation_id}", tag = "staff",
    params(("invitation_id" = String, Path, description = "`inv_…`")),
    responses((status = 204), (status = 404), (status = 409, description = "accepted already")))]
pub async fn revoke(
    State(state): State<IdentityState>,
    ctx: TenantContext,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    ctx.require(Permission::StaffManage)?;
    let id: InvitationId = path_id(&id)?;
    let tx = state.db.tenant_tx(ctx.tenant).await?;
    let invitation = one_time::find_invitation(&tx, id.as_uuid())
        .await?
        .ok_or_else(Problem::not_found)?;
    let actor = acting_role(&tx, &ctx, Permission::StaffManage).await?;
    if let Some(role) = invitation.role {
        check_grant(actor, role).map_err(refused)?;
    }
    match invitation.status(chrono::Utc::now()) {
        TokenStatus::Accepted => Err(Problem::of(
            IdentityProblem::InvitationAccepted,
            "this invitation was accepted; remove the staff member instead",
        )),
        TokenStatus::Revoked => Ok(StatusCode::NO_CONTENT),
        TokenStatus::Pending | TokenStatus::Expired => {
            one_time::revoke(&tx, invitation.id).await?;
            tx.commit().await?;
            Ok(StatusCode::NO_CONTENT)
        }
    }
}

fn check_name(name: Option<&str>) -> Result<Option<String>, Problem> {
    match name.map(str::trim) {
        None => Ok(None),
        Some(n) if n.is_empty() || n.chars().count() > 100 => {
            Err(Problem::invalid_field("/name", "1-100 characters"))
        }
        Some(n) => Ok(Some(n.to_owned())),
    }
}

/// How the invitee joins: a new account, or the one the email has in this shop.
enum Joining {
    New { phc: String },
    Existing(User),
}

#[utoipa::path(post, path = "/api/v1/auth/invitations/accept", tag = "auth", request_body = AcceptIn,
    responses((status = 201, body = TokensOut, description = "joined; signed in"),
        (status = 400, description = "`invalid_token`: unknown, expired, used or revoked code"),
        (status = 401, description = "the email has an account here and the password is not its password"),
        (status = 409, description = "the account is staff already"), (status = 422),
        (status = 503, description = "`busy`: too many passwords being checked at once; see `Retry-After`")))]
pub async fn accept(
    State(state): State<IdentityState>,
    ctx: TenantContext,
    Json(body): Json<AcceptIn>,
) -> Result<(StatusCode, Json<TokensOut>), Problem> {
    let name = check_name(body.name.as_deref())?;
    let digest = mercato_auth::digest(&body.token);
    // Read first, then hash or verify the password outside any transaction.
    let tx = state.db.tenant_read(ctx.tenant).await?;
    let invitation = one_time::find_usable(&tx, Purpose::Invitation, &digest)
        .await?
        .ok_or_else(invalid_token)?;
    let role = invitation.role.ok_or_else(invalid_token)?;
    let email = Email::parse(&invitation.email).map_err(|_| invalid_token())?;
    let existing = users::find_by_email(&tx, &email).await?;
    drop(tx);
    let joining = match existing {
        Some(user) if user.active && user.role.staff_role().is_some() => {
            return Err(Problem::of(
                IdentityProblem::AlreadyStaff,
                "this account is staff already",
            ));
        }
        Some(user) => {
            if !state
                .hashing
                .verify(body.password, user.password_hash.clone())
                .await?
            {
                return Err(Problem::unauthorized(
                    "an account with this email exists in this shop: give its current password",
                ));
            }
            Joining::Existing(user)
        }
        None => {
            check_new_password(&body.password)?;
            Joining::New {
                phc: state.hashing.hash(body.password).await?,
            }
        }
    };

    let tx = state.db.tenant_tx(ctx.tenant).await?;
    if !one_time::mark_used(&tx, invitation.id).await? {
        return Err(invalid_token());
    }
    let changed = || {
        Problem::of(
            IdentityProblem::AccountChanged,
            "the account changed while joining; try again",
        )
    };
    let (user, existing_account) = match joining {
        Joining::New { phc } => {
            let user = User {
                id: UserId::new(),
                email: email.as_str().to_owned(),
                name,
                password_hash: phc,
                role: AccountRole::Shop(role),
                active: true,
                created_at: chrono::Utc::now(),
            };
            users::insert(&tx, &user).await.map_err(|e| {
                if mercato_db::is_unique_violation(&e) {
                    changed()
                } else {
                    e.into()
                }
            })?;
            (user, false)
        }
        Joining::Existing(seen) => {
            // The password was checked against what we read; it must still be the account's.
            let now = users::find(&tx, seen.id).await?.ok_or_else(changed)?;
            if now != seen {
                return Err(changed());
            }
            users::set_membership(&tx, seen.id, AccountRole::Shop(role), true).await?;
            // A role change: the account's older tokens carry the old role.
            crate::app::sessions::end_sessions(
                &tx,
                seen.id,
                crate::app::sessions::Reason::RoleChanged,
            )
            .await?;
            let user = User {
                role: AccountRole::Shop(role),
                active: true,
                ..seen
            };
            (user, true)
        }
    };
    crate::events::staff_joined(
        &*tx,
        ctx.tenant,
        user.id,
        role,
        &invitation,
        existing_account,
    )
    .await?;
    let tokens = start_session(&state, &tx, Realm::Shop(ctx.tenant), &user).await?;
    tx.commit().await?;
    state.outbox.notify_one();
    Ok((StatusCode::CREATED, Json(tokens)))
}

//! Sign-up, sign-in, token refresh, sign-out, "who am I" and changing one's password, on a
//! shop's domain (its customers and staff) and on the platform host (platform admins).

use super::too_many_attempts;
use crate::IdentityState;
use crate::app::sign_in::{SignIn, SignInError, SignedIn, sign_in};
use crate::domain::{AccountRole, Email, Realm, check_password};
use crate::problems::IdentityProblem;
use crate::repo::users::User;
use crate::repo::{tokens, users};
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use mercato_auth::{AccessToken, OpaqueSecret};
use mercato_kernel::http::Json;
use mercato_kernel::{FieldError, Problem};
use mercato_tenant_context::{Actor, RequestContext, Role, UserId, VendorMembership};
use serde::{Deserialize, Serialize};

pub fn router() -> Router<IdentityState> {
    Router::new()
        .route("/api/v1/auth/register", post(register))
        .route("/api/v1/auth/login", post(login))
        .route("/api/v1/auth/refresh", post(refresh))
        .route("/api/v1/auth/logout", post(logout))
        .route("/api/v1/auth/me", get(me))
        .route("/api/v1/auth/password", post(change_password))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChangeIn {
    pub current_password: String,
    /// The new password: 10 to 128 characters.
    pub new_password: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterIn {
    pub email: String,
    pub password: String,
    pub name: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginIn {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshIn {
    pub refresh_token: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokensOut {
    pub access_token: String,
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// Single use: exchange it at `/api/v1/auth/refresh` for a new pair.
    pub refresh_token: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserOut {
    /// `usr_…` in a shop, `adm_…` on the platform.
    pub id: String,
    pub email: String,
    pub name: Option<String>,
    /// owner, admin, staff, customer or platform_admin.
    pub role: String,
    /// The vendors this account works for, with its role at each (shop accounts only).
    pub vendors: Vec<VendorMembership>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl UserOut {
    fn new(user: User, realm: Realm, vendors: Vec<VendorMembership>) -> Self {
        let id = match realm {
            Realm::Shop(_) => user.id.to_string(),
            Realm::Platform => {
                mercato_tenant_context::AdminId::from_uuid(user.id.as_uuid()).to_string()
            }
        };
        Self {
            id,
            email: user.email,
            name: user.name,
            role: user.role.code().to_owned(),
            vendors,
            created_at: user.created_at,
        }
    }
}

fn bad_credentials() -> Problem {
    Problem::unauthorized("the email or password is not right")
}

/// Starts a session: an access token and the first refresh token of a new family.
pub(crate) async fn start_session(
    state: &IdentityState,
    tx: &mercato_db::TenantTx,
    realm: Realm,
    user: &User,
) -> Result<TokensOut, Problem> {
    issue(state, tx, realm, user, uuid::Uuid::now_v7()).await
}

async fn issue(
    state: &IdentityState,
    tx: &mercato_db::TenantTx,
    realm: Realm,
    user: &User,
    family: uuid::Uuid,
) -> Result<TokensOut, Problem> {
    let (actor, vendors) = match realm {
        Realm::Shop(_) => (
            Actor::User(user.id),
            crate::repo::vendor_members::for_user(tx, user.id).await?,
        ),
        Realm::Platform => (
            Actor::PlatformAdmin(mercato_tenant_context::AdminId::from_uuid(
                user.id.as_uuid(),
            )),
            Vec::new(),
        ),
    };
    // Read in this transaction: a bump it made (joining, a new password) is included.
    let (session_epoch, _) = users::session_epoch(tx, user.id)
        .await?
        .ok_or_else(|| sea_orm::DbErr::RecordNotFound("the account to issue a token for".into()))?;
    let access = state
        .keys
        .issue(&AccessToken {
            scope: realm.scope(),
            actor,
            roles: user.role.roles(),
            vendors,
            session_epoch,
        })
        .map_err(Problem::internal)?;
    let refresh = OpaqueSecret::generate("mrt_");
    let expires_at =
        chrono::Utc::now() + chrono::Duration::seconds(state.config.refresh_token_ttl_secs);
    tokens::insert(tx, user.id, family, &refresh.digest, expires_at).await?;
    Ok(TokensOut {
        access_token: access,
        token_type: "Bearer",
        expires_in: state.keys.ttl_secs(),
        refresh_token: refresh.text,
    })
}

#[utoipa::path(post, path = "/api/v1/auth/register", tag = "auth", request_body = RegisterIn,
    responses((status = 201, body = TokensOut), (status = 409, description = "email registered"), (status = 422),
        (status = 503, description = "`busy`: too many passwords being hashed at once; see `Retry-After`")))]
pub async fn register(
    State(state): State<IdentityState>,
    ctx: RequestContext,
    Json(body): Json<RegisterIn>,
) -> Result<(StatusCode, Json<TokensOut>), Problem> {
    // Platform admins are never self-registered.
    let Realm::Shop(tenant) = Realm::from(ctx.scope) else {
        return Err(Problem::not_found());
    };
    let email = Email::parse(&body.email);
    let mut errors = Vec::new();
    if let Err(m) = &email {
        errors.push(FieldError::new("/email", *m));
    }
    if let Err(m) = check_password(&body.password) {
        errors.push(FieldError::new("/password", m));
    }
    if body
        .name
        .as_ref()
        .is_some_and(|n| n.trim().is_empty() || n.chars().count() > 100)
    {
        errors.push(FieldError::new("/name", "1-100 characters"));
    }
    let Ok(email) = email else {
        return Err(Problem::validation(errors));
    };
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    let user = User {
        id: UserId::new(),
        email: email.as_str().to_owned(),
        name: body.name.map(|n| n.trim().to_owned()),
        password_hash: state.hashing.hash(body.password).await?,
        role: AccountRole::Shop(Role::Customer),
        active: true,
        created_at: chrono::Utc::now(),
    };
    let realm = Realm::Shop(tenant);
    let tx = state.db.tenant_tx(tenant).await?;
    if let Err(e) = users::insert(&tx, &user).await {
        return Err(if mercato_db::is_unique_violation(&e) {
            Problem::of(
                IdentityProblem::EmailTaken,
                "an account with this email exists in this shop; sign in instead",
            )
        } else {
            e.into()
        });
    }
    crate::events::user_registered(&*tx, tenant, &user).await?;
    let tokens = start_session(&state, &tx, realm, &user).await?;
    tx.commit().await?;
    state.outbox.notify_one();
    Ok((StatusCode::CREATED, Json(tokens)))
}

#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginIn,
    responses((status = 200, body = TokensOut), (status = 401),
        (status = 429, description = "`too_many_attempts`: too many sign-in attempts for this email (whether or not it has an account) or from this address; see `Retry-After`"),
        (status = 503, description = "`busy`: too many passwords being checked at once; see `Retry-After`")))]
pub async fn login(
    State(state): State<IdentityState>,
    ctx: RequestContext,
    Json(body): Json<LoginIn>,
) -> Result<Json<TokensOut>, Problem> {
    let realm = Realm::from(ctx.scope);
    let attempt = SignIn {
        realm,
        email: &body.email,
        password: body.password,
        // The client's address as the gateway determined it (past its trusted proxies).
        address: ctx.client_ip,
    };
    let SignedIn { tx, user } = sign_in(&state, attempt).await.map_err(|e| match e {
        SignInError::BadCredentials => bad_credentials(),
        SignInError::Throttled { retry_after_secs } => too_many_attempts(retry_after_secs),
        SignInError::Hashing(e) => e.into(),
        SignInError::Db(e) => e.into(),
    })?;
    let tokens = start_session(&state, &tx, realm, &user).await?;
    tx.commit().await?;
    Ok(Json(tokens))
}

fn invalid_refresh() -> Problem {
    Problem::unauthorized("the refresh token is not valid; sign in again")
}

#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", request_body = RefreshIn,
    responses((status = 200, body = TokensOut), (status = 401)))]
pub async fn refresh(
    State(state): State<IdentityState>,
    ctx: RequestContext,
    Json(body): Json<RefreshIn>,
) -> Result<Json<TokensOut>, Problem> {
    let realm = Realm::from(ctx.scope);
    let tx = state.db.tenant_tx(realm.storage_tenant()).await?;
    let token = tokens::find_by_digest(&tx, &mercato_auth::digest(&body.refresh_token))
        .await?
        .ok_or_else(invalid_refresh)?;
    if token.revoked_at.is_some() || token.expires_at < chrono::Utc::now() {
        return Err(invalid_refresh());
    }
    if token.used_at.is_some() || !tokens::mark_used(&tx, token.id).await? {
        // A used token came back: someone holds a copy. End every session of the family.
        let revoked = tokens::revoke_family(&tx, token.family).await?;
        tx.commit().await?;
        tracing::warn!(user_id = %token.user, revoked, "refresh token reuse detected; family revoked");
        return Err(invalid_refresh());
    }
    let user = users::find(&tx, token.user)
        .await?
        .filter(|u| u.active)
        .ok_or_else(invalid_refresh)?;
    let tokens = issue(&state, &tx, realm, &user, token.family).await?;
    tx.commit().await?;
    Ok(Json(tokens))
}

#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", request_body = RefreshIn, responses((status = 204)))]
pub async fn logout(
    State(state): State<IdentityState>,
    ctx: RequestContext,
    Json(body): Json<RefreshIn>,
) -> Result<StatusCode, Problem> {
    let realm = Realm::from(ctx.scope);
    let tx = state.db.tenant_tx(realm.storage_tenant()).await?;
    if let Some(token) =
        tokens::find_by_digest(&tx, &mercato_auth::digest(&body.refresh_token)).await?
    {
        tokens::revoke_family(&tx, token.family).await?;
        tx.commit().await?;
    }
    // Unknown tokens too: signing out twice is not an error.
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth", responses((status = 200, body = UserOut), (status = 401)))]
pub async fn me(
    State(state): State<IdentityState>,
    ctx: RequestContext,
) -> Result<Json<UserOut>, Problem> {
    let realm = Realm::from(ctx.scope);
    let id = match (realm, ctx.actor) {
        (Realm::Shop(_), Actor::User(id)) => id,
        (Realm::Platform, Actor::PlatformAdmin(id)) => UserId::from_uuid(id.as_uuid()),
        _ => return Err(Problem::unauthorized("sign in to see your account")),
    };
    let tx = state.db.tenant_read(realm.storage_tenant()).await?;
    let user = users::find(&tx, id)
        .await?
        .ok_or_else(|| Problem::unauthorized("this account no longer exists"))?;
    let vendors = match realm {
        Realm::Shop(_) => crate::repo::vendor_members::for_user(&tx, id).await?,
        Realm::Platform => Vec::new(),
    };
    Ok(Json(UserOut::new(user, realm, vendors)))
}

#[utoipa::path(post, path = "/api/v1/auth/password", tag = "auth", request_body = PasswordChangeIn,
    responses((status = 200, body = TokensOut, description = "password changed; every other session of the account ended (access tokens within seconds), this new one started"),
        (status = 401, description = "not signed in, or the current password is not right"), (status = 409, description = "`account_changed`: the account changed meanwhile; try again"),
        (status = 422), (status = 503, description = "`busy`: too many passwords being checked at once; see `Retry-After`")))]
pub async fn change_password(
    State(state): State<IdentityState>,
    ctx: RequestContext,
    Json(body): Json<PasswordChangeIn>,
) -> Result<Json<TokensOut>, Problem> {
    let realm = Realm::from(ctx.scope);
    let id = match (realm, ctx.actor) {
        (Realm::Shop(_), Actor::User(id)) => id,
        (Realm::Platform, Actor::PlatformAdmin(id)) => UserId::from_uuid(id.as_uuid()),
        _ => return Err(Problem::unauthorized("sign in to change your password")),
    };
    check_password(&body.new_password).map_err(|m| Problem::invalid_field("/new_password", m))?;
    let tx = state.db.tenant_read(realm.storage_tenant()).await?;
    let seen = users::find(&tx, id).await?.filter(|u| u.active);
    drop(tx);
    let seen =
        seen.ok_or_else(|| Problem::unauthorized("this account was removed; sign in again"))?;
    // Passwords are checked and hashed outside any transaction.
    if !state
        .hashing
        .verify(body.current_password, seen.password_hash.clone())
        .await?
    {
        return Err(Problem::unauthorized("the current password is not right"));
    }
    let phc = state.hashing.hash(body.new_password).await?;

    let tx = state.db.tenant_tx(realm.storage_tenant()).await?;
    let user = users::find(&tx, id)
        .await?
        .filter(|now| *now == seen)
        .ok_or_else(|| {
            Problem::of(
                IdentityProblem::AccountChanged,
                "the account changed while changing its password; try again",
            )
        })?;
    users::set_password_hash(&tx, user.id, &phc).await?;
    let ended = tokens::revoke_all_for_user(&tx, user.id).await?;
    crate::repo::one_time::revoke_resets_of(&tx, user.id).await?;
    crate::app::sessions::end_sessions(&tx, user.id, crate::app::sessions::Reason::PasswordChanged)
        .await?;
    let tokens = start_session(&state, &tx, realm, &user).await?;
    tx.commit().await?;
    state.outbox.notify_one();
    tracing::info!(user_id = %user.id, sessions_ended = ended, "password changed");
    Ok(Json(tokens))
}

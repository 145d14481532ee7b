//! Forgotten passwords, on a shop's domain and on the platform host: a one-hour, single-use
//! code by mail (sent by a job, see `app::password_reset`), then a new password that ends
//! every session of the account.

use super::{check_new_password, invalid_token};
use crate::IdentityState;
use crate::app::password_reset;
use crate::domain::one_time::Purpose;
use crate::domain::{Email, Realm};
use crate::repo::one_time;
use crate::repo::{tokens, users};
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use mercato_kernel::Problem;
use mercato_kernel::http::Json;
use mercato_tenant_context::RequestContext;
use serde::{Deserialize, Serialize};

pub fn router() -> Router<IdentityState> {
    Router::new()
        .route("/api/v1/auth/password-reset", post(request))
        .route("/api/v1/auth/password-reset/confirm", post(confirm))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetIn {
    pub email: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetConfirmIn {
    /// The code from the mail (`mpr_…`).
    #[schema(pattern = "^mpr_")]
    pub token: String,
    /// The new password: 10 to 128 characters.
    #[schema(min_length = 10, max_length = 128)]
    pub password: String,
}

/// The same answer whether or not the account exists.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PasswordResetAccepted {
    pub status: &'static str,
    pub detail: &'static str,
}

#[utoipa::path(post, path = "/api/v1/auth/password-reset", tag = "auth", request_body = PasswordResetIn,
    responses((status = 202, body = PasswordResetAccepted, description = "a code is mailed shortly if an active account has this email"),
        (status = 422)))]
pub async fn request(
    State(state): State<IdentityState>,
    ctx: RequestContext,
    Json(body): Json<PasswordResetIn>,
) -> Result<(StatusCode, Json<PasswordResetAccepted>), Problem> {
    let email = Email::parse(&body.email).map_err(|m| Problem::invalid_field("/email", m))?;
    password_reset::request(&state, Realm::from(ctx.scope), &email).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(PasswordResetAccepted {
            status: "accepted",
            detail: "if an active account has this email, a reset code is on its way to it",
        }),
    ))
}

#[utoipa::path(post, path = "/api/v1/auth/password-reset/confirm", tag = "auth", request_body = PasswordResetConfirmIn,
    responses((status = 204, description = "password changed; every session of the account ended"),
        (status = 400, description = "`invalid_token`: unknown, expired or used code"), (status = 422),
        (status = 503, description = "`busy`: too many passwords being hashed at once; see `Retry-After`")))]
pub async fn confirm(
    State(state): State<IdentityState>,
    ctx: RequestContext,
    Json(body): Json<PasswordResetConfirmIn>,
) -> Result<StatusCode, Problem> {
    check_new_password(&body.password)?;
    let realm = Realm::from(ctx.scope);
    let digest = mercato_auth::digest(&body.token);
    // Look before hashing, so a bad code costs no argon2 run.
    let tx = state.db.tenant_read(realm.storage_tenant()).await?;
    let token = one_time::find_usable(&tx, Purpose::PasswordReset, &digest).await?;
    drop(tx);
    let token = token.ok_or_else(invalid_token)?;
    let user_id = token.user.ok_or_else(invalid_token)?;
    let phc = state.hashing.hash(body.password).await?;

    let tx = state.db.tenant_tx(realm.storage_tenant()).await?;
    let user = users::find(&tx, user_id)
        .await?
        .filter(|u| u.active)
        .ok_or_else(invalid_token)?;
    if !one_time::mark_used(&tx, token.id).await? {
        return Err(invalid_token());
    }
    users::set_password_hash(&tx, user.id, &phc).await?;
    let ended = tokens::revoke_all_for_user(&tx, user.id).await?;
    crate::app::sessions::end_sessions(&tx, user.id, crate::app::sessions::Reason::PasswordReset)
        .await?;
    one_time::revoke_resets_of(&tx, user.id).await?;
    crate::events::user_password_reset(&*tx, realm.storage_tenant(), user.id).await?;
    tx.commit().await?;
    state.outbox.notify_one();
    tracing::info!(user_id = %user.id, sessions_ended = ended, "password reset");
    Ok(StatusCode::NO_CONTENT)
}

//! Forgotten passwords, on a shop's domain and on the platform host: a one-hour, single-use
//! code by mail, then a new password that ends every session of the account.

use super::auth::hash;
use super::{check_new_password, invalid_token};
use crate::IdentityState;
use crate::domain::one_time::{MAX_PENDING_RESETS, Purpose};
use crate::domain::{Email, Realm};
use crate::mail::{self, letters};
use crate::repo::one_time::{self, NewToken};
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
    pub token: String,
    /// The new password: 10 to 128 characters.
    pub password: String,
}

/// The same answer whether or not the account exists.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PasswordResetAccepted {
    pub status: &'static str,
    pub detail: &'static str,
}

#[utoipa::path(post, path = "/api/v1/auth/password-reset", tag = "auth", request_body = PasswordResetIn,
    responses((status = 202, body = PasswordResetAccepted, description = "a code was mailed if an active account has this email"),
        (status = 422)))]
pub async fn request(
    State(state): State<IdentityState>,
    ctx: RequestContext,
    Json(body): Json<PasswordResetIn>,
) -> Result<(StatusCode, Json<PasswordResetAccepted>), Problem> {
    let email = Email::parse(&body.email).map_err(|m| Problem::invalid_field("/email", m))?;
    let realm = Realm::from(ctx.scope);
    let tx = state.db.tenant_tx(realm.storage_tenant()).await?;
    let user = users::find_by_email(&tx, &email)
        .await?
        .filter(|u| u.active);
    let mut sent = None;
    if let Some(user) = user
        && one_time::count_pending_resets(&tx, user.id).await? < MAX_PENDING_RESETS
    {
        let secret = mercato_auth::OpaqueSecret::generate(Purpose::PasswordReset.secret_prefix());
        one_time::insert(
            &tx,
            NewToken {
                purpose: Purpose::PasswordReset,
                email: &user.email,
                role: None,
                user: Some(user.id),
                digest: &secret.digest,
                created_by: None,
            },
        )
        .await?;
        let letter = letters::password_reset(&secret.text);
        sent = Some(mail::queue(&tx, &user.email, &letter.subject, &letter.body).await?);
        tx.commit().await?;
    }
    if let Some(id) = sent {
        state.mail.dispatch(realm.storage_tenant(), vec![id]);
    }
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
        (status = 400, description = "`invalid_token`: unknown, expired or used code"), (status = 422)))]
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
    let phc = hash(body.password).await?;

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
    one_time::revoke_resets_of(&tx, user.id).await?;
    crate::events::user_password_reset(&*tx, realm.storage_tenant(), user.id).await?;
    tx.commit().await?;
    state.outbox.notify_one();
    tracing::info!(user_id = %user.id, sessions_ended = ended, "password reset");
    Ok(StatusCode::NO_CONTENT)
}

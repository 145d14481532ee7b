//! HTTP handlers and DTOs of the identity service, one router per resource.

pub mod api_keys;
pub mod auth;
pub mod internal;
pub mod invitations;
pub mod password_reset;
pub mod staff;
pub mod vendor_staff;

use crate::domain::staff::{Refusal, highest};
use crate::hashing::{BUSY_RETRY_AFTER_SECS, HashingError};
use crate::problems::IdentityProblem;
use crate::repo::users;
use axum::http::{HeaderValue, header};
use mercato_db::TenantTx;
use mercato_kernel::Problem;
use mercato_tenant_context::{Actor, Permission, Role, TenantContext};

/// The role the caller acts with as it stands now: a user's stored role (their access token
/// may predate a change or removal), or the API key's role. It must grant `permission`.
pub(crate) async fn acting_role(
    tx: &TenantTx,
    ctx: &TenantContext,
    permission: Permission,
) -> Result<Role, Problem> {
    ctx.require(permission)?;
    let role = match ctx.actor {
        Actor::User(id) => users::find(tx, id)
            .await?
            .filter(|u| u.active)
            .ok_or_else(|| Problem::unauthorized("this account was removed; sign in again"))?
            .role
            .staff_role(),
        Actor::ApiKey(_) => highest(&ctx.roles),
        Actor::Anonymous | Actor::PlatformAdmin(_) | Actor::Service(_) => None,
    };
    match role {
        Some(role) if role.grants(permission) => Ok(role),
        _ => Err(Problem::forbidden(format!(
            "your role does not grant `{}`",
            permission.name()
        ))),
    }
}

/// Who did it, as recorded on what they created: `usr_…` or `key_…`.
pub(crate) fn actor_label(actor: Actor) -> Option<String> {
    match actor {
        Actor::User(id) => Some(id.to_string()),
        Actor::ApiKey(id) => Some(id.to_string()),
        Actor::PlatformAdmin(id) => Some(id.to_string()),
        Actor::Service(_) => Some(actor.label()),
        Actor::Anonymous => None,
    }
}

pub(crate) fn refused(refusal: Refusal) -> Problem {
    match refusal {
        Refusal::LastOwner => Problem::of(IdentityProblem::LastOwner, refusal.message()),
        Refusal::RoleTooHigh | Refusal::TargetOutranks => Problem::forbidden(refusal.message()),
    }
}

/// One answer for unknown, expired, used and revoked codes: which one it was is nobody's
/// business but the database's.
pub(crate) fn invalid_token() -> Problem {
    Problem::of(
        IdentityProblem::InvalidToken,
        "the code is not valid: it is unknown, expired or used already",
    )
}

/// Checks a password the way registration does, as a 422 naming `/password`.
pub(crate) fn check_new_password(password: &str) -> Result<(), Problem> {
    crate::domain::check_password(password).map_err(|m| Problem::invalid_field("/password", m))
}

/// 429 `too_many_attempts`: too many sign-in attempts for this email or from this address;
/// the same answer whether or not an account has the email.
pub(crate) fn too_many_attempts(retry_after_secs: u64) -> Problem {
    Problem::from(IdentityProblem::TooManyAttempts)
        .with_detail("too many sign-in attempts; wait before trying again")
        .with_header(
            header::RETRY_AFTER,
            HeaderValue::from(retry_after_secs.max(1)),
        )
}

/// A password could not be hashed or checked: 503 `busy` when every slot stayed taken for
/// the whole wait, an internal error otherwise.
impl From<HashingError> for Problem {
    fn from(error: HashingError) -> Self {
        match error {
            HashingError::Busy => Problem::of(
                IdentityProblem::Busy,
                "the server is checking too many passwords at once; retry shortly",
            )
            .with_header(
                header::RETRY_AFTER,
                HeaderValue::from(BUSY_RETRY_AFTER_SECS),
            ),
            HashingError::Failed(source) => Problem::internal(source),
        }
    }
}

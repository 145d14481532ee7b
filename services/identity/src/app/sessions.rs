//! Ending an account's sessions when its rights shrink or its password changes (ADR 0029):
//! a new session epoch makes every access token issued before it worthless at the gateway,
//! and the keys the account created follow its standing. Each runs inside the caller's
//! transaction, so the change and its consequences commit together or not at all.

use crate::domain::api_keys::{KeyFate, key_fate};
use crate::events::{self, SessionsRevoked};
use crate::repo::api_keys;
use mercato_db::TenantTx;
use mercato_tenant_context::{Role, UserId};
use sea_orm::DbErr;

/// Why the sessions ended, as the event says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    Removed,
    RoleChanged,
    VendorMembershipChanged,
    PasswordChanged,
    PasswordReset,
}

impl Reason {
    pub fn code(self) -> &'static str {
        match self {
            Reason::Removed => "removed",
            Reason::RoleChanged => "role_changed",
            Reason::VendorMembershipChanged => "vendor_membership_changed",
            Reason::PasswordChanged => "password_changed",
            Reason::PasswordReset => "password_reset",
        }
    }
}

/// Starts a new session epoch for `user` in `tx`'s realm and publishes it; the new epoch
/// (`None` when the realm has no such account). Refresh tokens are the caller's business:
/// a role change lets them mint tokens with the new rights, a removal or a new password
/// revokes them.
pub async fn end_sessions(
    tx: &TenantTx,
    user: UserId,
    reason: Reason,
) -> Result<Option<u64>, DbErr> {
    let Some((epoch, active)) = crate::repo::users::bump_session_epoch(tx, user).await? else {
        return Ok(None);
    };
    let payload = SessionsRevoked {
        user_id: user,
        session_epoch: epoch,
        active,
        reason: reason.code().to_owned(),
    };
    events::user_sessions_revoked(&**tx, tx.tenant(), &payload).await?;
    Ok(Some(epoch))
}

/// What happened to a creator's keys.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct KeysSettled {
    pub revoked: usize,
    pub cut_down: usize,
}

/// Brings the live keys `user` created in line with their standing now: `role` is their
/// new staff role, `None` once removed (see [`key_fate`]). `by` is who changed the standing.
pub async fn settle_keys(
    tx: &TenantTx,
    user: UserId,
    role: Option<Role>,
    by: Option<String>,
) -> Result<KeysSettled, DbErr> {
    let mut settled = KeysSettled::default();
    for key in api_keys::live_created_by(tx, &user.to_string()).await? {
        match key_fate(key.role, role) {
            KeyFate::Keep => {}
            KeyFate::CutTo(to) => {
                if api_keys::set_role(tx, key.id, to).await? {
                    events::api_key_role_changed(
                        &**tx,
                        tx.tenant(),
                        key.id,
                        key.role,
                        to,
                        by.clone(),
                    )
                    .await?;
                    settled.cut_down += 1;
                }
            }
            KeyFate::Revoke => {
                if api_keys::revoke(tx, key.id).await? {
                    events::api_key_revoked(&**tx, tx.tenant(), key.id, by.clone()).await?;
                    settled.revoked += 1;
                }
            }
        }
    }
    Ok(settled)
}

//! Session epochs at the front door (ADR 0029). An access token carries the session epoch
//! its account had when it was issued; identity starts a new epoch when the account is
//! removed, its role or vendor memberships change, or its password changes. For every
//! request with an access token the gateway compares the two, from a per-account cache
//! entry that `user.sessions_revoked` events overwrite at once and that expires after
//! [`SESSION_TTL`] in case an event is lost; a miss asks identity. A token older than its
//! account's epoch, or any token of a disabled account, is a 401 `session_revoked`.

use crate::problems::GatewayProblem;
use crate::proxy::Gateway;
use axum::http::{Request, header};
use mercato_cache::CacheKey;
use mercato_events::{Envelope, Handler, HandlerError};
use mercato_identity::events::SessionsRevoked;
use mercato_kernel::Problem;
use mercato_tenant_context::{Actor, AdminId, RequestId, Scope, TenantId};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// How long a cached standing is trusted without an event: the longest an old token keeps
/// working after its account changed if the `user.sessions_revoked` event never arrives.
pub const SESSION_TTL: Duration = Duration::from_secs(10);

/// An account's standing as identity last said it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Standing {
    pub session_epoch: u64,
    pub active: bool,
}

/// What to do with a token of `token_epoch` given the cached standing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Admit,
    Refuse,
    /// The token is newer than the cache (issued after a change the cache has not seen):
    /// ask identity again.
    Stale,
}

impl Standing {
    /// The later of two standings: epochs only grow, and at one epoch a disabled account
    /// stays disabled. What the cache keeps, so a slow answer never undoes a newer event.
    pub fn newest(self, other: Standing) -> Standing {
        match self.session_epoch.cmp(&other.session_epoch) {
            std::cmp::Ordering::Greater => self,
            std::cmp::Ordering::Less => other,
            std::cmp::Ordering::Equal => Standing {
                session_epoch: self.session_epoch,
                active: self.active && other.active,
            },
        }
    }

    pub fn judge(self, token_epoch: u64) -> Verdict {
        if token_epoch > self.session_epoch {
            Verdict::Stale
        } else if self.active && token_epoch == self.session_epoch {
            Verdict::Admit
        } else {
            Verdict::Refuse
        }
    }
}

/// 401 `session_revoked`: the token predates a change to the account.
pub fn session_revoked() -> Problem {
    Problem::from(GatewayProblem::SessionRevoked)
        .with_detail(
            "this access token was issued before the account's rights or password changed; \
         refresh it or sign in again",
        )
        .with_header(
            header::WWW_AUTHENTICATE,
            axum::http::HeaderValue::from_static("Bearer"),
        )
}

/// The cache key of an account's standing, under its shop (or the platform for admins);
/// `None` for actors that have no session.
fn standing_key(scope: Scope, actor: Actor) -> Option<(CacheKey, String)> {
    match (scope, actor) {
        (Scope::Shop(tenant), Actor::User(id)) => {
            let id = id.to_string();
            Some((CacheKey::tenant(tenant, &["session", &id]), id))
        }
        (Scope::Platform, Actor::PlatformAdmin(id)) => {
            let id = id.to_string();
            Some((CacheKey::platform(&["session", &id]), id))
        }
        _ => None,
    }
}

impl Gateway {
    /// Refuses an access token whose account has moved on since it was issued. On a cache
    /// hit this is one cache read; identity is asked on a miss (or a stale entry) only.
    pub(crate) async fn check_session(
        &self,
        scope: Scope,
        actor: Actor,
        token_epoch: u64,
        request_id: RequestId,
    ) -> Result<(), Problem> {
        let Some((key, account)) = standing_key(scope, actor) else {
            return Ok(());
        };
        let cached = match self.0.cache.get::<Standing>(&key).await {
            Ok(cached) => cached,
            Err(e) => {
                tracing::warn!(error = %e, "session cache unavailable; asking identity");
                None
            }
        };
        let verdict = cached.map(|s| s.judge(token_epoch));
        let verdict = match verdict {
            Some(Verdict::Admit) => Verdict::Admit,
            Some(Verdict::Refuse) => Verdict::Refuse,
            None | Some(Verdict::Stale) => {
                let fetched = self.fetch_standing(scope, &account, request_id).await?;
                // A `user.sessions_revoked` event may have landed while identity answered.
                let standing = match fetched {
                    Some(fetched) => Some(self.remember(&key, fetched).await),
                    None => None,
                };
                // An account identity does not know has no good tokens.
                standing.map_or(Verdict::Refuse, |s| s.judge(token_epoch))
            }
        };
        match verdict {
            Verdict::Admit => Ok(()),
            // Still newer than what identity says: identity's answer is authoritative.
            Verdict::Refuse | Verdict::Stale => Err(session_revoked()),
        }
    }

    /// The account's standing from identity, `None` when it has no such account.
    async fn fetch_standing(
        &self,
        scope: Scope,
        account: &str,
        request_id: RequestId,
    ) -> Result<Option<Standing>, Problem> {
        self.ask_internal(
            "identity",
            "session check",
            (scope, None, request_id),
            Request::get(format!("/internal/v1/sessions/{account}")),
            None,
        )
        .await
    }

    /// Records what a `user.sessions_revoked` event says, so the next request with an old
    /// token is refused without waiting for the cached standing to expire.
    pub async fn session_changed(&self, tenant: TenantId, event: &SessionsRevoked) {
        let (scope, actor) = if tenant.as_uuid().is_nil() {
            let admin = AdminId::from_uuid(event.user_id.as_uuid());
            (Scope::Platform, Actor::PlatformAdmin(admin))
        } else {
            (Scope::Shop(tenant), Actor::User(event.user_id))
        };
        let Some((key, _)) = standing_key(scope, actor) else {
            return;
        };
        let standing = Standing {
            session_epoch: event.session_epoch,
            active: event.active,
        };
        self.remember(&key, standing).await;
    }

    /// Caches `standing` merged with what the cache holds ([`Standing::newest`]), so neither
    /// a slow answer from identity nor a late event lowers it; the merged standing. Only the
    /// moment between the read and the write is open to a race, not a whole round trip.
    async fn remember(&self, key: &CacheKey, standing: Standing) -> Standing {
        let merged = match self.0.cache.get::<Standing>(key).await {
            Ok(Some(cached)) => cached.newest(standing),
            Ok(None) => standing,
            Err(e) => {
                tracing::warn!(error = %e, "session cache unavailable");
                return standing;
            }
        };
        if let Err(e) = self.0.cache.set(key, &merged, SESSION_TTL).await {
            tracing::warn!(error = %e, "cannot cache a session standing; cached standings expire by ttl");
        }
        merged
    }
}

/// The gateway's transient consumer of `user.sessions_revoked`.
pub struct SessionInvalidator(pub Gateway);

#[async_trait::async_trait]
impl Handler for SessionInvalidator {
    async fn handle(&self, event: &Envelope) -> Result<(), HandlerError> {
        let revoked: SessionsRevoked = event.payload_as()?;
        self.0.session_changed(event.tenant_id, &revoked).await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_tokens_of_the_current_epoch_of_an_active_account_pass() {
        let now = Standing {
            session_epoch: 3,
            active: true,
        };
        assert_eq!(now.judge(3), Verdict::Admit);
        assert_eq!(now.judge(2), Verdict::Refuse);
        assert_eq!(now.judge(0), Verdict::Refuse);
        // A token newer than the cache means the cache missed a change.
        assert_eq!(now.judge(4), Verdict::Stale);
        let removed = Standing {
            session_epoch: 3,
            active: false,
        };
        assert_eq!(removed.judge(3), Verdict::Refuse);
        assert_eq!(removed.judge(2), Verdict::Refuse);
    }

    #[test]
    fn the_cache_never_goes_back_to_an_older_standing() {
        let at = |session_epoch, active| Standing {
            session_epoch,
            active,
        };
        // Identity's slow answer (epoch 3) after the event (epoch 4): the event stands.
        assert_eq!(at(4, true).newest(at(3, true)), at(4, true));
        assert_eq!(at(3, true).newest(at(4, true)), at(4, true));
        // At one epoch, a disabled account stays disabled whichever came first.
        assert_eq!(at(4, false).newest(at(4, true)), at(4, false));
        assert_eq!(at(4, true).newest(at(4, false)), at(4, false));
        assert_eq!(at(4, false).newest(at(4, true)).judge(4), Verdict::Refuse);
    }

    #[test]
    fn standings_are_kept_per_shop_and_per_realm() {
        let user = mercato_tenant_context::UserId::new();
        let (a, b) = (TenantId::new(), TenantId::new());
        let key = |scope, actor| standing_key(scope, actor).map(|(k, _)| k);
        let in_a = key(Scope::Shop(a), Actor::User(user));
        let in_b = key(Scope::Shop(b), Actor::User(user));
        assert!(in_a.is_some() && in_b.is_some());
        assert_ne!(in_a, in_b);
        let admin = AdminId::from_uuid(user.as_uuid());
        let platform = key(Scope::Platform, Actor::PlatformAdmin(admin));
        assert!(platform.is_some());
        assert_ne!(platform, in_a);
        assert_eq!(key(Scope::Shop(a), Actor::Anonymous), None);
    }
}

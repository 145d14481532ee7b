//! One-time tokens: staff invitations and password resets. The secret goes out once, by
//! mail; only its digest is stored. A token works once, before it expires, unless revoked.

use chrono::{DateTime, Duration, Utc};

mercato_kernel::typed_id!(
    /// A staff invitation (a one-time token with the `invitation` purpose).
    pub InvitationId, "inv"
);

/// What a token lets its holder do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Join the shop's staff with the invited role.
    Invitation,
    /// Set a new password for one account.
    PasswordReset,
}

impl Purpose {
    pub fn code(self) -> &'static str {
        match self {
            Purpose::Invitation => "invitation",
            Purpose::PasswordReset => "password_reset",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        match code {
            "invitation" => Some(Purpose::Invitation),
            "password_reset" => Some(Purpose::PasswordReset),
            _ => None,
        }
    }

    /// How long a token of this purpose stays valid.
    pub fn lifetime(self) -> Duration {
        match self {
            Purpose::Invitation => Duration::days(7),
            Purpose::PasswordReset => Duration::hours(1),
        }
    }

    /// Tells a human (and a log reader) what a secret is, without revealing it.
    pub fn secret_prefix(self) -> &'static str {
        match self {
            Purpose::Invitation => "mit_",
            Purpose::PasswordReset => "mpr_",
        }
    }
}

/// Unexpired password-reset tokens one account may have at once; further requests send no
/// mail, so the endpoint cannot be used to flood someone's inbox.
pub const MAX_PENDING_RESETS: u64 = 3;

/// Where a token is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TokenStatus {
    Pending,
    Accepted,
    Revoked,
    Expired,
}

pub fn status(
    expires_at: DateTime<Utc>,
    used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> TokenStatus {
    if used_at.is_some() {
        TokenStatus::Accepted
    } else if revoked_at.is_some() {
        TokenStatus::Revoked
    } else if expires_at <= now {
        TokenStatus::Expired
    } else {
        TokenStatus::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_usable_once_before_it_expires() {
        let now = Utc::now();
        let later = now + Duration::minutes(1);
        assert_eq!(status(later, None, None, now), TokenStatus::Pending);
        assert_eq!(status(now, None, None, now), TokenStatus::Expired);
        assert_eq!(status(later, Some(now), None, now), TokenStatus::Accepted);
        assert_eq!(status(later, None, Some(now), now), TokenStatus::Revoked);
        // A used token stays used after it would have expired.
        assert_eq!(status(now, Some(now), None, later), TokenStatus::Accepted);
    }

    #[test]
    fn lifetimes_and_codes() {
        assert_eq!(Purpose::Invitation.lifetime(), Duration::days(7));
        assert_eq!(Purpose::PasswordReset.lifetime(), Duration::hours(1));
        for p in [Purpose::Invitation, Purpose::PasswordReset] {
            assert_eq!(Purpose::parse(p.code()), Some(p));
        }
        assert_ne!(
            Purpose::Invitation.secret_prefix(),
            Purpose::PasswordReset.secret_prefix()
        );
    }
}

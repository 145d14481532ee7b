//! The identity service's configuration (`[identity]` in `mercato.toml`, `MERCATO_IDENTITY__…`).

use crate::domain::backoff::Backoff;
use chrono::TimeDelta;
use serde::{Deserialize, Serialize};
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityConfig {
    pub refresh_token_ttl_secs: i64,
    /// Where the file mailer writes `.eml` files, one folder per shop (and `platform`).
    /// Empty: `<data_dir>/mail`.
    pub mail_dir: PathBuf,
    /// The `From` of notification mail.
    pub mail_from: String,
    /// Back-off after failed sign-ins (ADR 0025).
    pub login_backoff: LoginBackoffConfig,
    /// The bound on password hashing running at once (ADR 0025).
    pub password_hashing: PasswordHashingConfig,
}

impl Default for IdentityConfig {
    fn default() -> Self {
        Self {
            refresh_token_ttl_secs: 30 * 24 * 3600,
            mail_dir: PathBuf::new(),
            mail_from: "Mercato <no-reply@mercato.localhost>".to_owned(),
            login_backoff: LoginBackoffConfig::default(),
            password_hashing: PasswordHashingConfig::default(),
        }
    }
}

/// How many sign-in attempts go through before the next one is refused with 429, and how
/// long the lock lasts. Counted per realm (one shop, or the platform host).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginBackoffConfig {
    /// Attempts per email within `window_secs`, whether or not an account has the email.
    pub attempts_per_account: NonZeroU32,
    /// Attempts per client address (IPv6: its /64) within `window_secs`, across every email.
    /// Higher than per account: many people may share one address (offices, carrier NAT).
    pub attempts_per_address: NonZeroU32,
    pub window_secs: NonZeroU32,
    /// The first lock; each further lock of the same email or address doubles it.
    pub first_lock_secs: NonZeroU32,
    pub max_lock_secs: NonZeroU32,
    /// How long an email or address that was locked is remembered once quiet, so that its
    /// next lock keeps growing.
    pub memory_secs: u32,
}

impl Default for LoginBackoffConfig {
    fn default() -> Self {
        Self {
            attempts_per_account: nonzero(5),
            attempts_per_address: nonzero(50),
            window_secs: nonzero(15 * 60),
            first_lock_secs: nonzero(60),
            max_lock_secs: nonzero(3600),
            memory_secs: 24 * 3600,
        }
    }
}

/// A default that is not zero.
const fn nonzero(n: u32) -> NonZeroU32 {
    match NonZeroU32::new(n) {
        Some(n) => n,
        None => NonZeroU32::MIN,
    }
}

impl LoginBackoffConfig {
    fn backoff(&self, attempts: NonZeroU32) -> Backoff {
        let secs = |n: u32| TimeDelta::seconds(i64::from(n));
        Backoff {
            attempts: attempts.get(),
            window: secs(self.window_secs.get()),
            first_lock: secs(self.first_lock_secs.get()),
            max_lock: secs(self.max_lock_secs.get()),
            memory: secs(self.memory_secs),
        }
    }

    pub fn per_account(&self) -> Backoff {
        self.backoff(self.attempts_per_account)
    }

    pub fn per_address(&self) -> Backoff {
        self.backoff(self.attempts_per_address)
    }
}

/// Every password hash and check (argon2id, about 19 MiB of memory and tens of milliseconds
/// of CPU each) takes one of `max_concurrent` slots, so a burst of sign-ins cannot run the
/// process out of memory: 8 slots hold at most about 152 MiB.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordHashingConfig {
    pub max_concurrent: NonZeroU32,
    /// How long a request waits for a free slot before it is answered 503 `busy`; 0 answers
    /// at once.
    pub wait_ms: u64,
}

impl Default for PasswordHashingConfig {
    fn default() -> Self {
        Self {
            max_concurrent: nonzero(8),
            wait_ms: 1000,
        }
    }
}

impl PasswordHashingConfig {
    pub fn wait(&self) -> Duration {
        Duration::from_millis(self.wait_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(env: &[(&str, &str)]) -> Result<IdentityConfig, mercato_kernel::config::ConfigError> {
        mercato_kernel::config::load(
            &IdentityConfig::default(),
            None,
            env.iter().map(|(k, v)| (k.to_string(), v.to_string())),
        )
    }

    #[test]
    fn defaults_load_and_can_be_overridden() {
        let config = load(&[
            ("MERCATO_PASSWORD_HASHING__MAX_CONCURRENT", "2"),
            ("MERCATO_LOGIN_BACKOFF__ATTEMPTS_PER_ACCOUNT", "10"),
        ])
        .unwrap();
        assert_eq!(config.password_hashing.max_concurrent.get(), 2);
        assert_eq!(config.password_hashing.wait_ms, 1000);
        assert_eq!(config.login_backoff.per_account().attempts, 10);
        assert_eq!(config.login_backoff.per_address().attempts, 50);
        assert_eq!(
            config.login_backoff.per_account().window,
            TimeDelta::minutes(15)
        );
    }

    #[test]
    fn a_zero_bound_is_refused_by_name() {
        let error = load(&[("MERCATO_PASSWORD_HASHING__MAX_CONCURRENT", "0")]).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("password_hashing.max_concurrent"),
            "{error}"
        );
    }
}

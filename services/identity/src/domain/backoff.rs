//! Sign-in back-off: how many password attempts one subject (an email in a realm, or a client
//! address) may make before it has to wait, and for how long. Pure rules; the state lives in
//! the identity database (ADR 0025).
//!
//! An attempt is counted when it is let through, before its password is checked, so
//! concurrent attempts cannot slip past the limit together; a successful sign-in then clears
//! the account's count. The attempt after the limit is refused and starts a lock; each lock
//! of the same subject lasts twice as long as the one before, up to a ceiling, until the
//! subject has been quiet for `memory`.

use chrono::{DateTime, TimeDelta, Utc};
use sha2::{Digest, Sha256};
use std::net::IpAddr;

/// The limits for one kind of subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Attempts let through per window; the next one is refused and locks the subject.
    pub attempts: u32,
    pub window: TimeDelta,
    /// The first lock; every further lock doubles it.
    pub first_lock: TimeDelta,
    pub max_lock: TimeDelta,
    /// How long a subject that was locked is remembered after its last window, so the next
    /// lock grows instead of starting small again.
    pub memory: TimeDelta,
}

/// What is remembered of one subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempts {
    /// Attempts let through since `window_started_at` (minus those forgiven).
    pub count: u32,
    pub window_started_at: DateTime<Utc>,
    /// Locks so far; the next lock lasts `first_lock × 2^lockouts`.
    pub lockouts: u32,
    pub locked_until: Option<DateTime<Utc>>,
}

/// Whether an attempt may go on to the password check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Counted; store `Attempts` and check the password.
    Admitted(Attempts),
    /// Not checked; store `Attempts` (it may carry a new lock) and answer 429.
    Refused {
        attempts: Attempts,
        retry_after: TimeDelta,
    },
}

impl Verdict {
    pub fn attempts(&self) -> Attempts {
        match self {
            Verdict::Admitted(attempts) | Verdict::Refused { attempts, .. } => *attempts,
        }
    }

    pub fn retry_after(&self) -> Option<TimeDelta> {
        match self {
            Verdict::Admitted(_) => None,
            Verdict::Refused { retry_after, .. } => Some(*retry_after),
        }
    }
}

impl Backoff {
    /// Judges one attempt at `now`, given what is remembered (`None`: nothing, or forgotten).
    pub fn judge(&self, remembered: Option<Attempts>, now: DateTime<Utc>) -> Verdict {
        let mut attempts = remembered
            .filter(|a| now < self.forget_at(a))
            .unwrap_or(Attempts {
                count: 0,
                window_started_at: now,
                lockouts: 0,
                locked_until: None,
            });
        if let Some(until) = attempts.locked_until.filter(|until| now < *until) {
            return Verdict::Refused {
                attempts,
                retry_after: until - now,
            };
        }
        if now >= attempts.window_started_at + self.window {
            attempts.count = 0;
            attempts.window_started_at = now;
        }
        if attempts.count >= self.attempts {
            let lock = self.lock_for(attempts.lockouts);
            let until = now + lock;
            attempts = Attempts {
                count: 0,
                // The next window opens when the lock ends, so the attempts after it count
                // towards the next, longer lock.
                window_started_at: until,
                lockouts: attempts.lockouts.saturating_add(1),
                locked_until: Some(until),
            };
            return Verdict::Refused {
                attempts,
                retry_after: lock,
            };
        }
        attempts.count += 1;
        Verdict::Admitted(attempts)
    }

    /// The lock after `lockouts` earlier ones: `first_lock × 2^lockouts`, at most `max_lock`.
    fn lock_for(&self, lockouts: u32) -> TimeDelta {
        let factor = 1_i32.checked_shl(lockouts.min(30)).unwrap_or(i32::MAX);
        self.first_lock
            .checked_mul(factor)
            .map_or(self.max_lock, |lock| lock.min(self.max_lock))
    }

    /// When the subject's record no longer matters and may be deleted: after its window and
    /// lock, plus `memory` once it has been locked.
    pub fn forget_at(&self, attempts: &Attempts) -> DateTime<Utc> {
        let end = attempts.window_started_at + self.window;
        let end = attempts.locked_until.map_or(end, |until| end.max(until));
        if attempts.lockouts > 0 {
            end + self.memory
        } else {
            end
        }
    }
}

/// `Retry-After` in whole seconds, rounded up, at least 1.
pub fn retry_after_secs(delay: TimeDelta) -> u64 {
    let secs = delay.num_seconds() + i64::from(delay.subsec_nanos() > 0);
    u64::try_from(secs).unwrap_or(0).max(1)
}

/// What a back-off counts against. Both kinds live in the realm's own rows.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Subject {
    /// The email as typed, normalised the way sign-in looks it up, whether or not an account
    /// has it. Kept as its SHA-256 digest, so the table is not a plain list of every address
    /// anyone typed (a digest of a guessable address can still be matched, so it is no secret).
    Account(String),
    /// The client's address; IPv6 by its /64, which one host or home usually has whole.
    Address(String),
}

impl Subject {
    pub fn account(email_as_typed: &str) -> Self {
        let normalised = match super::Email::parse(email_as_typed) {
            Ok(email) => email.as_str().to_owned(),
            Err(_) => email_as_typed.trim().to_lowercase(),
        };
        Subject::Account(format!("{:x}", Sha256::digest(normalised.as_bytes())))
    }

    pub fn address(ip: IpAddr) -> Self {
        let ip = match ip {
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => {
                    let mut octets = v6.octets();
                    octets[8..].fill(0);
                    return Subject::Address(format!("{}/64", std::net::Ipv6Addr::from(octets)));
                }
            },
            v4 => v4,
        };
        Subject::Address(ip.to_string())
    }

    /// The stored key: `account:<digest>` or `address:<ip>`.
    pub fn key(&self) -> String {
        match self {
            Subject::Account(digest) => format!("account:{digest}"),
            Subject::Address(address) => format!("address:{address}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backoff() -> Backoff {
        Backoff {
            attempts: 5,
            window: TimeDelta::minutes(15),
            first_lock: TimeDelta::minutes(1),
            max_lock: TimeDelta::minutes(5),
            memory: TimeDelta::hours(24),
        }
    }

    fn start() -> DateTime<Utc> {
        DateTime::from_timestamp(1_750_000_000, 0).unwrap()
    }

    /// Runs `n` attempts at `at`, storing each verdict's state like the repository would.
    fn attempt(
        b: &Backoff,
        state: &mut Option<Attempts>,
        at: DateTime<Utc>,
        n: usize,
    ) -> Vec<Verdict> {
        (0..n)
            .map(|_| {
                let verdict = b.judge(*state, at);
                *state = Some(verdict.attempts());
                verdict
            })
            .collect()
    }

    #[test]
    fn five_attempts_pass_then_the_sixth_locks_for_a_minute() {
        let b = backoff();
        let mut state = None;
        let verdicts = attempt(&b, &mut state, start(), 6);
        assert!(
            verdicts[..5]
                .iter()
                .all(|v| matches!(v, Verdict::Admitted(_)))
        );
        assert_eq!(verdicts[5].retry_after(), Some(TimeDelta::minutes(1)));
        // Still locked a little later, with the time that is left.
        let later = b.judge(state, start() + TimeDelta::seconds(20));
        assert_eq!(later.retry_after(), Some(TimeDelta::seconds(40)));
    }

    #[test]
    fn each_lock_doubles_up_to_the_ceiling() {
        let b = backoff();
        let mut state = None;
        let mut now = start();
        let mut locks = Vec::new();
        for _ in 0..5 {
            let verdicts = attempt(&b, &mut state, now, 6);
            let lock = verdicts[5].retry_after().unwrap();
            locks.push(lock.num_minutes());
            now += lock;
        }
        assert_eq!(locks, vec![1, 2, 4, 5, 5]);
    }

    #[test]
    fn attempts_spread_beyond_the_window_never_lock() {
        let b = backoff();
        let mut state = None;
        for i in 0..20 {
            let at = start() + TimeDelta::minutes(4 * i);
            assert!(matches!(
                attempt(&b, &mut state, at, 1)[0],
                Verdict::Admitted(_)
            ));
        }
    }

    #[test]
    fn a_quiet_subject_is_forgotten_and_starts_small_again() {
        let b = backoff();
        let mut state = None;
        let first = attempt(&b, &mut state, start(), 6)[5]
            .retry_after()
            .unwrap();
        let forget = b.forget_at(&state.unwrap());
        assert!(forget > start() + TimeDelta::hours(24));
        let again = attempt(&b, &mut state, forget, 6)[5].retry_after().unwrap();
        assert_eq!(first, again);
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_after_secs(TimeDelta::milliseconds(1)), 1);
        assert_eq!(retry_after_secs(TimeDelta::milliseconds(1500)), 2);
        assert_eq!(retry_after_secs(TimeDelta::seconds(60)), 60);
        assert_eq!(retry_after_secs(TimeDelta::zero()), 1);
    }

    #[test]
    fn subjects_normalise_emails_and_group_ipv6_by_64() {
        assert_eq!(
            Subject::account(" Ada@Example.TEST "),
            Subject::account("ada@example.test")
        );
        assert_ne!(
            Subject::account("ada@example.test"),
            Subject::account("bob@example.test")
        );
        let key = Subject::account("ada@example.test").key();
        assert!(key.starts_with("account:") && !key.contains("ada"), "{key}");
        let a = Subject::address("2001:db8:1:2:aaaa::1".parse().unwrap());
        let b = Subject::address("2001:db8:1:2:bbbb::2".parse().unwrap());
        assert_eq!(a, b);
        assert_eq!(a.key(), "address:2001:db8:1:2::/64");
        assert_eq!(
            Subject::address("::ffff:192.0.2.7".parse().unwrap()).key(),
            "address:192.0.2.7"
        );
    }
}

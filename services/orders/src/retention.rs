//! Retention: the sweep that keeps this service's bookkeeping tables bounded on a busy
//! shop. Every `sweep_interval_secs` it deletes, across all shops and in bounded batches,
//! what has outlived its window (ADR 0027):
//!
//! - checkout keys after `checkout_keys_secs` (7 days): until then a checkout retried with
//!   the same `Idempotency-Key` replays its order; after it the cart is closed, so the retry
//!   gets 409 `cart_closed` rather than a second order;
//! - provider event ids after `payment_events_secs` (30 days): providers redeliver a webhook
//!   for up to 3 days (Stripe), and each delivery must be recognised as seen;
//! - published outbox rows after 7 days, inbox records after 30 days
//!   (`mercato_events::KEEP_PUBLISHED`, `KEEP_PROCESSED`) and finished jobs after 14 days
//!   (`mercato_jobs::KEEP_FINISHED`).

use crate::repo::retention;
use chrono::{DateTime, Datelike, TimeDelta, Utc};
use mercato_db::Db;
use sea_orm::DbErr;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How long this service keeps its own bookkeeping, and how often it sweeps.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetentionConfig {
    /// Seconds between sweeps (default 1 hour); the first runs at start-up.
    pub sweep_interval_secs: u64,
    /// A checkout's `Idempotency-Key` replays its order for this long (default 7 days).
    pub checkout_keys_secs: u64,
    /// Provider webhook event ids are remembered for this long (default 30 days); keep it
    /// above the longest a provider redelivers (Stripe: 3 days).
    pub payment_events_secs: u64,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        Self {
            sweep_interval_secs: 3600,
            checkout_keys_secs: 7 * 24 * 3600,
            payment_events_secs: 30 * 24 * 3600,
        }
    }
}

/// The instant before which rows kept for `secs` go; `None` for a window too long to
/// represent (or to bind: PostgreSQL's timestamps end at 4713 BC), which keeps everything.
fn cut_off(now: DateTime<Utc>, secs: u64) -> Option<DateTime<Utc>> {
    i64::try_from(secs)
        .ok()
        .and_then(TimeDelta::try_seconds)
        .and_then(|window| now.checked_sub_signed(window))
        .filter(|before| before.year() >= 1)
}

/// One sweep: everything past its window goes; how many rows in all.
pub async fn sweep(db: &Db, config: &RetentionConfig) -> Result<u64, DbErr> {
    let now = crate::now();
    let mut purged = 0;
    if let Some(before) = cut_off(now, config.checkout_keys_secs) {
        purged += retention::purge_checkout_keys(db, before).await?;
    }
    if let Some(before) = cut_off(now, config.payment_events_secs) {
        purged += retention::purge_payment_events(db, before).await?;
    }
    purged += mercato_events::purge_published(db, now - mercato_events::KEEP_PUBLISHED).await?;
    purged += mercato_events::purge_processed(db, now - mercato_events::KEEP_PROCESSED).await?;
    purged += mercato_jobs::purge_finished(db, now - mercato_jobs::KEEP_FINISHED).await?;
    Ok(purged)
}

/// Sweeps at start and then every `sweep_interval_secs` until `shutdown`.
pub async fn worker(db: Db, config: RetentionConfig, shutdown: CancellationToken) {
    let interval = Duration::from_secs(config.sweep_interval_secs);
    mercato_jobs::sweep_every("orders", interval, shutdown, || sweep(&db, &config)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_off_is_the_window_before_now() {
        let now = crate::now();
        assert_eq!(cut_off(now, 60), Some(now - TimeDelta::seconds(60)));
        assert_eq!(cut_off(now, 0), Some(now));
    }

    #[test]
    fn an_endless_window_keeps_everything() {
        assert_eq!(cut_off(crate::now(), u64::MAX), None);
        assert_eq!(cut_off(crate::now(), 5_000 * 365 * 24 * 3600), None);
    }
}

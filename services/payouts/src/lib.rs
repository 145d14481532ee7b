//! The payouts service (ADR 0041): each vendor's balance from its paid vendor orders —
//! `pending` until delivered and the shop's hold has passed, then `available` — less what
//! refunds claw back and what payouts took; payout runs that pay every due vendor once
//! through its payout method; the payouts with their state machine.
//!
//! It consumes orders' `order.paid`, `vendor_order.delivered` and `refund.completed`, and
//! vendors' `payout_account.updated` (`events`); it publishes `payout.*`
//! (`mercato-payouts-api`), which accounting books (vendor payables → bank or clearing).
//! Stripe's signed `transfer.reversed` webhooks (`webhooks`, ADR 0044) fail the payout
//! whose transfer Stripe took back, and its money returns to the vendor's balance.

pub mod domain;
pub mod events;
pub mod http;
pub mod pain001;
pub mod providers;
pub mod repo;
pub mod runs;
pub mod webhooks;

use axum::Router;
use mercato_db::Db;
use mercato_events::Subscription;
use std::sync::Arc;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// The deployment's payout settings (`[payouts]`).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PayoutsConfig {
    /// How long the process carrying out a run holds its job before another may take it
    /// over (after a crash); a run that outlasts it may be carried on by two at once, which
    /// pays nobody twice either (default 60).
    pub run_lease_secs: u64,
    /// The test payout provider answers this much later after making a transfer (default 0;
    /// tests of a crash in the middle of a run raise it).
    pub test_transfer_delay_ms: u64,
}

impl Default for PayoutsConfig {
    fn default() -> Self {
        Self {
            run_lease_secs: 60,
            test_transfer_delay_ms: 0,
        }
    }
}

/// Cheap handles shared by the handlers, the consumers and the run worker.
#[derive(Clone)]
pub struct PayoutsState {
    pub db: Db,
    pub config: Arc<PayoutsConfig>,
    /// Wakes the outbox relay after a commit.
    pub outbox: Arc<Notify>,
    /// Wakes the run worker when a run is queued.
    pub runs: Arc<Notify>,
    pub providers: providers::Providers,
}

/// The current instant as the database keeps it (microseconds).
pub fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::SubsecRound;
    chrono::Utc::now().trunc_subsecs(6)
}

pub async fn migrate(db: &Db) -> Result<(), sea_orm::DbErr> {
    mercato_db::migrate(db, "payouts", repo::MIGRATIONS).await
}

pub fn router(state: PayoutsState) -> Router {
    http::router().merge(webhooks::router()).with_state(state)
}

/// The events this service consumes.
pub fn subscriptions(state: &PayoutsState) -> Vec<Subscription> {
    vec![
        Subscription {
            consumer: events::EARNINGS,
            patterns: events::EARNINGS_PATTERNS,
            handler: Arc::new(events::Earnings(state.clone())),
        },
        Subscription {
            consumer: events::ACCOUNTS,
            patterns: events::ACCOUNTS_PATTERNS,
            handler: Arc::new(events::Accounts(state.clone())),
        },
    ]
}

/// The run worker, the scheduler of vendors' scheduled runs and the retention sweep.
pub fn workers(
    state: &PayoutsState,
    shutdown: CancellationToken,
) -> Vec<futures::future::BoxFuture<'static, ()>> {
    vec![
        Box::pin(runs::worker(state).run(shutdown.clone())),
        Box::pin(runs::scheduler(state.clone(), shutdown.clone())),
        Box::pin(repo::retention_worker(state.db.clone(), shutdown)),
    ]
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        http::balance,
        http::start_run,
        http::show_run,
        http::pain001,
        http::list_payouts,
        http::show_payout,
        http::mark_payout,
        http::show_settings,
        http::update_settings,
        webhooks::receive,
    ),
    tags((name = "payouts", description = "Vendor balances, payout runs and payouts: merchant staff with `payouts:manage` run them; a vendor's staff see their own"))
)]
pub struct ApiDoc;

//! Payout runs (ADR 0041). Merchant staff start one (`POST /api/v1/payouts/runs`); a job
//! carries it out:
//!
//! 1. For each vendor with a payout account, in its own transaction holding the vendor's
//!    account row: unless the run has a payout for it already, the vendor's `available`
//!    balance in the account's currency is computed and, when it is positive and reaches the
//!    vendor's minimum, a `pending` payout of all of it is stored (and `payout.pending`
//!    published). From that commit on the money is out of `available`, so a second run,
//!    running at the same time or later, sees it gone.
//! 2. Each `pending` payout of the run goes to its provider with the payout's id as the
//!    idempotency key, then moves to `paid`, `in_transit` or `failed` (money back).
//!
//! A crash anywhere restarts the job: step 1 skips vendors the run already has a payout
//! for (unique per run, vendor and currency), step 2 resends the payouts still `pending`
//! under the same key, which the provider honours once. Nobody is paid twice.

use crate::PayoutsState;
use crate::domain;
use crate::providers::{Sent, Transfer};
use crate::repo::{self, Payout};
use chrono::NaiveDate;
use mercato_db::TenantTx;
use mercato_jobs::{Job, JobHandler, JobOutcome};
use mercato_kernel::{Money, Problem};
use mercato_payouts_api::{PayoutChanged, PayoutId, PayoutRunId, PayoutStatus};
use mercato_tenant_context::TenantId;
use std::sync::Arc;
use std::time::Duration;

/// The job kind of a run.
pub const RUN_JOB: &str = "payouts.run";

/// Queues a run in `tx`: started by hand (`scheduled_for` `None`: every vendor due), or by
/// vendors' schedules for a day (only the vendors whose schedule falls on it).
pub async fn enqueue(
    tx: &TenantTx,
    key: Option<String>,
    actor: &str,
    scheduled_for: Option<NaiveDate>,
) -> Result<repo::Run, sea_orm::DbErr> {
    let run = repo::Run {
        id: PayoutRunId::new(),
        idempotency_key: key,
        status: "queued".into(),
        vendors_due: 0,
        vendors_done: 0,
        started_by: actor.to_owned(),
        created_at: crate::now(),
        finished_at: None,
        scheduled_for,
    };
    repo::insert_run(tx, &run).await?;
    mercato_jobs::enqueue(
        &**tx,
        mercato_jobs::NewJob {
            tenant: tx.tenant(),
            kind: RUN_JOB,
            subject: Some(run.id.to_string()),
            payload: serde_json::json!({ "run_id": run.id }),
            run_at: crate::now(),
            max_attempts: 20,
        },
    )
    .await?;
    Ok(run)
}

/// Moves `payout` to `next` (checked against the state machine) and publishes it, in `tx`.
pub async fn transition(
    tx: &TenantTx,
    payout: &Payout,
    next: PayoutStatus,
    reference: Option<&str>,
    failure: Option<&str>,
    actor: &str,
) -> Result<Payout, Problem> {
    if !payout.status.can_become(next) {
        return Err(Problem::of(
            crate::http::PayoutsProblem::InvalidTransition,
            format!(
                "a {} payout cannot become {}",
                payout.status.code(),
                next.code()
            ),
        ));
    }
    repo::set_payout_status(tx, payout.id, next, reference, failure).await?;
    let after = Payout {
        status: next,
        reference: reference
            .map(str::to_owned)
            .or_else(|| payout.reference.clone()),
        failure: failure.map(str::to_owned),
        ..payout.clone()
    };
    publish(tx, &after, Some(payout.status), actor).await?;
    Ok(after)
}

/// Moves `payout`, whose transfer the provider took back, to `failed` with `reason` and
/// publishes it, in `tx` (ADR 0044): the one move out of `paid`. The vendor's balance
/// counts a failed payout nowhere, so its money is available again.
pub async fn reverse(
    tx: &TenantTx,
    payout: &Payout,
    reason: &str,
    actor: &str,
) -> Result<Payout, Problem> {
    if !payout.status.can_be_reversed() {
        return Err(Problem::of(
            crate::http::PayoutsProblem::InvalidTransition,
            format!("a {} payout cannot be reversed", payout.status.code()),
        ));
    }
    if payout.status == PayoutStatus::Paid {
        // Its commission was invoiced: its vendor orders stay covered (`cover_earnings`).
        repo::set_reversed(tx, payout.id, reason).await?;
    } else {
        repo::set_payout_status(tx, payout.id, PayoutStatus::Failed, None, Some(reason)).await?;
    }
    let after = Payout {
        status: PayoutStatus::Failed,
        failure: Some(reason.to_owned()),
        ..payout.clone()
    };
    publish(tx, &after, Some(payout.status), actor).await?;
    Ok(after)
}

async fn publish(
    tx: &TenantTx,
    p: &Payout,
    previous: Option<PayoutStatus>,
    actor: &str,
) -> Result<(), sea_orm::DbErr> {
    // Accounting invoices the commission of what a paid payout covered.
    let items = if p.status == PayoutStatus::Paid {
        repo::payout_items(tx, p.id).await?
    } else {
        Vec::new()
    };
    mercato_events::publish(
        &**tx,
        p.status.event_name(),
        tx.tenant(),
        &PayoutChanged {
            payout_id: p.id,
            run_id: Some(p.run),
            vendor_id: p.vendor,
            amount: Money::new(p.amount, p.currency),
            status: p.status,
            previous_status: previous,
            method: p.method.clone(),
            reference: p.reference.clone(),
            failure: p.failure.clone(),
            actor: actor.to_owned(),
            items,
        },
    )
    .await
}

const ACTOR: &str = "svc_payouts";

/// Carries out run `id` of `tenant` (see the module documentation); safe to run again.
pub async fn carry_out(
    state: &PayoutsState,
    tenant: TenantId,
    id: PayoutRunId,
) -> Result<(), anyhow::Error> {
    let tx = state.db.tenant_read(tenant).await?;
    let Some(run) = repo::run(&tx, id).await? else {
        anyhow::bail!("payout run {id} does not exist");
    };
    let accounts: Vec<repo::Account> = repo::accounts(&tx)
        .await?
        .into_iter()
        .filter(|a| {
            run.scheduled_for
                .is_none_or(|day| domain::is_due(a.schedule, day))
        })
        .collect();
    drop(tx);
    if run.status == "done" {
        return Ok(());
    }
    let due = i32::try_from(accounts.len()).unwrap_or(i32::MAX);
    // 1. Set each due vendor's money aside, once per run.
    let mut done = 0;
    for account in &accounts {
        let tx = state.db.tenant_tx(tenant).await?;
        let Some(account) = repo::account(&tx, account.vendor, true).await? else {
            continue;
        };
        let sums = repo::sums(
            &*tx,
            tenant.as_uuid(),
            account.vendor,
            account.currency,
            crate::now(),
        )
        .await?;
        let balance = sums.balance();
        if let Some(amount) = domain::payout_amount(balance.available, account.minimum_payout) {
            let now = crate::now();
            let wanted = Payout {
                id: PayoutId::new(),
                run: id,
                vendor: account.vendor,
                currency: account.currency,
                amount,
                status: PayoutStatus::Pending,
                method: account.method.clone(),
                reference: None,
                failure: None,
                created_at: now,
                updated_at: now,
            };
            let stored = repo::insert_payout(&tx, &wanted).await?;
            if stored.id == wanted.id {
                // The vendor orders it covers, for the shop's commission invoice (ADR 0043).
                repo::cover_earnings(&tx, &stored, now).await?;
                publish(&tx, &stored, None, ACTOR).await?;
            }
        }
        done += 1;
        repo::set_run_progress(&tx, id, due, done, false).await?;
        tx.commit().await?;
        state.outbox.notify_one();
    }
    // 2. Send what is set aside.
    let tx = state.db.tenant_read(tenant).await?;
    let pending = repo::pending_of_run(&tx, id).await?;
    drop(tx);
    for payout in pending {
        let destination = accounts
            .iter()
            .find(|a| a.vendor == payout.vendor)
            .and_then(|a| a.stripe_account_id.clone());
        let sent = state
            .providers
            .send(&Transfer {
                tenant,
                method: &payout.method,
                destination: destination.as_deref(),
                amount: Money::new(payout.amount, payout.currency),
                idempotency_key: payout.id.to_string(),
                group: Some(id.to_string()),
            })
            .await
            .map_err(|e| anyhow::anyhow!("payout {}: {e}", payout.id))?;
        let tx = state.db.tenant_tx(tenant).await?;
        let Some(current) = repo::payout(&tx, payout.id, true).await? else {
            continue;
        };
        if current.status != PayoutStatus::Pending {
            continue;
        }
        match sent {
            Sent::Paid(reference) => {
                transition(
                    &tx,
                    &current,
                    PayoutStatus::Paid,
                    Some(&reference),
                    None,
                    ACTOR,
                )
                .await
                .map_err(|p| anyhow::anyhow!("{p:?}"))?;
            }
            Sent::InTransit(reference) => {
                transition(
                    &tx,
                    &current,
                    PayoutStatus::InTransit,
                    reference.as_deref(),
                    None,
                    ACTOR,
                )
                .await
                .map_err(|p| anyhow::anyhow!("{p:?}"))?;
            }
            Sent::Refused(why) => {
                transition(&tx, &current, PayoutStatus::Failed, None, Some(&why), ACTOR)
                    .await
                    .map_err(|p| anyhow::anyhow!("{p:?}"))?;
            }
        }
        tx.commit().await?;
        state.outbox.notify_one();
    }
    let tx = state.db.tenant_tx(tenant).await?;
    repo::set_run_progress(&tx, id, due, done, true).await?;
    tx.commit().await?;
    Ok(())
}

/// Queues today's scheduled run (UTC) for each shop with a vendor due today, once a day per
/// shop (the run's key is `scheduled:<day>`); the runs queued.
pub async fn schedule_due(
    state: &PayoutsState,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<usize, sea_orm::DbErr> {
    let day = now.date_naive();
    let key = format!("scheduled:{day}");
    let mut queued = 0;
    for shop in repo::shops_with_schedules(&state.db).await? {
        let tx = state.db.tenant_tx(shop).await?;
        let due = repo::accounts(&tx)
            .await?
            .iter()
            .any(|a| domain::is_due(a.schedule, day));
        if !due || repo::run_by_key(&tx, &key).await?.is_some() {
            continue;
        }
        enqueue(&tx, Some(key.clone()), ACTOR, Some(day)).await?;
        tx.commit().await?;
        queued += 1;
    }
    if queued > 0 {
        state.runs.notify_one();
    }
    Ok(queued)
}

/// How often the scheduler looks for shops whose vendors fall due.
pub const SCHEDULE_INTERVAL: Duration = Duration::from_secs(3600);

/// Queues the scheduled runs at start and then every [`SCHEDULE_INTERVAL`] until `shutdown`.
pub async fn scheduler(state: PayoutsState, shutdown: tokio_util::sync::CancellationToken) {
    loop {
        match schedule_due(&state, crate::now()).await {
            Ok(0) => {}
            Ok(queued) => tracing::info!(queued, "scheduled payout runs queued"),
            Err(error) => tracing::warn!(%error, "scheduled payout runs not queued; trying later"),
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(SCHEDULE_INTERVAL) => {}
        }
    }
}

struct RunJob(PayoutsState);

#[async_trait::async_trait]
impl JobHandler for RunJob {
    async fn run(&self, job: &Job) -> JobOutcome {
        let Some(id) = job
            .payload
            .get("run_id")
            .and_then(|v| v.as_str())
            .and_then(|s| s.parse::<PayoutRunId>().ok())
        else {
            return JobOutcome::Fail("the job names no payout run".into());
        };
        match carry_out(&self.0, job.tenant, id).await {
            Ok(()) => JobOutcome::Done,
            Err(e) => {
                tracing::warn!(tenant_id = %job.tenant, run = %id, error = %e, "payout run interrupted; retrying");
                JobOutcome::Retry(e.to_string())
            }
        }
    }
}

/// The worker that carries out queued runs.
pub fn worker(state: &PayoutsState) -> mercato_jobs::Worker {
    mercato_jobs::Worker::new(state.db.clone(), RUN_JOB, Arc::new(RunJob(state.clone())))
        .poll_interval(Duration::from_millis(500))
        .backoff(Duration::from_secs(1), Duration::from_secs(60))
        .lease(Duration::from_secs(state.config.run_lease_secs.max(1)))
        .wake_on(state.runs.clone())
}

//! Expiry. Each order gets an `orders.expire` job due when it expires, inserted with the
//! order: an order still `pending_payment` then becomes `expired`, its vendor orders
//! cancelled, its coupon use given back, its payment attempts cancelled at the provider, and
//! `order.expired` tells inventory to release the stock. A payment that succeeds afterwards
//! is refunded (see `payment`). Carts untouched for the shop's idle time are emptied by a
//! sweep that runs every few minutes per shop with open carts.

use crate::OrdersState;
use crate::domain::OrderId;
use crate::domain::lifecycle::{OrderStatus, VendorOrderStatus};
use crate::repo::payments::{self, Payment, PaymentStatus};
use crate::repo::{carts, coupons, orders, settings};
use crate::transitions;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mercato_jobs::{Job, JobHandler, JobOutcome, Worker};
use mercato_kernel::Problem;
use mercato_tenant_context::TenantId;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

#[derive(Deserialize)]
struct Payload {
    order_id: OrderId,
}

pub const SYSTEM: &str = "system";

struct Expiry(OrdersState);

#[async_trait]
impl JobHandler for Expiry {
    async fn run(&self, job: &Job) -> JobOutcome {
        let payload: Payload = match serde_json::from_value(job.payload.clone()) {
            Ok(p) => p,
            Err(e) => return JobOutcome::Fail(format!("invalid payload: {e}")),
        };
        match expire(&self.0, job.tenant, payload.order_id).await {
            Ok(true) => JobOutcome::Done,
            Ok(false) => JobOutcome::Retry("not due yet".into()),
            Err(e) => JobOutcome::Retry(e.to_string()),
        }
    }
}

/// Expires the order if it is still unpaid and due. False when it is not due yet.
pub async fn expire(state: &OrdersState, tenant: TenantId, id: OrderId) -> Result<bool, Problem> {
    let tx = state.db.tenant_tx(tenant).await?;
    let Some(mut full) = orders::find(&tx, id, true).await? else {
        return Ok(true);
    };
    if full.order.status != OrderStatus::PendingPayment {
        return Ok(true);
    }
    if crate::now() < full.order.expires_at {
        return Ok(false);
    }
    expire_in(&tx, &mut full).await?;
    let pending: Vec<Payment> = payments::of_order(&tx, id)
        .await?
        .into_iter()
        .filter(|p| matches!(p.status, PaymentStatus::Created | PaymentStatus::Processing))
        .collect();
    tx.commit().await?;
    state.outbox.notify_one();
    cancel_intents(state, tenant, &pending).await;
    Ok(true)
}

/// Expires an unpaid order in `tx`: its vendor orders are cancelled, its coupon use given
/// back, and `order.expired` releases its stock.
pub async fn expire_in(
    tx: &mercato_db::TenantTx,
    full: &mut crate::repo::orders::FullOrder,
) -> Result<(), Problem> {
    if let Some(coupon) = full.order.coupon {
        coupons::release(tx, coupon, full.order.id).await?;
    }
    let reason = Some("not paid in time");
    transitions::all_vendor_orders(tx, full, VendorOrderStatus::Cancelled, SYSTEM, reason).await?;
    transitions::order(tx, full, OrderStatus::Expired, SYSTEM, reason, false).await
}

/// Asks the provider to cancel attempts that may still be charged. One that succeeded
/// meanwhile arrives as a webhook and is refunded.
pub async fn cancel_intents(state: &OrdersState, tenant: TenantId, pending: &[Payment]) {
    for payment in pending {
        let (Some(provider), Some(reference)) = (
            state.payments.get(&payment.provider),
            payment.provider_ref.as_deref(),
        ) else {
            continue;
        };
        if let Err(e) = provider.cancel(tenant, reference).await {
            tracing::info!(error = %e, payment = %payment.id, "payment not cancelled at the provider");
        }
    }
}

pub fn order_worker(state: &OrdersState) -> Worker {
    Worker::new(
        state.db.clone(),
        crate::checkout::EXPIRE_JOB,
        Arc::new(Expiry(state.clone())),
    )
    .backoff(Duration::from_secs(1), Duration::from_secs(60))
    .lease(Duration::from_secs(60))
}

pub const CART_SWEEP_JOB: &str = "orders.cart_sweep";

/// Empties a shop's idle carts, then schedules its next sweep while the shop has carts.
struct CartSweep(OrdersState);

#[async_trait]
impl JobHandler for CartSweep {
    async fn run(&self, job: &Job) -> JobOutcome {
        match sweep(&self.0, job.tenant).await {
            Ok(()) => JobOutcome::Done,
            Err(e) => JobOutcome::Retry(e.to_string()),
        }
    }
}

async fn sweep(state: &OrdersState, tenant: TenantId) -> Result<(), Problem> {
    let tx = state.db.tenant_tx(tenant).await?;
    let settings = settings::load(&tx, state.config.default_settings()).await?;
    let before = crate::now() - chrono::TimeDelta::seconds(settings.cart_idle_secs);
    let expired = carts::expire_idle(&tx, before).await?;
    if carts::any_open(&tx).await? {
        schedule_sweep(state, &tx, settings.cart_idle_secs).await?;
    }
    tx.commit().await?;
    if expired > 0 {
        tracing::info!(%tenant, expired, "idle carts expired");
    }
    Ok(())
}

/// The shops whose next cart sweep was seen queued, with when it is due. Until then a new
/// cart need not look for it: a queued job stays queued until it is due, and only a sweep
/// read committed is remembered, never one this process is still writing.
#[derive(Clone, Default)]
pub struct SweepsQueued(Arc<std::sync::Mutex<HashMap<TenantId, DateTime<Utc>>>>);

impl SweepsQueued {
    fn due(&self, tenant: TenantId) -> Option<DateTime<Utc>> {
        self.0.lock().ok()?.get(&tenant).copied()
    }

    fn remember(&self, tenant: TenantId, due: DateTime<Utc>) {
        if let Ok(mut queued) = self.0.lock() {
            queued.insert(tenant, due);
        }
    }
}

/// Schedules a shop's next cart sweep when none is queued (called as carts are created).
pub async fn schedule_sweep(
    state: &OrdersState,
    tx: &mercato_db::TenantTx,
    idle_secs: i64,
) -> Result<(), Problem> {
    let now = crate::now();
    if state.sweeps.due(tx.tenant()).is_some_and(|due| now < due) {
        return Ok(());
    }
    let subject = "carts".to_owned();
    if let Some(job) =
        mercato_jobs::latest_for(&**tx, tx.tenant(), CART_SWEEP_JOB, &subject).await?
        && job.status == mercato_jobs::JobStatus::Queued
    {
        state.sweeps.remember(tx.tenant(), job.run_at);
        return Ok(());
    }
    mercato_jobs::enqueue(
        &**tx,
        mercato_jobs::NewJob {
            tenant: tx.tenant(),
            kind: CART_SWEEP_JOB,
            subject: Some(subject),
            payload: serde_json::json!({}),
            run_at: now + chrono::TimeDelta::seconds(idle_secs.min(3600)),
            max_attempts: 10,
        },
    )
    .await?;
    Ok(())
}

pub fn cart_worker(state: &OrdersState) -> Worker {
    Worker::new(
        state.db.clone(),
        CART_SWEEP_JOB,
        Arc::new(CartSweep(state.clone())),
    )
    .backoff(Duration::from_secs(30), Duration::from_secs(3600))
}

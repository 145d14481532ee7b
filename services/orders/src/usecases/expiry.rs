//! Expiry. Unpaid orders and idle carts are found by one sweep per shop each, not by a job
//! per order: checkout makes sure the shop's `orders.expiry_sweep` is queued no later than
//! the new order's deadline ([`mercato_jobs::SweepsQueued`], usually without a statement),
//! and the sweep expires every order still `pending_payment` past its deadline, at most
//! [`SWEEP_BATCH`] per run, each in its own transaction: its vendor orders cancelled, its
//! coupon use given back, its payment attempts cancelled at the provider, and
//! `order.expired` tells inventory to release the stock. The sweep then queues itself for
//! the earliest deadline left (at once when the batch was full). A payment that succeeds
//! afterwards is refunded (see `payment`). Carts untouched for the shop's idle time are
//! emptied by a sweep that runs every few minutes per shop with open carts.
//!
//! `orders.expire` jobs (one per order, written by checkouts before the sweep) still run
//! until none is left queued.

use crate::OrdersState;
use crate::domain::OrderId;
use crate::domain::lifecycle::{OrderStatus, VendorOrderStatus};
use crate::domain::payment::{Payment, PaymentStatus};
use crate::repo::payments;
use crate::repo::{carts, coupons, orders, settings};
use crate::usecases::transitions;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mercato_jobs::{Job, JobHandler, JobOutcome, Worker};
use mercato_kernel::Problem;
use mercato_tenant_context::TenantId;
use serde::Deserialize;
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
    full: &mut crate::domain::order::FullOrder,
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

/// The worker of the `orders.expire` jobs checkouts wrote before the sweep.
pub fn order_worker(state: &OrdersState) -> Worker {
    Worker::new(
        state.db.clone(),
        crate::usecases::checkout::EXPIRE_JOB,
        Arc::new(Expiry(state.clone())),
    )
    .backoff(Duration::from_secs(1), Duration::from_secs(60))
    .lease(Duration::from_secs(60))
}

pub const ORDER_SWEEP_JOB: &str = "orders.expiry_sweep";

/// Orders one sweep expires at most; when more are due, the next sweep is queued at once.
pub const SWEEP_BATCH: u64 = 100;

/// Expires a shop's due unpaid orders, then queues its next sweep while orders are unpaid.
struct OrderSweep(OrdersState);

#[async_trait]
impl JobHandler for OrderSweep {
    async fn run(&self, job: &Job) -> JobOutcome {
        match sweep_orders(&self.0, job.tenant).await {
            Ok(_) => JobOutcome::Done,
            Err(e) => JobOutcome::Retry(e.to_string()),
        }
    }
}

/// One sweep of `tenant`'s unpaid orders: expires those past their deadline (at most
/// [`SWEEP_BATCH`], each in its own transaction, as [`expire`] does for one), then makes
/// sure the next sweep is queued for the earliest deadline left. How many it expired.
pub async fn sweep_orders(state: &OrdersState, tenant: TenantId) -> Result<usize, Problem> {
    let read = state.db.tenant_read(tenant).await?;
    let due = orders::due_to_expire(&read, crate::now(), SWEEP_BATCH).await?;
    drop(read);
    let mut expired = 0;
    for id in &due {
        // `expire` rechecks the order under its lock: one paid meanwhile is left alone.
        if expire(state, tenant, *id).await? {
            expired += 1;
        }
    }
    let tx = state.db.tenant_tx(tenant).await?;
    let next = if due.len() as u64 == SWEEP_BATCH {
        Some(crate::now())
    } else {
        orders::next_deadline(&tx).await?
    };
    if let Some(by) = next {
        schedule_order_sweep(state, &tx, by).await?;
    }
    tx.commit().await?;
    if expired > 0 {
        tracing::info!(%tenant, expired, "unpaid orders expired");
    }
    Ok(expired)
}

/// Makes sure the shop's order sweep runs no later than `by` (an order's deadline), in the
/// transaction that creates the order.
pub async fn schedule_order_sweep(
    state: &OrdersState,
    tx: &mercato_db::TenantTx,
    by: DateTime<Utc>,
) -> Result<(), Problem> {
    state
        .sweeps
        .ensure_by(&**tx, tx.tenant(), ORDER_SWEEP_JOB, by, 50)
        .await?;
    Ok(())
}

/// The worker of the shops' order sweeps. Retries come quickly: unpaid orders hold stock.
pub fn order_sweep_worker(state: &OrdersState) -> Worker {
    Worker::new(
        state.db.clone(),
        ORDER_SWEEP_JOB,
        Arc::new(OrderSweep(state.clone())),
    )
    .backoff(Duration::from_secs(1), Duration::from_secs(60))
    .lease(Duration::from_secs(300))
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

/// Makes sure the shop's cart sweep is queued (called as carts are created).
pub async fn schedule_sweep(
    state: &OrdersState,
    tx: &mercato_db::TenantTx,
    idle_secs: i64,
) -> Result<(), Problem> {
    let by = crate::now() + chrono::TimeDelta::seconds(idle_secs.min(3600));
    state
        .sweeps
        .ensure_by(&**tx, tx.tenant(), CART_SWEEP_JOB, by, 10)
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

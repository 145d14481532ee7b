//! Reservation expiry: one sweep per shop, not a job per reservation. The transaction that
//! creates a reservation makes sure the shop's `reservation.expiry_sweep` job is queued no
//! later than the reservation runs out ([`mercato_jobs::SweepsQueued`]: usually no statement
//! at all, never a job per reservation), so the sweep exists whenever an active reservation
//! does and survives any crash. The sweep releases the units of every reservation still
//! active past its time (`reservation.expired`), at most [`SWEEP_BATCH`] per run, each in
//! its own transaction; one already committed or released meanwhile needs nothing, so the
//! sweep is idempotent and safe to run twice. It then queues itself for the earliest
//! deadline left (at once when its batch was full).
//!
//! `reservation.expire` jobs (one per reservation, written before the sweep) still run until
//! none is left queued.

use crate::domain::ReservationId;
use crate::domain::reservation::Reservation;
use crate::movements::{self, End, Ended, MovementError, SYSTEM_ACTOR};
use crate::{InventoryState, repo};
use async_trait::async_trait;
use mercato_db::TenantTx;
use mercato_jobs::{Job, JobHandler, JobOutcome, SweepsQueued, Worker};
use mercato_tenant_context::TenantId;
use sea_orm::DbErr;
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;

pub const JOB_KIND: &str = "reservation.expire";

#[derive(Deserialize)]
struct Payload {
    reservation_id: ReservationId,
}

pub const SWEEP_JOB: &str = "reservation.expiry_sweep";

/// Reservations one sweep expires at most; when more are due, the next sweep is queued at
/// once.
pub const SWEEP_BATCH: u64 = 100;

/// Makes sure the shop's sweep runs by the time `reservation` runs out, in the caller's
/// transaction (the one that creates it).
pub async fn schedule(
    tx: &TenantTx,
    sweeps: &SweepsQueued,
    reservation: &Reservation,
) -> Result<(), DbErr> {
    sweeps
        .ensure_by(&**tx, tx.tenant(), SWEEP_JOB, reservation.expires_at, 50)
        .await
}

/// Runs the `reservation.expire` jobs written before the sweep.
pub struct Expiry(pub InventoryState);

#[async_trait]
impl JobHandler for Expiry {
    async fn run(&self, job: &Job) -> JobOutcome {
        let payload: Payload = match serde_json::from_value(job.payload.clone()) {
            Ok(payload) => payload,
            Err(e) => return JobOutcome::Fail(format!("invalid payload: {e}")),
        };
        match expire(&self.0, job.tenant, payload.reservation_id).await {
            Ok(Some(Ended::NotYet(_))) => JobOutcome::Retry("not expired yet".into()),
            Ok(_) => JobOutcome::Done,
            Err(e) => JobOutcome::Retry(e.to_string()),
        }
    }
}

async fn expire(
    state: &InventoryState,
    tenant: TenantId,
    id: ReservationId,
) -> Result<Option<Ended>, MovementError> {
    let tx = state.db.tenant_tx(tenant).await?;
    let now = crate::movements::now();
    let ended = movements::end(&tx, id, End::Expire, SYSTEM_ACTOR, now).await?;
    tx.commit().await?;
    if matches!(ended, Some(Ended::Done(_))) {
        state.outbox.notify_one();
    }
    Ok(ended)
}

/// The worker of the `reservation.expire` jobs written before the sweep.
pub fn worker(state: &InventoryState) -> Worker {
    Worker::new(state.db.clone(), JOB_KIND, Arc::new(Expiry(state.clone())))
        .backoff(Duration::from_secs(1), Duration::from_secs(60))
        .lease(Duration::from_secs(60))
}

/// Runs the shops' `reservation.expiry_sweep` jobs.
struct Sweep(InventoryState);

#[async_trait]
impl JobHandler for Sweep {
    async fn run(&self, job: &Job) -> JobOutcome {
        match sweep(&self.0, job.tenant).await {
            Ok(_) => JobOutcome::Done,
            Err(e) => JobOutcome::Retry(e.to_string()),
        }
    }
}

/// One sweep of `tenant`'s reservations: expires the active ones past their time (at most
/// [`SWEEP_BATCH`], each in its own transaction), then makes sure the next sweep is queued
/// for the earliest deadline left. How many it expired.
pub async fn sweep(state: &InventoryState, tenant: TenantId) -> Result<usize, MovementError> {
    let read = state.db.tenant_read(tenant).await?;
    let due = repo::reservations::due_to_expire(&read, movements::now(), SWEEP_BATCH).await?;
    drop(read);
    let mut expired = 0;
    for id in &due {
        if matches!(expire(state, tenant, *id).await?, Some(Ended::Done(_))) {
            expired += 1;
        }
    }
    let tx = state.db.tenant_tx(tenant).await?;
    let next = if due.len() as u64 == SWEEP_BATCH {
        Some(movements::now())
    } else {
        repo::reservations::next_deadline(&tx).await?
    };
    if let Some(by) = next {
        state
            .sweeps
            .ensure_by(&*tx, tenant, SWEEP_JOB, by, 50)
            .await?;
    }
    tx.commit().await?;
    if expired > 0 {
        tracing::info!(%tenant, expired, "reservations expired");
    }
    Ok(expired)
}

/// The worker of the shops' reservation sweeps. Retries come quickly: a reservation holds
/// stock other shoppers are waiting for.
pub fn sweep_worker(state: &InventoryState) -> Worker {
    Worker::new(state.db.clone(), SWEEP_JOB, Arc::new(Sweep(state.clone())))
        .backoff(Duration::from_secs(1), Duration::from_secs(60))
        .lease(Duration::from_secs(300))
}

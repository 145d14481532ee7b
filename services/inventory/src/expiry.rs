//! Reservation expiry. Each reservation gets a `reservation.expire` job, due when it
//! expires, inserted in the transaction that creates it: the job exists exactly when the
//! reservation does, and survives any crash. The job releases the units of a reservation
//! still active at that time (`reservation.expired`); one already committed or released
//! needs nothing, so the job is idempotent and safe to run twice.

use crate::InventoryState;
use crate::domain::ReservationId;
use crate::domain::reservation::Reservation;
use crate::movements::{self, End, Ended, MovementError, SYSTEM_ACTOR};
use async_trait::async_trait;
use mercato_db::TenantTx;
use mercato_jobs::{Job, JobHandler, JobOutcome, NewJob, Worker};
use sea_orm::DbErr;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;

pub const JOB_KIND: &str = "reservation.expire";

#[derive(Serialize, Deserialize)]
struct Payload {
    reservation_id: ReservationId,
}

/// Enqueues the expiry of `reservation` in the caller's transaction.
pub async fn schedule(tx: &TenantTx, reservation: &Reservation) -> Result<(), DbErr> {
    let payload = serde_json::to_value(Payload {
        reservation_id: reservation.id,
    })
    .map_err(|e| DbErr::Json(e.to_string()))?;
    mercato_jobs::enqueue(
        &**tx,
        NewJob {
            tenant: tx.tenant(),
            kind: JOB_KIND,
            subject: Some(reservation.id.to_string()),
            payload,
            run_at: reservation.expires_at,
            max_attempts: 20,
        },
    )
    .await
    .map(|_| ())
}

/// Runs `reservation.expire` jobs.
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
    tenant: mercato_tenant_context::TenantId,
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

/// The worker that expires reservations. Retries come quickly: a reservation holds stock
/// other shoppers are waiting for.
pub fn worker(state: &InventoryState) -> Worker {
    Worker::new(state.db.clone(), JOB_KIND, Arc::new(Expiry(state.clone())))
        .backoff(Duration::from_secs(1), Duration::from_secs(60))
        .lease(Duration::from_secs(60))
}

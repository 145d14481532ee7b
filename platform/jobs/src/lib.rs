//! Durable delayed jobs kept in the service's own database: order and reservation expiry,
//! payout schedules, report generation. A job is a row in the `jobs` table
//! ([`JOBS_MIGRATION`]), inserted by [`enqueue`] in the same transaction as the change that
//! needs it, so it exists exactly when that change committed. A [`Worker`] runs the due jobs
//! of one kind in rounds: it claims a batch of up to [`Worker::concurrency`] of them in one
//! statement (with `FOR UPDATE SKIP LOCKED` on PostgreSQL, so workers claim disjoint jobs),
//! runs their [`JobHandler`] side by side outside any transaction, and records every
//! [`JobOutcome`] in one more transaction, retrying failed jobs with exponential backoff. A
//! claim is a lease: if the worker dies, its jobs are taken over once the lease expires, so
//! no job is lost — and a handler may run more than once, so handlers must be idempotent.
//!
//! An idle worker polls (every 500 ms by default). Code that commits a job due now can wake
//! it at once through the `Notify` it gave the worker with [`Worker::wake_on`].
//!
//! Jobs belong to a shop (`tenant_id` leads the key, row-level security applies) and are read
//! back for the API with [`find`] and [`latest_for`] in a tenant transaction. A job may name its
//! `subject` — the thing it is about, such as an order id — so "the expiry job of order X" is an
//! indexed lookup rather than a search through JSON payloads.
//!
//! Things that fall due in numbers (orders and reservations to expire, idle carts) get no job
//! each: one sweep per shop and kind handles every due one ([`SweepsQueued`]).
//!
//! Finished jobs are deleted after [`KEEP_FINISHED`] by [`purge_finished`], which a service
//! runs in its periodic retention sweep ([`sweep_every`]).

mod retention;
mod schema;
mod store;
mod sweep;
mod worker;

pub use retention::{KEEP_FINISHED, PURGE_BATCH, purge_finished, purge_in_batches, sweep_every};
pub use schema::{JOBS_AGE_INDEX_MIGRATION, JOBS_MIGRATION};
pub use store::{enqueue, enqueue_all, find, latest_for};
pub use sweep::{SWEEP_MARGIN, SWEEP_SUBJECT, SweepsQueued};
pub use worker::Worker;

use chrono::{DateTime, Utc};
use mercato_tenant_context::TenantId;
use sea_orm::DbErr;
use serde::Serialize;

mercato_kernel::typed_id!(
    /// One durable job.
    pub JobId, "job"
);

/// A job to insert with [`enqueue`].
#[derive(Debug, Clone)]
pub struct NewJob {
    pub tenant: TenantId,
    /// Which [`Worker`] runs it, e.g. `"orders.expire"`.
    pub kind: &'static str,
    /// What the job is about (an order id, a report id), for [`latest_for`]; `None` if nothing.
    pub subject: Option<String>,
    pub payload: serde_json::Value,
    /// Not before this instant.
    pub run_at: DateTime<Utc>,
    /// Runs at most this many times (values below 1 count as 1).
    pub max_attempts: i32,
}

/// A stored job, as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Job {
    pub id: JobId,
    pub tenant: TenantId,
    pub kind: String,
    pub subject: Option<String>,
    pub payload: serde_json::Value,
    pub status: JobStatus,
    /// How many times it has been claimed, including the current run.
    pub attempts: i32,
    pub max_attempts: i32,
    /// When it is (or was last) due.
    pub run_at: DateTime<Utc>,
    /// Why the last failed attempt failed.
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Waiting for `run_at` (first run or a retry).
    Queued,
    /// Claimed by a worker whose lease has not been released.
    Running,
    Succeeded,
    /// Gave up: the handler said so, or the attempts are used up.
    Failed,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [Self::Queued, Self::Running, Self::Succeeded, Self::Failed]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// What a handler made of one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobOutcome {
    Done,
    /// Try again later (with backoff) unless the attempts are used up.
    Retry(String),
    /// Give up now.
    Fail(String),
}

/// The work behind one job kind. Runs outside any database transaction; it may run again
/// after a crash or a lost lease, so it must be idempotent.
#[async_trait::async_trait]
pub trait JobHandler: Send + Sync + 'static {
    async fn run(&self, job: &Job) -> JobOutcome;
}

/// Why a worker could not claim a job or record its outcome.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("jobs database error: {0}")]
    Db(#[from] DbErr),
}

//! Sweeps: one recurring job per shop and kind that handles every due thing of the shop
//! (idle carts, unpaid orders, reservations run out), instead of one job per thing.
//!
//! Whatever creates a thing that a sweep must handle by some deadline calls
//! [`SweepsQueued::ensure_by`] in the transaction that creates it; the sweep, when it runs,
//! handles what is due and calls it again for the earliest deadline left. A shop with
//! nothing pending has no sweep queued.

use crate::{JobStatus, NewJob, enqueue, latest_for};
use chrono::{DateTime, TimeDelta, Utc};
use mercato_tenant_context::TenantId;
use sea_orm::{ConnectionTrait, DbErr};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The subject of every sweep job, so [`latest_for`] finds a shop's sweep of one kind.
pub const SWEEP_SUBJECT: &str = "sweep";

/// A queued sweep counts only if it is due later than this from now: one due sooner may be
/// claimed before the caller's transaction commits, and would not see what it wrote.
/// Transactions that schedule sweeps commit in far less.
pub const SWEEP_MARGIN: TimeDelta = TimeDelta::seconds(30);

/// The shops whose next sweep of a kind was seen queued, with when it is due, so that
/// creating a thing does not look for the sweep again until then (no statement at all).
/// Only a sweep read committed is remembered, never one this process is still writing.
#[derive(Clone, Default)]
pub struct SweepsQueued(Arc<Mutex<HashMap<SweepOf, DateTime<Utc>>>>);

/// A shop and a kind of sweep.
type SweepOf = (TenantId, &'static str);

impl SweepsQueued {
    fn known(&self, tenant: TenantId, kind: &'static str) -> Option<DateTime<Utc>> {
        self.0.lock().ok()?.get(&(tenant, kind)).copied()
    }

    fn remember(&self, tenant: TenantId, kind: &'static str, due: DateTime<Utc>) {
        if let Ok(mut queued) = self.0.lock() {
            queued.insert((tenant, kind), due);
        }
    }

    /// Makes sure a sweep of `kind` runs for `tenant` no later than `by`, in the caller's
    /// transaction `conn`: nothing when one is known or found queued in time, else a new
    /// sweep job due at `by` (at once if `by` has passed). Two sweeps queued at once are
    /// harmless: a sweep handles what is due when it runs, whatever scheduled it.
    pub async fn ensure_by(
        &self,
        conn: &impl ConnectionTrait,
        tenant: TenantId,
        kind: &'static str,
        by: DateTime<Utc>,
        max_attempts: i32,
    ) -> Result<(), DbErr> {
        let covers = |due: DateTime<Utc>| Utc::now() + SWEEP_MARGIN < due && due <= by;
        if self.known(tenant, kind).is_some_and(covers) {
            return Ok(());
        }
        if let Some(job) = latest_for(conn, tenant, kind, SWEEP_SUBJECT).await?
            && job.status == JobStatus::Queued
            && covers(job.run_at)
        {
            self.remember(tenant, kind, job.run_at);
            return Ok(());
        }
        enqueue(
            conn,
            NewJob {
                tenant,
                kind,
                subject: Some(SWEEP_SUBJECT.to_owned()),
                payload: serde_json::json!({}),
                run_at: by,
                max_attempts,
            },
        )
        .await?;
        Ok(())
    }
}

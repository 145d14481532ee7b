//! Claiming due jobs of one kind in batches, running their handler concurrently and
//! recording the outcomes.
//!
//! A round of a [`Worker`] costs two short transactions however many jobs it handles: one
//! statement claims up to [`Worker::concurrency`] due jobs (oldest due first), their handlers
//! run at once, each in a task of its own and outside any transaction, and once the last of
//! them has finished one transaction records every outcome. After a full batch the next
//! round starts at once, since more jobs may be waiting; after a partial or empty one the
//! worker waits for its poll interval, or less when the [`Notify`] given to
//! [`Worker::wake_on`] is poked by code that has just committed a due job.

use crate::store::{self, Finish};
use crate::{Job, JobError, JobHandler, JobOutcome, JobStatus};
use chrono::{DateTime, SubsecRound, TimeDelta, Utc};
use mercato_db::Db;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, Span};

/// Runs the jobs of one kind. Several workers (in one process or many) may run the same kind:
/// each job is claimed by one of them at a time.
#[derive(Clone)]
pub struct Worker {
    db: Db,
    kind: &'static str,
    handler: Arc<dyn JobHandler>,
    poll_interval: Duration,
    backoff_base: Duration,
    backoff_max: Duration,
    lease: Duration,
    concurrency: usize,
    wake: Arc<Notify>,
}

impl fmt::Debug for Worker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Worker")
            .field("kind", &self.kind)
            .field("poll_interval", &self.poll_interval)
            .field("backoff_base", &self.backoff_base)
            .field("backoff_max", &self.backoff_max)
            .field("lease", &self.lease)
            .field("concurrency", &self.concurrency)
            .finish_non_exhaustive()
    }
}

/// One claimed job on its way: its handler's task, unless the job is not to run again.
struct Run {
    job: Job,
    span: Span,
    task: Option<JoinHandle<JobOutcome>>,
}

impl Worker {
    /// A worker for `kind`: one job at a time, polls every 500 ms, backs off from 5 s
    /// doubling up to 1 h, and holds a claimed job for 5 minutes before another worker may
    /// take it over. Nothing wakes it early until it is given [`wake_on`](Self::wake_on).
    pub fn new(db: Db, kind: &'static str, handler: Arc<dyn JobHandler>) -> Self {
        Self {
            db,
            kind,
            handler,
            poll_interval: Duration::from_millis(500),
            backoff_base: Duration::from_secs(5),
            backoff_max: Duration::from_secs(3600),
            lease: Duration::from_secs(300),
            concurrency: 1,
            wake: Arc::new(Notify::new()),
        }
    }

    /// How long to wait when no job is due (unless woken, see [`wake_on`](Self::wake_on)).
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    /// The delay before retry n is `min(base * 2^(n-1), max)`.
    pub fn backoff(mut self, base: Duration, max: Duration) -> Self {
        self.backoff_base = base;
        self.backoff_max = max;
        self
    }

    /// How long a claim lasts. A job still running after it may be taken over by another
    /// worker, so make it comfortably longer than the handler's longest run. Outcomes are
    /// recorded when the whole batch has finished, so with [`concurrency`](Self::concurrency)
    /// above 1 it must cover the slowest job of a batch.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// How many jobs one round claims (in one statement) and runs at once; 1 by default,
    /// and values below 1 count as 1. The round's outcomes are recorded together once the
    /// slowest of them has finished, so a batch is as slow as its slowest job.
    pub fn concurrency(mut self, jobs: usize) -> Self {
        self.concurrency = jobs.max(1);
        self
    }

    /// Wakes the worker when `wake` is notified, instead of waiting out its poll interval.
    /// Code that commits a due job of this kind calls `wake.notify_one()` after the commit
    /// (not before: the worker would find nothing yet). A poke while the worker is busy is
    /// kept for its next wait (one `notify_one` permit), so it is not lost. The worker
    /// ignores pokes while its database fails, sleeping out the poll interval instead of
    /// spinning. Clones of this worker share the same `Notify`.
    pub fn wake_on(mut self, wake: Arc<Notify>) -> Self {
        self.wake = wake;
        self
    }

    /// Runs due jobs until `shutdown` is cancelled. The batch in hand is finished first.
    pub async fn run(self, shutdown: CancellationToken) {
        tracing::info!(
            kind = self.kind,
            concurrency = self.concurrency,
            "job worker started"
        );
        while !shutdown.is_cancelled() {
            match self.run_batch().await {
                // A full batch: more jobs may be due already.
                Ok(claimed) if claimed >= self.concurrency => {}
                // Everything due was taken: wait for the next poll, or a poke from an enqueuer.
                Ok(_) => {
                    tokio::select! {
                        () = shutdown.cancelled() => break,
                        () = tokio::time::sleep(self.poll_interval) => {}
                        () = self.wake.notified() => {}
                    }
                }
                // Not woken early: pokes while the database is down would make a hot loop.
                Err(error) => {
                    tracing::error!(kind = self.kind, %error, "job worker cannot claim or record jobs");
                    tokio::select! {
                        () = shutdown.cancelled() => break,
                        () = tokio::time::sleep(self.poll_interval) => {}
                    }
                }
            }
        }
        tracing::info!(kind = self.kind, "job worker stopped");
    }

    /// One round, as [`run_batch`](Self::run_batch); false when no job was due.
    pub async fn run_once(&self) -> Result<bool, JobError> {
        Ok(self.run_batch().await? > 0)
    }

    /// One round: claims up to [`concurrency`](Self::concurrency) due jobs in one
    /// transaction, runs their handlers concurrently and records every outcome in one
    /// transaction; how many jobs it claimed (0 when none was due). Returns when the slowest
    /// handler has finished.
    pub async fn run_batch(&self) -> Result<usize, JobError> {
        let jobs = self.claim().await?;
        let claimed = jobs.len();
        if claimed == 0 {
            return Ok(0);
        }
        // Every handler starts before any is awaited, so they run side by side.
        let runs: Vec<Run> = jobs.into_iter().map(|job| self.start(job)).collect();
        let mut finished = Vec::with_capacity(claimed);
        for run in runs {
            let outcome = match run.task {
                // The previous worker lost the job on its last attempt (it died or overran its lease).
                None => JobOutcome::Fail("the lease expired on the last attempt".to_owned()),
                Some(task) => match task.await {
                    Ok(outcome) => outcome,
                    Err(error) => JobOutcome::Retry(format!("the handler did not finish: {error}")),
                },
            };
            finished.push((run.job, run.span, outcome));
        }
        self.record(finished).await?;
        Ok(claimed)
    }

    async fn claim(&self) -> Result<Vec<Job>, JobError> {
        let tx = self.db.platform_tx("claim jobs").await?;
        let now = store::now();
        let jobs =
            store::claim(&*tx, self.kind, now, add(now, self.lease), self.concurrency).await?;
        tx.commit().await?;
        Ok(jobs)
    }

    /// Starts the handler in its own task, so a panic becomes a retry instead of killing the
    /// worker; a job already past its last attempt is not run.
    fn start(&self, job: Job) -> Run {
        let span = tracing::info_span!("job", tenant_id = %job.tenant, job_id = %job.id, kind = self.kind, attempt = job.attempts);
        let task = (job.attempts <= job.max_attempts).then(|| {
            let handler = Arc::clone(&self.handler);
            let owned = job.clone();
            tokio::spawn(async move { handler.run(&owned).await }.instrument(span.clone()))
        });
        Run { job, span, task }
    }

    /// The state `outcome` leaves `job` in.
    fn finish_of(&self, job: &Job, outcome: JobOutcome, now: DateTime<Utc>) -> Finish {
        match outcome {
            JobOutcome::Done => Finish {
                status: JobStatus::Succeeded,
                run_at: job.run_at,
                last_error: job.last_error.clone(),
            },
            JobOutcome::Retry(error) if job.attempts < job.max_attempts => {
                let delay = backoff_delay(self.backoff_base, self.backoff_max, job.attempts);
                Finish {
                    status: JobStatus::Queued,
                    run_at: add(now, delay),
                    last_error: Some(error),
                }
            }
            JobOutcome::Retry(error) | JobOutcome::Fail(error) => Finish {
                status: JobStatus::Failed,
                run_at: job.run_at,
                last_error: Some(error),
            },
        }
    }

    /// Records a batch's outcomes in one statement. An outcome whose job was taken over
    /// meanwhile (its lease expired) is dropped, the others are still written.
    async fn record(&self, finished: Vec<(Job, Span, JobOutcome)>) -> Result<(), JobError> {
        let now = store::now();
        let finished: Vec<(Job, Span, Finish)> = finished
            .into_iter()
            .map(|(job, span, outcome)| {
                let finish = self.finish_of(&job, outcome, now);
                (job, span, finish)
            })
            .collect();
        let outcomes: Vec<(&Job, &Finish)> = finished.iter().map(|(j, _, f)| (j, f)).collect();
        let tx = self.db.platform_tx("record job outcomes").await?;
        let recorded = store::finish_all(&*tx, &outcomes, now).await?;
        tx.commit().await?;
        for ((_, span, finish), recorded) in finished.iter().zip(recorded) {
            let _entered = span.enter();
            let error = finish.last_error.as_deref().unwrap_or_default();
            match finish.status {
                _ if !recorded => tracing::warn!(
                    "job was taken over by another worker after its lease expired; outcome dropped"
                ),
                JobStatus::Succeeded => tracing::info!("job succeeded"),
                JobStatus::Queued => {
                    tracing::warn!(error, retry_at = %finish.run_at, "job failed; will retry")
                }
                JobStatus::Failed | JobStatus::Running => {
                    tracing::error!(error, "job failed; giving up")
                }
            }
        }
        Ok(())
    }
}

/// `min(base * 2^(attempt-1), max)`: the wait after failed attempt number `attempt` (from 1).
pub(crate) fn backoff_delay(base: Duration, max: Duration, attempt: i32) -> Duration {
    let doublings = u32::try_from(attempt.saturating_sub(1))
        .unwrap_or(0)
        .min(31);
    base.saturating_mul(1 << doublings).min(max)
}

/// `at + delay` at the stored precision, with absurd delays capped at a century so the
/// result stays storable.
fn add(at: DateTime<Utc>, delay: Duration) -> DateTime<Utc> {
    let century = TimeDelta::days(36_525);
    let delay = TimeDelta::from_std(delay).map_or(century, |d| d.min(century));
    at.checked_add_signed(delay).unwrap_or(at).trunc_subsecs(6)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn backoff_doubles_from_the_base() {
        let delays: Vec<_> = (1..=5)
            .map(|n| backoff_delay(10 * MS, 1000 * MS, n))
            .collect();
        assert_eq!(delays, [10 * MS, 20 * MS, 40 * MS, 80 * MS, 160 * MS]);
    }

    #[test]
    fn backoff_stops_at_the_max() {
        assert_eq!(backoff_delay(10 * MS, 50 * MS, 3), 40 * MS);
        assert_eq!(backoff_delay(10 * MS, 50 * MS, 4), 50 * MS);
        assert_eq!(
            backoff_delay(Duration::from_secs(5), Duration::from_secs(3600), 20),
            Duration::from_secs(3600)
        );
    }

    #[test]
    fn backoff_survives_extreme_attempts() {
        let max = Duration::from_secs(3600);
        assert_eq!(backoff_delay(Duration::from_secs(5), max, i32::MAX), max);
        assert_eq!(backoff_delay(Duration::MAX, max, 2), max);
        // Attempts start at 1; anything lower is treated as the first.
        assert_eq!(backoff_delay(10 * MS, max, 0), 10 * MS);
        assert_eq!(backoff_delay(10 * MS, max, i32::MIN), 10 * MS);
    }

    #[test]
    fn adding_a_huge_delay_stays_storable() {
        let now = store::now();
        assert!(add(now, Duration::MAX) < now + TimeDelta::days(40_000));
        assert_eq!(add(now, 10 * MS), now + TimeDelta::milliseconds(10));
    }
}

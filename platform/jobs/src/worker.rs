//! Claiming due jobs of one kind and running their handler.

use crate::store::{self, Finish};
use crate::{Job, JobError, JobHandler, JobOutcome, JobStatus};
use chrono::{DateTime, SubsecRound, TimeDelta, Utc};
use mercato_db::Db;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

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
}

impl fmt::Debug for Worker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Worker")
            .field("kind", &self.kind)
            .field("poll_interval", &self.poll_interval)
            .field("backoff_base", &self.backoff_base)
            .field("backoff_max", &self.backoff_max)
            .field("lease", &self.lease)
            .finish_non_exhaustive()
    }
}

impl Worker {
    /// A worker for `kind`: polls every 500 ms, backs off from 5 s doubling up to 1 h, and
    /// holds a claimed job for 5 minutes before another worker may take it over.
    pub fn new(db: Db, kind: &'static str, handler: Arc<dyn JobHandler>) -> Self {
        Self {
            db,
            kind,
            handler,
            poll_interval: Duration::from_millis(500),
            backoff_base: Duration::from_secs(5),
            backoff_max: Duration::from_secs(3600),
            lease: Duration::from_secs(300),
        }
    }

    /// How long to wait when no job is due.
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
    /// worker, so make it comfortably longer than the handler's longest run.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// Runs due jobs until `shutdown` is cancelled. The job in hand is finished first.
    pub async fn run(self, shutdown: CancellationToken) {
        tracing::info!(kind = self.kind, "job worker started");
        while !shutdown.is_cancelled() {
            let idle = match self.run_once().await {
                Ok(ran) => !ran,
                Err(error) => {
                    tracing::error!(kind = self.kind, %error, "job worker cannot claim or record a job");
                    true
                }
            };
            if idle {
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    () = tokio::time::sleep(self.poll_interval) => {}
                }
            }
        }
        tracing::info!(kind = self.kind, "job worker stopped");
    }

    /// Claims and runs at most one due job; false when none was due.
    pub async fn run_once(&self) -> Result<bool, JobError> {
        let Some(job) = self.claim().await? else {
            return Ok(false);
        };
        let span = tracing::info_span!("job", tenant_id = %job.tenant, job_id = %job.id, kind = self.kind, attempt = job.attempts);
        async {
            let outcome = if job.attempts > job.max_attempts {
                // The previous worker lost the job on its last attempt (it died or overran its lease).
                JobOutcome::Fail("the lease expired on the last attempt".to_owned())
            } else {
                self.execute(&job).await
            };
            self.record(&job, outcome).await
        }
        .instrument(span)
        .await?;
        Ok(true)
    }

    async fn claim(&self) -> Result<Option<Job>, JobError> {
        let tx = self.db.platform_tx("claim job").await?;
        let now = store::now();
        let job = store::claim(&*tx, self.kind, now, add(now, self.lease)).await?;
        tx.commit().await?;
        Ok(job)
    }

    /// Runs the handler in its own task, so a panic becomes a retry instead of killing the worker.
    async fn execute(&self, job: &Job) -> JobOutcome {
        let handler = Arc::clone(&self.handler);
        let owned = job.clone();
        let run = async move { handler.run(&owned).await }.in_current_span();
        match tokio::spawn(run).await {
            Ok(outcome) => outcome,
            Err(error) => JobOutcome::Retry(format!("the handler did not finish: {error}")),
        }
    }

    async fn record(&self, job: &Job, outcome: JobOutcome) -> Result<(), JobError> {
        let now = store::now();
        let finish = match outcome {
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
        };
        let tx = self.db.platform_tx("record job outcome").await?;
        let recorded = store::finish(&*tx, job, &finish, now).await?;
        tx.commit().await?;
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

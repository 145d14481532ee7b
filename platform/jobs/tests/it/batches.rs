//! A worker claims a batch of due jobs in one go, runs them side by side, records every
//! outcome, and wakes at once when poked.

use crate::support::{TestDb, enqueue_committed, load};
use chrono::{DateTime, TimeDelta, Utc};
use mercato_db::Db;
use mercato_jobs::{Job, JobHandler, JobId, JobOutcome, JobStatus, NewJob, Worker, enqueue};
use mercato_tenant_context::TenantId;
use serde_json::json;
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Barrier, Notify};
use tokio::time::{Instant, timeout};
use tokio_util::sync::CancellationToken;

/// Far longer than any test may take: a worker that waits out its poll interval fails it.
const LONG_POLL: Duration = Duration::from_secs(60);
/// How soon a woken (or busy) worker must have run a job.
const PROMPTLY: Duration = Duration::from_secs(2);
/// Longer than any test should take; a test that would hang fails instead.
const GIVE_UP: Duration = Duration::from_secs(10);

/// Answers by the job's subject — `"retry"`, `"fail"`, `"panic"`, `"hold"` (waits for
/// `release`), `"pause"` (a few milliseconds), anything else done — counting runs and how
/// many ran at the same time. With a barrier, every run first waits for that many runs to
/// have started.
struct BySubject {
    barrier: Option<Barrier>,
    started: Notify,
    release: Notify,
    runs: Mutex<HashMap<JobId, u32>>,
    running: AtomicUsize,
    peak: AtomicUsize,
}

impl BySubject {
    fn new(barrier: Option<usize>) -> Arc<Self> {
        Arc::new(Self {
            barrier: barrier.map(Barrier::new),
            started: Notify::new(),
            release: Notify::new(),
            runs: Mutex::new(HashMap::new()),
            running: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
        })
    }

    fn runs(&self, id: JobId) -> u32 {
        self.runs.lock().unwrap().get(&id).copied().unwrap_or(0)
    }

    fn all_runs(&self) -> HashMap<JobId, u32> {
        self.runs.lock().unwrap().clone()
    }
}

#[async_trait::async_trait]
impl JobHandler for BySubject {
    async fn run(&self, job: &Job) -> JobOutcome {
        *self.runs.lock().unwrap().entry(job.id).or_default() += 1;
        let running = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(running, Ordering::SeqCst);
        if let Some(barrier) = &self.barrier {
            barrier.wait().await;
        }
        match job.subject.as_deref() {
            Some("hold") => {
                self.started.notify_one();
                self.release.notified().await;
            }
            Some("pause") => tokio::time::sleep(Duration::from_millis(2)).await,
            _ => {}
        }
        self.running.fetch_sub(1, Ordering::SeqCst);
        match job.subject.as_deref() {
            Some("retry") => JobOutcome::Retry("try again".to_owned()),
            Some("fail") => JobOutcome::Fail("gave up".to_owned()),
            Some("panic") => panic!("handler bug"),
            _ => JobOutcome::Done,
        }
    }
}

/// Never finishes a run, like a worker that crashed mid-job.
#[derive(Default)]
struct Hangs {
    started: Notify,
}

#[async_trait::async_trait]
impl JobHandler for Hangs {
    async fn run(&self, _job: &Job) -> JobOutcome {
        self.started.notify_one();
        std::future::pending().await
    }
}

/// Enqueues a job about `subject` (which tells [`BySubject`] what to answer), committed.
async fn enqueue_about(
    db: &Db,
    tenant: TenantId,
    kind: &'static str,
    subject: &str,
    run_at: DateTime<Utc>,
) -> JobId {
    let tx = db.tenant_tx(tenant).await.unwrap();
    let id = enqueue(
        &*tx,
        NewJob {
            tenant,
            kind,
            subject: Some(subject.to_owned()),
            payload: json!({}),
            run_at,
            max_attempts: 3,
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    id
}

/// Waits until every job in `ids` has `status`; panics after `within`.
async fn wait_until(db: &Db, tenant: TenantId, ids: &[JobId], status: JobStatus, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let mut reached = true;
        for &id in ids {
            reached &= load(db, tenant, id).await.status == status;
        }
        if reached {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the jobs were not {status:?} within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Fails the test instead of hanging it.
async fn soon<T>(what: &str, future: impl Future<Output = T>) -> T {
    timeout(GIVE_UP, future)
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish within {GIVE_UP:?}"))
}

async fn a_batch_runs_side_by_side_and_records_every_outcome(t: TestDb) {
    let tenant = TenantId::new();
    let oldest = Utc::now() - TimeDelta::minutes(1);
    let mut ids = Vec::new();
    let subjects = ["done", "retry", "fail", "panic"]
        .into_iter()
        .chain(["done"; 6]);
    for (n, subject) in subjects.enumerate() {
        let run_at = oldest + TimeDelta::seconds(i64::try_from(n).unwrap());
        ids.push(enqueue_about(&t.db, tenant, "test.batch", subject, run_at).await);
    }
    // Every run waits until four have started: run one after another, they would wait forever.
    let handler = BySubject::new(Some(4));
    let worker = Worker::new(t.db.clone(), "test.batch", handler.clone())
        .concurrency(4)
        .backoff(Duration::from_secs(3600), Duration::from_secs(3600));

    let ran = soon("a batch of four", worker.run_batch()).await.unwrap();
    assert_eq!(ran, 4, "one round runs at most `concurrency` jobs");
    assert_eq!(handler.peak.load(Ordering::SeqCst), 4, "all four at once");
    let runs: Vec<u32> = ids.iter().map(|&id| handler.runs(id)).collect();
    assert_eq!(runs, [1, 1, 1, 1, 0, 0, 0, 0, 0, 0], "the four oldest ran");

    let done = load(&t.db, tenant, ids[0]).await;
    assert_eq!(
        (done.status, done.attempts, done.last_error),
        (JobStatus::Succeeded, 1, None)
    );
    let retried = load(&t.db, tenant, ids[1]).await;
    assert_eq!((retried.status, retried.attempts), (JobStatus::Queued, 1));
    assert_eq!(retried.last_error.as_deref(), Some("try again"));
    assert!(retried.run_at > Utc::now() + TimeDelta::minutes(59));
    let failed = load(&t.db, tenant, ids[2]).await;
    assert_eq!((failed.status, failed.attempts), (JobStatus::Failed, 1));
    assert_eq!(failed.last_error.as_deref(), Some("gave up"));
    let panicked = load(&t.db, tenant, ids[3]).await;
    assert_eq!((panicked.status, panicked.attempts), (JobStatus::Queued, 1));
    assert!(panicked.last_error.unwrap().contains("panicked"));
    for &id in &ids[4..] {
        let waiting = load(&t.db, tenant, id).await;
        assert_eq!((waiting.status, waiting.attempts), (JobStatus::Queued, 0));
    }

    // The next round takes the next four in order; the retries are an hour away.
    assert!(soon("the second batch", worker.run_once()).await.unwrap());
    let runs: Vec<u32> = ids.iter().map(|&id| handler.runs(id)).collect();
    assert_eq!(runs, [1, 1, 1, 1, 1, 1, 1, 1, 0, 0]);
    for &id in &ids[4..8] {
        assert_eq!(load(&t.db, tenant, id).await.status, JobStatus::Succeeded);
    }
}

async fn concurrency_below_one_runs_one_job(t: TestDb) {
    let tenant = TenantId::new();
    for _ in 0..3 {
        enqueue_committed(&t.db, tenant, "test.zero", Utc::now(), 3).await;
    }
    let handler = BySubject::new(None);
    let worker = Worker::new(t.db.clone(), "test.zero", handler.clone()).concurrency(0);
    assert_eq!(worker.run_batch().await.unwrap(), 1);
    assert_eq!(worker.run_batch().await.unwrap(), 1);
    assert_eq!(handler.all_runs().len(), 2);
}

const RACED: usize = 60;

async fn racing_batches_claim_disjoint_jobs(t: TestDb) {
    let tenant = TenantId::new();
    let mut ids = Vec::new();
    for _ in 0..RACED {
        ids.push(enqueue_about(&t.db, tenant, "test.race_batch", "pause", Utc::now()).await);
    }
    let handler = BySubject::new(None);
    // Two workers, each with its own pool, as two processes would have.
    let mut tasks = Vec::new();
    for db in [t.db.clone(), t.reconnect().await] {
        let worker = Worker::new(db, "test.race_batch", handler.clone()).concurrency(8);
        tasks.push(tokio::spawn(async move {
            let mut ran = 0;
            loop {
                match worker.run_batch().await.unwrap() {
                    0 => break ran,
                    batch => ran += batch,
                }
            }
        }));
    }
    let mut total = 0;
    for task in tasks {
        total += soon("a racing worker", task).await.unwrap();
    }

    assert_eq!(total, RACED, "the claims add up to the jobs");
    let runs = handler.all_runs();
    assert_eq!(runs.len(), RACED);
    assert!(
        runs.values().all(|&n| n == 1),
        "every job ran exactly once: {runs:?}"
    );
    for id in ids {
        assert_eq!(load(&t.db, tenant, id).await.status, JobStatus::Succeeded);
    }
}

async fn a_batch_takes_over_expired_leases_among_queued_jobs(t: TestDb) {
    let tenant = TenantId::new();
    let long_ago = Utc::now() - TimeDelta::minutes(1);
    let stuck = enqueue_about(&t.db, tenant, "test.mixed", "stuck", long_ago).await;
    let mut queued = Vec::new();
    for n in 0..3 {
        let run_at = long_ago + TimeDelta::seconds(10 + n);
        queued.push(enqueue_about(&t.db, tenant, "test.mixed", "done", run_at).await);
    }
    // A worker claims the oldest job and never comes back, as if it had crashed.
    let hangs = Arc::new(Hangs::default());
    let crashed =
        Worker::new(t.db.clone(), "test.mixed", hangs.clone()).lease(Duration::from_millis(50));
    let hung = tokio::spawn(async move { crashed.run_once().await });
    soon("the first claim", hangs.started.notified()).await;
    assert_eq!(load(&t.db, tenant, stuck).await.status, JobStatus::Running);
    tokio::time::sleep(Duration::from_millis(100)).await; // the lease expires

    // One batch of two: the expired job and the oldest queued one, across both cases.
    let handler = BySubject::new(None);
    let rescuer = Worker::new(t.db.clone(), "test.mixed", handler.clone()).concurrency(2);
    assert_eq!(soon("the rescue", rescuer.run_batch()).await.unwrap(), 2);
    let rescued = load(&t.db, tenant, stuck).await;
    assert_eq!(
        (rescued.status, rescued.attempts),
        (JobStatus::Succeeded, 2)
    );
    assert_eq!(
        load(&t.db, tenant, queued[0]).await.status,
        JobStatus::Succeeded
    );
    for &id in &queued[1..] {
        assert_eq!(load(&t.db, tenant, id).await.attempts, 0, "not claimed yet");
    }
    assert_eq!(rescuer.run_batch().await.unwrap(), 2);
    assert_eq!(rescuer.run_batch().await.unwrap(), 0);
    // Each job ran once here; the stuck one had run before, on the crashed worker.
    assert_eq!(handler.runs(stuck), 1);
    for id in queued {
        assert_eq!(handler.runs(id), 1);
    }
    hung.abort();
}

async fn full_batches_follow_each_other_without_waiting(t: TestDb) {
    let tenant = TenantId::new();
    let mut ids = Vec::new();
    for _ in 0..10 {
        ids.push(enqueue_committed(&t.db, tenant, "test.drain", Utc::now(), 3).await);
    }
    let handler = BySubject::new(None);
    let worker = Worker::new(t.db.clone(), "test.drain", handler.clone())
        .concurrency(4)
        .poll_interval(LONG_POLL);
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(worker.run(shutdown.clone()));

    // Rounds of 4, 4 and 2: only the last, partial one waits for the next poll.
    wait_until(&t.db, tenant, &ids, JobStatus::Succeeded, PROMPTLY).await;
    assert_eq!(handler.all_runs().len(), 10);
    shutdown.cancel();
    soon("the worker's shutdown", running).await.unwrap();
}

async fn a_poked_worker_runs_a_new_job_at_once(t: TestDb) {
    let tenant = TenantId::new();
    let handler = BySubject::new(None);
    let wake = Arc::new(Notify::new());
    let worker = Worker::new(t.db.clone(), "test.wake", handler.clone())
        .concurrency(2)
        .poll_interval(LONG_POLL)
        .wake_on(wake.clone());
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(worker.run(shutdown.clone()));
    tokio::time::sleep(Duration::from_millis(200)).await; // found nothing; idle for a minute

    let first = enqueue_about(&t.db, tenant, "test.wake", "done", Utc::now()).await;
    wake.notify_one();
    wait_until(&t.db, tenant, &[first], JobStatus::Succeeded, PROMPTLY).await;

    // A poke while the worker is busy is kept for when it is done.
    let held = enqueue_about(&t.db, tenant, "test.wake", "hold", Utc::now()).await;
    wake.notify_one();
    soon("the held job's start", handler.started.notified()).await;
    let second = enqueue_about(&t.db, tenant, "test.wake", "done", Utc::now()).await;
    wake.notify_one();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(handler.runs(second), 0, "the worker is still busy");
    handler.release.notify_one();
    wait_until(
        &t.db,
        tenant,
        &[held, second],
        JobStatus::Succeeded,
        PROMPTLY,
    )
    .await;

    shutdown.cancel();
    soon("the worker's shutdown", running).await.unwrap();
    assert_eq!(handler.all_runs().len(), 3);
}

crate::on_every_backend!(
    a_batch_runs_side_by_side_and_records_every_outcome,
    concurrency_below_one_runs_one_job,
    racing_batches_claim_disjoint_jobs,
    a_batch_takes_over_expired_leases_among_queued_jobs,
    full_batches_follow_each_other_without_waiting,
    a_poked_worker_runs_a_new_job_at_once,
);

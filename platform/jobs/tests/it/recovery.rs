//! A worker that dies (or overruns its lease) loses no job: another worker takes it over.

use crate::support::{Scripted, TestDb, enqueue_committed, load, run_when_due};
use chrono::Utc;
use mercato_jobs::{Job, JobHandler, JobOutcome, JobStatus, Worker};
use mercato_tenant_context::TenantId;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use tokio::sync::Notify;

/// Its first run hangs until released, like a worker that crashed mid-job; later runs finish.
#[derive(Default)]
struct HangsFirst {
    runs: AtomicU32,
    started: Notify,
    release: Notify,
}

#[async_trait::async_trait]
impl JobHandler for HangsFirst {
    async fn run(&self, _job: &Job) -> JobOutcome {
        if self.runs.fetch_add(1, Ordering::SeqCst) == 0 {
            self.started.notify_one();
            self.release.notified().await;
        }
        JobOutcome::Done
    }
}

/// Starts `worker.run_once()` in the background and waits until its handler is running.
async fn claim_and_hang(worker: &Worker, handler: &HangsFirst) -> tokio::task::JoinHandle<bool> {
    let first = worker.clone();
    let task = tokio::spawn(async move { first.run_once().await.unwrap() });
    handler.started.notified().await;
    task
}

async fn expired_lease_is_taken_over(t: TestDb) {
    let tenant = TenantId::new();
    let id = enqueue_committed(&t.db, tenant, "test.crash", Utc::now(), 3).await;
    let handler = Arc::new(HangsFirst::default());
    let crashed =
        Worker::new(t.db.clone(), "test.crash", handler.clone()).lease(Duration::from_millis(50));
    let first = claim_and_hang(&crashed, &handler).await;
    let claimed = load(&t.db, tenant, id).await;
    assert_eq!((claimed.status, claimed.attempts), (JobStatus::Running, 1));

    let rescuer = Worker::new(t.db.clone(), "test.crash", handler.clone());
    run_when_due(&rescuer).await; // once the 50 ms lease has expired
    let rescued = load(&t.db, tenant, id).await;
    assert_eq!(
        (rescued.status, rescued.attempts),
        (JobStatus::Succeeded, 2)
    );
    assert_eq!(handler.runs.load(Ordering::SeqCst), 2);

    // The first worker comes back late: its outcome is stale and is dropped.
    handler.release.notify_one();
    assert!(first.await.unwrap());
    assert_eq!(load(&t.db, tenant, id).await, rescued);
}

async fn live_lease_is_not_taken_over(t: TestDb) {
    let tenant = TenantId::new();
    let id = enqueue_committed(&t.db, tenant, "test.busy", Utc::now(), 3).await;
    let handler = Arc::new(HangsFirst::default());
    let busy =
        Worker::new(t.db.clone(), "test.busy", handler.clone()).lease(Duration::from_secs(3600));
    let first = claim_and_hang(&busy, &handler).await;

    let other = Worker::new(t.db.clone(), "test.busy", handler.clone());
    assert!(
        !other.run_once().await.unwrap(),
        "the job is leased to the first worker"
    );
    handler.release.notify_one();
    assert!(first.await.unwrap());
    let done = load(&t.db, tenant, id).await;
    assert_eq!((done.status, done.attempts), (JobStatus::Succeeded, 1));
    assert_eq!(handler.runs.load(Ordering::SeqCst), 1);
}

async fn job_lost_on_its_last_attempt_fails(t: TestDb) {
    let tenant = TenantId::new();
    let id = enqueue_committed(&t.db, tenant, "test.last", Utc::now(), 1).await;
    let handler = Arc::new(HangsFirst::default());
    let crashed =
        Worker::new(t.db.clone(), "test.last", handler.clone()).lease(Duration::from_millis(50));
    let first = claim_and_hang(&crashed, &handler).await;

    let rescuer = Worker::new(t.db.clone(), "test.last", handler.clone());
    run_when_due(&rescuer).await;
    let failed = load(&t.db, tenant, id).await;
    assert_eq!((failed.status, failed.attempts), (JobStatus::Failed, 2));
    assert_eq!(
        failed.last_error.as_deref(),
        Some("the lease expired on the last attempt")
    );
    assert_eq!(
        handler.runs.load(Ordering::SeqCst),
        1,
        "not run beyond max_attempts"
    );

    handler.release.notify_one();
    assert!(first.await.unwrap());
    assert_eq!(load(&t.db, tenant, id).await.status, JobStatus::Failed);
}

async fn panicking_handler_is_retried(t: TestDb) {
    let tenant = TenantId::new();
    let id = enqueue_committed(&t.db, tenant, "test.panic", Utc::now(), 3).await;
    let handler = Scripted::new(|_, nth| {
        if nth == 1 {
            panic!("handler bug")
        } else {
            JobOutcome::Done
        }
    });
    let worker = Worker::new(t.db.clone(), "test.panic", handler.clone())
        .backoff(Duration::from_millis(5), Duration::from_millis(5));

    assert!(
        worker.run_once().await.unwrap(),
        "the worker survives the panic"
    );
    let retried = load(&t.db, tenant, id).await;
    assert_eq!((retried.status, retried.attempts), (JobStatus::Queued, 1));
    assert!(retried.last_error.unwrap().contains("panicked"));
    run_when_due(&worker).await;
    assert_eq!(load(&t.db, tenant, id).await.status, JobStatus::Succeeded);
}

crate::on_every_backend!(
    expired_lease_is_taken_over,
    live_lease_is_not_taken_over,
    job_lost_on_its_last_attempt_fails,
    panicking_handler_is_retried,
);

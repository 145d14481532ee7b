//! Retries back off exponentially and stop when the attempts are used up.

use crate::support::{Scripted, TestDb, enqueue_committed, load, run_when_due};
use chrono::{TimeDelta, Utc};
use mercato_jobs::{JobOutcome, JobStatus, Worker};
use mercato_tenant_context::TenantId;
use std::time::Duration;

const BASE: Duration = Duration::from_millis(10);

async fn retries_with_backoff_then_succeeds(t: TestDb) {
    let tenant = TenantId::new();
    let first_run_at = Utc::now();
    let id = enqueue_committed(&t.db, tenant, "test.retry", first_run_at, 5).await;
    let handler = Scripted::new(|_, nth| {
        if nth <= 2 {
            JobOutcome::Retry(format!("try {nth}"))
        } else {
            JobOutcome::Done
        }
    });
    let worker = Worker::new(t.db.clone(), "test.retry", handler.clone())
        .backoff(BASE, Duration::from_secs(1));

    assert!(worker.run_once().await.unwrap());
    let after_1 = load(&t.db, tenant, id).await;
    assert_eq!((after_1.status, after_1.attempts), (JobStatus::Queued, 1));
    assert_eq!(after_1.last_error.as_deref(), Some("try 1"));
    // Retry n is due base * 2^(n-1) after the failure was recorded.
    assert_eq!(
        after_1.run_at - after_1.updated_at,
        TimeDelta::milliseconds(10)
    );
    assert!(after_1.run_at > first_run_at);

    run_when_due(&worker).await;
    let after_2 = load(&t.db, tenant, id).await;
    assert_eq!((after_2.status, after_2.attempts), (JobStatus::Queued, 2));
    assert_eq!(after_2.last_error.as_deref(), Some("try 2"));
    assert_eq!(
        after_2.run_at - after_2.updated_at,
        TimeDelta::milliseconds(20)
    );
    assert!(after_2.run_at > after_1.run_at);

    run_when_due(&worker).await;
    let done = load(&t.db, tenant, id).await;
    assert_eq!((done.status, done.attempts), (JobStatus::Succeeded, 3));
    assert_eq!(
        done.last_error.as_deref(),
        Some("try 2"),
        "the last failure stays visible"
    );
    assert_eq!(handler.runs(id), 3);
    assert!(
        !worker.run_once().await.unwrap(),
        "a succeeded job does not run again"
    );
}

async fn fails_when_attempts_are_used_up(t: TestDb) {
    let tenant = TenantId::new();
    let id = enqueue_committed(&t.db, tenant, "test.exhaust", Utc::now(), 2).await;
    let handler = Scripted::new(|_, nth| JobOutcome::Retry(format!("still down ({nth})")));
    let worker = Worker::new(t.db.clone(), "test.exhaust", handler.clone()).backoff(BASE, BASE);

    assert!(worker.run_once().await.unwrap());
    assert_eq!(load(&t.db, tenant, id).await.status, JobStatus::Queued);
    run_when_due(&worker).await;

    let failed = load(&t.db, tenant, id).await;
    assert_eq!(
        (failed.status, failed.attempts, failed.max_attempts),
        (JobStatus::Failed, 2, 2)
    );
    assert_eq!(failed.last_error.as_deref(), Some("still down (2)"));
    tokio::time::sleep(BASE * 3).await;
    assert!(
        !worker.run_once().await.unwrap(),
        "a failed job does not run again"
    );
    assert_eq!(handler.runs(id), 2);
}

async fn fail_gives_up_at_once(t: TestDb) {
    let tenant = TenantId::new();
    let id = enqueue_committed(&t.db, tenant, "test.fail", Utc::now(), 5).await;
    let handler = Scripted::new(|_, _| JobOutcome::Fail("the order no longer exists".to_owned()));
    let worker = Worker::new(t.db.clone(), "test.fail", handler.clone()).backoff(BASE, BASE);

    assert!(worker.run_once().await.unwrap());
    let failed = load(&t.db, tenant, id).await;
    assert_eq!((failed.status, failed.attempts), (JobStatus::Failed, 1));
    assert_eq!(
        failed.last_error.as_deref(),
        Some("the order no longer exists")
    );
    assert!(!worker.run_once().await.unwrap());
}

crate::on_every_backend!(
    retries_with_backoff_then_succeeds,
    fails_when_attempts_are_used_up,
    fail_gives_up_at_once
);

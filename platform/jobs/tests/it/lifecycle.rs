//! A job exists iff its transaction committed, runs once when due, and survives a restart.

use crate::support::{Scripted, TestDb, enqueue_committed, load};
use chrono::{TimeDelta, Utc};
use mercato_jobs::{JobStatus, NewJob, Worker, enqueue, enqueue_all, find, latest_for};
use mercato_tenant_context::TenantId;
use serde_json::json;

async fn rolled_back_job_never_runs(t: TestDb) {
    let tenant = TenantId::new();
    let tx = t.db.tenant_tx(tenant).await.unwrap();
    let id = enqueue(
        &*tx,
        NewJob {
            tenant,
            kind: "test.rollback",
            subject: None,
            payload: json!({}),
            run_at: Utc::now(),
            max_attempts: 3,
        },
    )
    .await
    .unwrap();
    drop(tx); // the change that needed the job failed: rolled back

    let handler = Scripted::done();
    let worker = Worker::new(t.db.clone(), "test.rollback", handler.clone());
    assert!(!worker.run_once().await.unwrap(), "nothing to run");
    assert_eq!(handler.runs(id), 0);
    let tx = t.db.tenant_tx(tenant).await.unwrap();
    assert_eq!(find(&*tx, tenant, id).await.unwrap(), None);
}

async fn due_job_runs_once_and_future_job_waits(t: TestDb) {
    let tenant = TenantId::new();
    let due = enqueue_committed(&t.db, tenant, "test.due", Utc::now(), 3).await;
    let later = enqueue_committed(
        &t.db,
        tenant,
        "test.due",
        Utc::now() + TimeDelta::hours(1),
        3,
    )
    .await;
    let handler = Scripted::done();

    // A worker of another kind leaves them alone.
    let other = Worker::new(t.db.clone(), "test.other", handler.clone());
    assert!(!other.run_once().await.unwrap());

    let worker = Worker::new(t.db.clone(), "test.due", handler.clone());
    assert!(worker.run_once().await.unwrap(), "the due job runs");
    assert!(!worker.run_once().await.unwrap(), "nothing else is due");
    assert_eq!(handler.runs(due), 1);
    assert_eq!(handler.runs(later), 0);

    let done = load(&t.db, tenant, due).await;
    assert_eq!(
        (done.status, done.attempts, done.last_error),
        (JobStatus::Succeeded, 1, None)
    );
    let waiting = load(&t.db, tenant, later).await;
    assert_eq!((waiting.status, waiting.attempts), (JobStatus::Queued, 0));
}

async fn find_and_latest_for_show_a_tenants_jobs(t: TestDb) {
    let tenant = TenantId::new();
    let run_at = Utc::now() + TimeDelta::minutes(30);
    let tx = t.db.tenant_tx(tenant).await.unwrap();
    let mut ids = Vec::new();
    for (subject, n) in [("ord_1", 1), ("ord_1", 2), ("ord_2", 3)] {
        let job = NewJob {
            tenant,
            kind: "orders.expire",
            subject: Some(subject.to_owned()),
            payload: json!({ "order": subject, "n": n, "note": "ünïcode ✓" }),
            run_at,
            max_attempts: 0, // counts as 1
        };
        ids.push(enqueue(&*tx, job).await.unwrap());
    }
    tx.commit().await.unwrap();

    let tx = t.db.tenant_tx(tenant).await.unwrap();
    let job = find(&*tx, tenant, ids[0]).await.unwrap().unwrap();
    assert_eq!(
        (job.id, job.tenant, job.kind.as_str()),
        (ids[0], tenant, "orders.expire")
    );
    assert_eq!(job.subject.as_deref(), Some("ord_1"));
    assert_eq!(
        job.payload,
        json!({ "order": "ord_1", "n": 1, "note": "ünïcode ✓" })
    );
    assert_eq!(
        (job.status, job.attempts, job.max_attempts),
        (JobStatus::Queued, 0, 1)
    );
    assert_eq!(job.run_at.timestamp_micros(), run_at.timestamp_micros());
    assert_eq!(job.created_at, job.updated_at);

    let latest = latest_for(&*tx, tenant, "orders.expire", "ord_1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(latest.id, ids[1], "the newer of the two jobs about ord_1");
    assert_eq!(
        latest_for(&*tx, tenant, "orders.expire", "ord_2")
            .await
            .unwrap()
            .unwrap()
            .id,
        ids[2]
    );
    assert_eq!(
        latest_for(&*tx, tenant, "orders.expire", "ord_3")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        latest_for(&*tx, tenant, "orders.other", "ord_1")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        latest_for(&*tx, TenantId::new(), "orders.expire", "ord_1")
            .await
            .unwrap(),
        None
    );
    assert_eq!(find(&*tx, TenantId::new(), ids[0]).await.unwrap(), None);

    let shown = serde_json::to_value(&job).unwrap();
    assert_eq!(shown["status"], "queued");
    assert_eq!(shown["id"], ids[0].to_string());
}

async fn jobs_survive_a_restart(t: TestDb) {
    let tenant = TenantId::new();
    let id = enqueue_committed(&t.db, tenant, "test.restart", Utc::now(), 3).await;
    t.db.clone().close().await.unwrap(); // the process stops (closing a clone closes the pool)

    let db = t.reconnect().await; // and starts again
    let handler = Scripted::done();
    let worker = Worker::new(db.clone(), "test.restart", handler.clone());
    assert!(worker.run_once().await.unwrap());
    assert_eq!(handler.runs(id), 1);
    assert_eq!(load(&db, tenant, id).await.status, JobStatus::Succeeded);
}

/// Jobs queued together exist together, each as `enqueue` would have stored it, and each
/// runs once; in a rolled-back transaction none of them does.
async fn jobs_queued_together_commit_and_run_each(t: TestDb) {
    let tenant = TenantId::new();
    let job = |n: i32| NewJob {
        tenant,
        kind: "test.together",
        subject: Some(format!("doc_{n}")),
        payload: json!({ "n": n }),
        run_at: Utc::now(),
        max_attempts: n,
    };
    let tx = t.db.tenant_tx(tenant).await.unwrap();
    let dropped = enqueue_all(&*tx, vec![job(7), job(8)]).await.unwrap();
    drop(tx);
    let tx = t.db.tenant_tx(tenant).await.unwrap();
    assert!(enqueue_all(&*tx, Vec::new()).await.unwrap().is_empty());
    let ids = enqueue_all(&*tx, (1..=3).map(job).collect()).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(ids.len(), 3);
    for (n, id) in (1..=3).zip(&ids) {
        let stored = load(&t.db, tenant, *id).await;
        assert_eq!(
            (
                stored.subject.as_deref(),
                &stored.payload,
                stored.max_attempts,
                stored.status
            ),
            (
                Some(format!("doc_{n}").as_str()),
                &json!({ "n": n }),
                n,
                JobStatus::Queued
            )
        );
    }
    let handler = Scripted::done();
    let worker = Worker::new(t.db.clone(), "test.together", handler.clone()).concurrency(8);
    assert!(worker.run_once().await.unwrap());
    assert!(
        !worker.run_once().await.unwrap(),
        "each ran in the first round"
    );
    for id in &ids {
        assert_eq!(handler.runs(*id), 1);
    }
    for id in &dropped {
        assert_eq!(handler.runs(*id), 0, "a rolled-back job never runs");
    }
}

crate::on_every_backend!(
    jobs_queued_together_commit_and_run_each,
    rolled_back_job_never_runs,
    due_job_runs_once_and_future_job_waits,
    find_and_latest_for_show_a_tenants_jobs,
    jobs_survive_a_restart,
);

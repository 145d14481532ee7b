//! Racing workers run each job exactly once; one shop cannot see another's jobs.

use crate::support::{Scripted, TestDb, enqueue_committed, load};
use chrono::Utc;
use mercato_db::sea_orm::{ConnectionTrait, Statement};
use mercato_jobs::{JobOutcome, JobStatus, NewJob, Worker, enqueue, find, latest_for};
use mercato_tenant_context::TenantId;
use serde_json::json;
use std::time::Duration;

const JOBS: usize = 40;

async fn racing_workers_run_each_job_once(t: TestDb) {
    let tenant = TenantId::new();
    let mut ids = Vec::new();
    for _ in 0..JOBS {
        ids.push(enqueue_committed(&t.db, tenant, "test.race", Utc::now(), 3).await);
    }
    let handler = Scripted::new(|_, _| {
        std::thread::sleep(Duration::from_millis(1)); // hold the job a moment so claims interleave
        JobOutcome::Done
    });
    // Two workers, each with its own pool, as two processes would have.
    let mut tasks = Vec::new();
    for db in [t.db.clone(), t.reconnect().await] {
        let worker = Worker::new(db, "test.race", handler.clone());
        tasks.push(tokio::spawn(async move {
            let mut ran = 0;
            while worker.run_once().await.unwrap() {
                ran += 1;
            }
            ran
        }));
    }
    let mut total = 0;
    for task in tasks {
        total += task.await.unwrap();
    }

    assert_eq!(total, JOBS);
    let runs = handler.all_runs();
    assert_eq!(runs.len(), JOBS);
    assert!(
        runs.values().all(|&n| n == 1),
        "every job ran exactly once: {runs:?}"
    );
    for id in ids {
        assert_eq!(load(&t.db, tenant, id).await.status, JobStatus::Succeeded);
    }
}

async fn jobs_are_invisible_to_other_tenants(t: TestDb) {
    let (a, b) = (TenantId::new(), TenantId::new());
    let tx = t.db.tenant_tx(a).await.unwrap();
    let job = NewJob {
        tenant: a,
        kind: "test.private",
        subject: Some("ord_a".to_owned()),
        payload: json!({}),
        run_at: Utc::now(),
        max_attempts: 1,
    };
    let id = enqueue(&*tx, job.clone()).await.unwrap();
    tx.commit().await.unwrap();

    let as_b = t.db.tenant_tx(b).await.unwrap();
    assert_eq!(find(&*as_b, b, id).await.unwrap(), None);
    assert_eq!(
        latest_for(&*as_b, b, "test.private", "ord_a")
            .await
            .unwrap(),
        None
    );
    if t.is_postgres() {
        // Row-level security: even asking for tenant A's rows from B's transaction finds nothing.
        assert_eq!(find(&*as_b, a, id).await.unwrap(), None);
        assert_eq!(
            latest_for(&*as_b, a, "test.private", "ord_a")
                .await
                .unwrap(),
            None
        );
        assert_eq!(count_jobs(&*as_b).await, 0);
        assert!(
            enqueue(&*as_b, job).await.is_err(),
            "B cannot write a job for A"
        );
    }
    drop(as_b);

    let as_a = t.db.tenant_tx(a).await.unwrap();
    assert_eq!(find(&*as_a, a, id).await.unwrap().map(|j| j.id), Some(id));
    assert_eq!(count_jobs(&*as_a).await, 1);
}

async fn count_jobs(conn: &impl ConnectionTrait) -> i64 {
    let row = conn
        .query_one_raw(Statement::from_string(
            conn.get_database_backend(),
            "SELECT COUNT(*) AS n FROM jobs",
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get("", "n").unwrap()
}

crate::on_every_backend!(
    racing_workers_run_each_job_once,
    jobs_are_invisible_to_other_tenants
);

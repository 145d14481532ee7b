//! Retention: succeeded and failed jobs finished longer ago than the window are purged;
//! queued and running jobs, and anything finished within the window, stay.

use crate::on_every_backend;
use crate::support::{Scripted, TestDb, enqueue_committed};
use chrono::{DateTime, TimeDelta, Utc};
use mercato_jobs::{JobId, JobOutcome, KEEP_FINISHED, Worker, find, purge_finished, sweep_every};
use mercato_tenant_context::TenantId;
use sea_orm::{ConnectionTrait, Statement};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

on_every_backend!(
    purges_finished_jobs_past_the_window_only,
    sweeps_at_once_and_stops_on_shutdown,
);

/// Makes a job look as if its status was last set at `at`.
async fn set(t: &TestDb, id: JobId, status: &str, at: DateTime<Utc>) {
    let tx = t.db.platform_tx("test ageing").await.unwrap();
    tx.execute_raw(Statement::from_sql_and_values(
        tx.get_database_backend(),
        "UPDATE jobs SET status = $1, updated_at = $2 WHERE id = $3",
        [status.into(), at.into(), id.as_uuid().into()],
    ))
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

async fn exists(t: &TestDb, tenant: TenantId, id: JobId) -> bool {
    let tx = t.db.tenant_tx(tenant).await.unwrap();
    find(&*tx, tenant, id).await.unwrap().is_some()
}

async fn purges_finished_jobs_past_the_window_only(t: TestDb) {
    let (shop, other) = (TenantId::new(), TenantId::new());
    let now = Utc::now();
    let kind = "test.retention";
    let succeeded = enqueue_committed(&t.db, shop, kind, now, 1).await;
    let failed = enqueue_committed(&t.db, other, kind, now, 1).await;
    let recent = enqueue_committed(&t.db, shop, kind, now, 1).await;
    let handler = Scripted::new(move |job, _| {
        if job.id == failed {
            JobOutcome::Fail("gave up".into())
        } else {
            JobOutcome::Done
        }
    });
    let worker = Worker::new(t.db.clone(), kind, handler.clone()).concurrency(10);
    assert_eq!(worker.run_batch().await.unwrap(), 3);
    // Waiting and in-flight jobs, as old as can be: not finished, so never purged.
    let queued = enqueue_committed(&t.db, shop, kind, now + TimeDelta::days(30), 1).await;
    let running = enqueue_committed(&t.db, shop, kind, now + TimeDelta::days(30), 1).await;

    let past_window = now - KEEP_FINISHED - TimeDelta::hours(1);
    set(&t, succeeded, "succeeded", past_window).await;
    set(&t, failed, "failed", past_window).await;
    set(
        &t,
        recent,
        "succeeded",
        now - KEEP_FINISHED + TimeDelta::hours(1),
    )
    .await;
    set(&t, queued, "queued", past_window).await;
    set(&t, running, "running", past_window).await;

    assert_eq!(purge_finished(&t.db, now - KEEP_FINISHED).await.unwrap(), 2);

    assert!(
        !exists(&t, shop, succeeded).await,
        "succeeded before the window: gone"
    );
    assert!(
        !exists(&t, other, failed).await,
        "failed for good before the window: gone"
    );
    assert!(
        exists(&t, shop, recent).await,
        "finished within the window: kept"
    );
    assert!(exists(&t, shop, queued).await, "queued: kept");
    assert!(exists(&t, shop, running).await, "running: kept");
    assert_eq!(purge_finished(&t.db, now - KEEP_FINISHED).await.unwrap(), 0);
}

async fn sweeps_at_once_and_stops_on_shutdown(t: TestDb) {
    let shop = TenantId::new();
    let kind = "test.sweep";
    let job = enqueue_committed(&t.db, shop, kind, Utc::now(), 1).await;
    let worker = Worker::new(t.db.clone(), kind, Scripted::done());
    assert!(worker.run_once().await.unwrap());

    let rounds = Arc::new(AtomicU32::new(0));
    let shutdown = CancellationToken::new();
    let sweep = {
        let (db, rounds) = (t.db.clone(), Arc::clone(&rounds));
        // An hour between rounds: only the first, at start, can run during the test.
        tokio::spawn(sweep_every(
            "test",
            Duration::from_secs(3600),
            shutdown.clone(),
            move || {
                let (db, rounds) = (db.clone(), Arc::clone(&rounds));
                async move {
                    rounds.fetch_add(1, Ordering::SeqCst);
                    // A window of nothing: every finished job is past it.
                    purge_finished(&db, Utc::now() + TimeDelta::seconds(1)).await
                }
            },
        ))
    };
    for _ in 0..500 {
        if !exists(&t, shop, job).await {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        !exists(&t, shop, job).await,
        "the first round runs at start"
    );
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(5), sweep)
        .await
        .expect("the sweep stops on shutdown")
        .unwrap();
    assert_eq!(rounds.load(Ordering::SeqCst), 1);
}

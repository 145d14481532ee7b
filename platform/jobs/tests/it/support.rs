//! The tests' database (the jobs table, on each backend through `mercato_testkit`) and
//! small helpers shared by the job tests.

use chrono::{DateTime, Utc};
use mercato_db::{Db, migrate};
use mercato_jobs::{
    JOBS_MIGRATION, Job, JobHandler, JobId, JobOutcome, NewJob, Worker, enqueue, find,
};
use mercato_tenant_context::TenantId;
use sea_orm::DbErr;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use mercato_testkit::TestDb;

/// The tests' database: the jobs table alone.
pub struct Jobs;

impl mercato_testkit::Schema for Jobs {
    const NAME: &'static str = "jobs";

    async fn migrate(db: &Db) -> Result<(), DbErr> {
        migrate(db, "jobs-test", &[JOBS_MIGRATION]).await
    }
}

/// Declares each listed `async fn(TestDb)` as one test per backend:
/// `<module>::sqlite::<name>` and `<module>::postgres::<name>` (see
/// `mercato_testkit::on_every_database!`).
#[macro_export]
macro_rules! on_every_backend {
    ($($name:ident),* $(,)?) => {
        mercato_testkit::on_every_database!($crate::support::Jobs; $($name),*);
    };
}

/// Enqueues a job in its own committed tenant transaction.
pub async fn enqueue_committed(
    db: &Db,
    tenant: TenantId,
    kind: &'static str,
    run_at: DateTime<Utc>,
    max_attempts: i32,
) -> JobId {
    let tx = db.tenant_tx(tenant).await.expect("begin");
    let id = enqueue(
        &*tx,
        NewJob {
            tenant,
            kind,
            subject: None,
            payload: serde_json::json!({"n": 1}),
            run_at,
            max_attempts,
        },
    )
    .await
    .expect("enqueue");
    tx.commit().await.expect("commit");
    id
}

/// Reads a job as the API would, in the tenant's transaction.
pub async fn load(db: &Db, tenant: TenantId, id: JobId) -> Job {
    let tx = db.tenant_tx(tenant).await.expect("begin");
    find(&*tx, tenant, id)
        .await
        .expect("find")
        .expect("the job exists")
}

/// Calls `run_once` until a job ran, for jobs that become due in a few milliseconds (a retry
/// after a tiny backoff, an expiring lease). Gives up after ten seconds.
pub async fn run_when_due(worker: &Worker) {
    for _ in 0..2000 {
        if worker.run_once().await.expect("run_once") {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("no job became due");
}

type Decide = dyn Fn(&Job, u32) -> JobOutcome + Send + Sync;

/// A handler that counts its runs per job and answers with `decide(job, nth run)`.
pub struct Scripted {
    runs: Mutex<HashMap<JobId, u32>>,
    decide: Box<Decide>,
}

impl Scripted {
    pub fn new(decide: impl Fn(&Job, u32) -> JobOutcome + Send + Sync + 'static) -> Arc<Self> {
        Arc::new(Self {
            runs: Mutex::new(HashMap::new()),
            decide: Box::new(decide),
        })
    }

    pub fn done() -> Arc<Self> {
        Self::new(|_, _| JobOutcome::Done)
    }

    pub fn runs(&self, id: JobId) -> u32 {
        self.runs.lock().unwrap().get(&id).copied().unwrap_or(0)
    }

    pub fn all_runs(&self) -> HashMap<JobId, u32> {
        self.runs.lock().unwrap().clone()
    }
}

#[async_trait::async_trait]
impl JobHandler for Scripted {
    async fn run(&self, job: &Job) -> JobOutcome {
        let nth = {
            let mut runs = self.runs.lock().unwrap();
            let count = runs.entry(job.id).or_default();
            *count += 1;
            *count
        };
        (self.decide)(job, nth)
    }
}

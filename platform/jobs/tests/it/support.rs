//! The backend matrix and small helpers shared by the job tests.

use chrono::{DateTime, Utc};
use mercato_db::{Db, DbTarget, migrate};
use mercato_jobs::{
    JOBS_MIGRATION, Job, JobHandler, JobId, JobOutcome, NewJob, Worker, enqueue, find,
};
use mercato_tenant_context::TenantId;
use sea_orm::ConnectionTrait as _;
use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, Clone)]
enum Target {
    Sqlite(PathBuf),
    Postgres { url: String, schema: String },
}

/// A migrated database of its own for one test.
pub struct TestDb {
    pub db: Db,
    target: Target,
}

impl TestDb {
    /// A new pool on the same database, as a restarted process would open.
    pub async fn reconnect(&self) -> Db {
        open(&self.target).await
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self.target, Target::Postgres { .. })
    }
}

async fn open(target: &Target) -> Db {
    let db = match target {
        Target::Sqlite(path) => Db::connect(DbTarget::Sqlite(path), 5).await,
        Target::Postgres { url, schema } => {
            Db::connect(DbTarget::Postgres { url, schema }, 5).await
        }
    }
    .expect("connect to the test database");
    migrate(&db, "jobs-test", &[JOBS_MIGRATION])
        .await
        .expect("migrate");
    db
}

/// Runs `body` against a fresh database on `backend`. PostgreSQL needs
/// `MERCATO_TEST_POSTGRES_URL`; without it the test is skipped (or fails when
/// `MERCATO_TEST_REQUIRE_BACKENDS=1`). The test's schema is dropped afterwards, pass or fail.
pub async fn run<F, Fut>(backend: Backend, test: &str, body: F)
where
    F: FnOnce(TestDb) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut _dir = None;
    let target = match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            let path = dir.path().join("jobs.db");
            _dir = Some(dir);
            Target::Sqlite(path)
        }
        Backend::Postgres => match std::env::var("MERCATO_TEST_POSTGRES_URL") {
            Ok(url) if !url.is_empty() => Target::Postgres {
                url,
                schema: format!("jobs_test_{}", uuid::Uuid::now_v7().simple()),
            },
            _ if std::env::var("MERCATO_TEST_REQUIRE_BACKENDS").as_deref() == Ok("1") => {
                panic!("{test} needs MERCATO_TEST_POSTGRES_URL (MERCATO_TEST_REQUIRE_BACKENDS=1)")
            }
            _ => {
                eprintln!("SKIPPED: {test} needs MERCATO_TEST_POSTGRES_URL");
                return;
            }
        },
    };
    let db = open(&target).await;
    let outcome = tokio::spawn(body(TestDb {
        db,
        target: target.clone(),
    }))
    .await;
    if let Target::Postgres { schema, .. } = &target {
        let admin = open(&target).await;
        admin
            .raw_connection()
            .execute_unprepared(&format!("DROP SCHEMA {schema} CASCADE"))
            .await
            .expect("drop the test schema");
        admin.close().await.expect("close");
    }
    if let Err(error) = outcome {
        std::panic::resume_unwind(error.into_panic());
    }
}

/// Declares each listed `async fn(TestDb)` as one test per backend:
/// `<module>::sqlite::<name>` and `<module>::postgres::<name>`.
#[macro_export]
macro_rules! on_every_backend {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let test = concat!(module_path!(), "::", stringify!($name));
                    $crate::support::run($crate::support::Backend::Sqlite, test, super::$name).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let test = concat!(module_path!(), "::", stringify!($name));
                    $crate::support::run($crate::support::Backend::Postgres, test, super::$name).await;
                }
            )*
        }
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

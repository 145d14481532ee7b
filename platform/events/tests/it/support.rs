//! Backends, throwaway databases and recording handlers shared by the tests.

use async_trait::async_trait;
use mercato_db::{Db, DbTarget, Migration, migrate};
use mercato_events::{
    Bus, BusError, Envelope, Handler, HandlerError, INBOX_MIGRATION, OUTBOX_MIGRATION,
};
use mercato_tenant_context::TenantId;
use sea_orm::{ConnectionTrait, Statement};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

pub const POSTGRES_VAR: &str = "MERCATO_TEST_POSTGRES_URL";
pub const AMQP_VAR: &str = "MERCATO_TEST_AMQP_URL";

/// The URL in `var`, or `None` after saying the test was skipped; CI sets
/// `MERCATO_TEST_REQUIRE_BACKENDS=1` so a missing backend fails instead.
pub fn backend_url(var: &str, test: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("MERCATO_TEST_REQUIRE_BACKENDS").as_deref() == Ok("1") => {
            panic!("{test} needs {var} (MERCATO_TEST_REQUIRE_BACKENDS=1)")
        }
        _ => {
            eprintln!("SKIPPED: {test} needs {var}");
            None
        }
    }
}

/// A name no other test run uses, for schemas and exchanges.
pub fn unique_name(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::now_v7().simple())
}

/// A test-only table the consumer in the redelivery test changes, one row per tenant.
const EFFECTS_MIGRATION: Migration = Migration {
    version: 1,
    name: "test effects",
    sqlite: "CREATE TABLE effects (tenant_id BLOB NOT NULL PRIMARY KEY, applied INTEGER NOT NULL);\n",
    postgres: "CREATE TABLE effects (tenant_id UUID NOT NULL PRIMARY KEY, applied BIGINT NOT NULL);\n",
    tenant_tables: &["effects"],
};

/// A test-only mirror table (see `mirror.rs`): keyed by id, grouped, with a tombstone
/// column and one column of the consumer's own.
const MIRROR_MIGRATION: Migration = Migration::portable(
    2,
    "test mirror",
    "CREATE TABLE mirrored (
    tenant_id UUID NOT NULL,
    id UUID NOT NULL,
    grp UUID NOT NULL,
    name TEXT NOT NULL,
    gone BOOLEAN NOT NULL,
    local_note TEXT NOT NULL,
    synced_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
",
    &["mirrored"],
);

enum Target {
    Sqlite {
        _dir: tempfile::TempDir,
        path: PathBuf,
    },
    Postgres(PgSchema),
}

/// A test's PostgreSQL schema. `TestDb::finish` drops it; if the test panicked first, the
/// guard drops it on the way out so failing runs do not pile up schemas on a shared server.
struct PgSchema {
    url: String,
    name: String,
    dropped: bool,
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        if self.dropped {
            return;
        }
        let (url, name) = (self.url.clone(), self.name.clone());
        clean_up_now(async move {
            let conn = sea_orm::Database::connect(url.as_str()).await?;
            // A panicking test may leave a transaction holding locks; give up rather than hang.
            conn.execute_unprepared("SET lock_timeout = '5s'").await?;
            conn.execute_unprepared(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
                .await?;
            conn.close().await
        });
    }
}

/// Runs an async clean-up to completion from `Drop`, also while a test is panicking: on a
/// thread and runtime of its own, since the test's runtime may be shutting down.
pub fn clean_up_now<E: std::fmt::Display>(
    cleanup: impl Future<Output = Result<(), E>> + Send + 'static,
) {
    let outcome = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        runtime.block_on(cleanup).map_err(|e| e.to_string())
    })
    .join();
    if let Ok(Err(err)) = outcome {
        eprintln!("test clean-up failed: {err}");
    }
}

/// A migrated database of its own for one test.
pub struct TestDb {
    pub db: Db,
    target: Target,
}

impl TestDb {
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.db");
        Self::open(Target::Sqlite { _dir: dir, path }).await
    }

    pub async fn postgres(test: &str) -> Option<Self> {
        let url = backend_url(POSTGRES_VAR, test)?;
        let schema = PgSchema {
            url,
            name: unique_name("evt_test"),
            dropped: false,
        };
        Some(Self::open(Target::Postgres(schema)).await)
    }

    async fn open(target: Target) -> Self {
        let db = connect(&target).await;
        migrate(
            &db,
            "events-test",
            &[
                EFFECTS_MIGRATION,
                MIRROR_MIGRATION,
                OUTBOX_MIGRATION,
                INBOX_MIGRATION,
            ],
        )
        .await
        .unwrap();
        Self { db, target }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self.target, Target::Postgres(_))
    }

    /// What a process restart looks like to the database: every connection closed, a new
    /// pool on the same file or schema, migrations run again.
    pub async fn restart(self) -> Self {
        let Self { db, target } = self;
        db.close().await.unwrap();
        Self::open(target).await
    }

    /// Drops the PostgreSQL schema; the SQLite file goes with its temporary directory.
    pub async fn finish(mut self) {
        if let Target::Postgres(schema) = &mut self.target {
            let drop_schema = format!("DROP SCHEMA {} CASCADE", schema.name);
            self.db
                .raw_connection()
                .execute_unprepared(&drop_schema)
                .await
                .unwrap();
            schema.dropped = true;
        }
        self.db.close().await.unwrap();
    }

    /// Runs a COUNT(*) query as the relay would see it (every tenant).
    pub async fn count(&self, sql: &str) -> i64 {
        let tx = self.db.platform_tx("test count").await.unwrap();
        let row = tx
            .query_one_raw(Statement::from_string(tx.get_database_backend(), sql))
            .await
            .unwrap()
            .unwrap();
        row.try_get_by_index(0).unwrap()
    }

    /// How many times the consumer's effect was applied for `tenant`.
    pub async fn effects(&self, tenant: TenantId) -> i64 {
        let tx = self.db.tenant_tx(tenant).await.unwrap();
        let row = tx
            .query_one_raw(Statement::from_sql_and_values(
                tx.get_database_backend(),
                "SELECT applied FROM effects WHERE tenant_id = $1",
                [tenant.as_uuid().into()],
            ))
            .await
            .unwrap();
        row.map_or(0, |r| r.try_get_by_index(0).unwrap())
    }
}

async fn connect(target: &Target) -> Db {
    let target = match target {
        Target::Sqlite { path, .. } => DbTarget::Sqlite(path),
        Target::Postgres(schema) => DbTarget::Postgres {
            url: &schema.url,
            schema: &schema.name,
        },
    };
    Db::connect(target, 5).await.unwrap()
}

/// Runs each listed `async fn(TestDb)` once on SQLite and once on PostgreSQL.
macro_rules! on_every_database {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$test(crate::support::TestDb::sqlite().await).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let test = format!("{}::{}", module_path!().trim_start_matches("it::"), stringify!($test));
                    let Some(db) = crate::support::TestDb::postgres(&test).await else { return };
                    super::$test(db).await
                }
            )*
        }
    };
}
pub(crate) use on_every_database;

/// A handler that remembers what it was given.
#[derive(Default)]
pub struct Recorder {
    events: Mutex<Vec<Envelope>>,
}

impl Recorder {
    pub fn events(&self) -> Vec<Envelope> {
        self.events.lock().unwrap().clone()
    }

    pub fn names(&self) -> Vec<String> {
        self.events().into_iter().map(|e| e.name).collect()
    }
}

#[async_trait]
impl Handler for Recorder {
    async fn handle(&self, event: &Envelope) -> Result<(), HandlerError> {
        self.events.lock().unwrap().push(event.clone());
        Ok(())
    }
}

/// A relay's bus that dies right after the broker took the event: the publish has
/// happened, the relay never gets to mark the row.
pub struct CrashAfterPublish {
    inner: Arc<dyn Bus>,
    pub published: Notify,
}

impl CrashAfterPublish {
    pub fn new(inner: Arc<dyn Bus>) -> Self {
        Self {
            inner,
            published: Notify::new(),
        }
    }
}

#[async_trait]
impl Bus for CrashAfterPublish {
    async fn publish(&self, event: &Envelope) -> Result<(), BusError> {
        self.inner.publish(event).await?;
        self.published.notify_one();
        std::future::pending().await
    }

    async fn subscribe(
        &self,
        consumer: &str,
        patterns: &[&str],
        handler: Arc<dyn Handler>,
    ) -> Result<(), BusError> {
        self.inner.subscribe(consumer, patterns, handler).await
    }
}

pub fn event(name: &str, tenant: TenantId) -> Envelope {
    Envelope::new(
        name,
        1,
        tenant,
        &serde_json::json!({ "name": name, "n": 1 }),
    )
    .unwrap()
}

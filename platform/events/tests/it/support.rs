//! The tests' database (the event tables and two test-only tables, on each backend through
//! `mercato_testkit`) and recording handlers shared by the tests.

use async_trait::async_trait;
use mercato_db::{Db, Migration, migrate};
use mercato_events::{
    Bus, BusError, Envelope, Handler, HandlerError, INBOX_MIGRATION, OUTBOX_MIGRATION,
};
use mercato_tenant_context::TenantId;
use sea_orm::{ConnectionTrait, DbErr, Statement};
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

pub use mercato_testkit::TestDb;

pub const AMQP_VAR: &str = mercato_testkit::AMQP;

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

/// The tests' database: the outbox and inbox, and the two test-only tables above.
pub struct Events;

impl mercato_testkit::Schema for Events {
    const NAME: &'static str = "evt";

    async fn migrate(db: &Db) -> Result<(), DbErr> {
        migrate(
            db,
            "events-test",
            &[
                EFFECTS_MIGRATION,
                MIRROR_MIGRATION,
                OUTBOX_MIGRATION,
                INBOX_MIGRATION,
            ],
        )
        .await
    }
}

/// What the tests read back from their database.
pub(crate) trait Tables {
    /// Runs a COUNT(*) query as the relay would see it (every tenant).
    async fn count(&self, sql: &str) -> i64;
    /// How many times the consumer's effect was applied for `tenant`.
    async fn effects(&self, tenant: TenantId) -> i64;
}

impl Tables for TestDb {
    async fn count(&self, sql: &str) -> i64 {
        let tx = self.db.platform_tx("test count").await.unwrap();
        let row = tx
            .query_one_raw(Statement::from_string(tx.get_database_backend(), sql))
            .await
            .unwrap()
            .unwrap();
        row.try_get_by_index(0).unwrap()
    }

    async fn effects(&self, tenant: TenantId) -> i64 {
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

/// Runs each listed `async fn(TestDb)` once on SQLite and once on PostgreSQL, on the tests'
/// database (see `mercato_testkit::on_every_database!`).
macro_rules! on_every_database {
    ($($test:ident),* $(,)?) => {
        mercato_testkit::on_every_database!(crate::support::Events; $($test),*);
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

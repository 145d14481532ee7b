//! Retention, service by service: each service's sweep runs against its own schema and
//! purges its old bookkeeping (published outbox rows, inbox records, finished jobs; identity
//! also sent mail and the file mailer's files), while what is recent, or still on its way,
//! stays. And every table a sweep purges by age has the index that purge reads.
//! (The purges themselves are tested row by row in `platform/events` and `platform/jobs`;
//! orders' and inventory's own keys in `orders::retention` and `services/inventory`.)

use crate::rls::SERVICES;
use chrono::{TimeDelta, Utc};
use mercato_db::{Db, DbTarget};
use mercato_tenant_context::TenantId;
use sea_orm::{ConnectionTrait, Statement};
use std::sync::Arc;

/// The platform tables' migrations and the age index each must be followed by.
#[test]
fn every_purged_table_has_its_age_index() {
    let pairs = [
        (
            mercato_events::OUTBOX_MIGRATION,
            mercato_events::OUTBOX_AGE_INDEX_MIGRATION,
        ),
        (
            mercato_events::INBOX_MIGRATION,
            mercato_events::INBOX_AGE_INDEX_MIGRATION,
        ),
        (
            mercato_jobs::JOBS_MIGRATION,
            mercato_jobs::JOBS_AGE_INDEX_MIGRATION,
        ),
    ];
    for (service, sets) in SERVICES {
        for migrations in sets {
            let versions: Vec<i64> = migrations.iter().map(|m| m.version).collect();
            for (table, index) in &pairs {
                if let Some(at) = versions.iter().position(|v| *v == table.version) {
                    let indexed = versions.iter().position(|v| *v == index.version);
                    assert!(
                        indexed.is_some_and(|i| i > at),
                        "{service}: \"{}\" needs \"{}\" after it",
                        table.name,
                        index.name
                    );
                }
            }
        }
    }
}

/// A database for one service: a fresh SQLite file, or a schema of its own on PostgreSQL.
struct ServiceDb {
    db: Db,
    _dir: tempfile::TempDir,
    schema: Option<(String, String)>,
}

impl ServiceDb {
    async fn open(real: bool, test: &str) -> Option<Self> {
        let dir = tempfile::tempdir().unwrap();
        if !real {
            let db = Db::connect(DbTarget::Sqlite(&dir.path().join("service.db")), 2)
                .await
                .unwrap();
            return Some(Self {
                db,
                _dir: dir,
                schema: None,
            });
        }
        let url = mercato_testkit::backend(mercato_testkit::POSTGRES, test)?;
        let schema = mercato_testkit::unique("retention_").replace('-', "");
        let db = Db::connect(
            DbTarget::Postgres {
                url: &url,
                schema: &schema,
            },
            2,
        )
        .await
        .unwrap();
        Some(Self {
            db,
            _dir: dir,
            schema: Some((url, schema)),
        })
    }

    async fn close(self) {
        self.db.close().await.unwrap();
        if let Some((url, schema)) = self.schema {
            crate::support::drop_schemas(&url, &[schema]).await.unwrap();
        }
    }
}

/// What a test writes to one service's bookkeeping: one old and one recent row of each.
#[derive(Clone, Copy)]
struct Tables {
    outbox: bool,
    inbox: bool,
    jobs: bool,
}

async fn write(db: &Db, tenant: TenantId, tables: Tables) {
    let old = Utc::now() - TimeDelta::days(60);
    let tx = db.tenant_tx(tenant).await.unwrap();
    for age in ["old", "recent"] {
        let name = format!("retention.{age}");
        if tables.outbox {
            mercato_events::publish(&*tx, &name, tenant, &serde_json::json!({}))
                .await
                .unwrap();
            // One more that was never published: it stays whatever its age.
            mercato_events::publish(
                &*tx,
                "retention.unpublished",
                tenant,
                &serde_json::json!({}),
            )
            .await
            .unwrap();
        }
        if tables.inbox {
            let event =
                mercato_events::Envelope::new(&name, 1, tenant, &serde_json::json!({})).unwrap();
            assert!(
                mercato_events::mark_processed(&*tx, "retention-test", &event)
                    .await
                    .unwrap()
            );
        }
        if tables.jobs {
            mercato_jobs::enqueue(
                &*tx,
                mercato_jobs::NewJob {
                    tenant,
                    kind: "retention.test",
                    subject: Some(name.clone()),
                    payload: serde_json::json!({}),
                    run_at: Utc::now(),
                    max_attempts: 1,
                },
            )
            .await
            .unwrap();
        }
    }
    // The relay's and the worker's marks, the "old" ones 60 days ago.
    let marks = [
        (
            tables.outbox,
            "UPDATE outbox SET published_at = $1 WHERE name = 'retention.old'",
        ),
        (
            tables.outbox,
            "UPDATE outbox SET published_at = $2 WHERE name = 'retention.recent'",
        ),
        (
            tables.outbox,
            "UPDATE outbox SET occurred_at = $1 WHERE name = 'retention.unpublished'",
        ),
        (
            tables.inbox,
            "UPDATE processed_events SET processed_at = $1 WHERE event_name = 'retention.old'",
        ),
        (
            tables.jobs,
            "UPDATE jobs SET status = 'succeeded', updated_at = $1 WHERE subject = 'retention.old'",
        ),
        (
            tables.jobs,
            "UPDATE jobs SET status = 'failed', updated_at = $2 WHERE subject = 'retention.recent'",
        ),
    ];
    for (applies, sql) in marks {
        if applies {
            let values: Vec<sea_orm::Value> = if sql.contains("$2") {
                vec![old.into(), Utc::now().into()]
            } else {
                vec![old.into()]
            };
            tx.execute_raw(Statement::from_sql_and_values(
                tx.get_database_backend(),
                sql,
                values,
            ))
            .await
            .unwrap();
        }
    }
    tx.commit().await.unwrap();
}

/// The names (or subjects) left in `table`'s `column`, sorted.
async fn left(db: &Db, tenant: TenantId, table: &str, column: &str) -> Vec<String> {
    let tx = db.tenant_read(tenant).await.unwrap();
    let rows = tx
        .query_all_raw(Statement::from_string(
            tx.get_database_backend(),
            format!("SELECT {column} FROM {table} ORDER BY {column}"),
        ))
        .await
        .unwrap();
    rows.iter()
        .map(|row| row.try_get_by_index::<String>(0).unwrap())
        .collect()
}

async fn check_left(db: &Db, tenant: TenantId, tables: Tables) {
    if tables.outbox {
        assert_eq!(
            left(db, tenant, "outbox", "name").await,
            [
                "retention.recent",
                "retention.unpublished",
                "retention.unpublished"
            ]
        );
    }
    if tables.inbox {
        assert_eq!(
            left(db, tenant, "processed_events", "event_name").await,
            ["retention.recent"]
        );
    }
    if tables.jobs {
        assert_eq!(
            left(db, tenant, "jobs", "subject").await,
            ["retention.recent"]
        );
    }
}

async fn each_service_sweeps_its_own_bookkeeping(real: bool, test: &str) {
    let all = Tables {
        outbox: true,
        inbox: true,
        jobs: true,
    };
    let tenant = TenantId::new();

    let Some(tenants) = ServiceDb::open(real, test).await else {
        return;
    };
    mercato_tenants::migrate(&tenants.db).await.unwrap();
    let tables = Tables {
        inbox: false,
        ..all
    };
    write(&tenants.db, tenant, tables).await;
    assert_eq!(
        mercato_tenants::retention::sweep(&tenants.db)
            .await
            .unwrap(),
        2
    );
    check_left(&tenants.db, tenant, tables).await;
    tenants.close().await;

    let vendors = ServiceDb::open(real, test).await.unwrap();
    mercato_vendors::migrate(&vendors.db).await.unwrap();
    let tables = Tables { jobs: false, ..all };
    write(&vendors.db, tenant, tables).await;
    assert_eq!(
        mercato_vendors::retention::sweep(&vendors.db)
            .await
            .unwrap(),
        2
    );
    check_left(&vendors.db, tenant, tables).await;
    vendors.close().await;

    let catalog = ServiceDb::open(real, test).await.unwrap();
    mercato_catalog::migrate(&catalog.db).await.unwrap();
    write(&catalog.db, tenant, all).await;
    assert_eq!(
        mercato_catalog::retention::sweep(&catalog.db)
            .await
            .unwrap(),
        3
    );
    check_left(&catalog.db, tenant, all).await;
    catalog.close().await;

    // Identity: its bookkeeping, and sent mail with the file mailer's files.
    let identity = ServiceDb::open(real, test).await.unwrap();
    mercato_identity::migrate(&identity.db).await.unwrap();
    write(&identity.db, tenant, all).await;
    let mail_dir = identity._dir.path().join("mail");
    let mailer = Arc::new(mercato_identity::mail::FileMailer::new(&mail_dir));
    let sender = mercato_identity::mail::MailSender::new(
        identity.db.clone(),
        mailer,
        "Mercato <no-reply@test>",
    );
    let mut ids = Vec::new();
    for subject in ["old", "recent", "unsent"] {
        let tx = identity.db.tenant_tx(tenant).await.unwrap();
        let id = mercato_identity::repo::mail::insert(&tx, "ada@example.test", subject, "Hello")
            .await
            .unwrap();
        tx.commit().await.unwrap();
        ids.push(id);
    }
    assert!(sender.deliver(tenant, ids[0]).await.unwrap());
    assert!(sender.deliver(tenant, ids[1]).await.unwrap());
    let tx = identity.db.tenant_tx(tenant).await.unwrap();
    tx.execute_raw(Statement::from_sql_and_values(
        tx.get_database_backend(),
        "UPDATE mail_outbox SET sent_at = $1 WHERE subject = 'old'",
        [(Utc::now() - TimeDelta::days(60)).into()],
    ))
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let files: Vec<std::path::PathBuf> = std::fs::read_dir(mail_dir.join(tenant.to_string()))
        .unwrap()
        .map(|f| f.unwrap().path())
        .collect();
    assert_eq!(files.len(), 2, "{files:?}");
    let old_file = files
        .iter()
        .find(|f| f.to_string_lossy().contains(&ids[0].to_string()))
        .unwrap();
    std::fs::File::options()
        .write(true)
        .open(old_file)
        .unwrap()
        .set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(60 * 86_400))
        .unwrap();
    // Three bookkeeping rows, the old mail's row and its file.
    assert_eq!(
        mercato_identity::retention::sweep(&identity.db, &sender)
            .await
            .unwrap(),
        5
    );
    check_left(&identity.db, tenant, all).await;
    assert_eq!(
        left(&identity.db, tenant, "mail_outbox", "subject").await,
        ["recent", "unsent"]
    );
    assert!(!old_file.exists());
    assert_eq!(
        std::fs::read_dir(mail_dir.join(tenant.to_string()))
            .unwrap()
            .count(),
        1
    );
    identity.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded() {
    each_service_sweeps_its_own_bookkeeping(false, "retention::embedded").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real() {
    each_service_sweeps_its_own_bookkeeping(true, "retention::real").await;
}

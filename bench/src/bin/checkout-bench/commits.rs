//! Counting database commits, and waiting until the platform has nothing left to do.
//!
//! PostgreSQL: `pg_stat_database.xact_commit` of the database (every committed transaction,
//! read-only ones included), the transaction ids handed out (transactions that wrote), and
//! `pg_stat_wal.wal_sync` (WAL flushes: group commit makes them fewer than the commits).
//! SQLite: a commit hook on every pooled connection of every service; SQLite runs it only
//! for transactions that took the write lock, which every `tenant_tx`/`platform_tx` does
//! (`BEGIN IMMEDIATE`), so it counts write transactions, empty relay polls included.

use anyhow::{Context, bail};
use mercato_db::Db;
use mercato_db::sea_orm::{ConnectionTrait, DbBackend, Statement};
use mercato_gateway::app::Running;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub const SERVICES: [&str; 6] = [
    "tenants",
    "identity",
    "vendors",
    "catalog",
    "inventory",
    "orders",
];
/// PostgreSQL backends report their counters at most about every 10 s when idle.
const PG_STATS_LAG: Duration = Duration::from_secs(11);

/// The services' databases, by name.
pub struct Databases(pub Vec<(&'static str, Db)>);

impl Databases {
    pub fn of(running: &Running) -> anyhow::Result<Self> {
        let dbs = [
            &running.tenants_db,
            &running.identity_db,
            &running.vendors_db,
            &running.catalog_db,
            &running.inventory_db,
            &running.orders_db,
        ];
        SERVICES
            .iter()
            .zip(dbs)
            .map(|(name, db)| Ok((*name, db.clone().with_context(|| format!("{name} db"))?)))
            .collect::<anyhow::Result<_>>()
            .map(Self)
    }

    pub fn get(&self, name: &str) -> anyhow::Result<&Db> {
        self.0
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, db)| db)
            .with_context(|| format!("{name} db"))
    }

    /// Work still to do: unrelayed events in each outbox, and webhooks not delivered yet.
    pub async fn backlog(&self) -> anyhow::Result<BTreeMap<String, i64>> {
        let mut left = BTreeMap::new();
        for (name, db) in &self.0 {
            let events = count(
                db,
                "SELECT count(*) AS n FROM outbox WHERE published_at IS NULL",
            )
            .await?;
            left.insert(format!("{name} outbox"), events);
            if *name == "orders" {
                let sql = "SELECT count(*) AS n FROM jobs \
                           WHERE kind = 'payments.test_webhook' AND status IN ('queued', 'running')";
                left.insert("webhook jobs".to_owned(), count(db, sql).await?);
            }
        }
        left.retain(|_, n| *n > 0);
        Ok(left)
    }

    /// Waits until nothing is left to relay or deliver (twice in a row); how long it took.
    pub async fn settle(&self) -> anyhow::Result<Duration> {
        let started = Instant::now();
        let mut quiet = 0;
        while quiet < 2 {
            quiet = if self.backlog().await?.is_empty() {
                quiet + 1
            } else {
                0
            };
            if started.elapsed() > Duration::from_secs(300) {
                bail!("the platform did not settle in 5 minutes");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(started.elapsed())
    }
}

pub async fn count(db: &Db, sql: &str) -> anyhow::Result<i64> {
    let tx = db.platform_read("checkout bench backlog").await?;
    let row = tx
        .query_one_raw(Statement::from_string(db.backend(), sql))
        .await?
        .context("count row")?;
    let n: i64 = row.try_get("", "n")?;
    tx.commit().await?;
    Ok(n)
}

/// Commit counters at one moment.
#[derive(Clone, Default)]
pub struct Counts {
    /// Committed transactions (PostgreSQL: all, read-only included; SQLite: write ones).
    pub commits: u64,
    /// PostgreSQL: transaction ids handed out, i.e. transactions that wrote.
    pub writes: Option<u64>,
    /// PostgreSQL: WAL flushes to disk (group commit makes them fewer than the commits).
    pub wal_syncs: Option<u64>,
    /// SQLite: commits per service; PostgreSQL: rows written per service.
    pub per_service: BTreeMap<&'static str, u64>,
    /// PostgreSQL: other clients' sessions on this database when read.
    pub sessions_here: u64,
    /// PostgreSQL: commits in the server's other databases. The transaction ids and WAL
    /// flushes above are the whole server's, so other work shows up in them too.
    pub elsewhere: u64,
}

impl Counts {
    pub fn since(&self, before: &Counts) -> Counts {
        Counts {
            commits: self.commits.saturating_sub(before.commits),
            writes: self
                .writes
                .zip(before.writes)
                .map(|(a, b)| a.saturating_sub(b)),
            wal_syncs: self
                .wal_syncs
                .zip(before.wal_syncs)
                .map(|(a, b)| a.saturating_sub(b)),
            per_service: self
                .per_service
                .iter()
                .map(|(k, v)| {
                    (
                        *k,
                        v.saturating_sub(before.per_service.get(k).copied().unwrap_or(0)),
                    )
                })
                .collect(),
            sessions_here: self.sessions_here.max(before.sessions_here),
            elsewhere: self.elsewhere.saturating_sub(before.elsewhere),
        }
    }
}

/// Counts commits: PostgreSQL's statistics views, or commit hooks on SQLite's connections.
pub enum CommitCounter {
    Sqlite(Vec<(&'static str, Db, Arc<AtomicU64>)>),
    Postgres { reader: Db, prefix: String },
}

impl CommitCounter {
    /// Sets (again) a hook on every connection of every SQLite pool: it holds all of a
    /// pool's connections at once, so each is hooked, including ones opened since.
    pub async fn arm(&self) -> anyhow::Result<()> {
        let CommitCounter::Sqlite(pools) = self else {
            return Ok(());
        };
        for (_, db, counter) in pools {
            let pool = db.raw_connection().get_sqlite_connection_pool();
            let mut held = Vec::new();
            for _ in 0..pool.options().get_max_connections() {
                let mut conn = pool.acquire().await?;
                let counter = counter.clone();
                conn.lock_handle().await?.set_commit_hook(move || {
                    counter.fetch_add(1, Ordering::Relaxed);
                    true
                });
                held.push(conn);
            }
        }
        Ok(())
    }

    pub async fn read(&self) -> anyhow::Result<Counts> {
        match self {
            CommitCounter::Sqlite(pools) => {
                let per_service: BTreeMap<_, _> = pools
                    .iter()
                    .map(|(name, _, c)| (*name, c.load(Ordering::Relaxed)))
                    .collect();
                Ok(Counts {
                    commits: per_service.values().sum(),
                    per_service,
                    ..Counts::default()
                })
            }
            CommitCounter::Postgres { reader, prefix } => {
                let conn = reader.raw_connection();
                let one = |sql: String| async move {
                    conn.query_one_raw(Statement::from_string(DbBackend::Postgres, sql))
                        .await?
                        .context("statistics row")
                };
                let db = one("SELECT xact_commit AS n, \
                    (SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
                       AND pid <> pg_backend_pid() AND application_name <> 'checkout-bench') AS here, \
                    (SELECT sum(xact_commit)::bigint FROM pg_stat_database \
                       WHERE datname <> current_database()) AS elsewhere \
                    FROM pg_stat_database WHERE datname = current_database()".into()).await?;
                let xid =
                    one("SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS n".into())
                        .await?;
                let wal = one("SELECT wal_sync AS n FROM pg_stat_wal".into()).await?;
                let rows = conn
                    .query_all_raw(Statement::from_string(DbBackend::Postgres, format!(
                        "SELECT schemaname AS s, sum(n_tup_ins + n_tup_upd + n_tup_del)::bigint AS n \
                         FROM pg_stat_user_tables WHERE schemaname LIKE '{prefix}%' GROUP BY schemaname"
                    )))
                    .await?;
                let mut per_service = BTreeMap::new();
                for row in rows {
                    let schema: String = row.try_get("", "s")?;
                    let n: i64 = row.try_get("", "n")?;
                    if let Some(name) = SERVICES.iter().find(|s| schema == format!("{prefix}{s}")) {
                        per_service.insert(*name, n.max(0) as u64);
                    }
                }
                let get =
                    |row: &mercato_db::sea_orm::QueryResult, col: &str| -> anyhow::Result<u64> {
                        Ok(row.try_get::<i64>("", col)?.max(0) as u64)
                    };
                Ok(Counts {
                    commits: get(&db, "n")?,
                    writes: Some(get(&xid, "n")?),
                    wal_syncs: Some(get(&wal, "n")?),
                    per_service,
                    sessions_here: get(&db, "here")?,
                    elsewhere: get(&db, "elsewhere")?,
                })
            }
        }
    }

    /// PostgreSQL: `VACUUM (ANALYZE)` every table of the benchmark's schemas, as autovacuum
    /// would (the test server on this machine runs with `autovacuum = off`, so without this
    /// the planner has no statistics for the new tables and dead outbox rows pile up).
    pub async fn vacuum(&self) -> anyhow::Result<()> {
        let CommitCounter::Postgres { reader, prefix } = self else {
            return Ok(());
        };
        let conn = reader.raw_connection();
        let tables = conn
            .query_all_raw(Statement::from_string(
                DbBackend::Postgres,
                format!(
                    "SELECT schemaname || '.' || relname AS t FROM pg_stat_user_tables \
                     WHERE schemaname LIKE '{prefix}%'"
                ),
            ))
            .await?;
        for table in tables {
            let name: String = table.try_get("", "t")?;
            conn.execute_unprepared(&format!("VACUUM (ANALYZE) {name}"))
                .await?;
        }
        Ok(())
    }

    /// Reads once the platform is idle and PostgreSQL has the backends' latest counters.
    pub async fn read_settled(&self, dbs: &Databases) -> anyhow::Result<(Counts, Duration)> {
        let settled = dbs.settle().await?;
        if matches!(self, CommitCounter::Postgres { .. }) {
            tokio::time::sleep(PG_STATS_LAG).await;
        }
        Ok((self.read().await?, settled))
    }
}

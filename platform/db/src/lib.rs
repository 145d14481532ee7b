//! Database access shared by every service: connecting to SQLite (embedded) or PostgreSQL,
//! running a service's migrations, and the only two ways to open a transaction —
//! [`Db::tenant_tx`] for one shop's rows and [`Db::platform_tx`] for the few named
//! platform operations that must see every shop (resolving a domain, relaying the outbox,
//! claiming jobs).
//!
//! On PostgreSQL each service lives in its own schema, and every table the service declares
//! as tenant-owned gets `FORCE ROW LEVEL SECURITY` with a policy on
//! `mercato.tenant_id` — set per transaction by `tenant_tx` — so a forgotten filter still
//! cannot read another shop's rows, and a connection that set nothing sees nothing.

mod conn;
mod migrate;
mod purge;

pub use conn::TxConn;
pub use migrate::{Migration, grant_use, migrate};
pub use purge::{PURGE_BATCH, purge_in_batches};
pub use sea_orm;

/// Whether a read locks the rows it returns until its transaction ends, where the backend
/// has row locks (PostgreSQL; SQLite serialises writers instead).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowLock {
    /// A plain read.
    None,
    /// `FOR SHARE`: a change to the rows waits for the transaction (a republish reads the
    /// state it announces this way, so a change made meanwhile is announced after it).
    Shared,
}

impl RowLock {
    /// `query`, locking as asked.
    pub fn on<Q: sea_orm::QuerySelect>(self, query: Q) -> Q {
        match self {
            Self::None => query,
            Self::Shared => query.lock_shared(),
        }
    }
}

use mercato_tenant_context::TenantId;
use sea_orm::sqlx;
use sea_orm::{
    ConnAcquireErr, ConnectOptions, ConnectionTrait, DatabaseConnection, DbBackend, DbErr,
    RuntimeErr, SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use std::ops::Deref;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;

/// How to reach a service's database.
#[derive(Debug, Clone)]
pub enum DbTarget<'a> {
    /// An SQLite file, created if missing.
    Sqlite(&'a Path),
    /// A PostgreSQL URL and the schema this service owns in it.
    Postgres { url: &'a str, schema: &'a str },
}

/// Refuses a PostgreSQL role that row-level security does not apply to (a superuser, or one
/// with `BYPASSRLS`): with it, the second wall between shops would not stand.
async fn refuse_privileged_role(conn: &DatabaseConnection) -> Result<(), ConnectError> {
    let row = conn
        .query_one_raw(sea_orm::Statement::from_string(
            DbBackend::Postgres,
            "SELECT current_user::text AS role, rolsuper, rolbypassrls FROM pg_roles \
             WHERE rolname = current_user",
        ))
        .await?
        .ok_or_else(|| DbErr::Custom("the current role is not in pg_roles".into()))?;
    let role: String = row.try_get("", "role")?;
    let what = match (
        row.try_get::<bool>("", "rolsuper")?,
        row.try_get::<bool>("", "rolbypassrls")?,
    ) {
        (true, _) => "a superuser",
        (false, true) => "allowed to bypass row-level security (BYPASSRLS)",
        (false, false) => return Ok(()),
    };
    Err(ConnectError::PrivilegedRole { role, what })
}

/// A service's connection pool.
#[derive(Debug, Clone)]
pub struct Db {
    conn: DatabaseConnection,
    schema: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error("invalid schema name {0:?}: use lowercase letters, digits and underscores")]
    Schema(String),
    #[error("cannot connect to the database: {0}")]
    Connect(#[from] DbErr),
    #[error(
        "the database role {role:?} is {what}, so row-level security would not apply to it: \
         connect as a role created with NOSUPERUSER NOBYPASSRLS (see the PostgreSQL section \
         of docs/runbooks/operations.md)"
    )]
    PrivilegedRole { role: String, what: &'static str },
}

impl Db {
    /// The pool a service serves requests with. On PostgreSQL the role must be one that
    /// row-level security applies to (see [`ConnectError::PrivilegedRole`]).
    pub async fn connect(target: DbTarget<'_>, max_connections: u32) -> Result<Self, ConnectError> {
        Self::open(target, max_connections, true).await
    }

    /// A pool for migrations only, as the owner of the service's schema (the setting
    /// `database.migrate_url`): it may create and alter tables, and is never handed to a
    /// request. Follow [`migrate`] with [`grant_use`] so the serving role can use them.
    pub async fn connect_owner(target: DbTarget<'_>) -> Result<Self, ConnectError> {
        Self::open(target, 1, false).await
    }

    /// The role this pool connects as (PostgreSQL), for [`grant_use`].
    pub async fn current_role(&self) -> Result<String, DbErr> {
        let row = self
            .conn
            .query_one_raw(sea_orm::Statement::from_string(
                DbBackend::Postgres,
                "SELECT current_user::text AS role",
            ))
            .await?
            .ok_or_else(|| DbErr::Custom("no current role".into()))?;
        row.try_get("", "role")
    }

    async fn open(
        target: DbTarget<'_>,
        max_connections: u32,
        serving: bool,
    ) -> Result<Self, ConnectError> {
        match target {
            DbTarget::Sqlite(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|source| ConnectError::DataDir {
                        path: dir.display().to_string(),
                        source,
                    })?;
                }
                let mut options =
                    ConnectOptions::new(format!("sqlite://{}?mode=rwc", path.display()));
                options
                    .max_connections(max_connections)
                    .sqlx_logging(false)
                    .map_sqlx_sqlite_opts(|o| {
                        o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                            .busy_timeout(Duration::from_secs(10))
                            .foreign_keys(true)
                    });
                Ok(Self {
                    conn: sea_orm::Database::connect(options).await?,
                    schema: None,
                })
            }
            DbTarget::Postgres { url, schema } => {
                if schema.is_empty()
                    || !schema
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
                {
                    return Err(ConnectError::Schema(schema.to_owned()));
                }
                let mut options = ConnectOptions::new(url.to_owned());
                options
                    .max_connections(max_connections)
                    .sqlx_logging(false)
                    .acquire_timeout(Duration::from_secs(10))
                    .set_schema_search_path(schema.to_owned());
                let conn = sea_orm::Database::connect(options).await?;
                if serving {
                    refuse_privileged_role(&conn).await?;
                }
                Ok(Self {
                    conn,
                    schema: Some(schema.to_owned()),
                })
            }
        }
    }

    pub fn backend(&self) -> DbBackend {
        self.conn.get_database_backend()
    }

    /// The schema this service owns on PostgreSQL.
    pub fn schema(&self) -> Option<&str> {
        self.schema.as_deref()
    }

    /// Begins a transaction scoped to one shop's rows (`Some`) or the platform's (`None`).
    ///
    /// On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`) unless it only reads: a
    /// deferred transaction that reads and then writes fails outright when another
    /// connection committed in between, while an immediate one waits its turn; a reading
    /// one stays deferred so it never queues behind writers. SQLite has no scope to set.
    ///
    /// On PostgreSQL the `BEGIN` (made `READ ONLY` for `Mode::Read`) and the scope's
    /// `set_config` go in one simple query: one round trip, where SeaORM's own `begin` would
    /// need two.
    /// A tenant id is a UUID in canonical text, so it is inlined with nothing to escape.
    async fn begin(&self, tenant: Option<TenantId>, mode: Mode) -> Result<TxConn, DbErr> {
        if self.backend() != DbBackend::Postgres {
            let sqlite_mode = if mode == Mode::Read {
                SqliteTransactionMode::Deferred
            } else {
                SqliteTransactionMode::Immediate
            };
            let options = TransactionOptions {
                sqlite_transaction_mode: Some(sqlite_mode),
                ..Default::default()
            };
            return self.conn.begin_with_options(options).await.map(TxConn::Orm);
        }
        let begin = match mode {
            Mode::Read => "BEGIN READ ONLY",
            Mode::Write => "BEGIN",
        };
        let sql = match tenant {
            Some(tenant) => format!(
                "{begin}; SELECT set_config('mercato.tenant_id', '{}', true)",
                tenant.as_uuid()
            ),
            None => format!("{begin}; SELECT set_config('mercato.scope', 'platform', true)"),
        };
        let txn = self
            .conn
            .get_postgres_connection_pool()
            .begin_with(sqlx::AssertSqlSafe(sql))
            .await
            .map_err(|e| match e {
                sqlx::Error::PoolTimedOut => DbErr::ConnectionAcquire(ConnAcquireErr::Timeout),
                sqlx::Error::PoolClosed => {
                    DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed)
                }
                e => DbErr::Conn(RuntimeErr::SqlxError(Arc::new(e))),
            })?;
        Ok(TxConn::Pg(Mutex::new(txn)))
    }

    /// Like [`Db::tenant_tx`], for requests that only read.
    pub async fn tenant_read(&self, tenant: TenantId) -> Result<TenantTx, DbErr> {
        let txn = self.begin(Some(tenant), Mode::Read).await?;
        Ok(TenantTx { txn, tenant })
    }

    /// Like [`Db::platform_tx`], for platform operations that only read.
    pub async fn platform_read(&self, purpose: &'static str) -> Result<PlatformTx, DbErr> {
        tracing::trace!(purpose, "platform read");
        let txn = self.begin(None, Mode::Read).await?;
        Ok(PlatformTx { txn })
    }

    /// A transaction that sees only `tenant`'s rows (on PostgreSQL, by row-level security).
    pub async fn tenant_tx(&self, tenant: TenantId) -> Result<TenantTx, DbErr> {
        let txn = self.begin(Some(tenant), Mode::Write).await?;
        Ok(TenantTx { txn, tenant })
    }

    /// A transaction for a named platform operation that must see every shop's rows.
    /// Callers say why in `purpose`; it is logged.
    pub async fn platform_tx(&self, purpose: &'static str) -> Result<PlatformTx, DbErr> {
        tracing::trace!(purpose, "platform transaction");
        let txn = self.begin(None, Mode::Write).await?;
        Ok(PlatformTx { txn })
    }

    /// Is the database answering?
    pub async fn ping(&self) -> Result<(), DbErr> {
        self.conn.ping().await
    }

    pub async fn close(self) -> Result<(), DbErr> {
        self.conn.close().await
    }

    /// The raw pool, for the migration runner and for tests that prove the walls hold.
    /// Service code opens transactions with `tenant_tx`/`platform_tx` instead.
    pub fn raw_connection(&self) -> &DatabaseConnection {
        &self.conn
    }
}

/// How a transaction commits.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Read only (PostgreSQL `READ ONLY`; SQLite deferred, never taking the write lock).
    Read,
    /// Reads and writes.
    Write,
}

/// A transaction scoped to one shop. Repositories take it, so the tenant they filter by and
/// the tenant row-level security allows are the same value.
pub struct TenantTx {
    txn: TxConn,
    tenant: TenantId,
}

impl TenantTx {
    pub fn tenant(&self) -> TenantId {
        self.tenant
    }

    pub async fn commit(self) -> Result<(), DbErr> {
        self.txn.commit().await
    }
}

impl Deref for TenantTx {
    type Target = TxConn;
    fn deref(&self) -> &TxConn {
        &self.txn
    }
}

/// A transaction allowed to see every shop's rows.
pub struct PlatformTx {
    txn: TxConn,
}

impl PlatformTx {
    pub async fn commit(self) -> Result<(), DbErr> {
        self.txn.commit().await
    }
}

impl Deref for PlatformTx {
    type Target = TxConn;
    fn deref(&self) -> &TxConn {
        &self.txn
    }
}

/// True when `err` is a unique-constraint violation (a duplicate slug, email, domain).
pub fn is_unique_violation(err: &DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

/// Raw SQL helpers for repositories that write their statements by hand. Both backends
/// accept `$n` placeholders.
pub mod sql {
    use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};

    /// A raw statement with `$n` placeholders.
    pub fn statement(
        conn: &impl ConnectionTrait,
        sql: &str,
        values: impl IntoIterator<Item = Value>,
    ) -> Statement {
        Statement::from_sql_and_values(conn.get_database_backend(), sql, values)
    }

    /// `$from, $from+1, …` for an `IN (…)` list of `n` values.
    pub fn placeholders(from: usize, n: usize) -> String {
        (from..from + n)
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// `($from, …), (…)`: `rows` groups of `width` placeholders numbered on from `from`,
    /// for a multi-row `VALUES` list.
    pub fn value_rows(from: usize, rows: usize, width: usize) -> String {
        (0..rows)
            .map(|r| format!("({})", placeholders(from + r * width, width)))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// `FOR UPDATE` where the backend has row locks. SQLite has none and needs none: its
    /// write transactions begin IMMEDIATE and run one at a time.
    pub fn for_update(conn: &impl ConnectionTrait) -> &'static str {
        if conn.get_database_backend() == DbBackend::Postgres {
            " FOR UPDATE"
        } else {
            ""
        }
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn placeholders_number_from_the_start() {
            assert_eq!(super::placeholders(2, 3), "$2, $3, $4");
            assert_eq!(super::placeholders(1, 0), "");
        }

        #[test]
        fn value_rows_number_on_across_rows() {
            assert_eq!(super::value_rows(2, 2, 3), "($2, $3, $4), ($5, $6, $7)");
            assert_eq!(super::value_rows(1, 0, 3), "");
        }
    }
}

//! A database of its own for each test, on each backend: a migrated SQLite file in a
//! temporary directory, or a migrated PostgreSQL schema of its own on the server that
//! `MERCATO_TEST_POSTGRES_URL` names (skipped without it, see [`crate::backend`]).
//!
//! [`TestDb::finish`] drops the schema. A test that panics before it gets there (or never
//! calls it) has the schema dropped when its [`TestDb`] is dropped, so failing runs do not
//! pile up schemas on a shared server. [`on_every_database!`](crate::on_every_database)
//! turns a list of scenarios into one test per backend.

// A helper that cannot set up the test's database fails the test.
#![allow(clippy::expect_used, clippy::panic)]

use mercato_db::sea_orm::{ConnectionTrait as _, DbErr};
use mercato_db::{Db, DbTarget};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;

/// The database backends every scenario runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A file in a temporary directory; always available.
    Sqlite,
    /// A schema of its own on `MERCATO_TEST_POSTGRES_URL`'s server.
    Postgres,
}

/// How a crate's tests set up their database: implemented by a unit struct in the crate's
/// test support, and named in [`TestDb::open`] or [`on_every_database!`](crate::on_every_database).
pub trait Schema: 'static {
    /// Names the SQLite file and begins the PostgreSQL schema's name: lowercase letters,
    /// digits and underscores.
    const NAME: &'static str;
    /// The pool size on SQLite.
    const SQLITE_CONNECTIONS: u32 = 5;
    /// The pool size on PostgreSQL.
    const POSTGRES_CONNECTIONS: u32 = 5;

    /// Creates the tables on a fresh database. It runs again when a test reconnects, so it
    /// must skip what is there already (as [`mercato_db::migrate`] does).
    fn migrate(db: &Db) -> impl Future<Output = Result<(), DbErr>> + Send;
}

type Migrate = for<'a> fn(&'a Db) -> Pin<Box<dyn Future<Output = Result<(), DbErr>> + Send + 'a>>;

fn migrate_with<S: Schema>(
    db: &Db,
) -> Pin<Box<dyn Future<Output = Result<(), DbErr>> + Send + '_>> {
    Box::pin(S::migrate(db))
}

/// A migrated database of its own for one test.
pub struct TestDb {
    /// The database, as the service under test would open it.
    pub db: Db,
    place: Place,
    /// The SQLite file's directory; on PostgreSQL too, for files a test keeps beside its
    /// database (object storage, a search index).
    dir: tempfile::TempDir,
    migrate: Migrate,
    connections: u32,
}

enum Place {
    Sqlite(PathBuf),
    Postgres(PgSchema),
}

impl TestDb {
    /// A migrated SQLite file in a new temporary directory.
    pub async fn sqlite<S: Schema>() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join(format!("{}.db", S::NAME));
        Self::start::<S>(Place::Sqlite(path), dir, S::SQLITE_CONNECTIONS).await
    }

    /// A migrated schema of its own on the PostgreSQL server, or `None` when
    /// `MERCATO_TEST_POSTGRES_URL` is unset: then the test is skipped, or fails under
    /// `MERCATO_TEST_REQUIRE_BACKENDS=1` (see [`crate::backend`]). `test` names the test in
    /// that message.
    pub async fn postgres<S: Schema>(test: &str) -> Option<Self> {
        let url = crate::backend(crate::POSTGRES, test)?;
        let dir = tempfile::tempdir().expect("a temporary directory");
        let schema = PgSchema {
            url,
            name: format!("{}_test_{}", S::NAME, uuid::Uuid::now_v7().simple()),
            dropped: false,
        };
        Some(Self::start::<S>(Place::Postgres(schema), dir, S::POSTGRES_CONNECTIONS).await)
    }

    /// [`TestDb::sqlite`] or [`TestDb::postgres`].
    pub async fn open<S: Schema>(backend: Backend, test: &str) -> Option<Self> {
        match backend {
            Backend::Sqlite => Some(Self::sqlite::<S>().await),
            Backend::Postgres => Self::postgres::<S>(test).await,
        }
    }

    async fn start<S: Schema>(place: Place, dir: tempfile::TempDir, connections: u32) -> Self {
        let migrate: Migrate = migrate_with::<S>;
        let db = connect(&place, connections, migrate).await;
        Self {
            db,
            place,
            dir,
            migrate,
            connections,
        }
    }

    pub fn backend(&self) -> Backend {
        match self.place {
            Place::Sqlite(_) => Backend::Sqlite,
            Place::Postgres(_) => Backend::Postgres,
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.backend() == Backend::Postgres
    }

    /// A temporary directory of the test's own, removed with the `TestDb`.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Another handle on [`TestDb::db`]. Async only to fit as the start function of
    /// [`on_every_database!`](crate::on_every_database) for scenarios that take a `Db`.
    pub async fn pool(&self) -> Db {
        self.db.clone()
    }

    /// A new pool on the same file or schema, migrations run again: what a restarted
    /// process would open. The old pool stays open.
    pub async fn reconnect(&self) -> Db {
        connect(&self.place, self.connections, self.migrate).await
    }

    /// What a process restart looks like to the database: every connection closed, then a
    /// new pool on the same file or schema, migrations run again.
    pub async fn restart(self) -> Self {
        let Self {
            db,
            place,
            dir,
            migrate,
            connections,
        } = self;
        db.close().await.expect("close the test database");
        let db = connect(&place, connections, migrate).await;
        Self {
            db,
            place,
            dir,
            migrate,
            connections,
        }
    }

    /// Drops the PostgreSQL schema and closes the pool; the SQLite file goes with the
    /// temporary directory.
    pub async fn finish(self) {
        let Self { db, mut place, .. } = self;
        if let Place::Postgres(schema) = &mut place {
            db.raw_connection()
                .execute_unprepared(&format!("DROP SCHEMA {} CASCADE", schema.name))
                .await
                .expect("drop the test schema");
            schema.dropped = true;
        }
        db.close().await.expect("close the test database");
    }
}

async fn connect(place: &Place, connections: u32, migrate: Migrate) -> Db {
    let target = match place {
        Place::Sqlite(path) => DbTarget::Sqlite(path),
        Place::Postgres(schema) => DbTarget::Postgres {
            url: &schema.url,
            schema: &schema.name,
        },
    };
    let db = Db::connect(target, connections)
        .await
        .expect("connect to the test database");
    migrate(&db).await.expect("migrate the test database");
    db
}

/// A test's PostgreSQL schema: dropped by [`TestDb::finish`], or else by this guard when the
/// `TestDb` goes (a panicking test, a scenario that does not finish).
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
            let db = Db::connect(
                DbTarget::Postgres {
                    url: &url,
                    schema: &name,
                },
                1,
            )
            .await
            .map_err(|e| e.to_string())?;
            // A panicking test may leave a transaction holding locks: give up rather than hang.
            db.raw_connection()
                .execute_unprepared(&format!(
                    "SET lock_timeout = '5s'; DROP SCHEMA IF EXISTS {name} CASCADE"
                ))
                .await
                .map_err(|e| e.to_string())?;
            db.close().await.map_err(|e| e.to_string())
        });
    }
}

/// Runs an async clean-up to completion from `Drop`, also while a test is panicking: on a
/// thread and runtime of its own, since the test's runtime may be shutting down. A failure
/// is reported on stderr, not raised.
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
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), "test clean-up failed: {err}");
    }
}

/// Declares each listed scenario as two tokio tests (multi-threaded, two workers):
/// `sqlite::<name>` and `postgres::<name>`, each on a fresh [`TestDb`] of the
/// [`Schema`] named first. The PostgreSQL one is skipped without `MERCATO_TEST_POSTGRES_URL`
/// (it fails instead under `MERCATO_TEST_REQUIRE_BACKENDS=1`).
///
/// - `on_every_database!(MySchema; a, b)`: each scenario is an `async fn(TestDb)`; it owns
///   the database and ends with [`TestDb::finish`] (or the schema is dropped when the
///   `TestDb` is).
/// - `on_every_database!(MySchema, start; a, b)`: `start` is an `async fn(&TestDb) -> T`
///   that builds what each scenario, an `async fn(T)`, is given (a service on the database,
///   say; [`TestDb::pool`] for a plain `Db`). The harness finishes the database after the
///   scenario.
///
/// Paths are resolved from the module the macro is called in. The calling crate needs
/// `tokio` with its `macros` feature.
#[macro_export]
macro_rules! on_every_database {
    (@backend $module:ident $backend:ident $schema:ty; $($test:ident),*) => {
        mod $module {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let test = concat!(module_path!(), "::", stringify!($test));
                    let backend = $crate::Backend::$backend;
                    if let Some(db) = $crate::TestDb::open::<$schema>(backend, test).await {
                        super::$test(db).await;
                    }
                }
            )*
        }
    };
    (@backend $module:ident $backend:ident $schema:ty, $start:path; $($test:ident),*) => {
        mod $module {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let test = concat!(module_path!(), "::", stringify!($test));
                    let backend = $crate::Backend::$backend;
                    if let Some(db) = $crate::TestDb::open::<$schema>(backend, test).await {
                        super::$test($start(&db).await).await;
                        db.finish().await;
                    }
                }
            )*
        }
    };
    ($schema:ty; $($test:ident),* $(,)?) => {
        $crate::on_every_database!(@backend sqlite Sqlite $schema; $($test),*);
        $crate::on_every_database!(@backend postgres Postgres $schema; $($test),*);
    };
    ($schema:ty, $start:path; $($test:ident),* $(,)?) => {
        $crate::on_every_database!(@backend sqlite Sqlite $schema, $start; $($test),*);
        $crate::on_every_database!(@backend postgres Postgres $schema, $start; $($test),*);
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use mercato_db::Migration;
    use mercato_db::sea_orm::Statement;

    struct Notes;

    impl Schema for Notes {
        const NAME: &'static str = "testkit";

        async fn migrate(db: &Db) -> Result<(), DbErr> {
            const NOTES: Migration = Migration::portable(
                1,
                "notes",
                "CREATE TABLE notes (id BIGINT NOT NULL PRIMARY KEY);\n",
                &[],
            );
            mercato_db::migrate(db, "testkit", &[NOTES]).await
        }
    }

    async fn notes(db: &Db) -> i64 {
        let row = db
            .raw_connection()
            .query_one_raw(Statement::from_string(
                db.backend(),
                "SELECT COUNT(*) FROM notes",
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get_by_index(0).unwrap()
    }

    async fn notes_survive_a_restart(t: TestDb) {
        t.db.raw_connection()
            .execute_unprepared("INSERT INTO notes (id) VALUES (1)")
            .await
            .unwrap();
        assert_eq!(notes(&t.reconnect().await).await, 1);
        let t = t.restart().await;
        assert_eq!(notes(&t.db).await, 1);
        assert!(t.dir().is_dir());
        t.finish().await;
    }

    async fn a_started_fixture_gets_the_migrated_database(db: Db) {
        assert_eq!(notes(&db).await, 0);
    }

    crate::on_every_database!(Notes; notes_survive_a_restart);

    mod started {
        use super::*;

        crate::on_every_database!(Notes, TestDb::pool; a_started_fixture_gets_the_migrated_database);
    }

    /// Whether the schema `name` is on the server at `url`.
    async fn schema_exists(url: &str, name: &str) -> bool {
        let db = Db::connect(
            DbTarget::Postgres {
                url,
                schema: "public",
            },
            1,
        )
        .await
        .unwrap();
        let row = db
            .raw_connection()
            .query_one_raw(Statement::from_sql_and_values(
                db.backend(),
                "SELECT COUNT(*) FROM pg_namespace WHERE nspname = $1",
                [name.into()],
            ))
            .await
            .unwrap()
            .unwrap();
        let count: i64 = row.try_get_by_index(0).unwrap();
        db.close().await.unwrap();
        count == 1
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn finishing_or_panicking_drops_the_schema() {
        let test = "db::tests::finishing_or_panicking_drops_the_schema";
        for panics in [false, true] {
            let Some(t) = TestDb::postgres::<Notes>(test).await else {
                return;
            };
            let Place::Postgres(schema) = &t.place else {
                unreachable!("a PostgreSQL database")
            };
            let (url, name) = (schema.url.clone(), schema.name.clone());
            assert!(schema_exists(&url, &name).await);
            if panics {
                let outcome = tokio::spawn(async move {
                    let _t = t;
                    panic!("the test failed");
                })
                .await;
                assert!(outcome.is_err());
            } else {
                t.finish().await;
            }
            assert!(!schema_exists(&url, &name).await, "panicked: {panics}");
        }
    }
}

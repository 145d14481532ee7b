//! A migrated identity database of its own for each test, on each backend.

use mercato_db::{Db, DbTarget};
use sea_orm::ConnectionTrait as _;
use std::future::Future;

#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs `body` against a fresh, migrated identity database on `backend`. PostgreSQL needs
/// `MERCATO_TEST_POSTGRES_URL` (skipped without it, unless `MERCATO_TEST_REQUIRE_BACKENDS=1`);
/// its schema is dropped afterwards, pass or fail.
pub async fn run<F, Fut>(backend: Backend, test: &str, body: F)
where
    F: FnOnce(Db) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("identity.db");
    let schema = format!("identity_test_{}", uuid::Uuid::now_v7().simple());
    let url = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => match mercato_testkit::backend(mercato_testkit::POSTGRES, test) {
            Some(url) => Some(url),
            None => return,
        },
    };
    let connect = || async {
        match &url {
            None => Db::connect(DbTarget::Sqlite(&path), 4).await,
            Some(url) => {
                Db::connect(
                    DbTarget::Postgres {
                        url,
                        schema: &schema,
                    },
                    4,
                )
                .await
            }
        }
        .expect("connect")
    };
    let db = connect().await;
    mercato_identity::migrate(&db).await.expect("migrate");
    let outcome = tokio::spawn(body(db)).await;
    if url.is_some() {
        let admin = connect().await;
        admin
            .raw_connection()
            .execute_unprepared(&format!("DROP SCHEMA {schema} CASCADE"))
            .await
            .expect("drop the test schema");
    }
    if let Err(error) = outcome {
        std::panic::resume_unwind(error.into_panic());
    }
}

/// Declares each listed `async fn(Db)` as a test per backend.
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

//! The connection a transaction's statements run on: SeaORM's transaction on SQLite, and on
//! PostgreSQL sqlx's own, which [`crate::Db`] begins together with the tenant scope in one
//! round trip (SeaORM sends its `BEGIN` alone). Repositories see one `ConnectionTrait`.

use sea_orm::sqlx::{self, PgConnection, Postgres};
use sea_orm::{
    ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, ExecResult, QueryResult, RuntimeErr,
    Statement, Values,
};
use sea_query_sqlx::SqlxValues;
use std::sync::Arc;
use tokio::sync::Mutex;

/// An open transaction of either backend. Dropping it without [`TxConn::commit`] rolls it back.
pub enum TxConn {
    Orm(DatabaseTransaction),
    Pg(Mutex<sqlx::Transaction<'static, Postgres>>),
}

impl TxConn {
    pub(crate) async fn commit(self) -> Result<(), DbErr> {
        match self {
            Self::Orm(txn) => txn.commit().await,
            Self::Pg(txn) => txn.into_inner().commit().await.map_err(query_err),
        }
    }
}

impl std::fmt::Debug for TxConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TxConn")
    }
}

fn query_err(e: sqlx::Error) -> DbErr {
    DbErr::Query(RuntimeErr::SqlxError(Arc::new(e)))
}

fn exec_err(e: sqlx::Error) -> DbErr {
    DbErr::Exec(RuntimeErr::SqlxError(Arc::new(e)))
}

/// `stmt` as a prepared sqlx query with its values bound (sqlx caches it per connection).
fn query(stmt: &Statement) -> sqlx::query::Query<'_, Postgres, SqlxValues> {
    let values = stmt.values.clone().unwrap_or(Values(Vec::new()));
    sqlx::query_with(sqlx::AssertSqlSafe(stmt.sql.as_str()), SqlxValues(values))
}

#[async_trait::async_trait]
impl ConnectionTrait for TxConn {
    fn get_database_backend(&self) -> DbBackend {
        match self {
            Self::Orm(txn) => txn.get_database_backend(),
            Self::Pg(_) => DbBackend::Postgres,
        }
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        match self {
            Self::Orm(txn) => txn.execute_raw(stmt).await,
            Self::Pg(txn) => {
                let conn: &mut PgConnection = &mut *txn.lock().await;
                query(&stmt)
                    .execute(conn)
                    .await
                    .map(Into::into)
                    .map_err(exec_err)
            }
        }
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        match self {
            Self::Orm(txn) => txn.execute_unprepared(sql).await,
            Self::Pg(txn) => {
                let conn: &mut PgConnection = &mut *txn.lock().await;
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
                    .execute(conn)
                    .await
                    .map(Into::into)
                    .map_err(exec_err)
            }
        }
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        match self {
            Self::Orm(txn) => txn.query_one_raw(stmt).await,
            Self::Pg(txn) => {
                let conn: &mut PgConnection = &mut *txn.lock().await;
                query(&stmt)
                    .fetch_optional(conn)
                    .await
                    .map(|row| row.map(Into::into))
                    .map_err(query_err)
            }
        }
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        match self {
            Self::Orm(txn) => txn.query_all_raw(stmt).await,
            Self::Pg(txn) => {
                let conn: &mut PgConnection = &mut *txn.lock().await;
                query(&stmt)
                    .fetch_all(conn)
                    .await
                    .map(|rows| rows.into_iter().map(Into::into).collect())
                    .map_err(query_err)
            }
        }
    }
}

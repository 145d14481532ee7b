//! A service's schema migrations, applied in order, each once, in one transaction.

use crate::Db;
use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};

/// One step of a service's schema. SQL is written per backend; statements are separated by
/// a `;` at the end of a line.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sqlite: &'static str,
    pub postgres: &'static str,
    /// Tables this step creates that hold one shop's rows (they have `tenant_id`). On
    /// PostgreSQL each gets forced row-level security scoped to `mercato.tenant_id`.
    pub tenant_tables: &'static [&'static str],
}

fn statements(sql: &str) -> impl Iterator<Item = String> + '_ {
    sql.split(";\n")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.trim_end_matches(';').to_owned())
}

/// The row-level-security statements for one tenant table.
fn rls(table: &str) -> [String; 3] {
    let predicate = "tenant_id = NULLIF(current_setting('mercato.tenant_id', true), '')::uuid \
                     OR current_setting('mercato.scope', true) = 'platform'";
    [
        format!("ALTER TABLE {table} ENABLE ROW LEVEL SECURITY"),
        format!("ALTER TABLE {table} FORCE ROW LEVEL SECURITY"),
        format!(
            "CREATE POLICY tenant_isolation ON {table} USING ({predicate}) WITH CHECK ({predicate})"
        ),
    ]
}

/// Applies the migrations `service` has not applied yet. Safe to call from several
/// processes at once: on PostgreSQL they queue on an advisory lock.
pub async fn migrate(db: &Db, service: &str, migrations: &[Migration]) -> Result<(), DbErr> {
    let backend = db.backend();
    let txn = db.begin().await?;
    if backend == DbBackend::Postgres {
        // One lock for all services: schema creation must not race either.
        txn.execute_unprepared("SELECT pg_advisory_xact_lock(7231049)")
            .await?;
        if let Some(schema) = db.schema() {
            txn.execute_unprepared(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
                .await?;
        }
    }
    txn.execute_unprepared(
        "CREATE TABLE IF NOT EXISTS schema_migrations (service TEXT NOT NULL, version BIGINT NOT NULL, \
         name TEXT NOT NULL, PRIMARY KEY (service, version))",
    )
    .await?;
    let param = if backend == DbBackend::Postgres {
        "$1"
    } else {
        "?"
    };
    let applied: Vec<i64> = txn
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            format!("SELECT version FROM schema_migrations WHERE service = {param}"),
            [service.into()],
        ))
        .await?
        .iter()
        .map(|row| row.try_get_by_index::<i64>(0))
        .collect::<Result<_, _>>()?;
    for migration in migrations.iter().filter(|m| !applied.contains(&m.version)) {
        let sql = if backend == DbBackend::Postgres {
            migration.postgres
        } else {
            migration.sqlite
        };
        for statement in statements(sql) {
            txn.execute_unprepared(&statement).await?;
        }
        if backend == DbBackend::Postgres {
            for table in migration.tenant_tables {
                for statement in rls(table) {
                    txn.execute_unprepared(&statement).await?;
                }
            }
        }
        let values = if backend == DbBackend::Postgres {
            "($1, $2, $3)"
        } else {
            "(?, ?, ?)"
        };
        txn.execute_raw(Statement::from_sql_and_values(
            backend,
            format!("INSERT INTO schema_migrations (service, version, name) VALUES {values}"),
            [
                service.into(),
                migration.version.into(),
                migration.name.into(),
            ],
        ))
        .await?;
        tracing::info!(
            service,
            version = migration.version,
            name = migration.name,
            "applied migration"
        );
    }
    txn.commit().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_statements_at_line_ends() {
        let got: Vec<String> =
            statements("CREATE TABLE a (x TEXT);\nCREATE INDEX i ON a (x);\n").collect();
        assert_eq!(got, ["CREATE TABLE a (x TEXT)", "CREATE INDEX i ON a (x)"]);
    }
}

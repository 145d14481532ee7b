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

impl Migration {
    /// One PostgreSQL script for both backends: on SQLite its column types are translated
    /// (see [`sqlite_dialect`]). Write portable SQL otherwise: no PostgreSQL-only functions.
    pub const fn portable(
        version: i64,
        name: &'static str,
        sql: &'static str,
        tenant_tables: &'static [&'static str],
    ) -> Self {
        Self {
            version,
            name,
            sqlite: "",
            postgres: sql,
            tenant_tables,
        }
    }
}

/// Translates PostgreSQL column types to the SQLite storage sea-orm expects there: UUIDs as
/// 16-byte BLOBs, timestamps and JSON as TEXT. Whole words only, outside string literals.
pub fn sqlite_dialect(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut word = String::new();
    let mut in_string = false;
    let flush = |word: &mut String, out: &mut String| {
        out.push_str(match word.as_str() {
            "UUID" => "BLOB",
            "TIMESTAMPTZ" | "JSONB" | "DATE" => "TEXT",
            other => other,
        });
        word.clear();
    };
    for c in sql.chars() {
        if in_string {
            out.push(c);
            in_string = c != '\'';
        } else if c.is_ascii_alphanumeric() || c == '_' {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
            in_string = c == '\'';
        }
    }
    flush(&mut word, &mut out);
    out
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
    let txn = db.begin(None, crate::Mode::Write).await?;
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
            migration.postgres.to_owned()
        } else if migration.sqlite.is_empty() {
            sqlite_dialect(migration.postgres)
        } else {
            migration.sqlite.to_owned()
        };
        for statement in statements(&sql) {
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

/// Lets `role` read and write every table of the service's schema, when the schema is
/// owned by another role (migrations ran through `database.migrate_url`). Grants nothing
/// else: the serving role cannot create, alter or drop a table, nor skip row-level
/// security, which applies to every role but a table's owner, and the owner is forced too.
/// Idempotent; a no-op on SQLite.
pub async fn grant_use(owner: &Db, role: &str) -> Result<(), DbErr> {
    let Some(schema) = owner.schema() else {
        return Ok(());
    };
    let role = format!("\"{}\"", role.replace('"', "\"\""));
    let txn = owner.begin(None, crate::Mode::Write).await?;
    for statement in [
        format!("GRANT USAGE ON SCHEMA {schema} TO {role}"),
        format!("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role}"),
        format!("GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA {schema} TO {role}"),
    ] {
        txn.execute_unprepared(&statement).await?;
    }
    txn.commit().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn translates_types_but_not_names_or_strings() {
        let sql = "CREATE TABLE t (tenant_id UUID NOT NULL, at TIMESTAMPTZ, doc JSONB, \
                   uuid_note TEXT CHECK (uuid_note <> 'UUID'), on_day DATE)";
        assert_eq!(
            sqlite_dialect(sql),
            "CREATE TABLE t (tenant_id BLOB NOT NULL, at TEXT, doc TEXT, \
             uuid_note TEXT CHECK (uuid_note <> 'UUID'), on_day TEXT)"
        );
    }

    #[test]
    fn splits_statements_at_line_ends() {
        let got: Vec<String> =
            statements("CREATE TABLE a (x TEXT);\nCREATE INDEX i ON a (x);\n").collect();
        assert_eq!(got, ["CREATE TABLE a (x TEXT)", "CREATE INDEX i ON a (x)"]);
    }
}

//! PostgreSQL's second wall: every tenant table has forced row-level security, the
//! application role cannot bypass it (and Mercato refuses to run as one that could), and a
//! connection that set no tenant sees no rows. The tenant tables are read from every
//! service's migrations, so a new one cannot be forgotten here.

use crate::support::{Backend, TestApp};
use mercato_db::Migration;
use sea_orm::{ConnectionTrait, DbBackend, Statement};

/// Each service's schema and its migrations (payments' tables live in the orders schema).
pub(crate) const SERVICES: [(&str, &[&[Migration]]); 6] = [
    ("tenants", &[mercato_tenants::repo::MIGRATIONS]),
    ("identity", &[mercato_identity::repo::MIGRATIONS]),
    ("vendors", &[mercato_vendors::repo::MIGRATIONS]),
    ("catalog", &[mercato_catalog::repo::MIGRATIONS]),
    ("inventory", &[mercato_inventory::repo::MIGRATIONS]),
    (
        "orders",
        &[
            mercato_orders::repo::MIGRATIONS,
            mercato_payments::repo::MIGRATIONS,
        ],
    ),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_tenant_table_is_walled_by_rls() {
    let Some(app) = TestApp::spawn(Backend::Real, "every_tenant_table_is_walled_by_rls").await
    else {
        return;
    };
    let admin = app.admin_token().await;
    let shop = app.shop(&admin, "free").await;
    let conn = app.tenants_db.raw_connection();

    let role = conn
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user",
        ))
        .await
        .unwrap()
        .unwrap();
    assert!(
        !role.try_get_by_index::<bool>(0).unwrap(),
        "the application role must not be a superuser"
    );
    assert!(
        !role.try_get_by_index::<bool>(1).unwrap(),
        "the application role must not bypass RLS"
    );

    let tenants = app.tenants_db.schema().expect("a PostgreSQL schema");
    // Every service's schema of this app: they share the app's prefix.
    let prefix = tenants.strip_suffix("tenants").expect("a prefixed schema");
    let schema = |service: &str| format!("{prefix}{service}");
    // Schema names are the app's own (lowercase letters, digits, underscores): safe to inline.
    let schemas = SERVICES
        .map(|(service, _)| format!("'{}'", schema(service)))
        .join(", ");
    let tables = conn
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            format!(
                "SELECT n.nspname, c.relname, c.relrowsecurity, c.relforcerowsecurity FROM pg_class c \
                 JOIN pg_namespace n ON n.oid = c.relnamespace \
                 JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' \
                 WHERE c.relkind = 'r' AND n.nspname IN ({schemas})"
            ),
        ))
        .await
        .unwrap();
    let names: Vec<String> = tables
        .iter()
        .map(|t| {
            format!(
                "{}.{}",
                t.try_get_by_index::<String>(0).unwrap(),
                t.try_get_by_index::<String>(1).unwrap()
            )
        })
        .collect();
    // Every table a migration declares as a shop's, unless a later migration of the same
    // service dropped it.
    let mut expected = Vec::new();
    for (service, sets) in SERVICES {
        for migrations in sets {
            for (i, migration) in migrations.iter().enumerate() {
                for table in migration.tenant_tables {
                    let dropped = migrations[i + 1..]
                        .iter()
                        .any(|later| later.postgres.contains(&format!("DROP TABLE {table};")));
                    if !dropped {
                        expected.push(format!("{}.{table}", schema(service)));
                    }
                }
            }
        }
    }
    assert!(expected.len() > 40, "{expected:?}");
    for expected in &expected {
        assert!(
            names.contains(expected),
            "{expected} missing from {names:?}"
        );
    }
    for table in &tables {
        let name = format!(
            "{}.{}",
            table.try_get_by_index::<String>(0).unwrap(),
            table.try_get_by_index::<String>(1).unwrap()
        );
        assert!(
            table.try_get_by_index::<bool>(2).unwrap(),
            "{name}: row-level security is off"
        );
        assert!(
            table.try_get_by_index::<bool>(3).unwrap(),
            "{name}: row-level security is not forced"
        );
    }

    // Rows exist (this shop's at least), yet a bare connection sees none of them.
    for table in &names {
        let count = conn
            .query_one_raw(Statement::from_string(
                DbBackend::Postgres,
                format!("SELECT count(*) FROM {table}"),
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get_by_index::<i64>(0)
            .unwrap();
        assert_eq!(count, 0, "{table} is readable without a tenant");
    }
    // Scoped to the shop, its own row is there; scoped to another shop, it is not.
    let tx = app.tenants_db.tenant_tx(shop.id).await.unwrap();
    let own = tx
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT count(*) FROM shops",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(own.try_get_by_index::<i64>(0).unwrap(), 1);
    drop(tx);
    let tx = app
        .tenants_db
        .tenant_tx(mercato_tenant_context::TenantId::new())
        .await
        .unwrap();
    let other = tx
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT count(*) FROM shops",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(other.try_get_by_index::<i64>(0).unwrap(), 0);
}

/// Start-up refuses a role that row-level security does not apply to, and says how to fix it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_that_bypasses_rls_is_refused() {
    let Some(url) = mercato_testkit::backend(
        mercato_testkit::POSTGRES,
        "a_role_that_bypasses_rls_is_refused",
    ) else {
        return;
    };
    // The same server and database as the superuser `postgres` (trust on loopback, as
    // `.ci/run` sets it up).
    let (_, rest) = url.split_once("://").expect("a URL");
    let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    let superuser = format!("postgres://postgres@{host}");
    let refused = mercato_db::Db::connect(
        mercato_db::DbTarget::Postgres {
            url: &superuser,
            schema: "rls_refusal",
        },
        1,
    )
    .await;
    match refused {
        Err(e @ mercato_db::ConnectError::PrivilegedRole { .. }) => {
            let message = e.to_string();
            assert!(message.contains("\"postgres\" is a superuser"), "{message}");
            assert!(message.contains("NOSUPERUSER NOBYPASSRLS"), "{message}");
        }
        Err(other) => panic!("expected the role to be refused, got {other}"),
        Ok(_) => panic!("a superuser connection was accepted"),
    }
}

/// `database.migrate_url`: migrations run as the schemas' owner, and the serving role only
/// reads and writes. Alone, the serving role cannot even start on a new schema; behind an
/// owner, the platform serves and the serving role still cannot create, drop or unwall a
/// table.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_serving_role_only_reads_and_writes() {
    const TEST: &str = "the_serving_role_only_reads_and_writes";
    let Some(owner_url) = mercato_testkit::backend(mercato_testkit::POSTGRES, TEST) else {
        return;
    };
    // A serving role with nothing but LOGIN, created as the superuser `postgres` (trust on
    // loopback, as `.ci/run` sets it up) on the test database's server.
    let (_, rest) = owner_url.split_once("://").expect("a URL");
    let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    let superuser = mercato_db::Db::connect_owner(mercato_db::DbTarget::Postgres {
        url: &format!("postgres://postgres@{host}"),
        schema: "public",
    })
    .await
    .expect("the superuser connects");
    superuser
        .raw_connection()
        .execute_unprepared(
            "DO $$ BEGIN CREATE ROLE mercato_serving_test LOGIN NOSUPERUSER NOBYPASSRLS; \
             EXCEPTION WHEN duplicate_object THEN NULL; END $$",
        )
        .await
        .expect("create the serving role");
    let serving_url = format!("postgres://mercato_serving_test@{host}");

    // Alone, it cannot create its schemas.
    let dns = mercato_testkit::TestDns::shared().expect("dns server");
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config =
        crate::support::test_config(Backend::Real, dir.path(), dns, TEST).expect("backends");
    config.database.url = serving_url.clone();
    let alone = mercato_gateway::app::start(
        &config,
        mercato_gateway::app::Shape::AllInOne,
        false,
        tokio_util::sync::CancellationToken::new(),
    )
    .await;
    let Err(refused) = alone else {
        panic!("a role without CREATE migrated the schemas");
    };
    assert!(refused.to_string().contains("migrating"), "{refused}");
    // It made its bucket before it stopped (storage comes up first): no test leaves one.
    if config.storage.kind == mercato_storage::StorageKind::S3 {
        let s3 = &config.storage.s3;
        let client = mercato_testkit::s3::client(
            &s3.endpoint,
            &s3.region,
            &s3.access_key_id,
            s3.secret_access_key.expose(),
        );
        mercato_testkit::s3::remove_bucket(&client, &s3.bucket)
            .await
            .expect("remove the refused start's bucket");
    }

    // Behind the owner, the platform runs.
    let Some(app) = TestApp::spawn_with(Backend::Real, TEST, |config| {
        config.database.migrate_url = std::mem::replace(&mut config.database.url, serving_url);
    })
    .await
    else {
        return;
    };
    let admin = app.admin_token().await;
    let shop = app.shop(&admin, "free").await;
    let reply = app
        .client
        .get(&shop.host, "/api/v1/shop", None)
        .await
        .expect("shop");
    assert_eq!(reply.status, 200, "{}", reply.text);
    let conn = app.tenants_db.raw_connection();
    let role = app.tenants_db.current_role().await.expect("role");
    assert_eq!(role, "mercato_serving_test");
    let schema = app.tenants_db.schema().expect("a PostgreSQL schema");
    for ddl in [
        format!("CREATE TABLE {schema}.intruder (x INT)"),
        format!("DROP TABLE {schema}.shops"),
        format!("ALTER TABLE {schema}.shops DISABLE ROW LEVEL SECURITY"),
    ] {
        let denied = conn.execute_unprepared(&ddl).await;
        assert!(
            denied
                .as_ref()
                .is_err_and(|e| e.to_string().contains("permission denied")
                    || e.to_string().contains("must be owner")),
            "{ddl}: {denied:?}"
        );
    }
}

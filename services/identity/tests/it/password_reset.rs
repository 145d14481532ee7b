//! Asking for a password reset does the same work whether or not the account exists (one
//! job, committed); the job then mails a code to a real account only, once per request.

use crate::on_every_backend;
use crate::support::{PASSWORD, Reply, Service};
use axum::http::StatusCode;
use mercato_db::Db;
use mercato_identity::app::password_reset::{JOB_KIND, ResetRequests};
use mercato_identity::domain::{AccountRole, Realm};
use mercato_identity::{IdentityConfig, reset_request_worker};
use mercato_jobs::{JobHandler, JobId, JobOutcome};
use mercato_tenant_context::TenantId;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;
use std::collections::BTreeMap;

async fn ask(service: &Service, realm: Realm, email: &str) -> Reply {
    service
        .post(
            realm,
            "/api/v1/auth/password-reset",
            json!({ "email": email }),
        )
        .await
}

/// How many rows the realm has in each of identity's tables.
async fn rows(db: &Db, realm: Realm) -> BTreeMap<&'static str, i64> {
    let tx = db.tenant_read(realm.storage_tenant()).await.unwrap();
    let mut counts = BTreeMap::new();
    for table in mercato_identity::repo::MIGRATIONS
        .iter()
        .flat_map(|m| m.tenant_tables)
    {
        let row = tx
            .query_one_raw(Statement::from_sql_and_values(
                tx.get_database_backend(),
                format!("SELECT COUNT(*) AS n FROM {table} WHERE tenant_id = $1"),
                [realm.storage_tenant().as_uuid().into()],
            ))
            .await
            .unwrap()
            .unwrap();
        counts.insert(*table, row.try_get::<i64>("", "n").unwrap());
    }
    counts
}

/// What changed between two counts: table → rows added.
fn added(
    before: &BTreeMap<&'static str, i64>,
    after: &BTreeMap<&'static str, i64>,
) -> BTreeMap<&'static str, i64> {
    after
        .iter()
        .map(|(table, n)| (*table, n - before[table]))
        .filter(|(_, n)| *n != 0)
        .collect()
}

async fn a_request_writes_the_same_whether_or_not_the_account_exists(db: Db) {
    let service = Service::start(db.clone(), IdentityConfig::default());
    let realm = Realm::Shop(TenantId::new());
    service.register(realm, "ada@example.test").await;

    let start = rows(&db, realm).await;
    let known = ask(&service, realm, "Ada@Example.test").await;
    let after_known = rows(&db, realm).await;
    let unknown = ask(&service, realm, "nobody@example.test").await;
    let after_unknown = rows(&db, realm).await;

    assert_eq!(known.status, StatusCode::ACCEPTED, "{known:?}");
    assert_eq!(unknown.status, StatusCode::ACCEPTED, "{unknown:?}");
    assert_eq!(known.body, unknown.body, "the answer tells nothing");
    let for_known = added(&start, &after_known);
    let for_unknown = added(&after_known, &after_unknown);
    assert_eq!(for_known, for_unknown, "the same rows, whoever asked");
    assert_eq!(for_known, BTreeMap::from([("jobs", 1)]), "one job each");

    let bad = ask(&service, realm, "not an email").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}");
    assert_eq!(
        rows(&db, realm).await,
        after_unknown,
        "and a bad one writes nothing"
    );
}

/// The `mpr_…` code in a mail body.
fn code(body: &str) -> String {
    let start = body.find("mpr_").expect("a code in the mail");
    body[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

async fn the_job_mails_a_code_to_a_real_account_only(db: Db) {
    mercato_identity::ensure_account(
        &db,
        Realm::Platform,
        "root@example.test",
        PASSWORD,
        AccountRole::PlatformAdmin,
    )
    .await
    .unwrap();
    let service = Service::start(db, IdentityConfig::default());
    let realm = Realm::Shop(TenantId::new());
    service.register(realm, "ada@example.test").await;
    for (realm, email) in [
        (realm, "ada@example.test"),
        (realm, "nobody@example.test"),
        (Realm::Platform, "root@example.test"),
        (Realm::Platform, "ada@example.test"),
    ] {
        assert_eq!(
            ask(&service, realm, email).await.status,
            StatusCode::ACCEPTED
        );
    }
    assert_eq!(
        service.sent.count(),
        0,
        "nothing is sent by the request itself"
    );

    let worker = reset_request_worker(&service.state);
    while worker.run_once().await.unwrap() {}
    let mails = service.sent.to("ada@example.test");
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(mails[0].realm, realm);
    assert!(service.sent.to("nobody@example.test").is_empty());
    let admin = service.sent.to("root@example.test");
    assert_eq!(admin.len(), 1);
    assert_eq!(admin[0].realm, Realm::Platform);
    assert_eq!(service.sent.count(), 2);

    // The code works, once.
    let new_password = "a much better passphrase";
    let confirm = json!({ "token": code(&mails[0].body), "password": new_password });
    let done = service
        .post(
            realm,
            "/api/v1/auth/password-reset/confirm",
            confirm.clone(),
        )
        .await;
    assert_eq!(done.status, StatusCode::NO_CONTENT, "{done:?}");
    let login = service.login(realm, "ada@example.test", new_password).await;
    assert_eq!(login.status, StatusCode::OK, "{login:?}");
    let again = service
        .post(realm, "/api/v1/auth/password-reset/confirm", confirm)
        .await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST, "{again:?}");
}

async fn a_job_run_again_sends_no_second_code(db: Db) {
    let service = Service::start(db.clone(), IdentityConfig::default());
    let realm = Realm::Shop(TenantId::new());
    let tenant = realm.storage_tenant();
    service.register(realm, "ada@example.test").await;
    ask(&service, realm, "ada@example.test").await;
    let worker = reset_request_worker(&service.state);
    assert!(worker.run_once().await.unwrap());
    assert_eq!(service.sent.count(), 1);
    let after_first = rows(&db, realm).await;

    // As after a crash between the job's commit and its outcome: the same job runs again.
    let tx = db.tenant_read(tenant).await.unwrap();
    let id = tx
        .query_one_raw(Statement::from_sql_and_values(
            tx.get_database_backend(),
            "SELECT id FROM jobs WHERE tenant_id = $1 AND kind = $2",
            [tenant.as_uuid().into(), JOB_KIND.into()],
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<uuid::Uuid>("", "id")
        .unwrap();
    let job = mercato_jobs::find(&*tx, tenant, JobId::from_uuid(id))
        .await
        .unwrap()
        .unwrap();
    drop(tx);
    let handler = ResetRequests(service.state.clone());
    assert_eq!(handler.run(&job).await, JobOutcome::Done);
    assert_eq!(service.sent.count(), 1, "no second mail");
    assert_eq!(rows(&db, realm).await, after_first, "and no second code");
}

async fn an_account_gets_at_most_three_pending_codes(db: Db) {
    let service = Service::start(db, IdentityConfig::default());
    let realm = Realm::Shop(TenantId::new());
    service.register(realm, "ada@example.test").await;
    for _ in 0..5 {
        ask(&service, realm, "ada@example.test").await;
    }
    let worker = reset_request_worker(&service.state);
    while worker.run_once().await.unwrap() {}
    assert_eq!(service.sent.to("ada@example.test").len(), 3);
}

on_every_backend!(
    a_request_writes_the_same_whether_or_not_the_account_exists,
    the_job_mails_a_code_to_a_real_account_only,
    a_job_run_again_sends_no_second_code,
    an_account_gets_at_most_three_pending_codes,
);

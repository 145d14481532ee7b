//! A test app removes what it made on the real servers when it is dropped: its PostgreSQL
//! schemas and its S3 bucket, objects and all. (A test run that left them behind would fill
//! the database and the S3 server's disk a little more on every run.)

use crate::support::{Backend, TestApp};

async fn a_dropped_app_leaves_no_schema_or_bucket(backend: Backend, test: &str) {
    let Some(app) = TestApp::spawn(backend, test).await else {
        return;
    };
    let (schemas, bucket) = app.made_on_servers();
    let (url, names) = schemas.expect("a real-backend app has schemas");
    let db = mercato_db::Db::connect(
        mercato_db::DbTarget::Postgres {
            url: &url,
            schema: "public",
        },
        1,
    )
    .await
    .unwrap();
    assert_eq!(existing_schemas(&db, &names).await, names.len());
    // The bucket exists from start-up on; an object in it must not stop its removal.
    let s3 = bucket.map(|config| {
        let client = mercato_testkit::s3::client(
            &config.endpoint,
            &config.region,
            &config.access_key_id,
            config.secret_access_key.expose(),
        );
        (client, config.bucket)
    });
    if let Some((client, bucket)) = &s3 {
        client
            .put_object()
            .bucket(bucket)
            .key("shops/leftover/object.txt")
            .body(b"left behind?".to_vec().into())
            .send()
            .await
            .expect("put an object in the app's bucket");
    } else if std::env::var(mercato_testkit::REQUIRE).is_ok_and(|v| v == "1") {
        panic!("CI has an S3 server: the app should have a bucket of its own");
    }

    drop(app);

    assert_eq!(
        existing_schemas(&db, &names).await,
        0,
        "the app's schemas {names:?} are gone"
    );
    if let Some((client, bucket)) = &s3 {
        let head = client.head_bucket().bucket(bucket).send().await;
        assert!(head.is_err(), "the bucket {bucket} is gone");
    }
}

async fn existing_schemas(db: &mercato_db::Db, names: &[String]) -> usize {
    let rows = sea_orm::ConnectionTrait::query_all_raw(
        db.raw_connection(),
        sea_orm::Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "SELECT schema_name FROM information_schema.schemata WHERE schema_name = ANY($1)",
            [names.to_vec().into()],
        ),
    )
    .await
    .unwrap();
    rows.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real() {
    a_dropped_app_leaves_no_schema_or_bucket(Backend::Real, "leftovers::real").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn split() {
    a_dropped_app_leaves_no_schema_or_bucket(Backend::Split, "leftovers::split").await;
}

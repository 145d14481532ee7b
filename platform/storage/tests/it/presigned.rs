//! S3 download links: SigV4 presigned `GET` URLs that a browser takes straight to the
//! bucket. They work with no other credentials, stop working when they expire, and cannot
//! be altered. Each test runs only with an S3 server (`MERCATO_TEST_S3_ENDPOINT`).

use crate::support::{Backend, Fixture, PDF, PNG, run};
use mercato_storage::{ObjectKey, Owner, Storage};
use mercato_tenant_context::TenantId;
use std::time::Duration;

async fn on_s3<F, Fut>(test: &str, body: F)
where
    F: FnOnce(Fixture) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    run(Backend::S3, test, body).await;
}

async fn stored(storage: &Storage, tenant: TenantId, bytes: &'static [u8]) -> ObjectKey {
    let key = ObjectKey::unique(tenant, Owner::Shop, "media", Some("bin")).unwrap();
    storage.put(&key, bytes, "image/png").await.unwrap();
    key
}

/// `url` with one character of its `X-Amz-Signature` changed.
fn tampered(url: &str) -> String {
    let at = url.find("X-Amz-Signature=").unwrap() + "X-Amz-Signature=".len() + 5;
    let mut bytes = url.as_bytes().to_vec();
    bytes[at] = if bytes[at] == b'a' { b'b' } else { b'a' };
    String::from_utf8(bytes).unwrap()
}

#[tokio::test]
async fn a_presigned_link_downloads_the_object() {
    on_s3(
        "it::presigned::a_presigned_link_downloads_the_object",
        |f| async move {
            let storage = f.storage().await;
            let key = stored(&storage, TenantId::new(), PNG).await;
            let url = storage
                .download_url(&key, Duration::from_secs(60))
                .await
                .unwrap();
            assert!(url.starts_with("http"), "{url}");
            assert!(url.contains("X-Amz-Signature="), "{url}");
            assert!(url.contains(key.as_str()), "{url}");

            let response = reqwest::get(&url).await.unwrap();
            assert_eq!(response.status(), 200);
            assert_eq!(response.headers()["content-type"], "image/png");
            assert_eq!(response.bytes().await.unwrap().as_ref(), PNG);

            let anonymous = reqwest::get(url.split_once('?').unwrap().0).await.unwrap();
            assert_eq!(anonymous.status(), 403, "the bucket is not public");
        },
    )
    .await;
}

#[tokio::test]
async fn a_presigned_link_stops_working_when_it_expires() {
    on_s3(
        "it::presigned::a_presigned_link_stops_working_when_it_expires",
        |f| async move {
            let storage = f.storage().await;
            let key = stored(&storage, TenantId::new(), PNG).await;
            let url = storage
                .download_url(&key, Duration::from_secs(1))
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_millis(2500)).await;
            let response = reqwest::get(&url).await.unwrap();
            assert_eq!(response.status(), 403);
            assert_ne!(response.bytes().await.unwrap().as_ref(), PNG);
        },
    )
    .await;
}

#[tokio::test]
async fn a_tampered_presigned_link_is_refused() {
    on_s3(
        "it::presigned::a_tampered_presigned_link_is_refused",
        |f| async move {
            let storage = f.storage().await;
            let key = stored(&storage, TenantId::new(), PNG).await;
            let url = storage
                .download_url(&key, Duration::from_secs(60))
                .await
                .unwrap();
            let forged = tampered(&url);
            assert_ne!(forged, url);
            let response = reqwest::get(&forged).await.unwrap();
            assert_eq!(response.status(), 403);
            assert_ne!(response.bytes().await.unwrap().as_ref(), PNG);
        },
    )
    .await;
}

#[tokio::test]
async fn a_presigned_link_reaches_only_its_own_shops_object() {
    on_s3(
        "it::presigned::a_presigned_link_reaches_only_its_own_shops_object",
        |f| async move {
            let storage = f.storage().await;
            let (a, b) = (TenantId::new(), TenantId::new());
            let key_a = stored(&storage, a, PNG).await;
            let key_b = ObjectKey::new(b, Owner::Shop, key_a.area(), key_a.name()).unwrap();
            storage.put(&key_b, PDF, "application/pdf").await.unwrap();

            let url_a = storage
                .download_url(&key_a, Duration::from_secs(60))
                .await
                .unwrap();
            let swapped = url_a.replace(&a.to_string(), &b.to_string());
            assert_ne!(swapped, url_a);
            let response = reqwest::get(&swapped).await.unwrap();
            assert_eq!(response.status(), 403);
            assert_ne!(response.bytes().await.unwrap().as_ref(), PDF);
        },
    )
    .await;
}

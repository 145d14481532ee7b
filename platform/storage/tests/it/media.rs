//! The local backend's signed links, served by `media_router`: the link works until it
//! expires, and nothing but the platform can make one.

use crate::support::{PDF, PNG, local, s3_config_for_construction};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt as _;
use mercato_storage::{
    HostTenant, MediaType, ObjectKey, Owner, SignatureError, Storage, media_router,
};
use mercato_tenant_context::{TenantId, VendorId};
use serde_json::Value;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tower::ServiceExt as _;

const MINUTE: Duration = Duration::from_secs(60);

struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: header::HeaderName) -> &str {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap())
            .unwrap_or_default()
    }

    fn problem_code(&self) -> String {
        assert_eq!(
            self.header(header::CONTENT_TYPE),
            "application/problem+json"
        );
        let body: Value = serde_json::from_slice(&self.body).unwrap();
        body["code"].as_str().unwrap().to_owned()
    }
}

/// Fetches `url` on the host of the shop its key names (a random shop when it names none),
/// as the gateway would tell the router.
async fn fetch(storage: &Storage, url: &str) -> Reply {
    let named = url
        .split('/')
        .nth(3)
        .and_then(|shop| shop.parse::<TenantId>().ok())
        .unwrap_or_default();
    fetch_on(storage, Some(named), url).await
}

/// Fetches `url` on the host of `host` (`None`: a request the gateway resolved to no shop).
async fn fetch_on(storage: &Storage, host: Option<TenantId>, url: &str) -> Reply {
    let mut request = Request::get(url).body(Body::empty()).unwrap();
    if let Some(tenant) = host {
        request.extensions_mut().insert(HostTenant(tenant));
    }
    let response = media_router(storage.clone())
        .oneshot(request)
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    Reply {
        status,
        headers,
        body,
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

async fn stored_png(storage: &Storage, tenant: TenantId) -> ObjectKey {
    let key = ObjectKey::unique(
        tenant,
        Owner::Vendor(VendorId::new()),
        "products",
        Some("png"),
    )
    .unwrap();
    storage.put(&key, PNG, MediaType::Png.mime()).await.unwrap();
    key
}

/// The link with its `sig` query parameter replaced.
fn with_sig(url: &str, sig: &str) -> String {
    let (base, _) = url.split_once("&sig=").unwrap();
    format!("{base}&sig={sig}")
}

fn sig_of(url: &str) -> &str {
    url.split_once("&sig=").unwrap().1
}

#[tokio::test]
async fn a_signed_link_serves_the_object() {
    let (_dir, storage) = local();
    let key = stored_png(&storage, TenantId::new()).await;
    let url = storage.download_url(&key, MINUTE).await.unwrap();
    assert!(url.starts_with(&format!("/media/{key}?expires=")), "{url}");

    let reply = fetch(&storage, &url).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body, PNG);
    assert_eq!(reply.header(header::CONTENT_TYPE), "image/png");
    assert_eq!(reply.header(header::CACHE_CONTROL), "private");
    assert_eq!(reply.header(header::X_CONTENT_TYPE_OPTIONS), "nosniff");
    assert_eq!(
        reply.header(header::CONTENT_DISPOSITION),
        "",
        "images show inline"
    );

    let pdf = ObjectKey::new(key.tenant(), Owner::Shop, "reports", "sales.pdf").unwrap();
    storage.put(&pdf, PDF, "application/pdf").await.unwrap();
    let reply = fetch(&storage, &storage.download_url(&pdf, MINUTE).await.unwrap()).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body, PDF);
    assert_eq!(reply.header(header::CONTENT_TYPE), "application/pdf");
}

#[tokio::test]
async fn a_signed_link_works_over_http() {
    let (_dir, storage) = local();
    let key = stored_png(&storage, TenantId::new()).await;
    let url = storage.download_url(&key, MINUTE).await.unwrap();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = media_router(storage).layer(axum::Extension(HostTenant(key.tenant())));
    let server = tokio::spawn(axum::serve(listener, router).into_future());
    let response = reqwest::get(format!("http://{addr}{url}")).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "image/png");
    assert_eq!(response.bytes().await.unwrap().as_ref(), PNG);

    let forged = with_sig(&url, &"0".repeat(64));
    let response = reqwest::get(format!("http://{addr}{forged}"))
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    server.abort();
}

#[tokio::test]
async fn an_expired_link_is_forbidden() {
    let (_dir, storage) = local();
    let key = stored_png(&storage, TenantId::new()).await;
    let signer = storage.media_signer().unwrap();
    let url = signer.download_url(&key, now() - 5);

    let reply = fetch(&storage, &url).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(reply.problem_code(), "link_expired");
    assert_ne!(reply.body, PNG);

    // Pushing the expiry forward breaks the signature instead.
    let extended = url.replace(
        &format!("expires={}", now() - 5),
        &format!("expires={}", now() + 3600),
    );
    assert_ne!(extended, url);
    let reply = fetch(&storage, &extended).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(reply.problem_code(), "invalid_signature");
}

#[tokio::test]
async fn a_link_that_just_ran_out_is_forbidden() {
    let (_dir, storage) = local();
    let key = stored_png(&storage, TenantId::new()).await;
    let url = storage
        .download_url(&key, Duration::from_secs(1))
        .await
        .unwrap();
    assert_eq!(fetch(&storage, &url).await.status, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let reply = fetch(&storage, &url).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(reply.problem_code(), "link_expired");
}

#[tokio::test]
async fn a_forged_or_missing_signature_is_forbidden() {
    let (_dir, storage) = local();
    let key = stored_png(&storage, TenantId::new()).await;
    let url = storage.download_url(&key, MINUTE).await.unwrap();
    let sig = sig_of(&url).to_owned();

    let mut flipped = sig.clone().into_bytes();
    flipped[0] = if flipped[0] == b'a' { b'b' } else { b'a' };
    let flipped = String::from_utf8(flipped).unwrap();
    let (without_sig, _) = url.split_once("&sig=").unwrap();
    let (bare, _) = url.split_once('?').unwrap();
    let other_secret = Storage::local(
        tempfile::tempdir().unwrap().path(),
        &mercato_kernel::Secret::new("another secret that is long enough!!"),
    )
    .unwrap();
    let other_url = other_secret.download_url(&key, MINUTE).await.unwrap();

    for forged in [
        with_sig(&url, &flipped),
        with_sig(&url, ""),
        with_sig(&url, "zz"),
        without_sig.to_owned(),
        bare.to_owned(),
        format!("{bare}?expires=soon&sig={sig}"),
        other_url,
    ] {
        let reply = fetch(&storage, &forged).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{forged}");
        assert_eq!(reply.problem_code(), "invalid_signature", "{forged}");
        assert_ne!(reply.body, PNG);
    }
    assert_eq!(
        storage.verify_download(key.as_str(), now() + 60, &flipped, now()),
        Err(SignatureError::BadSignature)
    );
}

#[tokio::test]
async fn another_shops_key_cannot_be_reached_with_a_link() {
    let (_dir, storage) = local();
    let (a, b) = (TenantId::new(), TenantId::new());
    let key_a = stored_png(&storage, a).await;
    // B's object, at the same owner, area and name as A's.
    let key_b = ObjectKey::new(b, key_a.owner(), key_a.area(), key_a.name()).unwrap();
    storage.put(&key_b, PDF, "application/pdf").await.unwrap();

    let url_a = storage.download_url(&key_a, MINUTE).await.unwrap();
    let swapped = url_a.replace(&a.to_string(), &b.to_string());
    assert!(swapped.contains(key_b.as_str()));
    let reply = fetch(&storage, &swapped).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(reply.problem_code(), "invalid_signature");
    assert_ne!(reply.body, PDF);

    // Keys kept as text are read back only in their own shop's name.
    assert!(ObjectKey::parse(b, key_a.as_str()).is_err());
    assert_eq!(ObjectKey::parse(b, key_b.as_str()), Ok(key_b));
}

#[tokio::test]
async fn a_link_opens_only_on_its_own_shops_host() {
    let (_dir, storage) = local();
    let (a, b) = (TenantId::new(), TenantId::new());
    let key = stored_png(&storage, a).await;
    let url = storage.download_url(&key, MINUTE).await.unwrap();

    let home = fetch_on(&storage, Some(a), &url).await;
    assert_eq!(home.status, StatusCode::OK);
    assert_eq!(home.body, PNG);
    for host in [Some(b), None] {
        let reply = fetch_on(&storage, host, &url).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{host:?}");
        assert_eq!(reply.problem_code(), "not_found");
        assert_ne!(reply.body, PNG);
    }
}

#[tokio::test]
async fn paths_outside_the_store_are_never_served() {
    let (dir, storage) = local();
    std::fs::write(dir.path().join("secret.txt"), b"do not serve").unwrap();
    let signer = storage.media_signer().unwrap();
    let key = stored_png(&storage, TenantId::new()).await;
    let sig = signer.sign(&key, now() + 60);
    for path in [
        "/media/../secret.txt".to_owned(),
        "/media/shops/../../secret.txt".to_owned(),
        "/media/%2e%2e/secret.txt".to_owned(),
        format!("/media/{}/../../../../../secret.txt", key.as_str()),
    ] {
        let url = format!("{path}?expires={}&sig={sig}", now() + 60);
        let reply = fetch(&storage, &url).await;
        assert!(
            reply.status == StatusCode::FORBIDDEN || reply.status == StatusCode::NOT_FOUND,
            "{url}: {}",
            reply.status
        );
        assert_ne!(reply.body, b"do not serve");
    }
}

#[tokio::test]
async fn a_link_to_a_deleted_object_is_not_found() {
    let (_dir, storage) = local();
    let key = stored_png(&storage, TenantId::new()).await;
    let url = storage.download_url(&key, MINUTE).await.unwrap();
    storage.delete(&key).await.unwrap();
    let reply = fetch(&storage, &url).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.problem_code(), "not_found");
}

#[tokio::test]
async fn content_that_is_not_a_known_media_type_is_downloaded_not_rendered() {
    let (_dir, storage) = local();
    let key = ObjectKey::new(TenantId::new(), Owner::Shop, "exports", "page.html").unwrap();
    storage
        .put(&key, b"<script>alert(1)</script>".to_vec(), "text/html")
        .await
        .unwrap();
    let reply = fetch(&storage, &storage.download_url(&key, MINUTE).await.unwrap()).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header(header::CONTENT_DISPOSITION), "attachment");
    assert_eq!(reply.header(header::X_CONTENT_TYPE_OPTIONS), "nosniff");
}

#[tokio::test]
async fn the_router_serves_nothing_for_s3() {
    // Constructing an S3 storage makes no request, so this needs no server.
    let storage = Storage::s3(&s3_config_for_construction()).unwrap();
    assert!(storage.media_signer().is_none());
    let key = ObjectKey::new(TenantId::new(), Owner::Shop, "media", "x.png").unwrap();
    let (_dir, local) = local();
    let url = local.media_signer().unwrap().download_url(&key, now() + 60);
    let reply = fetch(&storage, &url).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(
        storage.verify_download(key.as_str(), now() + 60, sig_of(&url), now()),
        Err(SignatureError::BadSignature)
    );
}

//! A signed `/media` link opens on its own shop's domain only: another shop's host, the
//! platform host and unknown hosts answer 404, as for any other shop's resource.

use crate::on_all_backends;
use crate::support::{Backend, PLATFORM, TestApp};

/// A 1×1 PNG.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82";

async fn a_media_link_opens_only_on_its_own_shops_host(backend: Backend, test: &str) {
    let Some(app) = TestApp::spawn(backend, test).await else {
        return;
    };
    let admin = app.admin_token().await;
    let a = app.shop(&admin, "growth").await;
    let b = app.shop(&admin, "growth").await;
    let (vendor, _, seller) = app.applied_vendor(&a, "Pixel Prints").await;
    let auth = format!("Bearer {seller}");
    let uploaded = app
        .client
        .send_raw(
            "PUT",
            &a.host,
            &format!("/api/v1/vendors/{vendor}/images/logo"),
            &[
                ("authorization", auth.as_str()),
                ("content-type", "image/png"),
            ],
            PNG.to_vec(),
        )
        .await
        .unwrap();
    assert_eq!(uploaded.status, 200, "{}", uploaded.text);
    let url = uploaded.str("logo_url");
    if url.starts_with("http") {
        // With S3 storage links are presigned URLs on the bucket's host, not on any shop's.
        eprintln!("{test}: media links point at S3; no shop host serves them");
        return;
    }
    assert!(url.starts_with("/media/"), "{url}");
    let fetch = |host: String| {
        let (client, url) = (app.client.clone(), url.clone());
        async move {
            client
                .send_raw("GET", &host, &url, &[], Vec::new())
                .await
                .unwrap()
        }
    };

    let own = fetch(a.host.clone()).await;
    assert_eq!(own.status, 200, "{}", own.text);
    assert_eq!(own.content_type(), "image/png");

    for host in [b.host.as_str(), PLATFORM, "nobody.example"] {
        let reply = fetch(host.to_owned()).await;
        assert_eq!(reply.status, 404, "{host}: {}", reply.text);
        assert_eq!(reply.content_type(), "application/problem+json");
        assert_eq!(reply.str("code"), "not_found");
    }
    // Still fine at home afterwards.
    assert_eq!(fetch(a.host.clone()).await.status, 200);
}
on_all_backends!(a_media_link_opens_only_on_its_own_shops_host);

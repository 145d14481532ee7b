//! `/readyz` (which pings every database) and `/metrics` are served on the admin listener
//! only, never on a shop's domain; `/healthz` stays on the main listener.

use crate::on_all_backends;
use crate::support::{Backend, PLATFORM, TestApp};

async fn readiness_and_metrics_are_only_on_the_admin_listener(backend: Backend, test: &str) {
    let Some(app) = TestApp::spawn(backend, test).await else {
        return;
    };
    let admin = app.admin_token().await;
    let shop = app.shop(&admin, "free").await;

    for host in [shop.host.as_str(), PLATFORM, "nobody.example"] {
        for path in ["/readyz", "/metrics"] {
            let reply = app.client.get(host, path, None).await.unwrap();
            assert_eq!(reply.status, 404, "{host}{path}: {}", reply.text);
            assert_eq!(reply.content_type(), "application/problem+json");
            assert!(!reply.text.contains("ready"), "{}", reply.text);
            assert!(
                !reply.text.contains("mercato_http_requests_total"),
                "{}",
                reply.text
            );
        }
        let alive = app.client.get(host, "/healthz", None).await.unwrap();
        assert_eq!(alive.status, 200, "{host}: {}", alive.text);
        assert_eq!(alive.str("status"), "ok");
    }

    let ready = app.admin.get("localhost", "/readyz", None).await.unwrap();
    assert_eq!(ready.status, 200, "{}", ready.text);
    assert_eq!(ready.str("status"), "ready");
    let metrics = app.admin.get("localhost", "/metrics", None).await.unwrap();
    assert_eq!(metrics.status, 200, "{}", metrics.text);
    assert!(
        metrics.content_type().starts_with("text/plain"),
        "{}",
        metrics.content_type()
    );
    // The main listener's traffic (the 404s above included) is what it counts.
    assert!(
        metrics
            .text
            .contains("mercato_http_requests_total{service=\"gateway\",status=\"404\"}"),
        "{}",
        metrics.text
    );
    let alive = app.admin.get("localhost", "/healthz", None).await.unwrap();
    assert_eq!(alive.status, 200, "{}", alive.text);
    // The admin listener is not a second front door.
    let api = app
        .admin
        .get(&shop.host, "/api/v1/shop", None)
        .await
        .unwrap();
    assert_eq!(api.status, 404, "{}", api.text);
    assert!(!api.text.contains(&shop.slug), "{}", api.text);
}
on_all_backends!(readiness_and_metrics_are_only_on_the_admin_listener);

//! The committed OpenAPI document matches the code (run with UPDATE_OPENAPI=1 to refresh
//! docs/openapi.json), and the gateway serves it.

use crate::support::{Backend, PLATFORM, TestApp};

#[test]
fn committed_openapi_matches_the_code() {
    let generated = mercato_gateway::openapi::document()
        .to_pretty_json()
        .expect("serializes")
        + "\n";
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/openapi.json");
    if std::env::var("UPDATE_OPENAPI").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &generated).expect("write docs/openapi.json");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/openapi.json is stale: run `UPDATE_OPENAPI=1 cargo test -p mercato-gateway openapi` and commit it"
    );
}

#[tokio::test]
async fn the_gateway_serves_the_document_and_health() {
    let Some(app) = TestApp::spawn(
        Backend::Embedded,
        "the_gateway_serves_the_document_and_health",
    )
    .await
    else {
        return;
    };
    let doc = app
        .client
        .get(PLATFORM, "/api/openapi.json", None)
        .await
        .unwrap();
    assert_eq!(doc.status, 200);
    assert!(
        doc.body["openapi"]
            .as_str()
            .unwrap_or_default()
            .starts_with("3.1")
    );
    assert!(doc.body["paths"]["/api/v1/admin/shops"].is_object());
    for host in [PLATFORM, "anything.example"] {
        assert_eq!(
            app.client.get(host, "/healthz", None).await.unwrap().status,
            200
        );
    }
    // Readiness and metrics are on the admin listener (see admin_listener.rs).
    assert_eq!(
        app.admin
            .get(PLATFORM, "/readyz", None)
            .await
            .unwrap()
            .status,
        200
    );
    let _ = app
        .client
        .get(PLATFORM, "/api/v1/shop", None)
        .await
        .unwrap();
    let metrics = app.admin.get(PLATFORM, "/metrics", None).await.unwrap();
    assert!(
        metrics.text.contains("mercato_http_requests_total"),
        "{}",
        metrics.text
    );
}

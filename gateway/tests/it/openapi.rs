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

/// Two services that name different schemas alike would have one silently replace the other
/// when the documents are merged (an `Address` without `name` was once shown for warehouses).
#[test]
fn no_two_services_give_one_schema_name_two_meanings() {
    use utoipa::OpenApi;
    let docs = [
        ("tenants", mercato_tenants::ApiDoc::openapi()),
        ("identity", mercato_identity::ApiDoc::openapi()),
        ("vendors", mercato_vendors::ApiDoc::openapi()),
        ("catalog", mercato_catalog::ApiDoc::openapi()),
        ("inventory", mercato_inventory::ApiDoc::openapi()),
        ("orders", mercato_orders::ApiDoc::openapi()),
    ];
    let mut seen = std::collections::BTreeMap::<String, (&str, serde_json::Value)>::new();
    let mut clashes = Vec::new();
    for (service, doc) in &docs {
        for (name, schema) in doc.components.iter().flat_map(|c| &c.schemas) {
            let schema = serde_json::to_value(schema).expect("serializes");
            match seen.get(name) {
                Some((other, known)) if *known != schema => {
                    clashes.push(format!("{name} ({other}, {service})"));
                }
                Some(_) => {}
                None => {
                    seen.insert(name.clone(), (service, schema));
                }
            }
        }
    }
    assert!(
        clashes.is_empty(),
        "schema names with two meanings: {clashes:?}"
    );
}

/// Every `{name}` in a path is declared as a path parameter of each of its operations, and
/// every error response says it is a problem document.
#[test]
fn every_operation_declares_its_path_parameters_and_problem_bodies() {
    let doc = serde_json::to_value(mercato_gateway::openapi::document()).expect("serializes");
    let mut missing = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        let names: Vec<&str> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
            .collect();
        for (method, operation) in item.as_object().expect("path item") {
            let declared: Vec<&str> = operation["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "path")
                .filter_map(|p| p["name"].as_str())
                .collect();
            for name in &names {
                if !declared.contains(name) {
                    missing.push(format!("{method} {path}: path parameter {name}"));
                }
            }
            for (status, response) in operation["responses"].as_object().expect("responses") {
                if status.as_str() >= "400"
                    && response["content"]["application/problem+json"].is_null()
                {
                    missing.push(format!("{method} {path}: {status} without a problem body"));
                }
            }
        }
    }
    assert!(missing.is_empty(), "{missing:#?}");
}

/// Every problem code is declared once per owner with one status, and a service's code never
/// reuses one of the kernel's with another meaning.
#[test]
fn problem_codes_are_declared_once_with_one_status() {
    let declared = mercato_gateway::openapi::problem_codes();
    let mut seen: std::collections::BTreeMap<(&str, &str), u16> = Default::default();
    for d in &declared {
        assert!(
            d.code.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
            "{d:?}"
        );
        if let Some(status) = seen.insert((d.owner, d.code), d.status) {
            panic!(
                "{} declares {} twice ({status} and {})",
                d.owner, d.code, d.status
            );
        }
    }
    for d in declared.iter().filter(|d| d.owner != "kernel") {
        if let Some(common) = mercato_kernel::Common::DECLARED
            .iter()
            .find(|c| c.code == d.code)
        {
            assert_eq!(common.status, d.status, "{} redeclares {}", d.owner, d.code);
        }
    }
    // The document names them all.
    let doc = serde_json::to_value(mercato_gateway::openapi::document()).unwrap();
    let listed = doc["components"]["schemas"]["ProblemCode"]["enum"]
        .as_array()
        .unwrap()
        .len();
    let mut codes: Vec<&str> = declared.iter().map(|d| d.code).collect();
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(listed, codes.len());
    assert_eq!(
        doc["components"]["schemas"]["ProblemBody"]["properties"]["code"]["$ref"],
        "#/components/schemas/ProblemCode"
    );
}

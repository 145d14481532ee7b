//! The Meilisearch backend against a fake server on loopback that records every request and
//! answers like Meilisearch 1.x would: what goes over the wire carries the shop's filter,
//! and what comes back is mapped into the same results the embedded engine gives.

use crate::support::TeaShop;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use mercato_kernel::Secret;
use mercato_search::{
    FacetSpec, Filters, MeilisearchConfig, MeilisearchIndex, SearchConfig, SearchError,
    SearchIndex, SearchKind, SearchQuery, Sort, open,
};
use mercato_tenant_context::TenantId;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone)]
struct Recorded {
    method: Method,
    /// Path and query.
    uri: String,
    body: Value,
    api_key: Option<String>,
}

#[derive(Clone, Default)]
struct Fake {
    requests: Arc<Mutex<Vec<Recorded>>>,
    /// What `POST /multi-search` and `POST /indexes/products/search` answer.
    search_answer: Arc<Mutex<Value>>,
}

impl Fake {
    fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }

    fn last(&self, method: Method, path: &str) -> Recorded {
        self.requests()
            .into_iter()
            .rev()
            .find(|r| r.method == method && r.uri.split('?').next() == Some(path))
            .unwrap_or_else(|| panic!("no {method} {path} in {:#?}", self.requests()))
    }
}

const WHEN: &str = "2026-12-01T10:00:00Z";

fn task_info(uid: u32, kind: &str) -> Value {
    json!({
        "taskUid": uid, "indexUid": "products", "status": "enqueued",
        "type": kind, "enqueuedAt": WHEN
    })
}

async fn answer(
    State(fake): State<Fake>,
    method: Method,
    uri: Uri,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let api_key = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let path = uri.path().to_owned();
    fake.requests.lock().unwrap().push(Recorded {
        method: method.clone(),
        uri: uri.to_string(),
        body,
        api_key,
    });
    let ok = |value: Value| (StatusCode::OK, axum::Json(value)).into_response();
    let accepted = |value: Value| (StatusCode::ACCEPTED, axum::Json(value)).into_response();
    match (method, path.as_str()) {
        (Method::GET, "/health") => ok(json!({ "status": "available" })),
        (Method::POST, "/multi-search") | (Method::POST, "/indexes/products/search") => {
            ok(fake.search_answer.lock().unwrap().clone())
        }
        (Method::POST, "/indexes/products/documents") => {
            accepted(task_info(41, "documentAdditionOrUpdate"))
        }
        (Method::POST, "/indexes/products/documents/delete-batch") => {
            accepted(task_info(42, "documentDeletion"))
        }
        (Method::POST, "/indexes/products/documents/delete") => {
            accepted(task_info(43, "documentDeletion"))
        }
        (Method::PATCH, "/indexes/products/settings") => accepted(task_info(44, "settingsUpdate")),
        (Method::GET, task) if task.starts_with("/tasks/") => {
            let uid: u32 = task["/tasks/".len()..].parse().unwrap();
            let mut task = json!({
                "uid": uid, "indexUid": "products", "status": "succeeded",
                "type": "documentAdditionOrUpdate", "duration": "PT0.010S",
                "enqueuedAt": WHEN, "startedAt": WHEN, "finishedAt": WHEN,
                "canceledBy": null, "error": null
            });
            if uid == 43 {
                task["status"] = json!("failed");
                task["error"] = json!({
                    "message": "the filter is invalid", "code": "invalid_document_filter",
                    "type": "invalid_request", "link": "https://docs.meilisearch.com/errors"
                });
            }
            ok(task)
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn fake_server() -> (Fake, MeilisearchIndex) {
    let fake = Fake::default();
    let app = Router::new().fallback(answer).with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let index = MeilisearchIndex::new(&MeilisearchConfig {
        url: format!("http://{addr}"),
        api_key: Secret::new("search-key"),
        index: "products".into(),
    })
    .unwrap();
    (fake, index)
}

fn search_response(hits: Value, total: u64, facets: Value) -> Value {
    json!({
        "hits": hits, "query": "", "processingTimeMs": 1, "hitsPerPage": 20, "page": 1,
        "totalHits": total, "totalPages": 1, "facetDistribution": facets,
        "indexUid": "products"
    })
}

#[tokio::test]
async fn every_search_carries_the_shop_filter_and_maps_the_answer() {
    let (fake, index) = fake_server().await;
    let shop = TeaShop::new();
    let chamomile = shop.products[0].clone();
    let tenant_filter = format!("tenant_id = \"{}\"", shop.tenant);
    *fake.search_answer.lock().unwrap() = json!({ "results": [
        search_response(
            json!([{ "product_id": chamomile.product_id.to_string(), "slug": chamomile.slug,
                     "title": chamomile.title, "_rankingScore": 0.93 }]),
            1,
            json!({
                "category_ids": { shop.herbal.to_string(): 1 },
                "vendor_id": { shop.leaf_and_kettle.to_string(): 1 },
                "attribute_pairs": { "origin=Egypt": 1 },
                "in_stock": { "true": 1 }
            }),
        ),
        search_response(json!([]), 1, json!(null)),
        search_response(json!([]), 0, json!(null)),
    ]});

    let results = index
        .search(
            shop.tenant,
            &SearchQuery {
                filters: Filters {
                    vendors: vec![shop.leaf_and_kettle],
                    ..Filters::default()
                },
                facets: Some(FacetSpec {
                    max_values: 10,
                    price_edges: vec![1_000],
                }),
                ..SearchQuery::text("chamomille")
            },
        )
        .await
        .unwrap();

    assert_eq!(results.total, 1);
    assert_eq!(results.hits[0].product_id, chamomile.product_id);
    assert_eq!(results.hits[0].title, chamomile.title);
    assert!((results.hits[0].score.unwrap() - 0.93).abs() < 1e-6);
    assert_eq!(results.facets.categories[0].value, shop.herbal);
    assert_eq!(results.facets.vendors[0].value, shop.leaf_and_kettle);
    assert_eq!(results.facets.attributes["origin"][0].value, "Egypt");
    assert_eq!(results.facets.in_stock.in_stock, 1);
    assert_eq!(
        results
            .facets
            .price_buckets
            .iter()
            .map(|b| b.count)
            .collect::<Vec<_>>(),
        [1, 0]
    );

    let request = fake.last(Method::POST, "/multi-search");
    assert_eq!(request.api_key.as_deref(), Some("Bearer search-key"));
    let queries = request.body["queries"].as_array().unwrap();
    assert_eq!(queries.len(), 3, "the page and one count per price bucket");
    for query in queries {
        let filter = query["filter"].as_str().unwrap();
        assert!(filter.starts_with(&tenant_filter), "{filter}");
        assert!(
            filter.contains(&format!("vendor_id IN [\"{}\"]", shop.leaf_and_kettle)),
            "{filter}"
        );
        assert_eq!(query["indexUid"], "products");
        assert_eq!(query["q"], "chamomille");
    }
    assert_eq!(
        queries[0]["facets"],
        json!(["category_ids", "vendor_id", "attribute_pairs", "in_stock"])
    );
    assert_eq!(queries[0]["hitsPerPage"], 20);
    assert_eq!(queries[0]["page"], 1);
    assert!(
        queries[1]["filter"]
            .as_str()
            .unwrap()
            .ends_with("AND price_min < 1000")
    );
    assert!(
        queries[2]["filter"]
            .as_str()
            .unwrap()
            .ends_with("AND price_min >= 1000")
    );
    assert_eq!(queries[1]["hitsPerPage"], 0);
}

#[tokio::test]
async fn sorting_and_odd_offsets_reach_the_server() {
    let (fake, index) = fake_server().await;
    let tenant = TenantId::new();
    *fake.search_answer.lock().unwrap() =
        json!({ "results": [search_response(json!([]), 0, json!({}))] });
    index
        .search(
            tenant,
            &SearchQuery {
                sort: Sort::PriceAsc,
                limit: 10,
                offset: 5,
                facets: None,
                ..SearchQuery::default()
            },
        )
        .await
        .unwrap();
    let query = &fake.last(Method::POST, "/multi-search").body["queries"][0];
    assert_eq!(query["sort"], json!(["price_min:asc"]));
    assert_eq!(query["offset"], 5);
    assert_eq!(query["limit"], 10);
    assert_eq!(query["filter"], format!("tenant_id = \"{tenant}\""));
    assert!(query.get("facets").is_none());
}

#[tokio::test]
async fn filter_values_are_escaped_on_the_wire() {
    let (fake, index) = fake_server().await;
    let tenant = TenantId::new();
    *fake.search_answer.lock().unwrap() =
        json!({ "results": [search_response(json!([]), 0, json!({}))] });
    let sneaky = r#"x" OR tenant_id != "y"#;
    index
        .search(
            tenant,
            &SearchQuery {
                facets: None,
                ..SearchQuery::browse(Filters {
                    attributes: [("size".to_owned(), vec![sneaky.to_owned()])].into(),
                    ..Filters::default()
                })
            },
        )
        .await
        .unwrap();
    let filter = fake.last(Method::POST, "/multi-search").body["queries"][0]["filter"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        filter,
        format!(
            "tenant_id = \"{tenant}\" AND attribute_pairs IN [\"size=x\\\" OR tenant_id != \\\"y\"]"
        )
    );
}

#[tokio::test]
async fn writes_send_keyed_documents_and_shop_scoped_deletes() {
    let (fake, index) = fake_server().await;
    let shop = TeaShop::new();
    index.upsert(shop.products.clone()).await.unwrap();
    let request = fake.last(Method::POST, "/indexes/products/documents");
    assert!(request.uri.contains("primaryKey=id"), "{}", request.uri);
    let docs = request.body.as_array().unwrap();
    assert_eq!(docs.len(), 6);
    for (doc, product) in docs.iter().zip(&shop.products) {
        assert_eq!(doc["id"], format!("{}_{}", shop.tenant, product.product_id));
        assert_eq!(doc["tenant_id"], shop.tenant.to_string());
    }
    index.commit().await.unwrap();
    assert!(fake.requests().iter().any(|r| r.uri == "/tasks/41"));

    index
        .delete(shop.tenant, &[shop.products[1].product_id])
        .await
        .unwrap();
    let request = fake.last(Method::POST, "/indexes/products/documents/delete-batch");
    assert_eq!(
        request.body,
        json!([format!("{}_{}", shop.tenant, shop.products[1].product_id)])
    );

    index.delete_tenant(shop.tenant).await.unwrap();
    let request = fake.last(Method::POST, "/indexes/products/documents/delete");
    assert_eq!(
        request.body,
        json!({ "filter": format!("tenant_id = \"{}\"", shop.tenant) })
    );
    let error = index.commit().await.unwrap_err();
    assert!(
        matches!(error, SearchError::Engine { .. }),
        "a failed task fails the commit: {error:?}"
    );

    let invalid = {
        let mut doc = shop.products[0].clone();
        doc.title.clear();
        doc
    };
    let before = fake.requests().len();
    assert!(matches!(
        index.upsert(vec![invalid]).await,
        Err(SearchError::InvalidDocument { .. })
    ));
    assert_eq!(fake.requests().len(), before, "nothing is sent");
}

#[tokio::test]
async fn a_shop_reindex_adds_then_deletes_what_was_not_resent() {
    let (fake, index) = fake_server().await;
    let shop = TeaShop::new();
    index.upsert(shop.products.clone()).await.unwrap();
    let first_stamp = fake.last(Method::POST, "/indexes/products/documents").body[0]["indexed_at"]
        .as_i64()
        .unwrap();

    index
        .replace_tenant(shop.tenant, shop.products[..2].to_vec())
        .await
        .unwrap();
    let added = fake.last(Method::POST, "/indexes/products/documents").body;
    assert_eq!(added.as_array().unwrap().len(), 2);
    let stamp = added[0]["indexed_at"].as_i64().unwrap();
    assert!(stamp > first_stamp, "stamps increase");
    let deleted = fake
        .last(Method::POST, "/indexes/products/documents/delete")
        .body;
    assert_eq!(
        deleted,
        json!({ "filter": format!("tenant_id = \"{}\" AND indexed_at < {stamp}", shop.tenant) })
    );
    let order: Vec<String> = fake
        .requests()
        .iter()
        .filter(|r| r.method == Method::POST)
        .map(|r| r.uri.clone())
        .collect();
    assert!(
        order.last().unwrap().ends_with("/documents/delete"),
        "the delete is enqueued after the add: {order:?}"
    );

    let stray = crate::support::doc(TenantId::new(), "Not Yours");
    assert!(matches!(
        index.replace_tenant(shop.tenant, vec![stray]).await,
        Err(SearchError::InvalidDocument { .. })
    ));
}

#[tokio::test]
async fn suggest_and_count_are_shop_scoped() {
    let (fake, index) = fake_server().await;
    let shop = TeaShop::new();
    let tenant_filter = format!("tenant_id = \"{}\"", shop.tenant);
    *fake.search_answer.lock().unwrap() = search_response(
        json!([
            { "product_id": shop.products[0].product_id.to_string(), "slug": "a", "title": "Organic Chamomile Tea" },
            { "product_id": shop.products[5].product_id.to_string(), "slug": "b", "title": "Chamomile & Honey Sleep Blend" }
        ]),
        2,
        json!(null),
    );
    let titles = index.suggest(shop.tenant, "cham", 5).await.unwrap();
    assert_eq!(
        titles,
        ["Chamomile & Honey Sleep Blend", "Organic Chamomile Tea"]
    );
    let request = fake.last(Method::POST, "/indexes/products/search");
    assert_eq!(request.body["filter"], tenant_filter);
    assert_eq!(request.body["q"], "cham");
    assert_eq!(request.body["attributesToSearchOn"], json!(["title"]));

    assert_eq!(index.count(shop.tenant).await.unwrap(), 2);
    let request = fake.last(Method::POST, "/indexes/products/search");
    assert_eq!(request.body["filter"], tenant_filter);
    assert_eq!(request.body["hitsPerPage"], 0);
}

#[tokio::test]
async fn prepare_applies_the_settings_and_ping_checks_health() {
    let (fake, index) = fake_server().await;
    index.prepare().await.unwrap();
    let settings = fake.last(Method::PATCH, "/indexes/products/settings").body;
    assert!(
        settings["filterableAttributes"]
            .as_array()
            .unwrap()
            .contains(&json!("tenant_id"))
    );
    assert_eq!(
        settings["sortableAttributes"],
        json!(["price_min", "created_at"])
    );
    assert!(fake.requests().iter().any(|r| r.uri == "/tasks/44"));
    index.ping().await.unwrap();
    assert_eq!(index.backend_name(), "meilisearch");
}

#[tokio::test]
async fn open_builds_the_configured_backend_without_a_request() {
    let config = SearchConfig {
        kind: SearchKind::Meilisearch,
        meilisearch: MeilisearchConfig {
            url: "http://127.0.0.1:9".into(),
            api_key: Secret::new(""),
            index: "products".into(),
        },
        ..SearchConfig::default()
    };
    let index = open(&config, std::path::Path::new("/nonexistent")).unwrap();
    assert_eq!(index.backend_name(), "meilisearch");
    assert!(
        index.ping().await.is_err(),
        "nothing listens there; the error is returned, not a panic"
    );
}

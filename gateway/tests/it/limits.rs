//! Story 4: a shop over its plan's request rate gets 429 with Retry-After while another shop
//! is served.

use crate::on_all_backends;
use crate::support::{Backend, TestApp};

async fn one_noisy_shop_does_not_starve_another(backend: Backend, test: &str) {
    let Some(app) = TestApp::spawn(backend, test).await else {
        return;
    };
    let admin = app.admin_token().await;
    // Free plan: 10 requests/s, bursts of 20.
    let noisy = app.shop(&admin, "free").await;
    let quiet = app.shop(&admin, "free").await;
    let requests = (0..60).map(|_| app.client.get(&noisy.host, "/api/v1/shop", None));
    let replies = futures::future::join_all(requests).await;
    let limited: Vec<_> = replies
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .filter(|r| r.status == 429)
        .collect();
    let served = replies
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .filter(|r| r.status == 200)
        .count();
    assert!(
        limited.len() >= 30,
        "most of a 60-request burst is refused, {} were",
        limited.len()
    );
    assert!(served >= 15, "the burst allowance is served, {served} were");
    let first = limited[0];
    assert_eq!(first.str("code"), "rate_limited");
    assert_eq!(first.content_type(), "application/problem+json");
    assert!(first.headers.get("retry-after").is_some());
    // Meanwhile the quiet shop is served.
    let reply = app
        .client
        .get(&quiet.host, "/api/v1/shop", None)
        .await
        .unwrap();
    assert_eq!(reply.status, 200, "{}", reply.text);
}
on_all_backends!(one_noisy_shop_does_not_starve_another);

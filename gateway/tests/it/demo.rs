//! `mercato serve --demo`: both demo shops become working marketplaces — three approved
//! vendors each with ten active, stocked products, different in each shop — and the demo
//! customer has a paid order, delivered, whose vendors a payout run paid.

use crate::support::{Backend, TestApp};
use serde_json::Value;
use std::time::{Duration, Instant};

/// Polls `probe` until `check` holds; the demo seeds a few hundred API calls per shop, so
/// this waits longer than the suite's usual `eventually`.
async fn within<F, Fut>(what: &str, mut probe: F, check: impl Fn(&Value) -> bool) -> Value
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Value>,
{
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let value = probe().await;
        if check(&value) {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}: last {value}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn titles(list: &Value) -> Vec<String> {
    list["data"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["title"].as_str().map(str::to_owned))
        .collect()
}

async fn the_demo_is_a_working_marketplace(backend: Backend, test: &str) {
    let Some(app) = TestApp::spawn_demo(backend, test).await else {
        return;
    };
    let mut catalogs = Vec::new();
    for host in ["acme.localhost", "globex.localhost"] {
        let vendors = within(
            "three approved vendors",
            || async {
                app.client
                    .get(host, "/api/v1/vendors", None)
                    .await
                    .unwrap()
                    .body
            },
            |v| v["data"].as_array().is_some_and(|a| a.len() == 3),
        )
        .await;
        assert_eq!(vendors["data"].as_array().unwrap().len(), 3);
        // 30 products, every one in stock once inventory's events have reached the catalog.
        let products = within(
            "thirty products in stock",
            || async {
                app.client
                    .get(host, "/api/v1/products?limit=100&in_stock=true", None)
                    .await
                    .unwrap()
                    .body
            },
            |p| p["data"].as_array().is_some_and(|a| a.len() == 30),
        )
        .await;
        let first = &products["data"][0];
        assert!(
            first["variants"][0]["available"].as_i64().unwrap() > 0,
            "{first}"
        );
        catalogs.push(titles(&products));
    }
    assert!(
        catalogs[0].iter().all(|t| !catalogs[1].contains(t)),
        "the two shops sell different things"
    );
    // The seller accounts can sign in on their own shop.
    app.login("acme.localhost", "seller1@acme.localhost", "mercato-demo")
        .await;
    // The demo customer has a paid order across two vendors.
    let shopper = app
        .login("acme.localhost", "shopper@acme.localhost", "mercato-demo")
        .await;
    let orders = within(
        "the demo order",
        || async {
            app.client
                .get("acme.localhost", "/api/v1/orders", Some(&shopper))
                .await
                .unwrap()
                .body
        },
        |o| o["data"].as_array().is_some_and(|a| a.len() == 1),
    )
    .await;
    assert_eq!(
        orders["data"][0]["vendor_orders"].as_array().unwrap().len(),
        2
    );
    assert_eq!(orders["data"][0]["coupon_code"], "WELCOME10");
    // Its vendors shipped, delivered and were paid by a payout run: the first vendor through
    // Stripe Connect (the test payout provider) at once, the second by a bank transfer on
    // its way.
    let owner = app
        .login("acme.localhost", "owner@acme.localhost", "mercato-demo")
        .await;
    let payouts = within(
        "the demo payouts",
        || async {
            app.client
                .get("acme.localhost", "/api/v1/payouts", Some(&owner))
                .await
                .unwrap()
                .body
        },
        |p| p["data"].as_array().is_some_and(|a| a.len() == 2),
    )
    .await;
    let mut seen: Vec<(String, String)> = payouts["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            assert!(p["amount"]["amount"].as_i64().unwrap() > 0, "{p}");
            (
                p["method"].as_str().unwrap().to_owned(),
                p["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            ("bank_transfer".to_owned(), "in_transit".to_owned()),
            ("stripe_connect".to_owned(), "paid".to_owned())
        ]
    );
    let paid = payouts["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["status"] == "paid")
        .unwrap();
    let seller = app
        .login("acme.localhost", "seller1@acme.localhost", "mercato-demo")
        .await;
    let balance = app
        .client
        .get(
            "acme.localhost",
            &format!(
                "/api/v1/vendors/{}/balance",
                paid["vendor_id"].as_str().unwrap()
            ),
            Some(&seller),
        )
        .await
        .unwrap();
    assert_eq!(balance.status, 200, "{}", balance.text);
    assert_eq!(balance.body["paid_out"], paid["amount"], "{}", balance.text);
    // The shop has its legal details, so the paid payout got a commission invoice, which its
    // vendor reads; the payout still in transit has none yet.
    let commission = within(
        "the demo commission invoice",
        || async {
            app.client
                .get("acme.localhost", "/api/v1/invoices", Some(&seller))
                .await
                .unwrap()
                .body
        },
        |i| {
            i["data"]
                .as_array()
                .is_some_and(|a| a.iter().any(|d| d["kind"] == "commission"))
        },
    )
    .await;
    let commission: Vec<&Value> = commission["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["kind"] == "commission")
        .collect();
    assert_eq!(commission.len(), 1, "{commission:?}");
    assert_eq!(commission[0]["payout_id"], paid["id"], "{commission:?}");
    assert_eq!(
        commission[0]["vendor_id"], paid["vendor_id"],
        "{commission:?}"
    );
    let order = app
        .client
        .get(
            "acme.localhost",
            &format!(
                "/api/v1/orders/{}",
                orders["data"][0]["id"].as_str().unwrap()
            ),
            Some(&shopper),
        )
        .await
        .unwrap();
    assert_eq!(order.body["status"], "completed", "{}", order.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_is_a_working_marketplace_embedded() {
    the_demo_is_a_working_marketplace(Backend::Embedded, "demo::embedded").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_is_a_working_marketplace_real() {
    the_demo_is_a_working_marketplace(Backend::Real, "demo::real").await;
}

//! A product catalog lists is stocked by the merchant, reserved by shoppers at once (exactly
//! what there is), paid for, cancelled and left to expire; catalog's public list follows the
//! stock; another shop never sees the variant.

use super::warehouse;
use crate::on_all_backends;
use crate::support::{Backend, TestApp, eventually};
use serde_json::json;

/// Catalog's products as the public list shows one variant's `available` (by SKU).
async fn public_available(app: &TestApp, host: &str, sku: &str) -> Option<i64> {
    let list = app
        .client
        .get(host, "/api/v1/products", None)
        .await
        .unwrap();
    list.body["data"].as_array()?.iter().find_map(|p| {
        p["variants"]
            .as_array()?
            .iter()
            .find(|v| v["sku"] == sku)
            .and_then(|v| v["available"].as_i64())
    })
}

async fn a_listed_product_is_stocked_reserved_and_sold(backend: Backend, test: &str) {
    use crate::catalog::{catalog_knows, create, move_product, product};
    let Some(app) = crate::catalog::spawn(backend, test).await else {
        return;
    };
    let admin = app.admin_token().await;
    let shop = app.shop(&admin, "growth").await;
    let other = app.shop(&admin, "growth").await;
    let host = shop.host.as_str();
    let (vendor, seller) = app.approved_vendor(&shop, "Nordic Tea").await;
    catalog_knows(&app, &shop, &seller, &vendor).await;
    let created = create(
        &app,
        &shop,
        &seller,
        &product(&vendor, "Sencha", &[("SEN-50", 650)]),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let variant = created.body["variants"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let published = move_product(&app, &shop, &seller, &created.str("id"), "publish", None).await;
    assert_eq!(published.status, 200, "{}", published.text);

    // The merchant stocks the vendor's variant once inventory has heard of both.
    let warehouse = eventually(
        "the vendor known to inventory",
        || async {
            app.client
                .post(
                    host,
                    "/api/v1/warehouses",
                    Some(&shop.owner),
                    &warehouse(&vendor, "Main"),
                )
                .await
                .unwrap()
        },
        |reply| reply.status == 201,
    )
    .await
    .str("id");
    let received = eventually(
        "the variant known to inventory",
        || async {
            app.client
                .post(
                    host,
                    &format!("/api/v1/warehouses/{warehouse}/adjustments"),
                    Some(&shop.owner),
                    &json!({ "variant_id": variant, "delta": 5, "reason": "received" }),
                )
                .await
                .unwrap()
        },
        |reply| reply.status == 201,
    )
    .await;
    assert_eq!(received.body["stock"]["available"], 5, "{}", received.text);
    // Catalog shows it in stock on the shop's domain.
    eventually(
        "5 available in the public list",
        || public_available(&app, host, "SEN-50"),
        |available| *available == Some(5),
    )
    .await;

    // Ten shoppers at once want one each of the last five: exactly five get one.
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let (_, shopper) = app.customer(&shop).await;
        let client = app.client.clone();
        let (host, variant) = (host.to_owned(), variant.clone());
        tasks.push(tokio::spawn(async move {
            let reply = client
                .post(
                    &host,
                    "/api/v1/reservations",
                    Some(&shopper),
                    &json!({ "lines": [{ "variant_id": variant, "quantity": 1 }], "ttl_seconds": 600 }),
                )
                .await
                .unwrap();
            (reply, shopper)
        }));
    }
    let mut held = Vec::new();
    for task in tasks {
        let (reply, shopper) = task.await.unwrap();
        match reply.status {
            201 => held.push((reply.str("id"), shopper)),
            409 => assert_eq!(reply.str("code"), "insufficient_stock", "{}", reply.text),
            _ => panic!("unexpected reply: {}", reply.text),
        }
    }
    assert_eq!(held.len(), 5);
    eventually(
        "nothing available in the public list",
        || public_available(&app, host, "SEN-50"),
        |available| *available == Some(0),
    )
    .await;

    // One pays, one cancels: the sold unit leaves on hand, the cancelled one is back.
    let (paid, paid_by) = &held[0];
    let committed = app
        .client
        .post(
            host,
            &format!("/api/v1/reservations/{paid}/commit"),
            Some(paid_by),
            &json!({}),
        )
        .await
        .unwrap();
    assert_eq!(committed.status, 200, "{}", committed.text);
    assert_eq!(committed.str("status"), "committed");
    let (cancelled, cancelled_by) = &held[1];
    let released = app
        .client
        .post(
            host,
            &format!("/api/v1/reservations/{cancelled}/release"),
            Some(cancelled_by),
            &json!({}),
        )
        .await
        .unwrap();
    assert_eq!(released.status, 200, "{}", released.text);
    // Someone else's reservation is not theirs to touch.
    let (third, _) = &held[2];
    let meddling = app
        .client
        .post(
            host,
            &format!("/api/v1/reservations/{third}/release"),
            Some(paid_by),
            &json!({}),
        )
        .await
        .unwrap();
    assert_eq!(meddling.status, 404, "{}", meddling.text);
    let stock = app
        .client
        .get(host, &format!("/api/v1/stock/{variant}"), Some(&shop.owner))
        .await
        .unwrap();
    assert_eq!(stock.status, 200, "{}", stock.text);
    assert_eq!(
        (
            &stock.body["on_hand"],
            &stock.body["reserved"],
            &stock.body["available"]
        ),
        (&json!(4), &json!(3), &json!(1)),
        "{}",
        stock.text
    );
    let history = app
        .client
        .get(
            host,
            &format!("/api/v1/warehouses/{warehouse}/adjustments"),
            Some(&shop.owner),
        )
        .await
        .unwrap();
    assert_eq!(
        history.body["data"][0]["reason"], "sold",
        "{}",
        history.text
    );
    eventually(
        "1 available in the public list",
        || public_available(&app, host, "SEN-50"),
        |available| *available == Some(1),
    )
    .await;

    // A reservation nobody pays for runs out, and the expiry job gives its unit back.
    let (_, late) = app.customer(&shop).await;
    let short_lived = app
        .client
        .post(
            host,
            "/api/v1/reservations",
            Some(&late),
            &json!({ "lines": [{ "variant_id": variant, "quantity": 1 }], "ttl_seconds": 1 }),
        )
        .await
        .unwrap();
    assert_eq!(short_lived.status, 201, "{}", short_lived.text);
    let expired = eventually(
        "the reservation expired",
        || async {
            app.client
                .get(
                    host,
                    &format!("/api/v1/reservations/{}", short_lived.str("id")),
                    Some(&late),
                )
                .await
                .unwrap()
                .str("status")
        },
        |status| status == "expired",
    )
    .await;
    assert_eq!(expired, "expired");
    eventually(
        "1 available again in the public list",
        || public_available(&app, host, "SEN-50"),
        |available| *available == Some(1),
    )
    .await;

    // The variant does not exist on another shop's domain.
    let (_, stranger) = app.customer(&other).await;
    let elsewhere = app
        .client
        .post(
            &other.host,
            "/api/v1/reservations",
            Some(&stranger),
            &json!({ "lines": [{ "variant_id": variant, "quantity": 1 }] }),
        )
        .await
        .unwrap();
    assert_eq!(elsewhere.status, 422, "{}", elsewhere.text);
    let peek = app
        .client
        .get(
            &other.host,
            &format!("/api/v1/stock/{variant}"),
            Some(&other.owner),
        )
        .await
        .unwrap();
    assert_eq!(peek.status, 404, "{}", peek.text);
}
on_all_backends!(a_listed_product_is_stocked_reserved_and_sold);

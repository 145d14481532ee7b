//! A product catalog lists is stocked by the merchant, held at once by the vendor's staff and
//! the merchant (exactly what there is), sold, cancelled and left to expire; catalog's public
//! list follows the stock. A shopper cannot hold it at all (shoppers hold stock only through
//! a checkout), and another shop never sees the variant.

use super::warehouse;
use crate::on_embedded_and_real;
use crate::support::{Backend, Shop, TestApp, eventually};
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

/// A vendor's published product with one variant (SKU `SEN-50`), 5 units of it received
/// into a warehouse the merchant set up, and catalog's public list showing them.
struct Stocked {
    /// The vendor's owner, signed in with a token that carries the vendor membership.
    seller: String,
    warehouse: String,
    variant: String,
}

async fn stocked(app: &TestApp, shop: &Shop) -> Stocked {
    use crate::catalog::{catalog_knows, create, move_product, product};
    let host = shop.host.as_str();
    let (vendor, email, seller) = app.approved_vendor_account(shop, "Nordic Tea").await;
    catalog_knows(app, shop, &seller, &vendor).await;
    // Inventory goes by the vendor membership in the token: sign in again once it is there.
    let seller = app.member_token(host, &email, &vendor).await;
    let created = create(
        app,
        shop,
        &seller,
        &product(&vendor, "Sencha", &[("SEN-50", 650)]),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let variant = created.body["variants"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let published = move_product(app, shop, &seller, &created.str("id"), "publish", None).await;
    assert_eq!(published.status, 200, "{}", published.text);

    // The merchant stocks the vendor's variant once inventory has heard of both.
    app.settle().await;
    let warehouse = app
        .client
        .post(
            host,
            "/api/v1/warehouses",
            Some(&shop.owner),
            &warehouse(&vendor, "Main"),
        )
        .await
        .unwrap();
    assert_eq!(
        warehouse.status, 201,
        "the vendor known to inventory: {}",
        warehouse.text
    );
    let warehouse = warehouse.str("id");
    let received = app
        .client
        .post(
            host,
            &format!("/api/v1/warehouses/{warehouse}/adjustments"),
            Some(&shop.owner),
            &json!({ "variant_id": variant, "delta": 5, "reason": "received" }),
        )
        .await
        .unwrap();
    assert_eq!(
        received.status, 201,
        "the variant known to inventory: {}",
        received.text
    );
    assert_eq!(received.body["stock"]["available"], 5, "{}", received.text);
    // Catalog shows it in stock on the shop's domain.
    app.settle().await;
    let available = public_available(app, host, "SEN-50").await;
    assert_eq!(available, Some(5), "5 available in the public list");
    Stocked {
        seller,
        warehouse,
        variant,
    }
}

/// The variant's (on hand, reserved, available) as the merchant sees them.
async fn levels(app: &TestApp, shop: &Shop, variant: &str) -> (i64, i64, i64) {
    let stock = app
        .client
        .get(
            &shop.host,
            &format!("/api/v1/stock/{variant}"),
            Some(&shop.owner),
        )
        .await
        .unwrap();
    assert_eq!(stock.status, 200, "{}", stock.text);
    let n = |k: &str| stock.body[k].as_i64().unwrap_or(-1);
    (n("on_hand"), n("reserved"), n("available"))
}

async fn a_listed_product_is_stocked_reserved_and_sold(backend: Backend, test: &str) {
    let Some(app) = crate::catalog::spawn(backend, test).await else {
        return;
    };
    let admin = app.admin_token().await;
    let shop = app.shop(&admin, "growth").await;
    let other = app.shop(&admin, "growth").await;
    let host = shop.host.as_str();
    let Stocked {
        seller,
        warehouse,
        variant,
    } = stocked(&app, &shop).await;

    // Ten holds at once, the vendor's staff and the merchant taking turns, for the last five:
    // exactly five get one.
    let mut tasks = Vec::new();
    for i in 0..10 {
        let holder = if i % 2 == 0 {
            seller.clone()
        } else {
            shop.owner.clone()
        };
        let client = app.client.clone();
        let (host, variant) = (host.to_owned(), variant.clone());
        tasks.push(tokio::spawn(async move {
            let reply = client
                .post(
                    &host,
                    "/api/v1/reservations",
                    Some(&holder),
                    &json!({ "lines": [{ "variant_id": variant, "quantity": 1 }], "ttl_seconds": 600 }),
                )
                .await
                .unwrap();
            (reply, holder)
        }));
    }
    let mut held = Vec::new();
    for task in tasks {
        let (reply, holder) = task.await.unwrap();
        match reply.status {
            201 => held.push((reply.str("id"), holder)),
            409 => assert_eq!(reply.str("code"), "insufficient_stock", "{}", reply.text),
            _ => panic!("unexpected reply: {}", reply.text),
        }
    }
    assert_eq!(held.len(), 5);
    app.settle().await;
    let available = public_available(&app, host, "SEN-50").await;
    assert_eq!(available, Some(0), "nothing available in the public list");

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
    // A shopper can neither let a hold go nor make it a sale: it does not exist for them.
    let (third, _) = &held[2];
    let (_, shopper) = app.customer(&shop).await;
    for action in ["release", "commit"] {
        let meddling = app
            .client
            .post(
                host,
                &format!("/api/v1/reservations/{third}/{action}"),
                Some(&shopper),
                &json!({}),
            )
            .await
            .unwrap();
        assert_eq!(meddling.status, 404, "{action}: {}", meddling.text);
    }
    assert_eq!(levels(&app, &shop, &variant).await, (4, 3, 1));
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
    app.settle().await;
    let available = public_available(&app, host, "SEN-50").await;
    assert_eq!(available, Some(1), "1 available in the public list");

    // A reservation nobody pays for runs out, and the expiry job gives its unit back.
    let late = &seller;
    let short_lived = app
        .client
        .post(
            host,
            "/api/v1/reservations",
            Some(late),
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
                    Some(late),
                )
                .await
                .unwrap()
                .str("status")
        },
        |status| status == "expired",
    )
    .await;
    assert_eq!(expired, "expired");
    app.settle().await;
    let available = public_available(&app, host, "SEN-50").await;
    assert_eq!(available, Some(1), "1 available again in the public list");

    // The variant does not exist on another shop's domain, not even for its merchant.
    let elsewhere = app
        .client
        .post(
            &other.host,
            "/api/v1/reservations",
            Some(&other.owner),
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
on_embedded_and_real!(a_listed_product_is_stocked_reserved_and_sold);

/// The hole this closes: a signed-in customer reserving a variant's whole stock on the
/// shop's domain, then committing it, took the stock for good with no order and no payment.
async fn a_shopper_cannot_hold_a_shops_stock(backend: Backend, test: &str) {
    let Some(app) = crate::catalog::spawn(backend, test).await else {
        return;
    };
    let admin = app.admin_token().await;
    let shop = app.shop(&admin, "growth").await;
    let host = shop.host.as_str();
    let Stocked { variant, .. } = stocked(&app, &shop).await;
    let (_, shopper) = app.customer(&shop).await;
    let everything = json!({ "lines": [{ "variant_id": variant, "quantity": 5 }] });
    let taken = app
        .client
        .post(host, "/api/v1/reservations", Some(&shopper), &everything)
        .await
        .unwrap();
    assert_eq!(taken.status, 404, "{}", taken.text);
    let listed = app
        .client
        .get(host, "/api/v1/reservations", Some(&shopper))
        .await
        .unwrap();
    assert_eq!(listed.status, 404, "{}", listed.text);
    // Nothing is held: all five are still for sale, on the stock level and in the shop.
    assert_eq!(levels(&app, &shop, &variant).await, (5, 0, 5));
    let holds = app
        .client
        .get(host, "/api/v1/reservations", Some(&shop.owner))
        .await
        .unwrap();
    assert_eq!(holds.status, 200, "{}", holds.text);
    assert_eq!(holds.body["data"], json!([]), "{}", holds.text);
    assert_eq!(public_available(&app, host, "SEN-50").await, Some(5));
}
on_embedded_and_real!(a_shopper_cannot_hold_a_shops_stock);

//! Stock from inventory: a variant has 0 available until inventory reports it; stocked
//! through a warehouse adjustment, it shows as available and passes `in_stock=true`.

use super::{catalog_knows, create, listed, move_product, product};
use crate::on_embedded_and_real;
use crate::support::Backend;
use serde_json::json;

async fn stock_from_inventory_shows_as_available(backend: Backend, test: &str) {
    let Some(app) = super::spawn(backend, test).await else {
        return;
    };
    let admin = app.admin_token().await;
    let shop = app.shop(&admin, "growth").await;
    let host = shop.host.as_str();
    let (vendor, email, seller) = app.approved_vendor_account(&shop, "Stocked Tea").await;
    catalog_knows(&app, &shop, &seller, &vendor).await;
    // Inventory goes by the vendor membership in the token: sign in again once it is there.
    let stocker = app.member_token(host, &email, &vendor).await;
    let mut body = product(&vendor, "Stocked Sencha", &[]);
    body["option_types"] = json!(["size"]);
    body["variants"] = json!([
        { "sku": "STK-S", "options": { "size": "S" }, "price": super::eur(500) },
        { "sku": "STK-L", "options": { "size": "L" }, "price": super::eur(900) },
    ]);
    let created = create(&app, &shop, &seller, &body).await;
    assert_eq!(created.status, 201, "{}", created.text);
    let small = created.body["variants"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    move_product(&app, &shop, &seller, &created.str("id"), "publish", None).await;
    app.settle().await;
    let s = listed(&app, host, "").await;
    assert_eq!(s, ["stocked-sencha"], "on sale");
    // Nothing in stock until inventory says so.
    assert!(listed(&app, host, "in_stock=true").await.is_empty());

    // The vendor receives five of the small size into a warehouse (inventory learns of the
    // variant from `product.changed`: the barrier waits for it).
    app.settle().await;
    let warehouse = app
        .client
        .post(host, "/api/v1/warehouses", Some(&stocker), &json!({
            "vendor_id": vendor, "name": "Hamburg",
            "address": { "line1": "Speicherstadt 1", "postal_code": "20457", "city": "Hamburg", "country": "DE" }
        }))
        .await
        .unwrap();
    assert_eq!(warehouse.status, 201, "a warehouse: {}", warehouse.text);
    let warehouse = warehouse.str("id");
    let adjusted = app
        .client
        .post(
            host,
            &format!("/api/v1/warehouses/{warehouse}/adjustments"),
            Some(&stocker),
            &json!({ "variant_id": small, "delta": 5, "reason": "received" }),
        )
        .await
        .unwrap();
    assert_eq!(
        adjusted.status, 201,
        "the stock adjustment: {}",
        adjusted.text
    );
    app.settle().await;
    let s = listed(&app, host, "in_stock=true").await;
    assert_eq!(s, ["stocked-sencha"], "the product in stock");
    let page = app
        .client
        .get(host, "/api/v1/products/stocked-sencha", None)
        .await
        .unwrap();
    assert_eq!(page.body["variants"][0]["available"], 5, "{}", page.text);
    assert_eq!(page.body["variants"][1]["available"], 0, "{}", page.text);
}
on_embedded_and_real!(stock_from_inventory_shows_as_available);

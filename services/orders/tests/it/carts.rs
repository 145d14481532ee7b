//! A cart is priced from orders' catalog mirror: a line takes the price catalog last
//! announced, and a later price change shows on the next read and holds checkout until the
//! shopper accepts it. A variant the mirror does not have, or one whose vendor is suspended,
//! is refused with a problem and leaves the cart as it was.

use crate::on_every_backend;
use crate::support::{Caller, Service};
use mercato_tenant_context::{TenantId, VariantId};
use mercato_vendors_api::vendor::VendorStatus;
use serde_json::json;

async fn a_line_is_priced_from_the_mirrored_price(s: Service) {
    let shop = TenantId::new();
    let vendor = s.vendor(shop, VendorStatus::Approved).await;
    let tea = s.list(shop, vendor, "Sencha", 1250, 10).await;
    let shopper = Caller::shopper(shop);
    let created = s.post(&shopper, "/api/v1/carts", json!({})).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let path = format!("/api/v1/carts/{}", created.str("id"));

    let added = s
        .post(
            &shopper,
            &format!("{path}/lines"),
            json!({ "variant_id": tea.variant, "quantity": 2 }),
        )
        .await;
    assert_eq!(added.status, 201, "{:?}", added.body);
    let line = &added.body["lines"][0];
    assert_eq!(line["variant_id"], tea.variant.to_string());
    assert_eq!(line["product_id"], tea.product.to_string());
    assert_eq!(line["vendor_id"], vendor.to_string());
    assert_eq!(line["title"], "Sencha");
    assert_eq!(
        line["unit_price"],
        json!({ "amount": 1250, "currency": "EUR" })
    );
    assert_eq!(line["subtotal"]["amount"], 2500);
    assert_eq!(line["available"], 10);
    assert_eq!(added.body["currency"], "EUR");
    assert_eq!(added.body["totals"]["total"]["amount"], 2500);
    assert_eq!(added.body["ready_for_checkout"], true);

    // Catalog raises the price: the next read shows it, and what the shopper saw.
    s.price(shop, tea, "Sencha", 1400).await;
    let read = s.get(&shopper, &path).await;
    assert_eq!(read.status, 200, "{:?}", read.body);
    let line = &read.body["lines"][0];
    assert_eq!(line["unit_price"]["amount"], 1400);
    assert_eq!(line["previous_unit_price"]["amount"], 1250);
    assert_eq!(line["price_changed"], true);
    assert_eq!(read.body["totals"]["total"]["amount"], 2800);
    assert_eq!(read.body["ready_for_checkout"], false);

    let accepted = s
        .post(&shopper, &format!("{path}/accept-prices"), json!({}))
        .await;
    assert_eq!(accepted.status, 200, "{:?}", accepted.body);
    assert_eq!(accepted.body["lines"][0]["price_changed"], false);
    assert_eq!(accepted.body["ready_for_checkout"], true);
}

async fn an_unknown_or_suspended_vendors_variant_is_refused_and_changes_nothing(s: Service) {
    let shop = TenantId::new();
    let tea_vendor = s.vendor(shop, VendorStatus::Approved).await;
    let tea = s.list(shop, tea_vendor, "Sencha", 1250, 10).await;
    let pot_vendor = s.vendor(shop, VendorStatus::Approved).await;
    let pot = s.list(shop, pot_vendor, "Kyusu", 3900, 5).await;
    s.vendor_is(shop, pot_vendor, VendorStatus::Suspended).await;
    let shopper = Caller::shopper(shop);
    let cart = s.cart(&shopper, &[(tea.variant, 1)]).await;
    let path = format!("/api/v1/carts/{cart}");
    let before = s.get(&shopper, &path).await;
    assert_eq!(before.status, 200, "{:?}", before.body);

    // A variant catalog never announced is not for sale.
    let unknown = VariantId::new();
    let refused = s
        .post(
            &shopper,
            &format!("{path}/lines"),
            json!({ "variant_id": unknown, "quantity": 1 }),
        )
        .await;
    assert_eq!(refused.status, 422, "{:?}", refused.body);
    assert_eq!(refused.code(), "validation_failed");
    assert_eq!(
        refused.errors(),
        [(
            "/variant_id".to_owned(),
            "this item is not for sale".to_owned()
        )]
    );

    // A suspended vendor's variant: to the cart, or in a new cart (which for a signed-in
    // shopper is their open cart).
    let suspended = s
        .post(
            &shopper,
            &format!("{path}/lines"),
            json!({ "variant_id": pot.variant, "quantity": 1 }),
        )
        .await;
    assert_eq!(suspended.status, 409, "{:?}", suspended.body);
    assert_eq!(suspended.code(), "vendor_not_selling");
    let started = s
        .post(
            &shopper,
            "/api/v1/carts",
            json!({ "lines": [
                { "variant_id": tea.variant, "quantity": 3 },
                { "variant_id": pot.variant, "quantity": 1 }
            ] }),
        )
        .await;
    assert_eq!(started.status, 409, "{:?}", started.body);
    assert_eq!(started.code(), "vendor_not_selling");

    // The cart is as it was: one line of one unit of tea, same totals, not even touched.
    let after = s.get(&shopper, &path).await;
    assert_eq!(after.body, before.body);
    assert_eq!(after.body["lines"].as_array().map(Vec::len), Some(1));
    assert_eq!(after.body["lines"][0]["quantity"], 1);
}

on_every_backend!(
    a_line_is_priced_from_the_mirrored_price,
    an_unknown_or_suspended_vendors_variant_is_refused_and_changes_nothing,
);

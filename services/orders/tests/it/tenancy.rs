//! DESIGN §3: another shop's order or cart is a 404, for reads and writes alike, whoever
//! asks there (its merchant, or the buyer's own identity replayed on its domain); and vendor
//! staff see only their vendor's vendor orders, another vendor's being a 404 too. Nothing a
//! refused caller does changes anything.

use crate::on_every_backend;
use crate::support::{Caller, Service};
use mercato_tenant_context::TenantId;
use mercato_vendors_api::vendor::VendorStatus;
use serde_json::{Value, json};

async fn another_shops_orders_and_carts_are_not_found(s: Service) {
    let (a, b) = (TenantId::new(), TenantId::new());
    let vendor = s.vendor(a, VendorStatus::Approved).await;
    let tea = s.list(a, vendor, "Sencha", 1250, 10).await;
    let buyer = Caller::shopper(a);
    let ordered = s.cart(&buyer, &[(tea.variant, 1)]).await;
    let placed = s.checkout(&buyer, &ordered, "checkout-1").await;
    assert_eq!(placed.status, 201, "{:?}", placed.body);
    let order = placed.str("id");
    let browser = Caller::shopper(a);
    let open = s.cart(&browser, &[(tea.variant, 2)]).await;
    let merchant_a = Caller::merchant(a);
    let order_path = format!("/api/v1/orders/{order}");
    let cart_path = format!("/api/v1/carts/{open}");
    let order_before = s.get(&merchant_a, &order_path).await;
    let cart_before = s.get(&browser, &cart_path).await;
    assert_eq!(order_before.status, 200, "{:?}", order_before.body);
    assert_eq!(cart_before.status, 200, "{:?}", cart_before.body);

    for caller in [Caller::merchant(b), buyer.in_shop(b), browser.in_shop(b)] {
        let who = format!("{:?} in shop B", caller.roles);
        let refused: [(&str, String, Option<Value>); 8] = [
            ("GET", order_path.clone(), None),
            ("POST", format!("{order_path}/cancel"), Some(json!({}))),
            (
                "POST",
                format!("{order_path}/payments"),
                Some(json!({ "payment": { "provider": "test", "card": "4242424242424242" } })),
            ),
            ("GET", cart_path.clone(), None),
            (
                "POST",
                format!("{cart_path}/lines"),
                Some(json!({ "variant_id": tea.variant, "quantity": 1 })),
            ),
            ("PATCH", cart_path.clone(), Some(json!({ "country": "FR" }))),
            (
                "POST",
                format!("{cart_path}/accept-prices"),
                Some(json!({})),
            ),
            (
                "POST",
                "/api/v1/checkout".to_owned(),
                Some(json!({
                    "cart_id": open, "email": "mallory@example.test",
                    "shipping_address": { "name": "M", "line1": "1 Main St", "city": "Paris",
                        "postal_code": "75001", "country": "FR" },
                    "payment": { "provider": "test", "card": "4242424242424242" }
                })),
            ),
        ];
        for (method, path, body) in refused {
            let reply = s
                .call(
                    &caller,
                    method,
                    &path,
                    body,
                    &[("idempotency-key", "attack-1")],
                )
                .await;
            assert_eq!(
                reply.status, 404,
                "{who}: {method} {path}: {:?}",
                reply.body
            );
            assert_eq!(reply.code(), "not_found", "{who}: {method} {path}");
        }
        // Shop B's lists do not hold shop A's order either.
        let listed = s.get(&caller, "/api/v1/orders").await;
        assert_eq!(listed.status, 200, "{who}: {:?}", listed.body);
        assert_eq!(listed.body["data"], json!([]), "{who}");
    }

    // Shop A's order and cart are as they were, and nothing was reserved in shop B.
    assert_eq!(
        s.get(&merchant_a, &order_path).await.body,
        order_before.body
    );
    assert_eq!(s.get(&browser, &cart_path).await.body, cart_before.body);
    assert_eq!(order_before.str("status"), "paid");
    assert!(s.inventory.reservations(b).is_empty());
}

async fn vendor_staff_see_only_their_vendors_vendor_orders(s: Service) {
    let shop = TenantId::new();
    let tea_vendor = s.vendor(shop, VendorStatus::Approved).await;
    let pot_vendor = s.vendor(shop, VendorStatus::Approved).await;
    let tea = s.list(shop, tea_vendor, "Sencha", 1250, 10).await;
    let pot = s.list(shop, pot_vendor, "Kyusu", 3900, 5).await;
    let buyer = Caller::shopper(shop);
    let cart = s.cart(&buyer, &[(tea.variant, 1), (pot.variant, 1)]).await;
    let placed = s.checkout(&buyer, &cart, "checkout-1").await;
    assert_eq!(placed.status, 201, "{:?}", placed.body);
    let order = placed.str("id");
    let part_of = |vendor: String| -> String {
        placed.body["vendor_orders"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| p["vendor_id"] == vendor.as_str())
            .and_then(|p| p["id"].as_str())
            .unwrap_or_else(|| panic!("no vendor order of {vendor}: {:?}", placed.body))
            .to_owned()
    };
    let (mine, theirs) = (
        part_of(tea_vendor.to_string()),
        part_of(pot_vendor.to_string()),
    );
    let tea_staff = Caller::vendor_staff(shop, tea_vendor);
    let merchant = Caller::merchant(shop);
    let theirs_path = format!("/api/v1/vendor-orders/{theirs}");
    let theirs_before = s.get(&merchant, &theirs_path).await;
    assert_eq!(
        theirs_before.body["status"], "to_fulfil",
        "{:?}",
        theirs_before.body
    );

    // Their own vendor order, with only their lines; the list and a filter on the other
    // vendor show nothing else.
    let own = s
        .get(&tea_staff, &format!("/api/v1/vendor-orders/{mine}"))
        .await;
    assert_eq!(own.status, 200, "{:?}", own.body);
    assert_eq!(own.body["vendor_id"], tea_vendor.to_string());
    let variants: Vec<&Value> = own.body["lines"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|l| &l["variant_id"])
        .collect();
    assert_eq!(variants, [&json!(tea.variant)]);
    let listed = s.get(&tea_staff, "/api/v1/vendor-orders").await;
    let ids: Vec<&Value> = listed.body["data"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| &v["id"])
        .collect();
    assert_eq!(ids, [&json!(mine)], "{:?}", listed.body);
    let filtered = s
        .get(
            &tea_staff,
            &format!("/api/v1/vendor-orders?vendor_id={pot_vendor}"),
        )
        .await;
    assert_eq!(filtered.status, 200, "{:?}", filtered.body);
    assert_eq!(filtered.body["data"], json!([]));

    // The other vendor's is not there, to read or to fulfil; nor is the shopper's order.
    let ship = json!({ "carrier": "DHL", "tracking_number": "JD0001" });
    for (method, path, body) in [
        ("GET", theirs_path.clone(), None),
        ("POST", format!("{theirs_path}/ship"), Some(ship.clone())),
        ("POST", format!("{theirs_path}/deliver"), Some(json!({}))),
        ("GET", format!("/api/v1/orders/{order}"), None),
    ] {
        let reply = s.call(&tea_staff, method, &path, body, &[]).await;
        assert_eq!(reply.status, 404, "{method} {path}: {:?}", reply.body);
        assert_eq!(reply.code(), "not_found", "{method} {path}");
    }
    // Nor is their own in another shop.
    let elsewhere = s
        .get(
            &tea_staff.in_shop(TenantId::new()),
            &format!("/api/v1/vendor-orders/{mine}"),
        )
        .await;
    assert_eq!(elsewhere.status, 404, "{:?}", elsewhere.body);

    // They may ship their own (so the refusals above are about whose it is), and the
    // other vendor's did not move.
    let shipped = s
        .post(
            &tea_staff,
            &format!("/api/v1/vendor-orders/{mine}/ship"),
            ship,
        )
        .await;
    assert_eq!(shipped.status, 200, "{:?}", shipped.body);
    assert_eq!(shipped.body["status"], "shipped");
    assert_eq!(
        s.get(&merchant, &theirs_path).await.body,
        theirs_before.body
    );
}

on_every_backend!(
    another_shops_orders_and_carts_are_not_found,
    vendor_staff_see_only_their_vendors_vendor_orders,
);

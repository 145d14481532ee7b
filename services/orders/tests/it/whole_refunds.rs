//! A vendor order refunded whole gives its shipping back too (ADR 0039): the return that
//! refunds the last unit of its lines refunds the shipping and the tax on it, once; a return
//! of some units refunds no shipping; nothing can refund the shipping a second time. The
//! vendor order's `refunded` and the `refund.completed` shares say so. Cancelling a paid
//! order refunds everything, shipping included.

use crate::on_every_backend;
use crate::support::{Caller, Service, eur};
use mercato_orders_api::events::{REFUND_COMPLETED, RefundCompleted};
use mercato_tenant_context::TenantId;
use serde_json::{Value, json};

/// The vendor order of `vendor` in an order's JSON.
fn part_of(order: &Value, vendor: &str) -> Value {
    order["vendor_orders"]
        .as_array()
        .and_then(|parts| parts.iter().find(|p| p["vendor_id"] == vendor))
        .cloned()
        .unwrap_or_else(|| panic!("no vendor order of {vendor}: {order}"))
}

fn amount(value: &Value) -> i64 {
    value["amount"]
        .as_i64()
        .unwrap_or_else(|| panic!("no amount: {value}"))
}

/// Ships and delivers a vendor order, as its vendor.
async fn deliver(s: &Service, shop: TenantId, vendor: mercato_tenant_context::VendorId, vo: &str) {
    let staff = Caller::vendor_staff(shop, vendor);
    for step in ["ship", "deliver"] {
        let moved = s
            .post(
                &staff,
                &format!("/api/v1/vendor-orders/{vo}/{step}"),
                json!({ "carrier": "DHL", "tracking_number": "1" }),
            )
            .await;
        assert_eq!(moved.status, 200, "{step}: {:?}", moved.body);
    }
}

/// The buyer returns `lines` of vendor order `vo` and the merchant accepts; the order after.
async fn returned(
    s: &Service,
    buyer: &Caller,
    order: &str,
    vo: &str,
    lines: &[(&str, i64)],
) -> Value {
    let lines: Vec<Value> = lines
        .iter()
        .map(|(line, quantity)| json!({ "line_id": line, "quantity": quantity }))
        .collect();
    let requested = s
        .post(
            buyer,
            &format!("/api/v1/orders/{order}/returns"),
            json!({ "vendor_order_id": vo, "lines": lines, "reason": "not as described" }),
        )
        .await;
    assert_eq!(requested.status, 201, "{:?}", requested.body);
    let merchant = Caller::merchant(buyer.tenant);
    let accepted = s
        .post(
            &merchant,
            &format!("/api/v1/returns/{}/decision", requested.str("id")),
            json!({ "accept": true, "restock": false }),
        )
        .await;
    assert_eq!(accepted.status, 200, "{:?}", accepted.body);
    let after = s.get(&merchant, &format!("/api/v1/orders/{order}")).await;
    assert_eq!(after.status, 200, "{:?}", after.body);
    after.body
}

async fn refunding_every_unit_gives_the_shipping_back_once(s: Service) {
    let shop = TenantId::new();
    let merchant = Caller::merchant(shop);
    let rate = s
        .call(
            &merchant,
            "PUT",
            "/api/v1/tax-rates",
            Some(json!({ "country": "DE", "rate": "19" })),
            &[],
        )
        .await;
    assert_eq!(rate.status, 200, "{:?}", rate.body);
    let tea_vendor = s.vendor_charging(shop, 490).await;
    let pot_vendor = s.vendor_charging(shop, 500).await;
    let sencha = s.list(shop, tea_vendor, "Sencha", 1250, 10).await;
    let matcha = s.list(shop, tea_vendor, "Matcha", 2000, 10).await;
    let pot = s.list(shop, pot_vendor, "Kyusu", 3900, 10).await;
    let buyer = Caller::shopper(shop);
    let cart = s
        .cart(
            &buyer,
            &[(sencha.variant, 2), (matcha.variant, 1), (pot.variant, 1)],
        )
        .await;
    let placed = s.checkout(&buyer, &cart, "checkout-1").await;
    assert_eq!(placed.status, 201, "{:?}", placed.body);
    assert_eq!(placed.str("status"), "paid", "{:?}", placed.body);
    let order = placed.str("id");
    // Prices before tax, 19 % on goods and shipping (Hamburg):
    // tea: 25.00 (tax 4.75) + 20.00 (tax 3.80) + shipping 4.90 (tax 0.93) = 59.38;
    // pot: 39.00 (tax 7.41) + shipping 5.00 (tax 0.95) = 52.36.
    let tea = part_of(&placed.body, &tea_vendor.to_string());
    let kyusu = part_of(&placed.body, &pot_vendor.to_string());
    assert_eq!(tea["total"], json!(eur(5938)), "{tea}");
    assert_eq!(kyusu["total"], json!(eur(5236)), "{kyusu}");
    let tea_vo = tea["id"].as_str().unwrap_or_default().to_owned();
    let line = |part: &Value, i: usize| {
        part["lines"][i]["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    let (sencha_line, matcha_line) = (line(&tea, 0), line(&tea, 1));
    assert_eq!(tea["lines"][0]["total"], json!(eur(2975)), "{tea}");
    assert_eq!(tea["lines"][1]["total"], json!(eur(2380)), "{tea}");
    deliver(&s, shop, tea_vendor, &tea_vo).await;

    // 1. One Sencha of two comes back: its half of the line, no shipping.
    let after = returned(&s, &buyer, &order, &tea_vo, &[(&sencha_line, 1)]).await;
    let part = part_of(&after, &tea_vendor.to_string());
    assert_eq!(part["refunded"], json!(eur(1487)), "{part}");
    assert_eq!(after["refunded"], json!(eur(1487)));
    assert_eq!(after["status"], "partially_refunded");

    // 2. The rest of the tea comes back: the other Sencha, the Matcha, and the shipping with
    //    its tax (4.90 + 0.93), so the tea vendor order is refunded whole.
    let after = returned(
        &s,
        &buyer,
        &order,
        &tea_vo,
        &[(&sencha_line, 1), (&matcha_line, 1)],
    )
    .await;
    let part = part_of(&after, &tea_vendor.to_string());
    assert_eq!(part["refunded"], part["total"], "{part}");
    assert_eq!(after["refunded"], json!(eur(5938)));
    assert_eq!(after["status"], "partially_refunded");
    let refunds = after["refunds"].as_array().cloned().unwrap_or_default();
    assert_eq!(refunds.len(), 2, "{refunds:?}");
    let amounts: Vec<i64> = refunds.iter().map(|r| amount(&r["amount"])).collect();
    assert!(amounts.contains(&1487), "{amounts:?}");
    assert!(amounts.contains(&(1488 + 2380 + 490 + 93)), "{amounts:?}");

    // The ledger and the payouts hear the same: the second refund's share holds the shipping.
    let completed: Vec<RefundCompleted> = s
        .events_named(shop, REFUND_COMPLETED)
        .await
        .into_iter()
        .map(|p| serde_json::from_value(p).expect("a RefundCompleted"))
        .collect();
    let mut shares: Vec<(String, i64)> = completed
        .iter()
        .flat_map(|r| r.shares.iter())
        .map(|share| (share.vendor_order_id.to_string(), share.amount))
        .collect();
    shares.sort_by_key(|(_, a)| *a);
    assert_eq!(
        shares,
        [(tea_vo.clone(), 1487), (tea_vo.clone(), 4451)],
        "{completed:?}"
    );

    // 3. Nothing refunds the tea's shipping again: no units are left, nor any amount.
    let path = format!("/api/v1/orders/{order}/refunds");
    let by_lines = s
        .call(
            &merchant,
            "POST",
            &path,
            Some(
                json!({ "lines": [{ "line_id": matcha_line, "quantity": 1 }], "reason": "again" }),
            ),
            &[("idempotency-key", "again-1")],
        )
        .await;
    assert_eq!(by_lines.status, 422, "{:?}", by_lines.body);
    let by_amount = s
        .call(
            &merchant,
            "POST",
            &path,
            Some(json!({ "amount": eur(1), "vendor_order_id": tea_vo, "reason": "again" })),
            &[("idempotency-key", "again-2")],
        )
        .await;
    assert_eq!(by_amount.status, 422, "{:?}", by_amount.body);
    let unchanged = s.get(&merchant, &format!("/api/v1/orders/{order}")).await;
    assert_eq!(unchanged.body["refunded"], json!(eur(5938)));
    assert_eq!(unchanged.body["refunds"].as_array().map(Vec::len), Some(2));

    // 4. The merchant refunds the pot by its line: line and shipping, and the order is
    //    refunded whole.
    let pot_line = line(&kyusu, 0);
    let refunded = s
        .call(
            &merchant,
            "POST",
            &path,
            Some(json!({ "lines": [{ "line_id": pot_line, "quantity": 1 }], "reason": "broken" })),
            &[("idempotency-key", "pot-1")],
        )
        .await;
    assert_eq!(refunded.status, 201, "{:?}", refunded.body);
    assert_eq!(refunded.str("status"), "refunded", "{:?}", refunded.body);
    assert_eq!(refunded.body["refunded"], placed.body["total"]);
    let part = part_of(&refunded.body, &pot_vendor.to_string());
    assert_eq!(part["refunded"], json!(eur(5236)), "{part}");
}

async fn a_partial_refund_by_lines_keeps_the_shipping(s: Service) {
    let shop = TenantId::new();
    let merchant = Caller::merchant(shop);
    let vendor = s.vendor_charging(shop, 490).await;
    let sencha = s.list(shop, vendor, "Sencha", 1250, 10).await;
    let matcha = s.list(shop, vendor, "Matcha", 2000, 10).await;
    let buyer = Caller::shopper(shop);
    let cart = s
        .cart(&buyer, &[(sencha.variant, 2), (matcha.variant, 1)])
        .await;
    let placed = s.checkout(&buyer, &cart, "checkout-1").await;
    assert_eq!(placed.status, 201, "{:?}", placed.body);
    let order = placed.str("id");
    let part = part_of(&placed.body, &vendor.to_string());
    assert_eq!(part["total"], json!(eur(2500 + 2000 + 490)), "{part}");
    let sencha_line = part["lines"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let path = format!("/api/v1/orders/{order}/refunds");
    // Every Sencha, but not the Matcha: the lines only.
    let refunded = s
        .call(
            &merchant,
            "POST",
            &path,
            Some(
                json!({ "lines": [{ "line_id": sencha_line, "quantity": 2 }], "reason": "stale" }),
            ),
            &[("idempotency-key", "r-1")],
        )
        .await;
    assert_eq!(refunded.status, 201, "{:?}", refunded.body);
    assert_eq!(refunded.body["refunded"], json!(eur(2500)));
    assert_eq!(refunded.str("status"), "partially_refunded");
    let part = part_of(&refunded.body, &vendor.to_string());
    assert_eq!(part["refunded"], json!(eur(2500)), "{part}");

    // Cancelling is no longer possible, but a paid order cancelled refunds everything,
    // shipping included.
    let cart = s.cart(&buyer, &[(sencha.variant, 1)]).await;
    let placed = s.checkout(&buyer, &cart, "checkout-2").await;
    assert_eq!(placed.status, 201, "{:?}", placed.body);
    let order = placed.str("id");
    let cancelled = s
        .post(
            &merchant,
            &format!("/api/v1/orders/{order}/cancel"),
            json!({ "reason": "out of stock" }),
        )
        .await;
    assert_eq!(cancelled.status, 200, "{:?}", cancelled.body);
    assert_eq!(cancelled.str("status"), "cancelled");
    assert_eq!(cancelled.body["refunded"], json!(eur(1250 + 490)));
    let part = part_of(&cancelled.body, &vendor.to_string());
    assert_eq!(part["refunded"], part["total"], "{part}");
}

on_every_backend!(
    refunding_every_unit_gives_the_shipping_back_once,
    a_partial_refund_by_lines_keeps_the_shipping,
);

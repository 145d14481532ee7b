//! Money back: a partial refund by line with restock, an idempotent retry, a cancellation of
//! a paid order (refunded in full, stock back), and a return of a vendor order's every unit
//! that ends in a refund of its lines and its shipping. Vendors
//! refund only their own lines, and only when the shop allows it.

use super::*;
use crate::on_embedded_and_real;
use crate::support::Backend;

async fn refunds_cancellations_and_returns_give_money_and_stock_back(backend: Backend, test: &str) {
    let Some(app) = crate::catalog::spawn(backend, test).await else {
        return;
    };
    let m = market(&app).await;
    let host = m.host();
    let (tea, pot) = (m.tea.variants[0].as_str(), m.pots.variants[0].as_str());

    // 1. A partial refund of one unit, with restock; the same key again refunds nothing more.
    let c = cart(&app, host, &[(tea, 3), (pot, 1)]).await.str("id");
    let placed = checkout(&app, host, "k-r1", &checkout_body(&c, PAYS)).await;
    assert_eq!(placed.status, 201, "{}", placed.text);
    let placed_first = placed.clone();
    let order = placed.str("id");
    let tea_line = placed.body["vendor_orders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["vendor_id"] == m.tea.vendor.as_str())
        .unwrap()["lines"][0]
        .clone();
    let line_id = tea_line["id"].as_str().unwrap();
    app.settle().await;
    let s = stock(&app, &m.shop, tea).await;
    assert!(s["on_hand"] == 7 && s["reserved"] == 0, "sold: {s:?}");
    let path = format!("/api/v1/orders/{order}/refunds");
    let body = json!({ "lines": [{ "line_id": line_id, "quantity": 1 }], "reason": "damaged in transit", "restock": true });
    // Vendors may not refund unless the shop allows it; strangers do not see the order.
    let by_vendor = post_with(
        &app,
        host,
        &path,
        Some(&m.tea.token),
        &[("idempotency-key", "r-1")],
        &body,
    )
    .await;
    assert_eq!(by_vendor.status, 403, "{}", by_vendor.text);
    let (_, stranger) = app.customer(&m.shop).await;
    let by_stranger = post_with(
        &app,
        host,
        &path,
        Some(&stranger),
        &[("idempotency-key", "r-1")],
        &body,
    )
    .await;
    assert_eq!(by_stranger.status, 404, "{}", by_stranger.text);
    let too_many = post_with(
        &app,
        host,
        &path,
        Some(&m.shop.owner),
        &[("idempotency-key", "r-0")],
        &json!({ "lines": [{ "line_id": line_id, "quantity": 4 }], "reason": "x" }),
    )
    .await;
    assert_eq!(too_many.status, 422, "{}", too_many.text);
    let refunded = post_with(
        &app,
        host,
        &path,
        Some(&m.shop.owner),
        &[("idempotency-key", "r-1")],
        &body,
    )
    .await;
    assert_eq!(refunded.status, 201, "{}", refunded.text);
    assert_eq!(
        refunded.str("status"),
        "partially_refunded",
        "{}",
        refunded.text
    );
    let one_unit = tea_line["total"]["amount"].as_i64().unwrap() / 3;
    assert_eq!(refunded.body["refunded"]["amount"], one_unit);
    assert_eq!(refunded.body["refunds"][0]["status"], "succeeded");
    let again = post_with(
        &app,
        host,
        &path,
        Some(&m.shop.owner),
        &[("idempotency-key", "r-1")],
        &body,
    )
    .await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(again.body["refunded"]["amount"], one_unit);
    assert_eq!(again.body["refunds"].as_array().unwrap().len(), 1);
    app.settle().await;
    let s = stock(&app, &m.shop, tea).await;
    assert!(s["on_hand"] == 8, "restocked: {s:?}");
    // More than is left is refused.
    let total = placed.body["total"]["amount"].as_i64().unwrap();
    let excessive = post_with(
        &app,
        host,
        &path,
        Some(&m.shop.owner),
        &[("idempotency-key", "r-2")],
        &json!({ "amount": eur(total), "reason": "goodwill" }),
    )
    .await;
    assert_eq!(excessive.status, 422, "{}", excessive.text);

    // 2. The customer cancels a paid, unshipped order: refunded in full, units back.
    let c = cart(&app, host, &[(pot, 2)]).await.str("id");
    let placed = checkout(&app, host, "k-r2", &checkout_body(&c, PAYS)).await;
    let order2 = placed.str("id");
    let token2 = placed.str("order_token");
    app.settle().await;
    let s = stock(&app, &m.shop, pot).await;
    assert!(s["on_hand"] == 7 && s["reserved"] == 0, "sold: {s:?}");
    let cancelled = post_with(
        &app,
        host,
        &format!("/api/v1/orders/{order2}/cancel"),
        None,
        &[("x-order-token", &token2)],
        &json!({ "reason": "changed my mind" }),
    )
    .await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.text);
    assert_eq!(cancelled.str("status"), "cancelled");
    assert_eq!(cancelled.body["refunded"], placed.body["total"]);
    assert_eq!(
        cancelled.body["refunds"][0]["status"], "succeeded",
        "{}",
        cancelled.text
    );
    app.settle().await;
    let s = stock(&app, &m.shop, pot).await;
    assert!(s["on_hand"] == 9, "restocked: {s:?}");

    // 3. A return of a delivered unit, accepted by the vendor: refunded and restocked.
    let settings = app
        .client
        .send(
            "PUT",
            host,
            "/api/v1/order-settings",
            Some(&m.shop.owner),
            Some(&json!({
                "prices_include_tax": false, "order_ttl_secs": 900, "cart_idle_secs": 86400,
                "cancel_window_secs": 3600, "vendor_refunds": true
            })),
        )
        .await
        .unwrap();
    assert_eq!(settings.status, 200, "{}", settings.text);
    // Now the tea vendor may refund its own part of the first order (never another's), and
    // sees neither the payment nor the other vendor.
    let part_of = |vendor: &str| {
        placed_first.body["vendor_orders"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["vendor_id"] == vendor)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let tea_vo = part_of(&m.tea.vendor);
    let pot_vo = part_of(&m.pots.vendor);
    let foreign = post_with(
        &app,
        host,
        &path,
        Some(&m.tea.token),
        &[("idempotency-key", "v-1")],
        &json!({ "amount": eur(100), "vendor_order_id": pot_vo, "reason": "not mine" }),
    )
    .await;
    assert_eq!(foreign.status, 403, "{}", foreign.text);
    let own = post_with(
        &app,
        host,
        &path,
        Some(&m.tea.token),
        &[("idempotency-key", "v-2")],
        &json!({ "amount": eur(100), "vendor_order_id": tea_vo, "reason": "goodwill" }),
    )
    .await;
    assert_eq!(own.status, 201, "{}", own.text);
    assert_eq!(own.body["payments"], json!([]));
    assert_eq!(own.body["vendor_orders"].as_array().unwrap().len(), 1);
    assert_eq!(own.body["refunded"]["amount"], one_unit + 100);
    let reused = post_with(
        &app,
        host,
        &path,
        Some(&m.tea.token),
        &[("idempotency-key", "v-2")],
        &json!({ "amount": eur(200), "vendor_order_id": tea_vo, "reason": "goodwill" }),
    )
    .await;
    assert_eq!(reused.status, 422, "{}", reused.text);

    let c = cart(&app, host, &[(pot, 1)]).await.str("id");
    let placed = checkout(&app, host, "k-r3", &checkout_body(&c, PAYS)).await;
    let order3 = placed.str("id");
    let token3 = placed.str("order_token");
    let vo = placed.body["vendor_orders"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let line = placed.body["vendor_orders"][0]["lines"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let returns = format!("/api/v1/orders/{order3}/returns");
    let return_body = json!({ "vendor_order_id": vo, "lines": [{ "line_id": line, "quantity": 1 }], "reason": "too small" });
    let early = post_with(
        &app,
        host,
        &returns,
        None,
        &[("x-order-token", &token3)],
        &return_body,
    )
    .await;
    assert_eq!(early.status, 409, "not delivered yet: {}", early.text);
    for step in ["ship", "deliver"] {
        let moved = app
            .client
            .post(
                host,
                &format!("/api/v1/vendor-orders/{vo}/{step}"),
                Some(&m.pots.token),
                &json!({ "carrier": "DHL", "tracking_number": "1" }),
            )
            .await
            .unwrap();
        assert!(
            moved.status == 200 || (step == "deliver" && moved.status == 422),
            "{step}: {}",
            moved.text
        );
    }
    let requested = post_with(
        &app,
        host,
        &returns,
        None,
        &[("x-order-token", &token3)],
        &return_body,
    )
    .await;
    assert_eq!(requested.status, 201, "{}", requested.text);
    assert_eq!(requested.str("status"), "requested");
    let decision = format!("/api/v1/returns/{}/decision", requested.str("id"));
    let by_other_vendor = app
        .client
        .post(
            host,
            &decision,
            Some(&m.tea.token),
            &json!({ "accept": true }),
        )
        .await
        .unwrap();
    assert_eq!(by_other_vendor.status, 404, "{}", by_other_vendor.text);
    let accepted = app
        .client
        .post(
            host,
            &decision,
            Some(&m.pots.token),
            &json!({ "accept": true }),
        )
        .await
        .unwrap();
    assert_eq!(accepted.status, 200, "{}", accepted.text);
    assert_eq!(accepted.str("status"), "refunded");
    let after = guest_order(&app, host, &order3, &token3).await;
    // The return gives back the vendor order's last unit, so its shipping (and the tax on
    // it) comes back too: the whole order is refunded.
    assert_eq!(after.str("status"), "refunded", "{}", after.text);
    assert_eq!(after.body["refunded"], placed.body["total"]);
    assert!(
        after.body["refunded"]["amount"].as_i64()
            > placed.body["vendor_orders"][0]["lines"][0]["total"]["amount"].as_i64(),
        "{}",
        after.text
    );
    app.settle().await;
    let s = stock(&app, &m.shop, pot).await;
    assert!(s["on_hand"] == 9, "restocked: {s:?}");
    let twice = app
        .client
        .post(
            host,
            &decision,
            Some(&m.pots.token),
            &json!({ "accept": true }),
        )
        .await
        .unwrap();
    assert_eq!(twice.status, 409, "{}", twice.text);

    // The merchant's list shows every order as the order's own page does: payments,
    // refunds, returns and history, read once for the whole page.
    let listed = listed_as_shown(
        &app,
        host,
        "/api/v1/orders",
        "/api/v1/orders",
        &m.shop.owner,
    )
    .await;
    assert!(listed.len() >= 3, "{listed:?}");
    for part in ["refunds", "returns", "payments", "history"] {
        assert!(
            listed
                .iter()
                .any(|o| !o[part].as_array().unwrap().is_empty()),
            "some order has {part}: {listed:?}"
        );
    }
}
on_embedded_and_real!(refunds_cancellations_and_returns_give_money_and_stock_back);

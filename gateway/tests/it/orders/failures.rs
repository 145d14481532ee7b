//! What goes wrong at checkout leaves stock, money and orders consistent: a declined card
//! (then a retry), a replayed or reused Idempotency-Key, a price that changed, an order left
//! unpaid until it expires (its stock comes back; a payment that still arrives is refunded),
//! and provider webhooks that are forged, repeated or out of order.

use super::*;
use crate::support::{Backend, eventually};
use crate::{on_all_backends, on_embedded_and_real};

async fn a_declined_card_can_be_retried_and_replays_return_the_same_order(
    backend: Backend,
    test: &str,
) {
    let Some(app) = crate::catalog::spawn(backend, test).await else {
        return;
    };
    let m = market(&app).await;
    let host = m.host();
    let tea = m.tea.variants[0].as_str();
    let c = cart(&app, host, &[(tea, 2)]).await.str("id");

    // No key, a bad body: refused, nothing happens.
    let keyless = post_with(
        &app,
        host,
        "/api/v1/checkout",
        None,
        &[],
        &checkout_body(&c, PAYS),
    )
    .await;
    assert_eq!(keyless.status, 400, "{}", keyless.text);
    let mut bad = checkout_body(&c, PAYS);
    bad["email"] = json!("not-an-email");
    bad["shipping_address"]["country"] = json!("Germany");
    let invalid = checkout(&app, host, "k-bad", &bad).await;
    assert_eq!(invalid.status, 422, "{}", invalid.text);
    assert_eq!(
        crate::support::error_fields(&invalid),
        ["/email", "/shipping_address/country"]
    );

    let declined = checkout(&app, host, "k-1", &checkout_body(&c, DECLINED)).await;
    assert_eq!(declined.status, 201, "{}", declined.text);
    let order = declined.str("id");
    let token = declined.str("order_token");
    assert_eq!(declined.str("status"), "pending_payment");
    assert_eq!(
        declined.body["payment_failure"]["code"], "card_declined",
        "{}",
        declined.text
    );
    // The units stay held for the retry.
    assert_eq!(stock(&app, &m.shop, tea).await["reserved"], 2);

    // The same key and body: the same order, not a second one.
    let replay = checkout(&app, host, "k-1", &checkout_body(&c, DECLINED)).await;
    assert_eq!(replay.status, 200, "{}", replay.text);
    assert_eq!(replay.str("id"), order);
    assert_eq!(replay.headers.get("idempotent-replayed").unwrap(), "true");
    assert_eq!(replay.str("order_token"), token);
    // The same key with another body: 422. Another key: the cart is already ordered.
    let reused = checkout(&app, host, "k-1", &checkout_body(&c, PAYS)).await;
    assert_eq!(reused.status, 422, "{}", reused.text);
    assert_eq!(reused.str("code"), "idempotency_key_reused");
    let again = checkout(&app, host, "k-2", &checkout_body(&c, PAYS)).await;
    assert_eq!(again.status, 409, "{}", again.text);
    assert_eq!(again.str("code"), "cart_closed");
    assert_eq!(stock(&app, &m.shop, tea).await["reserved"], 2);

    // Paying again needs the order's token; with it, the order is paid once.
    let pay = json!({ "payment": { "provider": "test", "card": PAYS } });
    let stranger = post_with(
        &app,
        host,
        &format!("/api/v1/orders/{order}/payments"),
        None,
        &[],
        &pay,
    )
    .await;
    assert_eq!(stranger.status, 404, "{}", stranger.text);
    let paid = post_with(
        &app,
        host,
        &format!("/api/v1/orders/{order}/payments"),
        None,
        &[("x-order-token", &token)],
        &pay,
    )
    .await;
    assert_eq!(paid.status, 200, "{}", paid.text);
    assert_eq!(paid.str("status"), "paid", "{}", paid.text);
    assert!(paid.body["payment_failure"].is_null());
    let statuses: Vec<&str> = paid.body["payments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["failed", "succeeded"]);
    let twice = post_with(
        &app,
        host,
        &format!("/api/v1/orders/{order}/payments"),
        None,
        &[("x-order-token", &token)],
        &pay,
    )
    .await;
    assert_eq!(twice.status, 409, "{}", twice.text);
    app.settle().await;
    let s = stock(&app, &m.shop, tea).await;
    assert!(
        s["reserved"] == 0 && s["on_hand"] == 8,
        "the reservation committed: {s:?}"
    );
}
on_embedded_and_real!(a_declined_card_can_be_retried_and_replays_return_the_same_order);

async fn a_changed_price_is_flagged_before_it_is_charged(backend: Backend, test: &str) {
    let Some(app) = crate::catalog::spawn(backend, test).await else {
        return;
    };
    let m = market(&app).await;
    let host = m.host();
    let tea = m.tea.variants[0].as_str();
    let c = cart(&app, host, &[(tea, 1)]).await.str("id");
    let product = app
        .client
        .get(host, "/api/v1/catalog/products", Some(&m.tea.token))
        .await
        .unwrap();
    let product_id = product.body["data"][0]["id"].as_str().unwrap().to_owned();
    let repriced = app
        .client
        .patch(
            host,
            &format!("/api/v1/catalog/products/{product_id}/variants/{tea}"),
            Some(&m.tea.token),
            &json!({ "price": eur(1400) }),
        )
        .await
        .unwrap();
    assert_eq!(repriced.status, 200, "{}", repriced.text);
    app.settle().await;
    let flagged = app
        .client
        .get(host, &format!("/api/v1/carts/{c}"), None)
        .await
        .unwrap();
    assert_eq!(
        flagged.body["lines"][0]["price_changed"], true,
        "the new price in the cart: {}",
        flagged.text
    );
    assert_eq!(
        flagged.body["lines"][0]["previous_unit_price"]["amount"],
        1250
    );
    assert_eq!(flagged.body["lines"][0]["unit_price"]["amount"], 1400);
    assert_eq!(flagged.body["ready_for_checkout"], false);
    let refused = checkout(&app, host, "k-price", &checkout_body(&c, PAYS)).await;
    assert_eq!(refused.status, 409, "{}", refused.text);
    assert_eq!(refused.str("code"), "cart_not_ready");
    assert_eq!(stock(&app, &m.shop, tea).await["reserved"], 0);
    let accepted = app
        .client
        .post(
            host,
            &format!("/api/v1/carts/{c}/accept-prices"),
            None,
            &json!({}),
        )
        .await
        .unwrap();
    assert_eq!(
        accepted.body["ready_for_checkout"], true,
        "{}",
        accepted.text
    );
    let placed = checkout(&app, host, "k-price", &checkout_body(&c, PAYS)).await;
    assert_eq!(placed.status, 201, "{}", placed.text);
    assert_eq!(placed.body["subtotal"]["amount"], 1400);
}
on_embedded_and_real!(a_changed_price_is_flagged_before_it_is_charged);

async fn an_unpaid_order_expires_and_a_late_payment_is_refunded(backend: Backend, test: &str) {
    let Some(app) = TestApp::spawn_with(backend, test, |config| {
        config.gateway.enforce_rate_limits = false;
        config.orders.test_webhook_delay_ms = 4000;
    })
    .await
    else {
        return;
    };
    let m = market(&app).await;
    let host = m.host();
    let tea = m.tea.variants[0].as_str();
    let settings = app
        .client
        .send(
            "PUT",
            host,
            "/api/v1/order-settings",
            Some(&m.shop.owner),
            Some(&json!({
                "prices_include_tax": false, "order_ttl_secs": 1, "cart_idle_secs": 86400,
                "cancel_window_secs": 3600, "vendor_refunds": false
            })),
        )
        .await
        .unwrap();
    assert_eq!(settings.status, 200, "{}", settings.text);

    // A bank debit still processing when the order's time runs out.
    let c = cart(&app, host, &[(tea, 3)]).await.str("id");
    let placed = checkout(
        &app,
        host,
        "k-late",
        &checkout_body(&c, mercato_payments::test_provider::cards::PROCESSING),
    )
    .await;
    assert_eq!(placed.status, 201, "{}", placed.text);
    assert_eq!(placed.str("status"), "pending_payment");
    let order = placed.str("id");
    let token = placed.str("order_token");
    let expired = order_becomes(&app, host, &order, &token, "expired").await;
    assert_eq!(expired.body["vendor_orders"][0]["status"], "cancelled");
    app.settle().await;
    let s = stock(&app, &m.shop, tea).await;
    assert!(
        s["reserved"] == 0 && s["available"] == 10,
        "the stock back: {s:?}"
    );
    // The provider still takes the money: it is given back, and the order stays expired.
    let refunded = eventually(
        "the late payment refunded",
        || guest_order(&app, host, &order, &token),
        |reply| reply.body["refunds"][0]["status"] == "succeeded",
    )
    .await;
    assert_eq!(refunded.str("status"), "expired");
    assert_eq!(
        refunded.body["refunds"][0]["amount"]["amount"],
        placed.body["total"]["amount"]
    );
    assert_eq!(refunded.body["refunds"][0]["stray_payment"], true);
    assert_eq!(refunded.body["payments"][0]["status"], "succeeded");
    assert_eq!(stock(&app, &m.shop, tea).await["on_hand"], 10);
}
on_embedded_and_real!(an_unpaid_order_expires_and_a_late_payment_is_refunded);

async fn webhooks_are_verified_and_applied_once_in_any_order(backend: Backend, test: &str) {
    let Some(app) = TestApp::spawn_with(backend, test, |config| {
        config.gateway.enforce_rate_limits = false;
        // The provider's own webhook comes late: the test sends its events first.
        config.orders.test_webhook_delay_ms = 600_000;
    })
    .await
    else {
        return;
    };
    let m = market(&app).await;
    let host = m.host();
    let tea = m.tea.variants[0].as_str();
    let c = cart(&app, host, &[(tea, 1)]).await.str("id");
    let placed = checkout(&app, host, "k-hooks", &checkout_body(&c, LATER)).await;
    assert_eq!(placed.status, 201, "{}", placed.text);
    assert_eq!(placed.str("status"), "pending_payment");
    let order = placed.str("id");
    let token = placed.str("order_token");
    let intent = placed.body["payments"][0]["provider_ref"]
        .as_str()
        .unwrap()
        .to_owned();
    let amount = placed.body["total"]["amount"].as_i64().unwrap();

    // Forged: wrong secret, no signature, a stale timestamp, a tampered body. All 400.
    let (_, body) = signed_event(
        Some(&m.shop.id),
        "evt_1",
        "payment_intent.succeeded",
        &intent,
        amount,
        &order,
    );
    let forged =
        mercato_payments::signature::sign("whsec_wrong", chrono::Utc::now().timestamp(), &body);
    assert_eq!(webhook(&app, host, &forged, body.clone()).await.status, 400);
    let stale = mercato_payments::signature::sign(
        crate::support::TEST_WEBHOOK_SECRET,
        chrono::Utc::now().timestamp() - 3600,
        &body,
    );
    assert_eq!(webhook(&app, host, &stale, body.clone()).await.status, 400);
    let (header, _) = signed_event(
        Some(&m.shop.id),
        "evt_1",
        "payment_intent.succeeded",
        &intent,
        amount,
        &order,
    );
    let mut tampered = body.clone();
    let last = tampered.len() - 2;
    tampered[last] = b' ';
    assert_eq!(webhook(&app, host, &header, tampered).await.status, 400);
    let unsigned = app
        .client
        .send_raw(
            "POST",
            host,
            "/api/v1/payments/webhooks/test",
            &[("content-type", "application/json")],
            body.clone(),
        )
        .await
        .unwrap();
    assert_eq!(unsigned.status, 400, "{}", unsigned.text);
    assert_eq!(
        guest_order(&app, host, &order, &token).await.str("status"),
        "pending_payment"
    );

    // Signed by a rotated-out and the current secret at once: accepted.
    let now = chrono::Utc::now().timestamp();
    let old = mercato_payments::signature::sign("whsec_old", now, &body);
    let current =
        mercato_payments::signature::sign(crate::support::TEST_WEBHOOK_SECRET, now, &body);
    let both = format!("{old},{}", current.split(',').nth(1).unwrap());
    let applied = webhook(&app, host, &both, body.clone()).await;
    assert_eq!(applied.status, 204, "{}", applied.text);
    let paid = guest_order(&app, host, &order, &token).await;
    assert_eq!(paid.str("status"), "paid", "{}", paid.text);

    // The same event again, and a failure that arrives after the success: nothing changes.
    let (header, body) = signed_event(
        Some(&m.shop.id),
        "evt_1",
        "payment_intent.succeeded",
        &intent,
        amount,
        &order,
    );
    assert_eq!(webhook(&app, host, &header, body).await.status, 204);
    let (header, body) = signed_event(
        Some(&m.shop.id),
        "evt_0",
        "payment_intent.payment_failed",
        &intent,
        amount,
        &order,
    );
    assert_eq!(webhook(&app, host, &header, body).await.status, 204);
    let after = guest_order(&app, host, &order, &token).await;
    assert_eq!(after.str("status"), "paid");
    assert!(after.body["payment_failure"].is_null());
    let paid_moves = after.body["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["to"] == "paid")
        .count();
    assert_eq!(paid_moves, 1, "{}", after.text);

    // Another shop's host cannot touch this shop's payments: a success sent there for an
    // order still waiting for its payment leaves it waiting.
    let c = cart(&app, host, &[(tea, 1)]).await.str("id");
    let waiting = checkout(&app, host, "k-hooks-2", &checkout_body(&c, LATER)).await;
    assert_eq!(waiting.str("status"), "pending_payment", "{}", waiting.text);
    let admin = app.admin_token().await;
    let other = app.shop(&admin, "growth").await;
    let (header, body) = signed_event(
        Some(&m.shop.id),
        "evt_2",
        "payment_intent.succeeded",
        waiting.body["payments"][0]["provider_ref"]
            .as_str()
            .unwrap(),
        waiting.body["total"]["amount"].as_i64().unwrap(),
        &waiting.str("id"),
    );
    assert_eq!(webhook(&app, &other.host, &header, body).await.status, 204);
    assert_eq!(
        guest_order(&app, host, &waiting.str("id"), &waiting.str("order_token"))
            .await
            .str("status"),
        "pending_payment"
    );
    assert_eq!(
        guest_order(&app, host, &order, &token).await.str("status"),
        "paid"
    );
}
on_all_backends!(webhooks_are_verified_and_applied_once_in_any_order);

/// An `Idempotency-Key` is its caller's own: two guests (and two customers) who send the same
/// key each get their own order, and each one's retry still replays their own.
async fn checkout_keys_belong_to_their_caller(backend: Backend, test: &str) {
    let Some(app) = crate::catalog::spawn(backend, test).await else {
        return;
    };
    let m = market(&app).await;
    let host = m.host();
    let tea = m.tea.variants[0].as_str();
    let first = cart(&app, host, &[(tea, 1)]).await.str("id");
    let second = cart(&app, host, &[(tea, 2)]).await.str("id");
    let a = checkout(&app, host, "k-shared", &checkout_body(&first, PAYS)).await;
    assert_eq!(a.status, 201, "{}", a.text);
    let b = checkout(&app, host, "k-shared", &checkout_body(&second, PAYS)).await;
    assert_eq!(b.status, 201, "{}", b.text);
    assert_ne!(a.str("id"), b.str("id"));
    let again = checkout(&app, host, "k-shared", &checkout_body(&second, PAYS)).await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(again.str("id"), b.str("id"));

    // Two signed-in customers with one key.
    let mut orders = Vec::new();
    for _ in 0..2 {
        let (_, token) = app.customer(&m.shop).await;
        let c = app
            .client
            .post(
                host,
                "/api/v1/carts",
                Some(&token),
                &json!({ "lines": [{ "variant_id": tea, "quantity": 1 }] }),
            )
            .await
            .unwrap();
        assert_eq!(c.status, 201, "{}", c.text);
        let placed = post_with(
            &app,
            host,
            "/api/v1/checkout",
            Some(&token),
            &[("idempotency-key", "k-customer")],
            &checkout_body(&c.str("id"), PAYS),
        )
        .await;
        assert_eq!(placed.status, 201, "{}", placed.text);
        orders.push(placed.str("id"));
    }
    assert_ne!(orders[0], orders[1]);
    app.settle().await;
    let s = stock(&app, &m.shop, tea).await;
    assert!(
        s["on_hand"] == 5 && s["reserved"] == 0,
        "all four orders' units sold: {s:?}"
    );
}
on_embedded_and_real!(checkout_keys_belong_to_their_caller);

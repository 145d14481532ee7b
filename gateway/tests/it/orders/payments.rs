//! Payments a hostile shopper or a confused provider could abuse: a shop takes only the
//! providers it accepts (the built-in test provider never pays a shop that does not take
//! it), a provider event about a payment must name its shop, and a success of another
//! amount than the order's is held for merchant staff to accept or refund.

use super::*;
use crate::on_embedded_and_real;
use crate::support::{Backend, eventually};

fn settings(ttl: i64, providers: Value) -> Value {
    json!({
        "prices_include_tax": false, "order_ttl_secs": ttl, "cart_idle_secs": 86400,
        "cancel_window_secs": 3600, "vendor_refunds": false, "payment_providers": providers
    })
}

async fn put_settings(app: &TestApp, host: &str, token: &str, body: &Value) -> Reply {
    app.client
        .send(
            "PUT",
            host,
            "/api/v1/order-settings",
            Some(token),
            Some(body),
        )
        .await
        .unwrap()
}

async fn a_shop_takes_only_the_providers_it_accepts(backend: Backend, test: &str) {
    let Some(app) = TestApp::spawn_with(backend, test, |config| {
        config.gateway.enforce_rate_limits = false;
        // Stripe is offered too; nothing here reaches it.
        config.orders.stripe.secret_key = mercato_kernel::Secret::new("sk_test_mercato");
        config.orders.stripe.api_base = "http://127.0.0.1:9".into();
    })
    .await
    else {
        return;
    };
    let m = market(&app).await;
    let host = m.host();
    let tea = m.tea.variants[0].as_str();
    let admin = app.admin_token().await;
    let other = app.shop(&admin, "growth").await;

    // Only merchant staff choose, and only among the providers the platform offers.
    let by_vendor = put_settings(&app, host, &m.tea.token, &settings(900, json!(["stripe"]))).await;
    assert!([403, 404].contains(&by_vendor.status), "{}", by_vendor.text);
    for bad in [json!(["paypal"]), json!([]), json!(["stripe", "stripe"])] {
        let refused = put_settings(&app, host, &m.shop.owner, &settings(900, bad)).await;
        assert_eq!(refused.status, 422, "{}", refused.text);
        assert_eq!(
            crate::support::error_fields(&refused),
            ["/payment_providers"]
        );
    }
    let stripe_only =
        put_settings(&app, host, &m.shop.owner, &settings(900, json!(["stripe"]))).await;
    assert_eq!(stripe_only.status, 200, "{}", stripe_only.text);

    // A shopper naming the test provider (or one nobody offers) is refused; nothing is
    // ordered or held.
    let c = cart(&app, host, &[(tea, 2)]).await.str("id");
    for provider in ["test", "paypal"] {
        let mut body = checkout_body(&c, PAYS);
        body["payment"]["provider"] = json!(provider);
        let refused = checkout(&app, host, &format!("k-{provider}"), &body).await;
        assert_eq!(refused.status, 422, "{}", refused.text);
        assert_eq!(refused.str("code"), "provider_not_accepted");
    }
    assert_eq!(stock(&app, &m.shop, tea).await["reserved"], 0);
    let orders = app
        .client
        .get(host, "/api/v1/orders", Some(&m.shop.owner))
        .await
        .unwrap();
    assert_eq!(orders.body["data"], json!([]), "{}", orders.text);

    // Another shop's choice is its own.
    let theirs = app
        .client
        .get(&other.host, "/api/v1/order-settings", None)
        .await
        .unwrap();
    assert_eq!(
        theirs.body["payment_providers"],
        Value::Null,
        "{}",
        theirs.text
    );
    let mine = app
        .client
        .get(host, "/api/v1/order-settings", None)
        .await
        .unwrap();
    assert_eq!(mine.body["payment_providers"], json!(["stripe"]));

    // Once the shop takes test payments, the same cart checks out.
    let both = put_settings(
        &app,
        host,
        &m.shop.owner,
        &settings(900, json!(["test", "stripe"])),
    )
    .await;
    assert_eq!(both.status, 200, "{}", both.text);
    let placed = checkout(&app, host, "k-accepted", &checkout_body(&c, PAYS)).await;
    assert_eq!(placed.status, 201, "{}", placed.text);
    assert_eq!(placed.str("status"), "paid");
}
on_embedded_and_real!(a_shop_takes_only_the_providers_it_accepts);

/// A success of `amount` for the guest's pending order, as the provider would send it.
async fn succeeded(app: &TestApp, m: &Market, placed: &Reply, event: &str, amount: i64) -> Reply {
    let (header, body) = signed_event(
        Some(&m.shop.id),
        event,
        "payment_intent.succeeded",
        placed.body["payments"][0]["provider_ref"].as_str().unwrap(),
        amount,
        &placed.str("id"),
    );
    webhook(app, m.host(), &header, body).await
}

async fn review(app: &TestApp, host: &str, token: &str, order: &str, decision: &str) -> Reply {
    app.client
        .post(
            host,
            &format!("/api/v1/orders/{order}/payment-review"),
            Some(token),
            &json!({ "decision": decision, "note": "checked with the provider" }),
        )
        .await
        .unwrap()
}

async fn a_payment_of_another_amount_is_held_for_review(backend: Backend, test: &str) {
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
    // A short order lifetime: the stock hold runs out while the payment waits for review.
    let short = put_settings(&app, host, &m.shop.owner, &settings(5, Value::Null)).await;
    assert_eq!(short.status, 200, "{}", short.text);
    let c = cart(&app, host, &[(tea, 1)]).await.str("id");
    let placed = checkout(&app, host, "k-review-1", &checkout_body(&c, LATER)).await;
    assert_eq!(placed.str("status"), "pending_payment", "{}", placed.text);
    let order = placed.str("id");
    let token = placed.str("order_token");
    let amount = placed.body["total"]["amount"].as_i64().unwrap();

    // An event that names no shop is refused and changes nothing.
    let (header, body) = signed_event(
        None,
        "evt_r0",
        "payment_intent.succeeded",
        placed.body["payments"][0]["provider_ref"].as_str().unwrap(),
        amount,
        &order,
    );
    let anonymous = webhook(&app, host, &header, body).await;
    assert_eq!(anonymous.status, 400, "{}", anonymous.text);
    assert_eq!(anonymous.str("code"), "event_without_shop");
    assert_eq!(
        guest_order(&app, host, &order, &token).await.str("status"),
        "pending_payment"
    );

    // A success for a cent less: held, not paid; the stock is not sold.
    let short_paid = succeeded(&app, &m, &placed, "evt_r1", amount - 1).await;
    assert_eq!(short_paid.status, 204, "{}", short_paid.text);
    let held = guest_order(&app, host, &order, &token).await;
    assert_eq!(held.str("status"), "payment_review", "{}", held.text);
    assert_eq!(held.body["payment_failure"]["code"], "amount_mismatch");
    assert_eq!(held.body["vendor_orders"][0]["status"], "awaiting_payment");
    assert_eq!(stock(&app, &m.shop, tea).await["on_hand"], 10);

    // Nobody but merchant staff decides: not the vendor, not the guest, not another shop.
    let vendor = review(&app, host, &m.tea.token, &order, "accept").await;
    assert_eq!(vendor.status, 404, "{}", vendor.text);
    let guest = post_with(
        &app,
        host,
        &format!("/api/v1/orders/{order}/payment-review"),
        None,
        &[("x-order-token", &token)],
        &json!({ "decision": "accept" }),
    )
    .await;
    assert!([401, 404].contains(&guest.status), "{}", guest.text);
    let admin = app.admin_token().await;
    let other = app.shop(&admin, "growth").await;
    let stranger = review(&app, &other.host, &other.owner, &order, "accept").await;
    assert_eq!(stranger.status, 404, "{}", stranger.text);
    let bad = review(&app, host, &m.shop.owner, &order, "maybe").await;
    assert_eq!(bad.status, 422, "{}", bad.text);
    assert_eq!(
        guest_order(&app, host, &order, &token).await.str("status"),
        "payment_review"
    );

    // The checkout's hold runs out meanwhile; accepting holds the stock again and sells it.
    eventually(
        "the checkout's hold released",
        || stock(&app, &m.shop, tea),
        |s| s["reserved"] == 0,
    )
    .await;
    let accepted = review(&app, host, &m.shop.owner, &order, "accept").await;
    assert_eq!(accepted.status, 200, "{}", accepted.text);
    assert_eq!(accepted.str("status"), "paid");
    assert!(accepted.body["payment_failure"].is_null());
    assert_eq!(accepted.body["vendor_orders"][0]["status"], "to_fulfil");
    app.settle().await;
    let s = stock(&app, &m.shop, tea).await;
    assert!(
        s["on_hand"] == 9 && s["reserved"] == 0,
        "the accepted order's stock sold: {s:?}"
    );
    let twice = review(&app, host, &m.shop.owner, &order, "refund").await;
    assert_eq!(twice.status, 409, "{}", twice.text);
    assert_eq!(twice.str("code"), "not_in_review");

    // Another order, a euro short: refunded (what was taken), cancelled, stock back.
    let normal = put_settings(&app, host, &m.shop.owner, &settings(900, Value::Null)).await;
    assert_eq!(normal.status, 200, "{}", normal.text);
    let c = cart(&app, host, &[(tea, 2)]).await.str("id");
    let placed = checkout(&app, host, "k-review-2", &checkout_body(&c, LATER)).await;
    assert_eq!(placed.str("status"), "pending_payment", "{}", placed.text);
    let order = placed.str("id");
    let token = placed.str("order_token");
    let amount = placed.body["total"]["amount"].as_i64().unwrap();
    assert_eq!(
        succeeded(&app, &m, &placed, "evt_r2", amount - 100)
            .await
            .status,
        204
    );
    assert_eq!(stock(&app, &m.shop, tea).await["reserved"], 2);
    let refunded = review(&app, host, &m.shop.owner, &order, "refund").await;
    assert_eq!(refunded.status, 200, "{}", refunded.text);
    assert_eq!(refunded.str("status"), "cancelled");
    // What was taken goes back (the test provider itself still has this intent processing,
    // so it refuses the refund as Stripe would; the refund asked for is what counts here).
    let back = eventually(
        "the held payment's refund asked for",
        || guest_order(&app, host, &order, &token),
        |reply| {
            reply.body["refunds"][0]["stray_payment"] == true
                && reply.body["refunds"][0]["status"] != "pending"
        },
    )
    .await;
    assert_eq!(back.body["refunds"][0]["amount"]["amount"], amount - 100);
    app.settle().await;
    let s = stock(&app, &m.shop, tea).await;
    assert!(
        s["reserved"] == 0 && s["on_hand"] == 9,
        "the refused order's stock back: {s:?}"
    );
}
on_embedded_and_real!(a_payment_of_another_amount_is_held_for_review);

//! Buying end to end, through the gateway by Host header: carts, one checkout across
//! vendors split into vendor orders, payments with the built-in test provider and its
//! signed webhooks, fulfilment, cancellations, refunds, returns, expiry, and attacks from
//! other shops and other vendors. The orders service's domain rules (pricing, coupons,
//! taxes, the state machines) are unit- and property-tested in `services/orders`.

mod buying;
mod concurrency;
mod crash;
mod failures;
mod payments;
mod refunds;
mod retention;
mod vendors_away;

use crate::catalog::{catalog_knows, create, eur, move_product, product};
use crate::inventory::warehouse;
use crate::support::{Shop, TEST_WEBHOOK_SECRET, TestApp, eventually};
use mercato_testkit::Reply;
use serde_json::{Value, json};

pub const PAYS: &str = "4242424242424242";
pub const DECLINED: &str = "4000000000000002";
pub const LATER: &str = "4000000000003220";

/// A vendor of the market: its id, its owner's token (with the membership) and its
/// variants.
pub struct Seller {
    pub vendor: String,
    pub token: String,
    pub variants: Vec<String>,
}

/// A shop with two approved vendors, each selling one stocked product.
pub struct Market {
    pub shop: Shop,
    pub tea: Seller,
    pub pots: Seller,
}

impl Market {
    pub fn host(&self) -> &str {
        &self.shop.host
    }
}

/// A vendor that lists `title` (one variant per `(sku, price)`) with `stock` units each,
/// its shipping set, and orders knowing all of it.
pub async fn seller(
    app: &TestApp,
    shop: &Shop,
    name: &str,
    title: &str,
    variants: &[(&str, i64)],
    stock: i64,
    shipping: Value,
) -> Seller {
    let host = shop.host.as_str();
    let (vendor, email, token) = app.approved_vendor_account(shop, name).await;
    // Sign in again: the new token carries the vendor membership.
    let token = {
        let _ = token;
        app.login(host, &email, crate::support::PASSWORD).await
    };
    let shipped = app
        .client
        .patch(
            host,
            &format!("/api/v1/vendors/{vendor}"),
            Some(&shop.owner),
            &shipping,
        )
        .await
        .unwrap();
    assert_eq!(shipped.status, 200, "{}", shipped.text);
    catalog_knows(app, shop, &token, &vendor).await;
    let created = create(app, shop, &token, &product(&vendor, title, variants)).await;
    assert_eq!(created.status, 201, "{}", created.text);
    let published = move_product(app, shop, &shop.owner, &created.str("id"), "publish", None).await;
    assert_eq!(published.status, 200, "{}", published.text);
    let ids: Vec<String> = created.body["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_owned())
        .collect();
    // Inventory learns of the vendor and its variants, orders of the prices, the vendor's
    // shipping and the stock, from events: wait for them, then check once.
    app.settle().await;
    let wh = app
        .client
        .post(
            host,
            "/api/v1/warehouses",
            Some(&shop.owner),
            &warehouse(&vendor, "Main"),
        )
        .await
        .unwrap();
    assert_eq!(wh.status, 201, "the vendor known to inventory: {}", wh.text);
    let wh = wh.str("id");
    for id in &ids {
        let received = app
            .client
            .post(
                host,
                &format!("/api/v1/warehouses/{wh}/adjustments"),
                Some(&shop.owner),
                &json!({ "variant_id": id, "delta": stock, "reason": "received" }),
            )
            .await
            .unwrap();
        assert_eq!(
            received.status, 201,
            "the variant known to inventory: {}",
            received.text
        );
    }
    // Orders has learned the prices, the vendor's shipping and the stock.
    app.settle().await;
    for id in &ids {
        let reply = app
            .client
            .post(
                host,
                "/api/v1/carts",
                None,
                &json!({ "lines": [{ "variant_id": id, "quantity": 1 }] }),
            )
            .await
            .unwrap();
        assert_eq!(
            reply.status, 201,
            "the variant known to orders: {}",
            reply.text
        );
        assert_eq!(
            reply.body["lines"][0]["available"], stock,
            "the stock known to orders: {}",
            reply.text
        );
        assert!(
            shipping["shipping_flat_rate"].is_null()
                || !reply.body["vendors"][0]["shipping"].is_null(),
            "the vendor's shipping known to orders: {}",
            reply.text
        );
    }
    Seller {
        vendor,
        token,
        variants: ids,
    }
}

/// A shop selling tea (12.50 EUR, 4.90 EUR shipping, free from 50 EUR) and teapots
/// (39.00 EUR, 5.00 EUR shipping), 10 units of each, with 19 % tax for Germany and a
/// 10 % commission.
pub async fn market(app: &TestApp) -> Market {
    let admin = app.admin_token().await;
    let shop = app.shop(&admin, "growth").await;
    let tea = seller(
        app,
        &shop,
        "Nordic Tea",
        "Sencha",
        &[("SEN-50", 1250)],
        10,
        json!({ "shipping_flat_rate": eur(490), "free_shipping_over": eur(5000) }),
    )
    .await;
    let pots = seller(
        app,
        &shop,
        "Clay Works",
        "Kyusu",
        &[("KYU-1", 3900)],
        10,
        json!({ "shipping_flat_rate": eur(500) }),
    )
    .await;
    let rate = app
        .client
        .send(
            "PUT",
            &shop.host,
            "/api/v1/tax-rates",
            Some(&shop.owner),
            Some(&json!({ "country": "DE", "rate": "19" })),
        )
        .await
        .unwrap();
    assert_eq!(rate.status, 200, "{}", rate.text);
    let rule = app
        .client
        .post(
            &shop.host,
            "/api/v1/commission-rules",
            Some(&shop.owner),
            &json!({ "percent": "10" }),
        )
        .await
        .unwrap();
    assert_eq!(rule.status, 201, "{}", rule.text);
    // Orders learns the rule from vendors' events: wait for them and check that a merchant's
    // view of a cart shows it, so no test prices an order before it does.
    let probe = cart(app, &shop.host, &[(&tea.variants[0], 1)])
        .await
        .str("id");
    app.settle().await;
    let seen = app
        .client
        .get(
            &shop.host,
            &format!("/api/v1/carts/{probe}"),
            Some(&shop.owner),
        )
        .await
        .unwrap();
    assert_eq!(
        seen.body["lines"][0]["commission"]["amount"], 125,
        "orders know the commission rule: {}",
        seen.text
    );
    Market { shop, tea, pots }
}

/// A guest cart with these `(variant, quantity)` lines.
pub async fn cart(app: &TestApp, host: &str, lines: &[(&str, i64)]) -> Reply {
    let lines: Vec<Value> = lines
        .iter()
        .map(|(v, q)| json!({ "variant_id": v, "quantity": q }))
        .collect();
    let reply = app
        .client
        .post(host, "/api/v1/carts", None, &json!({ "lines": lines }))
        .await
        .unwrap();
    assert_eq!(reply.status, 201, "{}", reply.text);
    reply
}

pub fn address() -> Value {
    json!({
        "name": "Erika Mustermann", "line1": "Hauptstraße 1", "city": "Berlin",
        "postal_code": "10115", "country": "DE"
    })
}

pub fn checkout_body(cart: &str, card: &str) -> Value {
    json!({
        "cart_id": cart,
        "email": "erika@example.test",
        "shipping_address": address(),
        "payment": { "provider": "test", "card": card }
    })
}

/// POSTs JSON with extra headers (an `Idempotency-Key`, an `X-Order-Token`, a token).
pub async fn post_with(
    app: &TestApp,
    host: &str,
    path: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: &Value,
) -> Reply {
    let bearer = token.map(|t| format!("Bearer {t}"));
    let mut all: Vec<(&str, &str)> = vec![("content-type", "application/json")];
    if let Some(bearer) = &bearer {
        all.push(("authorization", bearer));
    }
    all.extend_from_slice(headers);
    app.client
        .send_raw("POST", host, path, &all, serde_json::to_vec(body).unwrap())
        .await
        .unwrap()
}

pub async fn checkout(app: &TestApp, host: &str, key: &str, body: &Value) -> Reply {
    post_with(
        app,
        host,
        "/api/v1/checkout",
        None,
        &[("idempotency-key", key)],
        body,
    )
    .await
}

/// The order as its guest sees it.
pub async fn guest_order(app: &TestApp, host: &str, id: &str, token: &str) -> Reply {
    app.client
        .send_raw(
            "GET",
            host,
            &format!("/api/v1/orders/{id}"),
            &[("x-order-token", token)],
            Vec::new(),
        )
        .await
        .unwrap()
}

/// The entries of the list at `list`, as `token` sees it, after checking that each equals
/// what `{item}/{id}` shows: a list renders its page in one go, a page one at a time.
pub async fn listed_as_shown(
    app: &TestApp,
    host: &str,
    list: &str,
    item: &str,
    token: &str,
) -> Vec<Value> {
    let all = app.client.get(host, list, Some(token)).await.unwrap();
    assert_eq!(all.status, 200, "{}", all.text);
    let entries = all.body["data"].as_array().unwrap().clone();
    for entry in &entries {
        let id = entry["id"].as_str().unwrap();
        let one = app
            .client
            .get(host, &format!("{item}/{id}"), Some(token))
            .await
            .unwrap();
        assert_eq!(one.status, 200, "{}", one.text);
        assert_eq!(&one.body, entry, "{id} listed as it is shown");
    }
    entries
}

/// Waits until the guest's order has `status`.
pub async fn order_becomes(
    app: &TestApp,
    host: &str,
    id: &str,
    token: &str,
    status: &str,
) -> Reply {
    eventually(
        &format!("the order {status}"),
        || guest_order(app, host, id, token),
        |reply| reply.body["status"] == status,
    )
    .await
}

/// The stock of a variant as the merchant sees it.
pub async fn stock(app: &TestApp, shop: &Shop, variant: &str) -> Value {
    let reply = app
        .client
        .get(
            &shop.host,
            &format!("/api/v1/stock/{variant}"),
            Some(&shop.owner),
        )
        .await
        .unwrap();
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.body
}

/// A webhook body in Stripe's shape about `shop`'s payment (`None`: naming no shop), signed
/// with the test provider's secret.
pub fn signed_event(
    shop: Option<&mercato_tenant_context::TenantId>,
    id: &str,
    kind: &str,
    intent: &str,
    amount: i64,
    order: &str,
) -> (String, Vec<u8>) {
    let status = match kind {
        "payment_intent.succeeded" => "succeeded",
        "payment_intent.payment_failed" => "requires_payment_method",
        _ => "processing",
    };
    let mut metadata = json!({ "order_ref": order });
    if let Some(shop) = shop {
        metadata["tenant_id"] = json!(shop.to_string());
    }
    let body = json!({
        "id": id, "object": "event", "type": kind, "created": chrono::Utc::now().timestamp(),
        "data": { "object": {
            "id": intent, "object": "payment_intent", "amount": amount, "currency": "eur",
            "status": status, "metadata": metadata,
            "last_payment_error": if kind == "payment_intent.payment_failed" {
                json!({ "code": "card_declined", "message": "Your card was declined." })
            } else { Value::Null }
        } }
    });
    let body = serde_json::to_vec(&body).unwrap();
    let header = mercato_payments::signature::sign(
        TEST_WEBHOOK_SECRET,
        chrono::Utc::now().timestamp(),
        &body,
    );
    (header, body)
}

pub async fn webhook(app: &TestApp, host: &str, header: &str, body: Vec<u8>) -> Reply {
    app.client
        .send_raw(
            "POST",
            host,
            "/api/v1/payments/webhooks/test",
            &[
                ("content-type", "application/json"),
                ("stripe-signature", header),
            ],
            body,
        )
        .await
        .unwrap()
}

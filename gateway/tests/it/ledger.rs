//! The shop's books through the gateway: a two-vendor order with a vendor-funded coupon is
//! paid and booked, each vendor's payable is its earnings, a refund reverses its part, and
//! only the shop's merchant staff read any of it.

use crate::catalog::eur;
use crate::on_embedded_and_real;
use crate::orders::{Market, PAYS, cart, checkout, checkout_body, market, post_with};
use crate::support::{Backend, TestApp};
use mercato_testkit::Reply;
use serde_json::{Value, json};
use std::collections::BTreeMap;

on_embedded_and_real!(a_paid_order_is_booked_and_a_refund_reverses_it);

/// The market's shopper buys two teas and a teapot with the coupon TEA10 (10 % off the tea,
/// borne by the tea vendor), paid at checkout under `key`; the order as placed.
pub async fn order_with_vendor_coupon(app: &TestApp, m: &Market, key: &str) -> Reply {
    let host = m.host();
    let (tea, pot) = (m.tea.variants[0].as_str(), m.pots.variants[0].as_str());
    let coupon = app
        .client
        .post(
            host,
            "/api/v1/coupons",
            Some(&m.shop.owner),
            &json!({ "code": "TEA10", "percent": "10", "vendor_id": m.tea.vendor, "funded_by": "vendor" }),
        )
        .await
        .unwrap();
    assert_eq!(coupon.status, 201, "{}", coupon.text);
    let c = cart(app, host, &[(tea, 2), (pot, 1)]).await.str("id");
    let priced = app
        .client
        .patch(
            host,
            &format!("/api/v1/carts/{c}"),
            None,
            &json!({ "coupon_code": "TEA10", "country": "DE" }),
        )
        .await
        .unwrap();
    assert_eq!(priced.body["coupon"]["applied"], true, "{}", priced.text);
    let placed = checkout(app, host, key, &checkout_body(&c, PAYS)).await;
    assert_eq!(placed.status, 201, "{}", placed.text);
    placed
}

/// The trial balance's non-zero accounts (code → (debit, credit)) and its totals.
pub async fn trial_balance(
    app: &TestApp,
    host: &str,
    token: &str,
) -> (BTreeMap<String, (i64, i64)>, (i64, i64)) {
    let reply = app
        .client
        .get(
            host,
            "/api/v1/ledger/trial-balance?currency=EUR",
            Some(token),
        )
        .await
        .unwrap();
    assert_eq!(reply.status, 200, "{}", reply.text);
    let amount = |v: &Value| v["amount"].as_i64().unwrap();
    let accounts = reply.body["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["code"].as_str().unwrap().to_owned(),
                (amount(&a["debit"]), amount(&a["credit"])),
            )
        })
        .filter(|(_, (d, c))| *d != 0 || *c != 0)
        .collect();
    (
        accounts,
        (
            amount(&reply.body["total_debit"]),
            amount(&reply.body["total_credit"]),
        ),
    )
}

async fn a_paid_order_is_booked_and_a_refund_reverses_it(backend: Backend, test: &str) {
    let Some(app) = crate::catalog::spawn(backend, test).await else {
        return;
    };
    let m = market(&app).await;
    let host = m.host();
    let owner = m.shop.owner.clone();
    let placed = order_with_vendor_coupon(&app, &m, "ledger-1").await;
    assert_eq!(placed.str("status"), "paid", "{}", placed.text);
    let order = placed.str("id");
    app.settle().await;

    // By hand, prices before tax, 19 % on goods and shipping, 10 % commission:
    // tea: 2 × 12.50 − 2.50 (the vendor's coupon) = 22.50, shipping 4.90, tax 4.28 + 0.93,
    //      total 32.61; commission 10 % of 22.50 = 2.25; the vendor is owed
    //      32.61 − 5.21 − 2.25 = 25.15.
    // pot: 39.00, shipping 5.00, tax 7.41 + 0.95, total 52.36; commission 3.90; the vendor
    //      is owed 52.36 − 8.36 − 3.90 = 40.10.
    let (accounts, totals) = trial_balance(&app, host, &owner).await;
    let expected: BTreeMap<String, (i64, i64)> = [
        ("1100", (3_261 + 5_236, 0)),
        ("2100", (0, 2_515 + 4_010)),
        ("2200", (0, 521 + 836)),
        ("4100", (0, 225 + 390)),
    ]
    .into_iter()
    .map(|(c, v)| (c.to_owned(), v))
    .collect();
    assert_eq!(accounts, expected);
    assert_eq!(totals, (8_497, 8_497));
    assert_eq!(placed.body["total"]["amount"], 8_497, "{}", placed.text);
    // Each vendor's payable is its vendor order's earnings, as orders shows them.
    let entries = app
        .client
        .get(
            host,
            &format!("/api/v1/ledger/entries?order_id={order}"),
            Some(&owner),
        )
        .await
        .unwrap();
    assert_eq!(entries.status, 200, "{}", entries.text);
    let entries = entries.body["data"].as_array().unwrap().clone();
    assert_eq!(entries.len(), 2);
    let seen = app
        .client
        .get(host, &format!("/api/v1/orders/{order}"), Some(&owner))
        .await
        .unwrap();
    assert_eq!(seen.status, 200, "{}", seen.text);
    for part in seen.body["vendor_orders"].as_array().unwrap() {
        let entry = entries
            .iter()
            .find(|e| e["vendor_order_id"] == part["id"])
            .expect("an entry per vendor order");
        let owed = entry["lines"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["account"] == "2100")
            .unwrap();
        assert_eq!(owed["vendor_id"], part["vendor_id"]);
        assert_eq!(owed["credit"], part["earnings"], "{entry}");
    }

    // The whole pot vendor order is refunded: its sale leaves the books.
    let pot_vo = placed.body["vendor_orders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["vendor_id"] == m.pots.vendor.as_str())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let refund = post_with(
        &app,
        host,
        &format!("/api/v1/orders/{order}/refunds"),
        Some(&owner),
        &[("idempotency-key", "ledger-r1")],
        &json!({ "amount": eur(5_236), "vendor_order_id": pot_vo, "reason": "broken" }),
    )
    .await;
    assert_eq!(refund.status, 201, "{}", refund.text);
    app.settle().await;
    let (accounts, totals) = trial_balance(&app, host, &owner).await;
    let expected: BTreeMap<String, (i64, i64)> = [
        ("1100", (3_261, 0)),
        ("2100", (0, 2_515)),
        ("2200", (0, 521)),
        ("4100", (0, 225)),
    ]
    .into_iter()
    .map(|(c, v)| (c.to_owned(), v))
    .collect();
    assert_eq!(accounts, expected);
    assert_eq!(totals, (3_261, 3_261));

    // Only the shop's merchant staff read its books; another shop's are its own.
    for token in [&m.tea.token, &m.pots.token] {
        let denied = app
            .client
            .get(
                host,
                "/api/v1/ledger/trial-balance?currency=EUR",
                Some(token),
            )
            .await
            .unwrap();
        assert_eq!(denied.status, 403, "{}", denied.text);
    }
    let anonymous = app
        .client
        .get(host, "/api/v1/ledger/entries", None)
        .await
        .unwrap();
    assert_eq!(anonymous.status, 401, "{}", anonymous.text);
    let admin = app.admin_token().await;
    let other = app.shop(&admin, "growth").await;
    let (theirs, totals) = trial_balance(&app, &other.host, &other.owner).await;
    assert!(theirs.is_empty(), "{theirs:?}");
    assert_eq!(totals, (0, 0));
    let their_entries = app
        .client
        .get(
            &other.host,
            &format!("/api/v1/ledger/entries?order_id={order}"),
            Some(&other.owner),
        )
        .await
        .unwrap();
    assert_eq!(
        their_entries.body["data"],
        json!([]),
        "{}",
        their_entries.text
    );
}

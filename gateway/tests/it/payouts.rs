//! Vendors paid through the gateway: a two-vendor order with a vendor-funded coupon is paid,
//! shipped and delivered; each vendor's balance is its lines minus commission minus its
//! share of the discount; a payout run pays each once (a Stripe Connect vendor through the
//! test provider at once, a bank-transfer vendor when the merchant marks it); the ledger
//! books the payouts; a refund after payout makes the balance negative and the next payout
//! recovers it; a vendor sees only its own money, another shop none of it.

use crate::on_all_backends;
use crate::orders::{PAYS, cart, checkout, checkout_body, market, post_with};
use crate::support::{Backend, TestApp};
use mercato_testkit::Reply;
use serde_json::{Value, json};

on_all_backends!(vendors_are_paid_once_and_a_refund_after_payout_is_recovered);

/// `(pending, available, in_transit, paid_out)` of a vendor's EUR balance.
async fn balance(app: &TestApp, host: &str, token: &str, vendor: &str) -> (i64, i64, i64, i64) {
    let reply = app
        .client
        .get(
            host,
            &format!("/api/v1/vendors/{vendor}/balance"),
            Some(token),
        )
        .await
        .unwrap();
    assert_eq!(reply.status, 200, "{}", reply.text);
    let amount = |k: &str| {
        assert_eq!(reply.body[k]["currency"], "EUR", "{}", reply.text);
        reply.body[k]["amount"].as_i64().unwrap()
    };
    (
        amount("pending"),
        amount("available"),
        amount("in_transit"),
        amount("paid_out"),
    )
}

/// Starts a run under `key` and waits until it is done; the run.
async fn run(app: &TestApp, host: &str, token: &str, key: &str) -> Value {
    let started = post_with(
        app,
        host,
        "/api/v1/payouts/runs",
        Some(token),
        &[("idempotency-key", key)],
        &json!({}),
    )
    .await;
    assert!(
        started.status == 202 || started.status == 200,
        "{}",
        started.text
    );
    let id = started.str("id");
    for _ in 0..300 {
        let seen = app
            .client
            .get(host, &format!("/api/v1/payouts/runs/{id}"), Some(token))
            .await
            .unwrap();
        assert_eq!(seen.status, 200, "{}", seen.text);
        if seen.body["status"] == "done" {
            app.settle().await;
            return seen.body;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("payout run {id} did not finish");
}

async fn payouts(app: &TestApp, host: &str, token: &str, query: &str) -> Reply {
    app.client
        .get(host, &format!("/api/v1/payouts{query}"), Some(token))
        .await
        .unwrap()
}

fn vendor_order_of(placed: &Reply, vendor: &str) -> Value {
    placed.body["vendor_orders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["vendor_id"] == vendor)
        .cloned()
        .unwrap()
}

async fn ship_and_deliver(app: &TestApp, host: &str, token: &str, vo: &str) {
    for (step, body) in [
        (
            "ship",
            json!({ "carrier": "DHL", "tracking_number": "JJD000390007" }),
        ),
        ("deliver", json!({})),
    ] {
        let reply = app
            .client
            .post(
                host,
                &format!("/api/v1/vendor-orders/{vo}/{step}"),
                Some(token),
                &body,
            )
            .await
            .unwrap();
        assert_eq!(reply.status, 200, "{step}: {}", reply.text);
    }
}

async fn vendors_are_paid_once_and_a_refund_after_payout_is_recovered(
    backend: Backend,
    test: &str,
) {
    let Some(app) = crate::catalog::spawn(backend, test).await else {
        return;
    };
    let m = market(&app).await;
    let host = m.host();
    let owner = m.shop.owner.clone();
    let (tea, pot) = (m.tea.variants[0].as_str(), m.pots.variants[0].as_str());
    let (tea_v, pot_v) = (m.tea.vendor.as_str(), m.pots.vendor.as_str());

    // The shop pays out as soon as an order is delivered; a hold past a year is refused.
    let hold = |days: i64| json!({ "hold_days": days });
    let bad = app
        .client
        .send(
            "PUT",
            host,
            "/api/v1/payouts/settings",
            Some(&owner),
            Some(&hold(400)),
        )
        .await
        .unwrap();
    assert_eq!(bad.status, 422, "{}", bad.text);
    let denied = app
        .client
        .send(
            "PUT",
            host,
            "/api/v1/payouts/settings",
            Some(&m.tea.token),
            Some(&hold(0)),
        )
        .await
        .unwrap();
    assert_eq!(denied.status, 403, "{}", denied.text);
    let set = app
        .client
        .send(
            "PUT",
            host,
            "/api/v1/payouts/settings",
            Some(&owner),
            Some(&hold(0)),
        )
        .await
        .unwrap();
    assert_eq!(set.status, 200, "{}", set.text);

    // The tea vendor is paid through Stripe Connect (the test provider here), the pot vendor
    // by bank transfer.
    let accounts = [
        (
            tea_v,
            &m.tea.token,
            json!({ "method": "stripe_connect", "stripe_account_id": "acct_1TeaVendor",
                    "schedule": "weekly", "minimum_payout": { "amount": 0, "currency": "EUR" },
                    "currency": "EUR" }),
        ),
        (
            pot_v,
            &m.pots.token,
            json!({ "method": "bank_transfer", "account_holder": "Pots GmbH",
                    "iban": "DE89 3704 0044 0532 0130 00", "schedule": "manual",
                    "minimum_payout": { "amount": 1000, "currency": "EUR" }, "currency": "EUR" }),
        ),
    ];
    for (vendor, token, body) in &accounts {
        let saved = app
            .client
            .send(
                "PUT",
                host,
                &format!("/api/v1/vendors/{vendor}/payout-account"),
                Some(token),
                Some(body),
            )
            .await
            .unwrap();
        assert_eq!(saved.status, 200, "{}", saved.text);
    }

    // 10 % off the tea, borne by the tea vendor.
    let coupon = app
        .client
        .post(
            host,
            "/api/v1/coupons",
            Some(&owner),
            &json!({ "code": "TEA10", "percent": "10", "vendor_id": tea_v, "funded_by": "vendor" }),
        )
        .await
        .unwrap();
    assert_eq!(coupon.status, 201, "{}", coupon.text);
    let c = cart(&app, host, &[(tea, 2), (pot, 1)]).await.str("id");
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
    let placed = checkout(&app, host, "payouts-1", &checkout_body(&c, PAYS)).await;
    assert_eq!(placed.status, 201, "{}", placed.text);
    let order = placed.str("id");
    app.settle().await;
    // Merchant staff see each vendor order's earnings.
    let seen = app
        .client
        .get(host, &format!("/api/v1/orders/{order}"), Some(&owner))
        .await
        .unwrap();
    assert_eq!(seen.status, 200, "{}", seen.text);

    // By hand (prices before tax, 19 % on goods and shipping, 10 % commission):
    // tea: 2 × 12.50 − 2.50 (its own coupon) + 4.90 shipping + 5.21 tax = 32.61, commission
    //      2.25, earnings 32.61 − 5.21 − 2.25 = 25.15;
    // pot: 39.00 + 5.00 shipping + 8.36 tax = 52.36, commission 3.90, earnings 40.10.
    let (tea_earned, pot_earned) = (2_515, 4_010);
    let tea_vo = vendor_order_of(&seen, tea_v);
    let pot_vo = vendor_order_of(&seen, pot_v);
    assert_eq!(tea_vo["earnings"]["amount"], tea_earned, "{}", placed.text);
    assert_eq!(pot_vo["earnings"]["amount"], pot_earned, "{}", placed.text);
    let (tea_vo, pot_vo) = (
        tea_vo["id"].as_str().unwrap().to_owned(),
        pot_vo["id"].as_str().unwrap().to_owned(),
    );
    // Paid, not delivered: pending.
    assert_eq!(
        balance(&app, host, &m.tea.token, tea_v).await,
        (tea_earned, 0, 0, 0)
    );
    assert_eq!(
        balance(&app, host, &owner, pot_v).await,
        (pot_earned, 0, 0, 0)
    );
    // A run now pays nobody: nothing is available.
    let early = run(&app, host, &owner, "run-early").await;
    assert_eq!(early["vendors_due"], 2, "{early}");
    let none = payouts(&app, host, &owner, "").await;
    assert_eq!(none.body["data"], json!([]), "{}", none.text);

    ship_and_deliver(&app, host, &m.tea.token, &tea_vo).await;
    ship_and_deliver(&app, host, &m.pots.token, &pot_vo).await;
    app.settle().await;
    assert_eq!(
        balance(&app, host, &m.tea.token, tea_v).await,
        (0, tea_earned, 0, 0)
    );
    assert_eq!(
        balance(&app, host, &m.pots.token, pot_v).await,
        (0, pot_earned, 0, 0)
    );

    // The run pays each vendor once: the tea vendor at once, the pot vendor's bank
    // transfer is on its way until the merchant marks it.
    let first = run(&app, host, &owner, "run-1").await;
    let again = run(&app, host, &owner, "run-1").await;
    assert_eq!(again["id"], first["id"], "the same key is the same run");
    let second = run(&app, host, &owner, "run-2").await;
    assert_ne!(second["id"], first["id"]);
    let all = payouts(&app, host, &owner, "").await;
    assert_eq!(all.status, 200, "{}", all.text);
    let all = all.body["data"].as_array().unwrap().clone();
    assert_eq!(
        all.len(),
        2,
        "one payout per vendor over three runs: {all:?}"
    );
    let of = |vendor: &str| {
        all.iter()
            .find(|p| p["vendor_id"] == vendor)
            .cloned()
            .unwrap()
    };
    let (tea_payout, pot_payout) = (of(tea_v), of(pot_v));
    assert_eq!(tea_payout["status"], "paid", "{tea_payout}");
    assert_eq!(tea_payout["amount"]["amount"], tea_earned);
    assert_eq!(tea_payout["method"], "stripe_connect");
    assert!(
        tea_payout["reference"]
            .as_str()
            .is_some_and(|r| r.starts_with("tr_")),
        "{tea_payout}"
    );
    assert_eq!(pot_payout["status"], "in_transit", "{pot_payout}");
    assert_eq!(pot_payout["amount"]["amount"], pot_earned);
    assert_eq!(
        balance(&app, host, &owner, tea_v).await,
        (0, 0, 0, tea_earned)
    );
    assert_eq!(
        balance(&app, host, &owner, pot_v).await,
        (0, 0, pot_earned, 0)
    );
    let pot_id = pot_payout["id"].as_str().unwrap();
    let tea_id = tea_payout["id"].as_str().unwrap();
    // Only bank transfers are marked by hand, only with a known status, only by the merchant.
    for (id, token, body, status) in [
        (tea_id, &owner, json!({ "status": "paid" }), 409),
        (pot_id, &owner, json!({ "status": "arrived" }), 422),
        (pot_id, &owner, json!({ "status": "failed" }), 422),
        (pot_id, &m.pots.token, json!({ "status": "paid" }), 404),
    ] {
        let reply = app
            .client
            .post(
                host,
                &format!("/api/v1/payouts/{id}/mark"),
                Some(token),
                &body,
            )
            .await
            .unwrap();
        assert_eq!(reply.status, status, "{body}: {}", reply.text);
    }
    let marked = app
        .client
        .post(
            host,
            &format!("/api/v1/payouts/{pot_id}/mark"),
            Some(&owner),
            &json!({ "status": "paid", "reference": "SEPA-2026-12-0001" }),
        )
        .await
        .unwrap();
    assert_eq!(marked.status, 200, "{}", marked.text);
    assert_eq!(marked.body["status"], "paid");
    app.settle().await;
    assert_eq!(
        balance(&app, host, &owner, pot_v).await,
        (0, 0, 0, pot_earned)
    );

    // The ledger booked both payouts: nothing is owed to the vendors any more; the tea
    // vendor's money left the provider balance, the pot vendor's the bank.
    let (accounts, totals) = crate::ledger::trial_balance(&app, host, &owner).await;
    assert_eq!(accounts.get("2100"), None, "{accounts:?}");
    assert_eq!(accounts.get("1100"), Some(&(3_261 + 5_236 - tea_earned, 0)));
    assert_eq!(accounts.get("1200"), Some(&(0, pot_earned)));
    assert_eq!(totals.0, totals.1);

    // A refund after the payout: 10.00 of the tea vendor order. The vendor gives back
    // 10.00 less its parts of tax (5.21 × 1000 / 3261 → 1.60) and commission (2.25 × 1000 /
    // 3261 → 0.69): 7.71, which it no longer has.
    let refund = post_with(
        &app,
        host,
        &format!("/api/v1/orders/{order}/refunds"),
        Some(&owner),
        &[("idempotency-key", "payouts-r1")],
        &json!({ "amount": { "amount": 1_000, "currency": "EUR" }, "vendor_order_id": tea_vo, "reason": "one tin dented" }),
    )
    .await;
    assert_eq!(refund.status, 201, "{}", refund.text);
    app.settle().await;
    let clawback = 771;
    assert_eq!(
        balance(&app, host, &m.tea.token, tea_v).await,
        (0, -clawback, 0, tea_earned)
    );
    let (accounts, _) = crate::ledger::trial_balance(&app, host, &owner).await;
    assert_eq!(accounts.get("2100"), Some(&(clawback, 0)), "{accounts:?}");
    // Nothing to pay while the balance is negative.
    run(&app, host, &owner, "run-3").await;
    let tea_only = payouts(&app, host, &m.tea.token, "").await;
    assert_eq!(tea_only.status, 200, "{}", tea_only.text);
    assert_eq!(
        tea_only.body["data"].as_array().unwrap().len(),
        1,
        "{}",
        tea_only.text
    );

    // The next order's earnings pay the clawback back first.
    let c = cart(&app, host, &[(tea, 2)]).await.str("id");
    let next = checkout(&app, host, "payouts-2", &checkout_body(&c, PAYS)).await;
    assert_eq!(next.status, 201, "{}", next.text);
    let next = app
        .client
        .get(
            host,
            &format!("/api/v1/orders/{}", next.str("id")),
            Some(&owner),
        )
        .await
        .unwrap();
    let next_vo = vendor_order_of(&next, tea_v);
    let next_earned = next_vo["earnings"]["amount"].as_i64().unwrap();
    app.settle().await;
    ship_and_deliver(&app, host, &m.tea.token, next_vo["id"].as_str().unwrap()).await;
    app.settle().await;
    run(&app, host, &owner, "run-4").await;
    let tea_only = payouts(&app, host, &m.tea.token, &format!("?vendor_id={tea_v}")).await;
    let data = tea_only.body["data"].as_array().unwrap();
    assert_eq!(data.len(), 2, "{}", tea_only.text);
    assert_eq!(
        data[0]["amount"]["amount"],
        next_earned - clawback,
        "newest first"
    );
    assert_eq!(data[0]["status"], "paid");
    assert_eq!(
        balance(&app, host, &m.tea.token, tea_v).await,
        (0, 0, 0, tea_earned + next_earned - clawback)
    );
    let (accounts, totals) = crate::ledger::trial_balance(&app, host, &owner).await;
    assert_eq!(accounts.get("2100"), None, "{accounts:?}");
    assert_eq!(totals.0, totals.1);

    // A vendor sees only its own money; another shop sees none of it.
    for (token, vendor) in [(&m.tea.token, pot_v), (&m.pots.token, tea_v)] {
        let theirs = app
            .client
            .get(
                host,
                &format!("/api/v1/vendors/{vendor}/balance"),
                Some(token),
            )
            .await
            .unwrap();
        assert_eq!(theirs.status, 404, "{}", theirs.text);
        let list = payouts(&app, host, token, &format!("?vendor_id={vendor}")).await;
        assert_eq!(list.status, 404, "{}", list.text);
    }
    let tea_paid = app
        .client
        .get(
            host,
            &format!("/api/v1/payouts/{tea_id}"),
            Some(&m.pots.token),
        )
        .await
        .unwrap();
    assert_eq!(tea_paid.status, 404, "{}", tea_paid.text);
    let own_list = payouts(&app, host, &m.pots.token, "").await;
    assert_eq!(own_list.status, 200, "{}", own_list.text);
    assert!(
        own_list.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["vendor_id"] == pot_v),
        "{}",
        own_list.text
    );
    let vendor_run = post_with(
        &app,
        host,
        "/api/v1/payouts/runs",
        Some(&m.tea.token),
        &[("idempotency-key", "vendor-run")],
        &json!({}),
    )
    .await;
    assert_eq!(vendor_run.status, 403, "{}", vendor_run.text);
    let no_key = app
        .client
        .post(host, "/api/v1/payouts/runs", Some(&owner), &json!({}))
        .await
        .unwrap();
    assert_eq!(no_key.status, 400, "{}", no_key.text);
    let anonymous = app.client.get(host, "/api/v1/payouts", None).await.unwrap();
    assert!(
        anonymous.status == 401 || anonymous.status == 403,
        "{}",
        anonymous.text
    );

    let admin = app.admin_token().await;
    let other = app.shop(&admin, "growth").await;
    for path in [
        format!("/api/v1/vendors/{tea_v}/balance?currency=EUR"),
        format!("/api/v1/payouts/{tea_id}"),
        format!("/api/v1/payouts/runs/{}", first["id"].as_str().unwrap()),
    ] {
        let foreign = app
            .client
            .get(&other.host, &path, Some(&other.owner))
            .await
            .unwrap();
        assert_eq!(foreign.status, 404, "{path}: {}", foreign.text);
    }
    let foreign_mark = app
        .client
        .post(
            &other.host,
            &format!("/api/v1/payouts/{pot_id}/mark"),
            Some(&other.owner),
            &json!({ "status": "failed", "reason": "x" }),
        )
        .await
        .unwrap();
    assert_eq!(foreign_mark.status, 404, "{}", foreign_mark.text);
    let theirs = payouts(&app, &other.host, &other.owner, "").await;
    assert_eq!(theirs.body["data"], json!([]), "{}", theirs.text);
}

//! A Stripe Connect transfer reversed after it was made (ADR 0044): Stripe's signed
//! `transfer.reversed` webhook fails the payout it paid with "reversed by Stripe", the money
//! is available to the vendor again (and the next run pays it), and the ledger books the
//! mirror of the payout's entry. A bad signature, another shop's endpoint, another shop's
//! transfer and a replay change nothing.

use crate::on_all_backends;
use crate::orders::{PAYS, cart, checkout, checkout_body, market};
use crate::payouts::{
    FakeStripe, STRIPE_KEY, balance, payouts, run, set_hold, ship_and_deliver, vendor_order_of,
};
use crate::support::{Backend, TestApp};
use mercato_testkit::Reply;
use serde_json::{Value, json};

on_all_backends!(a_transfer_stripe_reversed_fails_its_payout_and_gives_the_money_back);

const WEBHOOK_SECRET: &str = "whsec_mercato_connect_0123456789";

/// A Stripe event of `kind` about transfer `transfer` (`shop` in its metadata).
fn transfer_event(id: &str, kind: &str, transfer: &str, shop: &str, reversed: bool) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "id": id, "object": "event", "type": kind, "api_version": "2024-06-20",
        "created": chrono::Utc::now().timestamp(), "livemode": false,
        "data": { "object": {
            "id": transfer, "object": "transfer", "amount": 1000, "currency": "eur",
            "amount_reversed": if reversed { 1000 } else { 0 }, "reversed": reversed,
            "destination": "acct_1TeaVendor", "metadata": { "tenant_id": shop },
        } }
    }))
    .unwrap()
}

/// Signs `body` as Stripe does, with `secret`, now.
fn signed(secret: &str, body: &[u8]) -> String {
    mercato_payments::signature::sign(secret, chrono::Utc::now().timestamp(), body)
}

async fn deliver(app: &TestApp, host: &str, headers: &[(&str, &str)], body: Vec<u8>) -> Reply {
    let mut all = vec![("content-type", "application/json")];
    all.extend_from_slice(headers);
    app.client
        .send_raw("POST", host, "/api/v1/payouts/webhooks/stripe", &all, body)
        .await
        .unwrap()
}

async fn payout(app: &TestApp, host: &str, token: &str, id: &str) -> Value {
    let reply = app
        .client
        .get(host, &format!("/api/v1/payouts/{id}"), Some(token))
        .await
        .unwrap();
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.body
}

async fn a_transfer_stripe_reversed_fails_its_payout_and_gives_the_money_back(
    backend: Backend,
    test: &str,
) {
    let stripe = FakeStripe::default();
    let url = stripe.start().await;
    let Some(app) = TestApp::spawn_with(backend, test, |config| {
        config.gateway.enforce_rate_limits = false;
        config.orders.stripe.secret_key = mercato_kernel::Secret::new(STRIPE_KEY);
        config.orders.stripe.api_base = url.clone();
        config.orders.stripe.webhook_secrets = vec![mercato_kernel::Secret::new(WEBHOOK_SECRET)];
    })
    .await
    else {
        return;
    };
    let m = market(&app).await;
    let host = m.host();
    let owner = m.shop.owner.clone();
    let (tea_v, pot_v) = (m.tea.vendor.as_str(), m.pots.vendor.as_str());
    let set = set_hold(&app, host, &owner, 0).await;
    assert_eq!(set.status, 200, "{}", set.text);
    // The pot vendor's account is closed: its payout fails on the way, never booked.
    for (vendor, token, account) in [
        (tea_v, &m.tea.token, "acct_1TeaVendor"),
        (pot_v, &m.pots.token, "acct_1Closed"),
    ] {
        let saved = app
            .client
            .send(
                "PUT",
                host,
                &format!("/api/v1/vendors/{vendor}/payout-account"),
                Some(token),
                Some(
                    &json!({ "method": "stripe_connect", "stripe_account_id": account,
                    "schedule": "manual", "minimum_payout": { "amount": 0, "currency": "EUR" },
                    "currency": "EUR" }),
                ),
            )
            .await
            .unwrap();
        assert_eq!(saved.status, 200, "{}", saved.text);
    }
    let c = cart(
        &app,
        host,
        &[
            (m.tea.variants[0].as_str(), 1),
            (m.pots.variants[0].as_str(), 1),
        ],
    )
    .await
    .str("id");
    let placed = checkout(&app, host, "reversal-1", &checkout_body(&c, PAYS)).await;
    assert_eq!(placed.status, 201, "{}", placed.text);
    app.settle().await;
    let seen = app
        .client
        .get(
            host,
            &format!("/api/v1/orders/{}", placed.str("id")),
            Some(&owner),
        )
        .await
        .unwrap();
    let earned = |vendor: &str| {
        vendor_order_of(&seen, vendor)["earnings"]["amount"]
            .as_i64()
            .unwrap()
    };
    let (tea_earned, pot_earned) = (earned(tea_v), earned(pot_v));
    for (vendor, token) in [(tea_v, &m.tea.token), (pot_v, &m.pots.token)] {
        let vo = vendor_order_of(&seen, vendor)["id"]
            .as_str()
            .unwrap()
            .to_owned();
        ship_and_deliver(&app, host, token, &vo).await;
    }
    app.settle().await;
    let first = run(&app, host, &owner, "reversal-run-1").await;
    let listed = payouts(
        &app,
        host,
        &owner,
        &format!(
            "?run_id={}&vendor_id={tea_v}",
            first["id"].as_str().unwrap()
        ),
    )
    .await;
    let tea = listed.body["data"][0].clone();
    assert_eq!(tea["status"], "paid", "{}", listed.text);
    let transfer = tea["reference"].as_str().unwrap().to_owned();
    let tea_payout = tea["id"].as_str().unwrap().to_owned();
    assert_eq!(
        balance(&app, host, &owner, tea_v).await,
        (0, 0, 0, tea_earned)
    );
    let (before, _) = crate::ledger::trial_balance(&app, host, &owner).await;
    assert_eq!(
        before.get("2100").copied(),
        Some((0, pot_earned)),
        "{before:?}"
    );

    let shop = m.shop.id.to_string();
    let body = transfer_event("evt_rev_1", "transfer.reversed", &transfer, &shop, true);
    // A bad signature, or none: 400, nothing changes.
    for headers in [
        vec![("stripe-signature", signed("whsec_someone_else", &body))],
        vec![("stripe-signature", "t=1,v1=00".to_owned())],
        vec![],
    ] {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let refused = deliver(&app, host, &headers, body.clone()).await;
        assert_eq!(refused.status, 400, "{}", refused.text);
        assert_eq!(
            refused.body["code"], "invalid_signature",
            "{}",
            refused.text
        );
    }
    // Another shop's endpoint does not know the transfer; a transfer of another shop (its
    // metadata, or an id this shop never made) is not this shop's.
    let admin = app.admin_token().await;
    let other = app.shop(&admin, "growth").await;
    let header = signed(WEBHOOK_SECRET, &body);
    let elsewhere = deliver(
        &app,
        &other.host,
        &[("stripe-signature", &header)],
        body.clone(),
    )
    .await;
    assert_eq!(elsewhere.status, 204, "{}", elsewhere.text);
    for foreign in [
        transfer_event(
            "evt_rev_2",
            "transfer.reversed",
            &transfer,
            &other.id.to_string(),
            true,
        ),
        transfer_event("evt_rev_3", "transfer.reversed", "tr_1NotOurs", &shop, true),
    ] {
        let header = signed(WEBHOOK_SECRET, &foreign);
        let ignored = deliver(&app, host, &[("stripe-signature", &header)], foreign).await;
        assert_eq!(ignored.status, 204, "{}", ignored.text);
    }
    // A partial reversal leaves the payout paid (ADR 0044).
    let partial = transfer_event("evt_rev_4", "transfer.reversed", &transfer, &shop, false);
    let header = signed(WEBHOOK_SECRET, &partial);
    let ignored = deliver(&app, host, &[("stripe-signature", &header)], partial).await;
    assert_eq!(ignored.status, 204, "{}", ignored.text);
    app.settle().await;
    assert_eq!(
        payout(&app, host, &owner, &tea_payout).await["status"],
        "paid"
    );
    assert_eq!(
        balance(&app, host, &owner, tea_v).await,
        (0, 0, 0, tea_earned)
    );

    // Stripe's own: the payout failed, the money available again, the booking reversed.
    let reversed = deliver(
        &app,
        host,
        &[("stripe-signature", &header_for(&body))],
        body.clone(),
    )
    .await;
    assert_eq!(reversed.status, 204, "{}", reversed.text);
    app.settle().await;
    let failed = payout(&app, host, &owner, &tea_payout).await;
    assert_eq!(failed["status"], "failed", "{failed}");
    assert_eq!(failed["failure"], "reversed by Stripe", "{failed}");
    assert_eq!(failed["reference"], transfer.as_str(), "{failed}");
    assert_eq!(
        balance(&app, host, &owner, tea_v).await,
        (0, tea_earned, 0, 0)
    );
    let (after, totals) = crate::ledger::trial_balance(&app, host, &owner).await;
    assert_eq!(
        after.get("2100").copied(),
        Some((0, pot_earned + tea_earned)),
        "the vendor is owed its money again: {after:?}"
    );
    assert_eq!(totals.0, totals.1);

    // A replay, and the same reversal as `transfer.updated`: nothing more.
    let updated = transfer_event("evt_rev_5", "transfer.updated", &transfer, &shop, true);
    for again in [body.clone(), updated] {
        let replayed = deliver(
            &app,
            host,
            &[("stripe-signature", &header_for(&again))],
            again,
        )
        .await;
        assert_eq!(replayed.status, 204, "{}", replayed.text);
    }
    app.settle().await;
    assert_eq!(
        payout(&app, host, &owner, &tea_payout).await["status"],
        "failed"
    );
    assert_eq!(
        balance(&app, host, &owner, tea_v).await,
        (0, tea_earned, 0, 0)
    );
    assert_eq!(
        crate::ledger::trial_balance(&app, host, &owner).await.0,
        after
    );

    // The next run pays the vendor again, with a new transfer.
    let second = run(&app, host, &owner, "reversal-run-2").await;
    let listed = payouts(
        &app,
        host,
        &owner,
        &format!(
            "?run_id={}&vendor_id={tea_v}",
            second["id"].as_str().unwrap()
        ),
    )
    .await;
    let again = &listed.body["data"][0];
    assert_eq!(again["status"], "paid", "{}", listed.text);
    assert_eq!(again["amount"]["amount"], tea_earned, "{}", listed.text);
    assert_ne!(again["reference"], transfer.as_str());
    assert_eq!(
        balance(&app, host, &owner, tea_v).await,
        (0, 0, 0, tea_earned)
    );
    assert_eq!(stripe.made.lock().unwrap().len(), 2);
}

/// `body` signed with the platform's Stripe webhook secret, now.
fn header_for(body: &[u8]) -> String {
    signed(WEBHOOK_SECRET, body)
}

//! A Stripe Connect transfer reversed after it was made (ADR 0044), the second half of
//! `payouts::a_stripe_connect_vendor_is_paid_by_a_transfer_stripe_made`: Stripe's signed
//! `transfer.reversed` webhook fails the payout it paid with "reversed by Stripe", the money
//! is available to the vendor again (and the next run pays it, invoicing no commission a
//! second time), and the ledger books the mirror of the payout's entry. A bad signature,
//! another shop's endpoint, another shop's transfer and a replay change nothing.

use crate::orders::Market;
use crate::payouts::{FakeStripe, balance, payouts, run};
use crate::support::TestApp;
use mercato_testkit::Reply;
use serde_json::{Value, json};

pub(crate) const WEBHOOK_SECRET: &str = "whsec_mercato_connect_0123456789";

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

/// The rest of `payouts::a_stripe_connect_vendor_is_paid_by_a_transfer_stripe_made`, whose
/// run paid the tea vendor (`tea_payout`) and failed the pot vendor's payout, with the shop's
/// invoice settings given: Stripe reverses the tea vendor's transfer. `earned`: what each
/// vendor (tea, pot) earned on the order.
pub(crate) async fn stripe_reverses_the_transfer(
    app: &TestApp,
    m: &Market,
    stripe: &FakeStripe,
    tea_payout: &str,
    (tea_earned, pot_earned): (i64, i64),
) {
    let host = m.host();
    let owner = m.shop.owner.clone();
    let tea_v = m.tea.vendor.as_str();
    let paid = payout(app, host, &owner, tea_payout).await;
    assert_eq!(paid["status"], "paid", "{paid}");
    let transfer = paid["reference"].as_str().unwrap().to_owned();
    let tea_payout = tea_payout.to_owned();
    let (before, _) = crate::ledger::trial_balance(app, host, &owner).await;
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
        let refused = deliver(app, host, &headers, body.clone()).await;
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
        app,
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
        let ignored = deliver(app, host, &[("stripe-signature", &header)], foreign).await;
        assert_eq!(ignored.status, 204, "{}", ignored.text);
    }
    // A partial reversal leaves the payout paid (ADR 0044).
    let partial = transfer_event("evt_rev_4", "transfer.reversed", &transfer, &shop, false);
    let header = signed(WEBHOOK_SECRET, &partial);
    let ignored = deliver(app, host, &[("stripe-signature", &header)], partial).await;
    assert_eq!(ignored.status, 204, "{}", ignored.text);
    app.settle().await;
    assert_eq!(
        payout(app, host, &owner, &tea_payout).await["status"],
        "paid"
    );
    assert_eq!(
        balance(app, host, &owner, tea_v).await,
        (0, 0, 0, tea_earned)
    );

    // Stripe's own: the payout failed, the money available again, the booking reversed.
    let reversed = deliver(
        app,
        host,
        &[("stripe-signature", &header_for(&body))],
        body.clone(),
    )
    .await;
    assert_eq!(reversed.status, 204, "{}", reversed.text);
    app.settle().await;
    let failed = payout(app, host, &owner, &tea_payout).await;
    assert_eq!(failed["status"], "failed", "{failed}");
    assert_eq!(failed["failure"], "reversed by Stripe", "{failed}");
    assert_eq!(failed["reference"], transfer.as_str(), "{failed}");
    assert_eq!(
        balance(app, host, &owner, tea_v).await,
        (0, tea_earned, 0, 0)
    );
    let (after, totals) = crate::ledger::trial_balance(app, host, &owner).await;
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
            app,
            host,
            &[("stripe-signature", &header_for(&again))],
            again,
        )
        .await;
        assert_eq!(replayed.status, 204, "{}", replayed.text);
    }
    app.settle().await;
    assert_eq!(
        payout(app, host, &owner, &tea_payout).await["status"],
        "failed"
    );
    assert_eq!(
        balance(app, host, &owner, tea_v).await,
        (0, tea_earned, 0, 0)
    );
    assert_eq!(
        crate::ledger::trial_balance(app, host, &owner).await.0,
        after
    );

    // The next run pays the vendor again, with a new transfer.
    let second = run(app, host, &owner, "reversal-run-2").await;
    let listed = payouts(
        app,
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
        balance(app, host, &owner, tea_v).await,
        (0, 0, 0, tea_earned)
    );
    assert_eq!(stripe.made.lock().unwrap().len(), 2);
    // The commission of the tea vendor's order was invoiced with the first payout; the
    // reversal does not free it for a second invoice (nor its VAT for a second booking).
    app.settle().await;
    let commission: Vec<Value> = crate::invoices::invoices(app, host, &owner, None)
        .await
        .into_iter()
        .filter(|d| d["kind"] == "commission")
        .collect();
    assert_eq!(commission.len(), 1, "{commission:?}");
    assert_eq!(
        commission[0]["payout_id"],
        tea_payout.as_str(),
        "{commission:?}"
    );
    assert_eq!(commission[0]["vendor_id"], tea_v, "{commission:?}");
}

/// `body` signed with the platform's Stripe webhook secret, now.
fn header_for(body: &[u8]) -> String {
    signed(WEBHOOK_SECRET, body)
}

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
pub(crate) async fn balance(
    app: &TestApp,
    host: &str,
    token: &str,
    vendor: &str,
) -> (i64, i64, i64, i64) {
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
pub(crate) async fn run(app: &TestApp, host: &str, token: &str, key: &str) -> Value {
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

pub(crate) async fn payouts(app: &TestApp, host: &str, token: &str, query: &str) -> Reply {
    app.client
        .get(host, &format!("/api/v1/payouts{query}"), Some(token))
        .await
        .unwrap()
}

/// `PUT /api/v1/payouts/settings` with a hold of `days`.
pub(crate) async fn set_hold(app: &TestApp, host: &str, token: &str, days: i64) -> Reply {
    app.client
        .send(
            "PUT",
            host,
            "/api/v1/payouts/settings",
            Some(token),
            Some(&json!({ "hold_days": days })),
        )
        .await
        .unwrap()
}

pub(crate) fn vendor_order_of(placed: &Reply, vendor: &str) -> Value {
    placed.body["vendor_orders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["vendor_id"] == vendor)
        .cloned()
        .unwrap()
}

pub(crate) async fn ship_and_deliver(app: &TestApp, host: &str, token: &str, vo: &str) {
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
    let tea = m.tea.variants[0].as_str();
    let (tea_v, pot_v) = (m.tea.vendor.as_str(), m.pots.vendor.as_str());

    // The shop pays out as soon as an order is delivered; a hold past a year is refused.
    let bad = set_hold(&app, host, &owner, 400).await;
    assert_eq!(bad.status, 422, "{}", bad.text);
    let denied = set_hold(&app, host, &m.tea.token, 0).await;
    assert_eq!(denied.status, 403, "{}", denied.text);
    let set = set_hold(&app, host, &owner, 0).await;
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
    let placed = crate::ledger::order_with_vendor_coupon(&app, &m, "payouts-1").await;
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
    // The bank transfer goes to the bank as an ISO 20022 pain.001 file, from the shop's
    // account once the merchant has given it.
    let pain = format!(
        "/api/v1/payouts/runs/{}/pain001",
        first["id"].as_str().unwrap()
    );
    let early = app.client.get(host, &pain, Some(&owner)).await.unwrap();
    assert_eq!(early.status, 409, "{}", early.text);
    assert_eq!(early.body["code"], "bank_account_missing", "{}", early.text);
    let account = |iban: &str, bic: &str| json!({ "hold_days": 0, "bank_account": { "name": "Acme Marketplace GmbH", "iban": iban, "bic": bic } });
    let bad = app
        .client
        .send(
            "PUT",
            host,
            "/api/v1/payouts/settings",
            Some(&owner),
            Some(&account("DE02 1203 0000 0000 2020 52", "BYLADEM")),
        )
        .await
        .unwrap();
    assert_eq!(bad.status, 422, "{}", bad.text);
    assert_eq!(
        crate::catalog::fields(&bad),
        ["/bank_account/iban", "/bank_account/bic"]
    );
    let saved = app
        .client
        .send(
            "PUT",
            host,
            "/api/v1/payouts/settings",
            Some(&owner),
            Some(&account("DE02 1203 0000 0000 2020 51", "byladem1001")),
        )
        .await
        .unwrap();
    assert_eq!(saved.status, 200, "{}", saved.text);
    assert_eq!(
        saved.body["bank_account"]["iban_masked"],
        "******************2051"
    );
    let file = app.client.get(host, &pain, Some(&owner)).await.unwrap();
    assert_eq!(file.status, 200, "{}", file.text);
    assert_eq!(
        file.headers["content-type"].to_str().unwrap(),
        "application/xml"
    );
    for part in [
        "xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.001.001.09\"",
        "<NbOfTxs>1</NbOfTxs>",
        "<CtrlSum>40.10</CtrlSum>",
        "<IBAN>DE02120300000000202051</IBAN>",
        "<BICFI>BYLADEM1001</BICFI>",
        &format!("<EndToEndId>{pot_id}</EndToEndId>"),
        "<InstdAmt Ccy=\"EUR\">40.10</InstdAmt>",
        "<Nm>Pots GmbH</Nm>",
        "<IBAN>DE89370400440532013000</IBAN>",
    ] {
        assert!(file.text.contains(part), "{part} in {}", file.text);
    }
    assert!(
        !file.text.contains(tea_id),
        "only bank transfers: {}",
        file.text
    );
    for (token, host) in [(&m.pots.token, host), (&owner, "")] {
        if host.is_empty() {
            continue;
        }
        let theirs = app.client.get(host, &pain, Some(token)).await.unwrap();
        assert_eq!(theirs.status, 404, "{}", theirs.text);
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
    // The order's documents: an invoice per vendor order, numbered in sequence, and a
    // credit note for the refund.
    let documents = app
        .client
        .get(
            host,
            &format!("/api/v1/invoices?order_id={order}"),
            Some(&owner),
        )
        .await
        .unwrap();
    assert_eq!(documents.status, 200, "{}", documents.text);
    let mut seen: Vec<(String, String, i64)> = documents.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["kind"].as_str().unwrap().to_owned(),
                d["number"].as_str().unwrap().to_owned(),
                d["total"]["amount"].as_i64().unwrap(),
            )
        })
        .collect();
    seen.sort();
    let year = chrono::Utc::now().format("%Y");
    let mut invoice_totals: Vec<i64> = seen
        .iter()
        .filter(|(k, _, _)| k == "invoice")
        .map(|(_, _, t)| *t)
        .collect();
    invoice_totals.sort_unstable();
    assert_eq!(invoice_totals, [3_261, 5_236], "{seen:?}");
    let mut numbers: Vec<&str> = seen.iter().map(|(_, n, _)| n.as_str()).collect();
    numbers.sort_unstable();
    assert_eq!(
        numbers,
        [
            format!("CN-{year}-000001"),
            format!("INV-{year}-000001"),
            format!("INV-{year}-000002")
        ],
        "{seen:?}"
    );
    assert!(seen.contains(&("credit_note".to_owned(), format!("CN-{year}-000001"), 1_000)));
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
        format!(
            "/api/v1/payouts/runs/{}/pain001",
            first["id"].as_str().unwrap()
        ),
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

on_all_backends!(a_stripe_connect_vendor_is_paid_by_a_transfer_stripe_made);

/// A local server speaking Stripe's wire format for `POST /v1/transfers`: the secret key,
/// form-encoded bracketed parameters, idempotency keys (a repeat gets the first answer), and
/// Stripe's error object for a closed connected account.
#[derive(Clone, Default)]
pub(crate) struct FakeStripe {
    pub(crate) made: std::sync::Arc<std::sync::Mutex<Vec<Made>>>,
}

/// A transfer the fake made: its idempotency key, the form it was asked with, its answer.
pub(crate) type Made = (String, Vec<(String, String)>, Value);

pub(crate) const STRIPE_KEY: &str = "sk_test_mercato_connect";

impl FakeStripe {
    pub(crate) async fn start(&self) -> String {
        use axum::http::{HeaderMap, StatusCode};
        let me = self.clone();
        let app = axum::Router::new().route(
            "/v1/transfers",
            axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
                let me = me.clone();
                async move {
                    let header = |name: &str| {
                        headers
                            .get(name)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                            .to_owned()
                    };
                    if header("authorization") != format!("Bearer {STRIPE_KEY}") {
                        return (
                            StatusCode::UNAUTHORIZED,
                            axum::Json(json!({ "error": { "type": "invalid_request_error",
                                "message": "Invalid API Key provided" } })),
                        );
                    }
                    let form: Vec<(String, String)> = form_urlencoded::parse(&body)
                        .map(|(k, v)| (k.into_owned(), v.into_owned()))
                        .collect();
                    let field = |name: &str| {
                        form.iter()
                            .find(|(k, _)| k == name)
                            .map(|(_, v)| v.clone())
                            .unwrap_or_default()
                    };
                    let key = header("idempotency-key");
                    let mut made = me.made.lock().unwrap();
                    if let Some((_, _, answer)) = made.iter().find(|(k, _, _)| *k == key) {
                        return (StatusCode::OK, axum::Json(answer.clone()));
                    }
                    if field("destination") == "acct_1Closed" {
                        return (
                            StatusCode::BAD_REQUEST,
                            axum::Json(json!({ "error": { "type": "invalid_request_error",
                                "code": "account_invalid", "param": "destination",
                                "message": "The destination account is closed." } })),
                        );
                    }
                    let answer = json!({
                        "id": format!("tr_1Fake{}", made.len() + 1), "object": "transfer",
                        "amount": field("amount").parse::<i64>().unwrap_or(0),
                        "currency": field("currency"), "destination": field("destination"),
                        "transfer_group": field("transfer_group"), "livemode": false,
                        "reversed": false, "metadata": {},
                    });
                    made.push((key, form.clone(), answer.clone()));
                    (StatusCode::OK, axum::Json(answer))
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        url
    }
}

async fn a_stripe_connect_vendor_is_paid_by_a_transfer_stripe_made(backend: Backend, test: &str) {
    let stripe = FakeStripe::default();
    let url = stripe.start().await;
    let Some(app) = TestApp::spawn_with(backend, test, |config| {
        config.gateway.enforce_rate_limits = false;
        config.orders.stripe.secret_key = mercato_kernel::Secret::new(STRIPE_KEY);
        config.orders.stripe.api_base = url.clone();
        config.orders.stripe.webhook_secrets = vec![mercato_kernel::Secret::new(
            crate::transfer_reversals::WEBHOOK_SECRET,
        )];
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
    // With the shop's legal details, a paid payout gets a commission invoice.
    let legal = app
        .client
        .send(
            "PUT",
            host,
            "/api/v1/invoice-settings",
            Some(&owner),
            Some(&crate::commission_invoices::shop_settings(
                "DE",
                "DE123456789",
                false,
            )),
        )
        .await
        .unwrap();
    assert_eq!(legal.status, 200, "{}", legal.text);
    // The pot vendor's connected account was closed at Stripe.
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
    let placed = checkout(&app, host, "connect-1", &checkout_body(&c, PAYS)).await;
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

    let run_body = run(&app, host, &owner, "connect-run").await;
    let run_id = run_body["id"].as_str().unwrap();
    let all = payouts(&app, host, &owner, &format!("?run_id={run_id}")).await;
    let all = all.body["data"].as_array().unwrap().clone();
    assert_eq!(all.len(), 2, "{all:?}");
    let of = |vendor: &str| {
        all.iter()
            .find(|p| p["vendor_id"] == vendor)
            .cloned()
            .unwrap()
    };
    let (tea, pot) = (of(tea_v), of(pot_v));
    // The tea vendor's transfer was made: paid, with Stripe's id.
    assert_eq!(tea["status"], "paid", "{tea}");
    assert_eq!(tea["reference"], "tr_1Fake1", "{tea}");
    let made = stripe.made.lock().unwrap().clone();
    assert_eq!(made.len(), 1);
    let (key, form, _) = &made[0];
    assert_eq!(
        key,
        tea["id"].as_str().unwrap(),
        "the payout id is the idempotency key"
    );
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(field("amount"), Some(tea_earned.to_string().as_str()));
    assert_eq!(field("currency"), Some("eur"));
    assert_eq!(field("destination"), Some("acct_1TeaVendor"));
    assert_eq!(field("transfer_group"), Some(run_id));
    assert_eq!(field("metadata[payout_id]"), tea["id"].as_str());
    // The pot vendor's was refused: failed with Stripe's reason, the money back to available.
    assert_eq!(pot["status"], "failed", "{pot}");
    assert!(
        pot["failure"]
            .as_str()
            .is_some_and(|f| f.contains("account_invalid")),
        "{pot}"
    );
    assert_eq!(
        balance(&app, host, &owner, tea_v).await,
        (0, 0, 0, tea_earned)
    );
    assert_eq!(
        balance(&app, host, &owner, pot_v).await,
        (0, pot_earned, 0, 0)
    );
    // The ledger booked the transfer made, and only that one.
    let (accounts, totals) = crate::ledger::trial_balance(&app, host, &owner).await;
    let owed = accounts.get("2100").copied().unwrap_or_default();
    assert_eq!(owed, (0, pot_earned), "{accounts:?}");
    assert_eq!(totals.0, totals.1);

    // Later, Stripe reverses the tea vendor's transfer (ADR 0044).
    crate::transfer_reversals::stripe_reverses_the_transfer(
        &app,
        &m,
        &stripe,
        tea["id"].as_str().unwrap(),
        (tea_earned, pot_earned),
    )
    .await;
}

/// A payout run killed with SIGKILL at its worst moment pays nobody twice. Two vendors are
/// paid through the test payout provider, which answers three seconds after making each
/// transfer; once the first payout is paid, the services process is killed — the second
/// vendor's transfer is made and its payout not yet marked — and started again. The run's
/// job is taken over when its lease runs out, resends the payout still pending under the
/// same idempotency key, and ends with each vendor paid once: two payouts, two transfers.
/// Only the split shape has a process to kill, so only it runs this (on PostgreSQL).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_killed_mid_way_pays_nobody_twice() {
    let test = "payouts::a_run_killed_mid_way_pays_nobody_twice";
    let Some(mut app) = TestApp::spawn_with(Backend::Split, test, |config| {
        config.gateway.enforce_rate_limits = false;
        config.payouts.test_transfer_delay_ms = 3_000;
        config.payouts.run_lease_secs = 5;
    })
    .await
    else {
        return;
    };
    let m = market(&app).await;
    let host = m.host().to_owned();
    let owner = m.shop.owner.clone();
    let (tea_v, pot_v) = (m.tea.vendor.clone(), m.pots.vendor.clone());
    let set = set_hold(&app, &host, &owner, 0).await;
    assert_eq!(set.status, 200, "{}", set.text);
    for (vendor, token) in [(&tea_v, &m.tea.token), (&pot_v, &m.pots.token)] {
        let saved = app
            .client
            .send(
                "PUT",
                &host,
                &format!("/api/v1/vendors/{vendor}/payout-account"),
                Some(token),
                Some(
                    &json!({ "method": "stripe_connect", "stripe_account_id": "acct_1Crash",
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
        &host,
        &[
            (m.tea.variants[0].as_str(), 1),
            (m.pots.variants[0].as_str(), 1),
        ],
    )
    .await
    .str("id");
    let placed = checkout(&app, &host, "crash-1", &checkout_body(&c, PAYS)).await;
    assert_eq!(placed.status, 201, "{}", placed.text);
    app.settle().await;
    let seen = app
        .client
        .get(
            &host,
            &format!("/api/v1/orders/{}", placed.str("id")),
            Some(&owner),
        )
        .await
        .unwrap();
    for (vendor, token) in [(&tea_v, &m.tea.token), (&pot_v, &m.pots.token)] {
        let vo = vendor_order_of(&seen, vendor)["id"]
            .as_str()
            .unwrap()
            .to_owned();
        ship_and_deliver(&app, &host, token, &vo).await;
    }
    app.settle().await;
    let earned: Vec<i64> = [&tea_v, &pot_v]
        .iter()
        .map(|v| {
            vendor_order_of(&seen, v)["earnings"]["amount"]
                .as_i64()
                .unwrap()
        })
        .collect();

    let started = post_with(
        &app,
        &host,
        "/api/v1/payouts/runs",
        Some(&owner),
        &[("idempotency-key", "crash-run")],
        &json!({}),
    )
    .await;
    assert_eq!(started.status, 202, "{}", started.text);
    let run_id = started.str("id");
    // Wait for the first payout to be paid: the second transfer is then being made.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let list = payouts(&app, &host, &owner, &format!("?run_id={run_id}")).await;
        let paid = list.body["data"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["status"] == "paid")
            .count();
        if paid == 1 {
            break;
        }
        assert!(paid == 0, "both paid before the kill: {}", list.text);
        assert!(
            std::time::Instant::now() < deadline,
            "no payout paid: {}\n{}",
            list.text,
            app.process_logs()
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    app.restart_services().await;

    // The run is taken over and ends; each vendor is paid once.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    loop {
        let run = app
            .client
            .get(
                &host,
                &format!("/api/v1/payouts/runs/{run_id}"),
                Some(&owner),
            )
            .await
            .unwrap();
        if run.body["status"] == "done" {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the run did not finish: {}\n{}",
            run.text,
            app.process_logs()
        );
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    app.settle().await;
    let list = payouts(&app, &host, &owner, "").await;
    let data = list.body["data"].as_array().unwrap();
    assert_eq!(data.len(), 2, "{}", list.text);
    assert!(data.iter().all(|p| p["status"] == "paid"), "{}", list.text);
    let db = app.service_db("payouts").await;
    let transfers = mercato_payouts::repo::test_transfer_count(&db, m.shop.id)
        .await
        .unwrap();
    assert_eq!(transfers, 2, "one transfer per vendor");
    for (vendor, earned) in [&tea_v, &pot_v].into_iter().zip(earned) {
        assert_eq!(
            balance(&app, &host, &owner, vendor).await,
            (0, 0, 0, earned)
        );
    }
    // The ledger booked each payout once: nothing is owed any more.
    let (accounts, totals) = crate::ledger::trial_balance(&app, &host, &owner).await;
    assert_eq!(accounts.get("2100"), None, "{accounts:?}");
    assert_eq!(totals.0, totals.1);
}

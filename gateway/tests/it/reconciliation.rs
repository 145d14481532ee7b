//! Payment fees and the reconciliation of the clearing account through the gateway (ADR
//! 0045): the test provider takes 1.5 % + 25 on each payment, the ledger books it once
//! (Dr 5200, Cr 1100), and the reconciliation matches the ledger's 1100 with the provider's
//! balance transactions, reporting what only the provider has.

use crate::catalog::eur;
use crate::ledger::{order_with_vendor_coupon, trial_balance};
use crate::on_embedded_and_real;
use crate::orders::{PAYS, cart, checkout, checkout_body, market, post_with};
use crate::support::{Backend, TestApp, eventually};
use mercato_testkit::Reply;
use serde_json::{Value, json};

on_embedded_and_real!(payment_fees_are_booked_and_the_clearing_account_reconciles);

async fn reconciliation(app: &TestApp, host: &str, token: &str, query: &str) -> Reply {
    app.client
        .get(
            host,
            &format!("/api/v1/ledger/reconciliation?{query}"),
            Some(token),
        )
        .await
        .unwrap()
}

fn today() -> String {
    chrono::Utc::now().date_naive().to_string()
}

fn kinds(reply: &Reply, list: &str) -> Vec<(String, String, Value, Value)> {
    reply.body[list]
        .as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .map(|i| {
            (
                i["kind"].as_str().unwrap_or_default().to_owned(),
                i["reference"].as_str().unwrap_or_default().to_owned(),
                i["ledger"]["amount"].clone(),
                i["provider"]["amount"].clone(),
            )
        })
        .collect()
}

async fn payment_fees_are_booked_and_the_clearing_account_reconciles(backend: Backend, test: &str) {
    let Some(app) = TestApp::spawn_with(backend, test, |config| {
        config.gateway.enforce_rate_limits = false;
        config.orders.test_fee = mercato_payments::TestFee::default();
        config.orders.provider_import_delay_secs = 0;
    })
    .await
    else {
        return;
    };
    let m = market(&app).await;
    let host = m.host();
    let owner = m.shop.owner.clone();
    let placed = order_with_vendor_coupon(&app, &m, "fees-1").await;
    assert_eq!(placed.str("status"), "paid", "{}", placed.text);
    let order = placed.str("id");
    let gross = 8_497;
    // 1.5 % of 84.97 is 1.27455: 1.27, and 0.25 more.
    let fee = 127 + 25;

    // The fee is booked once the provider reported it: out of 1100 into 5200.
    let (accounts, totals) = eventually(
        "the payment fee booked",
        || trial_balance(&app, host, &owner),
        |(accounts, _)| accounts.contains_key("5200"),
    )
    .await;
    assert_eq!(accounts["5200"], (fee, 0));
    assert_eq!(accounts["1100"], (gross - fee, 0));
    assert_eq!(totals.0, totals.1);
    let entries = app
        .client
        .get(
            host,
            &format!("/api/v1/ledger/entries?order_id={order}"),
            Some(&owner),
        )
        .await
        .unwrap();
    let fees: Vec<&Value> = entries.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "payment_fee")
        .collect();
    assert_eq!(fees.len(), 1, "{}", entries.text);
    assert_eq!(
        fees[0]["source_event"], "payment.fee_reported",
        "{}",
        entries.text
    );
    assert!(fees[0]["source_event_id"].is_string(), "{}", entries.text);

    // A refund of the pot vendor order: 1100 holds gross − fees − refunds.
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
        &[("idempotency-key", "fees-r1")],
        &json!({ "amount": eur(5_236), "vendor_order_id": pot_vo, "reason": "broken" }),
    )
    .await;
    assert_eq!(refund.status, 201, "{}", refund.text);
    app.settle().await;
    let (accounts, totals) = trial_balance(&app, host, &owner).await;
    assert_eq!(accounts["1100"], (gross - fee - 5_236, 0));
    assert_eq!(accounts["5200"], (fee, 0));
    assert_eq!(totals.0, totals.1);

    // The reconciliation of today matches the sale, its fee and the refund.
    let period = format!("currency=EUR&from={0}&to={0}", today());
    let matched = eventually(
        "the provider's refund imported",
        || reconciliation(&app, host, &owner, &period),
        |r: &Reply| r.status != 200 || kinds(r, "matched").len() == 3,
    )
    .await;
    assert_eq!(matched.status, 200, "{}", matched.text);
    let mut items = kinds(&matched, "matched");
    items.sort_by_key(|i| (i.0.clone(), i.1.clone()));
    // The refund answers with the order; its refund is the one refund item.
    let refund_id = items
        .iter()
        .find(|i| i.0 == "refund")
        .map(|i| i.1.clone())
        .unwrap_or_default();
    assert!(refund_id.starts_with("rfd_"), "{}", matched.text);
    let mut expected = vec![
        (
            "charge".to_owned(),
            order.clone(),
            json!(gross),
            json!(gross),
        ),
        ("fee".to_owned(), order.clone(), json!(-fee), json!(-fee)),
        (
            "refund".to_owned(),
            refund_id.clone(),
            json!(-5_236),
            json!(-5_236),
        ),
    ];
    expected.sort_by_key(|i| (i.0.clone(), i.1.clone()));
    assert_eq!(items, expected, "{}", matched.text);
    for list in ["differences", "only_in_ledger", "only_at_provider"] {
        assert_eq!(matched.body[list], json!([]), "{}", matched.text);
    }
    let net = gross - fee - 5_236;
    assert_eq!(matched.body["totals"]["ledger_movement"], eur(net));
    assert_eq!(matched.body["totals"]["provider_net"], eur(net));
    assert_eq!(matched.body["totals"]["difference"], eur(0));

    // The provider moves money the ledger knows nothing of: the next import brings it, and
    // the reconciliation shows it as the provider's alone.
    let provider = mercato_payments::TestProvider::new(
        app.service_db("orders").await,
        "whsec_unused".into(),
        std::time::Duration::ZERO,
    );
    let injected = provider
        .record_adjustment(m.shop.id, "adjustment", "", eur_money(-300))
        .await
        .unwrap();
    let tea = m.tea.variants[0].as_str();
    let c = cart(&app, host, &[(tea, 1)]).await.str("id");
    let second = checkout(&app, host, "fees-2", &checkout_body(&c, PAYS)).await;
    assert_eq!(second.str("status"), "paid", "{}", second.text);
    let unmatched = eventually(
        "the adjustment imported",
        || reconciliation(&app, host, &owner, &period),
        |r: &Reply| r.status != 200 || !kinds(r, "only_at_provider").is_empty(),
    )
    .await;
    assert_eq!(
        kinds(&unmatched, "only_at_provider"),
        vec![(
            "other".to_owned(),
            injected.id.clone(),
            Value::Null,
            json!(-300)
        )],
        "{}",
        unmatched.text
    );
    assert_eq!(
        unmatched.body["only_in_ledger"],
        json!([]),
        "{}",
        unmatched.text
    );
    assert_eq!(
        unmatched.body["totals"]["difference"],
        eur(-300),
        "{}",
        unmatched.text
    );

    // Vendor staff may not read it, as with the trial balance; nobody signed in is 401.
    for token in [&m.tea.token, &m.pots.token] {
        let denied = reconciliation(&app, host, token, &period).await;
        assert_eq!(denied.status, 403, "{}", denied.text);
    }
    let anonymous = app
        .client
        .get(
            host,
            &format!("/api/v1/ledger/reconciliation?{period}"),
            None,
        )
        .await
        .unwrap();
    assert_eq!(anonymous.status, 401, "{}", anonymous.text);

    // Another shop's staff see their own books only: nothing.
    let admin = app.admin_token().await;
    let other = app.shop(&admin, "growth").await;
    let theirs = reconciliation(&app, &other.host, &other.owner, &period).await;
    assert_eq!(theirs.status, 200, "{}", theirs.text);
    for list in [
        "matched",
        "differences",
        "only_in_ledger",
        "only_at_provider",
    ] {
        assert_eq!(theirs.body[list], json!([]), "{}", theirs.text);
    }
    assert_eq!(theirs.body["totals"]["provider_net"], eur(0));

    // Bad queries are 422 with the field named.
    for (query, field) in [
        (
            format!("currency=XXX&from={0}&to={0}", today()),
            "/currency",
        ),
        (
            "currency=EUR&from=2026-13-01&to=2026-12-31".to_owned(),
            "/from",
        ),
        (
            "currency=EUR&from=2026-02-01&to=2026-01-01".to_owned(),
            "/to",
        ),
    ] {
        let bad = reconciliation(&app, host, &owner, &query).await;
        assert_eq!(bad.status, 422, "{query}: {}", bad.text);
        assert!(bad.text.contains(field), "{query}: {}", bad.text);
    }
}

fn eur_money(amount: i64) -> mercato_kernel::Money {
    mercato_kernel::Money::new(amount, mercato_kernel::Currency::parse("EUR").unwrap())
}

//! The shop's commission invoices to its vendors through the gateway (ADR 0043): merchant
//! staff give the shop's legal details, vendors theirs; a payout run pays both vendors of a
//! two-vendor order, and each gets one commission invoice numbered `COM-…` without a gap:
//! the vendor in another EU state with a VAT id under reverse charge (0 %, the legal note
//! and both VAT ids in the PDF), the one in the shop's country with VAT at the shop's rate,
//! which the ledger moves from commission revenue to tax payable. Selling in the shop's own
//! name makes the shop the seller of the next customer invoice, not of the ones issued.
//! Another vendor's and another shop's are 404; bad input is a 422 that changes nothing.

use crate::invoices::{invoices, pdf_text, rendered_pdf};
use crate::ledger::{order_with_vendor_coupon, trial_balance};
use crate::on_embedded_and_real;
use crate::orders::{PAYS, cart, checkout, checkout_body, market, post_with};
use crate::payouts::{run, set_hold, ship_and_deliver, vendor_order_of};
use crate::support::{Backend, TestApp};
use mercato_testkit::Reply;
use serde_json::{Value, json};

on_embedded_and_real!(payouts_get_commission_invoices_with_vat_or_reverse_charge);

const REVERSE_CHARGE: &str = "Reverse charge: VAT to be accounted for by the recipient (Art. 196 Council Directive 2006/112/EC)";

async fn put(app: &TestApp, host: &str, path: &str, token: &str, body: &Value) -> Reply {
    app.client
        .send("PUT", host, path, Some(token), Some(body))
        .await
        .unwrap()
}

async fn get(app: &TestApp, host: &str, path: &str, token: &str) -> Reply {
    app.client.get(host, path, Some(token)).await.unwrap()
}

pub(crate) fn shop_settings(country: &str, vat_id: &str, own_name: bool) -> Value {
    json!({
        "legal_name": "Acme Marketplace GmbH",
        "address": { "lines": ["Marktplatz 1"], "postal_code": "10115", "city": "Berlin" },
        "country": country,
        "vat_id": vat_id,
        "sells_in_own_name": own_name,
    })
}

/// The text of a PDF with its line breaks as spaces: a long note wraps.
fn flat(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

async fn payouts_get_commission_invoices_with_vat_or_reverse_charge(backend: Backend, test: &str) {
    let Some(app) = crate::catalog::spawn(backend, test).await else {
        return;
    };
    let m = market(&app).await;
    let host = m.host();
    let owner = m.shop.owner.clone();
    let (tea_v, pot_v) = (m.tea.vendor.as_str(), m.pots.vendor.as_str());
    let admin = app.admin_token().await;
    let other = app.shop(&admin, "growth").await;

    // The shop's invoice settings: none yet; bad ones are refused and change nothing.
    let settings = "/api/v1/invoice-settings";
    assert_eq!(get(&app, host, settings, &owner).await.status, 404);
    let bad = put(
        &app,
        host,
        settings,
        &owner,
        &shop_settings("XX", "DE123456789", false),
    )
    .await;
    assert_eq!(bad.status, 422, "{}", bad.text);
    assert!(bad.text.contains("/country"), "{}", bad.text);
    let bad = put(
        &app,
        host,
        settings,
        &owner,
        &shop_settings("DE", "FR12", false),
    )
    .await;
    assert_eq!(bad.status, 422, "{}", bad.text);
    assert!(bad.text.contains("/vat_id"), "{}", bad.text);
    assert_eq!(get(&app, host, settings, &owner).await.status, 404);
    // Neither a vendor's staff nor a customer may read or set them; nobody signed in at all.
    let (_, customer) = app.customer(&m.shop).await;
    for token in [&m.tea.token, &customer] {
        let denied = put(
            &app,
            host,
            settings,
            token,
            &shop_settings("DE", "DE123456789", false),
        )
        .await;
        assert_eq!(denied.status, 403, "{}", denied.text);
        let denied = get(&app, host, settings, token).await;
        assert_eq!(denied.status, 403, "{}", denied.text);
    }
    let anonymous = app.client.get(host, settings, None).await.unwrap();
    assert_eq!(anonymous.status, 401, "{}", anonymous.text);
    let saved = put(
        &app,
        host,
        settings,
        &owner,
        &shop_settings("DE", "de 123.456.789", false),
    )
    .await;
    assert_eq!(saved.status, 200, "{}", saved.text);
    assert_eq!(saved.body["vat_id"], "DE123456789", "{}", saved.text);
    assert_eq!(saved.body["sells_in_own_name"], false);
    // Another shop's are its own: it has none, and setting its own leaves these.
    assert_eq!(
        get(&app, &other.host, settings, &other.owner).await.status,
        404
    );
    let theirs = put(
        &app,
        &other.host,
        settings,
        &other.owner,
        &shop_settings("FR", "FR12345678901", false),
    )
    .await;
    assert_eq!(theirs.status, 200, "{}", theirs.text);
    let ours = get(&app, host, settings, &owner).await;
    assert_eq!(ours.body["country"], "DE", "{}", ours.text);
    assert_eq!(ours.body["vat_id"], "DE123456789", "{}", ours.text);

    // Vendors' legal details: the tea vendor (its own staff) sits in Austria with a VAT id,
    // the pot vendor (set by merchant staff) in Germany.
    let tea_path = format!("/api/v1/vendors/{tea_v}");
    let pot_path = format!("/api/v1/vendors/{pot_v}");
    let pot_before = get(&app, host, &pot_path, &owner).await;
    for (body, field) in [
        (json!({ "country": "XX" }), "/country"),
        (json!({ "vat_id": "DE1" }), "/vat_id"),
        (
            json!({ "country": "AT", "vat_id": "ATU12345678", "legal_address": { "lines": [], "postal_code": "1010", "city": "Wien" } }),
            "/legal_address/lines",
        ),
    ] {
        let bad = app
            .client
            .patch(host, &pot_path, Some(&owner), &body)
            .await
            .unwrap();
        assert_eq!(bad.status, 422, "{body}: {}", bad.text);
        assert!(bad.text.contains(field), "{field}: {}", bad.text);
    }
    let pot_after = get(&app, host, &pot_path, &owner).await;
    assert_eq!(
        pot_after.body, pot_before.body,
        "a refused change changes nothing"
    );
    // Another vendor's staff cannot change them.
    let cross = app
        .client
        .patch(
            host,
            &pot_path,
            Some(&m.tea.token),
            &json!({ "vat_id": "DE987654321" }),
        )
        .await
        .unwrap();
    assert_eq!(cross.status, 404, "{}", cross.text);
    // Nor can a customer of the shop, or another shop's owner (on its own domain, where the
    // vendor is unknown).
    let by_customer = app
        .client
        .patch(
            host,
            &pot_path,
            Some(&customer),
            &json!({ "vat_id": "DE987654321" }),
        )
        .await
        .unwrap();
    assert!(
        [403, 404].contains(&by_customer.status),
        "{}",
        by_customer.text
    );
    let by_other_shop = app
        .client
        .patch(
            &other.host,
            &pot_path,
            Some(&other.owner),
            &json!({ "vat_id": "DE987654321" }),
        )
        .await
        .unwrap();
    assert_eq!(by_other_shop.status, 404, "{}", by_other_shop.text);
    assert_eq!(
        get(&app, host, &pot_path, &owner).await.body,
        pot_before.body,
        "refused changes change nothing"
    );
    let tea = app
        .client
        .patch(
            host,
            &tea_path,
            Some(&m.tea.token),
            &json!({ "legal_entity": "Nordic Tea GmbH", "country": "AT", "vat_id": "ATU 1234 5678",
                     "legal_address": { "lines": ["Teegasse 3"], "postal_code": "1010", "city": "Wien" } }),
        )
        .await
        .unwrap();
    assert_eq!(tea.status, 200, "{}", tea.text);
    assert_eq!(tea.body["vat_id"], "ATU12345678", "{}", tea.text);
    assert_eq!(tea.body["legal_address"]["city"], "Wien", "{}", tea.text);
    let pot = app
        .client
        .patch(
            host,
            &pot_path,
            Some(&owner),
            &json!({ "legal_entity": "Clay Works GmbH", "country": "DE", "vat_id": "DE987654321",
                     "legal_address": { "lines": ["Tonweg 7"], "postal_code": "80331", "city": "München" } }),
        )
        .await
        .unwrap();
    assert_eq!(pot.status, 200, "{}", pot.text);
    // Another vendor's staff see the pot vendor's public profile, not its legal details.
    let seen_by_tea = get(&app, host, &pot_path, &m.tea.token).await;
    assert_eq!(seen_by_tea.status, 200, "{}", seen_by_tea.text);
    assert!(
        !seen_by_tea.text.contains("DE987654321") && !seen_by_tea.text.contains("Tonweg"),
        "{}",
        seen_by_tea.text
    );

    // The shop has a rate for Austria too: reverse charge must win over it.
    let at_rate = put(
        &app,
        host,
        "/api/v1/tax-rates",
        &owner,
        &json!({ "country": "AT", "rate": "20" }),
    )
    .await;
    assert_eq!(at_rate.status, 200, "{}", at_rate.text);
    // Accounting learns them from vendors' and orders' events before anything is invoiced.
    app.settle().await;

    // Both vendors are paid at once by the test provider, with no hold.
    assert_eq!(set_hold(&app, host, &owner, 0).await.status, 200);
    for (vendor, token, account) in [
        (tea_v, &m.tea.token, "acct_1TeaVendor"),
        (pot_v, &m.pots.token, "acct_1PotVendor"),
    ] {
        let saved = put(
            &app,
            host,
            &format!("/api/v1/vendors/{vendor}/payout-account"),
            token,
            &json!({ "method": "stripe_connect", "stripe_account_id": account, "schedule": "manual",
                     "minimum_payout": { "amount": 0, "currency": "EUR" }, "currency": "EUR" }),
        )
        .await;
        assert_eq!(saved.status, 200, "{}", saved.text);
    }

    // The ledger test's order: tea commission 2.25, pot commission 3.90 (VAT included).
    let placed = order_with_vendor_coupon(&app, &m, "commission-invoices-1").await;
    let order = placed.str("id");
    app.settle().await;
    let seen = get(&app, host, &format!("/api/v1/orders/{order}"), &owner).await;
    for vendor in [tea_v, pot_v] {
        let vo = vendor_order_of(&seen, vendor);
        let token = if vendor == tea_v {
            &m.tea.token
        } else {
            &m.pots.token
        };
        ship_and_deliver(&app, host, token, vo["id"].as_str().unwrap()).await;
    }
    app.settle().await;
    // The customer invoices of the order name each vendor by its legal details.
    let customer_docs = invoices(&app, host, &owner, Some(&order)).await;
    assert_eq!(customer_docs.len(), 2, "{customer_docs:?}");
    let tea_invoice = customer_docs
        .iter()
        .find(|d| d["vendor_id"] == tea_v)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let tea_invoice_path = format!("/api/v1/invoices/{tea_invoice}");
    let detail = get(&app, host, &tea_invoice_path, &owner).await;
    assert_eq!(
        detail.body["seller_name"], "Nordic Tea GmbH",
        "{}",
        detail.text
    );
    assert_eq!(
        detail.body["seller_vat_id"], "ATU12345678",
        "{}",
        detail.text
    );

    let (before, _) = trial_balance(&app, host, &owner).await;
    let done = run(&app, host, &owner, "commission-run-1").await;
    assert_eq!(done["status"], "done", "{done}");
    app.settle().await;

    // One commission invoice per payout, numbered without a gap.
    let all = invoices(&app, host, &owner, None).await;
    let commission: Vec<&Value> = all.iter().filter(|d| d["kind"] == "commission").collect();
    assert_eq!(commission.len(), 2, "{all:?}");
    let year = chrono::Utc::now().format("%Y").to_string();
    let mut numbers: Vec<&str> = commission
        .iter()
        .map(|d| d["number"].as_str().unwrap())
        .collect();
    numbers.sort_unstable();
    assert_eq!(
        numbers,
        [format!("COM-{year}-000001"), format!("COM-{year}-000002")]
    );
    let of = |vendor: &str| {
        commission
            .iter()
            .find(|d| d["vendor_id"] == vendor)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (tea_com, pot_com) = (of(tea_v), of(pot_v));
    for doc in &commission {
        assert_eq!(doc["order_id"], Value::Null, "{doc}");
        assert!(
            doc["payout_id"]
                .as_str()
                .is_some_and(|p| p.starts_with("po_")),
            "{doc}"
        );
    }

    // Austria, with a VAT id, from a German shop: reverse charge, no VAT.
    let tea_doc = get(
        &app,
        host,
        &format!("/api/v1/invoices/{tea_com}"),
        &m.tea.token,
    )
    .await;
    assert_eq!(tea_doc.status, 200, "{}", tea_doc.text);
    let amount = |doc: &Reply, k: &str| doc.body[k]["amount"].as_i64().unwrap();
    assert_eq!(
        (
            amount(&tea_doc, "net"),
            amount(&tea_doc, "tax"),
            amount(&tea_doc, "total")
        ),
        (225, 0, 225),
        "{}",
        tea_doc.text
    );
    assert_eq!(tea_doc.body["seller_name"], "Acme Marketplace GmbH");
    assert_eq!(tea_doc.body["seller_vat_id"], "DE123456789");
    assert_eq!(tea_doc.body["buyer_name"], "Nordic Tea GmbH");
    assert_eq!(tea_doc.body["buyer_vat_id"], "ATU12345678");
    assert_eq!(
        tea_doc.body["notes"],
        json!([REVERSE_CHARGE]),
        "{}",
        tea_doc.text
    );
    assert_eq!(
        tea_doc.body["lines"][0]["tax_rate"], "0",
        "{}",
        tea_doc.text
    );
    let text = flat(&pdf_text(
        &rendered_pdf(&app, host, &tea_com, &m.tea.token).await,
    ));
    for wanted in [
        "Commission invoice",
        tea_doc.body["number"].as_str().unwrap(),
        REVERSE_CHARGE,
        "DE123456789",
        "ATU12345678",
        "EUR 2.25",
    ] {
        assert!(text.contains(wanted), "{wanted:?} in {text}");
    }

    // Germany, from a German shop: 19 % inside the 3.90 commission, by hand
    // 390 × 19 / 119 = 62.27 → 0.62 VAT, 3.28 net.
    let pot_doc = get(
        &app,
        host,
        &format!("/api/v1/invoices/{pot_com}"),
        &m.pots.token,
    )
    .await;
    assert_eq!(pot_doc.status, 200, "{}", pot_doc.text);
    assert_eq!(
        (
            amount(&pot_doc, "net"),
            amount(&pot_doc, "tax"),
            amount(&pot_doc, "total")
        ),
        (328, 62, 390),
        "{}",
        pot_doc.text
    );
    assert_eq!(pot_doc.body["notes"], json!([]), "{}", pot_doc.text);
    assert_eq!(
        pot_doc.body["lines"][0]["tax_rate"], "19",
        "{}",
        pot_doc.text
    );
    let text = flat(&pdf_text(&rendered_pdf(&app, host, &pot_com, &owner).await));
    for wanted in ["EUR 3.28", "EUR 0.62", "EUR 3.90", "DE987654321"] {
        assert!(text.contains(wanted), "{wanted:?} in {text}");
    }
    assert!(!text.contains("Reverse charge"), "{text}");

    // The ledger moved the 0.62 from commission revenue to tax payable; nothing else but
    // the payouts moved.
    let (after, totals) = trial_balance(&app, host, &owner).await;
    assert_eq!(totals.0, totals.1);
    let credit = |tb: &std::collections::BTreeMap<String, (i64, i64)>, code: &str| {
        tb.get(code).map_or(0, |(debit, credit)| credit - debit)
    };
    assert_eq!(credit(&after, "4100"), credit(&before, "4100") - 62);
    assert_eq!(credit(&after, "2200"), credit(&before, "2200") + 62);

    // A vendor sees its own commission invoice, never the other's; another shop none.
    let teas: Vec<String> = invoices(&app, host, &m.tea.token, None)
        .await
        .iter()
        .filter(|d| d["kind"] == "commission")
        .map(|d| d["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(teas, std::slice::from_ref(&tea_com));
    for path in [
        format!("/api/v1/invoices/{pot_com}"),
        format!("/api/v1/invoices/{pot_com}/pdf"),
    ] {
        let hidden = get(&app, host, &path, &m.tea.token).await;
        assert_eq!(hidden.status, 404, "{path}: {}", hidden.text);
        let elsewhere = get(&app, &other.host, &path, &other.owner).await;
        assert_eq!(elsewhere.status, 404, "{path}: {}", elsewhere.text);
    }
    assert!(
        invoices(&app, &other.host, &other.owner, None)
            .await
            .is_empty()
    );
    // A customer document's readers never see a commission invoice: the buyer signed in,
    // nor a guest with the order's own token.
    let guest_token = placed.str("order_token");
    let own = app
        .client
        .send_raw(
            "GET",
            host,
            &tea_invoice_path,
            &[("x-order-token", guest_token.as_str())],
            Vec::new(),
        )
        .await
        .unwrap();
    assert_eq!(
        own.status, 200,
        "the token opens its own invoice: {}",
        own.text
    );
    for path in [
        format!("/api/v1/invoices/{tea_com}"),
        format!("/api/v1/invoices/{tea_com}/pdf"),
    ] {
        let as_customer = get(&app, host, &path, &customer).await;
        assert_eq!(as_customer.status, 404, "{path}: {}", as_customer.text);
        let as_guest = app
            .client
            .send_raw(
                "GET",
                host,
                &path,
                &[("x-order-token", guest_token.as_str())],
                Vec::new(),
            )
            .await
            .unwrap();
        assert_eq!(as_guest.status, 404, "{path}: {}", as_guest.text);
    }

    // Selling in its own name makes the shop the seller of the next customer invoice; the
    // ones issued keep theirs.
    let switched = put(
        &app,
        host,
        settings,
        &owner,
        &shop_settings("DE", "DE123456789", true),
    )
    .await;
    assert_eq!(switched.status, 200, "{}", switched.text);
    let c = cart(&app, host, &[(m.tea.variants[0].as_str(), 1)])
        .await
        .str("id");
    let second = checkout(
        &app,
        host,
        "commission-invoices-2",
        &checkout_body(&c, PAYS),
    )
    .await;
    assert_eq!(second.status, 201, "{}", second.text);
    app.settle().await;
    let next = invoices(&app, host, &owner, Some(&second.str("id"))).await;
    assert_eq!(next.len(), 1, "{next:?}");
    let next = get(
        &app,
        host,
        &format!("/api/v1/invoices/{}", next[0]["id"].as_str().unwrap()),
        &owner,
    )
    .await;
    assert_eq!(
        next.body["seller_name"], "Acme Marketplace GmbH",
        "{}",
        next.text
    );
    assert_eq!(next.body["seller_vat_id"], "DE123456789", "{}", next.text);
    let kept = get(&app, host, &tea_invoice_path, &owner).await;
    assert_eq!(kept.body["seller_name"], "Nordic Tea GmbH", "{}", kept.text);

    // The pot vendor order is refunded in full after its payout: the commission invoiced on
    // it (3.90, of which 0.62 VAT) comes back to the vendor in a commission credit note, and
    // the VAT goes back from tax payable to commission revenue.
    let (before_refund, _) = trial_balance(&app, host, &owner).await;
    let pot_vo = vendor_order_of(&seen, pot_v);
    let refunded = post_with(
        &app,
        host,
        &format!("/api/v1/orders/{order}/refunds"),
        Some(&owner),
        &[("idempotency-key", "commission-refund-1")],
        &json!({ "amount": pot_vo["total"], "vendor_order_id": pot_vo["id"], "reason": "returned" }),
    )
    .await;
    assert_eq!(refunded.status, 201, "{}", refunded.text);
    app.settle().await;
    let credits: Vec<Value> = invoices(&app, host, &owner, None)
        .await
        .into_iter()
        .filter(|d| d["kind"] == "commission_credit_note")
        .collect();
    assert_eq!(credits.len(), 1, "{credits:?}");
    let ccn = credits[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(credits[0]["number"], format!("CCN-{year}-000001"));
    assert_eq!(credits[0]["vendor_id"], pot_v);
    let pot_invoice = commission.iter().find(|d| d["vendor_id"] == pot_v).unwrap();
    assert_eq!(credits[0]["payout_id"], pot_invoice["payout_id"]);
    let detail = get(
        &app,
        host,
        &format!("/api/v1/invoices/{ccn}"),
        &m.pots.token,
    )
    .await;
    assert_eq!(detail.status, 200, "{}", detail.text);
    assert_eq!(
        (
            amount(&detail, "net"),
            amount(&detail, "tax"),
            amount(&detail, "total")
        ),
        (328, 62, 390),
        "{}",
        detail.text
    );
    let text = flat(&pdf_text(&rendered_pdf(&app, host, &ccn, &owner).await));
    for wanted in [
        "Commission credit note",
        "EUR 0.62",
        "EUR 3.90",
        "DE987654321",
    ] {
        assert!(text.contains(wanted), "{wanted:?} in {text}");
    }
    let (after_refund, totals) = trial_balance(&app, host, &owner).await;
    assert_eq!(totals.0, totals.1);
    // The refund takes the 3.90 commission back from revenue; the credit note returns its
    // 0.62 VAT to it.
    assert_eq!(
        credit(&after_refund, "4100"),
        credit(&before_refund, "4100") - 390 + 62
    );
    // Another vendor, a customer and another shop do not see it.
    for (h, token) in [
        (host, m.tea.token.as_str()),
        (host, customer.as_str()),
        (other.host.as_str(), other.owner.as_str()),
    ] {
        let hidden = get(&app, h, &format!("/api/v1/invoices/{ccn}"), token).await;
        assert_eq!(hidden.status, 404, "{}", hidden.text);
    }
}

//! Expenses through the gateway: a shop's owner records an expense with its PDF receipt,
//! reads both back and sees the cost in the profit and loss and the VAT summary; a vendor's
//! token can neither record nor read expenses; another shop finds none of it.

use crate::on_all_backends;
use crate::orders::post_with;
use crate::support::{Backend, TestApp};
use chrono::Datelike;
use serde_json::json;

on_all_backends!(an_owner_records_an_expense_with_its_receipt_and_sees_it_in_the_books);

/// A minimal PDF.
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";

async fn an_owner_records_an_expense_with_its_receipt_and_sees_it_in_the_books(
    backend: Backend,
    test: &str,
) {
    let Some(app) = TestApp::spawn(backend, test).await else {
        return;
    };
    let admin = app.admin_token().await;
    let shop = app.shop(&admin, "growth").await;
    let other = app.shop(&admin, "growth").await;
    let host = shop.host.as_str();
    let owner = shop.owner.clone();
    let year = chrono::Utc::now().year();
    let today = chrono::Utc::now().date_naive().to_string();

    // 238.00 of marketing at 19 %: 200.00 net and 38.00 input VAT, paid from the bank.
    let body = json!({
        "category": "marketing",
        "description": "Spring newsletter campaign",
        "amount": { "amount": 23_800, "currency": "EUR" },
        "vat_rate": "19",
        "incurred_on": today,
    });
    let created = post_with(
        &app,
        host,
        "/api/v1/expenses",
        Some(&owner),
        &[("idempotency-key", "newsletter-1")],
        &body,
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.str("id");
    assert_eq!(created.body["net"]["amount"], 20_000);
    assert_eq!(created.body["vat"]["amount"], 3_800);
    // A retry with the same key is the same expense.
    let retried = post_with(
        &app,
        host,
        "/api/v1/expenses",
        Some(&owner),
        &[("idempotency-key", "newsletter-1")],
        &body,
    )
    .await;
    assert_eq!(retried.status, 201, "{}", retried.text);
    assert_eq!(retried.str("id"), id);

    // The receipt, uploaded as the body, read back as it was.
    let receipt_path = format!("/api/v1/expenses/{id}/receipt");
    let uploaded = crate::catalog::send_bytes(
        &app,
        host,
        "PUT",
        &receipt_path,
        &owner,
        "application/pdf",
        PDF.to_vec(),
    )
    .await;
    assert_eq!(uploaded.status, 200, "{}", uploaded.text);
    assert_eq!(uploaded.body["receipt"]["content_type"], "application/pdf");
    let bearer = format!("Bearer {owner}");
    let receipt = app
        .client
        .send_raw(
            "GET",
            host,
            &receipt_path,
            &[("authorization", bearer.as_str())],
            Vec::new(),
        )
        .await
        .unwrap();
    assert_eq!(receipt.status, 200, "{}", receipt.text);
    assert_eq!(receipt.content_type(), "application/pdf");
    assert_eq!(receipt.text.as_bytes(), PDF);
    let read = app
        .client
        .get(host, &format!("/api/v1/expenses/{id}"), Some(&owner))
        .await
        .unwrap();
    assert_eq!(read.status, 200, "{}", read.text);
    assert_eq!(read.body["receipt"]["size"], PDF.len());
    assert_eq!(read.body["status"], "posted");
    let listed = app
        .client
        .get(host, "/api/v1/expenses", Some(&owner))
        .await
        .unwrap();
    assert_eq!(listed.body["data"].as_array().unwrap().len(), 1);

    // In the books: the P&L's marketing line and the VAT to reclaim.
    let period = format!("currency=EUR&from={year}-01-01&to={year}-12-31");
    let pl = app
        .client
        .get(
            host,
            &format!("/api/v1/ledger/profit-and-loss?{period}"),
            Some(&owner),
        )
        .await
        .unwrap();
    assert_eq!(pl.status, 200, "{}", pl.text);
    let marketing = pl.body["expenses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["code"] == "6200")
        .unwrap()
        .clone();
    assert_eq!(marketing["amount"]["amount"], 20_000);
    assert_eq!(pl.body["total_expenses"]["amount"], 20_000);
    assert_eq!(pl.body["net_income"]["amount"], -20_000);
    let vat = app
        .client
        .get(
            host,
            &format!("/api/v1/ledger/vat-summary?{period}"),
            Some(&owner),
        )
        .await
        .unwrap();
    assert_eq!(vat.status, 200, "{}", vat.text);
    assert_eq!(vat.body["input_vat"]["amount"], 3_800);
    assert_eq!(vat.body["payable"]["amount"], -3_800);
    let (accounts, (debit, credit)) = crate::ledger::trial_balance(&app, host, &owner).await;
    assert_eq!(accounts["6200"], (20_000, 0));
    assert_eq!(accounts["1300"], (3_800, 0));
    assert_eq!(accounts["1200"], (0, 23_800));
    assert_eq!(debit, credit);

    // A vendor's token: no expenses, no P&L; its own statement only.
    let (vendor, seller) = app.vendor_with_owner(&shop, "Nordic Tea").await;
    let denied = post_with(
        &app,
        host,
        "/api/v1/expenses",
        Some(&seller),
        &[("idempotency-key", "vendor-1")],
        &body,
    )
    .await;
    assert_eq!(denied.status, 403, "{}", denied.text);
    for path in [
        format!("/api/v1/expenses/{id}"),
        receipt_path.clone(),
        "/api/v1/expenses".to_owned(),
        format!("/api/v1/ledger/profit-and-loss?{period}"),
    ] {
        let reply = app.client.get(host, &path, Some(&seller)).await.unwrap();
        assert!(
            reply.status == 403 || reply.status == 404,
            "{path}: {} {}",
            reply.status,
            reply.text
        );
    }
    let own = app
        .client
        .get(
            host,
            &format!("/api/v1/ledger/vendors/{vendor}/statement?{period}"),
            Some(&seller),
        )
        .await
        .unwrap();
    assert_eq!(own.status, 200, "{}", own.text);
    assert_eq!(own.body["closing_balance"]["amount"], 0);
    let (rival, _) = app.vendor_with_owner(&shop, "Baltic Amber").await;
    let theirs = app
        .client
        .get(
            host,
            &format!("/api/v1/ledger/vendors/{rival}/statement?{period}"),
            Some(&seller),
        )
        .await
        .unwrap();
    assert_eq!(theirs.status, 404, "{}", theirs.text);

    // Another shop: the expense and its receipt do not exist there; its books are empty.
    let other_host = other.host.as_str();
    for path in [format!("/api/v1/expenses/{id}"), receipt_path.clone()] {
        let reply = app
            .client
            .get(other_host, &path, Some(&other.owner))
            .await
            .unwrap();
        assert_eq!(reply.status, 404, "{path}: {}", reply.text);
    }
    let stolen = crate::catalog::send_bytes(
        &app,
        other_host,
        "PUT",
        &receipt_path,
        &other.owner,
        "application/pdf",
        PDF.to_vec(),
    )
    .await;
    assert_eq!(stolen.status, 404, "{}", stolen.text);
    let empty = app
        .client
        .get(
            other_host,
            &format!("/api/v1/ledger/profit-and-loss?{period}"),
            Some(&other.owner),
        )
        .await
        .unwrap();
    assert_eq!(empty.status, 200, "{}", empty.text);
    assert_eq!(empty.body["total_expenses"]["amount"], 0);
}

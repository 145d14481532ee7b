//! Customer invoices and credit notes through the gateway: a signed-in customer's
//! two-vendor order is paid and gets two invoices with consecutive numbers, their PDFs are
//! rendered by the job (202 until then), a refund gets a credit note, and each invoice is
//! seen only by the shop's merchant staff, its vendor's staff and the customer who bought.

use crate::catalog::eur;
use crate::on_all_backends;
use crate::orders::{PAYS, checkout_body, market, post_with};
use crate::support::{Backend, TestApp};
use serde_json::{Value, json};

on_all_backends!(a_paid_order_gets_invoices_a_refund_a_credit_note_each_seen_by_whom_it_concerns);

/// The documents `token` sees on `host`, of `order` when given.
pub(crate) async fn invoices(
    app: &TestApp,
    host: &str,
    token: &str,
    order: Option<&str>,
) -> Vec<Value> {
    let path = match order {
        Some(order) => format!("/api/v1/invoices?order_id={order}"),
        None => "/api/v1/invoices".to_owned(),
    };
    let reply = app.client.get(host, &path, Some(token)).await.unwrap();
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.body["data"].as_array().unwrap().clone()
}

/// The PDF at `path` as (status, content type, Retry-After, bytes): reqwest directly, as
/// the testkit's client reads bodies as text.
async fn fetch_pdf(
    app: &TestApp,
    host: &str,
    path: &str,
    token: &str,
) -> (u16, String, Option<String>, Vec<u8>) {
    let response = reqwest::Client::new()
        .get(app.client.url(path))
        .header("host", host)
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let (kind, retry) = (
        header("content-type").unwrap_or_default(),
        header("retry-after"),
    );
    let status = response.status().as_u16();
    (
        status,
        kind,
        retry,
        response.bytes().await.unwrap().to_vec(),
    )
}

/// The text of a PDF, as `pdftotext` reads it.
pub(crate) fn pdf_text(bytes: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("document.pdf");
    std::fs::write(&file, bytes).unwrap();
    let out = std::process::Command::new("pdftotext")
        .arg(&file)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) is installed");
    assert!(out.status.success(), "pdftotext failed");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The PDF once the render job stored it: 202 with `Retry-After` until then.
pub(crate) async fn rendered_pdf(app: &TestApp, host: &str, id: &str, token: &str) -> Vec<u8> {
    let path = format!("/api/v1/invoices/{id}/pdf");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let (status, kind, retry, bytes) = fetch_pdf(app, host, &path, token).await;
        if status == 200 {
            assert_eq!(kind, "application/pdf");
            return bytes;
        }
        assert_eq!(status, 202, "{}", String::from_utf8_lossy(&bytes));
        assert_eq!(retry.as_deref(), Some("2"));
        let problem: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(problem["code"], "document_not_rendered", "{problem}");
        assert!(
            std::time::Instant::now() < deadline,
            "{id} was not rendered within 30 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

fn euros(amount: i64) -> String {
    format!("EUR {}.{:02}", amount / 100, amount % 100)
}

async fn a_paid_order_gets_invoices_a_refund_a_credit_note_each_seen_by_whom_it_concerns(
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
    // A signed-in customer buys from both vendors.
    let (_, customer) = app.customer(&m.shop).await;
    let cart = app
        .client
        .post(
            host,
            "/api/v1/carts",
            Some(&customer),
            &json!({ "lines": [{ "variant_id": tea, "quantity": 2 }, { "variant_id": pot, "quantity": 1 }] }),
        )
        .await
        .unwrap();
    assert_eq!(cart.status, 201, "{}", cart.text);
    let placed = post_with(
        &app,
        host,
        "/api/v1/checkout",
        Some(&customer),
        &[("idempotency-key", "invoices-1")],
        &checkout_body(&cart.str("id"), PAYS),
    )
    .await;
    assert_eq!(placed.status, 201, "{}", placed.text);
    assert_eq!(placed.str("status"), "paid", "{}", placed.text);
    let order = placed.str("id");
    app.settle().await;

    // Two invoices, one per vendor order, with consecutive numbers, each its total.
    let docs = invoices(&app, host, &owner, Some(&order)).await;
    assert_eq!(docs.len(), 2, "{docs:?}");
    let year = chrono::Utc::now().format("%Y").to_string();
    let mut numbers: Vec<&str> = docs.iter().map(|d| d["number"].as_str().unwrap()).collect();
    numbers.sort_unstable();
    assert_eq!(
        numbers,
        vec![
            format!("INV-{year}-000001").as_str(),
            format!("INV-{year}-000002").as_str()
        ]
    );
    let vendor_orders = placed.body["vendor_orders"].as_array().unwrap();
    let doc_of = |vendor: &str| {
        docs.iter()
            .find(|d| d["vendor_id"] == vendor)
            .expect("an invoice per vendor")
            .clone()
    };
    for part in vendor_orders {
        let doc = doc_of(part["vendor_id"].as_str().unwrap());
        assert_eq!(doc["kind"], "invoice");
        assert_eq!(doc["total"], part["total"], "{doc}");
        assert_eq!(doc["vendor_order_id"], part["id"]);
    }
    let (tea_doc, pot_doc) = (doc_of(&m.tea.vendor), doc_of(&m.pots.vendor));

    // The PDF is rendered by the job: 202 with Retry-After until then, then the PDF with
    // the number, the buyer, the lines and the total.
    let pdf = rendered_pdf(&app, host, tea_doc["id"].as_str().unwrap(), &owner).await;
    let text = pdf_text(&pdf);
    assert!(text.contains(tea_doc["number"].as_str().unwrap()), "{text}");
    let total = tea_doc["total"]["amount"].as_i64().unwrap();
    assert!(text.contains(&euros(total)), "{} in {text}", euros(total));
    assert!(text.contains("Invoice"), "{text}");
    assert!(text.contains("Nordic Tea"), "the seller's name: {text}");

    // A refund of the pot vendor order: a credit note referring to its invoice.
    let pot_total = pot_doc["total"]["amount"].as_i64().unwrap();
    let refund = post_with(
        &app,
        host,
        &format!("/api/v1/orders/{order}/refunds"),
        Some(&owner),
        &[("idempotency-key", "invoices-r1")],
        &json!({ "amount": eur(pot_total), "vendor_order_id": pot_doc["vendor_order_id"], "reason": "broken" }),
    )
    .await;
    assert_eq!(refund.status, 201, "{}", refund.text);
    app.settle().await;
    let docs = invoices(&app, host, &owner, Some(&order)).await;
    let notes: Vec<&Value> = docs.iter().filter(|d| d["kind"] == "credit_note").collect();
    assert_eq!(notes.len(), 1, "{docs:?}");
    assert_eq!(notes[0]["number"], format!("CN-{year}-000001"));
    assert_eq!(notes[0]["total"]["amount"], pot_total);
    assert_eq!(notes[0]["vendor_id"], m.pots.vendor.as_str());
    let note = app
        .client
        .get(
            host,
            &format!("/api/v1/invoices/{}", notes[0]["id"].as_str().unwrap()),
            Some(&owner),
        )
        .await
        .unwrap();
    assert_eq!(note.status, 200, "{}", note.text);
    assert_eq!(note.body["invoice_id"], pot_doc["id"]);
    let note_pdf = rendered_pdf(&app, host, notes[0]["id"].as_str().unwrap(), &owner).await;
    let text = pdf_text(&note_pdf);
    assert!(text.contains(&format!("CN-{year}-000001")), "{text}");
    assert!(text.contains(pot_doc["number"].as_str().unwrap()), "{text}");

    // Vendor staff see their vendor's only; the other's is 404.
    let theirs = invoices(&app, host, &m.tea.token, None).await;
    assert_eq!(theirs.len(), 1, "{theirs:?}");
    assert_eq!(theirs[0]["id"], tea_doc["id"]);
    for path in [
        format!("/api/v1/invoices/{}", pot_doc["id"].as_str().unwrap()),
        format!("/api/v1/invoices/{}/pdf", pot_doc["id"].as_str().unwrap()),
    ] {
        let denied = app
            .client
            .get(host, &path, Some(&m.tea.token))
            .await
            .unwrap();
        assert_eq!(denied.status, 404, "{}", denied.text);
    }
    // The customer sees the documents of their order; another customer sees none.
    let own = invoices(&app, host, &customer, None).await;
    assert_eq!(own.len(), 3, "{own:?}");
    assert!(own.iter().all(|d| d["order_id"] == order.as_str()));
    let (_, stranger) = app.customer(&m.shop).await;
    assert!(invoices(&app, host, &stranger, None).await.is_empty());
    let peek = app
        .client
        .get(
            host,
            &format!("/api/v1/invoices/{}", tea_doc["id"].as_str().unwrap()),
            Some(&stranger),
        )
        .await
        .unwrap();
    assert_eq!(peek.status, 404, "{}", peek.text);
    // A guest without a token: sign in.
    let guest = app
        .client
        .get(host, "/api/v1/invoices", None)
        .await
        .unwrap();
    assert_eq!(guest.status, 401, "{}", guest.text);

    // Another shop: the id does not exist there, and its numbering is its own.
    let admin = app.admin_token().await;
    let other = app.shop(&admin, "growth").await;
    let elsewhere = app
        .client
        .get(
            &other.host,
            &format!("/api/v1/invoices/{}", tea_doc["id"].as_str().unwrap()),
            Some(&other.owner),
        )
        .await
        .unwrap();
    assert_eq!(elsewhere.status, 404, "{}", elsewhere.text);
    assert!(
        invoices(&app, &other.host, &other.owner, None)
            .await
            .is_empty()
    );
}

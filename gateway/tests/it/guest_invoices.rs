//! A guest reads its order's invoices and credit notes with the order's token (ADR 0044):
//! a guest checkout is paid, the guest lists its invoices, reads one and downloads its PDF
//! with `X-Order-Token`, and sees the credit note of a refund. A wrong token, another
//! order's token or none, and the token on another shop, all find nothing (404, never 401
//! or 403); a signed-in customer sees its own documents, not the guest's.

use crate::catalog::eur;
use crate::invoices::pdf_text;
use crate::on_all_backends;
use crate::orders::{PAYS, cart, checkout, checkout_body, market, post_with};
use crate::support::{Backend, TestApp};
use mercato_testkit::Reply;
use serde_json::{Value, json};

on_all_backends!(a_guest_reads_its_orders_invoices_with_its_token_and_nobody_elses);

/// `GET path` on `host` with the order token `token` (none: no header).
async fn get_as_guest(app: &TestApp, host: &str, path: &str, token: Option<&str>) -> Reply {
    let headers: Vec<(&str, &str)> = token.map(|t| ("x-order-token", t)).into_iter().collect();
    app.client
        .send_raw("GET", host, path, &headers, Vec::new())
        .await
        .unwrap()
}

/// The guest's PDF once rendered (202 until then): its bytes.
async fn guest_pdf(app: &TestApp, host: &str, id: &str, token: &str) -> Vec<u8> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let response = reqwest::Client::new()
            .get(app.client.url(&format!("/api/v1/invoices/{id}/pdf")))
            .header("host", host)
            .header("x-order-token", token)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let kind = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let bytes = response.bytes().await.unwrap().to_vec();
        if status == 200 {
            assert_eq!(kind, "application/pdf");
            return bytes;
        }
        assert_eq!(status, 202, "{}", String::from_utf8_lossy(&bytes));
        assert!(
            std::time::Instant::now() < deadline,
            "{id} was not rendered within 30 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// A guest's paid two-vendor order: `(order id, order token)`.
async fn guest_order(
    app: &TestApp,
    host: &str,
    lines: &[(&str, i64)],
    key: &str,
) -> (String, String) {
    let c = cart(app, host, lines).await.str("id");
    let placed = checkout(app, host, key, &checkout_body(&c, PAYS)).await;
    assert_eq!(placed.status, 201, "{}", placed.text);
    assert_eq!(placed.str("status"), "paid", "{}", placed.text);
    (placed.str("id"), placed.str("order_token"))
}

async fn a_guest_reads_its_orders_invoices_with_its_token_and_nobody_elses(
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
    let (order, token) = guest_order(&app, host, &[(tea, 1), (pot, 1)], "guest-inv-1").await;
    let (other_order, other_token) = guest_order(&app, host, &[(tea, 2)], "guest-inv-2").await;
    app.settle().await;

    // The guest lists its order's invoices with its token: one per vendor order.
    let list = format!("/api/v1/invoices?order_id={order}");
    let mine = get_as_guest(&app, host, &list, Some(&token)).await;
    assert_eq!(mine.status, 200, "{}", mine.text);
    let docs = mine.body["data"].as_array().unwrap().clone();
    assert_eq!(docs.len(), 2, "{docs:?}");
    assert!(
        docs.iter()
            .all(|d| d["order_id"] == order.as_str() && d["kind"] == "invoice")
    );
    let doc = docs
        .iter()
        .find(|d| d["vendor_id"] == m.pots.vendor.as_str())
        .unwrap()
        .clone();
    let id = doc["id"].as_str().unwrap();
    // One of them, as the merchant sees it, and its PDF with its number and total.
    let one = get_as_guest(&app, host, &format!("/api/v1/invoices/{id}"), Some(&token)).await;
    assert_eq!(one.status, 200, "{}", one.text);
    let as_merchant = app
        .client
        .get(host, &format!("/api/v1/invoices/{id}"), Some(&owner))
        .await
        .unwrap();
    assert_eq!(one.body, as_merchant.body);
    let text = pdf_text(&guest_pdf(&app, host, id, &token).await);
    assert!(text.contains(doc["number"].as_str().unwrap()), "{text}");
    let total = doc["total"]["amount"].as_i64().unwrap();
    assert!(
        text.contains(&format!("EUR {}.{:02}", total / 100, total % 100)),
        "{text}"
    );

    // A refund's credit note is the guest's too.
    let refund = post_with(
        &app,
        host,
        &format!("/api/v1/orders/{order}/refunds"),
        Some(&owner),
        &[("idempotency-key", "guest-inv-r1")],
        &json!({ "amount": eur(total), "vendor_order_id": doc["vendor_order_id"], "reason": "broken" }),
    )
    .await;
    assert_eq!(refund.status, 201, "{}", refund.text);
    app.settle().await;
    let mine = get_as_guest(&app, host, &list, Some(&token)).await;
    assert_eq!(mine.status, 200, "{}", mine.text);
    let notes: Vec<Value> = mine.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["kind"] == "credit_note")
        .cloned()
        .collect();
    assert_eq!(notes.len(), 1, "{}", mine.text);
    let note = notes[0]["id"].as_str().unwrap();
    let seen = get_as_guest(
        &app,
        host,
        &format!("/api/v1/invoices/{note}"),
        Some(&token),
    )
    .await;
    assert_eq!(seen.status, 200, "{}", seen.text);
    assert_eq!(seen.body["invoice_id"], doc["id"]);

    // A wrong token, the other order's token, or none: nothing exists.
    let wrong = format!("otk_{}", "0".repeat(64));
    for attempt in [Some(wrong.as_str()), Some(other_token.as_str()), None] {
        for path in [
            list.clone(),
            format!("/api/v1/invoices/{id}"),
            format!("/api/v1/invoices/{id}/pdf"),
            format!("/api/v1/invoices/{note}"),
        ] {
            let denied = get_as_guest(&app, host, &path, attempt).await;
            assert_eq!(
                denied.status, 404,
                "{path} with {attempt:?}: {}",
                denied.text
            );
        }
    }
    // The other order's token opens that order's invoice, and only it.
    let theirs = get_as_guest(
        &app,
        host,
        &format!("/api/v1/invoices?order_id={other_order}"),
        Some(&other_token),
    )
    .await;
    assert_eq!(theirs.status, 200, "{}", theirs.text);
    let theirs = theirs.body["data"].as_array().unwrap().clone();
    assert_eq!(theirs.len(), 1, "{theirs:?}");
    assert_eq!(theirs[0]["order_id"], other_order.as_str());

    // The token on another shop: the order and its documents do not exist there.
    let admin = app.admin_token().await;
    let elsewhere = app.shop(&admin, "growth").await;
    for path in [
        list.clone(),
        format!("/api/v1/invoices/{id}"),
        format!("/api/v1/invoices/{id}/pdf"),
    ] {
        let denied = get_as_guest(&app, &elsewhere.host, &path, Some(&token)).await;
        assert_eq!(denied.status, 404, "{path} elsewhere: {}", denied.text);
    }

    // A signed-in customer sees its own order's invoices, not the guest's.
    let (_, customer) = app.customer(&m.shop).await;
    let own_cart = app
        .client
        .post(
            host,
            "/api/v1/carts",
            Some(&customer),
            &json!({ "lines": [{ "variant_id": tea, "quantity": 1 }] }),
        )
        .await
        .unwrap();
    assert_eq!(own_cart.status, 201, "{}", own_cart.text);
    let placed = post_with(
        &app,
        host,
        "/api/v1/checkout",
        Some(&customer),
        &[("idempotency-key", "guest-inv-3")],
        &checkout_body(&own_cart.str("id"), PAYS),
    )
    .await;
    assert_eq!(placed.status, 201, "{}", placed.text);
    app.settle().await;
    let own = app
        .client
        .get(host, "/api/v1/invoices", Some(&customer))
        .await
        .unwrap();
    assert_eq!(own.status, 200, "{}", own.text);
    let own = own.body["data"].as_array().unwrap().clone();
    assert_eq!(own.len(), 1, "{own:?}");
    assert_eq!(own[0]["order_id"], placed.str("id").as_str());
    let peek = app
        .client
        .get(host, &format!("/api/v1/invoices/{id}"), Some(&customer))
        .await
        .unwrap();
    assert_eq!(peek.status, 404, "{}", peek.text);
    let listed = app.client.get(host, &list, Some(&customer)).await.unwrap();
    assert_eq!(listed.status, 200, "{}", listed.text);
    assert_eq!(listed.body["data"], json!([]), "{}", listed.text);
}

//! Expenses: recorded once per idempotency key with a balanced entry that shows in the
//! trial balance, refused whole when a field is wrong, reversed rather than edited, with a
//! receipt kept per shop; another shop's expense does not exist.

use crate::on_every_backend;
use crate::support::{Caller, Service};
use axum::http::StatusCode;
use mercato_tenant_context::{Role, TenantId, VendorId};
use serde_json::{Value, json};

on_every_backend!(
    expense_posts_a_balanced_entry_that_shows_in_the_trial_balance,
    expense_idempotency_key_replays_and_refuses_another_request,
    expense_reversal_posts_the_mirror_entry_once,
    expense_bad_input_is_422_with_every_field_and_changes_nothing,
    expense_receipt_upload_is_checked_stored_and_served,
    expense_of_another_shop_does_not_exist_and_rights_are_checked,
);

/// A 1×1 PNG.
pub const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82";
/// A minimal PDF.
pub const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";

pub fn expense(category: &str, amount: i64, vat_rate: &str, incurred_on: &str) -> Value {
    json!({
        "category": category,
        "description": format!("{category} for the shop"),
        "amount": { "amount": amount, "currency": "EUR" },
        "vat_rate": vat_rate,
        "incurred_on": incurred_on,
    })
}

/// Records `body` as the shop's owner with a fresh key; the expense.
pub async fn record(service: &Service, shop: TenantId, body: &Value) -> Value {
    let key = uuid::Uuid::now_v7().to_string();
    let reply = service
        .post_json(&Caller::owner(shop), "/api/v1/expenses", Some(&key), body)
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body
}

fn today() -> String {
    chrono::Utc::now().date_naive().to_string()
}

async fn journal_len(service: &Service, shop: TenantId) -> usize {
    let reply = service
        .get(&Caller::owner(shop), "/api/v1/ledger/entries?limit=100")
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body["data"].as_array().unwrap().len()
}

async fn expense_posts_a_balanced_entry_that_shows_in_the_trial_balance(service: Service) {
    let shop = TenantId::new();
    // 119.00 of marketing at 19 %: 100.00 net, 19.00 VAT, out of the bank.
    let ads = record(
        &service,
        shop,
        &expense("marketing", 11_900, "19", &today()),
    )
    .await;
    assert_eq!(ads["net"], json!({ "amount": 10_000, "currency": "EUR" }));
    assert_eq!(ads["vat"], json!({ "amount": 1_900, "currency": "EUR" }));
    assert_eq!(ads["amount"]["amount"], 11_900);
    assert_eq!(ads["vat_rate"], "19");
    assert_eq!(ads["paid_from"], "bank");
    assert_eq!(ads["status"], "posted");
    assert!(ads["id"].as_str().unwrap().starts_with("exp_"));
    // 10.00 of delivery at 7 % paid from the provider: 0.654… → 0.65 VAT, 9.35 net;
    // and 4.99 of other costs with the VAT amount from the receipt.
    let delivery = json!({
        "category": "delivery_cost",
        "description": "courier",
        "amount": { "amount": 1_000, "currency": "EUR" },
        "vat_rate": "7",
        "incurred_on": today(),
        "paid_from": "psp",
    });
    let courier = record(&service, shop, &delivery).await;
    assert_eq!(courier["vat"]["amount"], 65);
    assert_eq!(courier["net"]["amount"], 935);
    let other = json!({
        "category": "other",
        "description": "stationery",
        "amount": { "amount": 499, "currency": "EUR" },
        "vat": { "amount": 80, "currency": "EUR" },
        "incurred_on": today(),
    });
    let stationery = record(&service, shop, &other).await;
    assert_eq!(stationery["vat_rate"], Value::Null);
    assert_eq!(stationery["net"]["amount"], 419);

    let (accounts, debit, credit) = service.trial_balance(shop).await;
    let expected: Vec<(String, i64, i64)> = [
        ("1100", 0, 1_000),
        ("1200", 0, 11_900 + 499),
        ("1300", 1_900 + 65 + 80, 0),
        ("6200", 10_000, 0),
        ("6300", 935, 0),
        ("6900", 419, 0),
    ]
    .iter()
    .map(|(c, d, k)| ((*c).to_owned(), *d, *k))
    .collect();
    assert_eq!(accounts, expected);
    assert_eq!((debit, credit), (13_399, 13_399));

    // The entry the expense names is in the journal, as an expense, balanced.
    let journal = service
        .get(&Caller::owner(shop), "/api/v1/ledger/entries")
        .await;
    let entry = journal.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == ads["entry_id"])
        .expect("the expense's entry")
        .clone();
    assert_eq!(entry["kind"], "expense");
    assert_eq!(entry["source_event"], Value::Null);
    assert_eq!(entry["lines"].as_array().unwrap().len(), 3);

    // Read back one by one and listed, filtered by category and date.
    let id = ads["id"].as_str().unwrap();
    let one = service
        .get(&Caller::owner(shop), &format!("/api/v1/expenses/{id}"))
        .await;
    assert_eq!(one.status, StatusCode::OK);
    assert_eq!(one.body, ads);
    let all = service
        .get(&Caller::owner(shop), "/api/v1/expenses?limit=2")
        .await;
    assert_eq!(all.body["data"].as_array().unwrap().len(), 2);
    let cursor = all.body["next_cursor"].as_str().unwrap().to_owned();
    let rest = service
        .get(
            &Caller::owner(shop),
            &format!("/api/v1/expenses?limit=2&cursor={cursor}"),
        )
        .await;
    assert_eq!(rest.body["data"].as_array().unwrap().len(), 1);
    assert_eq!(rest.body["next_cursor"], Value::Null);
    let marketing = service
        .get(&Caller::owner(shop), "/api/v1/expenses?category=marketing")
        .await;
    assert_eq!(marketing.body["data"].as_array().unwrap().len(), 1);
    let tomorrow = (chrono::Utc::now().date_naive() + chrono::Days::new(1)).to_string();
    let later = service
        .get(
            &Caller::owner(shop),
            &format!("/api/v1/expenses?from={tomorrow}"),
        )
        .await;
    assert_eq!(later.body["data"].as_array().unwrap().len(), 0);
}

async fn expense_idempotency_key_replays_and_refuses_another_request(service: Service) {
    let shop = TenantId::new();
    let owner = Caller::owner(shop);
    let body = expense("product_cost", 5_000, "19", &today());
    let first = service
        .post_json(&owner, "/api/v1/expenses", Some("buy-stock-1"), &body)
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    // The same request again (and with the default spelled out): the same expense.
    let mut spelled_out = body.clone();
    spelled_out["paid_from"] = json!("bank");
    for again in [&body, &spelled_out] {
        let replay = service
            .post_json(&owner, "/api/v1/expenses", Some("buy-stock-1"), again)
            .await;
        assert_eq!(replay.status, StatusCode::CREATED, "{}", replay.body);
        assert_eq!(replay.body, first.body);
    }
    // Another request with the key: refused, nothing posted.
    let other = expense("product_cost", 5_001, "19", &today());
    let reused = service
        .post_json(&owner, "/api/v1/expenses", Some("buy-stock-1"), &other)
        .await;
    assert_eq!(reused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reused.body["code"], "idempotency_key_reused");
    // Without a key: 400.
    let keyless = service
        .post_json(&owner, "/api/v1/expenses", None, &body)
        .await;
    assert_eq!(keyless.status, StatusCode::BAD_REQUEST, "{}", keyless.body);
    assert_eq!(journal_len(&service, shop).await, 1);
    let (_, debit, _) = service.trial_balance(shop).await;
    assert_eq!(debit, 5_000);

    // Concurrent requests with one key record one expense.
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let (service, owner, body) = (service.clone(), owner.clone(), body.clone());
            tokio::spawn(async move {
                service
                    .post_json(&owner, "/api/v1/expenses", Some("race"), &body)
                    .await
            })
        })
        .collect();
    let mut ids = std::collections::BTreeSet::new();
    for task in tasks {
        let reply = task.await.unwrap();
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        ids.insert(reply.body["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(ids.len(), 1);
    assert_eq!(journal_len(&service, shop).await, 2);
}

async fn expense_reversal_posts_the_mirror_entry_once(service: Service) {
    let shop = TenantId::new();
    let owner = Caller::owner(shop);
    let ads = record(
        &service,
        shop,
        &expense("marketing", 11_900, "19", &today()),
    )
    .await;
    let kept = record(&service, shop, &expense("other", 1_000, "0", &today())).await;
    let id = ads["id"].as_str().unwrap();
    let path = format!("/api/v1/expenses/{id}/reverse");
    let reversed = service.post_json(&owner, &path, None, &json!({})).await;
    assert_eq!(reversed.status, StatusCode::OK, "{}", reversed.body);
    assert_eq!(reversed.body["status"], "reversed");
    assert!(reversed.body["reversal_entry_id"].is_string());
    assert!(reversed.body["reversed_at"].is_string());
    // Again: the same answer, nothing more posted.
    let again = service.post_json(&owner, &path, None, &json!({})).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body, reversed.body);
    assert_eq!(journal_len(&service, shop).await, 3);
    // Only the kept expense is left in the balances.
    let (accounts, debit, credit) = service.trial_balance(shop).await;
    assert_eq!(
        accounts,
        vec![("1200".to_owned(), 0, 1_000), ("6900".to_owned(), 1_000, 0)]
    );
    assert_eq!((debit, credit), (1_000, 1_000));
    let listed = service.get(&owner, "/api/v1/expenses").await;
    let statuses: Vec<&str> = listed.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, vec!["reversed", "posted"]);
    assert_eq!(kept["status"], "posted");
    // An expense cannot be changed or deleted through the API at all.
    for method in ["PATCH", "PUT", "DELETE"] {
        let raw = service
            .send(
                &owner,
                method,
                &format!("/api/v1/expenses/{id}"),
                &[],
                Vec::new(),
            )
            .await;
        assert_eq!(raw.status, StatusCode::METHOD_NOT_ALLOWED, "{method}");
    }
    // Staff without `ledger:write` cannot reverse.
    let staff = Caller::with_role(shop, Role::Staff);
    let kept_path = format!("/api/v1/expenses/{}/reverse", kept["id"].as_str().unwrap());
    let refused = service
        .post_json(&staff, &kept_path, None, &json!({}))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

async fn expense_bad_input_is_422_with_every_field_and_changes_nothing(service: Service) {
    let shop = TenantId::new();
    let owner = Caller::owner(shop);
    let future = (chrono::Utc::now().date_naive() + chrono::Days::new(30)).to_string();
    let bad = json!({
        "category": "yachts",
        "description": "  ",
        "amount": { "amount": 0, "currency": "XXY" },
        "vat_rate": "19%",
        "incurred_on": future,
        "paid_from": "cash",
    });
    let reply = service
        .post_json(&owner, "/api/v1/expenses", Some("bad-1"), &bad)
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    let mut fields: Vec<&str> = reply.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        vec![
            "/amount/amount",
            "/amount/currency",
            "/category",
            "/description",
            "/incurred_on",
            "/paid_from",
            "/vat_rate",
        ]
    );
    let cases = [
        (
            json!({ "vat_rate": "19", "vat": { "amount": 1, "currency": "EUR" } }),
            "/vat",
        ),
        (
            json!({ "vat": { "amount": 20_000, "currency": "EUR" } }),
            "/vat/amount",
        ),
        (
            json!({ "vat": { "amount": 10, "currency": "USD" } }),
            "/vat/currency",
        ),
        (json!({ "incurred_on": "2026-02-30" }), "/incurred_on"),
        (json!({ "vat_rate": "101" }), "/vat_rate"),
        (
            json!({ "amount": { "amount": -5, "currency": "EUR" } }),
            "/amount/amount",
        ),
    ];
    for (change, field) in cases {
        let mut body = expense("marketing", 10_000, "19", &today());
        if change.get("vat").is_some() && change.get("vat_rate").is_none() {
            body.as_object_mut().unwrap().remove("vat_rate");
        }
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        let reply = service
            .post_json(&owner, "/api/v1/expenses", Some("bad-2"), &body)
            .await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(reply.body["errors"][0]["field"], field, "{}", reply.body);
    }
    // A missing field or an unknown one is named too.
    let mut missing = expense("marketing", 100, "0", &today());
    missing.as_object_mut().unwrap().remove("incurred_on");
    let reply = service
        .post_json(&owner, "/api/v1/expenses", Some("bad-3"), &missing)
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.body["errors"][0]["field"], "/incurred_on");
    // Nothing was stored: no expense, no entry, and a refused key is free for a good one.
    assert_eq!(journal_len(&service, shop).await, 0);
    let listed = service.get(&owner, "/api/v1/expenses").await;
    assert_eq!(listed.body["data"], json!([]));
    let good = service
        .post_json(
            &owner,
            "/api/v1/expenses",
            Some("bad-1"),
            &expense("marketing", 100, "0", &today()),
        )
        .await;
    assert_eq!(good.status, StatusCode::CREATED, "{}", good.body);
    // Bad list filters are named as well.
    let reply = service
        .get(&owner, "/api/v1/expenses?from=yesterday&category=yachts")
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.body["errors"].as_array().unwrap().len(), 2);
}

async fn expense_receipt_upload_is_checked_stored_and_served(service: Service) {
    let shop = TenantId::new();
    let owner = Caller::owner(shop);
    let ads = record(
        &service,
        shop,
        &expense("marketing", 11_900, "19", &today()),
    )
    .await;
    let id = ads["id"].as_str().unwrap();
    let path = format!("/api/v1/expenses/{id}/receipt");
    // None yet.
    assert_eq!(
        service.get(&owner, &path).await.status,
        StatusCode::NOT_FOUND
    );
    // Refused: not a receipt type, not what it claims, empty, too large.
    let html = service
        .put_bytes(&owner, &path, "application/pdf", b"<html>hi</html>")
        .await;
    assert_eq!(
        html.status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "{}",
        html.body
    );
    let liar = service.put_bytes(&owner, &path, "image/png", PDF).await;
    assert_eq!(
        liar.status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "{}",
        liar.body
    );
    let empty = service
        .put_bytes(&owner, &path, "application/pdf", b"")
        .await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    let mut huge = PDF.to_vec();
    huge.resize(10 * 1024 * 1024 + 1, b' ');
    let large = service
        .put_bytes(&owner, &path, "application/pdf", &huge)
        .await;
    assert_eq!(
        large.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        large.body
    );
    assert_eq!(
        service.get(&owner, &path).await.status,
        StatusCode::NOT_FOUND
    );

    // A PDF: stored under the shop's prefix, served back as it was.
    let stored = service
        .put_bytes(&owner, &path, "application/pdf", PDF)
        .await;
    assert_eq!(stored.status, StatusCode::OK, "{}", stored.body);
    assert_eq!(stored.body["receipt"]["content_type"], "application/pdf");
    assert_eq!(stored.body["receipt"]["size"], PDF.len());
    assert_eq!(stored.body["receipt"]["url"], path);
    let raw = service.get_raw(&owner, &path).await;
    assert_eq!(raw.status, StatusCode::OK);
    assert_eq!(raw.headers["content-type"], "application/pdf");
    assert_eq!(raw.bytes, PDF);
    let tx = service.state.db.tenant_read(shop).await.unwrap();
    let row = mercato_accounting::repo::expenses::find(&tx, id.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    drop(tx);
    let key = row.receipt.unwrap().key;
    assert!(
        key.starts_with(&format!("shops/{shop}/vendors/shop/receipts/")),
        "{key}"
    );

    // Replaced by a photo: the PNG is served, the PDF's object is gone, the usage counts
    // the PNG only.
    let photo = service.put_bytes(&owner, &path, "image/png", PNG).await;
    assert_eq!(photo.status, StatusCode::OK, "{}", photo.body);
    let raw = service.get_raw(&owner, &path).await;
    assert_eq!(raw.headers["content-type"], "image/png");
    assert_eq!(raw.bytes, PNG);
    let old = mercato_storage::ObjectKey::parse(shop, &key).unwrap();
    assert!(!service.state.storage.exists(&old).await.unwrap());
    let tx = service.state.db.tenant_read(shop).await.unwrap();
    assert_eq!(
        mercato_storage::quota::used(&tx).await.unwrap(),
        PNG.len() as u64
    );
    drop(tx);
    // The expense itself did not change.
    let after = service.get(&owner, &format!("/api/v1/expenses/{id}")).await;
    assert_eq!(after.body["amount"], ads["amount"]);
    assert_eq!(after.body["entry_id"], ads["entry_id"]);

    // Another shop cannot upload to it or read it.
    let stranger = Caller::owner(TenantId::new());
    assert_eq!(
        service.get(&stranger, &path).await.status,
        StatusCode::NOT_FOUND
    );
    let put = service.put_bytes(&stranger, &path, "image/png", PNG).await;
    assert_eq!(put.status, StatusCode::NOT_FOUND);
}

async fn expense_of_another_shop_does_not_exist_and_rights_are_checked(service: Service) {
    let (shop, other) = (TenantId::new(), TenantId::new());
    let ads = record(
        &service,
        shop,
        &expense("marketing", 11_900, "19", &today()),
    )
    .await;
    let id = ads["id"].as_str().unwrap();
    let stranger = Caller::owner(other);
    for path in [
        format!("/api/v1/expenses/{id}"),
        format!("/api/v1/expenses/{id}/receipt"),
    ] {
        assert_eq!(
            service.get(&stranger, &path).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let reverse = service
        .post_json(
            &stranger,
            &format!("/api/v1/expenses/{id}/reverse"),
            None,
            &json!({}),
        )
        .await;
    assert_eq!(reverse.status, StatusCode::NOT_FOUND);
    let listed = service.get(&stranger, "/api/v1/expenses").await;
    assert_eq!(listed.body["data"], json!([]));
    // The first shop's expense is still posted.
    let mine = service
        .get(&Caller::owner(shop), &format!("/api/v1/expenses/{id}"))
        .await;
    assert_eq!(mine.body["status"], "posted");
    // A malformed id names nothing: 404.
    assert_eq!(
        service
            .get(&Caller::owner(shop), "/api/v1/expenses/nope")
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // Who may do what: admin records; staff reads nothing; vendor staff and anonymous
    // callers neither record nor read.
    let body = expense("other", 100, "0", &today());
    let admin = Caller::with_role(shop, Role::Admin);
    let made = service
        .post_json(&admin, "/api/v1/expenses", Some("admin-1"), &body)
        .await;
    assert_eq!(made.status, StatusCode::CREATED);
    let staff = Caller::with_role(shop, Role::Staff);
    let vendor = Caller::vendor_owner(shop, VendorId::new());
    for (caller, status) in [
        (&staff, StatusCode::FORBIDDEN),
        (&vendor, StatusCode::FORBIDDEN),
        (&Caller::anonymous(shop), StatusCode::UNAUTHORIZED),
    ] {
        let post = service
            .post_json(caller, "/api/v1/expenses", Some("no-1"), &body)
            .await;
        assert_eq!(post.status, status, "{caller:?}");
        let read = service.get(caller, &format!("/api/v1/expenses/{id}")).await;
        assert_eq!(read.status, status, "{caller:?}");
    }
}

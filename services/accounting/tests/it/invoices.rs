//! Customer invoices and credit notes (ADR 0040): issued with the booking, numbered without
//! gaps per shop and series even under concurrent transactions, rendered by the job, and
//! shown only to whom they concern.

use crate::on_every_backend;
use crate::support::{Caller, Service, eur, paid, refunded, vendor_order};
use axum::http::StatusCode;
use chrono::Datelike;
use mercato_accounting::invoicing;
use mercato_accounting::repo::documents;
use mercato_events::Envelope;
use mercato_kernel::Money;
use mercato_orders_api::events::{
    InvoiceDetails, InvoiceLine, InvoiceParty, InvoiceSeller, ORDER_PAID, OrderChanged,
    VendorOrderMoney,
};
use mercato_orders_api::lifecycle::OrderStatus;
use mercato_orders_api::{OrderId, RefundId};
use mercato_tenant_context::{Actor, TenantId, UserId, VendorId};
use serde_json::Value;

on_every_backend!(
    invoice_per_vendor_order_numbered_in_sequence_once_whatever_replays,
    invoice_credit_notes_follow_refunds_in_the_ledgers_proportion,
    invoice_pdf_is_202_until_the_job_renders_it,
    invoice_visibility_merchant_vendor_customer_other_shop,
    invoice_numbers_from_concurrent_transactions_have_no_gap_and_no_duplicate,
    invoice_number_of_a_rolled_back_transaction_is_given_again,
);

fn year() -> i32 {
    chrono::Utc::now().year()
}

/// `order.paid` of `vendor_orders` bought by `customer`, with the lines and buyer orders sends.
fn paid_with_details(
    shop: TenantId,
    order: OrderId,
    customer: Option<UserId>,
    vendor_orders: &[VendorOrderMoney],
) -> Envelope {
    let total: i64 = vendor_orders.iter().map(|v| v.total).sum();
    let payload = OrderChanged {
        order_id: order,
        status: OrderStatus::Paid,
        previous_status: OrderStatus::PendingPayment,
        reservation_id: None,
        customer_id: customer,
        total: Money::new(total, eur()),
        refunded: Money::zero(eur()),
        lines: Vec::new(),
        restock: false,
        vendor_order_ids: vendor_orders.iter().map(|v| v.vendor_order_id).collect(),
        vendor_orders: vendor_orders.to_vec(),
        actor: "provider:test".into(),
        reason: None,
        invoice: Some(InvoiceDetails {
            buyer: InvoiceParty {
                name: "Ada Lovelace".into(),
                address: vec![
                    "1 Analytical Way".into(),
                    "10115 Berlin".into(),
                    "DE".into(),
                ],
                email: Some("ada@example.com".into()),
            },
            prices_include_tax: false,
            sellers: vendor_orders
                .iter()
                .map(|v| InvoiceSeller {
                    vendor_id: v.vendor_id,
                    name: format!("Store {}", &v.vendor_id.to_string()[..8]),
                })
                .collect(),
            lines: vendor_orders
                .iter()
                .map(|v| InvoiceLine {
                    vendor_order_id: v.vendor_order_id,
                    title: "Green tea".into(),
                    sku: "TEA-1".into(),
                    quantity: 1,
                    unit_price: v.total - v.tax,
                    tax_rate: "19".into(),
                    tax: v.tax,
                    total: v.total,
                })
                .collect(),
            order_token_hash: None,
        }),
    };
    Envelope::new(ORDER_PAID, 1, shop, &payload).expect("envelope")
}

async fn documents_of(service: &Service, caller: &Caller, query: &str) -> Vec<Value> {
    let reply = service
        .get(caller, &format!("/api/v1/invoices{query}"))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body["data"].as_array().expect("data").clone()
}

fn numbers(docs: &[Value]) -> Vec<String> {
    docs.iter()
        .map(|d| d["number"].as_str().unwrap().to_owned())
        .collect()
}

async fn invoice_per_vendor_order_numbered_in_sequence_once_whatever_replays(service: Service) {
    let shop = TenantId::new();
    let owner = Caller::owner(shop);
    let (a, b) = (VendorId::new(), VendorId::new());
    let first = vendor_order(a, 11_900, 1_900, 1_000, 500);
    let second = vendor_order(b, 5_350, 350, 500, 0);
    let order = OrderId::new();
    let event = paid_with_details(shop, order, None, &[first.clone(), second.clone()]);
    service.deliver(&event).await.unwrap();
    // Redelivered, in a burst, and announced again by another event: still two invoices.
    service.deliver(&event).await.unwrap();
    service
        .deliver_batch(&[event.clone(), event.clone()])
        .await
        .unwrap();
    service
        .deliver(&paid_with_details(
            shop,
            order,
            None,
            &[first.clone(), second.clone()],
        ))
        .await
        .unwrap();
    let docs = documents_of(&service, &owner, &format!("?order_id={order}")).await;
    let y = year();
    let mut got = numbers(&docs);
    got.sort();
    assert_eq!(
        got,
        vec![format!("INV-{y}-000001"), format!("INV-{y}-000002")]
    );
    for doc in &docs {
        assert_eq!(doc["kind"], "invoice");
        assert_eq!(doc["status"], "pending");
        assert_eq!(doc["order_id"], order.to_string());
        let v = if doc["vendor_id"] == a.to_string() {
            &first
        } else {
            &second
        };
        assert_eq!(doc["total"]["amount"], v.total);
        assert_eq!(doc["total"]["currency"], "EUR");
        // The detail: net + tax = total; the lines orders sent; the seller's name.
        let one = service
            .get(
                &owner,
                &format!("/api/v1/invoices/{}", doc["id"].as_str().unwrap()),
            )
            .await;
        assert_eq!(one.status, StatusCode::OK, "{}", one.body);
        assert_eq!(one.body["tax"]["amount"], v.tax);
        assert_eq!(one.body["net"]["amount"], v.total - v.tax);
        assert_eq!(one.body["discount"]["amount"], v.discount_by_shop);
        assert_eq!(one.body["buyer_name"], "Ada Lovelace");
        assert_eq!(one.body["lines"][0]["title"], "Green tea");
        assert!(
            one.body["seller_name"]
                .as_str()
                .unwrap()
                .starts_with("Store ")
        );
    }

    // The next order continues the series; an event without lines (written before orders
    // sent them) gets the money breakdown as its lines.
    let third = vendor_order(a, 1_000, 0, 100, 0);
    service
        .deliver(&paid(shop, OrderId::new(), std::slice::from_ref(&third)))
        .await
        .unwrap();
    let all = documents_of(&service, &owner, "").await;
    assert_eq!(
        numbers(&all),
        vec![
            format!("INV-{y}-000001"),
            format!("INV-{y}-000002"),
            format!("INV-{y}-000003")
        ],
        "listed in the order issued"
    );
    let last = service
        .get(
            &owner,
            &format!("/api/v1/invoices/{}", all[2]["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(last.body["lines"][0]["title"], "Goods", "{}", last.body);
    assert_eq!(last.body["buyer_name"], Value::Null);

    // Another shop's numbering starts at 1.
    let other = TenantId::new();
    service
        .deliver(&paid(
            other,
            OrderId::new(),
            &[vendor_order(a, 500, 0, 50, 0)],
        ))
        .await
        .unwrap();
    assert_eq!(
        numbers(&documents_of(&service, &Caller::owner(other), "").await),
        vec![format!("INV-{y}-000001")]
    );
}

async fn invoice_credit_notes_follow_refunds_in_the_ledgers_proportion(service: Service) {
    let shop = TenantId::new();
    let owner = Caller::owner(shop);
    let v = vendor_order(VendorId::new(), 10_001, 1_597, 1_333, 777);
    let order = OrderId::new();
    service
        .deliver(&paid_with_details(
            shop,
            order,
            None,
            std::slice::from_ref(&v),
        ))
        .await
        .unwrap();
    let refunds = [RefundId::new(), RefundId::new(), RefundId::new()];
    for (refund, amount) in refunds.iter().zip([3_333, 3_333, 3_335]) {
        let event = refunded(shop, order, *refund, &[(v.vendor_order_id, amount)]);
        service.deliver(&event).await.unwrap();
        // Redelivered: no second credit note, no number taken.
        service.deliver(&event).await.unwrap();
    }
    let docs = documents_of(&service, &owner, &format!("?order_id={order}")).await;
    let y = year();
    assert_eq!(
        numbers(&docs),
        vec![
            format!("INV-{y}-000001"),
            format!("CN-{y}-000001"),
            format!("CN-{y}-000002"),
            format!("CN-{y}-000003"),
        ]
    );
    let (mut tax, mut net, mut total) = (0, 0, 0);
    for doc in &docs[1..] {
        assert_eq!(doc["kind"], "credit_note");
        let one = service
            .get(
                &owner,
                &format!("/api/v1/invoices/{}", doc["id"].as_str().unwrap()),
            )
            .await;
        assert_eq!(one.body["invoice_id"], docs[0]["id"], "{}", one.body);
        assert_eq!(one.body["invoice_number"], format!("INV-{y}-000001"));
        tax += one.body["tax"]["amount"].as_i64().unwrap();
        net += one.body["net"]["amount"].as_i64().unwrap();
        total += one.body["total"]["amount"].as_i64().unwrap();
    }
    // The credit notes add up to the invoice, and their tax is what the ledger reversed:
    // nothing is left on tax payable.
    assert_eq!((net, tax, total), (v.total - v.tax, v.tax, v.total));
    let (accounts, _, _) = service.trial_balance(shop).await;
    assert!(
        !accounts.iter().any(|(code, _, _)| code == "2200"),
        "{accounts:?}"
    );
}

async fn invoice_pdf_is_202_until_the_job_renders_it(service: Service) {
    let shop = TenantId::new();
    let owner = Caller::owner(shop);
    let v = vendor_order(VendorId::new(), 11_900, 1_900, 1_000, 0);
    service
        .deliver(&paid_with_details(
            shop,
            OrderId::new(),
            None,
            std::slice::from_ref(&v),
        ))
        .await
        .unwrap();
    let doc = documents_of(&service, &owner, "").await.remove(0);
    let path = format!("/api/v1/invoices/{}/pdf", doc["id"].as_str().unwrap());
    let early = service.get_raw(&owner, &path).await;
    assert_eq!(early.status, StatusCode::ACCEPTED);
    assert_eq!(early.headers["retry-after"], "2");
    let problem: Value = serde_json::from_slice(&early.bytes).unwrap();
    assert_eq!(problem["code"], "document_not_rendered", "{problem}");

    // The job runs (as the worker would), once and again: the same file, rendered once.
    let worker = invoicing::render_worker(&service.state);
    assert_eq!(worker.run_batch().await.unwrap(), 1);
    assert_eq!(worker.run_batch().await.unwrap(), 0);
    let pdf = service.get_raw(&owner, &path).await;
    assert_eq!(pdf.status, StatusCode::OK);
    assert_eq!(pdf.headers["content-type"], "application/pdf");
    assert!(pdf.bytes.starts_with(b"%PDF"), "a PDF");
    let one = service
        .get(
            &owner,
            &format!("/api/v1/invoices/{}", doc["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(one.body["status"], "rendered");
    let id = doc["id"].as_str().unwrap().parse().unwrap();
    let rendered_again =
        invoicing::render_document(&service.state.db, &service.state.storage, shop, id)
            .await
            .unwrap();
    assert!(!rendered_again, "a rendered document is not rendered twice");
}

async fn invoice_visibility_merchant_vendor_customer_other_shop(service: Service) {
    let shop = TenantId::new();
    let (a, b) = (VendorId::new(), VendorId::new());
    let buyer = UserId::new();
    let order = OrderId::new();
    let (va, vb) = (
        vendor_order(a, 2_000, 0, 200, 0),
        vendor_order(b, 3_000, 0, 300, 0),
    );
    service
        .deliver(&paid_with_details(
            shop,
            order,
            Some(buyer),
            &[va.clone(), vb.clone()],
        ))
        .await
        .unwrap();
    let stranger_order = OrderId::new();
    service
        .deliver(&paid_with_details(
            shop,
            stranger_order,
            Some(UserId::new()),
            &[vendor_order(a, 700, 0, 70, 0)],
        ))
        .await
        .unwrap();
    let all = documents_of(&service, &Caller::owner(shop), "").await;
    assert_eq!(all.len(), 3);
    let id_of = |vendor: VendorId, order: OrderId| {
        all.iter()
            .find(|d| d["vendor_id"] == vendor.to_string() && d["order_id"] == order.to_string())
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (a_doc, b_doc) = (id_of(a, order), id_of(b, order));

    // Vendor A's staff: A's two invoices, never B's.
    let vendor_a = Caller::vendor_owner(shop, a);
    let theirs = documents_of(&service, &vendor_a, "").await;
    assert_eq!(theirs.len(), 2);
    assert!(theirs.iter().all(|d| d["vendor_id"] == a.to_string()));
    for path in [
        format!("/api/v1/invoices/{b_doc}"),
        format!("/api/v1/invoices/{b_doc}/pdf"),
    ] {
        assert_eq!(
            service.get(&vendor_a, &path).await.status,
            StatusCode::NOT_FOUND
        );
    }
    assert_eq!(
        service
            .get(&vendor_a, &format!("/api/v1/invoices/{a_doc}"))
            .await
            .status,
        StatusCode::OK
    );

    // The customer: the two invoices of their order, not the stranger's.
    let customer = Caller {
        actor: Actor::User(buyer),
        ..Caller::with_role(shop, mercato_tenant_context::Role::Customer)
    };
    let own = documents_of(&service, &customer, "").await;
    assert_eq!(own.len(), 2);
    assert!(own.iter().all(|d| d["order_id"] == order.to_string()));
    let strangers = id_of(a, stranger_order);
    assert_eq!(
        service
            .get(&customer, &format!("/api/v1/invoices/{strangers}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // Another shop's owner: nothing of this shop, and its ids are 404.
    let other = Caller::owner(TenantId::new());
    assert!(documents_of(&service, &other, "").await.is_empty());
    assert_eq!(
        service
            .get(&other, &format!("/api/v1/invoices/{a_doc}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // Anonymous: sign in.
    let anonymous = service
        .get(&Caller::anonymous(shop), "/api/v1/invoices")
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    // Staff without `ledger:read` who are no vendor's and bought nothing see nothing.
    let support = Caller::with_role(shop, mercato_tenant_context::Role::Staff);
    assert!(documents_of(&service, &support, "").await.is_empty());
}

async fn invoice_numbers_from_concurrent_transactions_have_no_gap_and_no_duplicate(
    service: Service,
) {
    const N: usize = 24;
    let shop = TenantId::new();
    let series = format!("INV-{}", year());
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..N {
        let db = service.state.db.clone();
        let series = series.clone();
        tasks.spawn(async move {
            let tx = db.tenant_tx(shop).await.expect("begin");
            let n = documents::allocate_numbers(&tx, &series, 1)
                .await
                .expect("allocate");
            // Hold the number a moment, so the others queue behind it.
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
            tx.commit().await.expect("commit");
            n
        });
    }
    let mut got: Vec<i64> = tasks.join_all().await;
    got.sort_unstable();
    assert_eq!(got, (1..=N as i64).collect::<Vec<_>>());
    // Another series of the same shop counts on its own.
    let tx = service.state.db.tenant_tx(shop).await.unwrap();
    assert_eq!(
        documents::allocate_numbers(&tx, &format!("CN-{}", year()), 1)
            .await
            .unwrap(),
        1
    );
    tx.commit().await.unwrap();
}

async fn invoice_number_of_a_rolled_back_transaction_is_given_again(service: Service) {
    let shop = TenantId::new();
    let tx = service.state.db.tenant_tx(shop).await.unwrap();
    assert_eq!(
        documents::allocate_numbers(&tx, "INV-X", 1).await.unwrap(),
        1
    );
    tx.commit().await.unwrap();
    let tx = service.state.db.tenant_tx(shop).await.unwrap();
    assert_eq!(
        documents::allocate_numbers(&tx, "INV-X", 1).await.unwrap(),
        2
    );
    drop(tx); // rolled back: the document it would have numbered never existed
    let tx = service.state.db.tenant_tx(shop).await.unwrap();
    assert_eq!(
        documents::allocate_numbers(&tx, "INV-X", 1).await.unwrap(),
        2
    );
    tx.commit().await.unwrap();
}

//! Orders' money into the ledger: a paid order books each vendor order once, refunds
//! reverse it in proportion, and only the shop's merchant staff read it.

use crate::on_every_backend;
use crate::support::{Caller, Service, paid, refunded, vendor_order};
use axum::http::StatusCode;
use mercato_orders_api::{OrderId, RefundId};
use mercato_tenant_context::{Role, TenantId, VendorId};

on_every_backend!(
    a_paid_order_books_each_vendor_order_and_the_trial_balance_balances,
    redeliveries_and_replays_post_nothing_twice,
    refunds_reverse_the_sale_in_proportion_until_nothing_is_left,
    a_refund_before_its_sale_waits_for_it,
    only_the_shops_merchant_staff_read_the_ledger,
);

fn codes(rows: &[(&str, i64, i64)]) -> Vec<(String, i64, i64)> {
    rows.iter()
        .map(|(c, d, k)| ((*c).to_owned(), *d, *k))
        .collect()
}

async fn a_paid_order_books_each_vendor_order_and_the_trial_balance_balances(service: Service) {
    let shop = TenantId::new();
    let (a, b) = (VendorId::new(), VendorId::new());
    // A: 100.00 net + 19 % = 119.00, commission 10.00, 5.00 off funded by the shop.
    // B: 50.00 net + 7 % = 53.50, commission 5.00.
    let first = vendor_order(a, 11_900, 1_900, 1_000, 500);
    let second = vendor_order(b, 5_350, 350, 500, 0);
    let order = OrderId::new();
    service
        .deliver(&paid(shop, order, &[first.clone(), second.clone()]))
        .await
        .unwrap();

    let (accounts, debit, credit) = service.trial_balance(shop).await;
    // By hand: clearing 119 + 53.50; the shop's discount 5; tax 19 + 3.50; commission 15;
    // vendors 119 − 19 + 5 − 10 = 95 and 53.50 − 3.50 − 5 = 45.
    assert_eq!(
        accounts,
        codes(&[
            ("1100", 17_250, 0),
            ("2100", 0, 14_000),
            ("2200", 0, 2_250),
            ("4100", 0, 1_500),
            ("5100", 500, 0),
        ])
    );
    assert_eq!((debit, credit), (17_750, 17_750));
    assert_eq!(first.earnings, 9_500);
    assert_eq!(second.earnings, 4_500);

    // The journal: one entry per vendor order, linked to the event and the order.
    let journal = service
        .get(
            &Caller::owner(shop),
            &format!("/api/v1/ledger/entries?order_id={order}"),
        )
        .await;
    assert_eq!(journal.status, StatusCode::OK, "{}", journal.body);
    let entries = journal.body["data"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    for entry in entries {
        assert_eq!(entry["kind"], "sale");
        assert_eq!(entry["source_event"], "order.paid");
        assert!(
            entry["source_event_id"]
                .as_str()
                .unwrap()
                .starts_with("evt_")
        );
        let lines = entry["lines"].as_array().unwrap();
        let sum = |side: &str| -> i64 {
            lines
                .iter()
                .map(|l| l[side]["amount"].as_i64().unwrap())
                .sum()
        };
        assert_eq!(sum("debit"), sum("credit"), "{entry}");
        let vendor_line = lines.iter().find(|l| l["account"] == "2100").unwrap();
        let expected = if entry["vendor_order_id"] == first.vendor_order_id.to_string() {
            (a, 9_500)
        } else {
            (b, 4_500)
        };
        assert_eq!(vendor_line["vendor_id"], expected.0.to_string());
        assert_eq!(vendor_line["credit"]["amount"], expected.1);
    }
    let other_order = service
        .get(
            &Caller::owner(shop),
            &format!("/api/v1/ledger/entries?order_id={}", OrderId::new()),
        )
        .await;
    assert_eq!(other_order.body["data"].as_array().unwrap().len(), 0);
}

async fn redeliveries_and_replays_post_nothing_twice(service: Service) {
    let shop = TenantId::new();
    let v = vendor_order(VendorId::new(), 10_000, 0, 1_000, 0);
    let order = OrderId::new();
    let event = paid(shop, order, std::slice::from_ref(&v));
    service.deliver(&event).await.unwrap();
    let once = service.trial_balance(shop).await;
    // The bus delivers it again, alone and inside a burst.
    service.deliver(&event).await.unwrap();
    service
        .deliver_batch(&[event.clone(), event.clone()])
        .await
        .unwrap();
    // The same payment announced by another event (a replay after the inbox forgot).
    service
        .deliver(&paid(shop, order, std::slice::from_ref(&v)))
        .await
        .unwrap();
    assert_eq!(service.trial_balance(shop).await, once);
    assert_eq!(once.1, 10_000);

    let refund = RefundId::new();
    let back = refunded(shop, order, refund, &[(v.vendor_order_id, 4_000)]);
    service.deliver(&back).await.unwrap();
    service.deliver(&back).await.unwrap();
    service
        .deliver(&refunded(
            shop,
            order,
            refund,
            &[(v.vendor_order_id, 4_000)],
        ))
        .await
        .unwrap();
    let (accounts, _, _) = service.trial_balance(shop).await;
    assert!(
        accounts.contains(&("1100".into(), 6_000, 0)),
        "{accounts:?}"
    );
    let journal = service
        .get(&Caller::owner(shop), "/api/v1/ledger/entries")
        .await;
    assert_eq!(journal.body["data"].as_array().unwrap().len(), 2);
}

async fn refunds_reverse_the_sale_in_proportion_until_nothing_is_left(service: Service) {
    let shop = TenantId::new();
    let (a, b) = (VendorId::new(), VendorId::new());
    let first = vendor_order(a, 11_900, 1_900, 1_000, 500);
    let second = vendor_order(b, 5_350, 350, 500, 0);
    let order = OrderId::new();
    service
        .deliver(&paid(shop, order, &[first.clone(), second.clone()]))
        .await
        .unwrap();
    // A third of the first vendor order, then the rest in one go.
    service
        .deliver(&refunded(
            shop,
            order,
            RefundId::new(),
            &[(first.vendor_order_id, 3_967)],
        ))
        .await
        .unwrap();
    let (accounts, debit, credit) = service.trial_balance(shop).await;
    assert_eq!(debit, credit);
    // 3,967 / 11,900 of tax 1,900 = 633.4 → 633; of commission 1,000 = 333.4 → 333; of the
    // shop's 500 = 166.7 → 167; the vendor gives back 3,967 − 633 − 333 + 167 = 3,168.
    assert!(
        accounts.contains(&("2200".into(), 0, 2_250 - 633)),
        "{accounts:?}"
    );
    assert!(
        accounts.contains(&("4100".into(), 0, 1_500 - 333)),
        "{accounts:?}"
    );
    assert!(
        accounts.contains(&("5100".into(), 500 - 167, 0)),
        "{accounts:?}"
    );
    assert!(
        accounts.contains(&("2100".into(), 0, 14_000 - 3_168)),
        "{accounts:?}"
    );
    service
        .deliver(&refunded(
            shop,
            order,
            RefundId::new(),
            &[(first.vendor_order_id, 11_900 - 3_967)],
        ))
        .await
        .unwrap();
    // What is left is the second vendor order's sale alone.
    let (accounts, debit, credit) = service.trial_balance(shop).await;
    assert_eq!(
        accounts,
        codes(&[
            ("1100", 5_350, 0),
            ("2100", 0, 4_500),
            ("2200", 0, 350),
            ("4100", 0, 500),
        ])
    );
    assert_eq!((debit, credit), (5_350, 5_350));
}

async fn a_refund_before_its_sale_waits_for_it(service: Service) {
    let shop = TenantId::new();
    let v = vendor_order(VendorId::new(), 2_000, 0, 200, 0);
    let order = OrderId::new();
    let early = refunded(shop, order, RefundId::new(), &[(v.vendor_order_id, 2_000)]);
    assert!(service.deliver(&early).await.is_err());
    // Nothing was booked, and the refund was not marked handled.
    let journal = service
        .get(&Caller::owner(shop), "/api/v1/ledger/entries")
        .await;
    assert_eq!(journal.body["data"].as_array().unwrap().len(), 0);
    service
        .deliver(&paid(shop, order, std::slice::from_ref(&v)))
        .await
        .unwrap();
    service.deliver(&early).await.unwrap();
    let (accounts, debit, _) = service.trial_balance(shop).await;
    assert_eq!(accounts, Vec::<(String, i64, i64)>::new());
    assert_eq!(debit, 0);
}

async fn only_the_shops_merchant_staff_read_the_ledger(service: Service) {
    let shop = TenantId::new();
    let vendor = VendorId::new();
    service
        .deliver(&paid(
            shop,
            OrderId::new(),
            &[vendor_order(vendor, 1_000, 0, 100, 0)],
        ))
        .await
        .unwrap();
    let path = "/api/v1/ledger/trial-balance?currency=EUR";
    assert_eq!(
        service
            .get(&Caller::with_role(shop, Role::Admin), path)
            .await
            .status,
        StatusCode::OK
    );
    for (caller, status) in [
        (Caller::with_role(shop, Role::Staff), StatusCode::FORBIDDEN),
        (
            Caller::with_role(shop, Role::Customer),
            StatusCode::FORBIDDEN,
        ),
        (Caller::vendor_owner(shop, vendor), StatusCode::FORBIDDEN),
        (Caller::anonymous(shop), StatusCode::UNAUTHORIZED),
    ] {
        for path in [path, "/api/v1/ledger/entries"] {
            let reply = service.get(&caller, path).await;
            assert_eq!(reply.status, status, "{caller:?} {path}: {}", reply.body);
        }
    }
    // Another shop's owner sees a ledger of its own: nothing of this shop's.
    let other = TenantId::new();
    let (accounts, debit, credit) = service.trial_balance(other).await;
    assert!(accounts.is_empty());
    assert_eq!((debit, credit), (0, 0));
    let journal = service
        .get(&Caller::owner(other), "/api/v1/ledger/entries")
        .await;
    assert_eq!(journal.body["data"].as_array().unwrap().len(), 0);
    // Bad input is a clear problem.
    let unknown = service
        .get(
            &Caller::owner(shop),
            "/api/v1/ledger/trial-balance?currency=XXX",
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(unknown.body["errors"][0]["field"], "/currency");
    let bad = service
        .get(&Caller::owner(shop), "/api/v1/ledger/entries?order_id=nope")
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.body["errors"][0]["field"], "/order_id");
}

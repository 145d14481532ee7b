//! The period reports read from the journal: profit and loss beside the previous period,
//! the VAT summary, and a vendor's statement with its opening, running and closing
//! balance; each shows only the shop's own books, a statement only to whom may see it.

use crate::expenses::{expense, record};
use crate::on_every_backend;
use crate::support::{Caller, Service, eur, paid, refunded, vendor_order};
use axum::http::StatusCode;
use chrono::{DateTime, Datelike, Utc};
use mercato_events::Envelope;
use mercato_kernel::Money;
use mercato_orders_api::{OrderId, RefundId};
use mercato_payouts_api::{PAYOUT_PAID, PayoutChanged, PayoutId, PayoutStatus};
use mercato_tenant_context::{Role, TenantId, VendorId};
use serde_json::{Value, json};

on_every_backend!(
    report_profit_and_loss_matches_a_hand_calculation_beside_the_previous_period,
    report_vat_summary_nets_output_against_input_vat,
    report_vendor_statement_runs_from_opening_to_closing_balance,
    report_of_another_shop_or_vendor_shows_nothing,
    report_bad_periods_are_422,
);

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

fn dated(mut event: Envelope, when: DateTime<Utc>) -> Envelope {
    event.occurred_at = when;
    event
}

fn payout(shop: TenantId, vendor: VendorId, amount: i64, when: DateTime<Utc>) -> Envelope {
    let payload = PayoutChanged {
        payout_id: PayoutId::new(),
        run_id: None,
        vendor_id: vendor,
        amount: Money::new(amount, eur()),
        status: PayoutStatus::Paid,
        previous_status: Some(PayoutStatus::InTransit),
        method: "bank_transfer".into(),
        reference: Some("BANK-REF-1".into()),
        failure: None,
        actor: "usr_staff".into(),
        items: Vec::new(),
    };
    dated(Envelope::new(PAYOUT_PAID, 1, shop, &payload).unwrap(), when)
}

/// `code → amount` of a P&L section.
fn section(period: &Value, name: &str) -> Vec<(String, i64)> {
    period[name]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["code"].as_str().unwrap().to_owned(),
                a["amount"]["amount"].as_i64().unwrap(),
            )
        })
        .filter(|(_, amount)| *amount != 0)
        .collect()
}

fn amount(v: &Value) -> i64 {
    assert_eq!(v["currency"], "EUR", "{v}");
    v["amount"].as_i64().unwrap()
}

fn pairs(rows: &[(&str, i64)]) -> Vec<(String, i64)> {
    rows.iter().map(|(c, a)| ((*c).to_owned(), *a)).collect()
}

async fn report_profit_and_loss_matches_a_hand_calculation_beside_the_previous_period(
    service: Service,
) {
    let shop = TenantId::new();
    let owner = Caller::owner(shop);
    let year = Utc::now().year();
    let first_day = format!("{year}-01-01");
    let (a, b) = (VendorId::new(), VendorId::new());
    // This year: A's 119.00 sale (19.00 tax, 10.00 commission, 5.00 off funded by the
    // shop), half of it refunded.
    let sale = vendor_order(a, 11_900, 1_900, 1_000, 500);
    let order = OrderId::new();
    service
        .deliver(&paid(shop, order, std::slice::from_ref(&sale)))
        .await
        .unwrap();
    service
        .deliver(&refunded(
            shop,
            order,
            RefundId::new(),
            &[(sale.vendor_order_id, 5_950)],
        ))
        .await
        .unwrap();
    // Expenses on the first day of the year (its first instant belongs to it): marketing
    // 119.00 at 19 %, stock 50.00 without VAT, and a courier bill reversed since.
    record(
        &service,
        shop,
        &expense("marketing", 11_900, "19", &first_day),
    )
    .await;
    record(
        &service,
        shop,
        &expense("product_cost", 5_000, "0", &first_day),
    )
    .await;
    let courier = record(
        &service,
        shop,
        &expense("delivery_cost", 1_070, "7", &first_day),
    )
    .await;
    let reversed = service
        .post_json(
            &owner,
            &format!(
                "/api/v1/expenses/{}/reverse",
                courier["id"].as_str().unwrap()
            ),
            None,
            &json!({}),
        )
        .await;
    assert_eq!(reversed.status, StatusCode::OK);
    // The last day of last year: B's sale (5.00 commission) and 20.00 of other costs.
    let last_year = format!("{}-12-31", year - 1);
    let before = vendor_order(b, 5_350, 350, 500, 0);
    service
        .deliver(&dated(
            paid(shop, OrderId::new(), &[before]),
            at(&format!("{last_year}T23:59:59.999999Z")),
        ))
        .await
        .unwrap();
    record(&service, shop, &expense("other", 2_000, "0", &last_year)).await;
    // The first instant of next year is outside: A's next sale.
    service
        .deliver(&dated(
            paid(
                shop,
                OrderId::new(),
                &[vendor_order(a, 99_900, 0, 9_000, 0)],
            ),
            at(&format!("{}-01-01T00:00:00Z", year + 1)),
        ))
        .await
        .unwrap();

    let reply = service
        .get(
            &owner,
            &format!(
                "/api/v1/ledger/profit-and-loss?currency=EUR&from={year}-01-01&to={year}-12-31"
            ),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let pl = &reply.body;
    assert_eq!(pl["currency"], "EUR");
    assert_eq!(pl["from"], format!("{year}-01-01"));
    assert_eq!(pl["to"], format!("{year}-12-31"));
    // By hand: commission 10.00 − 5.00 given back; the shop's discount 5.00 − 2.50;
    // marketing 100.00 net; stock 50.00; the courier 10.00 and its reversal cancel out.
    assert_eq!(section(pl, "income"), pairs(&[("4100", 500)]));
    assert_eq!(
        section(pl, "expenses"),
        pairs(&[("5100", 250), ("6100", 5_000), ("6200", 10_000)])
    );
    // Every income and expense account is listed, moved or not.
    assert_eq!(pl["income"].as_array().unwrap().len(), 2);
    assert_eq!(pl["expenses"].as_array().unwrap().len(), 7);
    assert_eq!(amount(&pl["total_income"]), 500);
    assert_eq!(amount(&pl["total_expenses"]), 15_250);
    assert_eq!(amount(&pl["net_income"]), -14_750);
    // Last year beside it: B's commission and the other costs.
    let previous = &pl["previous"];
    assert_eq!(previous["to"], last_year);
    assert_eq!(section(previous, "income"), pairs(&[("4100", 500)]));
    assert_eq!(section(previous, "expenses"), pairs(&[("6900", 2_000)]));
    assert_eq!(amount(&previous["net_income"]), -1_500);

    // Staff without `ledger:read` may not see it.
    let staff = Caller::with_role(shop, Role::Staff);
    let refused = service
        .get(
            &staff,
            "/api/v1/ledger/profit-and-loss?currency=EUR&from=2026-01-01&to=2026-12-31",
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

async fn report_vat_summary_nets_output_against_input_vat(service: Service) {
    let shop = TenantId::new();
    let owner = Caller::owner(shop);
    let a = VendorId::new();
    // 1 to 31 March 2025: a sale with 19.00 tax, a refund of half of it, and an expense with
    // 19.00 input VAT; on 1 April another with 0.70.
    let sale = vendor_order(a, 11_900, 1_900, 1_000, 0);
    let order = OrderId::new();
    service
        .deliver(&dated(
            paid(shop, order, std::slice::from_ref(&sale)),
            at("2025-03-05T10:00:00Z"),
        ))
        .await
        .unwrap();
    service
        .deliver(&dated(
            refunded(
                shop,
                order,
                RefundId::new(),
                &[(sale.vendor_order_id, 5_950)],
            ),
            at("2025-03-20T10:00:00Z"),
        ))
        .await
        .unwrap();
    record(
        &service,
        shop,
        &expense("marketing", 11_900, "19", "2025-03-10"),
    )
    .await;
    // In April: not in March's summary.
    record(
        &service,
        shop,
        &expense("marketing", 1_070, "7", "2025-04-01"),
    )
    .await;

    let reply = service
        .get(
            &owner,
            "/api/v1/ledger/vat-summary?currency=EUR&from=2025-03-01&to=2025-03-31",
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let vat = &reply.body;
    assert_eq!(amount(&vat["output_vat_collected"]), 1_900);
    assert_eq!(amount(&vat["output_vat_returned"]), 950);
    assert_eq!(amount(&vat["output_vat"]), 950);
    assert_eq!(amount(&vat["input_vat"]), 1_900);
    assert_eq!(amount(&vat["payable"]), -950);
    // April alone: only the 0.70 input VAT, to reclaim.
    let april = service
        .get(
            &owner,
            "/api/v1/ledger/vat-summary?currency=EUR&from=2025-04-01&to=2025-04-30",
        )
        .await;
    assert_eq!(amount(&april.body["input_vat"]), 70);
    assert_eq!(amount(&april.body["payable"]), -70);
}

async fn report_vendor_statement_runs_from_opening_to_closing_balance(service: Service) {
    let shop = TenantId::new();
    let (a, b) = (VendorId::new(), VendorId::new());
    // Before April: A is owed 90.00 from a sale.
    let first = vendor_order(a, 11_900, 1_900, 1_000, 0);
    service
        .deliver(&dated(
            paid(shop, OrderId::new(), &[first]),
            at("2025-03-10T09:00:00Z"),
        ))
        .await
        .unwrap();
    // In April: a sale owing 45.00, refunded whole, then the 90.00 paid out; B sells too.
    let second = vendor_order(a, 5_350, 350, 500, 0);
    let order = OrderId::new();
    let other = vendor_order(b, 2_000, 0, 200, 0);
    service
        .deliver(&dated(
            paid(shop, order, &[second.clone(), other]),
            at("2025-04-05T09:00:00Z"),
        ))
        .await
        .unwrap();
    service
        .deliver(&dated(
            refunded(
                shop,
                order,
                RefundId::new(),
                &[(second.vendor_order_id, 5_350)],
            ),
            at("2025-04-10T09:00:00Z"),
        ))
        .await
        .unwrap();
    service
        .deliver_payout(&payout(shop, a, 9_000, at("2025-04-20T09:00:00Z")))
        .await
        .unwrap();
    // In May: not in April's statement.
    service
        .deliver(&dated(
            paid(shop, OrderId::new(), &[vendor_order(a, 1_000, 0, 100, 0)]),
            at("2025-05-02T09:00:00Z"),
        ))
        .await
        .unwrap();

    let path =
        format!("/api/v1/ledger/vendors/{a}/statement?currency=EUR&from=2025-04-01&to=2025-04-30");
    let merchant = service.get(&Caller::owner(shop), &path).await;
    assert_eq!(merchant.status, StatusCode::OK, "{}", merchant.body);
    let own = service.get(&Caller::vendor_owner(shop, a), &path).await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.body);
    assert_eq!(own.body, merchant.body);
    let st = &merchant.body;
    assert_eq!(st["vendor_id"], a.to_string());
    assert_eq!(amount(&st["opening_balance"]), 9_000);
    let lines: Vec<(String, i64, i64, i64)> = st["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["kind"].as_str().unwrap().to_owned(),
                amount(&l["debit"]),
                amount(&l["credit"]),
                amount(&l["balance"]),
            )
        })
        .collect();
    assert_eq!(
        lines,
        vec![
            ("sale".to_owned(), 0, 4_500, 13_500),
            ("refund".to_owned(), 4_500, 0, 9_000),
            ("payout".to_owned(), 9_000, 0, 0),
        ]
    );
    let sale_line = &st["lines"][0];
    assert_eq!(sale_line["order_id"], order.to_string());
    assert_eq!(
        sale_line["vendor_order_id"],
        second.vendor_order_id.to_string()
    );
    assert_eq!(sale_line["date"], "2025-04-05T09:00:00Z");
    assert!(st["lines"][2]["memo"].as_str().unwrap().contains("payout"));
    assert_eq!(amount(&st["total_debit"]), 13_500);
    assert_eq!(amount(&st["total_credit"]), 4_500);
    assert_eq!(amount(&st["closing_balance"]), 0);
    // May's opens where April closed.
    let may = service
        .get(
            &Caller::owner(shop),
            &format!(
                "/api/v1/ledger/vendors/{a}/statement?currency=EUR&from=2025-05-01&to=2025-05-31"
            ),
        )
        .await;
    assert_eq!(amount(&may.body["opening_balance"]), 0);
    assert_eq!(amount(&may.body["closing_balance"]), 900);
}

async fn report_of_another_shop_or_vendor_shows_nothing(service: Service) {
    let shop = TenantId::new();
    let (a, b) = (VendorId::new(), VendorId::new());
    service
        .deliver(&paid(
            shop,
            OrderId::new(),
            &[vendor_order(a, 11_900, 1_900, 1_000, 0)],
        ))
        .await
        .unwrap();
    let year = Utc::now().year();
    record(
        &service,
        shop,
        &expense("marketing", 11_900, "19", &format!("{year}-01-01")),
    )
    .await;
    let query = format!("currency=EUR&from={year}-01-01&to={year}-12-31");

    // Vendor B's staff, a customer and an anonymous caller: A's statement does not exist;
    // staff without `ledger:read`: 403.
    let statement = format!("/api/v1/ledger/vendors/{a}/statement?{query}");
    for caller in [
        Caller::vendor_owner(shop, b),
        Caller::with_role(shop, Role::Customer),
        Caller::anonymous(shop),
    ] {
        let reply = service.get(&caller, &statement).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{caller:?}");
    }
    let staff = service
        .get(&Caller::with_role(shop, Role::Staff), &statement)
        .await;
    assert_eq!(staff.status, StatusCode::FORBIDDEN);
    // Vendor B's own statement is empty; B's staff cannot read the P&L.
    let own = service
        .get(
            &Caller::vendor_owner(shop, b),
            &format!("/api/v1/ledger/vendors/{b}/statement?{query}"),
        )
        .await;
    assert_eq!(own.status, StatusCode::OK);
    assert_eq!(own.body["lines"], json!([]));
    let pl = service
        .get(
            &Caller::vendor_owner(shop, b),
            &format!("/api/v1/ledger/profit-and-loss?{query}"),
        )
        .await;
    assert_eq!(pl.status, StatusCode::FORBIDDEN);

    // Another shop's owner: its books are empty, including vendor A's statement there.
    let stranger = Caller::owner(TenantId::new());
    let pl = service
        .get(
            &stranger,
            &format!("/api/v1/ledger/profit-and-loss?{query}"),
        )
        .await;
    assert_eq!(pl.status, StatusCode::OK, "{}", pl.body);
    assert_eq!(amount(&pl.body["total_income"]), 0);
    assert_eq!(amount(&pl.body["total_expenses"]), 0);
    assert_eq!(amount(&pl.body["previous"]["net_income"]), 0);
    let vat = service
        .get(&stranger, &format!("/api/v1/ledger/vat-summary?{query}"))
        .await;
    assert_eq!(amount(&vat.body["payable"]), 0);
    let theirs = service.get(&stranger, &statement).await;
    assert_eq!(theirs.status, StatusCode::OK);
    assert_eq!(amount(&theirs.body["opening_balance"]), 0);
    assert_eq!(theirs.body["lines"], json!([]));
    // While the shop's own P&L has them.
    let mine = service
        .get(
            &Caller::owner(shop),
            &format!("/api/v1/ledger/profit-and-loss?{query}"),
        )
        .await;
    assert_eq!(amount(&mine.body["total_income"]), 1_000);
}

async fn report_bad_periods_are_422(service: Service) {
    let owner = Caller::owner(TenantId::new());
    let vendor = VendorId::new();
    for (query, fields) in [
        ("currency=EUR&from=2026-02-01&to=2026-01-31", vec!["/to"]),
        (
            "currency=XXY&from=2026-02-30&to=soon",
            vec!["/currency", "/from", "/to"],
        ),
        ("currency=EUR&from=1990-01-01&to=2026-01-01", vec!["/to"]),
        ("currency=EUR&from=2026-01-01", vec!["/"]),
    ] {
        for path in [
            "/api/v1/ledger/profit-and-loss".to_owned(),
            "/api/v1/ledger/vat-summary".to_owned(),
            format!("/api/v1/ledger/vendors/{vendor}/statement"),
        ] {
            let reply = service.get(&owner, &format!("{path}?{query}")).await;
            assert_eq!(
                reply.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{path}?{query}: {}",
                reply.body
            );
            let named: Vec<&str> = reply.body["errors"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["field"].as_str().unwrap())
                .collect();
            if fields != vec!["/"] {
                assert_eq!(named, fields, "{path}?{query}");
            }
        }
    }
}

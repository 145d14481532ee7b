//! Nobody is paid twice: a run that dies after the provider paid but before the payout was
//! marked resumes without paying again; two runs at once set each vendor's money aside
//! once; replayed events add no earnings and claw nothing back twice.

use async_trait::async_trait;
use mercato_db::Db;
use mercato_events::{Envelope, Handler};
use mercato_kernel::{Currency, Money};
use mercato_orders_api::events::{
    ORDER_PAID, OrderChanged, REFUND_COMPLETED, RefundCompleted, VENDOR_ORDER_DELIVERED,
    VendorOrderChanged, VendorOrderMoney, VendorShare,
};
use mercato_orders_api::lifecycle::{OrderStatus, VendorOrderStatus};
use mercato_orders_api::{OrderId, RefundId, VendorOrderId};
use mercato_payouts::providers::{Connect, Providers, Sent, TestPayouts, Transfer};
use mercato_payouts::{PayoutsState, events, repo, runs};
use mercato_payouts_api::PayoutStatus;
use mercato_tenant_context::{TenantId, VendorId};
use mercato_vendors_api::payout::{PAYOUT_ACCOUNT_UPDATED, PayoutAccountUpdated, PayoutSchedule};
use sea_orm::DbErr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

pub struct Payouts;

impl mercato_testkit::Schema for Payouts {
    const NAME: &'static str = "payouts";
    const POSTGRES_CONNECTIONS: u32 = 6;

    async fn migrate(db: &Db) -> Result<(), DbErr> {
        mercato_payouts::migrate(db).await
    }
}

mercato_testkit::on_every_database!(
    Payouts;
    a_run_that_dies_after_the_provider_paid_resumes_without_paying_again,
    two_runs_at_once_pay_each_vendor_once,
    replayed_events_add_nothing_and_claw_back_once,
    a_scheduled_run_pays_the_vendors_due_that_day_once,
);

fn eur() -> Currency {
    Currency::parse("EUR").unwrap()
}

/// The test provider, failing its first `fail_after` answers *after* it paid (the process
/// died before it could record the answer).
struct Flaky {
    inner: TestPayouts,
    fail: AtomicUsize,
}

#[async_trait]
impl Connect for Flaky {
    async fn transfer(&self, t: &Transfer<'_>) -> Result<Sent, String> {
        let paid = self.inner.transfer(t).await?;
        if self
            .fail
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err("connection reset after the transfer was made".into());
        }
        Ok(paid)
    }
}

fn state(db: &Db, fail: usize) -> PayoutsState {
    PayoutsState {
        db: db.clone(),
        config: Default::default(),
        outbox: Default::default(),
        runs: Default::default(),
        providers: Providers {
            connect: Some(Arc::new(Flaky {
                inner: TestPayouts {
                    db: db.clone(),
                    delay: std::time::Duration::ZERO,
                },
                fail: AtomicUsize::new(fail),
            })),
        },
    }
}

fn event(name: &str, shop: TenantId, payload: &impl serde::Serialize) -> Envelope {
    Envelope::new(name, 1, shop, payload).unwrap()
}

/// A vendor with a Stripe Connect payout account, paid `earnings` on one delivered vendor
/// order (total 100.00 with 19.00 tax and 10.00 commission: earnings 71.00).
async fn delivered_vendor(
    state: &PayoutsState,
    shop: TenantId,
) -> (VendorId, VendorOrderId, OrderId) {
    delivered_vendor_on(state, shop, PayoutSchedule::Weekly).await
}

/// [`delivered_vendor`] with payouts on `schedule`.
async fn delivered_vendor_on(
    state: &PayoutsState,
    shop: TenantId,
    schedule: PayoutSchedule,
) -> (VendorId, VendorOrderId, OrderId) {
    let vendor = VendorId::new();
    // The shop pays out on delivery.
    let tx = state.db.tenant_tx(shop).await.unwrap();
    repo::save_settings(&tx, 0, None, "usr_merchant")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let accounts = events::Accounts(state.clone());
    accounts
        .handle(&event(
            PAYOUT_ACCOUNT_UPDATED,
            shop,
            &PayoutAccountUpdated {
                vendor_id: vendor,
                method: "stripe_connect".into(),
                iban_masked: None,
                account_holder: None,
                iban: None,
                stripe_account_id: Some("acct_1Test".into()),
                schedule,
                minimum_payout: Money::new(0, eur()),
                currency: eur(),
                actor: "usr_x".into(),
            },
        ))
        .await
        .unwrap();
    let (order, vo) = (OrderId::new(), VendorOrderId::new());
    let earnings = events::Earnings(state.clone());
    earnings
        .handle(&paid(shop, order, vendor, vo))
        .await
        .unwrap();
    earnings
        .handle(&event(
            VENDOR_ORDER_DELIVERED,
            shop,
            &VendorOrderChanged {
                vendor_order_id: vo,
                order_id: order,
                vendor_id: vendor,
                status: VendorOrderStatus::Delivered,
                previous_status: VendorOrderStatus::Shipped,
                total: Money::new(10_000, eur()),
                commission: Money::new(1_000, eur()),
                earnings: Money::new(7_100, eur()),
                carrier: None,
                tracking_number: None,
                actor: "usr_x".into(),
                reason: None,
            },
        ))
        .await
        .unwrap();
    (vendor, vo, order)
}

fn paid(shop: TenantId, order: OrderId, vendor: VendorId, vo: VendorOrderId) -> Envelope {
    event(
        ORDER_PAID,
        shop,
        &OrderChanged {
            order_id: order,
            status: OrderStatus::Paid,
            previous_status: OrderStatus::PendingPayment,
            reservation_id: None,
            customer_id: None,
            total: Money::new(10_000, eur()),
            refunded: Money::new(0, eur()),
            lines: Vec::new(),
            restock: false,
            vendor_order_ids: vec![vo],
            vendor_orders: vec![VendorOrderMoney {
                vendor_order_id: vo,
                vendor_id: vendor,
                subtotal: 8_100,
                discount_by_shop: 0,
                discount_by_vendor: 0,
                shipping: 0,
                tax: 1_900,
                total: 10_000,
                commission: 1_000,
                earnings: 7_100,
                refunded: 0,
            }],
            invoice: None,
            actor: "provider:test".into(),
            reason: None,
        },
    )
}

async fn balance(db: &Db, shop: TenantId, vendor: VendorId) -> mercato_payouts::domain::Balance {
    let tx = db.tenant_read(shop).await.unwrap();
    repo::sums(&*tx, shop.as_uuid(), vendor, eur(), mercato_payouts::now())
        .await
        .unwrap()
        .balance()
}

async fn start_run(db: &Db, shop: TenantId, key: &str) -> mercato_payouts_api::PayoutRunId {
    let tx = db.tenant_tx(shop).await.unwrap();
    let run = runs::enqueue(&tx, Some(key.into()), "usr_merchant", None)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    run.id
}

async fn all_payouts(db: &Db, shop: TenantId) -> Vec<repo::Payout> {
    let tx = db.tenant_read(shop).await.unwrap();
    repo::payouts(&tx, None, None, None, 100).await.unwrap()
}

async fn a_run_that_dies_after_the_provider_paid_resumes_without_paying_again(
    t: mercato_testkit::TestDb,
) {
    let shop = TenantId::new();
    let state = state(&t.db, 1);
    let (vendor, _, _) = delivered_vendor(&state, shop).await;
    let (other, _, _) = delivered_vendor(&state, shop).await;
    let run = start_run(&t.db, shop, "k1").await;

    // The first transfer goes through, the answer is lost: the run stops there.
    assert!(runs::carry_out(&state, shop, run).await.is_err());
    let set_aside = all_payouts(&t.db, shop).await;
    assert_eq!(set_aside.len(), 2);
    assert!(set_aside.iter().all(|p| p.amount == 7_100));
    assert_eq!(balance(&t.db, shop, vendor).await.available, 0);
    // Carried out again (the job's retry): each vendor paid once in all.
    runs::carry_out(&state, shop, run).await.unwrap();
    runs::carry_out(&state, shop, run).await.unwrap();
    let payouts = all_payouts(&t.db, shop).await;
    assert_eq!(payouts.len(), 2);
    assert!(payouts.iter().all(|p| p.status == PayoutStatus::Paid));
    assert_eq!(repo::test_transfer_count(&t.db, shop).await.unwrap(), 2);
    for v in [vendor, other] {
        let b = balance(&t.db, shop, v).await;
        assert_eq!((b.available, b.in_transit, b.paid_out), (0, 0, 7_100));
    }
    // A later run finds nothing to pay.
    let later = start_run(&t.db, shop, "k2").await;
    runs::carry_out(&state, shop, later).await.unwrap();
    assert_eq!(all_payouts(&t.db, shop).await.len(), 2);
    assert_eq!(repo::test_transfer_count(&t.db, shop).await.unwrap(), 2);
}

async fn two_runs_at_once_pay_each_vendor_once(t: mercato_testkit::TestDb) {
    let shop = TenantId::new();
    let state = state(&t.db, 0);
    let mut vendors = Vec::new();
    for _ in 0..4 {
        vendors.push(delivered_vendor(&state, shop).await.0);
    }
    let (a, b) = (
        start_run(&t.db, shop, "a").await,
        start_run(&t.db, shop, "b").await,
    );
    let (ra, rb) = tokio::join!(
        runs::carry_out(&state, shop, a),
        runs::carry_out(&state, shop, b)
    );
    ra.unwrap();
    rb.unwrap();
    let payouts = all_payouts(&t.db, shop).await;
    assert_eq!(payouts.len(), 4, "{payouts:?}");
    assert_eq!(repo::test_transfer_count(&t.db, shop).await.unwrap(), 4);
    for v in vendors {
        let b = balance(&t.db, shop, v).await;
        assert_eq!((b.available, b.paid_out), (0, 7_100));
    }
}

async fn replayed_events_add_nothing_and_claw_back_once(t: mercato_testkit::TestDb) {
    let shop = TenantId::new();
    let state = state(&t.db, 0);
    let (vendor, vo, order) = delivered_vendor(&state, shop).await;
    let earnings = events::Earnings(state.clone());
    // The same payment republished under a new event id adds nothing.
    earnings
        .handle(&paid(shop, order, vendor, vo))
        .await
        .unwrap();
    assert_eq!(balance(&t.db, shop, vendor).await.available, 7_100);
    // A refund of 50.00 takes back 50.00 − 9.50 tax − 5.00 commission = 35.50, once.
    let refund = RefundCompleted {
        order_id: order,
        refund_id: RefundId::new(),
        reservation_id: None,
        vendor_order_id: Some(vo),
        amount: Money::new(5_000, eur()),
        shares: vec![VendorShare {
            vendor_order_id: vo,
            amount: 5_000,
        }],
        stray_payment: false,
        restock_lines: Vec::new(),
        actor: "usr_x".into(),
    };
    for _ in 0..2 {
        earnings
            .handle(&event(REFUND_COMPLETED, shop, &refund))
            .await
            .unwrap();
    }
    assert_eq!(balance(&t.db, shop, vendor).await.available, 7_100 - 3_550);
    // A refund of a vendor order this service never saw paid waits (an error: retried).
    let early = RefundCompleted {
        refund_id: RefundId::new(),
        shares: vec![VendorShare {
            vendor_order_id: VendorOrderId::new(),
            amount: 100,
        }],
        ..refund
    };
    assert!(
        earnings
            .handle(&event(REFUND_COMPLETED, shop, &early))
            .await
            .is_err()
    );
    // Another shop sees none of it.
    assert_eq!(balance(&t.db, TenantId::new(), vendor).await.available, 0);
}

async fn a_scheduled_run_pays_the_vendors_due_that_day_once(t: mercato_testkit::TestDb) {
    let shop = TenantId::new();
    let state = state(&t.db, 0);
    let mut vendors = Vec::new();
    for schedule in [
        PayoutSchedule::Daily,
        PayoutSchedule::Weekly,
        PayoutSchedule::Monthly,
        PayoutSchedule::Manual,
    ] {
        vendors.push((
            schedule,
            delivered_vendor_on(&state, shop, schedule).await.0,
        ));
    }
    // Monday 7 December 2026: daily and weekly vendors are due, once however often the
    // scheduler looks.
    let monday = chrono::DateTime::parse_from_rfc3339("2026-12-07T03:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    assert_eq!(runs::schedule_due(&state, monday).await.unwrap(), 1);
    assert_eq!(
        runs::schedule_due(&state, monday + chrono::TimeDelta::hours(5))
            .await
            .unwrap(),
        0
    );
    let tx = t.db.tenant_read(shop).await.unwrap();
    let run = repo::run_by_key(&tx, "scheduled:2026-12-07")
        .await
        .unwrap()
        .unwrap();
    drop(tx);
    assert_eq!(
        run.scheduled_for,
        chrono::NaiveDate::from_ymd_opt(2026, 12, 7)
    );
    runs::carry_out(&state, shop, run.id).await.unwrap();
    for (schedule, vendor) in &vendors {
        let paid = balance(&t.db, shop, *vendor).await.paid_out;
        let due = matches!(schedule, PayoutSchedule::Daily | PayoutSchedule::Weekly);
        assert_eq!(paid, if due { 7_100 } else { 0 }, "{schedule:?}");
    }
    // Tuesday: only the daily vendor is due (the run finds nothing left to pay it).
    assert_eq!(
        runs::schedule_due(&state, monday + chrono::TimeDelta::days(1))
            .await
            .unwrap(),
        1
    );
}

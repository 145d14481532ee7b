//! Checkout: the orders service reserves as itself, and its events commit, release and
//! restock the reservations behind orders, once each, in the order's own shop only.

use crate::on_every_backend;
use crate::reservations::lines;
use crate::support::{Caller, Service};
use mercato_inventory::domain::ReservationId;
use mercato_kernel::{Currency, Money};
use mercato_orders_api::events::{OrderChanged, RefundCompleted, Units};
use mercato_orders_api::lifecycle::OrderStatus;
use mercato_orders_api::{OrderId, RefundId};
use mercato_tenant_context::{TenantId, VariantId, VendorId, VendorRole};
use serde_json::{Value, json};

fn order_id() -> String {
    OrderId::new().to_string()
}

fn units(items: &[(VariantId, i64)]) -> Vec<Units> {
    items
        .iter()
        .map(|&(variant_id, quantity)| Units {
            variant_id,
            quantity,
        })
        .collect()
}

/// `order.<status>` as orders publishes it (`mercato-orders-api`).
fn order_payload(
    order: &str,
    reservation: &str,
    status: &str,
    restock: bool,
    items: &[(VariantId, i64)],
) -> Value {
    let eur = Currency::parse("EUR").expect("EUR");
    serde_json::to_value(OrderChanged {
        order_id: order.parse().expect("an order id"),
        status: OrderStatus::parse(status).expect("an order status"),
        previous_status: OrderStatus::PendingPayment,
        reservation_id: Some(reservation.parse().expect("a reservation id")),
        customer_id: None,
        total: Money::new(1_000, eur),
        refunded: Money::zero(eur),
        lines: units(items),
        restock,
        vendor_order_ids: Vec::new(),
        vendor_orders: Vec::new(),
        actor: "svc_orders".into(),
        reason: None,
        invoice: None,
    })
    .expect("json")
}

/// `refund.completed` as orders publishes it, putting `restock` back.
fn refund_payload(
    order: &str,
    refund: RefundId,
    reservation: &str,
    restock: &[(VariantId, i64)],
) -> Value {
    let eur = Currency::parse("EUR").expect("EUR");
    serde_json::to_value(RefundCompleted {
        order_id: order.parse().expect("an order id"),
        refund_id: refund,
        reservation_id: Some(reservation.parse().expect("a reservation id")),
        vendor_order_id: None,
        amount: Money::new(500, eur),
        shares: Vec::new(),
        stray_payment: false,
        restock_lines: units(restock),
        actor: "usr_staff".into(),
    })
    .expect("json")
}

/// The orders service reserves `items` for `order`; returns the reservation id.
async fn reserve_for(
    service: &Service,
    shop: TenantId,
    order: &str,
    items: &[(VariantId, i64)],
) -> String {
    let mut body = lines(items);
    body["reference"] = json!(order);
    let reply = service
        .call(
            &Caller::orders_service(shop),
            "POST",
            "/api/v1/reservations",
            Some(body),
            &[("idempotency-key", order)],
        )
        .await;
    assert_eq!(reply.status, 201, "{:?}", reply.body);
    reply.str("id")
}

async fn reservation(service: &Service, shop: TenantId, id: &str) -> Value {
    let reply = service
        .get(
            &Caller::merchant(shop),
            &format!("/api/v1/reservations/{id}"),
        )
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    reply.body
}

/// A warehouse's history as merchant staff see it, newest first.
async fn history(service: &Service, shop: TenantId, warehouse: &str) -> Vec<Value> {
    let reply = service
        .get(
            &Caller::merchant(shop),
            &format!("/api/v1/warehouses/{warehouse}/adjustments"),
        )
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    reply.body["data"].as_array().cloned().unwrap_or_default()
}

async fn the_orders_service_reserves_reads_and_commits_its_own(service: Service) {
    let shop = TenantId::new();
    let (_, _, tea) = service.stocked(shop, 10).await;
    let orders = Caller::orders_service(shop);
    let order = order_id();
    let id = reserve_for(&service, shop, &order, &[(tea, 3)]).await;
    // A retry with the same key is the same reservation, scoped to the service's label.
    let mut body = lines(&[(tea, 3)]);
    body["reference"] = json!(order);
    let again = service
        .call(
            &orders,
            "POST",
            "/api/v1/reservations",
            Some(body.clone()),
            &[("idempotency-key", &order)],
        )
        .await;
    assert_eq!(again.status, 201);
    assert_eq!(again.str("id"), id);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    // The same key from merchant staff is theirs: a new reservation.
    let theirs = service
        .call(
            &Caller::merchant(shop),
            "POST",
            "/api/v1/reservations",
            Some(body),
            &[("idempotency-key", &order)],
        )
        .await;
    assert_eq!(theirs.status, 201);
    assert_ne!(theirs.str("id"), id);

    let path = format!("/api/v1/reservations/{id}");
    let shown = service.get(&orders, &path).await;
    assert_eq!(shown.status, 200, "{:?}", shown.body);
    assert_eq!(shown.str("created_by"), "svc_orders");
    assert_eq!(service.get(&Caller::shopper(shop), &path).await.status, 404);
    let listed = service.get(&orders, "/api/v1/reservations").await;
    assert_eq!(listed.status, 200);
    assert_eq!(listed.body["data"].as_array().map(Vec::len), Some(1));
    assert_eq!(listed.body["data"][0]["id"], id.as_str());

    let committed = service
        .post(&orders, &format!("{path}/commit"), json!({}))
        .await;
    assert_eq!(committed.status, 200, "{:?}", committed.body);
    assert_eq!(committed.str("status"), "committed");
    assert_eq!(committed.str("ended_by"), "svc_orders");
    assert_eq!(service.totals(shop, tea).await, (7, 3, 4));
    let events = service.events_named(shop, "reservation.committed").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["actor"], "svc_orders");
    // Another shop's orders service does not see it.
    let elsewhere = Caller::orders_service(TenantId::new());
    assert_eq!(service.get(&elsewhere, &path).await.status, 404);
}

async fn a_paid_order_commits_its_reservation_once(service: Service) {
    let shop = TenantId::new();
    let (_, _, tea) = service.stocked(shop, 10).await;
    let order = order_id();
    let id = reserve_for(&service, shop, &order, &[(tea, 4)]).await;
    let reported = service.events_named(shop, "stock.changed").await;
    assert_eq!(reported.last().unwrap()["available"], 6);
    let paid = service
        .order_event(
            shop,
            "order.paid",
            order_payload(&order, &id, "paid", false, &[(tea, 4)]),
        )
        .await;
    let r = reservation(&service, shop, &id).await;
    assert_eq!(r["status"], "committed");
    assert_eq!(r["ended_by"], "svc_orders");
    assert_eq!(service.totals(shop, tea).await, (6, 0, 6));
    // What can be sold did not move (6 before and after): no stock report for the mirrors.
    assert_eq!(
        service.events_named(shop, "stock.changed").await.len(),
        reported.len()
    );
    // The bus delivers at least once: the same event again changes nothing.
    let before = service.events(shop).await.len();
    service.deliver_order_event(&paid).await;
    // Another event for an order already paid changes nothing either.
    service
        .order_event(
            shop,
            "order.paid",
            order_payload(&order, &id, "paid", false, &[(tea, 4)]),
        )
        .await;
    assert_eq!(service.totals(shop, tea).await, (6, 0, 6));
    assert_eq!(service.events(shop).await.len(), before);
    assert_eq!(
        service
            .events_named(shop, "reservation.committed")
            .await
            .len(),
        1
    );
    // An order that reserved nothing, or a reservation nobody has, moves nothing.
    let mut none = order_payload(&order_id(), &id, "paid", false, &[]);
    none["reservation_id"] = Value::Null;
    service.order_event(shop, "order.paid", none).await;
    let unknown = ReservationId::new().to_string();
    service
        .order_event(
            shop,
            "order.paid",
            order_payload(&order_id(), &unknown, "paid", false, &[]),
        )
        .await;
    assert_eq!(service.events(shop).await.len(), before);
}

async fn an_expired_or_cancelled_order_releases_its_reservation(service: Service) {
    let shop = TenantId::new();
    let (_, _, tea) = service.stocked(shop, 10).await;
    let expired_order = order_id();
    let expired = reserve_for(&service, shop, &expired_order, &[(tea, 3)]).await;
    let cancelled_order = order_id();
    let cancelled = reserve_for(&service, shop, &cancelled_order, &[(tea, 2)]).await;
    assert_eq!(service.totals(shop, tea).await, (10, 5, 5));
    service
        .order_event(
            shop,
            "order.expired",
            order_payload(&expired_order, &expired, "expired", true, &[(tea, 3)]),
        )
        .await;
    assert_eq!(
        reservation(&service, shop, &expired).await["status"],
        "released"
    );
    assert_eq!(service.totals(shop, tea).await, (10, 2, 8));
    service
        .order_event(
            shop,
            "order.cancelled",
            order_payload(&cancelled_order, &cancelled, "cancelled", true, &[(tea, 2)]),
        )
        .await;
    assert_eq!(
        reservation(&service, shop, &cancelled).await["status"],
        "released"
    );
    // Released, not restocked: the units never left on hand.
    assert_eq!(service.totals(shop, tea).await, (10, 0, 10));
    assert_eq!(
        service
            .events_named(shop, "reservation.released")
            .await
            .len(),
        2
    );
    // A paid event after the release commits nothing.
    service
        .order_event(
            shop,
            "order.paid",
            order_payload(&cancelled_order, &cancelled, "paid", false, &[(tea, 2)]),
        )
        .await;
    assert_eq!(
        reservation(&service, shop, &cancelled).await["status"],
        "released"
    );
    assert_eq!(service.totals(shop, tea).await, (10, 0, 10));
}

async fn a_paid_order_cancelled_with_restock_puts_units_back_where_they_came_from(
    service: Service,
) {
    let shop = TenantId::new();
    let vendor = VendorId::new();
    let (_, variants) = service.product(shop, vendor, 1).await;
    let tea = variants[0];
    let staff = Caller::vendor_staff(shop, vendor, VendorRole::Staff);
    let big = service.warehouse(&staff, vendor, "Big").await;
    let small = service.warehouse(&staff, vendor, "Small").await;
    service.receive(&staff, &big, tea, 8).await;
    service.receive(&staff, &small, tea, 5).await;
    let order = order_id();
    // 10: the big warehouse's 8 and 2 of the small one's.
    let id = reserve_for(&service, shop, &order, &[(tea, 10)]).await;
    service
        .order_event(
            shop,
            "order.paid",
            order_payload(&order, &id, "paid", true, &[(tea, 10)]),
        )
        .await;
    assert_eq!(service.totals(shop, tea).await, (3, 0, 3));
    let stock_changes = service.events_named(shop, "stock.changed").await.len();

    let cancelled = service
        .order_event(
            shop,
            "order.cancelled",
            order_payload(&order, &id, "cancelled", true, &[(tea, 10)]),
        )
        .await;
    assert_eq!(service.totals(shop, tea).await, (13, 0, 13));
    assert_eq!(
        reservation(&service, shop, &id).await["status"],
        "committed"
    );
    let changed = service.events_named(shop, "stock.changed").await;
    assert_eq!(changed.len(), stock_changes + 1);
    assert_eq!(changed.last().unwrap()["on_hand"], 13);
    for (warehouse, units, after) in [(&big, 8, 8), (&small, 2, 5)] {
        let rows = history(&service, shop, warehouse).await;
        let back = &rows[0];
        assert_eq!(back["reason"], "returned");
        assert_eq!(back["delta"], units);
        assert_eq!(back["on_hand_after"], after);
        assert_eq!(back["note"], format!("order {order} cancelled"));
        assert_eq!(back["actor"], "svc_orders");
        assert_eq!(back["reservation_id"], id.as_str());
    }

    // Delivered again: nothing more comes back.
    service.deliver_order_event(&cancelled).await;
    assert_eq!(service.totals(shop, tea).await, (13, 0, 13));
    // Even a second cancellation event cannot return more than was sold.
    service
        .order_event(
            shop,
            "order.cancelled",
            order_payload(&order, &id, "cancelled", true, &[(tea, 10)]),
        )
        .await;
    assert_eq!(service.totals(shop, tea).await, (13, 0, 13));
    assert_eq!(history(&service, shop, &big).await.len(), 3);

    // Without restock a cancelled paid order leaves the stock as it is.
    let other = order_id();
    let kept = reserve_for(&service, shop, &other, &[(tea, 1)]).await;
    service
        .order_event(
            shop,
            "order.paid",
            order_payload(&other, &kept, "paid", false, &[(tea, 1)]),
        )
        .await;
    service
        .order_event(
            shop,
            "order.cancelled",
            order_payload(&other, &kept, "cancelled", false, &[(tea, 1)]),
        )
        .await;
    assert_eq!(service.totals(shop, tea).await, (12, 0, 12));
}

async fn a_refund_puts_its_restock_lines_back(service: Service) {
    let shop = TenantId::new();
    let (_, warehouse, tea) = service.stocked(shop, 10).await;
    let order = order_id();
    let id = reserve_for(&service, shop, &order, &[(tea, 3)]).await;
    let refund = |refund: RefundId, units: i64| {
        let restock: &[(VariantId, i64)] = if units > 0 { &[(tea, units)] } else { &[] };
        refund_payload(&order, refund, &id, restock)
    };
    let (rfd_1, rfd_2, rfd_3) = (RefundId::new(), RefundId::new(), RefundId::new());
    // The refund's news arrives before the payment's: the refund proves the sale.
    let first = service
        .order_event(shop, "refund.completed", refund(rfd_1, 1))
        .await;
    assert_eq!(
        reservation(&service, shop, &id).await["status"],
        "committed"
    );
    assert_eq!(service.totals(shop, tea).await, (8, 0, 8));
    let rows = history(&service, shop, &warehouse).await;
    assert_eq!(rows[0]["reason"], "returned");
    assert_eq!(rows[0]["delta"], 1);
    assert_eq!(rows[0]["note"], format!("order {order} refund {rfd_1}"));
    assert_eq!(rows[1]["reason"], "sold");
    service
        .order_event(
            shop,
            "order.paid",
            order_payload(&order, &id, "paid", false, &[(tea, 3)]),
        )
        .await;
    service.deliver_order_event(&first).await;
    assert_eq!(service.totals(shop, tea).await, (8, 0, 8));
    // No restock lines: money back, units stay sold.
    service
        .order_event(shop, "refund.completed", refund(rfd_2, 0))
        .await;
    assert_eq!(service.totals(shop, tea).await, (8, 0, 8));
    // More than is left to give back: only the 2 units still out return.
    service
        .order_event(shop, "refund.completed", refund(rfd_3, 5))
        .await;
    assert_eq!(service.totals(shop, tea).await, (10, 0, 10));
}

async fn another_shops_reservation_is_left_alone(service: Service) {
    let shop = TenantId::new();
    let (_, _, tea) = service.stocked(shop, 10).await;
    let order = order_id();
    let id = reserve_for(&service, shop, &order, &[(tea, 4)]).await;
    let other = TenantId::new();
    for (name, restock) in [
        ("order.paid", false),
        ("order.cancelled", true),
        ("order.expired", true),
    ] {
        service
            .order_event(
                other,
                name,
                order_payload(&order, &id, &name[6..], restock, &[(tea, 4)]),
            )
            .await;
    }
    service
        .order_event(
            other,
            "refund.completed",
            refund_payload(&order, RefundId::new(), &id, &[(tea, 4)]),
        )
        .await;
    assert_eq!(reservation(&service, shop, &id).await["status"], "active");
    assert_eq!(service.totals(shop, tea).await, (10, 4, 6));
    assert!(service.events(other).await.is_empty());
}

/// The bus hands the consumer what queued up while it was busy: paid orders of two shops,
/// a cancelled one, one paid and then cancelled with its units back, one cancelled and then
/// paid, and a redelivery, in one `handle_batch`. Each takes effect once, in its own shop, as if delivered one by one.
async fn a_batch_of_order_events_moves_each_reservation_once(service: Service) {
    let (shop, other) = (TenantId::new(), TenantId::new());
    let (_, warehouse, tea) = service.stocked(shop, 20).await;
    let (_, _, pot) = service.stocked(other, 5).await;
    let (first, second, third, theirs) = (order_id(), order_id(), order_id(), order_id());
    let a = reserve_for(&service, shop, &first, &[(tea, 3)]).await;
    let b = reserve_for(&service, shop, &second, &[(tea, 4)]).await;
    let c = reserve_for(&service, shop, &third, &[(tea, 5)]).await;
    let d = reserve_for(&service, other, &theirs, &[(pot, 2)]).await;
    let fourth = order_id();
    let e = reserve_for(&service, shop, &fourth, &[(tea, 2)]).await;
    let fifth = order_id();
    let f = reserve_for(&service, shop, &fifth, &[(tea, 1)]).await;
    let envelope = |tenant, name: &str, payload| {
        mercato_events::Envelope::new(name, 1, tenant, &payload).unwrap()
    };
    let paid_a = envelope(
        shop,
        "order.paid",
        order_payload(&first, &a, "paid", false, &[(tea, 3)]),
    );
    let batch = vec![
        paid_a.clone(),
        envelope(
            other,
            "order.paid",
            order_payload(&theirs, &d, "paid", false, &[(pot, 2)]),
        ),
        envelope(
            shop,
            "order.paid",
            order_payload(&second, &b, "paid", false, &[(tea, 4)]),
        ),
        envelope(
            shop,
            "order.cancelled",
            order_payload(&third, &c, "cancelled", false, &[(tea, 5)]),
        ),
        envelope(
            shop,
            "order.paid",
            order_payload(&fourth, &e, "paid", false, &[(tea, 2)]),
        ),
        // The same reservation again in the batch: committed just before, so its units
        // are put back.
        envelope(
            shop,
            "order.cancelled",
            order_payload(&fourth, &e, "cancelled", true, &[(tea, 2)]),
        ),
        // The other way round: released first, so the late payment commits nothing.
        envelope(
            shop,
            "order.cancelled",
            order_payload(&fifth, &f, "cancelled", false, &[(tea, 1)]),
        ),
        envelope(
            shop,
            "order.paid",
            order_payload(&fifth, &f, "paid", false, &[(tea, 1)]),
        ),
        paid_a,
    ];
    service.deliver_order_batch(&batch).await;
    for (id, status) in [
        (&a, "committed"),
        (&b, "committed"),
        (&c, "released"),
        (&e, "committed"),
        (&f, "released"),
    ] {
        assert_eq!(reservation(&service, shop, id).await["status"], status);
    }
    assert_eq!(
        reservation(&service, other, &d).await["status"],
        "committed"
    );
    // 20 − 3 − 4 sold, the 5 and 1 released and the 2 restocked are back: nothing held.
    assert_eq!(service.totals(shop, tea).await, (13, 0, 13));
    assert_eq!(service.totals(other, pot).await, (3, 0, 3));
    // Each history row says what was on hand right after it, in the order of the events,
    // though the commits of a batch are written together.
    let mut after: Vec<(String, String, i64)> = history(&service, shop, &warehouse)
        .await
        .iter()
        .filter(|row| row["reason"] != "received")
        .map(|row| {
            (
                row["reservation_id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                row["reason"].as_str().unwrap_or_default().to_owned(),
                row["on_hand_after"].as_i64().unwrap_or_default(),
            )
        })
        .collect();
    after.sort();
    let mut want: Vec<(String, String, i64)> = [
        (&a, "sold", 17),
        (&b, "sold", 13),
        (&e, "returned", 13),
        (&e, "sold", 11),
    ]
    .into_iter()
    .map(|(id, reason, n)| (id.clone(), reason.to_owned(), n))
    .collect();
    want.sort();
    assert_eq!(after, want);
    // Delivered again, as a batch or one by one: nothing moves.
    service.deliver_order_batch(&batch).await;
    service.deliver_order_event(&batch[2]).await;
    service.deliver_order_event(&batch[5]).await;
    assert_eq!(service.totals(shop, tea).await, (13, 0, 13));
    assert_eq!(
        service
            .events_named(shop, "reservation.committed")
            .await
            .len(),
        3
    );
}

on_every_backend!(
    a_batch_of_order_events_moves_each_reservation_once,
    the_orders_service_reserves_reads_and_commits_its_own,
    a_paid_order_commits_its_reservation_once,
    an_expired_or_cancelled_order_releases_its_reservation,
    a_paid_order_cancelled_with_restock_puts_units_back_where_they_came_from,
    a_refund_puts_its_restock_lines_back,
    another_shops_reservation_is_left_alone,
);

//! Moving an order or a vendor order to another status: checked against the state machine
//! (`domain::lifecycle`), recorded (who, when, why) and published through the outbox, all in
//! the caller's transaction.

use crate::domain::lifecycle::{OrderStatus, VendorOrderStatus};
use crate::domain::order::{FullOrder, Transition, VendorOrder};
use crate::problems::OrdersProblem;
use crate::repo::orders;
use mercato_db::TenantTx;
use mercato_events::{Envelope, enqueue_all};
use mercato_kernel::Problem;
use mercato_orders_api::events::{
    OrderChanged, Units, VERSION, VendorOrderChanged, VendorOrderMoney,
};

/// A vendor order's money, as the contract carries it.
fn money_of(v: &VendorOrder) -> VendorOrderMoney {
    VendorOrderMoney {
        vendor_order_id: v.id,
        vendor_id: v.vendor,
        subtotal: v.subtotal,
        discount_by_shop: v.discount_by_shop,
        discount_by_vendor: v.discount_by_vendor,
        shipping: v.shipping,
        tax: v.tax,
        total: v.total,
        commission: v.commission,
        earnings: v.earnings,
        refunded: v.refunded,
    }
}

fn refused(e: impl std::fmt::Display) -> Problem {
    Problem::of(OrdersProblem::InvalidTransition, e.to_string())
}

/// Moves the order to `to`.
pub async fn order(
    tx: &TenantTx,
    full: &mut FullOrder,
    to: OrderStatus,
    actor: &str,
    reason: Option<&str>,
    restock: bool,
) -> Result<(), Problem> {
    apply(tx, full, Some((to, restock)), None, actor, reason).await
}

/// Moves the order to `to`, then every vendor order that can go to `vendor_to` there (a
/// payment: `paid` and `to_fulfil`), with one statement per table for all of them.
pub async fn order_and_vendor_orders(
    tx: &TenantTx,
    full: &mut FullOrder,
    to: OrderStatus,
    vendor_to: VendorOrderStatus,
    actor: &str,
    reason: Option<&str>,
) -> Result<(), Problem> {
    apply(
        tx,
        full,
        Some((to, false)),
        Some(Vendors::AllThatCan(vendor_to)),
        actor,
        reason,
    )
    .await
}

/// Moves the vendor order at `index` to `to`.
pub async fn vendor_order(
    tx: &TenantTx,
    full: &mut FullOrder,
    index: usize,
    to: VendorOrderStatus,
    actor: &str,
    reason: Option<&str>,
) -> Result<(), Problem> {
    if index >= full.vendor_orders.len() {
        return Err(Problem::not_found());
    }
    apply(tx, full, None, Some(Vendors::One(index, to)), actor, reason).await
}

/// Moves every vendor order that can go to `to` there (payment, expiry, cancellation).
pub async fn all_vendor_orders(
    tx: &TenantTx,
    full: &mut FullOrder,
    to: VendorOrderStatus,
    actor: &str,
    reason: Option<&str>,
) -> Result<(), Problem> {
    apply(tx, full, None, Some(Vendors::AllThatCan(to)), actor, reason).await
}

/// Which vendor orders move.
enum Vendors {
    /// The one at this index, which must be able to.
    One(usize, VendorOrderStatus),
    /// Every one that can; the others stay.
    AllThatCan(VendorOrderStatus),
}

/// Checks every move against the state machine, then writes them: the order's row, the
/// vendor orders' rows, the history and the events, one statement each, the order first.
async fn apply(
    tx: &TenantTx,
    full: &mut FullOrder,
    order_to: Option<(OrderStatus, bool)>,
    vendors: Option<Vendors>,
    actor: &str,
    reason: Option<&str>,
) -> Result<(), Problem> {
    let now = crate::now();
    let moved = |vendor_order_id, from: &str, to: &str| Transition {
        vendor_order_id,
        from: from.to_owned(),
        to: to.to_owned(),
        actor: actor.to_owned(),
        reason: reason.map(str::to_owned),
        at: now,
    };
    let mut moves = Vec::new();
    let mut events = Vec::new();
    let tenant = tx.tenant();
    if let Some((to, restock)) = order_to {
        let from = full.order.status;
        full.order.status = from.transition(to).map_err(refused)?;
        full.order.updated_at = now;
        if to == OrderStatus::Paid {
            full.order.paid_at = Some(now);
        }
        moves.push(moved(None, from.code(), to.code()));
        let invoice = match to {
            OrderStatus::Paid => Some(super::invoice::details(tx, full).await?),
            _ => None,
        };
        let o = &full.order;
        let event = OrderChanged {
            order_id: o.id,
            status: to,
            previous_status: from,
            reservation_id: o.reservation,
            customer_id: o.customer,
            total: mercato_kernel::Money::new(o.total, o.currency),
            refunded: mercato_kernel::Money::new(o.refunded, o.currency),
            lines: full
                .lines
                .iter()
                .filter(|l| l.quantity > l.refunded_quantity)
                .map(|l| Units {
                    variant_id: l.variant,
                    quantity: l.quantity - l.refunded_quantity,
                })
                .collect(),
            restock,
            vendor_order_ids: full.vendor_orders.iter().map(|v| v.id).collect(),
            vendor_orders: full.vendor_orders.iter().map(money_of).collect(),
            actor: actor.to_owned(),
            reason: reason.map(str::to_owned),
            invoice,
        };
        events.push(Envelope::new(to.event_name(), VERSION, tenant, &event)?);
    }
    let moving: Vec<(usize, VendorOrderStatus)> = match vendors {
        None => Vec::new(),
        Some(Vendors::One(index, to)) => vec![(index, to)],
        Some(Vendors::AllThatCan(to)) => (0..full.vendor_orders.len())
            .filter(|&i| full.vendor_orders[i].status.can_become(to))
            .map(|i| (i, to))
            .collect(),
    };
    let currency = full.order.currency;
    let order_id = full.order.id;
    for &(index, to) in &moving {
        let v = &mut full.vendor_orders[index];
        let from = v.status;
        v.status = from.transition(to).map_err(refused)?;
        v.updated_at = now;
        match to {
            VendorOrderStatus::Shipped => v.shipped_at = Some(now),
            VendorOrderStatus::Delivered => v.delivered_at = Some(now),
            _ => {}
        }
        moves.push(moved(Some(v.id), from.code(), to.code()));
        let m = |a: i64| mercato_kernel::Money::new(a, currency);
        let event = VendorOrderChanged {
            vendor_order_id: v.id,
            order_id,
            vendor_id: v.vendor,
            status: to,
            previous_status: from,
            total: m(v.total),
            commission: m(v.commission),
            earnings: m(v.earnings),
            carrier: v.carrier.clone(),
            tracking_number: v.tracking_number.clone(),
            actor: actor.to_owned(),
            reason: reason.map(str::to_owned),
        };
        events.push(Envelope::new(to.event_name(), VERSION, tenant, &event)?);
    }
    if order_to.is_some() {
        orders::update_order(tx, &full.order).await?;
    }
    match moving.as_slice() {
        [] => {}
        // One vendor order moves with everything it carries (its carrier and tracking
        // number when shipped).
        [(index, _)] if order_to.is_none() => {
            orders::update_vendor_order(tx, &full.vendor_orders[*index]).await?;
        }
        many => {
            let moved: Vec<&VendorOrder> =
                many.iter().map(|(i, _)| &full.vendor_orders[*i]).collect();
            orders::update_vendor_order_statuses(tx, &moved).await?;
        }
    }
    orders::record_transitions(tx, order_id, &moves).await?;
    if let Some(history) = &mut full.history {
        history.extend(moves);
    }
    enqueue_all(&**tx, &events).await?;
    Ok(())
}

//! Moving an order or a vendor order to another status: checked against the state machine
//! (`domain::lifecycle`), recorded (who, when, why) and published through the outbox, all in
//! the caller's transaction.

use crate::domain::lifecycle::{OrderStatus, VendorOrderStatus};
use crate::repo::orders::{self, FullOrder, Transition};
use mercato_db::TenantTx;
use mercato_events::publish;
use mercato_kernel::Problem;
use mercato_tenant_context::VariantId;
use serde::Serialize;

#[derive(Serialize)]
struct LineUnits {
    variant_id: VariantId,
    quantity: i64,
}

/// `order.<status>` (version 1): what inventory, and later accounting and notifications,
/// need to act on an order's move.
#[derive(Serialize)]
struct OrderEvent<'a> {
    order_id: crate::domain::OrderId,
    status: OrderStatus,
    previous_status: OrderStatus,
    reservation_id: Option<&'a str>,
    customer_id: Option<mercato_tenant_context::UserId>,
    total: mercato_kernel::Money,
    refunded: mercato_kernel::Money,
    /// Units sold, per variant (refunded units excluded).
    lines: Vec<LineUnits>,
    /// Put the units back into stock (a cancellation after payment).
    restock: bool,
    vendor_order_ids: Vec<crate::domain::VendorOrderId>,
    actor: &'a str,
    reason: Option<&'a str>,
}

/// `vendor_order.<status>` (version 1).
#[derive(Serialize)]
struct VendorOrderEvent<'a> {
    vendor_order_id: crate::domain::VendorOrderId,
    order_id: crate::domain::OrderId,
    vendor_id: mercato_tenant_context::VendorId,
    status: VendorOrderStatus,
    previous_status: VendorOrderStatus,
    total: mercato_kernel::Money,
    commission: mercato_kernel::Money,
    earnings: mercato_kernel::Money,
    carrier: Option<&'a str>,
    tracking_number: Option<&'a str>,
    actor: &'a str,
    reason: Option<&'a str>,
}

fn refused(e: impl std::fmt::Display) -> Problem {
    Problem::conflict("invalid_transition", e.to_string())
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
    let from = full.order.status;
    full.order.status = from.transition(to).map_err(refused)?;
    let now = crate::now();
    full.order.updated_at = now;
    if to == OrderStatus::Paid {
        full.order.paid_at = Some(now);
    }
    orders::update_order(tx, &full.order).await?;
    orders::record_transition(
        tx,
        full.order.id,
        &Transition {
            vendor_order_id: None,
            from: from.code().to_owned(),
            to: to.code().to_owned(),
            actor: actor.to_owned(),
            reason: reason.map(str::to_owned),
            at: now,
        },
    )
    .await?;
    let o = &full.order;
    let event = OrderEvent {
        order_id: o.id,
        status: to,
        previous_status: from,
        reservation_id: o.reservation.as_deref(),
        customer_id: o.customer,
        total: mercato_kernel::Money::new(o.total, o.currency),
        refunded: mercato_kernel::Money::new(o.refunded, o.currency),
        lines: full
            .lines
            .iter()
            .filter(|l| l.quantity > l.refunded_quantity)
            .map(|l| LineUnits {
                variant_id: l.variant,
                quantity: l.quantity - l.refunded_quantity,
            })
            .collect(),
        restock,
        vendor_order_ids: full.vendor_orders.iter().map(|v| v.id).collect(),
        actor,
        reason,
    };
    publish(&**tx, to.event_name(), tx.tenant(), &event).await?;
    Ok(())
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
    let currency = full.order.currency;
    let order_id = full.order.id;
    let Some(v) = full.vendor_orders.get_mut(index) else {
        return Err(Problem::not_found());
    };
    let from = v.status;
    v.status = from.transition(to).map_err(refused)?;
    let now = crate::now();
    v.updated_at = now;
    match to {
        VendorOrderStatus::Shipped => v.shipped_at = Some(now),
        VendorOrderStatus::Delivered => v.delivered_at = Some(now),
        _ => {}
    }
    orders::update_vendor_order(tx, v).await?;
    orders::record_transition(
        tx,
        order_id,
        &Transition {
            vendor_order_id: Some(v.id),
            from: from.code().to_owned(),
            to: to.code().to_owned(),
            actor: actor.to_owned(),
            reason: reason.map(str::to_owned),
            at: now,
        },
    )
    .await?;
    let m = |a: i64| mercato_kernel::Money::new(a, currency);
    let event = VendorOrderEvent {
        vendor_order_id: v.id,
        order_id,
        vendor_id: v.vendor,
        status: to,
        previous_status: from,
        total: m(v.total),
        commission: m(v.commission),
        earnings: m(v.earnings),
        carrier: v.carrier.as_deref(),
        tracking_number: v.tracking_number.as_deref(),
        actor,
        reason,
    };
    publish(&**tx, to.event_name(), tx.tenant(), &event).await?;
    Ok(())
}

/// Moves every vendor order that can go to `to` there (payment, expiry, cancellation).
pub async fn all_vendor_orders(
    tx: &TenantTx,
    full: &mut FullOrder,
    to: VendorOrderStatus,
    actor: &str,
    reason: Option<&str>,
) -> Result<(), Problem> {
    for i in 0..full.vendor_orders.len() {
        if full.vendor_orders[i].status.can_become(to) {
            vendor_order(tx, full, i, to, actor, reason).await?;
        }
    }
    Ok(())
}

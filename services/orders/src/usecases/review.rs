//! Payments held for review: a provider reported a successful payment whose amount or
//! currency is not the one asked for. Such a payment never pays the order by itself: the
//! order goes to `payment_review`, and merchant staff with `orders:manage` decide.
//!
//! - **accept**: the order is paid with what was taken. Its stock is held again first when
//!   the checkout's hold has run out meanwhile (all or nothing: with too little stock left
//!   the answer is 409 and the merchant refunds instead).
//! - **refund**: the order is cancelled (its stock and coupon use come back) and the money
//!   the provider reported is given back by the same durable job as any payment the order
//!   cannot keep.

use crate::OrdersState;
use crate::domain::OrderId;
use crate::domain::lifecycle::{OrderStatus, VendorOrderStatus};
use crate::domain::order::{FullOrder, PaymentFailure};
use crate::domain::payment::{Payment, PaymentStatus};
use crate::inventory::ReserveError;
use crate::problems::OrdersProblem;
use crate::repo::orders;
use crate::repo::payments;
use crate::usecases::transitions;
use mercato_db::TenantTx;
use mercato_inventory_api::ReservationId;
use mercato_kernel::{Money, Problem};
use mercato_tenant_context::{TenantContext, VariantId};

/// The code a held payment and its order carry.
pub const AMOUNT_MISMATCH: &str = "amount_mismatch";

/// What merchant staff decide about a held payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Accept,
    Refund,
}

impl Decision {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "accept" => Some(Self::Accept),
            "refund" => Some(Self::Refund),
            _ => None,
        }
    }
}

fn minor(m: Money) -> String {
    format!("{} {} (minor units)", m.amount, m.currency)
}

/// Records a success the provider reported with `reported` for a payment of another amount
/// or currency: the payment is kept as taken (with what was taken, so a refund gives back
/// exactly that), and a pending order goes to review instead of being paid. On an order
/// that is no longer pending the money goes back as any stray payment's does.
pub async fn hold(
    tx: &TenantTx,
    full: &mut FullOrder,
    payment: &mut Payment,
    reported: Money,
    actor: &str,
) -> Result<(), Problem> {
    if payment.status == PaymentStatus::Succeeded {
        return Ok(());
    }
    let message = format!(
        "the provider reported {} taken for a payment of {}",
        minor(reported),
        minor(payment.amount)
    );
    tracing::warn!(payment = %payment.id, order = %full.order.id, %message, "payment held for review");
    payment.status = PaymentStatus::Succeeded;
    payment.amount = reported;
    payment.failure_code = Some(AMOUNT_MISMATCH.to_owned());
    payment.failure_message = Some(message.clone());
    payment.updated_at = crate::now();
    payments::update(tx, payment).await?;
    if full.order.status == OrderStatus::PendingPayment {
        full.order.payment_failure = Some(PaymentFailure {
            code: AMOUNT_MISMATCH.to_owned(),
            message: message.clone(),
        });
        transitions::order(
            tx,
            full,
            OrderStatus::PaymentReview,
            actor,
            Some(&message),
            false,
        )
        .await?;
    } else {
        crate::usecases::payment::schedule_refund(tx, payment, &full.order.status).await?;
    }
    Ok(())
}

/// The payment an order in review is held on.
fn held_payment(all: Vec<Payment>) -> Result<Payment, Problem> {
    all.into_iter()
        .rev()
        .find(|p| {
            p.status == PaymentStatus::Succeeded
                && p.failure_code.as_deref() == Some(AMOUNT_MISMATCH)
        })
        .ok_or_else(|| {
            Problem::of(
                OrdersProblem::NotInReview,
                "the order has no payment held for review",
            )
        })
}

fn not_in_review(full: &FullOrder) -> Problem {
    Problem::of(
        OrdersProblem::NotInReview,
        format!("the order is {}", full.order.status.label()),
    )
}

/// Until when the checkout's stock hold lasts (see `checkout::reservation_ttl`).
fn hold_ends(full: &FullOrder) -> chrono::DateTime<chrono::Utc> {
    let order_ttl = (full.order.expires_at - full.order.placed_at).num_seconds();
    full.order.placed_at
        + chrono::TimeDelta::seconds(crate::usecases::checkout::reservation_ttl(order_ttl))
}

/// Applies merchant staff's `decision` to the order held for review.
pub async fn resolve(
    state: &OrdersState,
    ctx: &TenantContext,
    id: OrderId,
    decision: Decision,
    note: Option<&str>,
) -> Result<(), Problem> {
    let actor = ctx.actor.label();
    match decision {
        Decision::Refund => refund(state, ctx, id, &actor, note).await,
        Decision::Accept => accept(state, ctx, id, &actor, note).await,
    }
}

async fn refund(
    state: &OrdersState,
    ctx: &TenantContext,
    id: OrderId,
    actor: &str,
    note: Option<&str>,
) -> Result<(), Problem> {
    let tx = state.db.tenant_tx(ctx.tenant).await?;
    let mut full = orders::find(&tx, id, true)
        .await?
        .ok_or_else(Problem::not_found)?;
    if full.order.status != OrderStatus::PaymentReview {
        return Err(not_in_review(&full));
    }
    let payment = held_payment(payments::of_order(&tx, id).await?)?;
    let reason = note.unwrap_or("payment refunded after review");
    if let Some(coupon) = full.order.coupon {
        crate::repo::coupons::release(&tx, coupon, id).await?;
    }
    transitions::all_vendor_orders(
        &tx,
        &mut full,
        VendorOrderStatus::Cancelled,
        actor,
        Some(reason),
    )
    .await?;
    transitions::order(
        &tx,
        &mut full,
        OrderStatus::Cancelled,
        actor,
        Some(reason),
        false,
    )
    .await?;
    crate::usecases::payment::schedule_refund(&tx, &payment, &full.order.status).await?;
    tx.commit().await?;
    state.outbox.notify_one();
    Ok(())
}

async fn accept(
    state: &OrdersState,
    ctx: &TenantContext,
    id: OrderId,
    actor: &str,
    note: Option<&str>,
) -> Result<(), Problem> {
    // 1. The stock: the checkout's hold while it lasts (with a minute to spare), else a new
    //    one, taken before the order is written.
    let seen = {
        let tx = state.db.tenant_read(ctx.tenant).await?;
        orders::find(&tx, id, false)
            .await?
            .ok_or_else(Problem::not_found)?
    };
    if seen.order.status != OrderStatus::PaymentReview {
        return Err(not_in_review(&seen));
    }
    let renewed = if crate::now() + chrono::TimeDelta::seconds(60) >= hold_ends(&seen) {
        let units: Vec<(VariantId, i64)> =
            seen.lines.iter().map(|l| (l.variant, l.quantity)).collect();
        let held = state
            .inventory
            .reserve(
                ctx,
                &format!("review:{id}:{}", uuid::Uuid::now_v7()),
                &units,
                900,
                &id.to_string(),
            )
            .await
            .map_err(|e| match e {
                ReserveError::Short(errors)
                | ReserveError::NotSelling(errors)
                | ReserveError::OnHoliday(errors) => {
                    let mut problem = Problem::of(
                        OrdersProblem::InsufficientStock,
                        "the order's stock is no longer there to hold; refund the payment instead",
                    );
                    problem.errors = errors;
                    problem
                }
                ReserveError::Unavailable(e) => {
                    tracing::error!(error = %e, "inventory unavailable accepting a payment");
                    Problem::of(
                        OrdersProblem::InventoryUnavailable,
                        "stock cannot be held right now; try again",
                    )
                }
            })?;
        Some(held)
    } else {
        None
    };
    // 2. The order, under its lock.
    let written = write_accept(state, ctx, id, actor, note, renewed).await;
    if written.is_err()
        && let Some(held) = &renewed
        && let Err(e) = state.inventory.release(ctx, *held).await
    {
        tracing::warn!(error = %e, reservation = %held, "could not release an unused reservation; it expires by itself");
    }
    written
}

async fn write_accept(
    state: &OrdersState,
    ctx: &TenantContext,
    id: OrderId,
    actor: &str,
    note: Option<&str>,
    renewed: Option<ReservationId>,
) -> Result<(), Problem> {
    let tx = state.db.tenant_tx(ctx.tenant).await?;
    let mut full = orders::find(&tx, id, true)
        .await?
        .ok_or_else(Problem::not_found)?;
    if full.order.status != OrderStatus::PaymentReview {
        return Err(not_in_review(&full));
    }
    let payment = held_payment(payments::of_order(&tx, id).await?)?;
    if let Some(held) = renewed {
        orders::set_reservation(&tx, id, held).await?;
        full.order.reservation = Some(held);
    }
    full.order.payment_failure = None;
    full.order.paid_by = Some(payment.id);
    transitions::order_and_vendor_orders(
        &tx,
        &mut full,
        OrderStatus::Paid,
        VendorOrderStatus::ToFulfil,
        actor,
        Some(note.unwrap_or("payment accepted after review")),
    )
    .await?;
    tx.commit().await?;
    state.outbox.notify_one();
    Ok(())
}

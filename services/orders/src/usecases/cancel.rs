//! Cancelling an order, by its buyer or the merchant.

use crate::OrdersState;
use crate::domain::OrderId;
use crate::domain::lifecycle::{OrderStatus, VendorOrderStatus};
use crate::domain::payment::{PaymentStatus, VendorShare};
use crate::problems::OrdersProblem;
use crate::repo::orders as repo;
use crate::repo::{coupons, payments, settings};
use crate::usecases::access::Viewer;
use crate::usecases::refunds::{Plan, execute, internal_key, record_refund, remaining};
use crate::usecases::transitions;
use mercato_kernel::Problem;
use mercato_tenant_context::TenantContext;

/// Cancels an order: an unpaid one releases its coupon and its payment attempts; a paid one,
/// not shipped, is refunded whole (a buyer only within the shop's cancel window). The
/// caller has checked that `viewer` may.
pub async fn cancel(
    state: &OrdersState,
    ctx: &TenantContext,
    id: OrderId,
    viewer: Viewer,
    reason: Option<&str>,
) -> Result<(), Problem> {
    let tx = state.db.tenant_tx(ctx.tenant).await?;
    let mut full = repo::find(&tx, id, true)
        .await?
        .ok_or_else(Problem::not_found)?;
    let actor = ctx.actor.label();
    let shipped = full.vendor_orders.iter().any(|v| {
        matches!(
            v.status,
            VendorOrderStatus::Shipped | VendorOrderStatus::Delivered
        )
    });
    if shipped {
        return Err(Problem::of(
            OrdersProblem::AlreadyShipped,
            "part of the order has shipped; request a return instead",
        ));
    }
    match full.order.status {
        OrderStatus::PendingPayment => {
            if let Some(coupon) = full.order.coupon {
                coupons::release(&tx, coupon, id).await?;
            }
            transitions::all_vendor_orders(
                &tx,
                &mut full,
                VendorOrderStatus::Cancelled,
                &actor,
                reason,
            )
            .await?;
            transitions::order(
                &tx,
                &mut full,
                OrderStatus::Cancelled,
                &actor,
                reason,
                false,
            )
            .await?;
            let pending: Vec<_> = payments::of_order(&tx, id)
                .await?
                .into_iter()
                .filter(|p| matches!(p.status, PaymentStatus::Created | PaymentStatus::Processing))
                .collect();
            tx.commit().await?;
            state.outbox.notify_one();
            crate::usecases::expiry::cancel_intents(state, ctx.tenant, &pending).await;
            Ok(())
        }
        OrderStatus::Paid => {
            if viewer == Viewer::Buyer {
                let settings = settings::load(&tx, state.config.default_settings()).await?;
                let paid_at = full.order.paid_at.unwrap_or(full.order.placed_at);
                if crate::now() - paid_at > chrono::TimeDelta::seconds(settings.cancel_window_secs)
                {
                    return Err(Problem::of(
                        OrdersProblem::CancelWindowPassed,
                        "the order can no longer be cancelled; ask the shop",
                    ));
                }
            }
            let left = remaining(&full);
            let amount: i64 = left.iter().map(|(_, l)| l).sum();
            let refund = if amount > 0 {
                let plan = Plan {
                    amount,
                    lines: Vec::new(),
                    shares: left
                        .iter()
                        .filter(|(_, l)| *l > 0)
                        .map(|(v, l)| VendorShare {
                            vendor_order_id: *v,
                            amount: *l,
                        })
                        .collect(),
                };
                Some(
                    record_refund(
                        &tx,
                        &mut full,
                        &plan,
                        reason.unwrap_or("order cancelled"),
                        false,
                        &internal_key("cancel", id),
                        "",
                        &actor,
                    )
                    .await?,
                )
            } else {
                None
            };
            transitions::all_vendor_orders(
                &tx,
                &mut full,
                VendorOrderStatus::Cancelled,
                &actor,
                reason,
            )
            .await?;
            transitions::order(&tx, &mut full, OrderStatus::Cancelled, &actor, reason, true)
                .await?;
            tx.commit().await?;
            state.outbox.notify_one();
            if let Some(refund) = refund
                && let Err(e) = execute(state, ctx.tenant, id, refund.id).await
            {
                // The refund job finishes it.
                tracing::warn!(error = %e, order = %id, "refund of a cancelled order deferred");
            }
            Ok(())
        }
        other => Err(Problem::of(
            OrdersProblem::NotCancellable,
            format!("the order is {}", other.code()),
        )),
    }
}

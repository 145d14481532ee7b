//! Returns: the buyer asks to send delivered units back; the vendor or the merchant accepts
//! (refunding them) or rejects.

use crate::OrdersState;
use crate::domain::lifecycle::VendorOrderStatus;
use crate::domain::payment::{LineQuantity, Return, ReturnStatus};
use crate::domain::{OrderId, OrderLineId, ReturnId, VendorOrderId};
use crate::problems::OrdersProblem;
use crate::repo::orders as repo;
use crate::repo::{payments, settings};
use crate::usecases::access::{Viewer, is_order_reader, visible_order};
use crate::usecases::refunds::{LineIn, execute, internal_key, plan, record_refund};
use mercato_kernel::http::body_id;
use mercato_kernel::{FieldError, Problem};
use mercato_orders_api::events::{RETURN_ACCEPTED, RETURN_REJECTED, RETURN_REQUESTED};
use mercato_tenant_context::{Permission, TenantContext, VendorAccess, VendorPermission};

/// The buyer (a customer, or a guest with the order's `token`) asks to return delivered units
/// of one vendor order, for `reason`; each line at most what is neither refunded nor in
/// another open return.
pub async fn request(
    state: &OrdersState,
    ctx: &TenantContext,
    id: OrderId,
    token: Option<&str>,
    vendor_order_id: &str,
    lines_in: &[LineIn],
    reason: &str,
) -> Result<Return, Problem> {
    let tx = state.db.tenant_tx(ctx.tenant).await?;
    let (_, viewer) = visible_order(state, &tx, ctx, token, id).await?;
    if viewer != Viewer::Buyer {
        return Err(Problem::forbidden("only the customer may request a return"));
    }
    let full = repo::find(&tx, id, true)
        .await?
        .ok_or_else(Problem::not_found)?;
    let mut errors = Vec::new();
    let reason = reason.trim().to_owned();
    if reason.is_empty() || reason.chars().count() > 500 {
        errors.push(FieldError::new("/reason", "1 to 500 characters"));
    }
    let vendor_order = body_id::<VendorOrderId>(vendor_order_id, "/vendor_order_id", &mut errors);
    let vo = vendor_order.and_then(|v| full.vendor_orders.iter().find(|x| x.id == v));
    if vendor_order.is_some() && vo.is_none() {
        errors.push(FieldError::new(
            "/vendor_order_id",
            "not a vendor order of this order",
        ));
    }
    let open_returns = payments::returns_of(&tx, id).await?;
    let mut lines = Vec::new();
    if lines_in.is_empty() || lines_in.len() > 100 {
        errors.push(FieldError::new("/lines", "1 to 100 lines"));
    }
    for (i, l) in lines_in.iter().enumerate() {
        let Some(line_id) =
            body_id::<OrderLineId>(&l.line_id, &format!("/lines/{i}/line_id"), &mut errors)
        else {
            continue;
        };
        let Some(line) = full
            .lines
            .iter()
            .find(|x| x.id == line_id && Some(x.vendor_order) == vendor_order)
        else {
            errors.push(FieldError::new(
                format!("/lines/{i}/line_id"),
                "not a line of this vendor order",
            ));
            continue;
        };
        let requested: i64 = open_returns
            .iter()
            .filter(|r| r.status == ReturnStatus::Requested || r.status == ReturnStatus::Accepted)
            .flat_map(|r| r.lines.iter())
            .filter(|q| q.line_id == line_id)
            .map(|q| q.quantity)
            .sum();
        let left = line.quantity - line.refunded_quantity - requested;
        if l.quantity < 1 || l.quantity > left {
            errors.push(FieldError::new(
                format!("/lines/{i}/quantity"),
                format!("from 1 to {left}"),
            ));
            continue;
        }
        lines.push(LineQuantity {
            line_id,
            quantity: l.quantity,
            amount: 0,
        });
    }
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    let Some(vo) = vo else {
        return Err(Problem::invalid_field("/vendor_order_id", "required"));
    };
    if vo.status != VendorOrderStatus::Delivered {
        return Err(Problem::of(
            OrdersProblem::NotDelivered,
            "only delivered items can be returned",
        ));
    }
    let now = crate::now();
    let ret = Return {
        id: ReturnId::new(),
        order_id: id,
        vendor_order_id: vo.id,
        lines,
        reason,
        status: ReturnStatus::Requested,
        decided_by: None,
        decision_note: None,
        refund_id: None,
        created_at: now,
        updated_at: now,
    };
    payments::insert_return(&tx, &ret).await?;
    crate::events::return_changed(&tx, RETURN_REQUESTED, &ret, &ctx.actor.label()).await?;
    tx.commit().await?;
    state.outbox.notify_one();
    Ok(ret)
}

/// The vendor (staff with `vendor.orders:fulfil`, when the shop lets vendors refund) or
/// merchant staff (`orders:manage`) accept or reject a requested return, with an optional
/// `note` for the customer; an accepted return is refunded at once (`restock`: put the
/// units back).
pub async fn decide(
    state: &OrdersState,
    ctx: &TenantContext,
    id: ReturnId,
    accept: bool,
    note: Option<&str>,
    restock: bool,
) -> Result<Return, Problem> {
    if note.is_some_and(|n| n.chars().count() > 500) {
        return Err(Problem::invalid_field("/note", "at most 500 characters"));
    }
    let tx = state.db.tenant_tx(ctx.tenant).await?;
    let order = payments::find_return(&tx, id)
        .await?
        .ok_or_else(Problem::not_found)?
        .order_id;
    let mut full = repo::find(&tx, order, true)
        .await?
        .ok_or_else(Problem::not_found)?;
    // Read again under the order's lock: two decisions at once take turns.
    let mut ret = payments::find_return(&tx, id)
        .await?
        .ok_or_else(Problem::not_found)?;
    let vendor = full
        .vendor_orders
        .iter()
        .find(|v| v.id == ret.vendor_order_id)
        .map(|v| v.vendor)
        .ok_or_else(Problem::not_found)?;
    let merchant = ctx.can(Permission::OrdersManage);
    if !merchant && !ctx.can_for_vendor(vendor, VendorPermission::OrdersFulfil) {
        if is_order_reader(ctx) || ctx.vendor_role(vendor).is_some() {
            return Err(Problem::forbidden("you may not decide this return"));
        }
        return Err(Problem::not_found());
    }
    if ret.status != ReturnStatus::Requested {
        return Err(Problem::of(
            OrdersProblem::ReturnDecided,
            format!("the return is {}", ret.status.code()),
        ));
    }
    if accept && !merchant {
        let settings = settings::load(&tx, state.config.default_settings()).await?;
        if !settings.vendor_refunds {
            return Err(Problem::forbidden(
                "this shop does not let vendors refund; the merchant decides returns",
            ));
        }
    }
    let actor = ctx.actor.label();
    ret.decided_by = Some(actor.clone());
    ret.decision_note = note.map(str::to_owned);
    ret.updated_at = crate::now();
    let mut refund = None;
    if accept {
        let lines: Vec<LineIn> = ret
            .lines
            .iter()
            .map(|q| LineIn {
                line_id: q.line_id.to_string(),
                quantity: q.quantity,
            })
            .collect();
        let plan = plan(&full, Some(&lines), None, Some(ret.vendor_order_id))?;
        let r = record_refund(
            &tx,
            &mut full,
            &plan,
            &format!("return {}: {}", ret.id, ret.reason),
            restock,
            &internal_key("return", ret.id),
            "",
            &actor,
        )
        .await?;
        ret.status = ReturnStatus::Refunded;
        ret.refund_id = Some(r.id);
        refund = Some(r.id);
        crate::events::return_changed(&tx, RETURN_ACCEPTED, &ret, &actor).await?;
    } else {
        ret.status = ReturnStatus::Rejected;
        crate::events::return_changed(&tx, RETURN_REJECTED, &ret, &actor).await?;
    }
    payments::update_return(&tx, &ret).await?;
    tx.commit().await?;
    state.outbox.notify_one();
    if let Some(refund) = refund
        && let Err(e) = execute(state, ctx.tenant, ret.order_id, refund).await
    {
        tracing::warn!(error = %e, "refund of an accepted return deferred to its job");
    }
    Ok(ret)
}

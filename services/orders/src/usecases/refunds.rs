//! Refunds. A refund is recorded first (its amount held against the order, so two refunds
//! can never give back more than was paid), together with a job that carries it out; the
//! request then carries it out itself, and the job finishes it if the process stops in
//! between. The provider refund is idempotent by the refund's id. A refund the provider
//! refuses gives its amount back to the order. Cancellations (`cancel`) and accepted
//! returns (`returns`) refund through here too. A refund by lines that refunds the last
//! unit of a vendor order gives its shipping back as well (`domain::refund`).

use crate::OrdersState;
use crate::domain::lifecycle::OrderStatus;
use crate::domain::order::FullOrder;
use crate::domain::payment::{LineQuantity, Refund, RefundStatus, VendorShare};
use crate::domain::refund;
use crate::domain::{OrderId, OrderLineId, RefundId, VendorOrderId};
use crate::problems::OrdersProblem;
use crate::repo::orders as repo;
use crate::repo::{payments, settings};
use crate::usecases::access::is_order_reader;
use crate::usecases::transitions;
use async_trait::async_trait;

use mercato_db::TenantTx;
use mercato_jobs::{Job, JobHandler, JobOutcome, NewJob, Worker};
use mercato_kernel::http::body_id;
use mercato_kernel::{FieldError, Money, Problem};
use mercato_payments::ProviderError;
use mercato_tenant_context::{Permission, TenantContext, TenantId, VendorAccess, VendorPermission};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;

pub const REFUND_JOB: &str = "orders.refund";

/// Units of one order line to refund or return, as the caller names them.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = RefundLineIn)]
pub struct LineIn {
    /// `orl_…`.
    pub line_id: String,
    pub quantity: i64,
}

/// What a new refund holds against the order.
pub(crate) struct Plan {
    pub amount: i64,
    /// (line index, units, amount) of a refund by lines.
    pub lines: Vec<(usize, i64, i64)>,
    /// How much each vendor order gives back.
    pub shares: Vec<VendorShare>,
}

impl Plan {
    /// The one vendor order the refund is about, when there is one.
    fn vendor_order(&self) -> Option<VendorOrderId> {
        match self.shares.as_slice() {
            [one] => Some(one.vendor_order_id),
            _ => None,
        }
    }
}

/// The amount that refunding `quantity` more units of a line gives back: its total spread
/// evenly over its units, the last unit taking the remainder, so refunding every unit
/// refunds the whole line.
fn line_share(
    total: i64,
    quantity: i64,
    already_units: i64,
    more: i64,
    already_amount: i64,
) -> i64 {
    let after = i128::from(total) * i128::from(already_units + more) / i128::from(quantity.max(1));
    i64::try_from(after).unwrap_or(total) - already_amount
}

/// The lines of vendor order `vo` as they will be once the `planned` units are refunded.
fn lines_after(
    full: &FullOrder,
    planned: &[(usize, i64, i64)],
    vo: VendorOrderId,
) -> Vec<refund::LineAfter> {
    full.lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.vendor_order == vo)
        .map(|(index, l)| {
            let more = planned
                .iter()
                .filter(|(i, _, _)| *i == index)
                .map(|(_, quantity, _)| quantity)
                .sum::<i64>();
            refund::LineAfter {
                total: l.total,
                quantity: l.quantity,
                refunded_quantity: l.refunded_quantity + more,
            }
        })
        .collect()
}

/// What is left to refund of each vendor order.
pub(crate) fn remaining(full: &FullOrder) -> Vec<(VendorOrderId, i64)> {
    full.vendor_orders
        .iter()
        .map(|v| (v.id, (v.total - v.refunded).max(0)))
        .collect()
}

pub(crate) fn plan(
    full: &FullOrder,
    lines: Option<&[LineIn]>,
    amount: Option<Money>,
    vendor_order: Option<VendorOrderId>,
) -> Result<Plan, Problem> {
    let o = &full.order;
    let left = remaining(full);
    match (lines, amount) {
        (Some(lines), None) => {
            let mut errors = Vec::new();
            let mut planned: Vec<(usize, i64, i64)> = Vec::new();
            if lines.is_empty() || lines.len() > 100 {
                errors.push(FieldError::new("/lines", "1 to 100 lines"));
            }
            for (i, l) in lines.iter().enumerate() {
                let Some(id) =
                    body_id::<OrderLineId>(&l.line_id, &format!("/lines/{i}/line_id"), &mut errors)
                else {
                    continue;
                };
                let Some(index) = full.lines.iter().position(|x| x.id == id) else {
                    errors.push(FieldError::new(
                        format!("/lines/{i}/line_id"),
                        "not a line of this order",
                    ));
                    continue;
                };
                if planned.iter().any(|(x, _, _)| *x == index) {
                    errors.push(FieldError::new(
                        format!("/lines/{i}/line_id"),
                        "each line once",
                    ));
                    continue;
                }
                let line = &full.lines[index];
                if vendor_order.is_some_and(|v| v != line.vendor_order) {
                    errors.push(FieldError::new(
                        format!("/lines/{i}/line_id"),
                        "not a line of vendor_order_id",
                    ));
                    continue;
                }
                let remaining = line.quantity - line.refunded_quantity;
                if l.quantity < 1 || l.quantity > remaining {
                    errors.push(FieldError::new(
                        format!("/lines/{i}/quantity"),
                        format!("from 1 to {remaining} (units not yet refunded)"),
                    ));
                    continue;
                }
                let share = line_share(
                    line.total,
                    line.quantity,
                    line.refunded_quantity,
                    l.quantity,
                    line.refunded,
                );
                planned.push((index, l.quantity, share));
            }
            if !errors.is_empty() {
                return Err(Problem::validation(errors));
            }
            let mut shares: Vec<VendorShare> = Vec::new();
            for &(index, _, share) in &planned {
                let vo = full.lines[index].vendor_order;
                match shares.iter_mut().find(|s| s.vendor_order_id == vo) {
                    Some(s) => s.amount += share,
                    None => shares.push(VendorShare {
                        vendor_order_id: vo,
                        amount: share,
                    }),
                }
            }
            // An earlier refund by amount may have given back part of a vendor order
            // already: never more than what it has left.
            for s in &mut shares {
                let left = left
                    .iter()
                    .find(|(v, _)| *v == s.vendor_order_id)
                    .map_or(0, |(_, l)| *l);
                if s.amount > left {
                    return Err(Problem::of(
                        OrdersProblem::RefundExceedsRemaining,
                        format!("only {left} is left to refund of {}", s.vendor_order_id),
                    ));
                }
                // The refund that completes a vendor order gives its shipping back too.
                let shipping = full
                    .vendor_orders
                    .iter()
                    .find(|v| v.id == s.vendor_order_id)
                    .map_or(0, |v| {
                        refund::shipping_back(
                            v.total,
                            &lines_after(full, &planned, v.id),
                            left - s.amount,
                        )
                    });
                s.amount += shipping;
            }
            let amount: i64 = shares.iter().map(|s| s.amount).sum();
            if amount <= 0 {
                return Err(Problem::of(
                    OrdersProblem::NothingToRefund,
                    "these units carry no amount to refund",
                ));
            }
            Ok(Plan {
                amount,
                lines: planned,
                shares,
            })
        }
        (None, Some(money)) => {
            if money.currency != o.currency {
                return Err(Problem::invalid_field(
                    "/amount/currency",
                    format!("the order is in {}", o.currency),
                ));
            }
            let shares = match vendor_order {
                Some(v) => {
                    let limit = left
                        .iter()
                        .find(|(id, _)| *id == v)
                        .map(|(_, l)| *l)
                        .ok_or_else(|| {
                            Problem::invalid_field(
                                "/vendor_order_id",
                                "not a vendor order of this order",
                            )
                        })?;
                    if money.amount < 1 || money.amount > limit {
                        return Err(Problem::invalid_field(
                            "/amount/amount",
                            format!("from 1 to {limit}"),
                        ));
                    }
                    vec![VendorShare {
                        vendor_order_id: v,
                        amount: money.amount,
                    }]
                }
                None => {
                    let limit: i64 = left.iter().map(|(_, l)| l).sum();
                    if money.amount < 1 || money.amount > limit {
                        return Err(Problem::invalid_field(
                            "/amount/amount",
                            format!("from 1 to {limit}"),
                        ));
                    }
                    // Spread over the vendor orders by what each has left.
                    let weights: Vec<i64> = left.iter().map(|(_, l)| *l).collect();
                    crate::domain::split::allocate(money.amount, &weights)
                        .into_iter()
                        .zip(&left)
                        .filter(|(amount, _)| *amount > 0)
                        .map(|(amount, (v, _))| VendorShare {
                            vendor_order_id: *v,
                            amount,
                        })
                        .collect()
                }
            };
            Ok(Plan {
                amount: money.amount,
                lines: Vec::new(),
                shares,
            })
        }
        _ => Err(Problem::invalid_field(
            "/lines",
            "give lines or amount, not both",
        )),
    }
}

/// Records a refund and holds its amount against the order, in `tx`. Returns the refund
/// (not yet carried out).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn record_refund(
    tx: &TenantTx,
    full: &mut FullOrder,
    plan: &Plan,
    reason: &str,
    restock: bool,
    key: &str,
    request_hash: &str,
    actor: &str,
) -> Result<Refund, Problem> {
    let payment = full
        .order
        .paid_by
        .ok_or_else(|| Problem::of(OrdersProblem::NotPaid, "the order has no payment to refund"))?;
    let mut quantities = Vec::new();
    for &(index, quantity, share) in &plan.lines {
        let line = &mut full.lines[index];
        line.refunded_quantity += quantity;
        line.refunded += share;
        repo::update_line_refund(tx, line).await?;
        quantities.push(LineQuantity {
            line_id: line.id,
            quantity,
            amount: share,
        });
    }
    for share in &plan.shares {
        if let Some(v) = full
            .vendor_orders
            .iter_mut()
            .find(|v| v.id == share.vendor_order_id)
        {
            v.refunded += share.amount;
            repo::update_vendor_order(tx, v).await?;
        }
    }
    full.order.refunded += plan.amount;
    full.order.updated_at = crate::now();
    repo::update_order(tx, &full.order).await?;
    let refund = Refund {
        id: RefundId::new(),
        order_id: full.order.id,
        vendor_order_id: plan.vendor_order(),
        stray_payment: false,
        amount: Money::new(plan.amount, full.order.currency),
        reason: reason.to_owned(),
        restock: restock && !plan.lines.is_empty(),
        lines: quantities,
        shares: plan.shares.clone(),
        status: RefundStatus::Pending,
        provider_ref: None,
        payment,
        idempotency_key: key.to_owned(),
        request_hash: request_hash.to_owned(),
        actor: actor.to_owned(),
        created_at: crate::now(),
    };
    payments::insert_refund(tx, &refund).await?;
    schedule(tx, full.order.id, refund.id).await?;
    Ok(refund)
}

#[derive(Serialize, Deserialize)]
struct RefundTask {
    order_id: OrderId,
    refund_id: RefundId,
}

async fn schedule(tx: &TenantTx, order: OrderId, refund: RefundId) -> Result<(), Problem> {
    mercato_jobs::enqueue(
        &**tx,
        NewJob {
            tenant: tx.tenant(),
            kind: REFUND_JOB,
            subject: Some(order.to_string()),
            payload: serde_json::to_value(RefundTask {
                order_id: order,
                refund_id: refund,
            })?,
            // The request carries it out at once; the job is the safety net.
            run_at: crate::now() + chrono::TimeDelta::seconds(30),
            max_attempts: 50,
        },
    )
    .await?;
    Ok(())
}

/// Carries out a pending refund through the provider and applies the outcome. Safe to run
/// twice: a refund no longer pending is left alone, and the provider call is idempotent.
pub async fn execute(
    state: &OrdersState,
    tenant: TenantId,
    order: OrderId,
    refund: RefundId,
) -> Result<(), Problem> {
    let (pending, payment) = {
        let tx = state.db.tenant_read(tenant).await?;
        let full = repo::find(&tx, order, false)
            .await?
            .ok_or_else(Problem::not_found)?;
        let Some(r) = payments::find_refund(&tx, refund, full.order.currency).await? else {
            return Err(Problem::not_found());
        };
        if r.status != RefundStatus::Pending {
            return Ok(());
        }
        let payment = payments::of_order(&tx, order)
            .await?
            .into_iter()
            .find(|p| p.id == r.payment)
            .ok_or_else(Problem::not_found)?;
        (r, payment)
    };
    let provider = state
        .payments
        .get(&payment.provider)
        .cloned()
        .ok_or_else(|| {
            Problem::of(
                OrdersProblem::ProviderUnavailable,
                "the payment provider is not configured",
            )
        })?;
    let provider_ref = payment.provider_ref.clone().unwrap_or_default();
    let answer = provider
        .refund(
            tenant,
            &provider_ref,
            pending.amount,
            &pending.id.to_string(),
        )
        .await;
    let tx = state.db.tenant_tx(tenant).await?;
    let mut full = repo::find(&tx, order, true)
        .await?
        .ok_or_else(Problem::not_found)?;
    let Some(r) = payments::find_refund(&tx, refund, full.order.currency).await? else {
        return Err(Problem::not_found());
    };
    if r.status != RefundStatus::Pending {
        return Ok(());
    }
    match answer {
        Ok(done) => {
            payments::set_refund_status(
                &tx,
                r.id,
                RefundStatus::Succeeded,
                Some(&done.provider_ref),
            )
            .await?;
            if !r.stray_payment {
                // Only refunds carried out count: another may still be pending.
                let refunded: i64 = payments::refunds_of(&tx, order, full.order.currency)
                    .await?
                    .iter()
                    .filter(|x| !x.stray_payment && x.status == RefundStatus::Succeeded)
                    .map(|x| x.amount.amount)
                    .sum();
                let next = if refunded >= full.order.total {
                    OrderStatus::Refunded
                } else {
                    OrderStatus::PartiallyRefunded
                };
                if full.order.status.can_become(next) {
                    transitions::order(&tx, &mut full, next, &r.actor, Some(&r.reason), false)
                        .await?;
                }
            }
            crate::events::refund_completed(&tx, &full, &r).await?;
            // The refund's balance transaction reaches the ledger's reconciliation with
            // the next import.
            crate::usecases::provider_balance::schedule_import(state, &tx).await?;
        }
        Err(ProviderError::Refused { code, message, .. }) => {
            tracing::warn!(refund = %r.id, code, message, "refund refused by the provider");
            payments::set_refund_status(&tx, r.id, RefundStatus::Failed, None).await?;
            if !r.stray_payment {
                give_back(&tx, &mut full, &r).await?;
            }
        }
        Err(ProviderError::Unavailable(e)) => {
            return Err(Problem::of(
                OrdersProblem::ProviderUnavailable,
                format!("the payment provider could not be reached: {e}"),
            ));
        }
    }
    tx.commit().await?;
    state.outbox.notify_one();
    Ok(())
}

/// Undoes exactly what a refund held against the order.
async fn give_back(tx: &TenantTx, full: &mut FullOrder, r: &Refund) -> Result<(), Problem> {
    for q in &r.lines {
        if let Some(line) = full.lines.iter_mut().find(|l| l.id == q.line_id) {
            line.refunded_quantity -= q.quantity;
            line.refunded -= q.amount;
            repo::update_line_refund(tx, line).await?;
        }
    }
    for share in &r.shares {
        if let Some(v) = full
            .vendor_orders
            .iter_mut()
            .find(|v| v.id == share.vendor_order_id)
        {
            v.refunded -= share.amount;
            repo::update_vendor_order(tx, v).await?;
        }
    }
    full.order.refunded -= r.amount.amount;
    repo::update_order(tx, &full.order).await?;
    Ok(())
}

struct Refunds(OrdersState);

#[async_trait]
impl JobHandler for Refunds {
    async fn run(&self, job: &Job) -> JobOutcome {
        let task: RefundTask = match serde_json::from_value(job.payload.clone()) {
            Ok(task) => task,
            Err(e) => return JobOutcome::Fail(format!("invalid payload: {e}")),
        };
        match execute(&self.0, job.tenant, task.order_id, task.refund_id).await {
            Ok(()) => JobOutcome::Done,
            Err(e) => JobOutcome::Retry(e.to_string()),
        }
    }
}

pub fn worker(state: &OrdersState) -> Worker {
    Worker::new(
        state.db.clone(),
        REFUND_JOB,
        Arc::new(Refunds(state.clone())),
    )
    .backoff(Duration::from_secs(5), Duration::from_secs(600))
}

/// Idempotency keys the service makes itself; a client's key never contains a space, so the
/// two cannot collide.
pub(crate) fn internal_key(kind: &str, id: impl std::fmt::Display) -> String {
    format!("internal {kind}:{id}")
}

/// Refunds a whole payment the order cannot keep (see `payment::settle`).
pub async fn refund_whole_payment(
    state: &OrdersState,
    tenant: TenantId,
    order: OrderId,
    payment: crate::domain::payment::PaymentId,
    reason: &str,
) -> Result<(), Problem> {
    let key = internal_key("stray", payment);
    let tx = state.db.tenant_tx(tenant).await?;
    let full = repo::find(&tx, order, true)
        .await?
        .ok_or_else(Problem::not_found)?;
    let refund = match payments::refund_by_key(&tx, order, &key, full.order.currency).await? {
        Some(existing) => existing,
        None => {
            let p = payments::of_order(&tx, order)
                .await?
                .into_iter()
                .find(|p| p.id == payment)
                .ok_or_else(Problem::not_found)?;
            let refund = Refund {
                id: RefundId::new(),
                order_id: order,
                vendor_order_id: None,
                stray_payment: true,
                amount: p.amount,
                reason: reason.to_owned(),
                restock: false,
                lines: Vec::new(),
                shares: Vec::new(),
                status: RefundStatus::Pending,
                provider_ref: None,
                payment,
                idempotency_key: key,
                request_hash: String::new(),
                actor: "system".to_owned(),
                created_at: crate::now(),
            };
            payments::insert_refund(&tx, &refund).await?;
            refund
        }
    };
    tx.commit().await?;
    execute(state, tenant, order, refund.id).await
}

/// Who may refund: merchant staff with `orders:manage` anything; vendor staff with
/// `vendor.orders:fulfil` their own vendor orders, when the shop allows vendor refunds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refunder {
    Merchant,
    Vendor,
}

/// The caller's standing on this order's refunds: 404 for strangers (and buyers), 403 for
/// staff who may see but not refund.
pub fn refunder(ctx: &TenantContext, full: &FullOrder) -> Result<Refunder, Problem> {
    if ctx.can(Permission::OrdersManage) {
        return Ok(Refunder::Merchant);
    }
    let fulfils = full
        .vendor_orders
        .iter()
        .any(|v| ctx.can_for_vendor(v.vendor, VendorPermission::OrdersFulfil));
    if fulfils {
        return Ok(Refunder::Vendor);
    }
    if is_order_reader(ctx)
        || full
            .vendor_orders
            .iter()
            .any(|v| ctx.vendor_role(v.vendor).is_some())
    {
        return Err(Problem::forbidden("you may not refund this order"));
    }
    Err(Problem::not_found())
}

/// A vendor refunds only its own vendor orders, and only when the shop allows it.
fn vendor_may_refund(
    ctx: &TenantContext,
    full: &FullOrder,
    shares: &[VendorShare],
    vendor_refunds: bool,
) -> Result<(), Problem> {
    if !vendor_refunds {
        return Err(Problem::forbidden("this shop does not let vendors refund"));
    }
    let theirs = !shares.is_empty()
        && shares.iter().all(|s| {
            full.vendor_orders
                .iter()
                .find(|v| v.id == s.vendor_order_id)
                .is_some_and(|v| ctx.can_for_vendor(v.vendor, VendorPermission::OrdersFulfil))
        });
    if theirs {
        Ok(())
    } else {
        Err(Problem::forbidden(
            "vendors refund only their own vendor orders",
        ))
    }
}

/// A refund as its caller asks for it: by `lines` or by `amount` (limited to one vendor
/// order, `vor_…`, or not), for a `reason` (1 to 500 characters), under an idempotency
/// `key` whose request `hash` tells a replay from a reuse.
pub struct RefundAsk<'a> {
    pub lines: Option<&'a [LineIn]>,
    pub amount: Option<Money>,
    pub vendor_order_id: Option<&'a str>,
    pub reason: &'a str,
    pub restock: bool,
    pub key: &'a str,
    pub hash: &'a str,
}

/// Whether a refund was made now or replayed, and who made it.
pub struct Refunded {
    pub by: Refunder,
    pub replayed: bool,
}

/// Refunds part or all of a paid order as `ask` says, through the payment provider: records
/// the refund with its job, then carries it out. The same key and request refund once (the
/// replay finishes a refund still pending); the same key with another request is a 422.
pub async fn refund(
    state: &OrdersState,
    ctx: &TenantContext,
    id: OrderId,
    ask: &RefundAsk<'_>,
) -> Result<Refunded, Problem> {
    let tx = state.db.tenant_tx(ctx.tenant).await?;
    let mut full = repo::find(&tx, id, true)
        .await?
        .ok_or_else(Problem::not_found)?;
    let who = refunder(ctx, &full)?;
    if let Some(existing) = payments::refund_by_key(&tx, id, ask.key, full.order.currency).await? {
        drop(tx);
        if existing.request_hash != ask.hash {
            return Err(Problem::from(OrdersProblem::IdempotencyKeyReused)
                .with_detail("this Idempotency-Key was used with a different refund"));
        }
        if existing.status == RefundStatus::Pending {
            execute(state, ctx.tenant, id, existing.id).await?;
        }
        return Ok(Refunded {
            by: who,
            replayed: true,
        });
    }
    let reason = ask.reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(Problem::invalid_field("/reason", "1 to 500 characters"));
    }
    let mut errors = Vec::new();
    let vendor_order = ask
        .vendor_order_id
        .and_then(|v| body_id::<VendorOrderId>(v, "/vendor_order_id", &mut errors));
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    if !matches!(
        full.order.status,
        OrderStatus::Paid | OrderStatus::PartiallyRefunded | OrderStatus::Completed
    ) {
        return Err(Problem::of(
            OrdersProblem::NotRefundable,
            format!("the order is {}", full.order.status.code()),
        ));
    }
    let plan = plan(&full, ask.lines, ask.amount, vendor_order)?;
    if who == Refunder::Vendor {
        let settings = settings::load(&tx, state.config.default_settings()).await?;
        vendor_may_refund(ctx, &full, &plan.shares, settings.vendor_refunds)?;
    }
    let refund = record_refund(
        &tx,
        &mut full,
        &plan,
        reason,
        ask.restock,
        ask.key,
        ask.hash,
        &ctx.actor.label(),
    )
    .await?;
    tx.commit().await?;
    execute(state, ctx.tenant, id, refund.id).await?;
    Ok(Refunded {
        by: who,
        replayed: false,
    })
}

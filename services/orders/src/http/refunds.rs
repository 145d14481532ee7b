//! Refunds and returns over HTTP: `POST /api/v1/orders/{id}/refunds`,
//! `POST /api/v1/orders/{id}/returns`, `POST /api/v1/returns/{id}/decision`. The rules are
//! the use cases' (`usecases::refunds`, `usecases::returns`).

use super::orders::{load_out, order_token};
use crate::OrdersState;
use crate::domain::payment::Return;
use crate::domain::{OrderId, ReturnId, VendorOrderId};
use crate::http::out::OrderOut;
use crate::usecases::refunds::{self, LineIn, RefundAsk, Refunder};
use crate::usecases::returns;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use mercato_kernel::http::{Json, path_id};
use mercato_kernel::{Money, Problem};
use mercato_tenant_context::{TenantContext, VendorAccess, VendorPermission};
use serde::Deserialize;

pub fn router() -> Router<OrdersState> {
    Router::new()
        .route("/api/v1/orders/{order_id}/refunds", post(refund))
        .route("/api/v1/orders/{order_id}/returns", post(request_return))
        .route("/api/v1/returns/{return_id}/decision", post(decide_return))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundIn {
    /// Units to refund, per line: each line's share of the total (after discount, with tax)
    /// is refunded. Give `lines` or `amount`, not both.
    pub lines: Option<Vec<LineIn>>,
    /// An amount to refund, up to what is left of the order (or of `vendor_order_id`).
    pub amount: Option<Money>,
    /// Limit an amount refund to one vendor order (`vor_…`); vendors must name theirs.
    pub vendor_order_id: Option<String>,
    /// Why; 1 to 500 characters.
    pub reason: String,
    /// Put refunded units back into stock (line refunds only).
    #[serde(default)]
    pub restock: bool,
}

/// What the caller sees of the order after a refund: everything for merchant staff; for a
/// vendor, its own vendor orders and refunds, without payments.
async fn refund_view(
    state: &OrdersState,
    ctx: &TenantContext,
    id: OrderId,
    who: Refunder,
) -> Result<OrderOut, Problem> {
    let mut out = load_out(state, ctx, id, who == Refunder::Merchant).await?;
    if who == Refunder::Vendor {
        out.vendor_orders
            .retain(|v| ctx.can_for_vendor(v.vendor_id, VendorPermission::Read));
        let mine: Vec<VendorOrderId> = out.vendor_orders.iter().map(|v| v.id).collect();
        out.refunds
            .retain(|r| r.shares.iter().all(|s| mine.contains(&s.vendor_order_id)));
        out.payments.clear();
        out.payment_failure = None;
        out.returns.retain(|r| mine.contains(&r.vendor_order_id));
        out.history
            .retain(|t| t.vendor_order_id.is_some_and(|v| mine.contains(&v)));
    }
    Ok(out)
}

/// Refunds part or all of a paid order, by lines (optionally restocking their units) or by
/// amount (spread over the vendor orders by what each has left, or limited to one), through
/// the payment provider. Send an `Idempotency-Key`: the same key and body refund once; the
/// same key with another body is a 422.
#[utoipa::path(post, path = "/api/v1/orders/{order_id}/refunds", tag = "orders", request_body = RefundIn,
    params(("order_id" = String, Path, description = "`ord_…`"),
        ("Idempotency-Key" = String, Header, description = "Required")),
    responses((status = 201, body = OrderOut), (status = 200, body = OrderOut, description = "A replay"),
        (status = 403, description = "Not allowed to refund"), (status = 404, description = "No such order"),
        (status = 409, description = "Not paid or nothing to refund"), (status = 422, description = "Invalid refund")))]
pub async fn refund(
    State(state): State<OrdersState>,
    ctx: TenantContext,
    headers: HeaderMap,
    Path(order_id): Path<String>,
    Json(input): Json<RefundIn>,
) -> Result<(StatusCode, Json<OrderOut>), Problem> {
    let id: OrderId = path_id(&order_id)?;
    let key = mercato_kernel::http::required_idempotency_key(&headers)?;
    let hash = crate::usecases::checkout::request_hash(&(
        &input.lines,
        &input.amount,
        &input.vendor_order_id,
        &input.reason,
        input.restock,
    ));
    let ask = RefundAsk {
        lines: input.lines.as_deref(),
        amount: input.amount,
        vendor_order_id: input.vendor_order_id.as_deref(),
        reason: &input.reason,
        restock: input.restock,
        key: &key,
        hash: &hash,
    };
    let done = refunds::refund(&state, &ctx, id, &ask).await?;
    let status = if done.replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(refund_view(&state, &ctx, id, done.by).await?)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnIn {
    /// The delivered vendor order the units came with (`vor_…`).
    pub vendor_order_id: String,
    pub lines: Vec<LineIn>,
    /// 1 to 500 characters.
    pub reason: String,
}

/// The customer (or guest with the token) asks to return delivered units.
#[utoipa::path(post, path = "/api/v1/orders/{order_id}/returns", tag = "orders", request_body = ReturnIn,
    params(("order_id" = String, Path, description = "`ord_…`"),
        ("X-Order-Token" = Option<String>, Header, description = "A guest's order token")),
    responses((status = 201, body = Return), (status = 404, description = "No such order"),
        (status = 409, description = "Not delivered"), (status = 422, description = "Invalid return")))]
pub async fn request_return(
    State(state): State<OrdersState>,
    ctx: TenantContext,
    headers: HeaderMap,
    Path(order_id): Path<String>,
    Json(input): Json<ReturnIn>,
) -> Result<(StatusCode, Json<Return>), Problem> {
    let id: OrderId = path_id(&order_id)?;
    let ret = returns::request(
        &state,
        &ctx,
        id,
        order_token(&headers),
        &input.vendor_order_id,
        &input.lines,
        &input.reason,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(ret)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionIn {
    pub accept: bool,
    /// Up to 500 characters, shown to the customer.
    pub note: Option<String>,
    /// When accepting: put the returned units back into stock (default true).
    pub restock: Option<bool>,
}

/// The vendor (staff with `vendor.orders:fulfil`) or merchant staff (`orders:manage`)
/// accept or reject a return; an accepted return is refunded at once.
#[utoipa::path(post, path = "/api/v1/returns/{return_id}/decision", tag = "orders", request_body = DecisionIn,
    params(("return_id" = String, Path, description = "`ret_…`")),
    responses((status = 200, body = Return), (status = 404, description = "No such return"),
        (status = 409, description = "Already decided")))]
pub async fn decide_return(
    State(state): State<OrdersState>,
    ctx: TenantContext,
    Path(return_id): Path<String>,
    Json(input): Json<DecisionIn>,
) -> Result<Json<Return>, Problem> {
    let id: ReturnId = path_id(&return_id)?;
    let ret = returns::decide(
        &state,
        &ctx,
        id,
        input.accept,
        input.note.as_deref(),
        input.restock.unwrap_or(true),
    )
    .await?;
    Ok(Json(ret))
}

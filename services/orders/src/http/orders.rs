//! Orders and vendor orders. Customers see their own orders, guests the order whose token
//! they hold (`X-Order-Token`), merchant staff with `orders:read` every order. Vendor staff
//! see only their vendors' vendor orders, with the shipping address and never the payment.
//! Anyone else gets 404.

use super::{is_order_reader, require_manager};
use crate::OrdersState;
use crate::domain::lifecycle::{self, VendorOrderStatus};
use crate::domain::order::FullOrder;
use crate::domain::{OrderId, VendorOrderId};
use crate::http::out::{self, OrderOut, VendorOrderOut};
use crate::problems::OrdersProblem;
use crate::repo::orders as repo;
use crate::usecases::access::{Viewer, visible_order};
use crate::usecases::records;

use crate::usecases::transitions;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use mercato_db::TenantTx;
use mercato_kernel::http::{Json, Query, path_id};
use mercato_kernel::{Checks, ListQuery, ListResponse, Problem};
use mercato_tenant_context::{
    Actor, Permission, TenantContext, VendorAccess, VendorId, VendorPermission,
};
use serde::Deserialize;

pub const ORDER_TOKEN: &str = mercato_orders_api::token::HEADER;

/// The guest's order token the request carries, if any.
pub fn order_token(headers: &HeaderMap) -> Option<&str> {
    headers.get(ORDER_TOKEN).and_then(|v| v.to_str().ok())
}

pub fn router() -> Router<OrdersState> {
    Router::new()
        .route("/api/v1/orders", get(list))
        .route("/api/v1/orders/{order_id}", get(show))
        .route("/api/v1/orders/{order_id}/cancel", post(cancel))
        .route("/api/v1/vendor-orders", get(vendor_orders))
        .route("/api/v1/vendor-orders/{vendor_order_id}", get(vendor_order))
        .route("/api/v1/vendor-orders/{vendor_order_id}/ship", post(ship))
        .route(
            "/api/v1/vendor-orders/{vendor_order_id}/deliver",
            post(deliver),
        )
}

/// Reads an order with its payments, refunds, returns and history, as the caller sees it.
pub async fn load_out(
    state: &OrdersState,
    ctx: &TenantContext,
    id: OrderId,
    merchant: bool,
) -> Result<OrderOut, Problem> {
    let tx = state.db.tenant_read(ctx.tenant).await?;
    let record = records::read(&tx, id)
        .await?
        .ok_or_else(Problem::not_found)?;
    Ok(out::order(record, merchant || is_order_reader(ctx)))
}

/// The caller's orders (customers) or every order (merchant staff), newest first.
#[utoipa::path(get, path = "/api/v1/orders", tag = "orders", params(ListQuery),
    responses((status = 200, body = ListResponse<OrderOut>), (status = 401, description = "Not signed in")))]
pub async fn list(
    State(state): State<OrdersState>,
    ctx: TenantContext,
    Query(query): Query<ListQuery>,
) -> Result<Json<ListResponse<OrderOut>>, Problem> {
    let customer = if is_order_reader(&ctx) {
        None
    } else {
        Some(ctx.user()?)
    };
    let (limit, cursor) = query.page::<OrderId>()?;
    let tx = state.db.tenant_read(ctx.tenant).await?;
    let rows = repo::list(&tx, customer, cursor, limit + 1).await?;
    let page = repo::with_parts(&tx, rows).await?;
    let merchant = customer.is_none();
    let data = records::page(&tx, page)
        .await?
        .into_iter()
        .map(|record| out::order(record, merchant))
        .collect();
    Ok(Json(ListResponse::from_overfetch(data, limit, |o| {
        o.id.to_string()
    })))
}

/// One order.
#[utoipa::path(get, path = "/api/v1/orders/{order_id}", tag = "orders",
    params(("order_id" = String, Path, description = "`ord_…`"),
        ("X-Order-Token" = Option<String>, Header, description = "A guest's order token")),
    responses((status = 200, body = OrderOut), (status = 404, description = "No such order")))]
pub async fn show(
    State(state): State<OrdersState>,
    ctx: TenantContext,
    headers: HeaderMap,
    Path(order_id): Path<String>,
) -> Result<Json<OrderOut>, Problem> {
    let id: OrderId = path_id(&order_id)?;
    let tx = state.db.tenant_read(ctx.tenant).await?;
    let (full, viewer) = visible_order(&state, &tx, &ctx, order_token(&headers), id).await?;
    let record = records::of(&tx, full).await?;
    Ok(Json(out::order(record, viewer == Viewer::Merchant)))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelIn {
    /// Why (kept in the order's history); up to 500 characters.
    pub reason: Option<String>,
}

/// Cancels an order before any of it has shipped: the customer (or guest with the token)
/// within the shop's cancellation window after payment, or merchant staff with
/// `orders:manage` at any time. A paid order is refunded in full and its stock put back.
#[utoipa::path(post, path = "/api/v1/orders/{order_id}/cancel", tag = "orders",
    params(("order_id" = String, Path, description = "`ord_…`"),
        ("X-Order-Token" = Option<String>, Header, description = "A guest's order token")),
    request_body = CancelIn,
    responses((status = 200, body = OrderOut), (status = 404, description = "No such order"),
        (status = 409, description = "Shipped, outside the window, or not cancellable")))]
pub async fn cancel(
    State(state): State<OrdersState>,
    ctx: TenantContext,
    headers: HeaderMap,
    Path(order_id): Path<String>,
    body: Option<Json<CancelIn>>,
) -> Result<Json<OrderOut>, Problem> {
    let id: OrderId = path_id(&order_id)?;
    let reason = body.and_then(|Json(b)| b.reason);
    let mut checks = Checks::default();
    if reason.as_ref().is_some_and(|r| r.chars().count() > 500) {
        checks.push("/reason", "at most 500 characters");
    }
    checks.finish()?;
    let viewer = {
        let tx = state.db.tenant_read(ctx.tenant).await?;
        visible_order(&state, &tx, &ctx, order_token(&headers), id)
            .await?
            .1
    };
    if viewer == Viewer::Merchant {
        require_manager(&ctx)?;
    }
    crate::usecases::cancel::cancel(&state, &ctx, id, viewer, reason.as_deref()).await?;
    Ok(Json(
        load_out(&state, &ctx, id, viewer == Viewer::Merchant).await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct VendorOrdersQuery {
    pub limit: Option<u64>,
    pub cursor: Option<String>,
    /// Only this vendor's (`ven_…`).
    pub vendor_id: Option<String>,
}

/// The vendor orders the caller may see: their vendors' (vendor staff) or all (merchant
/// staff with `orders:read`), newest first.
#[utoipa::path(get, path = "/api/v1/vendor-orders", tag = "orders", params(VendorOrdersQuery),
    responses((status = 200, body = ListResponse<VendorOrderOut>), (status = 401, description = "Not signed in")))]
pub async fn vendor_orders(
    State(state): State<OrdersState>,
    ctx: TenantContext,
    Query(query): Query<VendorOrdersQuery>,
) -> Result<Json<ListResponse<VendorOrderOut>>, Problem> {
    if ctx.actor == Actor::Anonymous {
        return Err(Problem::unauthorized("sign in to do this"));
    }
    let list = ListQuery {
        limit: query.limit,
        cursor: query.cursor,
    };
    let (limit, cursor) = list.page::<VendorOrderId>()?;
    let filter: Option<VendorId> = match &query.vendor_id {
        Some(text) => Some(
            text.parse()
                .map_err(|_| Problem::invalid_field("/vendor_id", "not a vendor id"))?,
        ),
        None => None,
    };
    let vendors: Option<Vec<VendorId>> = if is_order_reader(&ctx) {
        filter.map(|v| vec![v])
    } else {
        let mine: Vec<VendorId> = ctx
            .memberships()
            .iter()
            .map(|m| m.vendor)
            .filter(|v| ctx.can_for_vendor(*v, VendorPermission::Read))
            .filter(|v| filter.is_none_or(|f| f == *v))
            .collect();
        Some(mine)
    };
    let tx = state.db.tenant_read(ctx.tenant).await?;
    let rows = repo::list_vendor_orders(&tx, vendors.as_deref(), cursor, limit + 1).await?;
    let orders: Vec<OrderId> = rows.iter().map(|v| v.order).collect();
    let orders = repo::find_many(&tx, &orders).await?;
    let data = rows
        .iter()
        .map(|v| {
            let full = orders.get(&v.order).ok_or_else(Problem::not_found)?;
            Ok(out::vendor_order(full, v, true, true))
        })
        .collect::<Result<Vec<_>, Problem>>()?;
    Ok(Json(ListResponse::from_overfetch(data, limit, |v| {
        v.id.to_string()
    })))
}

/// A vendor order the caller may see, with its index in the order; 404 otherwise.
async fn visible_vendor_order(
    tx: &TenantTx,
    ctx: &TenantContext,
    id: VendorOrderId,
    lock: bool,
) -> Result<(FullOrder, usize), Problem> {
    // Each refusal says which lookup refused: a 404 here for a caller who expected the vendor
    // order is nearly always a token issued before its vendor membership existed.
    let refused = |why: &'static str| {
        tracing::info!(vendor_order = %id, actor = %ctx.actor.label(), why, "vendor order not shown");
        Problem::not_found()
    };
    let order = repo::order_of_vendor_order(tx, id)
        .await?
        .ok_or_else(|| refused("no such vendor order"))?;
    let full = repo::find(tx, order, lock)
        .await?
        .ok_or_else(|| refused("its order is missing"))?;
    let index = full
        .vendor_orders
        .iter()
        .position(|v| v.id == id)
        .ok_or_else(|| refused("not among its order's vendor orders"))?;
    let vendor = full.vendor_orders[index].vendor;
    if is_order_reader(ctx) || ctx.can_for_vendor(vendor, VendorPermission::Read) {
        Ok((full, index))
    } else {
        Err(refused(
            "the caller's context grants neither orders:read nor this vendor",
        ))
    }
}

/// One vendor order, with the shipping address.
#[utoipa::path(get, path = "/api/v1/vendor-orders/{vendor_order_id}", tag = "orders",
    params(("vendor_order_id" = String, Path, description = "`vor_…`")),
    responses((status = 200, body = VendorOrderOut), (status = 404, description = "No such vendor order")))]
pub async fn vendor_order(
    State(state): State<OrdersState>,
    ctx: TenantContext,
    Path(vendor_order_id): Path<String>,
) -> Result<Json<VendorOrderOut>, Problem> {
    let id: VendorOrderId = path_id(&vendor_order_id)?;
    let tx = state.db.tenant_read(ctx.tenant).await?;
    let (full, index) = visible_vendor_order(&tx, &ctx, id, false).await?;
    Ok(Json(out::vendor_order(
        &full,
        &full.vendor_orders[index],
        true,
        true,
    )))
}

/// May the caller fulfil the vendor's orders? Vendor staff with `vendor.orders:fulfil` or
/// merchant staff with `orders:manage`.
fn may_fulfil(ctx: &TenantContext, vendor: VendorId) -> Result<(), Problem> {
    if ctx.can(Permission::OrdersManage) {
        return Ok(());
    }
    if ctx.vendor_role(vendor).is_some() {
        return ctx.require_vendor(vendor, VendorPermission::OrdersFulfil);
    }
    Err(Problem::forbidden(format!(
        "your role does not grant `{}`",
        Permission::OrdersManage.name()
    )))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipIn {
    /// 1 to 100 characters, e.g. `DHL`.
    pub carrier: String,
    /// 1 to 100 characters.
    pub tracking_number: String,
}

/// Marks a paid vendor order shipped, with its carrier and tracking number.
#[utoipa::path(post, path = "/api/v1/vendor-orders/{vendor_order_id}/ship", tag = "orders",
    params(("vendor_order_id" = String, Path, description = "`vor_…`")), request_body = ShipIn,
    responses((status = 200, body = VendorOrderOut), (status = 404, description = "No such vendor order"),
        (status = 409, description = "Not ready to ship"), (status = 422, description = "Invalid shipment")))]
pub async fn ship(
    State(state): State<OrdersState>,
    ctx: TenantContext,
    Path(vendor_order_id): Path<String>,
    Json(input): Json<ShipIn>,
) -> Result<Json<VendorOrderOut>, Problem> {
    let id: VendorOrderId = path_id(&vendor_order_id)?;
    let mut checks = Checks::default();
    for (field, value) in [
        ("/carrier", &input.carrier),
        ("/tracking_number", &input.tracking_number),
    ] {
        let n = value.trim().chars().count();
        if n == 0 || n > 100 {
            checks.push(field, "1 to 100 characters");
        }
    }
    checks.finish()?;
    let tx = state.db.tenant_tx(ctx.tenant).await?;
    let (mut full, index) = visible_vendor_order(&tx, &ctx, id, true).await?;
    may_fulfil(&ctx, full.vendor_orders[index].vendor)?;
    let vo = &full.vendor_orders[index];
    if !matches!(
        full.order.status,
        lifecycle::OrderStatus::Paid | lifecycle::OrderStatus::PartiallyRefunded
    ) || vo.refunded >= vo.total
    {
        return Err(Problem::of(
            OrdersProblem::NotToShip,
            format!(
                "the order is {} and this part {} refunded",
                full.order.status.code(),
                if vo.refunded >= vo.total {
                    "is"
                } else {
                    "is not"
                }
            ),
        ));
    }
    full.vendor_orders[index].carrier = Some(input.carrier.trim().to_owned());
    full.vendor_orders[index].tracking_number = Some(input.tracking_number.trim().to_owned());
    transitions::vendor_order(
        &tx,
        &mut full,
        index,
        VendorOrderStatus::Shipped,
        &ctx.actor.label(),
        None,
    )
    .await?;
    tx.commit().await?;
    state.outbox.notify_one();
    Ok(Json(out::vendor_order(
        &full,
        &full.vendor_orders[index],
        true,
        true,
    )))
}

/// Marks a shipped vendor order delivered; when every vendor order of the order is
/// delivered (or cancelled), the order completes.
#[utoipa::path(post, path = "/api/v1/vendor-orders/{vendor_order_id}/deliver", tag = "orders",
    params(("vendor_order_id" = String, Path, description = "`vor_…`")),
    responses((status = 200, body = VendorOrderOut), (status = 404, description = "No such vendor order"),
        (status = 409, description = "Not shipped")))]
pub async fn deliver(
    State(state): State<OrdersState>,
    ctx: TenantContext,
    Path(vendor_order_id): Path<String>,
) -> Result<Json<VendorOrderOut>, Problem> {
    let id: VendorOrderId = path_id(&vendor_order_id)?;
    let tx = state.db.tenant_tx(ctx.tenant).await?;
    let (mut full, index) = visible_vendor_order(&tx, &ctx, id, true).await?;
    may_fulfil(&ctx, full.vendor_orders[index].vendor)?;
    let actor = ctx.actor.label();
    transitions::vendor_order(
        &tx,
        &mut full,
        index,
        VendorOrderStatus::Delivered,
        &actor,
        None,
    )
    .await?;
    let statuses: Vec<VendorOrderStatus> = full.vendor_orders.iter().map(|v| v.status).collect();
    if let Some(next) = lifecycle::order_status_after_vendor_orders(full.order.status, &statuses)
        && next != full.order.status
    {
        transitions::order(&tx, &mut full, next, &actor, None, false).await?;
    }
    tx.commit().await?;
    state.outbox.notify_one();
    Ok(Json(out::vendor_order(
        &full,
        &full.vendor_orders[index],
        true,
        true,
    )))
}

//! `POST /api/v1/orders/{order_id}/payment-review`: merchant staff decide about a payment held
//! for review (see `review`).

use super::{is_order_reader, require_manager};
use crate::OrdersState;
use crate::domain::OrderId;
use crate::http::orders::load_out;
use crate::http::out::OrderOut;
use crate::usecases::review::{self, Decision};
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::post;
use mercato_kernel::http::{Json, path_id};
use mercato_kernel::{Checks, Problem};
use mercato_tenant_context::TenantContext;
use serde::Deserialize;

pub fn router() -> Router<OrdersState> {
    Router::new().route("/api/v1/orders/{order_id}/payment-review", post(decide))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentReviewIn {
    /// `accept` (the order is paid with what was taken) or `refund` (the order is cancelled
    /// and the money given back).
    pub decision: String,
    /// Why, for the order's history (up to 500 characters).
    pub note: Option<String>,
}

/// Decides about an order in `payment_review`: the provider reported a payment whose amount
/// or currency differs from the order's.
#[utoipa::path(post, path = "/api/v1/orders/{order_id}/payment-review", tag = "orders",
    request_body = PaymentReviewIn,
    params(("order_id" = String, Path, description = "`ord_…`")),
    responses((status = 200, body = OrderOut, description = "The order, paid or cancelled"),
        (status = 401, description = "Not signed in"),
        (status = 403, description = "Staff without `orders:manage`"),
        (status = 404, description = "No such order"),
        (status = 409, description = "`not_in_review`, or `insufficient_stock` when accepting after the stock was sold"),
        (status = 422, description = "Invalid decision"),
        (status = 503, description = "Stock cannot be held right now")))]
pub async fn decide(
    State(state): State<OrdersState>,
    ctx: TenantContext,
    Path(order_id): Path<String>,
    Json(input): Json<PaymentReviewIn>,
) -> Result<Json<OrderOut>, Problem> {
    let id: OrderId = path_id(&order_id)?;
    if !is_order_reader(&ctx) {
        return Err(Problem::not_found());
    }
    require_manager(&ctx)?;
    let mut checks = Checks::default();
    let decision = Decision::parse(&input.decision);
    if decision.is_none() {
        checks.push("/decision", "accept or refund");
    }
    let note = input
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    if note.is_some_and(|n| n.chars().count() > 500) {
        checks.push("/note", "up to 500 characters");
    }
    checks.finish()?;
    let Some(decision) = decision else {
        return Err(Problem::invalid_field("/decision", "accept or refund"));
    };
    review::resolve(&state, &ctx, id, decision, note).await?;
    Ok(Json(load_out(&state, &ctx, id, true).await?))
}

//! Payment providers' webhooks, on the shop's domain: `POST
//! /api/v1/payments/webhooks/{provider}`. The body must carry a valid signature
//! (`Stripe-Signature`, Stripe's scheme, for every provider; any of the provider's secrets
//! may have signed it, so secrets can be rotated) within the timestamp tolerance; anything
//! else is a 400 and changes nothing. Each event is applied once (see `payment`).

use crate::OrdersState;
use crate::problems::OrdersProblem;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use mercato_kernel::Problem;
use mercato_tenant_context::TenantContext;

pub const SIGNATURE_HEADER: &str = "stripe-signature";

pub fn router() -> Router<OrdersState> {
    Router::new().route("/api/v1/payments/webhooks/{provider}", post(receive))
}

/// Receives a provider's webhook.
#[utoipa::path(post, path = "/api/v1/payments/webhooks/{provider}", tag = "orders",
    params(("provider" = String, Path, pattern = "^(test|stripe)$", description = "`test` or `stripe`"),
        ("Stripe-Signature" = String, Header, pattern = "^t=[0-9]+(,v[0-9]+=[0-9a-fA-F]+)+$",
            description = "`t=<unix seconds>,v1=<hex HMAC-SHA256 of `<t>.<body>`>`; only a signature made with the provider's webhook secret is accepted")),
    request_body(content = String, description = "The provider's event, as sent", content_type = "application/json"),
    responses((status = 204, description = "Applied (or already applied)"),
        (status = 400, description = "Bad signature or event, or `event_without_shop`: a payment event without `metadata.tenant_id`"),
        (status = 404, description = "Unknown provider")))]
pub async fn receive(
    State(state): State<OrdersState>,
    ctx: TenantContext,
    Path(provider): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, Problem> {
    let signature = headers
        .get(SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            Problem::of(
                OrdersProblem::InvalidSignature,
                "no Stripe-Signature header",
            )
        })?;
    crate::usecases::payment::receive_webhook(&state, ctx.tenant, &provider, signature, &body)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

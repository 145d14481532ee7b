//! `POST /api/v1/checkout` and paying again for a pending order.

use super::orders::{load_out, order_token};
use crate::OrdersState;
use crate::domain::order::Address;
use crate::domain::{CartId, OrderId};
use crate::http::out::OrderOut;
use crate::usecases::access::visible_order;
use crate::usecases::checkout::{self, Placed, Placement};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use mercato_kernel::http::{Json, path_id};
use mercato_kernel::{FieldError, Problem};
use mercato_payments::PaymentMethod;
use mercato_tenant_context::TenantContext;
use serde::{Deserialize, Serialize};

pub fn router() -> Router<OrdersState> {
    Router::new()
        .route("/api/v1/checkout", post(checkout))
        .route("/api/v1/orders/{order_id}/payments", post(pay))
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentIn {
    /// `test` (the built-in test provider) or `stripe`.
    #[schema(pattern = "^(test|stripe)$")]
    pub provider: String,
    /// A test card number (test provider only), e.g. `4242424242424242`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<String>,
    /// A provider payment method id (`pm_…`, Stripe).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_method: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckoutIn {
    /// `crt_…`.
    #[schema(pattern = "^crt_[0-7][0-9a-hjkmnp-tv-z]{25}$")]
    pub cart_id: String,
    /// An email address (a domain with a dot), at most 254 bytes.
    #[schema(
        max_length = 254,
        pattern = "^[!-?A-~]+@[!-\\-/-?A-~]+(\\.[!-\\-/-?A-~]+)+$"
    )]
    pub email: String,
    pub shipping_address: Address,
    pub payment: PaymentIn,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayIn {
    pub payment: PaymentIn,
}

fn check_address(a: &Address, errors: &mut Vec<FieldError>) -> Option<Address> {
    let mut a = a.clone();
    for (field, value, max) in [
        ("name", &a.name, 200),
        ("line1", &a.line1, 200),
        ("city", &a.city, 100),
        ("postal_code", &a.postal_code, 20),
    ] {
        if value.trim().is_empty() || value.chars().count() > max {
            errors.push(FieldError::new(
                format!("/shipping_address/{field}"),
                format!("1 to {max} characters"),
            ));
        }
    }
    match crate::domain::tax::validate_country(&a.country) {
        Ok(country) => a.country = country,
        Err(e) => errors.push(FieldError::new("/shipping_address/country", e)),
    }
    Some(a)
}

fn check_email(email: &str, errors: &mut Vec<FieldError>) -> String {
    let email = email.trim().to_owned();
    let ok = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
    if !ok {
        errors.push(FieldError::new("/email", "an email address"));
    }
    email
}

/// The provider and payment method a request names. A provider the platform does not offer
/// is refused at once (whether this shop takes one it does offer is checked with its
/// settings).
pub fn payment_method(
    state: &OrdersState,
    input: &PaymentIn,
    errors: &mut Vec<FieldError>,
) -> Result<Option<(String, PaymentMethod)>, Problem> {
    if state.payments.get(&input.provider).is_none() {
        return Err(checkout::provider_not_accepted(&input.provider));
    }
    Ok(match (&input.card, &input.payment_method) {
        (Some(card), None) if input.provider == "test" => Some((
            input.provider.clone(),
            PaymentMethod::Card {
                number: card.clone(),
            },
        )),
        (None, Some(pm)) if input.provider != "test" && !pm.is_empty() && pm.len() <= 255 => {
            Some((input.provider.clone(), PaymentMethod::Token(pm.clone())))
        }
        _ => {
            errors.push(FieldError::new(
                "/payment",
                "the test provider takes `card`; other providers take `payment_method`",
            ));
            None
        }
    })
}

/// Checks out a cart: one order across vendors, split into vendor orders, stock held, and
/// the payment taken. Send an `Idempotency-Key`: a retry with the same key and body returns
/// the same order (`Idempotent-Replayed: true`); the same key with another body is a 422.
/// A declined payment still creates the order, `pending_payment` with `payment_failure`;
/// pay again with `POST /api/v1/orders/{id}/payments`.
#[utoipa::path(post, path = "/api/v1/checkout", tag = "orders", request_body = CheckoutIn,
    params(("Idempotency-Key" = String, Header, pattern = "^[!-~]{1,255}$", description = "Required; 1 to 255 visible ASCII characters")),
    responses((status = 201, body = OrderOut), (status = 200, body = OrderOut, description = "A replay"),
        (status = 400, description = "No Idempotency-Key"), (status = 404, description = "No such cart"),
        (status = 409, description = "Cart not ready, not enough stock, coupon not applicable"),
        (status = 422, description = "Invalid checkout, key reused, or `provider_not_accepted`: a payment provider this shop does not take")))]
pub async fn checkout(
    State(state): State<OrdersState>,
    ctx: TenantContext,
    headers: HeaderMap,
    Json(input): Json<CheckoutIn>,
) -> Result<Response, Problem> {
    let key = mercato_kernel::http::required_idempotency_key(&headers)?;
    let mut errors = Vec::new();
    let cart_id = super::body_id::<CartId>(&input.cart_id, "/cart_id", &mut errors);
    let email = check_email(&input.email, &mut errors);
    let address = check_address(&input.shipping_address, &mut errors);
    let method = payment_method(&state, &input.payment, &mut errors)?;
    let (Some(cart_id), Some(address), Some((provider, method))) = (cart_id, address, method)
    else {
        return Err(Problem::validation(errors));
    };
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    let placement = Placement {
        email,
        address,
        request_hash: checkout::request_hash(&input),
        key,
        caller: checkout::key_owner(&ctx, cart_id),
        provider: provider.clone(),
    };
    let placed = checkout::place(&state, &ctx, cart_id, &placement).await?;
    let merchant = super::is_order_reader(&ctx);
    let (order, status, shown) = match placed {
        Placed::New(written, attempt) => {
            // A failed payment is recorded on the order; the order stands either way. The
            // payment's answer renders the order in its own transaction.
            let order = written.order.id;
            let paid = match attempt {
                Some(attempt) => {
                    crate::usecases::payment::take(
                        &state,
                        ctx.tenant,
                        attempt,
                        method,
                        true,
                        Some(*written),
                    )
                    .await
                }
                None => crate::usecases::payment::pay(
                    &state, ctx.tenant, order, &provider, method, None,
                )
                .await
                .map(|()| None),
            };
            let shown = paid.unwrap_or_else(|problem| {
                tracing::warn!(error = %problem, %order, "payment not taken at checkout");
                None
            });
            (order, StatusCode::CREATED, shown)
        }
        Placed::Replayed(order) => (order, StatusCode::OK, None),
    };
    let mut body = match shown {
        Some(record) => crate::http::out::order(record, merchant),
        None => load_out(&state, &ctx, order, false).await?,
    };
    body.order_token = Some(checkout::order_token(&state.token_key, order));
    let mut response = (status, axum::Json(body)).into_response();
    if status == StatusCode::OK {
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(response)
}

/// Pays again for an order still `pending_payment` (after a decline). Guests send the
/// order's `X-Order-Token`. With an `Idempotency-Key`, a retry of the same attempt returns
/// the order as it stands instead of paying again.
#[utoipa::path(post, path = "/api/v1/orders/{order_id}/payments", tag = "orders", request_body = PayIn,
    params(("order_id" = String, Path, description = "`ord_…`"),
        ("Idempotency-Key" = Option<String>, Header, description = "1 to 255 visible ASCII characters"),
        ("X-Order-Token" = Option<String>, Header, description = "A guest's order token")),
    responses((status = 200, body = OrderOut), (status = 404, description = "No such order"),
        (status = 409, description = "Not payable or a payment under way"), (status = 422, description = "Invalid payment, or `provider_not_accepted`")))]
pub async fn pay(
    State(state): State<OrdersState>,
    ctx: TenantContext,
    headers: HeaderMap,
    Path(order_id): Path<String>,
    Json(input): Json<PayIn>,
) -> Result<Json<OrderOut>, Problem> {
    let id: OrderId = path_id(&order_id)?;
    {
        let tx = state.db.tenant_read(ctx.tenant).await?;
        visible_order(&state, &tx, &ctx, order_token(&headers), id).await?;
    }
    let mut errors = Vec::new();
    let Some((provider, method)) = payment_method(&state, &input.payment, &mut errors)? else {
        return Err(Problem::validation(errors));
    };
    let key = mercato_kernel::http::idempotency_key(&headers)?;
    crate::usecases::payment::pay(&state, ctx.tenant, id, &provider, method, key.as_deref())
        .await?;
    Ok(Json(load_out(&state, &ctx, id, false).await?))
}

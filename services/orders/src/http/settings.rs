//! A shop's buying settings and tax rates, set by merchant staff with `orders:manage`. A
//! change of a tax rate is published (`tax_rate.set`, `tax_rate.deleted`) for accounting's
//! mirror.

use super::require_manager;
use crate::OrdersState;
use crate::domain::TaxRateId;
use crate::domain::tax::{self, TaxRule};
use crate::repo::settings::{self as repo, OrderSettings, TaxRate};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use mercato_kernel::http::{Json, path_id};
use mercato_kernel::{Checks, Problem};
use mercato_orders_api::events::{TAX_RATE_DELETED, TAX_RATE_SET};
use mercato_tenant_context::TenantContext;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

pub fn router() -> Router<OrdersState> {
    Router::new()
        .route("/api/v1/order-settings", get(show).put(replace))
        .route("/api/v1/tax-rates", get(list_rates).put(put_rate))
        .route("/api/v1/tax-rates/{rate_id}", delete(delete_rate))
}

/// The shop's buying settings (anyone may read them: shoppers see tax-inclusive prices and
/// the cancellation window).
#[utoipa::path(get, path = "/api/v1/order-settings", tag = "orders",
    responses((status = 200, body = OrderSettings)))]
pub async fn show(
    State(state): State<OrdersState>,
    ctx: TenantContext,
) -> Result<Json<OrderSettings>, Problem> {
    let tx = state.db.tenant_read(ctx.tenant).await?;
    Ok(Json(
        repo::load(&tx, state.config.default_settings()).await?,
    ))
}

/// Replaces the buying settings. `payment_providers` may name only providers the platform
/// offers.
#[utoipa::path(put, path = "/api/v1/order-settings", tag = "orders", request_body = OrderSettings,
    responses((status = 200, body = OrderSettings), (status = 422, description = "Invalid settings")))]
pub async fn replace(
    State(state): State<OrdersState>,
    ctx: TenantContext,
    Json(input): Json<OrderSettings>,
) -> Result<Json<OrderSettings>, Problem> {
    require_manager(&ctx)?;
    let mut checks = Checks::default();
    if !(1..=3300).contains(&input.order_ttl_secs) {
        checks.push("/order_ttl_secs", "from 1 to 3300 seconds");
    }
    if !(60..=7_776_000).contains(&input.cart_idle_secs) {
        checks.push("/cart_idle_secs", "from 60 to 7776000 seconds");
    }
    if !(0..=2_592_000).contains(&input.cancel_window_secs) {
        checks.push("/cancel_window_secs", "from 0 to 2592000 seconds");
    }
    if let Some(providers) = &input.payment_providers {
        let offered = state.payments.names();
        let unknown = providers.iter().any(|p| !offered.contains(&p.as_str()));
        let repeated = providers
            .iter()
            .enumerate()
            .any(|(i, p)| providers[..i].contains(p));
        if providers.is_empty() || unknown || repeated {
            checks.push(
                "/payment_providers",
                format!(
                    "one or more of the providers this platform offers, each once: {}",
                    offered.join(", ")
                ),
            );
        }
    }
    checks.finish()?;
    let tx = state.db.tenant_tx(ctx.tenant).await?;
    repo::save(&tx, &input, crate::now()).await?;
    tx.commit().await?;
    Ok(Json(input))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaxRateIn {
    /// ISO 3166-1 alpha-2 destination country, e.g. `DE`.
    pub country: String,
    /// The products' tax category (`standard` unless a product names another with its
    /// `tax_category` attribute); shipping is taxed at `standard`.
    pub category: Option<String>,
    /// Percent, 0 to 100 with at most 4 decimals, as a string: `"19"`, `"7.5"`.
    #[schema(value_type = String)]
    pub rate: Decimal,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TaxRateOut {
    pub id: TaxRateId,
    pub country: String,
    pub category: String,
    #[schema(value_type = String)]
    pub rate: Decimal,
}

fn rate_out(rate: &TaxRate) -> TaxRateOut {
    TaxRateOut {
        id: rate.id,
        country: rate.rule.country.clone(),
        category: rate.rule.category.clone(),
        rate: rate.rule.rate,
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TaxRatesOut {
    pub data: Vec<TaxRateOut>,
}

/// The shop's tax rates.
#[utoipa::path(get, path = "/api/v1/tax-rates", tag = "orders",
    responses((status = 200, body = TaxRatesOut)))]
pub async fn list_rates(
    State(state): State<OrdersState>,
    ctx: TenantContext,
) -> Result<Json<TaxRatesOut>, Problem> {
    let tx = state.db.tenant_read(ctx.tenant).await?;
    let rates = repo::tax_rates(&tx).await?;
    Ok(Json(TaxRatesOut {
        data: rates.iter().map(rate_out).collect(),
    }))
}

/// Sets the rate for a country and category (replacing the one it had).
#[utoipa::path(put, path = "/api/v1/tax-rates", tag = "orders", request_body = TaxRateIn,
    responses((status = 200, body = TaxRateOut), (status = 422, description = "Invalid rate")))]
pub async fn put_rate(
    State(state): State<OrdersState>,
    ctx: TenantContext,
    Json(input): Json<TaxRateIn>,
) -> Result<Json<TaxRateOut>, Problem> {
    require_manager(&ctx)?;
    let mut checks = Checks::default();
    let country = tax::validate_country(&input.country);
    let category = tax::validate_category(input.category.as_deref().unwrap_or(tax::STANDARD));
    let rate = tax::validate_rate(input.rate);
    checks.field("/country", country.as_ref().map(|_| ()).map_err(|e| *e));
    checks.field("/category", category.as_ref().map(|_| ()).map_err(|e| *e));
    checks.field("/rate", rate.as_ref().map(|_| ()).map_err(|e| *e));
    checks.finish()?;
    let (Ok(country), Ok(category), Ok(rate)) = (country, category, rate) else {
        return Err(Problem::invalid_field("/rate", "invalid"));
    };
    let mut stored = TaxRate {
        id: TaxRateId::new(),
        rule: TaxRule {
            country,
            category,
            rate,
        },
        created_at: crate::now(),
    };
    let tx = state.db.tenant_tx(ctx.tenant).await?;
    stored.id = repo::put_tax_rate(&tx, &stored).await?;
    let actor = ctx.actor.label();
    crate::events::tax_rate(&tx, TAX_RATE_SET, &stored, false, &actor).await?;
    tx.commit().await?;
    state.outbox.notify_one();
    Ok(Json(rate_out(&stored)))
}

/// Removes a tax rate.
#[utoipa::path(delete, path = "/api/v1/tax-rates/{rate_id}", tag = "orders",
    params(("rate_id" = String, Path, description = "`txr_…`")),
    responses((status = 204), (status = 404, description = "No such rate")))]
pub async fn delete_rate(
    State(state): State<OrdersState>,
    ctx: TenantContext,
    Path(rate_id): Path<String>,
) -> Result<StatusCode, Problem> {
    require_manager(&ctx)?;
    let id: TaxRateId = path_id(&rate_id)?;
    let tx = state.db.tenant_tx(ctx.tenant).await?;
    let Some(removed) = repo::delete_tax_rate(&tx, id).await? else {
        return Err(Problem::not_found());
    };
    let actor = ctx.actor.label();
    crate::events::tax_rate(&tx, TAX_RATE_DELETED, &removed, true, &actor).await?;
    tx.commit().await?;
    state.outbox.notify_one();
    Ok(StatusCode::NO_CONTENT)
}

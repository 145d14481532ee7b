//! Coupons, managed by merchant staff with `orders:manage`. Shoppers apply a coupon by code
//! on their cart (see `carts`).

use super::{body_id, require_manager};
use crate::OrdersState;
use crate::domain::CouponId;
use crate::domain::coupon::{self, Coupon, CouponScope, CouponValue, FundedBy};
use crate::problems::OrdersProblem;
use crate::repo::coupons::{self as repo, StoredCoupon};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use chrono::{DateTime, Utc};
use mercato_kernel::http::{Json, Query, path_id};
use mercato_kernel::{FieldError, ListQuery, ListResponse, Money, Problem};
use mercato_tenant_context::TenantContext;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

pub fn router() -> Router<OrdersState> {
    Router::new()
        .route("/api/v1/coupons", get(list).post(create))
        .route("/api/v1/coupons/{coupon_id}", get(show).patch(update))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CouponIn {
    /// 3 to 32 of A-Z, 0-9, `-` and `_` (letters are upper-cased).
    pub code: String,
    /// A percentage off (`"10"`, `"12.5"`); exactly one of `percent` and `amount`.
    #[schema(value_type = Option<String>)]
    pub percent: Option<Decimal>,
    /// A fixed amount off, in the shop's currency.
    pub amount: Option<Money>,
    /// Only this vendor's lines (`ven_…`); at most one of `vendor_id`, `category_ids`,
    /// `product_ids` (none: the whole order).
    pub vendor_id: Option<String>,
    /// Only lines of products in these categories or below them (`cat_…`).
    pub category_ids: Option<Vec<String>>,
    /// Only lines of these products (`prd_…`).
    pub product_ids: Option<Vec<String>>,
    /// The subtotal of the lines it covers must reach this.
    pub min_subtotal: Option<Money>,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    /// Orders that may use it in all.
    pub usage_limit: Option<i64>,
    /// Orders one customer (account or email) may use it for.
    pub per_customer_limit: Option<i64>,
    /// Who bears the discount: `shop` (default; paid back to the vendor) or `vendor`. The
    /// same as `vendor_share_percent` 0 or 100; give at most one of the two.
    pub funded_by: Option<FundedBy>,
    /// The vendor's share of the discount, percent from 0 to 100 (at most 4 decimals, e.g.
    /// `"30"`); the shop funds the rest. Each vendor order's discount is split: the vendor's
    /// part rounded half up to the minor unit, the shop's part the rest.
    #[schema(value_type = Option<String>)]
    pub vendor_share_percent: Option<Decimal>,
    /// Default true.
    pub active: Option<bool>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CouponPatch {
    pub active: Option<bool>,
    pub ends_at: Option<DateTime<Utc>>,
    pub usage_limit: Option<i64>,
    /// A new vendor's share of the discount, percent from 0 to 100; orders already placed
    /// keep the split they were placed with.
    #[schema(value_type = Option<String>)]
    pub vendor_share_percent: Option<Decimal>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CouponOut {
    pub id: CouponId,
    pub code: String,
    #[schema(value_type = Option<String>)]
    pub percent: Option<Decimal>,
    pub amount: Option<Money>,
    /// `order`, `vendor`, `categories` or `products`.
    pub applies_to: &'static str,
    /// The vendor, categories or products it is limited to.
    pub applies_to_ids: Vec<String>,
    pub min_subtotal: Option<Money>,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub usage_limit: Option<i64>,
    pub per_customer_limit: Option<i64>,
    /// Who bears the discount: `shop`, `vendor` or `shared`.
    pub funded_by: &'static str,
    /// The vendor's share of the discount, percent (`"0"` for `shop`, `"100"` for `vendor`).
    #[schema(value_type = String)]
    pub vendor_share_percent: Decimal,
    /// The shop's share of the discount, percent: `100 - vendor_share_percent`.
    #[schema(value_type = String)]
    pub shop_share_percent: Decimal,
    pub active: bool,
    /// Orders holding it now (an expired or cancelled unpaid order gives its use back).
    pub used_count: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn out(stored: &StoredCoupon) -> Result<CouponOut, Problem> {
    let c = stored.coupon()?;
    let (percent, amount) = match c.value {
        CouponValue::Percent(p) => (Some(p), None),
        CouponValue::Fixed(m) => (None, Some(m)),
    };
    let applies_to_ids = match &c.scope {
        CouponScope::Order => Vec::new(),
        CouponScope::Vendor(v) => vec![v.to_string()],
        CouponScope::Categories(ids) => ids.iter().map(ToString::to_string).collect(),
        CouponScope::Products(ids) => ids.iter().map(ToString::to_string).collect(),
    };
    Ok(CouponOut {
        id: stored.id,
        code: stored.code.clone(),
        percent,
        amount,
        applies_to: c.scope.kind(),
        applies_to_ids,
        min_subtotal: c.min_subtotal,
        starts_at: c.starts_at,
        ends_at: c.ends_at,
        usage_limit: c.usage_limit,
        per_customer_limit: c.per_customer_limit,
        funded_by: coupon::funding_kind(c.vendor_percent()),
        vendor_share_percent: c.vendor_percent().normalize(),
        shop_share_percent: (Decimal::ONE_HUNDRED - c.vendor_percent()).normalize(),
        active: stored.active,
        used_count: stored.used_count,
        created_at: stored.created_at,
        updated_at: stored.updated_at,
    })
}

fn ids<T: std::str::FromStr>(
    texts: &[String],
    field: &str,
    errors: &mut Vec<FieldError>,
) -> Vec<T> {
    if texts.is_empty() || texts.len() > 100 {
        errors.push(FieldError::new(field, "1 to 100 ids"));
    }
    texts
        .iter()
        .enumerate()
        .filter_map(|(i, t)| body_id(t, &format!("{field}/{i}"), errors))
        .collect()
}

fn limit_ok(value: Option<i64>, field: &str, errors: &mut Vec<FieldError>) {
    if value.is_some_and(|n| n < 1) {
        errors.push(FieldError::new(field, "at least 1"));
    }
}

fn parse(input: CouponIn) -> Result<Coupon, Problem> {
    let mut errors = Vec::new();
    let code = coupon::normalize_code(&input.code).unwrap_or_else(|e| {
        errors.push(FieldError::new("/code", e));
        String::new()
    });
    let value = match (input.percent, input.amount) {
        (Some(p), None) => CouponValue::Percent(p)
            .validate()
            .map_err(|e| ("/percent", e)),
        (None, Some(m)) => CouponValue::Fixed(m).validate().map_err(|e| ("/amount", e)),
        _ => Err(("/percent", "give exactly one of percent and amount")),
    };
    let value = value.unwrap_or_else(|(field, e)| {
        errors.push(FieldError::new(field, e));
        CouponValue::Percent(Decimal::ONE)
    });
    let scope = match (&input.vendor_id, &input.category_ids, &input.product_ids) {
        (None, None, None) => CouponScope::Order,
        (Some(v), None, None) => body_id(v, "/vendor_id", &mut errors)
            .map(CouponScope::Vendor)
            .unwrap_or(CouponScope::Order),
        (None, Some(c), None) => CouponScope::Categories(ids(c, "/category_ids", &mut errors)),
        (None, None, Some(p)) => CouponScope::Products(ids(p, "/product_ids", &mut errors)),
        _ => {
            errors.push(FieldError::new(
                "/vendor_id",
                "give at most one of vendor_id, category_ids and product_ids",
            ));
            CouponScope::Order
        }
    };
    if input.min_subtotal.is_some_and(|m| m.amount < 0) {
        errors.push(FieldError::new("/min_subtotal", "not negative"));
    }
    if let (Some(start), Some(end)) = (input.starts_at, input.ends_at)
        && end <= start
    {
        errors.push(FieldError::new("/ends_at", "after starts_at"));
    }
    limit_ok(input.usage_limit, "/usage_limit", &mut errors);
    limit_ok(input.per_customer_limit, "/per_customer_limit", &mut errors);
    let vendor_share_percent = match (input.funded_by, input.vendor_share_percent) {
        (Some(_), Some(_)) => {
            errors.push(FieldError::new(
                "/vendor_share_percent",
                "give at most one of funded_by and vendor_share_percent",
            ));
            None
        }
        (_, Some(p)) => crate::domain::percent::check_percent(p)
            .map_err(|e| errors.push(FieldError::new("/vendor_share_percent", e)))
            .ok(),
        (_, None) => None,
    };
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    Ok(Coupon {
        code,
        value,
        scope,
        min_subtotal: input.min_subtotal,
        starts_at: input.starts_at,
        ends_at: input.ends_at,
        usage_limit: input.usage_limit,
        per_customer_limit: input.per_customer_limit,
        funded_by: input.funded_by.unwrap_or_default(),
        vendor_share_percent,
        active: input.active.unwrap_or(true),
    })
}

/// Creates a coupon.
#[utoipa::path(post, path = "/api/v1/coupons", tag = "orders", request_body = CouponIn,
    responses((status = 201, body = CouponOut), (status = 409, description = "Code taken"),
        (status = 422, description = "Invalid coupon")))]
pub async fn create(
    State(state): State<OrdersState>,
    ctx: TenantContext,
    Json(input): Json<CouponIn>,
) -> Result<(StatusCode, Json<CouponOut>), Problem> {
    require_manager(&ctx)?;
    let coupon = parse(input)?;
    let now = crate::now();
    let stored = StoredCoupon {
        id: CouponId::new(),
        code: coupon.code.clone(),
        terms: serde_json::to_value(&coupon)?,
        active: coupon.active,
        used_count: 0,
        created_at: now,
        updated_at: now,
    };
    let tx = state.db.tenant_tx(ctx.tenant).await?;
    match repo::insert(&tx, &stored).await {
        Err(e) if mercato_db::is_unique_violation(&e) => {
            return Err(Problem::of(
                OrdersProblem::CouponCodeTaken,
                "the shop already has a coupon with this code",
            ));
        }
        other => other?,
    }
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(out(&stored)?)))
}

/// The shop's coupons.
#[utoipa::path(get, path = "/api/v1/coupons", tag = "orders", params(ListQuery),
    responses((status = 200, body = ListResponse<CouponOut>)))]
pub async fn list(
    State(state): State<OrdersState>,
    ctx: TenantContext,
    Query(query): Query<ListQuery>,
) -> Result<Json<ListResponse<CouponOut>>, Problem> {
    require_manager(&ctx)?;
    let (limit, cursor) = query.page::<CouponId>()?;
    let tx = state.db.tenant_read(ctx.tenant).await?;
    let rows = repo::list(&tx, cursor, limit + 1).await?;
    let rows = rows.iter().map(out).collect::<Result<Vec<_>, _>>()?;
    Ok(Json(ListResponse::from_overfetch(rows, limit, |c| {
        c.id.to_string()
    })))
}

/// One coupon.
#[utoipa::path(get, path = "/api/v1/coupons/{coupon_id}", tag = "orders",
    params(("coupon_id" = String, Path, description = "`cpn_…`")),
    responses((status = 200, body = CouponOut), (status = 404, description = "No such coupon")))]
pub async fn show(
    State(state): State<OrdersState>,
    ctx: TenantContext,
    Path(coupon_id): Path<String>,
) -> Result<Json<CouponOut>, Problem> {
    require_manager(&ctx)?;
    let id: CouponId = path_id(&coupon_id)?;
    let tx = state.db.tenant_read(ctx.tenant).await?;
    let stored = repo::find(&tx, id).await?.ok_or_else(Problem::not_found)?;
    Ok(Json(out(&stored)?))
}

/// Switches a coupon on or off, ends it, changes its total usage limit or the vendor's share
/// of its discount.
#[utoipa::path(patch, path = "/api/v1/coupons/{coupon_id}", tag = "orders",
    params(("coupon_id" = String, Path, description = "`cpn_…`")), request_body = CouponPatch,
    responses((status = 200, body = CouponOut), (status = 404, description = "No such coupon"),
        (status = 422, description = "Invalid change")))]
pub async fn update(
    State(state): State<OrdersState>,
    ctx: TenantContext,
    Path(coupon_id): Path<String>,
    Json(patch): Json<CouponPatch>,
) -> Result<Json<CouponOut>, Problem> {
    require_manager(&ctx)?;
    let id: CouponId = path_id(&coupon_id)?;
    let tx = state.db.tenant_tx(ctx.tenant).await?;
    let mut stored = repo::find(&tx, id).await?.ok_or_else(Problem::not_found)?;
    let mut coupon = stored.coupon()?;
    let mut errors = Vec::new();
    limit_ok(patch.usage_limit, "/usage_limit", &mut errors);
    let share = patch.vendor_share_percent.and_then(|p| {
        crate::domain::percent::check_percent(p)
            .map_err(|e| errors.push(FieldError::new("/vendor_share_percent", e)))
            .ok()
    });
    if let (Some(start), Some(end)) = (coupon.starts_at, patch.ends_at)
        && end <= start
    {
        errors.push(FieldError::new("/ends_at", "after starts_at"));
    }
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    if let Some(active) = patch.active {
        coupon.active = active;
        stored.active = active;
    }
    if patch.ends_at.is_some() {
        coupon.ends_at = patch.ends_at;
    }
    if patch.usage_limit.is_some() {
        coupon.usage_limit = patch.usage_limit;
    }
    if share.is_some() {
        coupon.vendor_share_percent = share;
    }
    stored.terms = serde_json::to_value(&coupon)?;
    stored.updated_at = crate::now();
    repo::update(&tx, &stored).await?;
    tx.commit().await?;
    Ok(Json(out(&stored)?))
}

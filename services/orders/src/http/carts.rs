//! Carts on the shop's domain. A guest's cart is reached by its unguessable id; a signed-in
//! customer's cart is theirs alone (others get 404). Every read re-prices the cart from the
//! catalog (see `quote`).

use super::{body_id, is_order_reader};
use crate::OrdersState;
use crate::domain::cart::{Cart, CartLine, CartStatus};
use crate::domain::coupon;
use crate::domain::tax;
use crate::domain::{CartId, CartLineId};
use crate::http::out::{self, CartOut};
use crate::problems::OrdersProblem;
use crate::repo::carts as repo;
use crate::repo::{mirror, settings};
use crate::usecases::access::visible_cart;
use crate::usecases::quote;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{patch, post};
use mercato_db::TenantTx;
use mercato_kernel::http::{Json, nullable, path_id};
use mercato_kernel::{FieldError, Problem};
use mercato_tenant_context::{Actor, TenantContext, VariantId};
use serde::Deserialize;

/// Lines a cart may have.
pub const MAX_LINES: usize = 100;
/// Units of one variant a line may ask for.
pub const MAX_QUANTITY: i64 = 1000;

pub fn router() -> Router<OrdersState> {
    Router::new()
        .route("/api/v1/carts", post(create))
        .route("/api/v1/carts/{cart_id}", patch(update).get(show))
        .route("/api/v1/carts/{cart_id}/lines", post(add_line))
        .route(
            "/api/v1/carts/{cart_id}/lines/{line_id}",
            patch(update_line).delete(remove_line),
        )
        .route("/api/v1/carts/{cart_id}/accept-prices", post(accept_prices))
        .route("/api/v1/carts/{cart_id}/merge", post(merge))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CartLineIn)]
pub struct LineIn {
    /// `var_…`.
    pub variant_id: String,
    /// 1 to 1000.
    pub quantity: i64,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CartIn {
    /// Lines to start with.
    #[serde(default)]
    pub lines: Vec<LineIn>,
    /// Destination country (ISO 3166-1 alpha-2) for taxes.
    pub country: Option<String>,
    pub coupon_code: Option<String>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CartPatch {
    /// Destination country; `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    pub country: Option<Option<String>>,
    /// A coupon code to apply; `null` removes the coupon. An unknown or inapplicable code is
    /// kept and shown with the reason it does not apply.
    #[serde(default, deserialize_with = "nullable")]
    pub coupon_code: Option<Option<String>>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinePatch {
    /// 1 to 1000.
    pub quantity: i64,
}

fn open(cart: &Cart) -> Result<(), Problem> {
    if cart.status == CartStatus::Open {
        Ok(())
    } else {
        Err(Problem::of(
            OrdersProblem::CartClosed,
            format!("this cart is {}; start a new one", cart.status.code()),
        ))
    }
}

/// The cart as the caller sees it, priced now.
pub async fn render(
    state: &OrdersState,
    tx: &TenantTx,
    ctx: &TenantContext,
    cart: &Cart,
) -> Result<CartOut, Problem> {
    let ids: Vec<VariantId> = cart.lines.iter().map(|l| l.variant).collect();
    let lookups = mirror::lookups(tx, &ids).await?;
    render_with(state, tx, ctx, cart, lookups).await
}

/// [`render`] with the variants, stock and vendors of every line read already.
async fn render_with(
    state: &OrdersState,
    tx: &TenantTx,
    ctx: &TenantContext,
    cart: &Cart,
    lookups: mirror::Lookups,
) -> Result<CartOut, Problem> {
    let rules = settings::rules(tx, state.config.default_settings()).await?;
    let customer = cart.customer.map(|c| c.to_string());
    let quote =
        quote::quote_with(tx, cart, rules, customer.as_deref(), crate::now(), lookups).await?;
    Ok(out::cart(cart, &quote, is_order_reader(ctx)))
}

fn check_quantity(quantity: i64, field: &str, errors: &mut Vec<FieldError>) {
    if !(1..=MAX_QUANTITY).contains(&quantity) {
        errors.push(FieldError::new(field, "from 1 to 1000"));
    }
}

fn normalized_country(text: &str, errors: &mut Vec<FieldError>) -> Option<String> {
    tax::validate_country(text)
        .map_err(|e| errors.push(FieldError::new("/country", e)))
        .ok()
}

fn normalized_code(text: &str, errors: &mut Vec<FieldError>) -> Option<String> {
    coupon::normalize_code(text)
        .map_err(|e| errors.push(FieldError::new("/coupon_code", e)))
        .ok()
}

/// Adds units of variants to the cart, one request line after the other (`field` names
/// each in problems), each to the variant's line if the cart has one. One read each of the
/// variants, their vendors and their stock serves every line, and returns for the cart's
/// price; new lines are written in one statement.
async fn put_all(
    tx: &TenantTx,
    cart: &mut Cart,
    wanted: &[(String, VariantId, i64)],
) -> Result<mirror::Lookups, Problem> {
    let mut ids: Vec<VariantId> = cart.lines.iter().map(|l| l.variant).collect();
    ids.extend(wanted.iter().map(|(_, v, _)| *v));
    ids.sort();
    ids.dedup();
    let lookups = mirror::lookups(tx, &ids).await?;
    let now = crate::now();
    let mut added: Vec<CartLineId> = Vec::new();
    let mut changed: Vec<CartLineId> = Vec::new();
    for (field, variant, quantity) in wanted {
        let (variant, quantity) = (*variant, *quantity);
        let Some(v) = lookups.variants.get(&variant) else {
            return Err(Problem::invalid_field(
                format!("{field}/variant_id"),
                "this item is not for sale",
            ));
        };
        // The vendor first: a suspended vendor's products are hidden too, and the shopper is
        // better told why.
        match mirror::selling(lookups.vendors.get(&v.vendor), now.date_naive()) {
            mirror::Selling::Yes => {}
            mirror::Selling::No if !v.visible => {}
            mirror::Selling::No | mirror::Selling::Suspended => {
                return Err(Problem::of(
                    OrdersProblem::VendorNotSelling,
                    "this item's vendor is not selling at the moment",
                ));
            }
            mirror::Selling::BackOn(back) => {
                let mut problem = Problem::of(
                    OrdersProblem::VendorOnHoliday,
                    format!("this item's vendor is on holiday and takes orders again on {back}"),
                );
                problem.errors = vec![FieldError::new(
                    format!("{field}/variant_id"),
                    format!("back on {back}"),
                )];
                return Err(problem);
            }
        }
        if !v.visible {
            return Err(Problem::invalid_field(
                format!("{field}/variant_id"),
                "this item is not for sale",
            ));
        }
        if let Some(first) = cart
            .lines
            .iter()
            .filter(|l| l.variant != variant)
            .find_map(|l| lookups.variants.get(&l.variant))
            && first.price.currency != v.price.currency
        {
            return Err(Problem::invalid_field(
                format!("{field}/variant_id"),
                format!(
                    "this item is priced in {}, the cart in {}",
                    v.price.currency, first.price.currency
                ),
            ));
        }
        let existing = cart.lines.iter().position(|l| l.variant == variant);
        let total = quantity + existing.map_or(0, |i| cart.lines[i].quantity);
        if total > MAX_QUANTITY {
            return Err(Problem::invalid_field(
                format!("{field}/quantity"),
                "at most 1000 units of one item",
            ));
        }
        let available = lookups.stock.get(&variant).copied().unwrap_or(0);
        if total > available {
            return Err(Problem::of(
                OrdersProblem::InsufficientStock,
                format!("only {available} available"),
            ));
        }
        match existing {
            Some(i) => {
                let line = &mut cart.lines[i];
                line.quantity = total;
                line.seen_price = v.price.amount;
                if !added.contains(&line.id) && !changed.contains(&line.id) {
                    changed.push(line.id);
                }
            }
            None => {
                if cart.lines.len() >= MAX_LINES {
                    return Err(Problem::of(
                        OrdersProblem::CartFull,
                        format!("a cart holds at most {MAX_LINES} lines"),
                    ));
                }
                let line = CartLine {
                    id: CartLineId::new(),
                    variant,
                    quantity,
                    seen_price: v.price.amount,
                };
                added.push(line.id);
                cart.lines.push(line);
            }
        }
    }
    for line in cart.lines.iter().filter(|l| changed.contains(&l.id)) {
        repo::update_line(tx, line).await?;
    }
    let new: Vec<&CartLine> = cart
        .lines
        .iter()
        .filter(|l| added.contains(&l.id))
        .collect();
    repo::insert_lines(tx, cart.id, &new, now).await?;
    Ok(lookups)
}

/// Starts a cart. A signed-in customer gets their open cart (the lines are added to it).
#[utoipa::path(post, path = "/api/v1/carts", tag = "carts", request_body = CartIn,
    responses((status = 201, body = CartOut), (status = 200, body = CartOut, description = "The customer's open cart"),
        (status = 409, description = "Not enough stock or vendor not selling"),
        (status = 422, description = "Invalid cart")))]
pub async fn create(
    State(state): State<OrdersState>,
    ctx: TenantContext,
    body: Option<Json<CartIn>>,
) -> Result<(StatusCode, Json<CartOut>), Problem> {
    let input = body.map(|Json(b)| b).unwrap_or_default();
    let mut errors = Vec::new();
    if input.lines.len() > MAX_LINES {
        errors.push(FieldError::new("/lines", "at most 100 lines"));
    }
    let mut lines = Vec::new();
    for (i, line) in input.lines.iter().enumerate() {
        check_quantity(line.quantity, &format!("/lines/{i}/quantity"), &mut errors);
        if let Some(v) = body_id::<VariantId>(
            &line.variant_id,
            &format!("/lines/{i}/variant_id"),
            &mut errors,
        ) {
            lines.push((i, v, line.quantity));
        }
    }
    let country = input
        .country
        .as_deref()
        .and_then(|c| normalized_country(c, &mut errors));
    let coupon_code = input
        .coupon_code
        .as_deref()
        .and_then(|c| normalized_code(c, &mut errors));
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    let customer = match ctx.actor {
        Actor::User(user) => Some(user),
        _ => None,
    };
    let tx = state.db.tenant_tx(ctx.tenant).await?;
    let now = crate::now();
    let existing = match customer {
        Some(user) => repo::open_of(&tx, user).await?,
        None => None,
    };
    let (mut cart, status) = match existing {
        Some(id) => {
            let mut cart = repo::find(&tx, id, true)
                .await?
                .ok_or_else(Problem::not_found)?;
            if country.is_some() {
                cart.country = country;
            }
            if coupon_code.is_some() {
                cart.coupon_code = coupon_code;
            }
            (cart, StatusCode::OK)
        }
        None => (
            new_cart(&state, &tx, customer, now, country, coupon_code).await?,
            StatusCode::CREATED,
        ),
    };
    let wanted: Vec<(String, VariantId, i64)> = lines
        .into_iter()
        .map(|(i, variant, quantity)| (format!("/lines/{i}"), variant, quantity))
        .collect();
    let lookups = put_all(&tx, &mut cart, &wanted).await?;
    // A new cart was written whole; the customer's existing one is updated.
    if status == StatusCode::OK {
        cart.updated_at = now;
        repo::update(&tx, &cart).await?;
    }
    let body = render_with(&state, &tx, &ctx, &cart, lookups).await?;
    tx.commit().await?;
    Ok((status, Json(body)))
}

/// A new open cart, written with its country and coupon code (when given).
async fn new_cart(
    state: &OrdersState,
    tx: &TenantTx,
    customer: Option<mercato_tenant_context::UserId>,
    now: chrono::DateTime<chrono::Utc>,
    country: Option<String>,
    coupon_code: Option<String>,
) -> Result<Cart, Problem> {
    let cart = Cart {
        id: CartId::new(),
        customer,
        status: CartStatus::Open,
        country,
        coupon_code,
        created_at: now,
        updated_at: now,
        lines: Vec::new(),
    };
    repo::insert(tx, &cart).await?;
    crate::usecases::expiry::schedule_sweep(state, tx, state.config.cart_idle_secs).await?;
    Ok(cart)
}

/// The cart, re-priced.
#[utoipa::path(get, path = "/api/v1/carts/{cart_id}", tag = "carts",
    params(("cart_id" = String, Path, description = "`crt_…`")),
    responses((status = 200, body = CartOut), (status = 404, description = "No such cart")))]
pub async fn show(
    State(state): State<OrdersState>,
    ctx: TenantContext,
    Path(cart_id): Path<String>,
) -> Result<Json<CartOut>, Problem> {
    let id: CartId = path_id(&cart_id)?;
    let tx = state.db.tenant_read(ctx.tenant).await?;
    let cart = visible_cart(&tx, &ctx, id, false, false).await?;
    Ok(Json(render(&state, &tx, &ctx, &cart).await?))
}

/// Sets the destination country or the coupon.
#[utoipa::path(patch, path = "/api/v1/carts/{cart_id}", tag = "carts",
    params(("cart_id" = String, Path, description = "`crt_…`")), request_body = CartPatch,
    responses((status = 200, body = CartOut), (status = 404, description = "No such cart"),
        (status = 409, description = "The cart is closed"), (status = 422, description = "Invalid change")))]
pub async fn update(
    State(state): State<OrdersState>,
    ctx: TenantContext,
    Path(cart_id): Path<String>,
    Json(patch): Json<CartPatch>,
) -> Result<Json<CartOut>, Problem> {
    let id: CartId = path_id(&cart_id)?;
    let mut errors = Vec::new();
    let country = patch
        .country
        .map(|c| c.and_then(|c| normalized_country(&c, &mut errors)));
    let coupon_code = patch
        .coupon_code
        .map(|c| c.and_then(|c| normalized_code(&c, &mut errors)));
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    let tx = state.db.tenant_tx(ctx.tenant).await?;
    let mut cart = visible_cart(&tx, &ctx, id, true, true).await?;
    open(&cart)?;
    if let Some(country) = country {
        cart.country = country;
    }
    if let Some(code) = coupon_code {
        cart.coupon_code = code;
    }
    cart.updated_at = crate::now();
    repo::update(&tx, &cart).await?;
    let body = render(&state, &tx, &ctx, &cart).await?;
    tx.commit().await?;
    Ok(Json(body))
}

/// Adds units of a variant (to its line, if the cart has one).
#[utoipa::path(post, path = "/api/v1/carts/{cart_id}/lines", tag = "carts",
    params(("cart_id" = String, Path, description = "`crt_…`")), request_body = LineIn,
    responses((status = 201, body = CartOut), (status = 404, description = "No such cart"),
        (status = 409, description = "Not enough stock, vendor not selling, or cart closed"),
        (status = 422, description = "Invalid line")))]
pub async fn add_line(
    State(state): State<OrdersState>,
    ctx: TenantContext,
    Path(cart_id): Path<String>,
    Json(input): Json<LineIn>,
) -> Result<(StatusCode, Json<CartOut>), Problem> {
    let id: CartId = path_id(&cart_id)?;
    let mut errors = Vec::new();
    check_quantity(input.quantity, "/quantity", &mut errors);
    let variant = body_id::<VariantId>(&input.variant_id, "/variant_id", &mut errors);
    let Some(variant) = variant.filter(|_| errors.is_empty()) else {
        return Err(Problem::validation(errors));
    };
    let tx = state.db.tenant_tx(ctx.tenant).await?;
    let mut cart = visible_cart(&tx, &ctx, id, true, true).await?;
    open(&cart)?;
    let lookups = put_all(&tx, &mut cart, &[(String::new(), variant, input.quantity)]).await?;
    cart.updated_at = crate::now();
    repo::update(&tx, &cart).await?;
    let body = render_with(&state, &tx, &ctx, &cart, lookups).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(body)))
}

/// Sets a line's quantity (and accepts its current price).
#[utoipa::path(patch, path = "/api/v1/carts/{cart_id}/lines/{line_id}", tag = "carts",
    params(("cart_id" = String, Path, description = "`crt_…`"), ("line_id" = String, Path, description = "`crl_…`")),
    request_body = LinePatch,
    responses((status = 200, body = CartOut), (status = 404, description = "No such cart or line"),
        (status = 409, description = "Not enough stock or cart closed"), (status = 422, description = "Invalid quantity")))]
pub async fn update_line(
    State(state): State<OrdersState>,
    ctx: TenantContext,
    Path((cart_id, line_id)): Path<(String, String)>,
    Json(input): Json<LinePatch>,
) -> Result<Json<CartOut>, Problem> {
    let id: CartId = path_id(&cart_id)?;
    let line_id: CartLineId = path_id(&line_id)?;
    let mut errors = Vec::new();
    check_quantity(input.quantity, "/quantity", &mut errors);
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    let tx = state.db.tenant_tx(ctx.tenant).await?;
    let mut cart = visible_cart(&tx, &ctx, id, true, true).await?;
    open(&cart)?;
    let Some(i) = cart.lines.iter().position(|l| l.id == line_id) else {
        return Err(Problem::not_found());
    };
    let variant = cart.lines[i].variant;
    let available = mirror::available(&tx, &[variant]).await?;
    let available = available.get(&variant).copied().unwrap_or(0);
    if input.quantity > available {
        return Err(Problem::of(
            OrdersProblem::InsufficientStock,
            format!("only {available} available"),
        ));
    }
    let price = mirror::variants(&tx, &[variant]).await?;
    let line = &mut cart.lines[i];
    line.quantity = input.quantity;
    if let Some(v) = price.get(&variant) {
        line.seen_price = v.price.amount;
    }
    repo::update_line(&tx, line).await?;
    cart.updated_at = crate::now();
    repo::update(&tx, &cart).await?;
    let body = render(&state, &tx, &ctx, &cart).await?;
    tx.commit().await?;
    Ok(Json(body))
}

/// Removes a line.
#[utoipa::path(delete, path = "/api/v1/carts/{cart_id}/lines/{line_id}", tag = "carts",
    params(("cart_id" = String, Path, description = "`crt_…`"), ("line_id" = String, Path, description = "`crl_…`")),
    responses((status = 200, body = CartOut), (status = 404, description = "No such cart or line"),
        (status = 409, description = "The cart is closed")))]
pub async fn remove_line(
    State(state): State<OrdersState>,
    ctx: TenantContext,
    Path((cart_id, line_id)): Path<(String, String)>,
) -> Result<Json<CartOut>, Problem> {
    let id: CartId = path_id(&cart_id)?;
    let line_id: CartLineId = path_id(&line_id)?;
    let tx = state.db.tenant_tx(ctx.tenant).await?;
    let mut cart = visible_cart(&tx, &ctx, id, true, true).await?;
    open(&cart)?;
    let Some(i) = cart.lines.iter().position(|l| l.id == line_id) else {
        return Err(Problem::not_found());
    };
    repo::delete_line(&tx, line_id).await?;
    cart.lines.remove(i);
    cart.updated_at = crate::now();
    repo::update(&tx, &cart).await?;
    let body = render(&state, &tx, &ctx, &cart).await?;
    tx.commit().await?;
    Ok(Json(body))
}

/// Accepts today's prices for every line (after the shopper saw them flagged).
#[utoipa::path(post, path = "/api/v1/carts/{cart_id}/accept-prices", tag = "carts",
    params(("cart_id" = String, Path, description = "`crt_…`")),
    responses((status = 200, body = CartOut), (status = 404, description = "No such cart"),
        (status = 409, description = "The cart is closed")))]
pub async fn accept_prices(
    State(state): State<OrdersState>,
    ctx: TenantContext,
    Path(cart_id): Path<String>,
) -> Result<Json<CartOut>, Problem> {
    let id: CartId = path_id(&cart_id)?;
    let tx = state.db.tenant_tx(ctx.tenant).await?;
    let mut cart = visible_cart(&tx, &ctx, id, true, true).await?;
    open(&cart)?;
    let ids: Vec<VariantId> = cart.lines.iter().map(|l| l.variant).collect();
    let prices = mirror::variants(&tx, &ids).await?;
    for line in &mut cart.lines {
        if let Some(v) = prices.get(&line.variant)
            && v.price.amount != line.seen_price
        {
            line.seen_price = v.price.amount;
            repo::update_line(&tx, line).await?;
        }
    }
    cart.updated_at = crate::now();
    repo::update(&tx, &cart).await?;
    let body = render(&state, &tx, &ctx, &cart).await?;
    tx.commit().await?;
    Ok(Json(body))
}

/// Merges a guest cart into the signed-in customer's cart (call it right after signing
/// in): quantities are summed and capped by what is available; the guest cart is closed.
#[utoipa::path(post, path = "/api/v1/carts/{cart_id}/merge", tag = "carts",
    params(("cart_id" = String, Path, description = "The guest cart, `crt_…`")),
    responses((status = 200, body = CartOut, description = "The customer's cart"),
        (status = 401, description = "Not signed in"), (status = 404, description = "No such cart"),
        (status = 409, description = "The guest cart is closed")))]
pub async fn merge(
    State(state): State<OrdersState>,
    ctx: TenantContext,
    Path(cart_id): Path<String>,
) -> Result<Json<CartOut>, Problem> {
    let user = ctx.user()?;
    let id: CartId = path_id(&cart_id)?;
    let tx = state.db.tenant_tx(ctx.tenant).await?;
    let mut guest = visible_cart(&tx, &ctx, id, true, true).await?;
    if guest.customer == Some(user) {
        let body = render(&state, &tx, &ctx, &guest).await?;
        return Ok(Json(body));
    }
    if guest.customer.is_some() {
        return Err(Problem::not_found());
    }
    open(&guest)?;
    let now = crate::now();
    let mut mine = match repo::open_of(&tx, user).await? {
        Some(mine) => repo::find(&tx, mine, true)
            .await?
            .ok_or_else(Problem::not_found)?,
        None => new_cart(&state, &tx, Some(user), now, None, None).await?,
    };
    let ids: Vec<VariantId> = guest.lines.iter().map(|l| l.variant).collect();
    let available = mirror::available(&tx, &ids).await?;
    for line in &guest.lines {
        let cap = available
            .get(&line.variant)
            .copied()
            .unwrap_or(0)
            .min(MAX_QUANTITY);
        match mine.lines.iter().position(|l| l.variant == line.variant) {
            Some(i) => {
                let existing = &mut mine.lines[i];
                let summed = (existing.quantity + line.quantity).min(cap);
                if summed >= 1 && summed > existing.quantity {
                    existing.quantity = summed;
                    repo::update_line(&tx, existing).await?;
                }
            }
            None if mine.lines.len() < MAX_LINES => {
                let quantity = line.quantity.min(cap);
                if quantity >= 1 {
                    let moved = CartLine {
                        id: CartLineId::new(),
                        variant: line.variant,
                        quantity,
                        seen_price: line.seen_price,
                    };
                    repo::insert_lines(&tx, mine.id, &[&moved], now).await?;
                    mine.lines.push(moved);
                }
            }
            None => {}
        }
    }
    if mine.coupon_code.is_none() {
        mine.coupon_code = guest.coupon_code.clone();
    }
    if mine.country.is_none() {
        mine.country = guest.country.clone();
    }
    mine.updated_at = now;
    repo::update(&tx, &mine).await?;
    guest.status = CartStatus::Merged;
    guest.updated_at = now;
    repo::update(&tx, &guest).await?;
    let body = render(&state, &tx, &ctx, &mine).await?;
    tx.commit().await?;
    Ok(Json(body))
}

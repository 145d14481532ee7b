//! Checkout: a cart becomes an order split into vendor orders, with stock held and a payment
//! taken.
//!
//! 1. The cart is priced (`quote`) for the shipping address; anything that blocks it (an
//!    item no longer for sale, a price the shopper has not seen, a coupon that does not
//!    apply) refuses the checkout and changes nothing.
//! 2. Inventory holds every line's units, all or nothing, for the order's lifetime plus five
//!    minutes (one hold per attempt; an attempt that does not become an order releases it).
//! 3. One transaction writes the order, its vendor orders and lines (with the shares of
//!    shipping, discount, tax and the commission of each line), the coupon's use, the
//!    payment attempt, the `Idempotency-Key`, `order.placed` and the expiry job, and closes
//!    the cart. If it cannot (the cart changed, the coupon ran out), the reservation is
//!    released at once.
//! 4. The payment provider is called with that attempt (see `payment::take`).

use crate::OrdersState;
use crate::domain::cart::{Cart, CartStatus};
use crate::domain::coupon;
use crate::domain::lifecycle::{OrderStatus, VendorOrderStatus};
use crate::domain::order::{Address, FullOrder, Order, OrderLine, Transition, VendorOrder};
use crate::domain::payment::{Payment, PaymentId, PaymentStatus};
use crate::domain::pricing;
use crate::domain::{OrderId, OrderLineId, VendorOrderId};
use crate::inventory::ReserveError;
use crate::problems::OrdersProblem;
use crate::repo::carts;
use crate::repo::orders;
use crate::repo::payments as payment_repo;
use crate::repo::{coupons, settings};
use crate::usecases::quote::{self, Quote};
use chrono::TimeDelta;
use hmac::{Hmac, Mac};
use mercato_db::TenantTx;
use mercato_kernel::{FieldError, Problem};
use mercato_tenant_context::{TenantContext, VariantId};
use rust_decimal::Decimal;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// How much longer than the order its stock is held, so the order's own expiry (which also
/// cancels the payment) is what gives it back: a fifth of the order's lifetime, from 5 s to
/// 5 minutes. It also bounds how long a hold outlives a checkout cut off by a crash between
/// the hold and the order.
pub(crate) fn reservation_ttl(order_ttl_secs: i64) -> i64 {
    order_ttl_secs + (order_ttl_secs / 5).clamp(5, 300)
}

/// The expiry job of one order, as checkouts wrote them before the shop's sweep
/// ([`crate::usecases::expiry::ORDER_SWEEP_JOB`]); those still queued run as before.
pub const EXPIRE_JOB: &str = "orders.expire";

/// What a checkout needs besides the cart.
pub struct Placement {
    pub email: String,
    pub address: Address,
    /// `Idempotency-Key` and the hash of the request it came with.
    pub key: String,
    /// Whose key it is (see [`key_owner`]): keys of different callers never meet.
    pub caller: String,
    pub request_hash: String,
    /// The provider the shopper pays with.
    pub provider: String,
}

/// How a checkout ended.
pub enum Placed {
    /// A new order as written (its history too), with its payment attempt when it has
    /// something to pay.
    New(Box<FullOrder>, Option<Payment>),
    /// The key was used before with the same request: its order.
    Replayed(OrderId),
}

/// A hash of a request body, to tell a replay from a reuse of a key.
pub fn request_hash(body: &impl Serialize) -> String {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    hex::encode(Sha256::digest(bytes))
}

/// The token that lets a guest read their order: an HMAC of the order id, so the checkout
/// response can give it again on a replay without storing it.
pub fn order_token(key: &[u8], order: OrderId) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| {
        <Hmac<Sha256> as Mac>::new_from_slice(&[0]).unwrap_or_else(|_| unreachable_mac())
    });
    mac.update(b"order-token\0");
    mac.update(order.to_string().as_bytes());
    format!("otk_{}", hex::encode(mac.finalize().into_bytes()))
}

#[allow(clippy::panic)]
fn unreachable_mac() -> Hmac<Sha256> {
    unreachable!("HMAC accepts keys of any length")
}

/// Whether `token` is `order`'s.
pub fn token_matches(key: &[u8], order: OrderId, token: &str) -> bool {
    use subtle::ConstantTimeEq;
    order_token(key, order)
        .as_bytes()
        .ct_eq(token.as_bytes())
        .into()
}

/// Whose `Idempotency-Key` a checkout's is: a signed-in caller's own (a customer, staff,
/// an API key), a guest's cart's. A guest has nothing else to tell them apart, and a retry
/// of a guest's checkout is always of the same cart.
pub fn key_owner(ctx: &TenantContext, cart: crate::domain::CartId) -> String {
    match ctx.actor {
        mercato_tenant_context::Actor::Anonymous => cart.to_string(),
        _ => ctx.actor.label(),
    }
}

/// The refusal of a payment provider the shop does not take (or the platform does not
/// offer): nothing is ordered or charged.
pub fn provider_not_accepted(provider: &str) -> Problem {
    let mut problem = Problem::from(OrdersProblem::ProviderNotAccepted).with_detail(format!(
        "this shop does not take payments with {provider:?}"
    ));
    problem.errors = vec![FieldError::new(
        "/payment/provider",
        "a provider this shop accepts (see `payment_providers` of /api/v1/order-settings)",
    )];
    problem
}

async fn replayed(tx: &TenantTx, p: &Placement) -> Result<Option<OrderId>, Problem> {
    match orders::checkout_key(tx, &p.caller, &p.key).await? {
        Some((hash, order)) if hash == p.request_hash => Ok(Some(order)),
        Some(_) => Err(Problem::from(OrdersProblem::IdempotencyKeyReused)
            .with_detail("this Idempotency-Key was used with a different checkout")),
        None => Ok(None),
    }
}

fn not_ready(quote: &Quote) -> Option<Problem> {
    let blocking = quote.blocking();
    if !blocking.is_empty() {
        // Lines held back only by their vendors (suspended, or on holiday) say so at the top,
        // each line's error with the date its vendor is back.
        let (code, title) = match blocking
            .iter()
            .map(|(_, code, _)| *code)
            .collect::<Vec<_>>()
        {
            codes if codes.iter().all(|c| *c == "vendor_on_holiday") => (
                OrdersProblem::VendorOnHoliday,
                "a vendor of these lines is on holiday; nothing was ordered",
            ),
            codes
                if codes
                    .iter()
                    .all(|c| matches!(*c, "vendor_on_holiday" | "vendor_not_selling")) =>
            {
                (
                    OrdersProblem::VendorNotSelling,
                    "a vendor of these lines is not selling; nothing was ordered",
                )
            }
            _ => (
                OrdersProblem::CartNotReady,
                "some lines cannot be bought as they are; review the cart",
            ),
        };
        let mut problem = Problem::of(code, title);
        problem.errors = blocking
            .iter()
            .map(|(i, code, message)| {
                FieldError::new(format!("/lines/{i}"), format!("{code}: {message}"))
            })
            .collect();
        return Some(problem);
    }
    if let Some(c) = &quote.coupon
        && let Some((code, message)) = &c.refused
    {
        let mut problem = Problem::of(OrdersProblem::CouponNotApplicable, message.clone());
        problem.errors = vec![FieldError::new("/coupon_code", *code)];
        return Some(problem);
    }
    None
}

/// Places the order for `cart_id` (see the module documentation).
pub async fn place(
    state: &OrdersState,
    ctx: &TenantContext,
    cart_id: crate::domain::CartId,
    p: &Placement,
) -> Result<Placed, Problem> {
    // 1. Price the cart as it stands, for the destination.
    let tx = state.db.tenant_read(ctx.tenant).await?;
    let mut cart = crate::usecases::access::visible_cart(&tx, ctx, cart_id, false, true).await?;
    if cart.status != CartStatus::Open {
        // A checkout with this key that went through closed the cart. (An open cart has
        // none; a key used for another cart is refused when this order's key is written.)
        if let Some(order) = replayed(&tx, p).await? {
            return Ok(Placed::Replayed(order));
        }
        return Err(Problem::of(
            OrdersProblem::CartClosed,
            format!("this cart is {}", cart.status.code()),
        ));
    }
    if cart.lines.is_empty() {
        return Err(Problem::of(
            OrdersProblem::CartEmpty,
            "the cart has no lines",
        ));
    }
    cart.country = Some(p.address.country.clone());
    let rules = settings::rules(&tx, state.config.default_settings()).await?;
    if !rules.settings.accepts(&p.provider) {
        return Err(provider_not_accepted(&p.provider));
    }
    let order_ttl_secs = rules.settings.order_ttl_secs;
    let customer_key = customer_key(ctx, &cart, &p.email);
    let now = crate::now();
    let quote = quote::quote(&tx, &cart, rules, Some(&customer_key), now).await?;
    drop(tx);
    if let Some(problem) = not_ready(&quote) {
        return Err(problem);
    }
    let order_id = OrderId::new();
    let (full, redemption) = build(&cart, &quote, order_id, p, now)?;

    // 2. Hold the stock.
    let units: Vec<(VariantId, i64)> = full.lines.iter().map(|l| (l.variant, l.quantity)).collect();
    let reservation = state
        .inventory
        .reserve(
            ctx,
            // One hold per attempt: an attempt that fails releases its own hold, and a
            // crash between the hold and the order leaves it to expire on its own.
            &format!("checkout:{order_id}"),
            &units,
            reservation_ttl(order_ttl_secs),
            &order_id.to_string(),
        )
        .await
        .map_err(|e| match e {
            ReserveError::Short(errors) => {
                let mut problem = Problem::of(
                    OrdersProblem::InsufficientStock,
                    "not enough stock for every line; nothing was ordered",
                );
                problem.errors = errors;
                problem
            }
            ReserveError::NotSelling(errors) => {
                let mut problem = Problem::of(
                    OrdersProblem::VendorNotSelling,
                    "a vendor of these lines is not selling; nothing was ordered",
                );
                problem.errors = errors;
                problem
            }
            ReserveError::OnHoliday(errors) => {
                let mut problem = Problem::of(
                    OrdersProblem::VendorOnHoliday,
                    "a vendor of these lines is on holiday; nothing was ordered",
                );
                problem.errors = errors;
                problem
            }
            ReserveError::Unavailable(e) => {
                tracing::error!(error = %e, "inventory unavailable at checkout");
                Problem::of(
                    OrdersProblem::InventoryUnavailable,
                    "stock cannot be held right now; try again",
                )
            }
        })?;
    let mut full = full;
    full.order.reservation = Some(reservation);
    // Kept so `order.paid` can carry it: accounting lets the token's holder read the
    // order's invoices without asking orders (ADR 0044).
    full.order.token_hash =
        mercato_orders_api::token::token_hash(&order_token(&state.token_key, order_id));

    // 3. Write the order.
    match write(state, ctx, cart_id, &cart, full, redemption, p).await {
        Ok(placed) => {
            if matches!(placed, Placed::Replayed(_))
                && let Err(e) = state.inventory.release(ctx, reservation).await
            {
                tracing::warn!(error = %e, %reservation, "could not release an unused reservation; it expires by itself");
            }
            state.outbox.notify_one();
            Ok(placed)
        }
        Err(problem) => {
            if let Err(e) = state.inventory.release(ctx, reservation).await {
                tracing::warn!(error = %e, %reservation, "could not release an unused reservation; it expires by itself");
            }
            Err(problem)
        }
    }
}

/// Whose uses of a coupon count: the signed-in customer's, else the cart's owner's, else
/// the guest's email.
fn customer_key(ctx: &TenantContext, cart: &Cart, email: &str) -> String {
    match ctx.actor {
        mercato_tenant_context::Actor::User(user) => user.to_string(),
        _ => cart
            .customer
            .map_or_else(|| email.trim().to_lowercase(), |c| c.to_string()),
    }
}

async fn write(
    state: &OrdersState,
    ctx: &TenantContext,
    cart_id: crate::domain::CartId,
    seen: &Cart,
    mut full: FullOrder,
    redemption: Option<quote::Redemption>,
    p: &Placement,
) -> Result<Placed, Problem> {
    let tx = state.db.tenant_tx(ctx.tenant).await?;
    // The cart is closed first, which takes its lock: a concurrent checkout of it has then
    // committed. Anything refused below rolls the closing back.
    let at = full.order.placed_at;
    let Some(cart) = carts::close_open(&tx, cart_id, CartStatus::Ordered, at).await? else {
        let Some(cart) = carts::find(&tx, cart_id, false).await? else {
            return Err(Problem::not_found());
        };
        // Closed by a concurrent checkout: with this key, its order is the answer. (An open
        // cart has no committed checkout with the same request; one of another cart with
        // this key is caught by the key's insert below.)
        if let Some(order) = replayed(&tx, p).await? {
            return Ok(Placed::Replayed(order));
        }
        return Err(Problem::of(
            OrdersProblem::CartClosed,
            format!("this cart is {}", cart.status.code()),
        ));
    };
    if cart.lines != seen.lines || cart.coupon_code != seen.coupon_code {
        return Err(Problem::of(
            OrdersProblem::CartChanged,
            "the cart changed during checkout; review it and check out again",
        ));
    }
    orders::insert(&tx, &full).await?;
    if let Some((coupon, limit, per_customer)) = redemption {
        let key = customer_key(ctx, &cart, &p.email);
        if !coupons::redeem(
            &tx,
            coupon,
            limit,
            full.order.id,
            &key,
            full.order.placed_at,
        )
        .await?
        {
            return Err(Problem::of(
                OrdersProblem::CouponNotApplicable,
                "this coupon has been used up",
            ));
        }
        // The coupon's row is locked by the use just counted, so this count is exact.
        if let Some(per_customer) = per_customer
            && coupons::redemptions_by(&tx, coupon, &key).await? > per_customer
        {
            return Err(Problem::of(
                OrdersProblem::CouponNotApplicable,
                "you have used this coupon as often as it allows",
            ));
        }
    }
    match orders::save_checkout_key(
        &tx,
        &p.caller,
        &p.key,
        &p.request_hash,
        full.order.id,
        full.order.placed_at,
    )
    .await
    {
        Err(e) if mercato_db::is_unique_violation(&e) => {
            // Another checkout committed this key meanwhile: a reuse (422), or, if it is
            // no longer to be seen, one to retry.
            drop(tx);
            let tx = state.db.tenant_read(ctx.tenant).await?;
            if let Some(order) = replayed(&tx, p).await? {
                return Ok(Placed::Replayed(order));
            }
            return Err(Problem::of(
                OrdersProblem::CheckoutInProgress,
                "a checkout with this Idempotency-Key is being processed; retry it",
            ));
        }
        other => other?,
    }
    let actor = ctx.actor.label();
    let placed = Transition {
        vendor_order_id: None,
        from: "cart".to_owned(),
        to: OrderStatus::PendingPayment.code().to_owned(),
        actor: actor.clone(),
        reason: None,
        at: full.order.placed_at,
    };
    orders::record_transition(&tx, full.order.id, &placed).await?;
    full.history = Some(vec![placed]);
    crate::events::order_placed(&tx, &full, &actor).await?;
    // No job of its own: the shop's sweep expires it if it is still unpaid then.
    crate::usecases::expiry::schedule_order_sweep(state, &tx, full.order.expires_at).await?;
    // The payment attempt, so the provider's call follows at once (and a webhook always
    // finds it). An order with nothing to pay is paid as it stands by `payment::pay`.
    let attempt = (full.order.total > 0).then(|| Payment {
        id: PaymentId::new(),
        order: full.order.id,
        provider: p.provider.clone(),
        provider_ref: None,
        amount: mercato_kernel::Money::new(full.order.total, full.order.currency),
        status: PaymentStatus::Created,
        failure_code: None,
        failure_message: None,
        idempotency_key: None,
        created_at: full.order.placed_at,
        updated_at: full.order.placed_at,
    });
    if let Some(attempt) = &attempt {
        payment_repo::insert(&tx, attempt).await?;
    }
    tx.commit().await?;
    Ok(Placed::New(Box::new(full), attempt))
}

/// The order, vendor orders and lines a quote makes, and the coupon use to record.
#[allow(clippy::type_complexity)]
fn build(
    cart: &Cart,
    quote: &Quote,
    id: OrderId,
    p: &Placement,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(FullOrder, Option<quote::Redemption>), Problem> {
    let (Some(priced), Some(currency)) = (&quote.priced, quote.currency) else {
        return Err(Problem::of(
            OrdersProblem::CartEmpty,
            "the cart has nothing to buy",
        ));
    };
    let vendor_percent = quote
        .coupon
        .as_ref()
        .filter(|c| c.refused.is_none())
        .map_or(Decimal::ZERO, |c| c.vendor_percent);
    let mut vendor_orders = Vec::new();
    let mut lines = Vec::new();
    for totals in &priced.vendors {
        let vendor_order = VendorOrderId::new();
        let mut commission = 0;
        for (position, q) in quote.lines.iter().enumerate() {
            let (Some(v), Some(pl)) = (&q.variant, &q.priced) else {
                continue;
            };
            if v.vendor != totals.vendor {
                continue;
            }
            let (line_commission, rule) = q.commission.clone().unwrap_or((0, String::new()));
            commission += line_commission;
            lines.push(OrderLine {
                id: OrderLineId::new(),
                order: id,
                vendor_order,
                position: i32::try_from(position).unwrap_or(i32::MAX),
                variant: v.id,
                product: v.product,
                title: v.title.clone(),
                sku: v.sku.clone(),
                unit_price: v.price.amount,
                quantity: q.line.quantity,
                subtotal: pl.subtotal,
                discount: pl.discount,
                tax: pl.tax,
                tax_rate: pl.tax_rate.normalize().to_string(),
                total: pl.total,
                commission: line_commission,
                commission_rule: (!rule.is_empty()).then_some(rule),
                refunded_quantity: 0,
                refunded: 0,
            });
        }
        // Split as the quote split it for commission (`pricing::vendor_funded_lines`).
        let funding = coupon::split_funding(totals.discount, vendor_percent);
        vendor_orders.push(VendorOrder {
            id: vendor_order,
            order: id,
            vendor: totals.vendor,
            status: VendorOrderStatus::AwaitingPayment,
            subtotal: totals.subtotal,
            discount: totals.discount,
            discount_funded_by: coupon::funding_kind(vendor_percent).to_owned(),
            discount_by_shop: funding.by_shop,
            discount_by_vendor: funding.by_vendor,
            shipping: totals.shipping,
            tax: totals.tax,
            total: totals.total,
            commission,
            earnings: pricing::vendor_earnings(
                totals.total,
                totals.tax,
                funding.by_shop,
                commission,
            ),
            refunded: 0,
            carrier: None,
            tracking_number: None,
            shipped_at: None,
            delivered_at: None,
            created_at: now,
            updated_at: now,
        });
    }
    // In the order `orders::find` reads them back, so the checkout's answer can show them
    // as written.
    vendor_orders.sort_by_key(|v| v.id);
    lines.sort_by_key(|l| l.position);
    let redemption = quote
        .coupon
        .as_ref()
        .filter(|c| c.refused.is_none())
        .and_then(|c| c.coupon);
    let order = Order {
        id,
        cart: cart.id,
        customer: cart.customer,
        email: p.email.clone(),
        status: OrderStatus::PendingPayment,
        currency,
        subtotal: priced.totals.subtotal,
        discount: priced.totals.discount,
        shipping: priced.totals.shipping,
        tax: priced.totals.tax,
        total: priced.totals.total,
        refunded: 0,
        prices_include_tax: quote.settings.prices_include_tax,
        shipping_address: p.address.clone(),
        tax_breakdown: crate::usecases::quote::tax_lines(quote),
        coupon: redemption.map(|(id, _, _)| id),
        coupon_code: redemption.and(quote.coupon.as_ref().map(|c| c.code.clone())),
        reservation: None,
        token_hash: String::new(),
        payment_failure: None,
        paid_by: None,
        expires_at: now + TimeDelta::seconds(quote.settings.order_ttl_secs),
        placed_at: now,
        paid_at: None,
        updated_at: now,
    };
    Ok((
        FullOrder {
            order,
            vendor_orders,
            lines,
            history: Some(Vec::new()),
        },
        redemption,
    ))
}

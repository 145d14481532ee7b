//! What the API shows of carts and orders.

use crate::domain::cart::Cart;
use crate::domain::coupon;
use crate::domain::lifecycle::{OrderStatus, VendorOrderStatus};
use crate::domain::order::{Address, FullOrder, PaymentFailure, TaxLine, Transition};
use crate::domain::payment::{PaymentStatus, Refund, Return};
use crate::domain::{CartId, CartLineId, OrderId, OrderLineId, VendorOrderId};
use crate::usecases::quote::Quote;
use crate::usecases::records::OrderRecord;
use chrono::{DateTime, Utc};
use mercato_kernel::{Currency, Money};
use mercato_tenant_context::{ProductId, UserId, VariantId, VendorId};
use rust_decimal::Decimal;
use serde::Serialize;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProblemOut {
    pub code: &'static str,
    pub message: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CartLineOut {
    pub id: CartLineId,
    pub variant_id: VariantId,
    pub product_id: Option<ProductId>,
    pub vendor_id: Option<VendorId>,
    pub title: Option<String>,
    pub sku: Option<String>,
    pub quantity: i64,
    /// Today's price of one unit.
    pub unit_price: Option<Money>,
    /// What the shopper last saw, when the price has changed since; checkout refuses until
    /// the cart is looked at again with `POST /api/v1/carts/{id}/accept-prices`.
    pub previous_unit_price: Option<Money>,
    pub price_changed: bool,
    /// Units available now (0 when the item is not for sale).
    pub available: i64,
    /// Why the line cannot be bought as it is.
    pub problem: Option<ProblemOut>,
    pub subtotal: Option<Money>,
    pub discount: Option<Money>,
    pub tax: Option<Money>,
    pub total: Option<Money>,
    /// The commission the shop will take of this line (merchant staff only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commission: Option<Money>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VendorTotalsOut {
    pub vendor_id: VendorId,
    pub vendor_name: String,
    pub subtotal: Money,
    pub discount: Money,
    /// The vendor's flat rate, or 0 above their free-shipping threshold.
    pub shipping: Money,
    pub tax: Money,
    pub total: Money,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TotalsOut {
    pub subtotal: Money,
    pub discount: Money,
    pub shipping: Money,
    pub tax: Money,
    pub total: Money,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CouponPreviewOut {
    pub code: String,
    pub applied: bool,
    pub discount: Option<Money>,
    /// Who funds the discount: `shop`, `vendor` or `shared`.
    pub funded_by: &'static str,
    /// The vendor's share of the discount, percent (`"30"`); the shop funds the rest.
    #[schema(value_type = String)]
    pub vendor_share_percent: Decimal,
    /// Why it does not apply.
    pub reason: Option<ProblemOut>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CartOut {
    /// `crt_…`: a guest's handle on the cart; keep it secret.
    pub id: CartId,
    /// `open`, `ordered`, `merged` or `expired`.
    pub status: &'static str,
    pub customer_id: Option<UserId>,
    pub currency: Option<Currency>,
    /// The destination country taxes are computed for.
    pub country: Option<String>,
    pub prices_include_tax: bool,
    pub lines: Vec<CartLineOut>,
    /// One entry per vendor, with their shipping line.
    pub vendors: Vec<VendorTotalsOut>,
    pub coupon: Option<CouponPreviewOut>,
    pub totals: Option<TotalsOut>,
    pub tax_breakdown: Vec<TaxLine>,
    /// No line has a problem or an unseen price change.
    pub ready_for_checkout: bool,
    pub updated_at: DateTime<Utc>,
}

pub fn cart(cart: &Cart, quote: &Quote, merchant: bool) -> CartOut {
    let money = |amount: i64| quote.currency.map(|c| Money::new(amount, c));
    let lines = quote
        .lines
        .iter()
        .map(|l| {
            let v = l.variant.as_ref();
            CartLineOut {
                id: l.line.id,
                variant_id: l.line.variant,
                product_id: v.map(|v| v.product),
                vendor_id: v.map(|v| v.vendor),
                title: v.map(|v| v.title.clone()),
                sku: v.map(|v| v.sku.clone()),
                quantity: l.line.quantity,
                unit_price: v.map(|v| v.price),
                previous_unit_price: l
                    .price_changed
                    .then(|| v.map(|v| Money::new(l.line.seen_price, v.price.currency)))
                    .flatten(),
                price_changed: l.price_changed,
                available: l.available,
                problem: l.problem.map(|p| ProblemOut {
                    code: p.code(),
                    message: p.message(),
                }),
                subtotal: l.priced.as_ref().and_then(|p| money(p.subtotal)),
                discount: l.priced.as_ref().and_then(|p| money(p.discount)),
                tax: l.priced.as_ref().and_then(|p| money(p.tax)),
                total: l.priced.as_ref().and_then(|p| money(p.total)),
                commission: if merchant {
                    l.commission.as_ref().and_then(|(c, _)| money(*c))
                } else {
                    None
                },
            }
        })
        .collect();
    let (vendors, totals) = match (&quote.priced, quote.currency) {
        (Some(p), Some(c)) => (
            p.vendors
                .iter()
                .map(|v| VendorTotalsOut {
                    vendor_id: v.vendor,
                    vendor_name: quote
                        .vendors
                        .get(&v.vendor)
                        .map(|m| m.name.clone())
                        .unwrap_or_default(),
                    subtotal: Money::new(v.subtotal, c),
                    discount: Money::new(v.discount, c),
                    shipping: Money::new(v.shipping, c),
                    tax: Money::new(v.tax, c),
                    total: Money::new(v.total, c),
                })
                .collect(),
            Some(TotalsOut {
                subtotal: Money::new(p.totals.subtotal, c),
                discount: Money::new(p.totals.discount, c),
                shipping: Money::new(p.totals.shipping, c),
                tax: Money::new(p.totals.tax, c),
                total: Money::new(p.totals.total, c),
            }),
        ),
        _ => (Vec::new(), None),
    };
    CartOut {
        id: cart.id,
        status: cart.status.code(),
        customer_id: cart.customer,
        currency: quote.currency,
        country: cart.country.clone(),
        prices_include_tax: quote.settings.prices_include_tax,
        lines,
        vendors,
        coupon: quote.coupon.as_ref().map(|c| CouponPreviewOut {
            code: c.code.clone(),
            applied: c.refused.is_none(),
            discount: c.refused.is_none().then(|| money(c.discount)).flatten(),
            funded_by: coupon::funding_kind(c.vendor_percent),
            vendor_share_percent: c.vendor_percent,
            reason: c.refused.as_ref().map(|(code, message)| ProblemOut {
                code,
                message: message.clone(),
            }),
        }),
        totals,
        tax_breakdown: crate::usecases::quote::tax_lines(quote),
        ready_for_checkout: !cart.lines.is_empty() && quote.blocking().is_empty(),
        updated_at: cart.updated_at,
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OrderLineOut {
    pub id: OrderLineId,
    pub variant_id: VariantId,
    pub product_id: ProductId,
    pub title: String,
    pub sku: String,
    pub unit_price: Money,
    pub quantity: i64,
    pub subtotal: Money,
    pub discount: Money,
    pub tax: Money,
    /// Percent.
    pub tax_rate: String,
    pub total: Money,
    pub refunded_quantity: i64,
    pub refunded: Money,
    /// The commission on this line (merchant staff and the line's vendor).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commission: Option<Money>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VendorOrderOut {
    pub id: VendorOrderId,
    pub order_id: OrderId,
    pub vendor_id: VendorId,
    pub status: VendorOrderStatus,
    pub subtotal: Money,
    pub discount: Money,
    /// Who bears the discount: `shop`, `vendor` or `shared` (split by the coupon's
    /// percentage).
    pub discount_funded_by: String,
    /// The shop's part of `discount` (paid back to the vendor).
    pub discount_by_shop: Money,
    /// The vendor's part of `discount` (its own price cut; commission is not taken on it).
    pub discount_by_vendor: Money,
    pub shipping: Money,
    pub tax: Money,
    pub total: Money,
    pub refunded: Money,
    /// The shop's commission and what the vendor earns (merchant staff and the vendor):
    /// `total - tax + the shop-funded discount - commission` (the marketplace collects and
    /// owes the tax).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commission: Option<Money>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub earnings: Option<Money>,
    pub carrier: Option<String>,
    pub tracking_number: Option<String>,
    pub shipped_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub lines: Vec<OrderLineOut>,
    /// Where to ship (shown to the vendor with their vendor order).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipping_address: Option<Address>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PaymentOut {
    pub id: crate::domain::payment::PaymentId,
    pub provider: String,
    /// The provider's payment intent (`pi_…`).
    pub provider_ref: Option<String>,
    pub status: PaymentStatus,
    pub amount: Money,
    pub failure_code: Option<String>,
    pub failure_message: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OrderOut {
    /// `ord_…`.
    pub id: OrderId,
    pub status: OrderStatus,
    pub email: String,
    pub customer_id: Option<UserId>,
    pub currency: Currency,
    pub subtotal: Money,
    pub discount: Money,
    pub shipping: Money,
    pub tax: Money,
    pub total: Money,
    pub refunded: Money,
    pub prices_include_tax: bool,
    pub tax_breakdown: Vec<TaxLine>,
    pub coupon_code: Option<String>,
    pub shipping_address: Address,
    pub vendor_orders: Vec<VendorOrderOut>,
    /// Why the last payment attempt failed; pay again with `POST /api/v1/orders/{id}/payments`.
    pub payment_failure: Option<PaymentFailure>,
    pub payments: Vec<PaymentOut>,
    pub refunds: Vec<Refund>,
    pub returns: Vec<Return>,
    pub history: Vec<Transition>,
    /// Unpaid orders expire then and give their stock back.
    pub expires_at: DateTime<Utc>,
    pub placed_at: DateTime<Utc>,
    pub paid_at: Option<DateTime<Utc>>,
    /// Only in the checkout response: lets a guest read this order (`X-Order-Token`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_token: Option<String>,
}

pub fn vendor_order(
    full: &FullOrder,
    v: &crate::domain::order::VendorOrder,
    money_view: bool,
    with_address: bool,
) -> VendorOrderOut {
    let c = full.order.currency;
    let m = |a: i64| Money::new(a, c);
    VendorOrderOut {
        id: v.id,
        order_id: v.order,
        vendor_id: v.vendor,
        status: v.status,
        subtotal: m(v.subtotal),
        discount: m(v.discount),
        discount_funded_by: v.discount_funded_by.clone(),
        discount_by_shop: m(v.discount_by_shop),
        discount_by_vendor: m(v.discount_by_vendor),
        shipping: m(v.shipping),
        tax: m(v.tax),
        total: m(v.total),
        refunded: m(v.refunded),
        commission: money_view.then(|| m(v.commission)),
        earnings: money_view.then(|| m(v.earnings)),
        carrier: v.carrier.clone(),
        tracking_number: v.tracking_number.clone(),
        shipped_at: v.shipped_at,
        delivered_at: v.delivered_at,
        lines: full
            .lines
            .iter()
            .filter(|l| l.vendor_order == v.id)
            .map(|l| OrderLineOut {
                id: l.id,
                variant_id: l.variant,
                product_id: l.product,
                title: l.title.clone(),
                sku: l.sku.clone(),
                unit_price: m(l.unit_price),
                quantity: l.quantity,
                subtotal: m(l.subtotal),
                discount: m(l.discount),
                tax: m(l.tax),
                tax_rate: l.tax_rate.clone(),
                total: m(l.total),
                refunded_quantity: l.refunded_quantity,
                refunded: m(l.refunded),
                commission: money_view.then(|| m(l.commission)),
            })
            .collect(),
        shipping_address: with_address.then(|| full.order.shipping_address.clone()),
        created_at: v.created_at,
    }
}

/// `record` as a caller sees it; `merchant`: with commissions and earnings.
pub fn order(record: OrderRecord, merchant: bool) -> OrderOut {
    let parts = record;
    let o = &parts.full.order;
    let m = |a: i64| Money::new(a, o.currency);
    OrderOut {
        id: o.id,
        status: o.status,
        email: o.email.clone(),
        customer_id: o.customer,
        currency: o.currency,
        subtotal: m(o.subtotal),
        discount: m(o.discount),
        shipping: m(o.shipping),
        tax: m(o.tax),
        total: m(o.total),
        refunded: m(o.refunded),
        prices_include_tax: o.prices_include_tax,
        tax_breakdown: o.tax_breakdown.clone(),
        coupon_code: o.coupon_code.clone(),
        shipping_address: o.shipping_address.clone(),
        vendor_orders: parts
            .full
            .vendor_orders
            .iter()
            .map(|v| vendor_order(&parts.full, v, merchant, false))
            .collect(),
        payment_failure: o.payment_failure.clone(),
        payments: parts
            .payments
            .iter()
            .map(|p| PaymentOut {
                id: p.id,
                provider: p.provider.clone(),
                provider_ref: p.provider_ref.clone(),
                status: p.status,
                amount: p.amount,
                failure_code: p.failure_code.clone(),
                failure_message: p.failure_message.clone(),
                created_at: p.created_at,
            })
            .collect(),
        refunds: parts.refunds,
        returns: parts.returns,
        history: parts.history,
        expires_at: o.expires_at,
        placed_at: o.placed_at,
        paid_at: o.paid_at,
        order_token: None,
    }
}

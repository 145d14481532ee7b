//! An order as the shopper placed it: one order across vendors, a vendor order per vendor,
//! its lines, and the record of its moves. Plain data; `repo::orders` stores it, the use
//! cases change it through `lifecycle`'s rules.

use crate::domain::lifecycle::{OrderStatus, VendorOrderStatus};
use crate::domain::payment::PaymentId;
use crate::domain::{CartId, CouponId, OrderId, OrderLineId, VendorOrderId};
use chrono::{DateTime, Utc};
use mercato_inventory_api::ReservationId;
use mercato_kernel::Currency;
use mercato_tenant_context::{ProductId, UserId, VariantId, VendorId};
use serde::{Deserialize, Serialize};

/// Where the order goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ShippingAddress)]
pub struct Address {
    /// 1 to 200 characters, not blank.
    #[schema(min_length = 1, max_length = 200, pattern = "\\S")]
    pub name: String,
    /// 1 to 200 characters, not blank.
    #[schema(min_length = 1, max_length = 200, pattern = "\\S")]
    pub line1: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line2: Option<String>,
    /// 1 to 100 characters, not blank.
    #[schema(min_length = 1, max_length = 100, pattern = "\\S")]
    pub city: String,
    /// 1 to 20 characters, not blank.
    #[schema(min_length = 1, max_length = 20, pattern = "\\S")]
    pub postal_code: String,
    /// ISO 3166-1 alpha-2, e.g. `DE`.
    #[schema(pattern = "^[A-Za-z]{2}$")]
    pub country: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// One rate's share of the order's tax.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TaxLine {
    pub country: Option<String>,
    pub category: String,
    /// Percent, e.g. `19`.
    pub rate: String,
    pub taxable: i64,
    pub tax: i64,
}

/// Why the last payment attempt failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PaymentFailure {
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone)]
pub struct Order {
    pub id: OrderId,
    pub cart: CartId,
    pub customer: Option<UserId>,
    pub email: String,
    pub status: OrderStatus,
    pub currency: Currency,
    pub subtotal: i64,
    pub discount: i64,
    pub shipping: i64,
    pub tax: i64,
    pub total: i64,
    pub refunded: i64,
    pub prices_include_tax: bool,
    pub shipping_address: Address,
    pub tax_breakdown: Vec<TaxLine>,
    pub coupon: Option<CouponId>,
    pub coupon_code: Option<String>,
    pub reservation: Option<ReservationId>,
    /// The SHA-256 of the guest's order token (`mercato_orders_api::token`), for
    /// `order.paid`; empty for orders placed before it was kept.
    pub token_hash: String,
    pub payment_failure: Option<PaymentFailure>,
    /// The payment attempt that paid the order (refunds go back through it).
    pub paid_by: Option<PaymentId>,
    pub expires_at: DateTime<Utc>,
    pub placed_at: DateTime<Utc>,
    pub paid_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct VendorOrder {
    pub id: VendorOrderId,
    pub order: OrderId,
    pub vendor: VendorId,
    pub status: VendorOrderStatus,
    pub subtotal: i64,
    pub discount: i64,
    /// `shop`, `vendor` or `shared` (both, by the coupon's percentage).
    pub discount_funded_by: String,
    /// The shop's and the vendor's parts of `discount`; they add up to it
    /// (`coupon::split_funding`).
    pub discount_by_shop: i64,
    pub discount_by_vendor: i64,
    pub shipping: i64,
    pub tax: i64,
    pub total: i64,
    pub commission: i64,
    pub earnings: i64,
    pub refunded: i64,
    pub carrier: Option<String>,
    pub tracking_number: Option<String>,
    pub shipped_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct OrderLine {
    pub id: OrderLineId,
    pub order: OrderId,
    pub vendor_order: VendorOrderId,
    pub position: i32,
    pub variant: VariantId,
    pub product: ProductId,
    pub title: String,
    pub sku: String,
    pub unit_price: i64,
    pub quantity: i64,
    pub subtotal: i64,
    pub discount: i64,
    pub tax: i64,
    pub tax_rate: String,
    pub total: i64,
    pub commission: i64,
    pub commission_rule: Option<String>,
    pub refunded_quantity: i64,
    pub refunded: i64,
}

/// An order with everything it is made of.
#[derive(Debug, Clone)]
pub struct FullOrder {
    pub order: Order,
    pub vendor_orders: Vec<VendorOrder>,
    pub lines: Vec<OrderLine>,
    /// The order's history, when this value has been written by checkout and has followed
    /// every move since (each is added as it is recorded); `None`: read it from the table.
    pub history: Option<Vec<Transition>>,
}

/// One recorded move of an order or vendor order.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Transition {
    /// `vor_…` when a vendor order moved; absent for the order itself.
    pub vendor_order_id: Option<VendorOrderId>,
    pub from: String,
    pub to: String,
    /// `usr_…`, `key_…`, `system` or `provider:<name>`.
    pub actor: String,
    pub reason: Option<String>,
    pub at: DateTime<Utc>,
}

//! The events the orders service publishes, all version [`VERSION`], with their payloads as
//! orders writes them into the outbox and as a consumer reads them back. Every payload
//! names who acted (`actor`: `usr_…`, `key_…`, `system`, a provider).
//!
//! | event | payload |
//! |---|---|
//! | `order.placed` | [`OrderPlaced`] |
//! | `order.<status>` of every other [`OrderStatus`] | [`OrderChanged`] |
//! | `order.payment_failed` | [`PaymentFailed`] |
//! | `vendor_order.<status>` | [`VendorOrderChanged`] |
//! | `refund.completed` | [`RefundCompleted`] |
//! | `return.requested`, `.accepted`, `.rejected` | [`ReturnChanged`] |
//! | `payment.fee_reported` | [`PaymentFeeReported`] |
//! | `payment.balance_imported` | [`ProviderBalanceImported`] |
//! | `tax_rate.set`, `tax_rate.deleted`, `tax_rate.republished` | [`TaxRateChanged`] |

use crate::lifecycle::{OrderStatus, VendorOrderStatus};
use crate::{OrderId, OrderLineId, PaymentId, RefundId, ReturnId, TaxRateId, VendorOrderId};
use mercato_inventory_api::ReservationId;
use mercato_kernel::Money;
use mercato_tenant_context::{UserId, VariantId, VendorId};
use serde::{Deserialize, Serialize};

/// The version of every payload below.
pub const VERSION: u32 = 1;

/// Every `order.*` event, for a subscription.
pub const ORDER_EVENTS: &str = "order.*";
/// Every `vendor_order.*` event, for a subscription.
pub const VENDOR_ORDER_EVENTS: &str = "vendor_order.*";
/// Every `return.*` event, for a subscription.
pub const RETURN_EVENTS: &str = "return.*";

pub const ORDER_PLACED: &str = "order.placed";
pub const ORDER_PAYMENT_REVIEW: &str = "order.payment_review";
pub const ORDER_PAID: &str = "order.paid";
pub const ORDER_COMPLETED: &str = "order.completed";
pub const ORDER_EXPIRED: &str = "order.expired";
pub const ORDER_CANCELLED: &str = "order.cancelled";
pub const ORDER_PARTIALLY_REFUNDED: &str = "order.partially_refunded";
pub const ORDER_REFUNDED: &str = "order.refunded";
/// A payment attempt of an order waiting for payment failed; the order still waits.
pub const ORDER_PAYMENT_FAILED: &str = "order.payment_failed";

pub const VENDOR_ORDER_TO_FULFIL: &str = "vendor_order.to_fulfil";
pub const VENDOR_ORDER_SHIPPED: &str = "vendor_order.shipped";
pub const VENDOR_ORDER_DELIVERED: &str = "vendor_order.delivered";
pub const VENDOR_ORDER_CANCELLED: &str = "vendor_order.cancelled";

/// A refund was carried out by the payment provider.
pub const REFUND_COMPLETED: &str = "refund.completed";

/// The provider reported the fee it took on a captured payment.
pub const PAYMENT_FEE_REPORTED: &str = "payment.fee_reported";
/// A page of the provider's balance transactions of the shop was imported.
pub const PAYMENT_BALANCE_IMPORTED: &str = "payment.balance_imported";

pub const RETURN_REQUESTED: &str = "return.requested";
pub const RETURN_ACCEPTED: &str = "return.accepted";
pub const RETURN_REJECTED: &str = "return.rejected";

/// `order.placed`: an order and its vendor orders were created, waiting for payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderPlaced {
    pub order_id: OrderId,
    pub status: OrderStatus,
    /// Inventory's reservation holding the units.
    pub reservation_id: Option<ReservationId>,
    /// The signed-in shopper; `None` for a guest.
    pub customer_id: Option<UserId>,
    pub total: Money,
    pub vendor_orders: Vec<PlacedVendorOrder>,
    pub actor: String,
}

/// One vendor's part of a placed order: what the shopper pays for it, the shop's
/// commission and the vendor's earnings (`total - commission`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlacedVendorOrder {
    pub vendor_order_id: VendorOrderId,
    pub vendor_id: VendorId,
    pub total: Money,
    pub commission: Money,
    pub earnings: Money,
}

/// Units of one variant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Units {
    pub variant_id: VariantId,
    pub quantity: i64,
}

/// `order.<status>`: an order moved from `previous_status` to `status` (the event's name
/// is [`OrderStatus::event_name`] of `status`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderChanged {
    pub order_id: OrderId,
    pub status: OrderStatus,
    pub previous_status: OrderStatus,
    /// Inventory's reservation holding the units.
    pub reservation_id: Option<ReservationId>,
    pub customer_id: Option<UserId>,
    pub total: Money,
    /// Refunded so far.
    pub refunded: Money,
    /// Units sold, per variant (refunded units excluded).
    pub lines: Vec<Units>,
    /// Put the units back into stock (a cancellation after payment).
    pub restock: bool,
    pub vendor_order_ids: Vec<VendorOrderId>,
    /// What each vendor order is made of, in money (what a ledger books on payment).
    #[serde(default)]
    pub vendor_orders: Vec<VendorOrderMoney>,
    pub actor: String,
    pub reason: Option<String>,
    /// What an invoice needs beyond the money: the buyer and the lines. On `order.paid`
    /// only; absent in events written before it (and on every other status).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice: Option<InvoiceDetails>,
}

/// The buyer and the lines of a paid order, for the invoices accounting issues per vendor
/// order. Amounts in minor units of the order's currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceDetails {
    pub buyer: InvoiceParty,
    /// Whether the lines' prices include their tax.
    pub prices_include_tax: bool,
    /// Every vendor's store name, as the order knew it.
    #[serde(default)]
    pub sellers: Vec<InvoiceSeller>,
    pub lines: Vec<InvoiceLine>,
    /// The hash of the order's guest token (`crate::token::token_hash`), so the invoices'
    /// owner can let a guest holding the token read the order's documents without asking
    /// orders. Never the token itself; absent in events written before it and for orders
    /// placed before orders kept it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_token_hash: Option<String>,
}

/// Who an invoice is addressed to: a name and the address lines as printed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceParty {
    pub name: String,
    pub address: Vec<String>,
    pub email: Option<String>,
}

/// A vendor's name on its invoices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceSeller {
    pub vendor_id: VendorId,
    pub name: String,
}

/// One order line as invoiced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceLine {
    pub vendor_order_id: VendorOrderId,
    pub title: String,
    pub sku: String,
    pub quantity: i64,
    pub unit_price: i64,
    /// The tax rate as a decimal percentage, e.g. `"19"` or `"7.5"`.
    pub tax_rate: String,
    pub tax: i64,
    /// The line's total after its discount.
    pub total: i64,
}

/// One vendor order's money, as orders priced it at checkout, in minor units of the order's
/// currency. `total = subtotal - discount + shipping (+ tax when prices exclude tax)`;
/// `earnings = total - tax + discount_by_shop - commission`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VendorOrderMoney {
    pub vendor_order_id: VendorOrderId,
    pub vendor_id: VendorId,
    /// The lines at the shop's displayed prices (gross when prices include tax).
    pub subtotal: i64,
    /// The discount the shop funds (it pays the vendor back).
    pub discount_by_shop: i64,
    /// The discount the vendor funds (off its own earnings).
    pub discount_by_vendor: i64,
    /// What the vendor charged for shipping (the vendor ships and earns it).
    pub shipping: i64,
    /// The tax in or on the total, shipping's included: the marketplace collects and owes it.
    pub tax: i64,
    /// What the shopper paid for this vendor order.
    pub total: i64,
    /// The shop's commission.
    pub commission: i64,
    /// What the vendor is owed.
    pub earnings: i64,
    /// Refunded so far.
    pub refunded: i64,
}

/// `order.payment_failed`: a payment attempt failed with the provider's code and message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentFailed {
    pub order_id: OrderId,
    pub payment_id: PaymentId,
    pub code: String,
    pub message: String,
    pub actor: String,
}

/// `vendor_order.<status>`: a vendor order moved (the event's name is
/// [`VendorOrderStatus::event_name`] of `status`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VendorOrderChanged {
    pub vendor_order_id: VendorOrderId,
    pub order_id: OrderId,
    pub vendor_id: VendorId,
    pub status: VendorOrderStatus,
    pub previous_status: VendorOrderStatus,
    pub total: Money,
    pub commission: Money,
    pub earnings: Money,
    pub carrier: Option<String>,
    pub tracking_number: Option<String>,
    pub actor: String,
    pub reason: Option<String>,
}

/// One vendor order's part of a refund, in minor units of the order's currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct VendorShare {
    pub vendor_order_id: VendorOrderId,
    pub amount: i64,
}

/// `refund.completed`: the provider carried out a refund of (part of) an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundCompleted {
    pub order_id: OrderId,
    pub refund_id: RefundId,
    /// Inventory's reservation that held the order's units.
    pub reservation_id: Option<ReservationId>,
    /// The vendor order refunded, when the refund is one vendor order's.
    pub vendor_order_id: Option<VendorOrderId>,
    pub amount: Money,
    /// Each vendor order's part of `amount`.
    pub shares: Vec<VendorShare>,
    /// A refund of a payment the order could not keep (it arrived after expiry or
    /// cancellation, or paid an order already paid): no vendor order's money.
    pub stray_payment: bool,
    /// Units to put back on the shelf; empty when the refund puts nothing back.
    pub restock_lines: Vec<Units>,
    pub actor: String,
}

/// Units of one order line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineUnits {
    pub line_id: OrderLineId,
    pub quantity: i64,
}

/// `return.requested|accepted|rejected`: a shopper's return request and its state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnChanged {
    pub id: ReturnId,
    pub order_id: OrderId,
    pub vendor_order_id: VendorOrderId,
    pub lines: Vec<LineUnits>,
    pub reason: String,
    /// `requested`, `accepted`, `rejected` or `refunded`.
    pub status: String,
    pub decided_by: Option<String>,
    pub decision_note: Option<String>,
    /// The refund an accepted return made.
    pub refund_id: Option<RefundId>,
    pub actor: String,
}

/// Every `tax_rate.*` event, for a subscription.
pub const TAX_RATE_EVENTS: &str = "tax_rate.*";
/// Merchant staff set a tax rate (new, or a new rate for its country and category).
pub const TAX_RATE_SET: &str = "tax_rate.set";
/// Merchant staff removed a tax rate; the payload is the rate as it was, `deleted`.
pub const TAX_RATE_DELETED: &str = "tax_rate.deleted";
/// A rate's current state announced again for consumers catching up (`mercato events
/// republish orders`).
pub const TAX_RATE_REPUBLISHED: &str = "tax_rate.republished";

/// `tax_rate.*`: one of the shop's tax rates as it now is (accounting mirrors them to put
/// VAT on its commission invoices, ADR 0043).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxRateChanged {
    pub tax_rate_id: TaxRateId,
    /// ISO 3166-1 alpha-2 destination country.
    pub country: String,
    /// `standard` or another tax category.
    pub category: String,
    /// A decimal percentage, 0 to 100: `"19"`, `"7.5"`.
    pub rate: String,
    /// Removed (always on `tax_rate.deleted`).
    #[serde(default)]
    pub deleted: bool,
    pub actor: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_names_follow_the_lifecycle() {
        assert_eq!(OrderStatus::PendingPayment.event_name(), ORDER_PLACED);
        assert_eq!(OrderStatus::Paid.event_name(), ORDER_PAID);
        assert_eq!(OrderStatus::Refunded.event_name(), ORDER_REFUNDED);
        assert_eq!(
            VendorOrderStatus::Shipped.event_name(),
            VENDOR_ORDER_SHIPPED
        );
        assert_eq!(
            VendorOrderStatus::Cancelled.event_name(),
            VENDOR_ORDER_CANCELLED
        );
    }

    #[test]
    fn an_order_event_reads_back_as_published() {
        let eur = mercato_kernel::Currency::parse("EUR").unwrap();
        let event = OrderChanged {
            order_id: OrderId::new(),
            status: OrderStatus::Cancelled,
            previous_status: OrderStatus::Paid,
            reservation_id: Some(ReservationId::new()),
            customer_id: None,
            total: Money::new(2_500, eur),
            refunded: Money::zero(eur),
            lines: vec![Units {
                variant_id: VariantId::new(),
                quantity: 2,
            }],
            restock: true,
            vendor_order_ids: vec![VendorOrderId::new()],
            vendor_orders: Vec::new(),
            actor: "system".into(),
            reason: Some("shopper asked".into()),
            invoice: None,
        };
        let payload = serde_json::to_value(&event).unwrap();
        assert_eq!(payload["status"], "cancelled");
        assert_eq!(payload["previous_status"], "paid");
        assert_eq!(payload["lines"][0]["quantity"], 2);
        assert_eq!(
            serde_json::from_value::<OrderChanged>(payload).unwrap(),
            event
        );
    }
}

/// One movement of the shop's money at the payment provider, as its balance shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderBalanceTransaction {
    /// The provider's id (`txn_…`).
    pub id: String,
    /// `charge`, `refund`, `transfer` or `adjustment`.
    pub kind: String,
    /// The provider's object it is about (intent or charge, refund, transfer).
    pub source: String,
    /// What Mercato knows it by: the order of a charge, the refund of a refund, the payout of
    /// a transfer; empty when none.
    pub reference: String,
    /// Signed: what came in (a charge, gross) or went out (negative).
    pub amount: Money,
    /// What the provider took.
    pub fee: i64,
    /// `amount − fee`.
    pub net: i64,
    /// When the provider made it, in seconds since the epoch (UTC).
    pub created: i64,
}

/// `payment.fee_reported`: the provider reported the fee on a captured payment of an order;
/// `charge` is the payment's balance transaction (`charge.fee` is the fee).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentFeeReported {
    pub order_id: OrderId,
    pub payment_id: PaymentId,
    pub provider: String,
    /// The provider's intent.
    pub provider_ref: String,
    pub charge: ProviderBalanceTransaction,
}

/// `payment.balance_imported`: the provider's balance transactions of the shop, oldest
/// first, as an import job copied them (a transaction may come again in a later import).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderBalanceImported {
    pub provider: String,
    pub transactions: Vec<ProviderBalanceTransaction>,
}

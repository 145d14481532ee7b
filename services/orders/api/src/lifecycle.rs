//! The lifecycle of an order and of its vendor orders.
//!
//! # Order
//!
//! - `pending_payment` → `paid` (payment captured), `expired` (not paid in time), `cancelled`,
//!   `payment_review` (the provider reported a payment whose amount or currency is not the
//!   order's: it does not pay the order until merchant staff look at it);
//! - `payment_review` → `paid` (staff accept the payment), `cancelled` (staff refund it);
//! - `paid` → `completed` (every vendor order delivered), `cancelled`, `partially_refunded`,
//!   `refunded`;
//! - `partially_refunded` → `partially_refunded` (another partial refund), `refunded` (the
//!   rest refunded), `completed`;
//! - `completed` → `partially_refunded`, `refunded` (returns after delivery).
//!
//! `expired`, `cancelled` and `refunded` are final. No other move is allowed, and a status
//! does not "move" to itself except `partially_refunded`.
//!
//! # Vendor order
//!
//! `awaiting_payment` → `to_fulfil` (the order was paid) or `cancelled`; `to_fulfil` →
//! `shipped` or `cancelled`; `shipped` → `delivered`. `delivered` and `cancelled` are final.
//!
//! An order is **completed** by its vendor orders ([`order_status_after_vendor_orders`]) when
//! it is paid (or partially refunded) and every vendor order that was not cancelled has been
//! delivered — at least one.
//!
//! Statuses are stored as their [`code`](OrderStatus::code) text, which is also their JSON
//! form. Each move publishes the event named by [`event_name`](OrderStatus::event_name) of
//! the status entered.

use crate::events;
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    PendingPayment,
    PaymentReview,
    Paid,
    Completed,
    Expired,
    Cancelled,
    PartiallyRefunded,
    Refunded,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VendorOrderStatus {
    AwaitingPayment,
    ToFulfil,
    Shipped,
    Delivered,
    Cancelled,
}

/// A move the lifecycle does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidTransition<S> {
    pub from: S,
    pub to: S,
}

impl<S> InvalidTransition<S> {
    /// A stable error code for API clients.
    pub fn code(&self) -> &'static str {
        "invalid_transition"
    }
}

impl fmt::Display for InvalidTransition<OrderStatus> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "an order that is {} cannot become {}",
            self.from.label(),
            self.to.label()
        )
    }
}

impl fmt::Display for InvalidTransition<VendorOrderStatus> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "a vendor order that is {} cannot become {}",
            self.from.label(),
            self.to.label()
        )
    }
}

impl std::error::Error for InvalidTransition<OrderStatus> {}
impl std::error::Error for InvalidTransition<VendorOrderStatus> {}

impl OrderStatus {
    pub const ALL: [Self; 8] = [
        Self::PendingPayment,
        Self::PaymentReview,
        Self::Paid,
        Self::Completed,
        Self::Expired,
        Self::Cancelled,
        Self::PartiallyRefunded,
        Self::Refunded,
    ];

    /// The stored and JSON text.
    pub fn code(self) -> &'static str {
        match self {
            Self::PendingPayment => "pending_payment",
            Self::PaymentReview => "payment_review",
            Self::Paid => "paid",
            Self::Completed => "completed",
            Self::Expired => "expired",
            Self::Cancelled => "cancelled",
            Self::PartiallyRefunded => "partially_refunded",
            Self::Refunded => "refunded",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    /// Words for messages: `pending payment`.
    pub fn label(self) -> &'static str {
        match self {
            Self::PendingPayment => "pending payment",
            Self::PaymentReview => "under payment review",
            Self::Paid => "paid",
            Self::Completed => "completed",
            Self::Expired => "expired",
            Self::Cancelled => "cancelled",
            Self::PartiallyRefunded => "partially refunded",
            Self::Refunded => "refunded",
        }
    }

    pub fn can_become(self, next: Self) -> bool {
        use OrderStatus::*;
        matches!(
            (self, next),
            (PendingPayment, Paid | Expired | Cancelled | PaymentReview)
                | (PaymentReview, Paid | Cancelled)
                | (Paid, Completed | Cancelled | PartiallyRefunded | Refunded)
                | (PartiallyRefunded, PartiallyRefunded | Refunded | Completed)
                | (Completed, PartiallyRefunded | Refunded)
        )
    }

    pub fn transition(self, next: Self) -> Result<Self, InvalidTransition<Self>> {
        if self.can_become(next) {
            Ok(next)
        } else {
            Err(InvalidTransition {
                from: self,
                to: next,
            })
        }
    }

    /// The event published when an order enters this status; an order is created
    /// `pending_payment`, announced as `order.placed`.
    pub fn event_name(self) -> &'static str {
        match self {
            Self::PendingPayment => events::ORDER_PLACED,
            Self::PaymentReview => events::ORDER_PAYMENT_REVIEW,
            Self::Paid => events::ORDER_PAID,
            Self::Completed => events::ORDER_COMPLETED,
            Self::Expired => events::ORDER_EXPIRED,
            Self::Cancelled => events::ORDER_CANCELLED,
            Self::PartiallyRefunded => events::ORDER_PARTIALLY_REFUNDED,
            Self::Refunded => events::ORDER_REFUNDED,
        }
    }

    /// No move leaves this status.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Expired | Self::Cancelled | Self::Refunded)
    }
}

impl VendorOrderStatus {
    pub const ALL: [Self; 5] = [
        Self::AwaitingPayment,
        Self::ToFulfil,
        Self::Shipped,
        Self::Delivered,
        Self::Cancelled,
    ];

    /// The stored and JSON text.
    pub fn code(self) -> &'static str {
        match self {
            Self::AwaitingPayment => "awaiting_payment",
            Self::ToFulfil => "to_fulfil",
            Self::Shipped => "shipped",
            Self::Delivered => "delivered",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    /// Words for messages: `awaiting payment`.
    pub fn label(self) -> &'static str {
        match self {
            Self::AwaitingPayment => "awaiting payment",
            Self::ToFulfil => "to fulfil",
            Self::Shipped => "shipped",
            Self::Delivered => "delivered",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn can_become(self, next: Self) -> bool {
        use VendorOrderStatus::*;
        matches!(
            (self, next),
            (AwaitingPayment, ToFulfil | Cancelled)
                | (ToFulfil, Shipped | Cancelled)
                | (Shipped, Delivered)
        )
    }

    pub fn transition(self, next: Self) -> Result<Self, InvalidTransition<Self>> {
        if self.can_become(next) {
            Ok(next)
        } else {
            Err(InvalidTransition {
                from: self,
                to: next,
            })
        }
    }

    /// The event published when a vendor order enters this status. Vendor orders are
    /// created `awaiting_payment` together with their order, which `order.placed` announces;
    /// `vendor_order.placed` is named for completeness and is not part of the event contract.
    pub fn event_name(self) -> &'static str {
        match self {
            Self::AwaitingPayment => "vendor_order.placed",
            Self::ToFulfil => events::VENDOR_ORDER_TO_FULFIL,
            Self::Shipped => events::VENDOR_ORDER_SHIPPED,
            Self::Delivered => events::VENDOR_ORDER_DELIVERED,
            Self::Cancelled => events::VENDOR_ORDER_CANCELLED,
        }
    }

    /// No move leaves this status.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Delivered | Self::Cancelled)
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Display for VendorOrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// `Some(Completed)` when the order is paid or partially refunded and every vendor order
/// not cancelled has been delivered (at least one); `None` otherwise (nothing to change).
pub fn order_status_after_vendor_orders(
    current: OrderStatus,
    vendor_statuses: &[VendorOrderStatus],
) -> Option<OrderStatus> {
    let completable = matches!(current, OrderStatus::Paid | OrderStatus::PartiallyRefunded);
    let mut live = vendor_statuses
        .iter()
        .filter(|s| **s != VendorOrderStatus::Cancelled)
        .peekable();
    let any_live = live.peek().is_some();
    let all_delivered = live.all(|s| *s == VendorOrderStatus::Delivered);
    (completable && any_live && all_delivered).then_some(OrderStatus::Completed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use OrderStatus as O;
    use VendorOrderStatus as V;

    #[test]
    fn order_moves_are_exactly_the_listed_ones() {
        let allowed = [
            (O::PendingPayment, O::Paid),
            (O::PendingPayment, O::Expired),
            (O::PendingPayment, O::Cancelled),
            (O::PendingPayment, O::PaymentReview),
            (O::PaymentReview, O::Paid),
            (O::PaymentReview, O::Cancelled),
            (O::Paid, O::Completed),
            (O::Paid, O::Cancelled),
            (O::Paid, O::PartiallyRefunded),
            (O::Paid, O::Refunded),
            (O::PartiallyRefunded, O::PartiallyRefunded),
            (O::PartiallyRefunded, O::Refunded),
            (O::PartiallyRefunded, O::Completed),
            (O::Completed, O::PartiallyRefunded),
            (O::Completed, O::Refunded),
        ];
        for from in O::ALL {
            for to in O::ALL {
                let listed = allowed.contains(&(from, to));
                assert_eq!(from.can_become(to), listed, "{from} → {to}");
                match from.transition(to) {
                    Ok(next) => {
                        assert!(listed);
                        assert_eq!(next, to);
                    }
                    Err(e) => {
                        assert!(!listed);
                        assert_eq!(e, InvalidTransition { from, to });
                    }
                }
            }
            let has_exit = O::ALL.iter().any(|to| from.can_become(*to));
            assert_eq!(from.is_final(), !has_exit, "{from}");
        }
    }

    #[test]
    fn vendor_order_moves_are_exactly_the_listed_ones() {
        let allowed = [
            (V::AwaitingPayment, V::ToFulfil),
            (V::AwaitingPayment, V::Cancelled),
            (V::ToFulfil, V::Shipped),
            (V::ToFulfil, V::Cancelled),
            (V::Shipped, V::Delivered),
        ];
        for from in V::ALL {
            for to in V::ALL {
                let listed = allowed.contains(&(from, to));
                assert_eq!(from.can_become(to), listed, "{from} → {to}");
                assert_eq!(from.transition(to).is_ok(), listed);
                if !listed {
                    assert_eq!(from.transition(to), Err(InvalidTransition { from, to }));
                }
            }
            let has_exit = V::ALL.iter().any(|to| from.can_become(*to));
            assert_eq!(from.is_final(), !has_exit, "{from}");
        }
    }

    #[test]
    fn codes_round_trip_and_match_json() {
        for s in O::ALL {
            assert_eq!(O::parse(s.code()), Some(s));
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.code())
            );
            assert!(s.event_name().starts_with("order."));
        }
        for s in V::ALL {
            assert_eq!(V::parse(s.code()), Some(s));
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.code())
            );
            assert_eq!(
                s.event_name().split_once('.').map(|(kind, _)| kind),
                Some("vendor_order")
            );
        }
        assert_eq!(O::parse("Paid"), None);
        assert_eq!(V::parse(""), None);
        assert_eq!(O::Paid.event_name(), "order.paid");
        assert_eq!(O::Expired.event_name(), "order.expired");
        assert_eq!(O::PendingPayment.event_name(), "order.placed");
        assert_eq!(V::Shipped.event_name(), "vendor_order.shipped");
        assert_eq!(V::ToFulfil.event_name(), "vendor_order.to_fulfil");
    }

    #[test]
    fn invalid_moves_explain_themselves() {
        let e = O::Refunded.transition(O::Paid).unwrap_err();
        assert_eq!(
            e.to_string(),
            "an order that is refunded cannot become paid"
        );
        assert_eq!(e.code(), "invalid_transition");
        let e = V::Delivered.transition(V::Cancelled).unwrap_err();
        assert_eq!(
            e.to_string(),
            "a vendor order that is delivered cannot become cancelled"
        );
    }

    #[test]
    fn an_order_completes_when_every_live_vendor_order_is_delivered() {
        let after = order_status_after_vendor_orders;
        assert_eq!(
            after(O::Paid, &[V::Delivered, V::Delivered]),
            Some(O::Completed)
        );
        assert_eq!(
            after(O::Paid, &[V::Delivered, V::Cancelled]),
            Some(O::Completed)
        );
        assert_eq!(
            after(O::PartiallyRefunded, &[V::Delivered]),
            Some(O::Completed)
        );
        assert_eq!(after(O::Paid, &[V::Delivered, V::Shipped]), None);
        assert_eq!(after(O::Paid, &[V::Cancelled, V::Cancelled]), None);
        assert_eq!(after(O::Paid, &[]), None);
        for status in [
            O::PendingPayment,
            O::Completed,
            O::Expired,
            O::Cancelled,
            O::Refunded,
        ] {
            assert_eq!(after(status, &[V::Delivered]), None, "{status}");
        }
        // Whenever it says complete, the move is allowed.
        for status in O::ALL {
            if let Some(next) = after(status, &[V::Delivered]) {
                assert!(status.can_become(next));
            }
        }
    }
}

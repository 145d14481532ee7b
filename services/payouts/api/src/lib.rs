//! What the payouts service lets other crates depend on (ADR 0028): the ids of what it owns,
//! a payout's state machine and the payloads of the events it publishes. No database, no
//! HTTP server, no I/O.
//!
//! | event | payload |
//! |---|---|
//! | `payout.pending`, `payout.in_transit`, `payout.paid`, `payout.failed` | [`PayoutChanged`] (with the vendor orders it covers on `payout.paid`) |

use mercato_kernel::Money;
use mercato_orders_api::{OrderId, VendorOrderId};
use mercato_tenant_context::VendorId;
use serde::{Deserialize, Serialize};

mercato_kernel::typed_id!(
    /// Money sent to one vendor in one currency.
    pub PayoutId, "po"
);
mercato_kernel::typed_id!(
    /// One run that pays every due vendor of a shop once.
    pub PayoutRunId, "prun"
);

/// The version of every payload below.
pub const VERSION: u32 = 1;
/// Every `payout.*` event, for a subscription.
pub const PAYOUT_EVENTS: &str = "payout.*";
pub const PAYOUT_PENDING: &str = "payout.pending";
pub const PAYOUT_IN_TRANSIT: &str = "payout.in_transit";
pub const PAYOUT_PAID: &str = "payout.paid";
pub const PAYOUT_FAILED: &str = "payout.failed";

/// Where a payout is (ADR 0041): `pending` (the money is set aside from the vendor's
/// balance, not yet with the provider) → `in_transit` (the provider accepted it) → `paid`,
/// or `failed` from either of the first two (the money returns to the balance); and
/// `paid` → `failed` when the provider reverses the transfer (ADR 0044), which
/// `payout.failed` announces with `previous_status: paid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PayoutStatus {
    Pending,
    InTransit,
    Paid,
    Failed,
}

impl PayoutStatus {
    pub const ALL: [Self; 4] = [Self::Pending, Self::InTransit, Self::Paid, Self::Failed];

    pub fn code(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::InTransit => "in_transit",
            Self::Paid => "paid",
            Self::Failed => "failed",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    /// The event announcing a payout now in this status.
    pub fn event_name(self) -> &'static str {
        match self {
            Self::Pending => PAYOUT_PENDING,
            Self::InTransit => PAYOUT_IN_TRANSIT,
            Self::Paid => PAYOUT_PAID,
            Self::Failed => PAYOUT_FAILED,
        }
    }

    /// Whether a payout may move from `self` to `next`. `paid` and `failed` are final.
    pub fn can_become(self, next: Self) -> bool {
        matches!(
            (self, next),
            (Self::Pending, Self::InTransit | Self::Paid | Self::Failed)
                | (Self::InTransit, Self::Paid | Self::Failed)
        )
    }

    /// Whether the provider may take back a payout in `self`, which then becomes `failed`
    /// (a Stripe transfer reversed after it was made, ADR 0044): the one move out of
    /// `paid`, never made by hand ([`Self::can_become`] keeps `paid` final for those).
    pub fn can_be_reversed(self) -> bool {
        matches!(self, Self::InTransit | Self::Paid)
    }

    /// Whether the money has left (or is leaving) the vendor's balance for good.
    pub fn holds_money(self) -> bool {
        !matches!(self, Self::Failed)
    }
}

/// `payout.<status>`: a payout moved to `status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayoutChanged {
    pub payout_id: PayoutId,
    pub run_id: Option<PayoutRunId>,
    pub vendor_id: VendorId,
    pub amount: Money,
    pub status: PayoutStatus,
    pub previous_status: Option<PayoutStatus>,
    /// `test`, `stripe_connect` or `bank_transfer`.
    pub method: String,
    /// The provider's reference (a transfer id), once it has one.
    pub reference: Option<String>,
    /// Why it failed.
    pub failure: Option<String>,
    pub actor: String,
    /// The vendor orders whose earnings the payout covers, with the commission the shop
    /// kept on each (ADR 0043): on `payout.paid`, for the shop's commission invoice. Empty
    /// on the other events, and on payouts made before payouts recorded them.
    #[serde(default)]
    pub items: Vec<PayoutItem>,
}

/// One vendor order a payout covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayoutItem {
    pub vendor_order_id: VendorOrderId,
    pub order_id: OrderId,
    /// The commission kept on it, VAT included, less what refunds before the payout took
    /// back (minor units of the payout's currency).
    pub commission: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paid_and_failed_are_final() {
        for s in PayoutStatus::ALL {
            assert!(!PayoutStatus::Paid.can_become(s));
            assert!(!PayoutStatus::Failed.can_become(s));
            assert_eq!(PayoutStatus::parse(s.code()), Some(s));
        }
        assert!(PayoutStatus::Pending.can_become(PayoutStatus::InTransit));
        assert!(PayoutStatus::InTransit.can_become(PayoutStatus::Failed));
        assert!(!PayoutStatus::InTransit.can_become(PayoutStatus::Pending));
    }

    #[test]
    fn only_money_with_the_provider_can_be_reversed() {
        assert!(PayoutStatus::Paid.can_be_reversed());
        assert!(PayoutStatus::InTransit.can_be_reversed());
        assert!(!PayoutStatus::Pending.can_be_reversed());
        assert!(!PayoutStatus::Failed.can_be_reversed());
    }

    #[test]
    fn a_payout_event_reads_back_as_published() {
        let event = PayoutChanged {
            payout_id: PayoutId::new(),
            run_id: Some(PayoutRunId::new()),
            vendor_id: VendorId::new(),
            amount: Money::new(1_234, mercato_kernel::Currency::parse("EUR").unwrap()),
            status: PayoutStatus::Paid,
            previous_status: Some(PayoutStatus::InTransit),
            method: "test".into(),
            reference: Some("tr_1".into()),
            failure: None,
            actor: "svc_payouts".into(),
            items: vec![PayoutItem {
                vendor_order_id: VendorOrderId::new(),
                order_id: OrderId::new(),
                commission: 225,
            }],
        };
        let json = serde_json::to_string(&event).unwrap();
        assert_eq!(serde_json::from_str::<PayoutChanged>(&json).unwrap(), event);
        assert!(json.contains("\"status\":\"paid\""));
        // A payout event from before items existed still reads.
        let mut older = serde_json::to_value(&event).unwrap();
        older.as_object_mut().unwrap().remove("items");
        let read: PayoutChanged = serde_json::from_value(older).unwrap();
        assert!(read.items.is_empty());
    }
}

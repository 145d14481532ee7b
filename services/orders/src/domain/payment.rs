//! Money in and out of an order: payment attempts, refunds (by lines or amounts, shared out
//! over vendor orders) and returns.

use crate::domain::{OrderId, RefundId, ReturnId, VendorOrderId};
use chrono::{DateTime, Utc};
use mercato_kernel::Money;
use serde::{Deserialize, Serialize};

pub use mercato_orders_api::PaymentId;
pub use mercato_orders_api::events::VendorShare;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    /// Recorded; the provider has not answered yet.
    Created,
    /// Waiting for the shopper (3-D Secure) or for the provider's webhook.
    Processing,
    Succeeded,
    Failed,
    Canceled,
}

impl PaymentStatus {
    pub fn code(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Processing => "processing",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Canceled => "canceled",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::Created,
            Self::Processing,
            Self::Succeeded,
            Self::Failed,
            Self::Canceled,
        ]
        .into_iter()
        .find(|s| s.code() == text)
    }
}

#[derive(Debug, Clone)]
pub struct Payment {
    pub id: PaymentId,
    pub order: OrderId,
    pub provider: String,
    pub provider_ref: Option<String>,
    pub amount: Money,
    pub status: PaymentStatus,
    pub failure_code: Option<String>,
    pub failure_message: Option<String>,
    /// The `Idempotency-Key` a retried payment came with.
    pub idempotency_key: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Units of one order line a refund or return covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LineQuantity {
    /// `orl_…`.
    pub line_id: crate::domain::OrderLineId,
    pub quantity: i64,
    /// What these units give back, in minor units (refunds; 0 on a return request).
    #[serde(default)]
    pub amount: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RefundStatus {
    /// Recorded; the provider has not carried it out yet.
    Pending,
    Succeeded,
    /// The provider refused it; the amounts it held were given back to the order.
    Failed,
}

impl RefundStatus {
    pub fn code(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Refund {
    pub id: RefundId,
    pub order_id: OrderId,
    pub vendor_order_id: Option<VendorOrderId>,
    /// A refund of a payment the order could not keep (it arrived after expiry or
    /// cancellation, or paid an order already paid): it does not count against the order.
    pub stray_payment: bool,
    pub amount: Money,
    pub reason: String,
    pub restock: bool,
    pub lines: Vec<LineQuantity>,
    /// How much each vendor order gives back.
    pub shares: Vec<VendorShare>,
    pub status: RefundStatus,
    pub provider_ref: Option<String>,
    #[serde(skip)]
    pub payment: PaymentId,
    #[serde(skip)]
    pub idempotency_key: String,
    #[serde(skip)]
    pub request_hash: String,
    pub actor: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReturnStatus {
    Requested,
    Accepted,
    Rejected,
    Refunded,
}

impl ReturnStatus {
    pub fn code(self) -> &'static str {
        match self {
            Self::Requested => "requested",
            Self::Accepted => "accepted",
            Self::Rejected => "rejected",
            Self::Refunded => "refunded",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::Requested,
            Self::Accepted,
            Self::Rejected,
            Self::Refunded,
        ]
        .into_iter()
        .find(|s| s.code() == text)
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Return {
    pub id: ReturnId,
    pub order_id: OrderId,
    pub vendor_order_id: VendorOrderId,
    pub lines: Vec<LineQuantity>,
    pub reason: String,
    pub status: ReturnStatus,
    pub decided_by: Option<String>,
    pub decision_note: Option<String>,
    pub refund_id: Option<RefundId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

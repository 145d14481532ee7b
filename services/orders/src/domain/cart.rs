//! A shopper's cart: lines of variants at the price the shopper last saw.

use crate::domain::{CartId, CartLineId};
use chrono::{DateTime, Utc};
use mercato_tenant_context::{UserId, VariantId};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CartStatus {
    Open,
    /// Checked out: its order exists.
    Ordered,
    /// Merged into the customer's cart on login.
    Merged,
    Expired,
}

impl CartStatus {
    pub fn code(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Ordered => "ordered",
            Self::Merged => "merged",
            Self::Expired => "expired",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Open, Self::Ordered, Self::Merged, Self::Expired]
            .into_iter()
            .find(|s| s.code() == text)
    }
}

#[derive(Debug, Clone)]
pub struct Cart {
    pub id: CartId,
    pub customer: Option<UserId>,
    pub status: CartStatus,
    pub country: Option<String>,
    pub coupon_code: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub lines: Vec<CartLine>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CartLine {
    pub id: CartLineId,
    pub variant: VariantId,
    pub quantity: i64,
    /// The unit price the shopper last saw; a different catalog price is flagged.
    pub seen_price: i64,
}

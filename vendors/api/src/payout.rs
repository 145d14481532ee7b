//! A vendor's payout terms as other services see them: the schedule, and the payload of
//! `payout_account.updated` (no bank details beyond the masked IBAN; the payouts service
//! keeps a mirror of it to know whom to pay, how, when and from what amount).

use mercato_kernel::{Currency, Money};
use mercato_tenant_context::VendorId;
use serde::{Deserialize, Serialize};

/// Published when a vendor's payout account is saved.
pub const PAYOUT_ACCOUNT_UPDATED: &str = "payout_account.updated";

/// How often payouts run for the vendor; `manual` waits for the merchant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PayoutSchedule {
    Daily,
    Weekly,
    Monthly,
    Manual,
}

impl PayoutSchedule {
    pub fn code(self) -> &'static str {
        match self {
            Self::Daily => "daily",
            Self::Weekly => "weekly",
            Self::Monthly => "monthly",
            Self::Manual => "manual",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Some(match code {
            "daily" => Self::Daily,
            "weekly" => Self::Weekly,
            "monthly" => Self::Monthly,
            "manual" => Self::Manual,
            _ => return None,
        })
    }
}

/// `payout_account.updated`: the vendor's payout terms as saved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayoutAccountUpdated {
    pub vendor_id: VendorId,
    /// `bank_transfer` or `stripe_connect`.
    pub method: String,
    /// `DE89********3000`-style, bank transfers only.
    pub iban_masked: Option<String>,
    /// The connected account (`acct_…`), Stripe Connect only.
    pub stripe_account_id: Option<String>,
    pub schedule: PayoutSchedule,
    pub minimum_payout: Money,
    pub currency: Currency,
    pub actor: String,
}

//! A shop's plan as services need it: its limits and enabled feature flags. The gateway
//! resolves them with the shop and forwards them in the signed context, so a service checks
//! a limit where the thing is created without asking the tenants service.

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// What a plan allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PlanLimits {
    /// Merchant staff accounts, owner included (pending invitations count).
    pub staff_seats: u32,
    /// Sustained API requests per second for the whole shop.
    pub api_requests_per_second: u32,
    /// Requests allowed in a burst above the sustained rate.
    pub api_burst: u32,
    pub custom_domains: u32,
    pub products: u32,
    pub vendors: u32,
    pub storage_mb: u32,
}

/// The shop's plan code, limits and the feature flags that are on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShopTerms {
    pub plan: String,
    pub limits: PlanLimits,
    pub features: BTreeSet<String>,
}

impl ShopTerms {
    pub fn has(&self, feature: &str) -> bool {
        self.features.contains(feature)
    }
}

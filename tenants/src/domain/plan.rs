//! Plans and their limits. A shop's feature flags start from its plan's defaults and can be
//! overridden per shop by a platform admin.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Plan {
    Free,
    Growth,
    Scale,
}

/// What a plan allows (shared with every service through the signed context).
pub type Limits = mercato_tenant_context::PlanLimits;

/// Feature flags every shop has; the plan sets the default.
pub const FEATURES: &[&str] = &["api_keys", "custom_domains", "pdf_reports", "webhooks"];

impl Plan {
    pub const ALL: [Plan; 3] = [Plan::Free, Plan::Growth, Plan::Scale];

    pub fn code(self) -> &'static str {
        match self {
            Plan::Free => "free",
            Plan::Growth => "growth",
            Plan::Scale => "scale",
        }
    }

    pub fn parse(code: &str) -> Option<Plan> {
        Plan::ALL.into_iter().find(|p| p.code() == code)
    }

    pub fn limits(self) -> Limits {
        match self {
            Plan::Free => Limits {
                staff_seats: 2,
                api_requests_per_second: 10,
                api_burst: 20,
                custom_domains: 1,
                products: 100,
                vendors: 5,
                storage_mb: 500,
            },
            Plan::Growth => Limits {
                staff_seats: 10,
                api_requests_per_second: 50,
                api_burst: 100,
                custom_domains: 5,
                products: 10_000,
                vendors: 100,
                storage_mb: 10_000,
            },
            Plan::Scale => Limits {
                staff_seats: 50,
                api_requests_per_second: 200,
                api_burst: 400,
                custom_domains: 20,
                products: 1_000_000,
                vendors: 5_000,
                storage_mb: 200_000,
            },
        }
    }

    pub fn default_feature(self, feature: &str) -> bool {
        match feature {
            "custom_domains" => true,
            "api_keys" | "webhooks" => self != Plan::Free,
            "pdf_reports" => self == Plan::Scale,
            _ => false,
        }
    }

    /// The shop's terms as forwarded to services: plan, limits, flags that are on.
    pub fn terms(self, overrides: &BTreeMap<String, bool>) -> mercato_tenant_context::ShopTerms {
        mercato_tenant_context::ShopTerms {
            plan: self.code().to_owned(),
            limits: self.limits(),
            features: self
                .features(overrides)
                .into_iter()
                .filter(|(_, on)| *on)
                .map(|(flag, _)| flag)
                .collect(),
        }
    }

    /// The plan's defaults with the shop's overrides applied.
    pub fn features(self, overrides: &BTreeMap<String, bool>) -> BTreeMap<String, bool> {
        FEATURES
            .iter()
            .map(|f| {
                (
                    (*f).to_owned(),
                    overrides
                        .get(*f)
                        .copied()
                        .unwrap_or_else(|| self.default_feature(f)),
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn higher_plans_never_allow_less() {
        for pair in Plan::ALL.windows(2) {
            let (lo, hi) = (pair[0].limits(), pair[1].limits());
            assert!(
                hi.staff_seats > lo.staff_seats
                    && hi.api_requests_per_second > lo.api_requests_per_second
            );
            assert!(hi.custom_domains > lo.custom_domains && hi.products > lo.products);
        }
    }

    #[test]
    fn overrides_win_over_plan_defaults() {
        let overrides = BTreeMap::from([("api_keys".to_owned(), true)]);
        let features = Plan::Free.features(&overrides);
        assert_eq!(features.get("api_keys"), Some(&true));
        assert_eq!(features.get("pdf_reports"), Some(&false));
        assert_eq!(features.len(), FEATURES.len());
    }
}

//! Vendors as the catalog knows them: a local mirror fed by `vendor.*` events, enough to
//! decide who may list and whose listings shoppers see.

use mercato_tenant_context::{UserId, VendorId};

/// The vendor lifecycle states the vendors service publishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VendorStatus {
    Applied,
    Onboarding,
    InReview,
    Approved,
    Rejected,
    Suspended,
}

impl VendorStatus {
    pub fn code(self) -> &'static str {
        match self {
            Self::Applied => "applied",
            Self::Onboarding => "onboarding",
            Self::InReview => "in_review",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Suspended => "suspended",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Some(match code {
            "applied" => Self::Applied,
            "onboarding" => Self::Onboarding,
            "in_review" => Self::InReview,
            "approved" => Self::Approved,
            "rejected" => Self::Rejected,
            "suspended" => Self::Suspended,
            _ => return None,
        })
    }
}

/// One vendor of the shop, as of the latest `vendor.*` event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VendorMirror {
    pub id: VendorId,
    pub slug: String,
    pub store_name: String,
    pub status: VendorStatus,
    /// The applicant: counts as the vendor's owner even before their token says so.
    pub owner: UserId,
    /// When the event this row reflects happened; older events do not overwrite it.
    pub event_at: chrono::DateTime<chrono::Utc>,
}

impl VendorMirror {
    /// Shoppers see the listings of approved vendors only.
    pub fn is_selling(&self) -> bool {
        self.status == VendorStatus::Approved
    }

    /// Rejected and suspended vendors may not add or change listings; the others may prepare
    /// them while they onboard.
    pub fn may_list(&self) -> bool {
        !matches!(
            self.status,
            VendorStatus::Rejected | VendorStatus::Suspended
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_approved_vendors_sell_and_stopped_ones_cannot_list() {
        let all = [
            VendorStatus::Applied,
            VendorStatus::Onboarding,
            VendorStatus::InReview,
            VendorStatus::Approved,
            VendorStatus::Rejected,
            VendorStatus::Suspended,
        ];
        for status in all {
            assert_eq!(VendorStatus::parse(status.code()), Some(status));
            let vendor = VendorMirror {
                id: VendorId::new(),
                slug: "v".into(),
                store_name: "V".into(),
                status,
                owner: UserId::new(),
                event_at: chrono::Utc::now(),
            };
            assert_eq!(vendor.is_selling(), status == VendorStatus::Approved);
            assert_eq!(
                vendor.may_list(),
                !matches!(status, VendorStatus::Rejected | VendorStatus::Suspended)
            );
        }
        assert_eq!(VendorStatus::parse("famous"), None);
    }
}

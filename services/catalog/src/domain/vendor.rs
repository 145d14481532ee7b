//! Vendors as the catalog knows them: a local mirror fed by `vendor.*` events, enough to
//! decide who may list, whose listings shoppers see, and whose carry a notice that the
//! vendor is away.

use mercato_tenant_context::{UserId, VendorId};

pub use mercato_vendors_api::vendor::VendorStatus;
use mercato_vendors_api::vendor::{Availability, availability};

/// One vendor of the shop, as of the latest `vendor.*` event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VendorMirror {
    pub id: VendorId,
    pub slug: String,
    pub store_name: String,
    pub status: VendorStatus,
    /// The applicant: counts as the vendor's owner even before their token says so.
    pub owner: UserId,
    /// On holiday until this day, inclusive (the shop's day, UTC); `None`: not on holiday.
    pub holiday_until: Option<chrono::NaiveDate>,
    /// When the event this row reflects happened; older events do not overwrite it.
    pub event_at: chrono::DateTime<chrono::Utc>,
}

impl VendorMirror {
    /// Shoppers see the listings of approved vendors only. A suspended vendor's listings
    /// vanish from the public catalog (a deliberate choice, kept); a vendor on holiday stays
    /// approved, so its listings stay on show, with a notice ([`Self::back_on`]).
    pub fn is_selling(&self) -> bool {
        self.status == VendorStatus::Approved
    }

    /// When the vendor is on holiday on `today`: the day it takes orders again (the day after
    /// its `holiday_until`). Orders and inventory refuse its lines until then.
    pub fn back_on(&self, today: chrono::NaiveDate) -> Option<chrono::NaiveDate> {
        match availability(self.status, self.holiday_until, today) {
            Availability::OnHoliday { back_on } => Some(back_on),
            _ => None,
        }
    }

    /// Rejected and suspended vendors may not add or change listings; the others may prepare
    /// them while they onboard.
    pub fn may_list(&self) -> bool {
        self.status.may_list()
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
                holiday_until: None,
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

    #[test]
    fn a_holiday_lasts_through_its_last_day() {
        let day = |s: &str| s.parse::<chrono::NaiveDate>().unwrap();
        let vendor = VendorMirror {
            id: VendorId::new(),
            slug: "v".into(),
            store_name: "V".into(),
            status: VendorStatus::Approved,
            owner: UserId::new(),
            holiday_until: Some(day("2030-05-10")),
            event_at: chrono::Utc::now(),
        };
        assert_eq!(vendor.back_on(day("2030-05-01")), Some(day("2030-05-11")));
        assert_eq!(vendor.back_on(day("2030-05-10")), Some(day("2030-05-11")));
        assert_eq!(vendor.back_on(day("2030-05-11")), None);
        // Away, but still selling: its listings stay on show.
        assert!(vendor.is_selling());
        let home = VendorMirror {
            holiday_until: None,
            ..vendor
        };
        assert_eq!(home.back_on(day("2030-05-01")), None);
    }
}

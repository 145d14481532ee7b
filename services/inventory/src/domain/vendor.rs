//! Whether a vendor's stock may be held, as inventory's mirror of the vendors knows it
//! (`vendor.*` events): a suspended or rejected vendor sells nothing; one on holiday sells
//! nothing until the day after its `holiday_until`.

use chrono::NaiveDate;
use mercato_vendors_api::vendor::{Availability, VendorStatus, availability};

/// A vendor as the mirror last heard of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MirroredVendor {
    /// The vendors service's lifecycle code (`approved`, `suspended`, …).
    pub status: String,
    /// Away until this day, inclusive (the shop's day, UTC).
    pub holiday_until: Option<NaiveDate>,
}

/// Why a vendor's stock may not be held today.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotSelling {
    /// Suspended or rejected by the shop.
    Stopped,
    /// On holiday: it takes orders again on this day.
    OnHoliday { back_on: NaiveDate },
}

impl MirroredVendor {
    /// What stops its stock from being held on `today`, if anything.
    pub fn not_selling_on(&self, today: NaiveDate) -> Option<NotSelling> {
        // A status this build does not know stops nothing: the vendors service decides.
        let status = VendorStatus::parse(&self.status)?;
        match availability(status, self.holiday_until, today) {
            Availability::Stopped => Some(NotSelling::Stopped),
            Availability::OnHoliday { back_on } => Some(NotSelling::OnHoliday { back_on }),
            // Inventory holds stock of vendors still onboarding (merchant staff set it up).
            Availability::Selling | Availability::NotYet => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn vendor(status: &str, until: Option<&str>) -> MirroredVendor {
        MirroredVendor {
            status: status.into(),
            holiday_until: until.map(day),
        }
    }

    #[test]
    fn a_holiday_lasts_through_its_last_day_and_the_vendor_is_back_the_next() {
        let away = vendor("approved", Some("2030-05-10"));
        let back_on = day("2030-05-11");
        for today in ["2030-05-01", "2030-05-10"] {
            assert_eq!(
                away.not_selling_on(day(today)),
                Some(NotSelling::OnHoliday { back_on })
            );
        }
        assert_eq!(away.not_selling_on(back_on), None);
        assert_eq!(vendor("approved", None).not_selling_on(back_on), None);
    }

    #[test]
    fn a_stopped_vendor_is_stopped_whatever_its_holiday() {
        for status in ["suspended", "rejected"] {
            for until in [None, Some("2030-05-10")] {
                assert_eq!(
                    vendor(status, until).not_selling_on(day("2030-05-01")),
                    Some(NotSelling::Stopped)
                );
            }
        }
    }
}

//! The vendor as other services see it: its lifecycle status, its shipping settings, its
//! holiday, the one rule for "does it take orders today?" ([`availability`]), its legal
//! details ([`LegalDetails`]), and the payload every `vendor.*` snapshot event carries
//! ([`VendorSnapshot`], version 1).

use chrono::NaiveDate;
use mercato_kernel::Money;
use mercato_kernel::text::check_line;
use mercato_tenant_context::{UserId, VendorId};
use serde::{Deserialize, Serialize};

/// The pattern of every vendor event (consumers subscribe to it).
pub const VENDOR_EVENTS: &str = "vendor.*";
/// A shopper applied to sell; the payload names the applicant (`owner_user_id`).
pub const VENDOR_APPLIED: &str = "vendor.applied";
/// The one `vendor.*` event that carries no [`VendorSnapshot`]: `{ vendor_id, code, reason,
/// actor }` (a checklist item the merchant marked done).
pub const VENDOR_CHECKLIST_OVERRIDDEN: &str = "vendor.checklist_overridden";
/// A vendor's current state, announced again for consumers catching up
/// (`mercato events republish vendors`); a snapshot like the lifecycle events, but no
/// transition: consumers that react to one ignore it.
pub const VENDOR_REPUBLISHED: &str = "vendor.republished";
/// The version of every `vendor.*` payload.
pub const VENDOR_EVENT_VERSION: u32 = 1;

/// Whether the event `name` (a `vendor.*` one) carries a [`VendorSnapshot`].
pub fn carries_snapshot(name: &str) -> bool {
    name.starts_with("vendor.") && name != VENDOR_CHECKLIST_OVERRIDDEN
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VendorStatus {
    /// Applied; the merchant has not looked yet.
    Applied,
    /// Accepted for onboarding: completing the checklist.
    Onboarding,
    /// Submitted; the merchant reviews.
    InReview,
    /// Selling.
    Approved,
    /// Turned down (final).
    Rejected,
    /// Stopped by the merchant; its listings are hidden.
    Suspended,
}

impl VendorStatus {
    pub const ALL: [VendorStatus; 6] = [
        Self::Applied,
        Self::Onboarding,
        Self::InReview,
        Self::Approved,
        Self::Rejected,
        Self::Suspended,
    ];

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
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    /// Rejected and suspended vendors may not add or change listings; the others may prepare
    /// them while they onboard.
    pub fn may_list(self) -> bool {
        !matches!(self, Self::Rejected | Self::Suspended)
    }
}

/// Whether a vendor takes orders on a given day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Availability {
    /// Approved and not away.
    Selling,
    /// Approved but on holiday: it takes orders again on `back_on` (the day after its
    /// `holiday_until`). Its listings stay on show, with a notice.
    OnHoliday { back_on: NaiveDate },
    /// Suspended or rejected by the shop: its listings are hidden and it sells nothing.
    Stopped,
    /// Not approved yet (applied, onboarding, in review).
    NotYet,
}

/// The one rule for whether a vendor with `status`, away until `holiday_until` (inclusive),
/// takes orders on `today` (the shop's day, UTC).
pub fn availability(
    status: VendorStatus,
    holiday_until: Option<NaiveDate>,
    today: NaiveDate,
) -> Availability {
    match status {
        VendorStatus::Suspended | VendorStatus::Rejected => Availability::Stopped,
        VendorStatus::Applied | VendorStatus::Onboarding | VendorStatus::InReview => {
            Availability::NotYet
        }
        VendorStatus::Approved => match holiday_until {
            Some(until) if today <= until => Availability::OnHoliday {
                back_on: until.succ_opt().unwrap_or(until),
            },
            _ => Availability::Selling,
        },
    }
}

/// What a vendor charges to ship its part of an order: a flat rate, free from
/// `free_over` on. Checkout computes the charge; this only keeps the settings consistent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Shipping {
    /// Charged once per order for this vendor's items; none means shipping is free.
    pub flat_rate: Option<Money>,
    /// Orders of this vendor's items worth at least this much ship free.
    pub free_over: Option<Money>,
}

/// Why shipping settings cannot be kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShippingProblem {
    NegativeFlatRate,
    NegativeFreeOver,
    /// The threshold is in another currency than the flat rate.
    CurrencyMismatch,
}

impl ShippingProblem {
    pub fn message(self) -> &'static str {
        match self {
            Self::NegativeFlatRate | Self::NegativeFreeOver => "must not be negative",
            Self::CurrencyMismatch => {
                "the flat rate and the free-shipping threshold must be in one currency"
            }
        }
    }
}

impl Shipping {
    /// What is wrong with the settings: amounts are not negative, and a threshold is in the
    /// flat rate's currency (there is no conversion).
    pub fn problems(&self) -> Vec<ShippingProblem> {
        let mut bad = Vec::new();
        if self.flat_rate.is_some_and(|m| m.amount < 0) {
            bad.push(ShippingProblem::NegativeFlatRate);
        }
        if self.free_over.is_some_and(|m| m.amount < 0) {
            bad.push(ShippingProblem::NegativeFreeOver);
        }
        if let (Some(rate), Some(over)) = (self.flat_rate, self.free_over)
            && rate.currency != over.currency
        {
            bad.push(ShippingProblem::CurrencyMismatch);
        }
        bad
    }
}

/// The postal address on the vendor's invoices: free lines (street, building, …), postal
/// code and city; the country is [`LegalDetails::country`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LegalAddress {
    /// One to three lines, e.g. `["Hauptstraße 1", "2. OG"]`.
    pub lines: Vec<String>,
    pub postal_code: String,
    pub city: String,
}

impl LegalAddress {
    /// What is wrong with it as given: each field's path under `at` (a JSON pointer) and why.
    pub fn problems(&self, at: &str) -> Vec<(String, &'static str)> {
        let mut bad = Vec::new();
        if self.lines.is_empty() || self.lines.len() > 3 {
            bad.push((format!("{at}/lines"), "one to three lines"));
        }
        for (i, line) in self.lines.iter().enumerate() {
            if let Err(m) = check_line(line, 200) {
                bad.push((format!("{at}/lines/{i}"), m));
            }
        }
        if let Err(m) = check_line(&self.postal_code, 20) {
            bad.push((format!("{at}/postal_code"), m));
        }
        if let Err(m) = check_line(&self.city, 120) {
            bad.push((format!("{at}/city"), m));
        }
        bad
    }

    /// The address with each field trimmed, as it is kept.
    pub fn trimmed(&self) -> Self {
        Self {
            lines: self.lines.iter().map(|l| l.trim().to_owned()).collect(),
            postal_code: self.postal_code.trim().to_owned(),
            city: self.city.trim().to_owned(),
        }
    }
}

/// Who the vendor is on paper, as invoices print it (ADR 0043).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegalDetails {
    /// The registered business name.
    pub legal_name: String,
    #[serde(default)]
    pub address: Option<LegalAddress>,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// A valid-looking VAT id of `country` (`mercato_kernel::country`), upper case.
    #[serde(default)]
    pub vat_id: Option<String>,
}

/// What every `vendor.*` event but [`VENDOR_CHECKLIST_OVERRIDDEN`] carries: the vendor as it
/// is after the change, enough for a consumer to mirror it, and who acted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VendorSnapshot {
    pub vendor_id: VendorId,
    pub slug: String,
    pub store_name: String,
    pub status: VendorStatus,
    /// The applicant, the vendor's owner.
    pub owner_user_id: UserId,
    /// Away until this day, inclusive; null when not on holiday.
    #[serde(default)]
    pub holiday_until: Option<NaiveDate>,
    /// Why (a rejection, a suspension), when the move needed one.
    #[serde(default)]
    pub reason: Option<String>,
    /// `usr_…` or `key_…`.
    pub actor: String,
    pub shipping: Shipping,
    /// Its legal details; absent from events published before vendors had them.
    #[serde(default)]
    pub legal: Option<LegalDetails>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn statuses_round_trip_through_their_codes_and_serde() {
        for status in VendorStatus::ALL {
            assert_eq!(VendorStatus::parse(status.code()), Some(status));
            assert_eq!(
                serde_json::to_value(status).unwrap(),
                serde_json::Value::from(status.code())
            );
            assert_eq!(
                status.may_list(),
                !matches!(status, VendorStatus::Rejected | VendorStatus::Suspended)
            );
        }
        assert_eq!(VendorStatus::parse("famous"), None);
    }

    #[test]
    fn a_holiday_lasts_through_its_last_day_and_only_an_approved_vendor_sells() {
        let until = Some(day("2030-05-10"));
        let back_on = day("2030-05-11");
        for today in ["2030-05-01", "2030-05-10"] {
            assert_eq!(
                availability(VendorStatus::Approved, until, day(today)),
                Availability::OnHoliday { back_on }
            );
        }
        assert_eq!(
            availability(VendorStatus::Approved, until, back_on),
            Availability::Selling
        );
        assert_eq!(
            availability(VendorStatus::Approved, None, back_on),
            Availability::Selling
        );
        for stopped in [VendorStatus::Suspended, VendorStatus::Rejected] {
            assert_eq!(
                availability(stopped, until, day("2030-05-01")),
                Availability::Stopped
            );
        }
        for waiting in [
            VendorStatus::Applied,
            VendorStatus::Onboarding,
            VendorStatus::InReview,
        ] {
            assert_eq!(availability(waiting, None, back_on), Availability::NotYet);
        }
    }

    #[test]
    fn shipping_settings_in_two_currencies_or_negative_are_refused() {
        let eur = mercato_kernel::Currency::parse("EUR").unwrap();
        let usd = mercato_kernel::Currency::parse("USD").unwrap();
        let fine = Shipping {
            flat_rate: Some(Money::new(490, eur)),
            free_over: Some(Money::new(5000, eur)),
        };
        assert!(fine.problems().is_empty());
        let mixed = Shipping {
            flat_rate: Some(Money::new(-1, eur)),
            free_over: Some(Money::new(5000, usd)),
        };
        assert_eq!(
            mixed.problems(),
            [
                ShippingProblem::NegativeFlatRate,
                ShippingProblem::CurrencyMismatch
            ]
        );
    }

    #[test]
    fn a_snapshot_reads_back_as_published_and_a_checklist_override_is_no_snapshot() {
        let eur = mercato_kernel::Currency::parse("EUR").unwrap();
        let snapshot = VendorSnapshot {
            vendor_id: VendorId::new(),
            slug: "nordic-tea".into(),
            store_name: "Nordic Tea".into(),
            status: VendorStatus::Approved,
            owner_user_id: UserId::new(),
            holiday_until: Some(day("2030-05-10")),
            reason: None,
            actor: "usr_x".into(),
            shipping: Shipping {
                flat_rate: Some(Money::new(490, eur)),
                free_over: None,
            },
            legal: Some(LegalDetails {
                legal_name: "Nordic Tea GmbH".into(),
                address: Some(LegalAddress {
                    lines: vec!["Teeweg 1".into()],
                    postal_code: "20095".into(),
                    city: "Hamburg".into(),
                }),
                country: "DE".into(),
                vat_id: Some("DE123456789".into()),
            }),
        };
        let payload = serde_json::to_value(&snapshot).unwrap();
        assert_eq!(payload["status"], "approved");
        assert_eq!(payload["holiday_until"], "2030-05-10");
        assert_eq!(
            serde_json::from_value::<VendorSnapshot>(payload).unwrap(),
            snapshot
        );
        // An event from before legal details existed still reads.
        let mut older = serde_json::to_value(&snapshot).unwrap();
        older.as_object_mut().unwrap().remove("legal");
        let read = serde_json::from_value::<VendorSnapshot>(older).unwrap();
        assert_eq!(read.legal, None);
        assert!(carries_snapshot("vendor.approved"));
        assert!(!carries_snapshot(VENDOR_CHECKLIST_OVERRIDDEN));
        assert!(!carries_snapshot("payout_account.updated"));
    }
}

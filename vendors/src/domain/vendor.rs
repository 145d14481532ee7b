//! A vendor's life in a shop: `applied` → `onboarding` → `in_review` → `approved` /
//! `rejected`, and `approved` ↔ `suspended`. Each move is an [`Action`] taken by one side
//! (the merchant or the vendor), some only with a reason.

use crate::problems::VendorsProblem;
use mercato_kernel::Problem;
use mercato_tenant_context::{TenantId, UserId, VendorId};
use serde::{Deserialize, Serialize};

// The status and the shipping settings are the contract's: consumers mirror them.
pub use mercato_vendors_api::vendor::{
    LegalAddress, LegalDetails, Shipping, ShippingProblem, VendorStatus,
};

/// Who may take an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Merchant staff with `vendors:manage`.
    Merchant,
    /// The vendor's owner.
    Vendor,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Merchant: an application is worth onboarding.
    Accept,
    /// Vendor: the checklist is complete; please review.
    Submit,
    /// Merchant: back to onboarding with what to fix.
    RequestChanges,
    /// Merchant: the vendor may sell.
    Approve,
    /// Merchant: turned down, from any state before approval.
    Reject,
    /// Merchant: stop an approved vendor.
    Suspend,
    /// Merchant: lift a suspension.
    Reinstate,
}

impl Action {
    pub fn code(self) -> &'static str {
        match self {
            Self::Accept => "accept",
            Self::Submit => "submit",
            Self::RequestChanges => "request_changes",
            Self::Approve => "approve",
            Self::Reject => "reject",
            Self::Suspend => "suspend",
            Self::Reinstate => "reinstate",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Some(match code {
            "accept" => Self::Accept,
            "submit" => Self::Submit,
            "request_changes" => Self::RequestChanges,
            "approve" => Self::Approve,
            "reject" => Self::Reject,
            "suspend" => Self::Suspend,
            "reinstate" => Self::Reinstate,
            _ => return None,
        })
    }

    pub fn side(self) -> Side {
        match self {
            Self::Submit => Side::Vendor,
            _ => Side::Merchant,
        }
    }

    /// Actions whose effect a vendor must be able to understand need a reason.
    pub fn needs_reason(self) -> bool {
        matches!(self, Self::RequestChanges | Self::Reject | Self::Suspend)
    }

    /// The event published when the action is taken.
    pub fn event(self) -> &'static str {
        match self {
            Self::Accept => "vendor.onboarding_started",
            Self::Submit => "vendor.submitted",
            Self::RequestChanges => "vendor.changes_requested",
            Self::Approve => "vendor.approved",
            Self::Reject => "vendor.rejected",
            Self::Suspend => "vendor.suspended",
            Self::Reinstate => "vendor.reinstated",
        }
    }

    /// Where the action leads from `from`, or `None` when it does not apply there.
    pub fn target(self, from: VendorStatus) -> Option<VendorStatus> {
        use VendorStatus::*;
        match (self, from) {
            (Self::Accept, Applied) => Some(Onboarding),
            (Self::Submit, Onboarding) => Some(InReview),
            (Self::RequestChanges, InReview) => Some(Onboarding),
            (Self::Approve, InReview) => Some(Approved),
            (Self::Reject, Applied | Onboarding | InReview) => Some(Rejected),
            (Self::Suspend, Approved) => Some(Suspended),
            (Self::Reinstate, Suspended) => Some(Approved),
            _ => None,
        }
    }
}

/// A vendor of one shop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vendor {
    pub id: VendorId,
    pub tenant: TenantId,
    pub slug: String,
    pub store_name: String,
    pub legal_entity: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    pub contact_email: String,
    pub contact_phone: Option<String>,
    /// The applicant. They count as the owner even before their token carries the
    /// membership; once identity removes them from the vendor this is [`Vendor::no_owner`].
    pub owner: UserId,
    pub status: VendorStatus,
    /// Why the last merchant action that needed a reason was taken.
    pub status_reason: Option<String>,
    pub holiday_until: Option<chrono::NaiveDate>,
    pub profile: StoreProfile,
    pub shipping: Shipping,
    /// The address printed on invoices (ADR 0043).
    pub legal_address: Option<LegalAddress>,
    /// A valid-looking VAT id of `country`, upper case.
    pub vat_id: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

/// What shoppers see of a vendor besides its name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StoreProfile {
    pub description: Option<String>,
    /// Shipping, returns and other policies, as the vendor writes them.
    pub policies: Option<String>,
    pub return_address: Option<Address>,
    /// Object-storage keys of the logo and banner images.
    #[serde(skip)]
    pub logo_key: Option<String>,
    #[serde(skip)]
    pub banner_key: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = VendorAddress)]
pub struct Address {
    pub name: String,
    pub line1: String,
    #[serde(default)]
    pub line2: Option<String>,
    pub postal_code: String,
    pub city: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
}

impl Vendor {
    /// The recorded owner once the applicant no longer works for the vendor: an id no user
    /// has (user ids are UUIDv7), so the applicant's standing ends.
    pub fn no_owner() -> UserId {
        UserId::from_uuid(uuid::Uuid::nil())
    }

    /// The applicant, while they still work for the vendor.
    pub fn applicant(&self) -> Option<UserId> {
        (self.owner != Self::no_owner()).then_some(self.owner)
    }

    /// Shoppers see approved vendors only (on holiday too, marked as such).
    pub fn is_public(&self) -> bool {
        self.status == VendorStatus::Approved
    }

    /// Away today by the one rule every service applies
    /// (`mercato_vendors_api::vendor::availability`): approved and within its holiday.
    pub fn on_holiday(&self, today: chrono::NaiveDate) -> bool {
        matches!(
            mercato_vendors_api::vendor::availability(self.status, self.holiday_until, today),
            mercato_vendors_api::vendor::Availability::OnHoliday { .. }
        )
    }

    /// Its legal details as invoices print them.
    pub fn legal(&self) -> LegalDetails {
        LegalDetails {
            legal_name: self.legal_entity.clone(),
            address: self.legal_address.clone(),
            country: self.country.clone(),
            vat_id: self.vat_id.clone(),
        }
    }

    /// Checks that `action` applies now, returning the new status.
    pub fn plan(&self, action: Action) -> Result<VendorStatus, Problem> {
        action.target(self.status).ok_or_else(|| {
            Problem::of(
                VendorsProblem::InvalidTransition,
                format!(
                    "a vendor in state `{}` cannot be `{}`ed",
                    self.status.code(),
                    action.code()
                ),
            )
        })
    }
}

pub fn check_slug(slug: &str) -> Result<(), &'static str> {
    let ok = slug
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !(2..=60).contains(&slug.len()) || !ok || slug.starts_with('-') || slug.ends_with('-') {
        return Err("2-60 lowercase letters, digits or inner hyphens");
    }
    Ok(())
}

/// A slug from a store name: lowercase ASCII letters and digits, other runs become `-`.
pub fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-');
    slug.chars()
        .take(60)
        .collect::<String>()
        .trim_end_matches('-')
        .to_owned()
}

pub use mercato_kernel::text::check_line as check_name;

pub fn check_country(code: &str) -> Result<(), &'static str> {
    if mercato_kernel::country::is_known(code) {
        Ok(())
    } else {
        Err("an ISO 3166-1 alpha-2 code such as DE")
    }
}

pub fn check_email(email: &str) -> Result<(), &'static str> {
    let Some((local, domain)) = email.split_once('@') else {
        return Err("an email address");
    };
    if local.is_empty()
        || domain.len() < 3
        || !domain.contains('.')
        || email.len() > 254
        || email.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err("an email address");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use mercato_kernel::Money;

    #[test]
    fn the_lifecycle_allows_only_its_moves() {
        use VendorStatus::*;
        let all = [Applied, Onboarding, InReview, Approved, Rejected, Suspended];
        let moves: Vec<(Action, VendorStatus, VendorStatus)> = [
            Action::Accept,
            Action::Submit,
            Action::RequestChanges,
            Action::Approve,
            Action::Reject,
            Action::Suspend,
            Action::Reinstate,
        ]
        .into_iter()
        .flat_map(|a| {
            all.iter()
                .filter_map(move |&s| a.target(s).map(|t| (a, s, t)))
        })
        .collect();
        assert_eq!(
            moves,
            vec![
                (Action::Accept, Applied, Onboarding),
                (Action::Submit, Onboarding, InReview),
                (Action::RequestChanges, InReview, Onboarding),
                (Action::Approve, InReview, Approved),
                (Action::Reject, Applied, Rejected),
                (Action::Reject, Onboarding, Rejected),
                (Action::Reject, InReview, Rejected),
                (Action::Suspend, Approved, Suspended),
                (Action::Reinstate, Suspended, Approved),
            ]
        );
        // Rejection is final.
        for action in [Action::Accept, Action::Approve, Action::Reinstate] {
            assert_eq!(action.target(Rejected), None);
        }
    }

    #[test]
    fn codes_round_trip() {
        for s in [
            "applied",
            "onboarding",
            "in_review",
            "approved",
            "rejected",
            "suspended",
        ] {
            assert_eq!(VendorStatus::parse(s).map(VendorStatus::code), Some(s));
        }
        for a in [
            "accept",
            "submit",
            "request_changes",
            "approve",
            "reject",
            "suspend",
            "reinstate",
        ] {
            assert_eq!(Action::parse(a).map(Action::code), Some(a));
        }
    }

    #[test]
    fn shipping_settings_are_not_negative_and_in_one_currency() {
        let eur = mercato_kernel::Currency::parse("EUR").unwrap();
        let usd = mercato_kernel::Currency::parse("USD").unwrap();
        let fine = Shipping {
            flat_rate: Some(Money::new(490, eur)),
            free_over: Some(Money::new(5_000, eur)),
        };
        assert!(fine.problems().is_empty());
        assert!(Shipping::default().problems().is_empty());
        let free = Shipping {
            flat_rate: Some(Money::new(0, eur)),
            free_over: None,
        };
        assert!(free.problems().is_empty());
        let bad = Shipping {
            flat_rate: Some(Money::new(-1, eur)),
            free_over: Some(Money::new(-5, usd)),
        };
        assert_eq!(
            bad.problems(),
            [
                ShippingProblem::NegativeFlatRate,
                ShippingProblem::NegativeFreeOver,
                ShippingProblem::CurrencyMismatch
            ]
        );
    }

    #[test]
    fn slugs_come_from_names() {
        assert_eq!(slugify("Zoë's  Tea & Co."), "zo-s-tea-co");
        assert_eq!(slugify("ACME"), "acme");
        assert!(check_slug(&slugify("A b")).is_ok());
        assert!(check_slug("-x").is_err());
    }
}

//! Where and how often a vendor is paid: one payout account per vendor, stored, shown and
//! announced (`payout_account.updated`) to the payouts service, which pays by it.
//!
//! A bank account is given as an IBAN (the rules are in `mercato_vendors_api::payout`).
//! Responses show the IBAN masked: every character but the last four is `*`.

use chrono::{DateTime, Utc};
use mercato_kernel::{Currency, Money};
use mercato_tenant_context::VendorId;

mercato_kernel::typed_id!(
    /// A vendor's payout account.
    pub PayoutAccountId, "pac"
);

pub use mercato_vendors_api::payout::{IBAN_LENGTHS, Iban, mod97};

/// A Stripe Connect account id: `acct_` and 1-64 letters or digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StripeAccountId(String);

impl StripeAccountId {
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        match text.strip_prefix("acct_") {
            Some(rest)
                if (1..=64).contains(&rest.len())
                    && rest.bytes().all(|b| b.is_ascii_alphanumeric()) =>
            {
                Ok(Self(text.to_owned()))
            }
            _ => Err("a Stripe Connect account id such as acct_1Nv0FGQ9RKHgCVdK"),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How the money reaches the vendor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayoutMethod {
    /// The merchant transfers by hand to this bank account.
    BankTransfer { account_holder: String, iban: Iban },
    /// Transfers to the vendor's connected Stripe account.
    StripeConnect { account: StripeAccountId },
}

impl PayoutMethod {
    pub fn code(&self) -> &'static str {
        match self {
            Self::BankTransfer { .. } => "bank_transfer",
            Self::StripeConnect { .. } => "stripe_connect",
        }
    }
}

pub use mercato_vendors_api::payout::PayoutSchedule;

/// A vendor's payout account. Payouts are made in `currency`, and only once the balance
/// reaches `minimum_payout` (in the same currency).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayoutAccount {
    pub id: PayoutAccountId,
    pub vendor: VendorId,
    pub method: PayoutMethod,
    pub schedule: PayoutSchedule,
    pub minimum_payout: Money,
    pub currency: Currency,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// `usr_…` or `key_…`.
    pub updated_by: String,
}

/// A minimum payout: not negative, in the account's currency.
pub fn check_minimum(minimum: Money, currency: Currency) -> Result<(), &'static str> {
    if minimum.amount < 0 {
        Err("must not be negative")
    } else if minimum.currency != currency {
        Err("must be in the account's currency")
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_ibans_pass_and_typos_fail() {
        for good in [
            "DE89 3704 0044 0532 0130 00",
            "de89370400440532013000",
            "GB82 WEST 1234 5698 7654 32",
            "FR14 2004 1010 0505 0001 3M02 606",
            "NL91 ABNA 0417 1643 00",
            "AT61 1904 3002 3457 3201",
        ] {
            assert!(Iban::parse(good).is_ok(), "{good}");
        }
        assert_eq!(
            Iban::parse("DE89 3704 0044 0532 0130 00").unwrap().as_str(),
            "DE89370400440532013000"
        );
        for bad in [
            "DE89 3704 0044 0532 0130 01", // one digit off
            "DE98 3704 0044 0532 0130 00", // check digits swapped
            "DE89 3704 0044 0532 0130 0",  // too short for Germany
            "8989 3704 0044 0532 0130 00",
            "DE89-3704-0044-0532-0130-00",
            "DE89",
            "",
        ] {
            assert!(Iban::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ibans_are_masked_but_the_last_four() {
        let iban = Iban::parse("DE89 3704 0044 0532 0130 00").unwrap();
        assert_eq!(iban.masked(), "******************3000");
        assert!(!format!("{iban:?}").contains("3704"));
    }

    #[test]
    fn stripe_accounts_and_schedules() {
        assert!(StripeAccountId::parse("acct_1Nv0FGQ9RKHgCVdK").is_ok());
        for bad in ["acct_", "acct_x y", "ba_123", "ACCT_123"] {
            assert!(StripeAccountId::parse(bad).is_err(), "{bad}");
        }
        for s in ["daily", "weekly", "monthly", "manual"] {
            assert_eq!(PayoutSchedule::parse(s).map(PayoutSchedule::code), Some(s));
        }
        assert_eq!(PayoutSchedule::parse("hourly"), None);
    }

    #[test]
    fn minimums_are_in_the_account_currency() {
        let eur = Currency::parse("EUR").unwrap();
        let usd = Currency::parse("USD").unwrap();
        assert!(check_minimum(Money::new(0, eur), eur).is_ok());
        assert!(check_minimum(Money::new(-1, eur), eur).is_err());
        assert!(check_minimum(Money::new(100, usd), eur).is_err());
    }

    /// A German IBAN for an 18-digit account number, with correct check digits.
    fn german_iban(bban: &str) -> String {
        let check = 98 - mod97(&format!("DE00{bban}"));
        format!("DE{check:02}{bban}")
    }

    proptest! {
        /// Every well-formed IBAN passes, and changing any one digit is caught.
        #[test]
        fn single_digit_typos_are_caught(
            digits in proptest::collection::vec(0u32..10, 18),
            position in 2usize..22,
            delta in 1u32..10,
        ) {
            let bban: String = digits.iter().map(|d| char::from_digit(*d, 10).unwrap_or('0')).collect();
            let iban = german_iban(&bban);
            prop_assert!(Iban::parse(&iban).is_ok(), "{}", iban);
            let mut typo: Vec<char> = iban.chars().collect();
            let digit = typo[position].to_digit(10).unwrap_or(0);
            typo[position] = char::from_digit((digit + delta) % 10, 10).unwrap_or('0');
            let typo: String = typo.into_iter().collect();
            prop_assert!(Iban::parse(&typo).is_err(), "{}", typo);
        }
    }
}

//! Where and how often a vendor is paid: one payout account per vendor. The payouts service
//! will read it when it runs payouts; today it is stored, shown and announced.
//!
//! A bank account is given as an IBAN, checked by its ISO 13616 check digits (mod 97) and,
//! for the countries in [`IBAN_LENGTHS`], by its length. Responses and events show the IBAN
//! masked: every character but the last four is `*`.

use chrono::{DateTime, Utc};
use mercato_kernel::{Currency, Money};
use mercato_tenant_context::VendorId;

mercato_kernel::typed_id!(
    /// A vendor's payout account.
    pub PayoutAccountId, "pac"
);

/// An IBAN, without spaces and in upper case, with valid check digits.
#[derive(Clone, PartialEq, Eq)]
pub struct Iban(String);

/// IBAN lengths of the countries Mercato checks them for (SWIFT's IBAN registry). Other
/// countries' IBANs are checked by their check digits and the general 15-34 length only.
pub const IBAN_LENGTHS: &[(&str, usize)] = &[
    ("AD", 24),
    ("AT", 20),
    ("BE", 16),
    ("BG", 22),
    ("CH", 21),
    ("CY", 28),
    ("CZ", 24),
    ("DE", 22),
    ("DK", 18),
    ("EE", 20),
    ("ES", 24),
    ("FI", 18),
    ("FR", 27),
    ("GB", 22),
    ("GR", 27),
    ("HR", 21),
    ("HU", 28),
    ("IE", 22),
    ("IS", 26),
    ("IT", 27),
    ("LI", 21),
    ("LT", 20),
    ("LU", 20),
    ("LV", 21),
    ("MC", 27),
    ("MT", 31),
    ("NL", 18),
    ("NO", 15),
    ("PL", 28),
    ("PT", 25),
    ("RO", 24),
    ("SE", 24),
    ("SI", 19),
    ("SK", 24),
    ("SM", 27),
];

/// The remainder mod 97 of an IBAN read as ISO 7064 wants: the first four characters moved
/// to the end, letters as two-digit numbers (A = 10 … Z = 35).
fn mod97(iban: &str) -> u32 {
    let (head, tail) = iban.split_at(4);
    tail.chars()
        .chain(head.chars())
        .fold(0, |rem, c| match c.to_digit(36) {
            Some(v) if v >= 10 => (rem * 100 + v) % 97,
            Some(v) => (rem * 10 + v) % 97,
            None => rem,
        })
}

impl Iban {
    /// Accepts the usual print form (`DE89 3704 0044 0532 0130 00`) and lower case.
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        let iban: String = text
            .chars()
            .filter(|c| *c != ' ')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let bytes = iban.as_bytes();
        if !(15..=34).contains(&bytes.len())
            || !bytes[..2].iter().all(u8::is_ascii_uppercase)
            || !bytes[2..4].iter().all(u8::is_ascii_digit)
            || !bytes.iter().all(u8::is_ascii_alphanumeric)
        {
            return Err(
                "an IBAN: country code, check digits and account number (15-34 characters)",
            );
        }
        if let Some((_, length)) = IBAN_LENGTHS.iter().find(|(c, _)| *c == &iban[..2])
            && *length != bytes.len()
        {
            return Err("not an IBAN of the length its country uses");
        }
        if mod97(&iban) != 1 {
            return Err("the IBAN's check digits do not match: is it mistyped?");
        }
        Ok(Self(iban))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Every character but the last four as `*`: `******************3000`.
    pub fn masked(&self) -> String {
        let keep = self.0.len().saturating_sub(4);
        "*".repeat(keep) + &self.0[keep..]
    }
}

impl std::fmt::Debug for Iban {
    /// Logs see the masked form only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Iban({})", self.masked())
    }
}

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

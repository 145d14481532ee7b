//! A vendor's payout terms as other services see them: the schedule, the IBAN rules, and the
//! payload of `payout_account.updated` (the payouts service keeps a mirror of it to know
//! whom to pay, how, when and from what amount, and into which bank account).
//!
//! A bank account is given as an IBAN, checked by its ISO 13616 check digits (mod 97) and,
//! for the countries in [`IBAN_LENGTHS`], by its length. Responses show it masked: every
//! character but the last four is `*`.

use mercato_kernel::{Currency, Money};
use mercato_tenant_context::VendorId;
use serde::{Deserialize, Serialize};

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
pub fn mod97(iban: &str) -> u32 {
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

/// `payout_account.updated`: the vendor's payout terms as saved. A bank transfer's account
/// travels whole (`account_holder`, `iban`): the payouts service names it as the creditor in
/// the credit-transfer file it exports; no one else consumes this event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayoutAccountUpdated {
    pub vendor_id: VendorId,
    /// `bank_transfer` or `stripe_connect`.
    pub method: String,
    /// `DE89********3000`-style, bank transfers only.
    pub iban_masked: Option<String>,
    /// The account holder's name, bank transfers only.
    #[serde(default)]
    pub account_holder: Option<String>,
    /// The whole IBAN (no spaces, upper case), bank transfers only.
    #[serde(default)]
    pub iban: Option<String>,
    /// The connected account (`acct_…`), Stripe Connect only.
    pub stripe_account_id: Option<String>,
    pub schedule: PayoutSchedule,
    pub minimum_payout: Money,
    pub currency: Currency,
    pub actor: String,
}

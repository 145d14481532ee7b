//! Expenses merchant staff record (ADR 0042): what was paid, split into the net cost and
//! the input VAT the shop may reclaim, and the entry that books it:
//!
//! | account | debit | credit |
//! |---|---|---|
//! | 6100 / 6200 / 6300 / 6900 (the category) | net | |
//! | 1300 input VAT | vat | |
//! | 1200 bank (or 1100 payment provider clearing) | | gross |
//!
//! An expense is never changed once posted; a correction posts the mirror entry
//! ([`reversal`]).

use super::ExpenseId;
use super::accounts::Account;
use super::entry::{Entry, EntryBuilder, EntryError, EntryKind, Source};
use mercato_kernel::Currency;
use serde::{Deserialize, Serialize};

/// What an expense was for; each has its expense account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = ExpenseCategory)]
pub enum Category {
    ProductCost,
    Marketing,
    DeliveryCost,
    Other,
}

impl Category {
    pub const ALL: [Self; 4] = [
        Self::ProductCost,
        Self::Marketing,
        Self::DeliveryCost,
        Self::Other,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::ProductCost => "product_cost",
            Self::Marketing => "marketing",
            Self::DeliveryCost => "delivery_cost",
            Self::Other => "other",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.code() == code)
    }

    pub fn account(self) -> Account {
        match self {
            Self::ProductCost => Account::ProductCost,
            Self::Marketing => Account::Marketing,
            Self::DeliveryCost => Account::DeliveryCost,
            Self::Other => Account::OtherExpenses,
        }
    }
}

/// Where the money came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = ExpensePaidFrom)]
pub enum PaidFrom {
    Bank,
    Psp,
}

impl PaidFrom {
    pub fn code(self) -> &'static str {
        match self {
            Self::Bank => "bank",
            Self::Psp => "psp",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        [Self::Bank, Self::Psp]
            .into_iter()
            .find(|p| p.code() == code)
    }

    pub fn account(self) -> Account {
        match self {
            Self::Bank => Account::Bank,
            Self::Psp => Account::PspClearing,
        }
    }
}

/// A VAT rate: a decimal percentage with at most four decimals, from 0 to 100.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VatRate {
    /// The percentage × 10 000 (`"19"` is 190 000).
    scaled: i64,
}

const RATE_SCALE: i64 = 10_000;

impl VatRate {
    pub const ZERO: Self = Self { scaled: 0 };

    /// `"19"`, `"7.5"`, `"0"`; no sign, no exponent, at most four decimals, at most 100.
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        const WHAT: &str =
            "a decimal percentage from 0 to 100 with at most four decimals, e.g. \"19\" or \"7.5\"";
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty()
            || whole.len() > 3
            || !digits(whole)
            || !digits(fraction)
            || fraction.len() > 4
            || (text.contains('.') && fraction.is_empty())
        {
            return Err(WHAT);
        }
        let whole: i64 = whole.parse().map_err(|_| WHAT)?;
        let mut scaled_fraction: i64 = 0;
        for (i, b) in fraction.bytes().enumerate() {
            scaled_fraction += i64::from(b - b'0') * 10_i64.pow(3 - i as u32);
        }
        let scaled = whole * RATE_SCALE + scaled_fraction;
        if scaled > 100 * RATE_SCALE {
            return Err(WHAT);
        }
        Ok(Self { scaled })
    }

    /// The VAT inside `gross` at this rate: `gross × rate / (100 + rate)`, rounded half up
    /// (away from zero), so net + VAT is the gross exactly.
    pub fn vat_in(self, gross: i64) -> i64 {
        let numerator = i128::from(gross) * i128::from(self.scaled);
        let denominator = i128::from(100 * RATE_SCALE + self.scaled);
        // Integer division truncates toward zero: round the magnitude, then give the sign.
        let vat = (2 * numerator.abs() + denominator) / (2 * denominator) * numerator.signum();
        // |vat| ≤ |gross|, so it fits.
        i64::try_from(vat).unwrap_or(gross)
    }
}

impl std::fmt::Display for VatRate {
    /// The shortest decimal: `19`, `7.5`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (whole, fraction) = (self.scaled / RATE_SCALE, self.scaled % RATE_SCALE);
        if fraction == 0 {
            write!(f, "{whole}")
        } else {
            let digits = format!("{fraction:04}");
            write!(f, "{whole}.{}", digits.trim_end_matches('0'))
        }
    }
}

/// How the VAT of an expense is given: a rate it is worked out from, or the amount on the
/// receipt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vat {
    Rate(VatRate),
    Amount(i64),
}

/// A gross amount split into its net cost and its VAT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Split {
    pub gross: i64,
    pub net: i64,
    pub vat: i64,
}

/// Splits `gross` (positive) by `vat`; a VAT amount must lie in 0..=gross.
pub fn split(gross: i64, vat: Vat) -> Result<Split, SplitError> {
    if gross <= 0 {
        return Err(SplitError::NotPositive);
    }
    let vat = match vat {
        Vat::Rate(rate) => rate.vat_in(gross),
        Vat::Amount(amount) if (0..=gross).contains(&amount) => amount,
        Vat::Amount(_) => return Err(SplitError::VatOutOfRange),
    };
    Ok(Split {
        gross,
        net: gross - vat,
        vat,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SplitError {
    #[error("the amount must be more than 0")]
    NotPositive,
    #[error("the VAT must be from 0 to the amount")]
    VatOutOfRange,
}

/// What an expense books.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booking {
    pub id: ExpenseId,
    pub category: Category,
    pub paid_from: PaidFrom,
    pub currency: Currency,
    pub split: Split,
    pub description: String,
}

/// The entry recording `b`, dated `occurred_at` (the day it was incurred).
pub fn entry(b: &Booking, occurred_at: chrono::DateTime<chrono::Utc>) -> Result<Entry, EntryError> {
    let lines = EntryBuilder::new()
        .debit(b.category.account(), b.split.net)
        .debit(Account::InputVat, b.split.vat)
        .credit(b.paid_from.account(), b.split.gross)
        .finish()?;
    Ok(Entry {
        key: format!("expense:{}", b.id),
        kind: EntryKind::Expense,
        currency: b.currency,
        memo: format!(
            "expense {} ({}): {}",
            b.id,
            b.category.code(),
            b.description
        ),
        source: source(occurred_at),
        lines,
    })
}

/// The entry reversing `b`'s, dated `occurred_at` (when it was reversed: a closed period's
/// figures do not move).
pub fn reversal(
    b: &Booking,
    occurred_at: chrono::DateTime<chrono::Utc>,
) -> Result<Entry, EntryError> {
    let lines = EntryBuilder::new()
        .credit(b.category.account(), b.split.net)
        .credit(Account::InputVat, b.split.vat)
        .debit(b.paid_from.account(), b.split.gross)
        .finish()?;
    Ok(Entry {
        key: format!("expense-reversal:{}", b.id),
        kind: EntryKind::ExpenseReversal,
        currency: b.currency,
        memo: format!("reversal of expense {}", b.id),
        source: source(occurred_at),
        lines,
    })
}

fn source(occurred_at: chrono::DateTime<chrono::Utc>) -> Source {
    Source {
        event_id: None,
        event: None,
        occurred_at,
        order: None,
        vendor_order: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rate(text: &str) -> VatRate {
        VatRate::parse(text).unwrap()
    }

    #[test]
    fn rates_parse_and_print_back() {
        for (text, printed) in [
            ("19", "19"),
            ("7.5", "7.5"),
            ("0", "0"),
            ("100", "100"),
            ("5.5000", "5.5"),
            ("0.0001", "0.0001"),
        ] {
            assert_eq!(rate(text).to_string(), printed);
        }
        for bad in [
            "", "-1", "19%", "1e2", "100.01", "7.", ".5", "7.12345", "1000", " 19", "abc",
        ] {
            assert!(VatRate::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_vat_inside_a_gross_amount_rounds_half_up() {
        // 119.00 at 19 %: 19.00 VAT, 100.00 net.
        assert_eq!(split(11_900, Vat::Rate(rate("19"))).unwrap().vat, 1_900);
        // 10.00 at 19 %: 1.5966… → 1.60.
        assert_eq!(
            split(1_000, Vat::Rate(rate("19"))).unwrap(),
            Split {
                gross: 1_000,
                net: 840,
                vat: 160
            }
        );
        // 0.01 at 7 %: 0.00065… → 0.00.
        assert_eq!(split(1, Vat::Rate(rate("7"))).unwrap().vat, 0);
        // 2.14 at 7 %: exactly 0.14.
        assert_eq!(split(214, Vat::Rate(rate("7"))).unwrap().vat, 14);
        // 1.07 at 7 %: exactly 0.07.
        assert_eq!(split(107, Vat::Rate(rate("7"))).unwrap().vat, 7);
        // 100 % VAT: half the gross; 0.03 → 0.015 → 0.02 (half up).
        assert_eq!(split(3, Vat::Rate(rate("100"))).unwrap().vat, 2);
        assert_eq!(split(500, Vat::Rate(VatRate::ZERO)).unwrap().vat, 0);
        // A negative gross (a credit) mirrors a positive one: −3.90 at 19 % → −0.62.
        assert_eq!(rate("19").vat_in(390), 62);
        assert_eq!(rate("19").vat_in(-390), -62);
        assert_eq!(rate("100").vat_in(-3), -2);
    }

    #[test]
    fn a_given_vat_amount_must_fit_the_gross() {
        assert_eq!(split(500, Vat::Amount(95)).unwrap().net, 405);
        assert_eq!(split(500, Vat::Amount(500)).unwrap().net, 0);
        assert_eq!(split(500, Vat::Amount(501)), Err(SplitError::VatOutOfRange));
        assert_eq!(split(500, Vat::Amount(-1)), Err(SplitError::VatOutOfRange));
        assert_eq!(split(0, Vat::Amount(0)), Err(SplitError::NotPositive));
        assert_eq!(
            split(-5, Vat::Rate(rate("19"))),
            Err(SplitError::NotPositive)
        );
    }

    fn booking(category: Category, paid_from: PaidFrom, split: Split) -> Booking {
        Booking {
            id: ExpenseId::new(),
            category,
            paid_from,
            currency: mercato_kernel::Currency::parse("EUR").unwrap(),
            split,
            description: "ads".into(),
        }
    }

    #[test]
    fn the_entry_debits_the_category_and_input_vat_and_credits_the_payer() {
        let s = split(11_900, Vat::Rate(rate("19"))).unwrap();
        let b = booking(Category::Marketing, PaidFrom::Bank, s);
        let e = entry(&b, chrono::Utc::now()).unwrap();
        let sides: Vec<_> = e
            .lines
            .iter()
            .map(|l| (l.account.code(), l.debit, l.credit))
            .collect();
        assert_eq!(
            sides,
            vec![("6200", 10_000, 0), ("1300", 1_900, 0), ("1200", 0, 11_900)]
        );
        assert_eq!(e.kind, EntryKind::Expense);
        let r = reversal(&b, chrono::Utc::now()).unwrap();
        let back: Vec<_> = r
            .lines
            .iter()
            .map(|l| (l.account.code(), l.debit, l.credit))
            .collect();
        assert_eq!(
            back,
            vec![("6200", 0, 10_000), ("1300", 0, 1_900), ("1200", 11_900, 0)]
        );
        assert_ne!(e.key, r.key);
        // Paid by the provider, no VAT: two lines.
        let b = booking(
            Category::Other,
            PaidFrom::Psp,
            split(700, Vat::Rate(VatRate::ZERO)).unwrap(),
        );
        let e = entry(&b, chrono::Utc::now()).unwrap();
        assert_eq!(e.lines.len(), 2);
        assert_eq!(e.lines[1].account, Account::PspClearing);
    }

    proptest! {
        #[test]
        fn net_and_vat_always_make_the_gross_and_the_entry_balances(
            gross in 1i64..=1_000_000_000_000,
            scaled in 0i64..=1_000_000,
            category in 0usize..4,
        ) {
            let r = VatRate { scaled };
            let s = split(gross, Vat::Rate(r)).unwrap();
            prop_assert_eq!(s.net + s.vat, gross);
            prop_assert!(s.vat >= 0 && s.vat <= gross);
            // Exact half-up: |vat × (100 + r) − gross × r| ≤ (100 + r) / 2.
            let lhs = i128::from(s.vat) * i128::from(100 * RATE_SCALE + scaled);
            let rhs = i128::from(gross) * i128::from(scaled);
            prop_assert!(2 * (lhs - rhs).abs() <= i128::from(100 * RATE_SCALE + scaled));
            let b = booking(Category::ALL[category], PaidFrom::Bank, s);
            let e = entry(&b, chrono::Utc::now()).unwrap();
            prop_assert_eq!(e.total(), gross);
            let back = reversal(&b, chrono::Utc::now()).unwrap();
            prop_assert_eq!(back.total(), gross);
        }
    }
}

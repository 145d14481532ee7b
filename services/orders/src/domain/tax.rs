//! Tax: which rate applies to a line, and how much tax an amount carries.
//!
//! A shop keeps tax rules: a rate (a percentage, 0 to 100, at most 4 decimal places) for a
//! destination country and a tax category. Every product has a tax category; the category
//! [`STANDARD`] is the country's default rate.
//!
//! # Which rate
//!
//! For a destination country and a category ([`rate_for`]): the rule of that country and
//! exactly that category; failing that, the country's [`STANDARD`] rule; failing that, none —
//! the line is **untaxed** (rate 0). Without a destination country (not yet known) nothing is
//! taxed. Countries are compared without regard to case; categories exactly. Should a shop
//! hold two rules for the same country and category, the first in the slice wins (the
//! service keeps them unique).
//!
//! # How much
//!
//! Shops show prices either without tax (tax is added on top) or with tax included (the
//! displayed price is gross and the tax is the part of it that is tax):
//!
//! - exclusive: `tax = amount × rate / 100`;
//! - inclusive: `tax = amount × rate / (100 + rate)`, and the net is `amount − tax`.
//!
//! Either way the tax is rounded **half up** to the minor unit, **per line** (per order line
//! after its discount, and per vendor shipping charge) — not per unit and not per order.
//! An order's tax is the sum of its lines' rounded taxes, so every part of the order shows
//! the tax it really carries and the parts add up to the total.

use crate::domain::percent;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// The tax category every country's default rate is filed under.
pub const STANDARD: &str = "standard";

/// One tax rate of a shop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxRule {
    /// ISO 3166-1 alpha-2, upper case (`DE`).
    pub country: String,
    /// A tax category such as `standard`, `reduced`, `books`.
    pub category: String,
    /// Percent, 0 ..= 100 (`19` is 19 %).
    pub rate: Decimal,
}

/// The rule that taxes `category` in `country` (see the module documentation), or `None`
/// when the line is untaxed.
pub fn rate_for<'a>(
    rules: &'a [TaxRule],
    country: Option<&str>,
    category: &str,
) -> Option<&'a TaxRule> {
    let country = country?;
    let in_country = |rule: &&TaxRule| rule.country.eq_ignore_ascii_case(country);
    rules
        .iter()
        .filter(in_country)
        .find(|rule| rule.category == category)
        .or_else(|| {
            rules
                .iter()
                .filter(in_country)
                .find(|rule| rule.category == STANDARD)
        })
}

/// The tax in `amount` at `rate` percent, rounded half up: on top of it when prices exclude
/// tax, contained in it when they include it. `rate` is clamped into 0 ..= 100 and rounded to
/// 4 decimal places (see [`validate_rate`]); a negative amount gives the negated tax of its
/// absolute value.
pub fn tax_in(amount: i64, rate: Decimal, prices_include_tax: bool) -> i64 {
    if prices_include_tax {
        percent::contained_percent(amount, rate)
    } else {
        percent::percent_of(amount, rate)
    }
}

/// A destination or rule country: trimmed and upper-cased, it must be two ASCII letters
/// (ISO 3166-1 alpha-2 shape, as elsewhere in Mercato). Returns the normalized code.
pub fn validate_country(code: &str) -> Result<String, &'static str> {
    let code = code.trim();
    if code.len() == 2 && code.bytes().all(|b| b.is_ascii_alphabetic()) {
        Ok(code.to_ascii_uppercase())
    } else {
        Err("an ISO 3166-1 alpha-2 country code such as DE")
    }
}

/// A tax rate: a percentage from 0 to 100 with at most 4 decimal places. Returns it
/// normalized (`19.00` → `19`).
pub fn validate_rate(rate: Decimal) -> Result<Decimal, &'static str> {
    percent::check_percent(rate)
}

/// A tax category: trimmed, 1 to 64 characters of lower-case ASCII letters, digits, `-`, `_`.
/// Returns it trimmed.
pub fn validate_category(category: &str) -> Result<String, &'static str> {
    let category = category.trim();
    if (1..=64).contains(&category.len())
        && category
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    {
        Ok(category.to_owned())
    } else {
        Err("1 to 64 lower-case letters, digits, '-' or '_', such as \"standard\"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn dec(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    fn rule(country: &str, category: &str, rate: &str) -> TaxRule {
        TaxRule {
            country: country.into(),
            category: category.into(),
            rate: dec(rate),
        }
    }

    #[test]
    fn known_figures() {
        assert_eq!(tax_in(10_000, dec("19"), false), 1_900);
        assert_eq!(tax_in(10_000, dec("19"), true), 1_597);
        assert_eq!(tax_in(11_900, dec("19"), true), 1_900);
        assert_eq!(tax_in(999, dec("7"), false), 70); // 69.93
        assert_eq!(tax_in(999, dec("7"), true), 65); // 65.35
        assert_eq!(tax_in(10, dec("5"), false), 1); // 0.5 rounds up
        assert_eq!(tax_in(0, dec("19"), true), 0);
        assert_eq!(tax_in(10_000, dec("0"), false), 0);
    }

    #[test]
    fn the_exact_category_then_the_country_standard_then_nothing() {
        let rules = vec![
            rule("DE", STANDARD, "19"),
            rule("DE", "books", "7"),
            rule("FR", STANDARD, "20"),
        ];
        let rate = |country, category| rate_for(&rules, country, category).map(|r| r.rate);
        assert_eq!(rate(Some("DE"), "books"), Some(dec("7")));
        assert_eq!(rate(Some("de"), "books"), Some(dec("7")));
        assert_eq!(rate(Some("DE"), "food"), Some(dec("19")));
        assert_eq!(rate(Some("FR"), "books"), Some(dec("20")));
        assert_eq!(rate(Some("AT"), "books"), None);
        assert_eq!(rate(None, "books"), None);
        // A country without a standard rule taxes only its listed categories.
        let rules = vec![rule("US", "digital", "5")];
        assert!(rate_for(&rules, Some("US"), "digital").is_some());
        assert!(rate_for(&rules, Some("US"), STANDARD).is_none());
        assert!(rate_for(&rules, Some("US"), "food").is_none());
    }

    #[test]
    fn countries_rates_and_categories_are_validated() {
        assert_eq!(validate_country(" de "), Ok("DE".to_owned()));
        assert_eq!(validate_country("FR"), Ok("FR".to_owned()));
        for bad in ["", "D", "DEU", "D1", "É"] {
            assert!(validate_country(bad).is_err(), "{bad:?}");
        }
        assert_eq!(validate_rate(dec("19.00")), Ok(dec("19")));
        assert_eq!(validate_rate(dec("7.25")), Ok(dec("7.25")));
        assert!(validate_rate(dec("100.5")).is_err());
        assert!(validate_rate(dec("-1")).is_err());
        assert!(validate_rate(dec("1.00001")).is_err());
        assert_eq!(validate_category(" books "), Ok("books".to_owned()));
        assert!(validate_category("Books").is_err());
        assert!(validate_category("").is_err());
        assert!(validate_category(&"a".repeat(65)).is_err());
    }

    fn any_rate() -> impl Strategy<Value = Decimal> {
        (0i64..=1_000_000).prop_map(|n| Decimal::new(n, 4))
    }

    proptest! {
        /// The tax contained in a gross amount is never more than it, and net + tax is the
        /// gross amount (the net is what remains).
        #[test]
        fn inclusive_tax_is_part_of_the_amount(amount in 0i64..=i64::MAX, rate in any_rate()) {
            let tax = tax_in(amount, rate, true);
            prop_assert!(tax >= 0 && tax <= amount);
            let net = amount - tax;
            prop_assert_eq!(net + tax, amount);
            // At most half of it even at 100 %, rounded up.
            prop_assert!(i128::from(tax) <= (i128::from(amount) + 1) / 2);
        }

        #[test]
        fn exclusive_tax_is_monotone(
            a in 0i64..=i64::MAX,
            b in 0i64..=i64::MAX,
            rate in any_rate(),
            other_rate in any_rate(),
        ) {
            let (small, big) = (a.min(b), a.max(b));
            prop_assert!(tax_in(small, rate, false) <= tax_in(big, rate, false));
            let (low, high) = (rate.min(other_rate), rate.max(other_rate));
            prop_assert!(tax_in(big, low, false) <= tax_in(big, high, false));
            prop_assert!(tax_in(big, rate, false) <= big);
        }

        /// Inclusive tax grows with the amount too.
        #[test]
        fn inclusive_tax_is_monotone(a in 0i64..=i64::MAX, b in 0i64..=i64::MAX, rate in any_rate()) {
            let (small, big) = (a.min(b), a.max(b));
            prop_assert!(tax_in(small, rate, true) <= tax_in(big, rate, true));
        }
    }
}

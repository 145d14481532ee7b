//! Percentages of amounts, for tax rates and percentage coupons.
//!
//! A percentage is a [`Decimal`] from 0 to 100 with at most [`MAX_DECIMALS`] decimal places
//! (`19` is 19 %, `7.5` is 7.5 %). [`check_percent`] is the gate at the edge; the arithmetic
//! below also accepts what did not pass it, by first clamping the percentage into 0..=100 and
//! rounding it half up to 4 decimal places, so it never fails and never overflows.
//!
//! All results are rounded **half up** to the minor unit (half away from zero: amounts here
//! are not negative, and a negative amount is handled as the mirror image of its absolute
//! value). Arithmetic is exact, in `i128` millionths; no floats.

use rust_decimal::{Decimal, RoundingStrategy};

/// Decimal places a percentage may have.
pub const MAX_DECIMALS: u32 = 4;

/// One whole (100 %) in millionths.
const MILLION: i128 = 1_000_000;

/// Checks a percentage: 0 ..= 100, at most 4 decimal places. Returns it normalized
/// (`19.50` → `19.5`).
pub fn check_percent(value: Decimal) -> Result<Decimal, &'static str> {
    if value < Decimal::ZERO || value > Decimal::ONE_HUNDRED {
        return Err("a percentage from 0 to 100");
    }
    let value = value.normalize();
    if value.scale() > MAX_DECIMALS {
        return Err("at most 4 decimal places");
    }
    Ok(value)
}

/// The percentage in millionths of the amount (19 % → 190 000), clamped to 0 ..= 1 000 000.
fn per_million(percent: Decimal) -> i128 {
    let clamped = percent.clamp(Decimal::ZERO, Decimal::ONE_HUNDRED);
    let mut value =
        clamped.round_dp_with_strategy(MAX_DECIMALS, RoundingStrategy::MidpointAwayFromZero);
    value.rescale(MAX_DECIMALS);
    value.mantissa().clamp(0, MILLION)
}

/// Divides a non-negative `numerator` by a positive `denominator`, rounding half up.
fn div_half_up(numerator: i128, denominator: i128) -> i128 {
    (2 * numerator + denominator) / (2 * denominator)
}

fn mirrored(amount: i64, of_absolute: impl Fn(i128) -> i128) -> i64 {
    let magnitude = of_absolute(i128::from(amount).abs());
    let signed = if amount < 0 { -magnitude } else { magnitude };
    // The result is at most |amount| (a percentage ≤ 100 %), so it fits back in i64.
    i64::try_from(signed).unwrap_or(if amount < 0 { i64::MIN } else { i64::MAX })
}

/// `amount × percent / 100`, rounded half up: 19 % of 10 000 is 1 900; 10 % of 5 is 1.
pub fn percent_of(amount: i64, percent: Decimal) -> i64 {
    let millionths = per_million(percent);
    // |amount| ≤ 2⁶³ and millionths ≤ 2²⁰: the products fit in i128.
    mirrored(amount, |a| div_half_up(a * millionths, MILLION))
}

/// The part of a gross `amount` that is `percent` on top of a net amount:
/// `amount × percent / (100 + percent)`, rounded half up. 10 000 gross at 19 % contains
/// 1 596.64… → 1 597.
pub fn contained_percent(amount: i64, percent: Decimal) -> i64 {
    let millionths = per_million(percent);
    mirrored(amount, |a| {
        div_half_up(a * millionths, MILLION + millionths)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn dec(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    #[test]
    fn known_figures() {
        assert_eq!(percent_of(10_000, dec("19")), 1_900);
        assert_eq!(percent_of(5, dec("10")), 1);
        assert_eq!(percent_of(4, dec("10")), 0);
        assert_eq!(percent_of(100, dec("12.5")), 13);
        assert_eq!(percent_of(i64::MAX, dec("100")), i64::MAX);
        assert_eq!(percent_of(-5, dec("10")), -1);
        assert_eq!(contained_percent(10_000, dec("19")), 1_597);
        assert_eq!(contained_percent(11_900, dec("19")), 1_900);
        assert_eq!(contained_percent(10_000, dec("100")), 5_000);
        assert_eq!(contained_percent(10_000, dec("0")), 0);
        assert_eq!(contained_percent(i64::MAX, dec("100")), i64::MAX / 2 + 1);
    }

    #[test]
    fn out_of_range_percentages_are_clamped_and_rounded() {
        assert_eq!(percent_of(1_000, dec("150")), 1_000);
        assert_eq!(percent_of(1_000, dec("-5")), 0);
        // 0.00005 % rounds to 0.0001 %.
        assert_eq!(per_million(dec("0.00005")), 1);
        assert_eq!(per_million(dec("0.00004")), 0);
    }

    #[test]
    fn percentages_are_checked() {
        assert_eq!(check_percent(dec("19.50")), Ok(dec("19.5")));
        assert_eq!(check_percent(dec("0")), Ok(dec("0")));
        assert_eq!(check_percent(dec("100")), Ok(dec("100")));
        assert!(check_percent(dec("100.0001")).is_err());
        assert!(check_percent(dec("-0.1")).is_err());
        assert!(check_percent(dec("0.00001")).is_err());
    }

    fn any_percent() -> impl Strategy<Value = Decimal> {
        (0i64..=1_000_000).prop_map(|n| Decimal::new(n, 4))
    }

    proptest! {
        /// Both agree with exact decimal arithmetic rounded half up.
        #[test]
        fn matches_exact_decimal_arithmetic(amount in 0i64..=1_000_000_000_000, percent in any_percent()) {
            let exact = Decimal::from(amount) * percent / Decimal::ONE_HUNDRED;
            let rounded = exact.round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero);
            prop_assert_eq!(Decimal::from(percent_of(amount, percent)), rounded);
            let contained = Decimal::from(amount) * percent / (Decimal::ONE_HUNDRED + percent);
            let rounded = contained.round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero);
            prop_assert_eq!(Decimal::from(contained_percent(amount, percent)), rounded);
        }

        #[test]
        fn never_more_than_the_amount(amount in 0i64..=i64::MAX, percent in any_percent()) {
            let of = percent_of(amount, percent);
            prop_assert!((0..=amount).contains(&of));
            let contained = contained_percent(amount, percent);
            prop_assert!((0..=amount).contains(&contained));
        }
    }
}

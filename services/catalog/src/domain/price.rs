//! Prices: amounts in minor units of one currency, never negative, and the decimal text a
//! CSV carries (`19.99` EUR is 1999 cents; `1999` JPY is 1999 yen).

use mercato_kernel::{Currency, Money};

/// The largest price accepted: ten billion major units of a two-decimal currency.
pub const MAX_AMOUNT: i64 = 1_000_000_000_000;

/// A price: 0 to [`MAX_AMOUNT`] minor units.
pub fn check_amount(amount: i64) -> Result<(), &'static str> {
    if amount < 0 {
        Err("must not be negative")
    } else if amount > MAX_AMOUNT {
        Err("too large")
    } else {
        Ok(())
    }
}

/// A compare-at ("was") price: in the price's currency and above it.
pub fn check_compare_at(price: Money, compare_at: Money) -> Result<(), &'static str> {
    if compare_at.currency != price.currency {
        return Err("must be in the price's currency");
    }
    check_amount(compare_at.amount)?;
    if compare_at.amount <= price.amount {
        return Err("must be above the price");
    }
    Ok(())
}

/// Reads a decimal price in major units (`19.99`, `5`, `0.5`) as minor units of `currency`.
/// No sign, no thousands separators, at most as many decimals as the currency has.
pub fn parse_decimal(text: &str, currency: Currency) -> Result<i64, &'static str> {
    let text = text.trim();
    if text.starts_with('-') {
        return Err("must not be negative");
    }
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(fraction) || (text.ends_with('.')) {
        return Err("a decimal number such as 19.99");
    }
    let exponent = usize::from(currency.exponent());
    if fraction.len() > exponent {
        return Err(if exponent == 0 {
            "this currency has no decimals"
        } else {
            "too many decimals for this currency"
        });
    }
    if whole.len() > 13 {
        return Err("too large");
    }
    let mut minor: i64 = whole.parse().map_err(|_| "too large")?;
    for _ in 0..exponent {
        minor = minor.checked_mul(10).ok_or("too large")?;
    }
    let mut fraction_value: i64 = 0;
    for (i, b) in fraction.bytes().enumerate() {
        let place = exponent - 1 - i;
        fraction_value += i64::from(b - b'0') * 10_i64.pow(place as u32);
    }
    let amount = minor.checked_add(fraction_value).ok_or("too large")?;
    check_amount(amount)?;
    Ok(amount)
}

/// The decimal text of `money` in major units, as [`parse_decimal`] reads it back.
pub fn format_decimal(money: Money) -> String {
    let exponent = u32::from(money.currency.exponent());
    if exponent == 0 {
        return money.amount.to_string();
    }
    let scale = 10_i64.pow(exponent);
    let sign = if money.amount < 0 { "-" } else { "" };
    let abs = money.amount.unsigned_abs();
    let scale = scale.unsigned_abs();
    format!(
        "{sign}{}.{:0width$}",
        abs / scale,
        abs % scale,
        width = exponent as usize
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn eur() -> Currency {
        Currency::parse("EUR").unwrap()
    }

    #[test]
    fn amounts_are_never_negative_or_absurd() {
        assert!(check_amount(0).is_ok());
        assert!(check_amount(1999).is_ok());
        assert_eq!(check_amount(-1), Err("must not be negative"));
        assert_eq!(check_amount(MAX_AMOUNT + 1), Err("too large"));
    }

    #[test]
    fn a_compare_at_price_is_higher_and_in_the_same_currency() {
        let usd = Currency::parse("USD").unwrap();
        let price = Money::new(1000, eur());
        assert!(check_compare_at(price, Money::new(1500, eur())).is_ok());
        assert_eq!(
            check_compare_at(price, Money::new(1000, eur())),
            Err("must be above the price")
        );
        assert_eq!(
            check_compare_at(price, Money::new(1500, usd)),
            Err("must be in the price's currency")
        );
    }

    #[test]
    fn decimals_follow_the_currency() {
        let jpy = Currency::parse("JPY").unwrap();
        let kwd = Currency::parse("KWD").unwrap();
        assert_eq!(parse_decimal("19.99", eur()), Ok(1999));
        assert_eq!(parse_decimal("19.9", eur()), Ok(1990));
        assert_eq!(parse_decimal("19", eur()), Ok(1900));
        assert_eq!(parse_decimal(" 0.05 ", eur()), Ok(5));
        assert_eq!(parse_decimal("1999", jpy), Ok(1999));
        assert_eq!(
            parse_decimal("1.5", jpy),
            Err("this currency has no decimals")
        );
        assert_eq!(parse_decimal("1.234", kwd), Ok(1234));
        assert_eq!(
            parse_decimal("1.999", eur()),
            Err("too many decimals for this currency")
        );
        for bad in ["", ".5", "5.", "1,99", "1.2.3", "abc", "+1", "1e3", "€5"] {
            assert!(parse_decimal(bad, eur()).is_err(), "{bad:?}");
        }
        assert_eq!(parse_decimal("-1.00", eur()), Err("must not be negative"));
        assert_eq!(parse_decimal("99999999999999", eur()), Err("too large"));
    }

    #[test]
    fn formatting_shows_the_minor_unit() {
        assert_eq!(format_decimal(Money::new(1999, eur())), "19.99");
        assert_eq!(format_decimal(Money::new(5, eur())), "0.05");
        assert_eq!(
            format_decimal(Money::new(1999, Currency::parse("JPY").unwrap())),
            "1999"
        );
        assert_eq!(
            format_decimal(Money::new(1, Currency::parse("BHD").unwrap())),
            "0.001"
        );
    }

    proptest! {
        #[test]
        fn formatting_and_parsing_round_trip(amount in 0..=MAX_AMOUNT, pick in 0usize..4) {
            let currency = Currency::parse(["EUR", "JPY", "KWD", "USD"][pick]).unwrap();
            let text = format_decimal(Money::new(amount, currency));
            prop_assert_eq!(parse_decimal(&text, currency), Ok(amount));
        }
    }
}

//! Money: integer minor units and an ISO 4217 currency. Never floats.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An ISO 4217 alphabetic code that Mercato knows the minor unit of.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency([u8; 3]);

/// Currencies Mercato accepts, with their number of decimal places (ISO 4217).
const KNOWN: &[(&str, u8)] = &[
    ("AUD", 2),
    ("BRL", 2),
    ("CAD", 2),
    ("CHF", 2),
    ("CNY", 2),
    ("CZK", 2),
    ("DKK", 2),
    ("EUR", 2),
    ("GBP", 2),
    ("HKD", 2),
    ("HUF", 2),
    ("INR", 2),
    ("JPY", 0),
    ("KRW", 0),
    ("MXN", 2),
    ("NOK", 2),
    ("NZD", 2),
    ("PLN", 2),
    ("RON", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("USD", 2),
    ("ZAR", 2),
    ("BHD", 3),
    ("KWD", 3),
    ("TND", 3),
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown currency {0:?}: expected an ISO 4217 code such as EUR or USD")]
pub struct UnknownCurrency(pub String);

impl Currency {
    pub fn parse(code: &str) -> Result<Self, UnknownCurrency> {
        KNOWN
            .iter()
            .find(|(known, _)| *known == code)
            .map(|(known, _)| {
                let b = known.as_bytes();
                Self([b[0], b[1], b[2]])
            })
            .ok_or_else(|| UnknownCurrency(code.to_owned()))
    }

    pub fn code(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }

    /// Decimal places of the minor unit (2 for EUR, 0 for JPY).
    pub fn exponent(&self) -> u8 {
        KNOWN
            .iter()
            .find(|(c, _)| *c == self.code())
            .map(|(_, e)| *e)
            .unwrap_or(2)
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl std::str::FromStr for Currency {
    type Err = UnknownCurrency;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl utoipa::PartialSchema for Currency {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .enum_values(Some(KNOWN.iter().map(|(c, _)| *c)))
            .into()
    }
}

impl utoipa::ToSchema for Currency {}

/// An amount in minor units (cents) of one currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Money {
    pub amount: i64,
    pub currency: Currency,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("cannot combine {0} with {1}")]
    CurrencyMismatch(Currency, Currency),
    #[error("amount out of range")]
    Overflow,
}

impl Money {
    pub const fn new(amount: i64, currency: Currency) -> Self {
        Self { amount, currency }
    }

    pub const fn zero(currency: Currency) -> Self {
        Self {
            amount: 0,
            currency,
        }
    }

    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        self.amount
            .checked_add(other.amount)
            .map(|a| Money::new(a, self.currency))
            .ok_or(MoneyError::Overflow)
    }

    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        self.amount
            .checked_sub(other.amount)
            .map(|a| Money::new(a, self.currency))
            .ok_or(MoneyError::Overflow)
    }

    fn same_currency(self, other: Money) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch(self.currency, other.currency))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_known_currencies_only() -> Result<(), UnknownCurrency> {
        assert_eq!(Currency::parse("EUR")?.exponent(), 2);
        assert_eq!(Currency::parse("JPY")?.exponent(), 0);
        assert!(Currency::parse("eur").is_err());
        assert!(Currency::parse("XYZ").is_err());
        Ok(())
    }

    #[test]
    fn refuses_to_mix_currencies() -> Result<(), UnknownCurrency> {
        let eur = Money::new(100, Currency::parse("EUR")?);
        let usd = Money::new(100, Currency::parse("USD")?);
        assert!(matches!(
            eur.checked_add(usd),
            Err(MoneyError::CurrencyMismatch(..))
        ));
        assert_eq!(eur.checked_add(eur).map(|m| m.amount), Ok(200));
        assert_eq!(
            Money::new(i64::MAX, eur.currency).checked_add(eur),
            Err(MoneyError::Overflow)
        );
        Ok(())
    }

    #[test]
    fn json_shape_is_amount_and_code() -> Result<(), Box<dyn std::error::Error>> {
        let m = Money::new(1999, Currency::parse("EUR")?);
        assert_eq!(
            serde_json::to_string(&m)?,
            r#"{"amount":1999,"currency":"EUR"}"#
        );
        Ok(())
    }
}

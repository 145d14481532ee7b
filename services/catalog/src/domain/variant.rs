//! Variants: what a shopper actually buys. Each has a SKU unique in the shop, a price in the
//! product's one currency, and a value for each of the product's option types.

use super::price::{check_amount, check_compare_at};
use mercato_kernel::{Currency, Money};
use mercato_tenant_context::{ProductId, VariantId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Length, width and height in millimetres.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Dimensions {
    pub length: i64,
    pub width: i64,
    pub height: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    pub id: VariantId,
    pub product: ProductId,
    pub sku: String,
    pub title: Option<String>,
    /// A value for each of the product's option types (`{"size": "M"}`).
    pub options: BTreeMap<String, String>,
    pub price: Money,
    pub compare_at: Option<Money>,
    pub weight_grams: Option<i64>,
    pub dimensions: Option<Dimensions>,
    pub barcode: Option<String>,
    pub position: i32,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl Variant {
    /// Whether what a person can change differs (ids, position and times aside).
    pub fn same_content(&self, other: &Variant) -> bool {
        self.sku == other.sku
            && self.title == other.title
            && self.options == other.options
            && self.price == other.price
            && self.compare_at == other.compare_at
            && self.weight_grams == other.weight_grams
            && self.dimensions == other.dimensions
            && self.barcode == other.barcode
    }

    /// Whether `other` shows shoppers something this variant does not: every field a
    /// person edits is on the product page but the barcode.
    pub fn shown_differs(&self, other: &Variant) -> bool {
        self.sku != other.sku
            || self.title != other.title
            || self.options != other.options
            || self.price != other.price
            || self.compare_at != other.compare_at
            || self.weight_grams != other.weight_grams
            || self.dimensions != other.dimensions
    }
}

/// A SKU: 1-64 ASCII letters, digits, `-`, `_`, `.` or `/`, starting with a letter or digit.
pub fn check_sku(sku: &str) -> Result<(), &'static str> {
    let ok = !sku.is_empty()
        && sku.len() <= 64
        && sku.starts_with(|c: char| c.is_ascii_alphanumeric())
        && sku
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'/'));
    if ok {
        Ok(())
    } else {
        Err("1-64 letters, digits, `-`, `_`, `.` or `/`, starting with a letter or digit")
    }
}

/// A barcode (GTIN/EAN/UPC): 8 to 14 digits.
pub fn check_barcode(code: &str) -> Result<(), &'static str> {
    if (8..=14).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err("8 to 14 digits (GTIN, EAN or UPC)")
    }
}

/// A weight in grams: 0 to 1,000,000 (a tonne).
pub fn check_weight(grams: i64) -> Result<(), &'static str> {
    if (0..=1_000_000).contains(&grams) {
        Ok(())
    } else {
        Err("0 to 1000000 grams")
    }
}

/// One side of a parcel in millimetres: 1 to 10,000.
pub fn check_side(mm: i64) -> Result<(), &'static str> {
    if (1..=10_000).contains(&mm) {
        Ok(())
    } else {
        Err("1 to 10000 millimetres")
    }
}

/// The price: not negative, not absurd (the currency is known once it parsed).
pub fn check_price(price: Money) -> Result<(), &'static str> {
    check_amount(price.amount)
}

/// The option values of one variant against the product's option types: one value (1-50
/// characters, no `|` or `=`) for each type, and no other keys. Returns the offending key.
pub fn check_options(
    option_types: &[String],
    options: &BTreeMap<String, String>,
) -> Result<(), (String, &'static str)> {
    for name in option_types {
        match options.get(name) {
            None => return Err((name.clone(), "a value is required for this option")),
            Some(value) => {
                let ok = !value.trim().is_empty()
                    && value.chars().count() <= 50
                    && !value
                        .chars()
                        .any(|c| c.is_control() || c == '|' || c == '=');
                if !ok {
                    return Err((name.clone(), "1-50 characters, without `|` or `=`"));
                }
            }
        }
    }
    if let Some(extra) = options.keys().find(|k| !option_types.contains(k)) {
        return Err((extra.clone(), "the product has no such option type"));
    }
    Ok(())
}

/// Why a set of variants cannot belong to one product: a second currency, or two variants
/// with the same option values. Returns the index of the offending variant.
pub fn check_together<'a>(
    variants: impl IntoIterator<Item = (&'a Money, &'a BTreeMap<String, String>)>,
    currency: Option<Currency>,
) -> Result<(), (usize, VariantClash)> {
    let mut currency = currency;
    let mut combinations: Vec<&BTreeMap<String, String>> = Vec::new();
    for (index, (price, options)) in variants.into_iter().enumerate() {
        match currency {
            Some(c) if c != price.currency => return Err((index, VariantClash::Currency(c))),
            _ => currency = Some(price.currency),
        }
        if combinations.contains(&options) {
            let clash = if options.is_empty() {
                VariantClash::NoOptionTypes
            } else {
                VariantClash::SameOptions
            };
            return Err((index, clash));
        }
        combinations.push(options);
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VariantClash {
    /// The product's variants are priced in this currency.
    Currency(Currency),
    SameOptions,
    /// A second variant of a product without option types: nothing tells them apart.
    NoOptionTypes,
}

impl VariantClash {
    pub fn message(self) -> String {
        match self {
            VariantClash::Currency(c) => {
                format!("all variants of a product share one currency; this product uses {c}")
            }
            VariantClash::SameOptions => {
                "another variant of this product has the same option values".to_owned()
            }
            VariantClash::NoOptionTypes => {
                "a product without option types has one variant; give it option types (e.g. size) to tell variants apart".to_owned()
            }
        }
    }
}

/// A compare-at price next to a price: see [`check_compare_at`].
pub fn check_prices(price: Money, compare_at: Option<Money>) -> Vec<(&'static str, &'static str)> {
    let mut bad = Vec::new();
    if let Err(m) = check_price(price) {
        bad.push(("/price/amount", m));
    }
    if let Some(compare_at) = compare_at
        && let Err(m) = check_compare_at(price, compare_at)
    {
        bad.push(("/compare_at_price", m));
    }
    bad
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eur(amount: i64) -> Money {
        Money::new(amount, Currency::parse("EUR").unwrap())
    }

    #[test]
    fn everything_but_the_barcode_is_shown() {
        let now = chrono::Utc::now();
        let base = Variant {
            id: VariantId::new(),
            product: ProductId::new(),
            sku: "TEA-1".into(),
            title: None,
            options: BTreeMap::new(),
            price: eur(1000),
            compare_at: None,
            weight_grams: Some(100),
            dimensions: None,
            barcode: None,
            position: 0,
            created_at: now,
            updated_at: now,
        };
        let mut moved = base.clone();
        moved.position = 3;
        moved.updated_at = now + chrono::Duration::seconds(1);
        moved.barcode = Some("4006381333931".into());
        assert!(!base.shown_differs(&moved), "position, times and barcode");
        let edits: [fn(&mut Variant); 7] = [
            |v| v.sku = "TEA-2".into(),
            |v| v.title = Some("Large".into()),
            |v| {
                v.options.insert("size".into(), "L".into());
            },
            |v| v.price = eur(999),
            |v| v.compare_at = Some(eur(5000)),
            |v| v.weight_grams = Some(1),
            |v| {
                v.dimensions = Some(Dimensions {
                    length: 1,
                    width: 1,
                    height: 1,
                })
            },
        ];
        for edit in edits {
            let mut changed = base.clone();
            edit(&mut changed);
            assert!(base.shown_differs(&changed), "{changed:?}");
        }
    }

    #[test]
    fn skus_are_plain_codes() {
        for ok in ["TEA-001", "a", "x/y.z_1", &"A".repeat(64)] {
            assert!(check_sku(ok).is_ok(), "{ok:?}");
        }
        for bad in ["", "-TEA", "TEA 1", "TÉA", "a,b", &"A".repeat(65)] {
            assert!(check_sku(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn prices_are_checked_per_field() {
        assert!(check_prices(eur(1000), Some(eur(1200))).is_empty());
        assert_eq!(
            check_prices(eur(-5), None),
            vec![("/price/amount", "must not be negative")]
        );
        assert_eq!(
            check_prices(eur(1000), Some(eur(900))),
            vec![("/compare_at_price", "must be above the price")]
        );
    }

    #[test]
    fn every_option_type_gets_one_value() {
        let types = vec!["size".to_owned(), "colour".to_owned()];
        let mut options = BTreeMap::new();
        options.insert("size".to_owned(), "M".to_owned());
        assert_eq!(
            check_options(&types, &options).unwrap_err().0,
            "colour",
            "missing value"
        );
        options.insert("colour".to_owned(), "red".to_owned());
        assert!(check_options(&types, &options).is_ok());
        options.insert("fit".to_owned(), "slim".to_owned());
        assert_eq!(check_options(&types, &options).unwrap_err().0, "fit");
        options.remove("fit");
        options.insert("colour".to_owned(), "a=b".to_owned());
        assert!(check_options(&types, &options).is_err());
    }

    #[test]
    fn variants_of_a_product_share_a_currency_and_differ_in_options() {
        let usd = Money::new(100, Currency::parse("USD").unwrap());
        let (m, l) = (
            BTreeMap::from([("size".to_owned(), "M".to_owned())]),
            BTreeMap::from([("size".to_owned(), "L".to_owned())]),
        );
        assert!(check_together([(&eur(1), &m), (&eur(2), &l)], None).is_ok());
        assert_eq!(
            check_together([(&eur(1), &m), (&usd, &l)], None)
                .unwrap_err()
                .0,
            1
        );
        assert!(matches!(
            check_together([(&eur(1), &m)], Some(usd.currency)),
            Err((0, VariantClash::Currency(_)))
        ));
        assert_eq!(
            check_together([(&eur(1), &m), (&eur(2), &m)], None).unwrap_err(),
            (1, VariantClash::SameOptions)
        );
        let none = BTreeMap::new();
        assert_eq!(
            check_together([(&eur(1), &none), (&eur(2), &none)], None).unwrap_err(),
            (1, VariantClash::NoOptionTypes)
        );
    }

    #[test]
    fn physical_fields_have_sane_ranges() {
        assert!(check_barcode("4006381333931").is_ok());
        assert!(check_barcode("1234").is_err());
        assert!(check_barcode("40063813339x1").is_err());
        assert!(check_weight(0).is_ok() && check_weight(-1).is_err());
        assert!(check_side(1).is_ok() && check_side(0).is_err() && check_side(10_001).is_err());
    }
}

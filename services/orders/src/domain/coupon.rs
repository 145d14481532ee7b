//! Coupons: whether a code applies to a cart, and how much it takes off each line.
//!
//! A coupon takes a percentage or a fixed amount off the lines it covers (its **scope**): the
//! whole order, one vendor's lines, the lines of products in some categories (a product is in
//! a category when the category is anywhere on its path, so a coupon on a parent category
//! covers its sub-categories), or some products. The lines in scope are the **eligible**
//! lines; their subtotal is the **eligible subtotal**.
//!
//! # When it applies
//!
//! Checked in this order, the first failure being the reason given ([`NotApplicable`]):
//!
//! 1. it is active;
//! 2. `starts_at ≤ now` (when set) and `now < ends_at` (when set; the end is exclusive);
//! 3. fewer than `usage_limit` orders have used it, and fewer than `per_customer_limit` of this
//!    customer's (when set);
//! 4. a fixed value and a minimum, when set, are in the cart's currency (there is no
//!    conversion);
//! 5. at least one line is eligible;
//! 6. the **eligible** subtotal (line subtotals as displayed, before tax and shipping — gross
//!    when the shop's prices include tax) is at least `min_subtotal`, when set. Lines the
//!    coupon does not cover do not count towards its minimum.
//!
//! # How much
//!
//! - A percentage takes `eligible subtotal × p / 100`, rounded half up to the minor unit.
//! - A fixed amount takes that amount, but never more than the eligible subtotal.
//!
//! The discount is then spread over the eligible lines in proportion to their amounts with
//! [`split::allocate`] (largest remainder), so the per-line discounts add up to it exactly;
//! no line is discounted by more than its own amount, and lines not in scope get 0. The
//! discount is taken off the displayed prices, so it is gross when the shop's prices include
//! tax, and tax is computed on the discounted line.
//!
//! # Who pays for it
//!
//! A coupon's discount is funded by the shop, by the vendor, or shared between them by a
//! percentage: [`Coupon::vendor_percent`] is the vendor's share (`funded_by: shop` is 0 %,
//! `vendor` is 100 %). Each vendor order's discount is split once, by [`split_funding`]: the
//! vendor's part is `discount × vendor_percent / 100` rounded half up to the minor unit, the
//! shop's part is the rest, so the two always add up to the discount (ADR 0039).

use crate::domain::{percent, split};
use chrono::{DateTime, Utc};
use mercato_kernel::{Currency, Money};
use mercato_tenant_context::{CategoryId, ProductId, VendorId};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// How much a coupon takes off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CouponValue {
    /// A percentage, more than 0 and at most 100, at most 4 decimal places.
    Percent(Decimal),
    /// A fixed amount off, more than 0, in the shop's currency.
    Fixed(Money),
}

impl CouponValue {
    /// Checks the value: a percentage in (0, 100] with at most 4 decimals (returned
    /// normalized), or a positive amount.
    pub fn validate(self) -> Result<Self, &'static str> {
        match self {
            Self::Percent(p) => {
                let p = percent::check_percent(p)
                    .map_err(|_| "a percentage above 0 and at most 100, at most 4 decimals")?;
                if p.is_zero() {
                    return Err("a percentage above 0 and at most 100, at most 4 decimals");
                }
                Ok(Self::Percent(p))
            }
            Self::Fixed(m) if m.amount <= 0 => Err("an amount above 0"),
            fixed => Ok(fixed),
        }
    }
}

/// Which lines a coupon covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CouponScope {
    /// Every line.
    Order,
    /// The lines of one vendor.
    Vendor(VendorId),
    /// Lines whose product's category path contains any of these.
    Categories(Vec<CategoryId>),
    /// Lines of these products.
    Products(Vec<ProductId>),
}

impl CouponScope {
    pub fn covers(&self, line: &CouponLine) -> bool {
        match self {
            Self::Order => true,
            Self::Vendor(vendor) => line.vendor == *vendor,
            Self::Categories(categories) => line.categories.iter().any(|c| categories.contains(c)),
            Self::Products(products) => products.contains(&line.product),
        }
    }

    /// Stable text for storage: `order`, `vendor`, `categories`, `products`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Order => "order",
            Self::Vendor(_) => "vendor",
            Self::Categories(_) => "categories",
            Self::Products(_) => "products",
        }
    }
}

/// Who bears the cost of a discount. A shop-funded discount is paid back to the vendor at
/// payout; a vendor-funded one is the vendor's own price cut.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum FundedBy {
    #[default]
    Shop,
    Vendor,
}

impl FundedBy {
    pub fn code(self) -> &'static str {
        match self {
            Self::Shop => "shop",
            Self::Vendor => "vendor",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        match code {
            "shop" => Some(Self::Shop),
            "vendor" => Some(Self::Vendor),
            _ => None,
        }
    }

    /// The vendor's share of the discount, percent.
    pub fn vendor_percent(self) -> Decimal {
        match self {
            Self::Shop => Decimal::ZERO,
            Self::Vendor => Decimal::ONE_HUNDRED,
        }
    }
}

/// A shop's coupon, as far as applying it goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coupon {
    /// Normalized with [`normalize_code`].
    pub code: String,
    pub value: CouponValue,
    pub scope: CouponScope,
    /// The eligible subtotal must be at least this much.
    pub min_subtotal: Option<Money>,
    /// Usable from (inclusive).
    pub starts_at: Option<DateTime<Utc>>,
    /// Usable until (exclusive).
    pub ends_at: Option<DateTime<Utc>>,
    /// Orders that may use it in all.
    pub usage_limit: Option<i64>,
    /// Orders one customer may use it for.
    pub per_customer_limit: Option<i64>,
    /// Who funds the discount when `vendor_share_percent` is not set.
    pub funded_by: FundedBy,
    /// The vendor's share of the discount, percent (0 to 100, at most 4 decimals); the shop
    /// funds the rest. Set, it replaces `funded_by`; coupons stored before it existed lack it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor_share_percent: Option<Decimal>,
    pub active: bool,
}

impl Coupon {
    /// The vendor's share of the discount, percent: `vendor_share_percent`, else 0 for a
    /// shop-funded coupon and 100 for a vendor-funded one.
    pub fn vendor_percent(&self) -> Decimal {
        self.vendor_share_percent
            .unwrap_or_else(|| self.funded_by.vendor_percent())
    }
}

/// A discount split between who funds it; `by_shop + by_vendor` is the discount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DiscountSplit {
    pub by_shop: i64,
    pub by_vendor: i64,
}

/// Splits `discount` by the vendor's share `vendor_percent`: the vendor's part is
/// `discount × vendor_percent / 100` rounded half up, the shop's part the rest. The one
/// place the split is rounded.
pub fn split_funding(discount: i64, vendor_percent: Decimal) -> DiscountSplit {
    let by_vendor = percent::percent_of(discount, vendor_percent);
    DiscountSplit {
        by_shop: discount - by_vendor,
        by_vendor,
    }
}

/// How a split reads in words: `shop` (the vendor's share is 0 %), `vendor` (100 %) or
/// `shared`.
pub fn funding_kind(vendor_percent: Decimal) -> &'static str {
    if vendor_percent <= Decimal::ZERO {
        "shop"
    } else if vendor_percent >= Decimal::ONE_HUNDRED {
        "vendor"
    } else {
        "shared"
    }
}

/// How often a coupon has been used already (by orders that hold it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CouponUsage {
    pub total: i64,
    /// By this customer; 0 for a guest.
    pub by_customer: i64,
}

/// A cart line as a coupon sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CouponLine {
    pub vendor: VendorId,
    pub product: ProductId,
    /// The product's category path, root to leaf.
    pub categories: Vec<CategoryId>,
    /// The line subtotal in the cart currency, minor units.
    pub amount: i64,
}

/// Why a coupon does not apply to a cart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotApplicable {
    Inactive,
    NotStarted,
    Ended,
    UsageLimitReached,
    CustomerLimitReached,
    BelowMinimum { minimum: Money },
    NoEligibleLines,
    CurrencyMismatch,
}

impl NotApplicable {
    /// A stable error code for API clients.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Inactive => "coupon_inactive",
            Self::NotStarted => "coupon_not_started",
            Self::Ended => "coupon_ended",
            Self::UsageLimitReached => "coupon_usage_limit_reached",
            Self::CustomerLimitReached => "coupon_customer_limit_reached",
            Self::BelowMinimum { .. } => "coupon_below_minimum",
            Self::NoEligibleLines => "coupon_no_eligible_lines",
            Self::CurrencyMismatch => "coupon_currency_mismatch",
        }
    }

    /// A sentence a shopper can read.
    pub fn message(&self) -> String {
        match self {
            Self::Inactive => "This coupon is not active".to_owned(),
            Self::NotStarted => "This coupon cannot be used yet".to_owned(),
            Self::Ended => "This coupon has expired".to_owned(),
            Self::UsageLimitReached => "This coupon has been used up".to_owned(),
            Self::CustomerLimitReached => {
                "You have already used this coupon as often as allowed".to_owned()
            }
            Self::BelowMinimum { minimum } => format!(
                "The order subtotal must be at least {} for this coupon",
                format_money(*minimum)
            ),
            Self::NoEligibleLines => {
                "This coupon does not apply to any item in the cart".to_owned()
            }
            Self::CurrencyMismatch => "This coupon cannot be used in this currency".to_owned(),
        }
    }
}

impl std::fmt::Display for NotApplicable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for NotApplicable {}

/// `5000 EUR` → `50.00 EUR`, `500 JPY` → `500 JPY`, `1234 KWD` → `1.234 KWD`.
pub fn format_money(money: Money) -> String {
    let exponent = u32::from(money.currency.exponent());
    let sign = if money.amount < 0 { "-" } else { "" };
    let magnitude = money.amount.unsigned_abs();
    if exponent == 0 {
        return format!("{sign}{magnitude} {}", money.currency);
    }
    let unit = 10u64.pow(exponent);
    format!(
        "{sign}{}.{:0width$} {}",
        magnitude / unit,
        magnitude % unit,
        money.currency,
        width = exponent as usize
    )
}

/// A coupon code as shoppers type it: trimmed and upper-cased, it must be 3 to 32 characters
/// of `A-Z`, `0-9`, `-`, `_`.
pub fn normalize_code(code: &str) -> Result<String, &'static str> {
    let code = code.trim().to_ascii_uppercase();
    if (3..=32).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    {
        Ok(code)
    } else {
        Err("3 to 32 letters, digits, '-' or '_'")
    }
}

/// The discount `coupon` gives each of `lines` (same order), or why it does not apply
/// (see the module documentation).
pub fn discount(
    coupon: &Coupon,
    lines: &[CouponLine],
    currency: Currency,
    now: DateTime<Utc>,
    usage: CouponUsage,
) -> Result<Vec<i64>, NotApplicable> {
    if !coupon.active {
        return Err(NotApplicable::Inactive);
    }
    if coupon.starts_at.is_some_and(|start| now < start) {
        return Err(NotApplicable::NotStarted);
    }
    if coupon.ends_at.is_some_and(|end| now >= end) {
        return Err(NotApplicable::Ended);
    }
    if coupon.usage_limit.is_some_and(|limit| usage.total >= limit) {
        return Err(NotApplicable::UsageLimitReached);
    }
    if coupon
        .per_customer_limit
        .is_some_and(|limit| usage.by_customer >= limit)
    {
        return Err(NotApplicable::CustomerLimitReached);
    }
    let fixed_elsewhere = matches!(coupon.value, CouponValue::Fixed(m) if m.currency != currency);
    let minimum_elsewhere = coupon.min_subtotal.is_some_and(|m| m.currency != currency);
    if fixed_elsewhere || minimum_elsewhere {
        return Err(NotApplicable::CurrencyMismatch);
    }

    // Eligible lines weigh their (non-negative) amount; the others weigh nothing.
    let weights: Vec<i64> = lines
        .iter()
        .map(|line| {
            if coupon.scope.covers(line) {
                line.amount.max(0)
            } else {
                0
            }
        })
        .collect();
    if !lines.iter().any(|line| coupon.scope.covers(line)) {
        return Err(NotApplicable::NoEligibleLines);
    }
    let eligible: i128 = weights.iter().map(|w| i128::from(*w)).sum();
    if let Some(minimum) = coupon.min_subtotal
        && eligible < i128::from(minimum.amount)
    {
        return Err(NotApplicable::BelowMinimum { minimum });
    }
    // Σ of non-negative i64 may exceed i64; a discount cannot (it is a percentage of it, or a
    // fixed i64 amount), so compute on the clamped value.
    let eligible = i64::try_from(eligible).unwrap_or(i64::MAX);
    let total = match &coupon.value {
        CouponValue::Percent(p) => percent::percent_of(eligible, *p),
        CouponValue::Fixed(m) => m.amount.clamp(0, eligible),
    };
    Ok(split::allocate(total, &weights))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn eur() -> Currency {
        Currency::parse("EUR").unwrap()
    }

    fn t(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2030, 1, day, 0, 0, 0).unwrap()
    }

    fn dec(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    fn coupon(value: CouponValue, scope: CouponScope) -> Coupon {
        Coupon {
            code: "SAVE10".into(),
            value,
            scope,
            min_subtotal: None,
            starts_at: None,
            ends_at: None,
            usage_limit: None,
            per_customer_limit: None,
            funded_by: FundedBy::Shop,
            vendor_share_percent: None,
            active: true,
        }
    }

    fn line(vendor: VendorId, categories: Vec<CategoryId>, amount: i64) -> CouponLine {
        CouponLine {
            vendor,
            product: ProductId::new(),
            categories,
            amount,
        }
    }

    fn apply(coupon: &Coupon, lines: &[CouponLine]) -> Result<Vec<i64>, NotApplicable> {
        discount(coupon, lines, eur(), t(10), CouponUsage::default())
    }

    #[test]
    fn percentage_of_the_order_is_spread_over_the_lines() {
        let v = VendorId::new();
        let lines = [
            line(v, vec![], 3000),
            line(v, vec![], 2000),
            line(v, vec![], 1000),
        ];
        let c = coupon(CouponValue::Percent(dec("10")), CouponScope::Order);
        assert_eq!(apply(&c, &lines), Ok(vec![300, 200, 100]));
        // 15 % of 60.00 = 9.00; 12.5 % of 0.99 = 0.12375 → 0.12.
        let c = coupon(CouponValue::Percent(dec("15")), CouponScope::Order);
        assert_eq!(apply(&c, &lines), Ok(vec![450, 300, 150]));
        let c = coupon(CouponValue::Percent(dec("12.5")), CouponScope::Order);
        assert_eq!(apply(&c, &[line(v, vec![], 99)]), Ok(vec![12]));
    }

    #[test]
    fn fixed_amounts_are_capped_at_the_eligible_subtotal() {
        let (v1, v2) = (VendorId::new(), VendorId::new());
        let lines = [
            line(v1, vec![], 1000),
            line(v2, vec![], 5000),
            line(v1, vec![], 500),
        ];
        let c = coupon(
            CouponValue::Fixed(Money::new(1000, eur())),
            CouponScope::Vendor(v1),
        );
        // 10.00 over 10.00 and 5.00: 6.67 → 667, 3.33 → 333.
        assert_eq!(apply(&c, &lines), Ok(vec![667, 0, 333]));
        let c = coupon(
            CouponValue::Fixed(Money::new(99_999, eur())),
            CouponScope::Vendor(v1),
        );
        assert_eq!(apply(&c, &lines), Ok(vec![1000, 0, 500]));
    }

    #[test]
    fn category_scope_covers_sub_categories_and_products_are_exact() {
        let v = VendorId::new();
        let (root, leaf, other) = (CategoryId::new(), CategoryId::new(), CategoryId::new());
        let lines = [
            line(v, vec![root, leaf], 2000),
            line(v, vec![other], 2000),
            line(v, vec![], 2000),
        ];
        let c = coupon(
            CouponValue::Percent(dec("50")),
            CouponScope::Categories(vec![root]),
        );
        assert_eq!(apply(&c, &lines), Ok(vec![1000, 0, 0]));
        let c = coupon(
            CouponValue::Percent(dec("50")),
            CouponScope::Products(vec![lines[2].product]),
        );
        assert_eq!(apply(&c, &lines), Ok(vec![0, 0, 1000]));
        let c = coupon(
            CouponValue::Percent(dec("50")),
            CouponScope::Products(vec![ProductId::new()]),
        );
        assert_eq!(apply(&c, &lines), Err(NotApplicable::NoEligibleLines));
    }

    #[test]
    fn the_minimum_counts_eligible_lines_only() {
        let (v1, v2) = (VendorId::new(), VendorId::new());
        let lines = [line(v1, vec![], 3000), line(v2, vec![], 9000)];
        let mut c = coupon(CouponValue::Percent(dec("10")), CouponScope::Vendor(v1));
        c.min_subtotal = Some(Money::new(5000, eur()));
        let err = apply(&c, &lines).unwrap_err();
        assert_eq!(
            err,
            NotApplicable::BelowMinimum {
                minimum: Money::new(5000, eur())
            }
        );
        assert_eq!(err.code(), "coupon_below_minimum");
        assert_eq!(
            err.message(),
            "The order subtotal must be at least 50.00 EUR for this coupon"
        );
        c.min_subtotal = Some(Money::new(3000, eur()));
        assert_eq!(apply(&c, &lines), Ok(vec![300, 0]));
    }

    #[test]
    fn validity_limits_and_currency_are_checked_in_order() {
        let v = VendorId::new();
        let lines = [line(v, vec![], 1000)];
        let base = coupon(CouponValue::Percent(dec("10")), CouponScope::Order);
        let check = |c: &Coupon, usage: CouponUsage| discount(c, &lines, eur(), t(10), usage);
        let fresh = CouponUsage::default();

        let mut c = base.clone();
        c.active = false;
        c.starts_at = Some(t(20));
        assert_eq!(check(&c, fresh), Err(NotApplicable::Inactive));

        let mut c = base.clone();
        c.starts_at = Some(t(11));
        assert_eq!(check(&c, fresh), Err(NotApplicable::NotStarted));
        c.starts_at = Some(t(10));
        assert!(check(&c, fresh).is_ok());

        let mut c = base.clone();
        c.ends_at = Some(t(10));
        assert_eq!(check(&c, fresh), Err(NotApplicable::Ended));
        c.ends_at = Some(t(11));
        assert!(check(&c, fresh).is_ok());

        let mut c = base.clone();
        c.usage_limit = Some(5);
        c.per_customer_limit = Some(1);
        let used = |total, by_customer| CouponUsage { total, by_customer };
        assert_eq!(check(&c, used(5, 0)), Err(NotApplicable::UsageLimitReached));
        assert_eq!(
            check(&c, used(4, 1)),
            Err(NotApplicable::CustomerLimitReached)
        );
        assert!(check(&c, used(4, 0)).is_ok());

        let usd = Currency::parse("USD").unwrap();
        let c = coupon(CouponValue::Fixed(Money::new(100, usd)), CouponScope::Order);
        assert_eq!(check(&c, fresh), Err(NotApplicable::CurrencyMismatch));
        let mut c = base.clone();
        c.min_subtotal = Some(Money::new(1, usd));
        assert_eq!(check(&c, fresh), Err(NotApplicable::CurrencyMismatch));
    }

    #[test]
    fn codes_and_messages_are_stable() {
        let all = [
            NotApplicable::Inactive,
            NotApplicable::NotStarted,
            NotApplicable::Ended,
            NotApplicable::UsageLimitReached,
            NotApplicable::CustomerLimitReached,
            NotApplicable::BelowMinimum {
                minimum: Money::new(500, Currency::parse("JPY").unwrap()),
            },
            NotApplicable::NoEligibleLines,
            NotApplicable::CurrencyMismatch,
        ];
        let codes: Vec<&str> = all.iter().map(NotApplicable::code).collect();
        assert_eq!(codes[1], "coupon_not_started");
        let mut unique = codes.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), all.len());
        assert!(codes.iter().all(|c| c.starts_with("coupon_")));
        assert!(all[5].message().contains("500 JPY"));
        assert_eq!(
            format_money(Money::new(1234, Currency::parse("KWD").unwrap())),
            "1.234 KWD"
        );
        assert_eq!(format_money(Money::new(-5, eur())), "-0.05 EUR");
    }

    #[test]
    fn codes_are_normalized_and_values_validated() {
        assert_eq!(normalize_code("  save-10 "), Ok("SAVE-10".to_owned()));
        assert_eq!(normalize_code("ab_"), Ok("AB_".to_owned()));
        for bad in ["", "ab", "SAVE 10", "ÄBC", &"A".repeat(33), "SAVE%"] {
            assert!(normalize_code(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            CouponValue::Percent(dec("10.50")).validate(),
            Ok(CouponValue::Percent(dec("10.5")))
        );
        assert!(CouponValue::Percent(dec("0")).validate().is_err());
        assert!(CouponValue::Percent(dec("100.01")).validate().is_err());
        assert!(CouponValue::Fixed(Money::new(0, eur())).validate().is_err());
        assert!(CouponValue::Fixed(Money::new(1, eur())).validate().is_ok());
        assert_eq!(
            FundedBy::parse(FundedBy::Vendor.code()),
            Some(FundedBy::Vendor)
        );
        assert_eq!(serde_json::to_string(&FundedBy::Shop).unwrap(), "\"shop\"");
    }

    #[test]
    fn funding_splits_round_the_vendor_part_half_up_and_the_shop_takes_the_rest() {
        // 30 % of 10.00 is 3.00; of 0.05 it is 0.015 → 0.02 (half up), the shop 0.03.
        assert_eq!(
            split_funding(1000, dec("30")),
            DiscountSplit {
                by_shop: 700,
                by_vendor: 300
            }
        );
        assert_eq!(
            split_funding(5, dec("30")),
            DiscountSplit {
                by_shop: 3,
                by_vendor: 2
            }
        );
        // 33.3333 % of 1.00 is 0.333333 → 0.33.
        assert_eq!(split_funding(100, dec("33.3333")).by_vendor, 33);
        assert_eq!(split_funding(0, dec("30")), DiscountSplit::default());
        assert_eq!(split_funding(999, Decimal::ZERO).by_shop, 999);
        assert_eq!(split_funding(999, Decimal::ONE_HUNDRED).by_vendor, 999);
    }

    #[test]
    fn funded_by_stands_for_0_or_100_percent_unless_a_share_is_set() {
        let mut c = coupon(CouponValue::Percent(dec("10")), CouponScope::Order);
        assert_eq!(c.vendor_percent(), Decimal::ZERO);
        c.funded_by = FundedBy::Vendor;
        assert_eq!(c.vendor_percent(), Decimal::ONE_HUNDRED);
        c.vendor_share_percent = Some(dec("30"));
        assert_eq!(c.vendor_percent(), dec("30"));
        assert_eq!(funding_kind(dec("30")), "shared");
        assert_eq!(funding_kind(Decimal::ZERO), "shop");
        assert_eq!(funding_kind(Decimal::ONE_HUNDRED), "vendor");
        // A coupon stored before shares existed reads as its `funded_by`.
        let mut stored = serde_json::to_value(&c).unwrap();
        stored
            .as_object_mut()
            .unwrap()
            .remove("vendor_share_percent");
        let read: Coupon = serde_json::from_value(stored).unwrap();
        assert_eq!(read.vendor_percent(), Decimal::ONE_HUNDRED);
    }

    fn any_value() -> impl Strategy<Value = CouponValue> {
        prop_oneof![
            (1i64..=1_000_000).prop_map(|n| CouponValue::Percent(Decimal::new(n, 4))),
            (1i64..=10_000_000).prop_map(|n| CouponValue::Fixed(Money::new(n, eur()))),
        ]
    }

    proptest! {
        /// The discount never exceeds the eligible subtotal nor any line, and skips lines out
        /// of scope.
        #[test]
        fn discounts_stay_within_the_eligible_lines(
            value in any_value(),
            lines in proptest::collection::vec((0usize..3, 0i64..=5_000_000), 1..10),
            scoped_vendor in 0usize..3,
            whole_order in any::<bool>(),
        ) {
            let vendors: Vec<VendorId> = (0..3).map(|_| VendorId::new()).collect();
            let lines: Vec<CouponLine> = lines
                .into_iter()
                .map(|(v, amount)| line(vendors[v], vec![], amount))
                .collect();
            let scope = if whole_order { CouponScope::Order } else { CouponScope::Vendor(vendors[scoped_vendor]) };
            let c = coupon(value.clone(), scope.clone());
            match apply(&c, &lines) {
                Err(reason) => {
                    prop_assert_eq!(reason, NotApplicable::NoEligibleLines);
                    prop_assert!(!lines.iter().any(|l| scope.covers(l)));
                }
                Ok(discounts) => {
                    prop_assert_eq!(discounts.len(), lines.len());
                    let eligible: i64 = lines.iter().filter(|l| scope.covers(l)).map(|l| l.amount).sum();
                    let total: i64 = discounts.iter().sum();
                    prop_assert!(total <= eligible);
                    for (d, l) in discounts.iter().zip(&lines) {
                        prop_assert!(*d >= 0 && *d <= l.amount);
                        if !scope.covers(l) {
                            prop_assert_eq!(*d, 0);
                        }
                    }
                    let expected = match value {
                        CouponValue::Percent(p) => percent::percent_of(eligible, p),
                        CouponValue::Fixed(m) => m.amount.min(eligible),
                    };
                    prop_assert_eq!(total, expected);
                }
            }
        }

        /// The two parts of a split add up to the discount and neither is negative.
        #[test]
        fn funding_splits_add_up(discount in 0i64..=i64::MAX / 2, share in 0i64..=1_000_000) {
            let percent = Decimal::new(share, 4);
            let split = split_funding(discount, percent);
            prop_assert_eq!(split.by_shop + split.by_vendor, discount);
            prop_assert!(split.by_shop >= 0 && split.by_vendor >= 0);
            prop_assert_eq!(split.by_vendor, percent::percent_of(discount, percent));
        }
    }
}

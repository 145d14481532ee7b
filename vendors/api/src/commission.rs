//! Commission: what the shop keeps of a vendor's sale, decided by the shop's rules.
//!
//! A rule charges a percentage of the line amount, a fixed fee, or both, and may be limited
//! per currency by a minimum and a maximum. It applies at one of four levels, from the most
//! specific: a vendor in a category ([`Level::VendorCategory`]), a vendor ([`Level::Vendor`]),
//! a category ([`Level::Category`]), the whole shop ([`Level::Shop`]). A rule is valid from
//! `valid_from` (inclusive) until `valid_until` (exclusive; open-ended when absent).
//!
//! # Which rule applies to a line
//!
//! Among the rules valid at the line's time that match it (a rule's vendor and category, when
//! set, equal the line's), the most specific level wins. Several valid rules on the same level
//! are broken by the latest `valid_from`, then by the newest id (ids are time-ordered): the
//! rule the merchant set up last is the one in force. The rule is chosen by level alone; its
//! currency settings do not take part in the choice.
//!
//! # How much
//!
//! 1. The percentage part is `amount × percent / 100`, rounded **half up** to the minor unit
//!    of the line's currency (amounts are never negative, so half up is half away from zero:
//!    0.5 cent becomes 1 cent, 0.49 cent becomes 0). Integer arithmetic, no floats.
//! 2. The fixed fee is added **only when it is in the line's currency**; a fee in another
//!    currency does not apply (there is no conversion). Use a per-currency minimum to charge
//!    something in other currencies.
//! 3. The sum is raised to the rule's minimum and lowered to its maximum for the line's
//!    currency, when it has them (a rule without limits for a currency is not limited in it).
//! 4. Finally it is clamped into `[0, amount]`: commission never exceeds the line and is never
//!    negative, whatever the fee or the minimum say.
//!
//! A line that no rule matches has no commission.

use chrono::{DateTime, Utc};
use mercato_kernel::{Currency, Money};
use mercato_tenant_context::{CategoryId, VendorId};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

mercato_kernel::typed_id!(
    /// A commission rule of one shop.
    pub CommissionRuleId, "com"
);

/// How specific a rule is. The order is the precedence: a greater level wins.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// No vendor, no category: the shop's default.
    Shop,
    /// Every vendor's sales in one category.
    Category,
    /// One vendor's sales in any category.
    Vendor,
    /// One vendor's sales in one category.
    VendorCategory,
}

impl Level {
    pub fn code(self) -> &'static str {
        match self {
            Self::Shop => "shop",
            Self::Category => "category",
            Self::Vendor => "vendor",
            Self::VendorCategory => "vendor_category",
        }
    }
}

/// A percentage from 0 to 100 with at most [`Percent::MAX_DECIMALS`] decimal places
/// (`12.5` is 12.5 %).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Percent(Decimal);

impl Percent {
    pub const MAX_DECIMALS: u32 = 4;

    pub fn new(value: Decimal) -> Result<Self, &'static str> {
        if value < Decimal::ZERO || value > Decimal::ONE_HUNDRED {
            return Err("a percentage from 0 to 100");
        }
        let value = value.normalize();
        if value.scale() > Self::MAX_DECIMALS {
            return Err("at most 4 decimal places");
        }
        Ok(Self(value))
    }

    /// Parses plain decimal notation: digits, optionally a point and more digits (`12.5`).
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        const FORMAT: &str = "a decimal such as \"12.5\"";
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty()
            || whole.len() > 3
            || !digits(whole)
            || !digits(fraction)
            || (text.contains('.') && fraction.is_empty())
        {
            return Err(FORMAT);
        }
        // Trailing zeros say nothing: 12.50000 is 12.5.
        if fraction.trim_end_matches('0').len() > Self::MAX_DECIMALS as usize {
            return Err("at most 4 decimal places");
        }
        let fraction = &fraction[..fraction.len().min(Self::MAX_DECIMALS as usize)];
        let value: Decimal = format!("{whole}.{fraction:0<1}")
            .parse()
            .map_err(|_| FORMAT)?;
        Self::new(value)
    }

    pub fn as_decimal(self) -> Decimal {
        self.0
    }

    /// The percentage in millionths of the amount: 12.5 % is 125 000 millionths.
    fn per_million(self) -> i128 {
        let mut value = self.0;
        value.rescale(Self::MAX_DECIMALS);
        // percent × 10⁴, exact because the scale is at most 4: 0 ..= 1 000 000.
        value.mantissa()
    }
}

impl std::fmt::Display for Percent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl Serialize for Percent {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

/// Reads the decimal string [`Percent`] serializes to (events carry it so).
impl<'de> Deserialize<'de> for Percent {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// `amount × percent / 100` rounded half up to the minor unit; `amount` must be ≥ 0.
pub fn percentage_of(amount: i64, percent: Percent) -> i64 {
    let amount = i128::from(amount.max(0));
    // amount × percent / 100 = amount × millionths / 10⁶; adding half the divisor before the
    // (truncating, non-negative) division rounds half up.
    let rounded = (amount * percent.per_million() + 500_000) / 1_000_000;
    // At most 100 % of an i64: it fits.
    i64::try_from(rounded).unwrap_or(i64::MAX)
}

/// The least and most commission a rule takes in one currency, in its minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CurrencyLimits {
    pub currency: Currency,
    /// Commission is at least this much (when the line is at least this much).
    pub min: Option<i64>,
    /// Commission is at most this much.
    pub max: Option<i64>,
}

/// Checks one currency's limits: at least one bound, none negative, min ≤ max.
pub fn check_limits(min: Option<i64>, max: Option<i64>) -> Result<(), &'static str> {
    match (min, max) {
        (None, None) => Err("give a min, a max or both"),
        (Some(n), _) | (_, Some(n)) if n < 0 => Err("min and max must not be negative"),
        (Some(min), Some(max)) if min > max => Err("min must not be greater than max"),
        _ => Ok(()),
    }
}

/// A rule's validity: it must end after it starts.
pub fn check_validity(
    from: DateTime<Utc>,
    until: Option<DateTime<Utc>>,
) -> Result<(), &'static str> {
    match until {
        Some(until) if until <= from => Err("must be later than valid_from"),
        _ => Ok(()),
    }
}

/// One commission rule of a shop. Rules are not edited: to change the terms, add a rule
/// (a later `valid_from` wins on its level) and delete or let the old one end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommissionRule {
    pub id: CommissionRuleId,
    pub vendor: Option<VendorId>,
    pub category: Option<CategoryId>,
    /// At least one of `percent` and `fixed_fee` is set.
    pub percent: Option<Percent>,
    pub fixed_fee: Option<Money>,
    /// At most one entry per currency.
    pub limits: Vec<CurrencyLimits>,
    pub valid_from: DateTime<Utc>,
    pub valid_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// `usr_…` or `key_…`.
    pub created_by: String,
}

/// A sale line to take commission from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line {
    /// The line's amount; not negative.
    pub amount: Money,
    pub vendor: VendorId,
    pub category: Option<CategoryId>,
    /// When the sale happens: rules valid at this instant are considered.
    pub at: DateTime<Utc>,
}

/// The commission on a line, and the rule it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quote<'a> {
    pub commission: Money,
    pub rule: &'a CommissionRule,
    pub level: Level,
}

impl CommissionRule {
    pub fn level(&self) -> Level {
        match (self.vendor.is_some(), self.category.is_some()) {
            (true, true) => Level::VendorCategory,
            (true, false) => Level::Vendor,
            (false, true) => Level::Category,
            (false, false) => Level::Shop,
        }
    }

    /// Valid from `valid_from` (inclusive) to `valid_until` (exclusive).
    pub fn is_valid_at(&self, at: DateTime<Utc>) -> bool {
        self.valid_from <= at && self.valid_until.is_none_or(|until| at < until)
    }

    /// Whether the rule is in force for the line: valid then, and its vendor and category,
    /// where it names them, are the line's.
    pub fn applies_to(&self, line: &Line) -> bool {
        self.is_valid_at(line.at)
            && self.vendor.is_none_or(|v| v == line.vendor)
            && self.category.is_none_or(|c| Some(c) == line.category)
    }

    pub fn limits_in(&self, currency: Currency) -> Option<&CurrencyLimits> {
        self.limits.iter().find(|l| l.currency == currency)
    }

    /// The commission this rule takes of `amount` (see the module documentation).
    pub fn commission_on(&self, amount: Money) -> Money {
        let line = amount.amount.max(0);
        let percentage = self.percent.map_or(0, |p| percentage_of(line, p));
        let fee = self
            .fixed_fee
            .filter(|fee| fee.currency == amount.currency)
            .map_or(0, |fee| fee.amount);
        let mut commission = i128::from(percentage) + i128::from(fee);
        if let Some(limits) = self.limits_in(amount.currency) {
            if let Some(min) = limits.min {
                commission = commission.max(i128::from(min));
            }
            if let Some(max) = limits.max {
                commission = commission.min(i128::from(max));
            }
        }
        let commission = commission.clamp(0, i128::from(line));
        Money::new(i64::try_from(commission).unwrap_or(line), amount.currency)
    }
}

/// The rule in force for `line`: the most specific level, then the latest `valid_from`,
/// then the newest id.
pub fn select<'a>(rules: &'a [CommissionRule], line: &Line) -> Option<&'a CommissionRule> {
    rules
        .iter()
        .filter(|rule| rule.applies_to(line))
        .max_by_key(|rule| (rule.level(), rule.valid_from, rule.id))
}

/// What commission applies to `line`, or `None` when no rule does (no commission).
pub fn quote<'a>(rules: &'a [CommissionRule], line: &Line) -> Option<Quote<'a>> {
    select(rules, line).map(|rule| Quote {
        commission: rule.commission_on(line.amount),
        rule,
        level: rule.level(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;
    use rust_decimal::RoundingStrategy;

    fn eur() -> Currency {
        Currency::parse("EUR").unwrap()
    }

    fn usd() -> Currency {
        Currency::parse("USD").unwrap()
    }

    fn t(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2030, 1, day, 0, 0, 0).unwrap()
    }

    fn pct(text: &str) -> Percent {
        Percent::parse(text).unwrap()
    }

    fn rule(
        vendor: Option<VendorId>,
        category: Option<CategoryId>,
        percent: &str,
    ) -> CommissionRule {
        CommissionRule {
            id: CommissionRuleId::new(),
            vendor,
            category,
            percent: Some(pct(percent)),
            fixed_fee: None,
            limits: Vec::new(),
            valid_from: t(1),
            valid_until: None,
            created_at: t(1),
            created_by: "usr_test".into(),
        }
    }

    fn line(amount: i64, vendor: VendorId, category: Option<CategoryId>) -> Line {
        Line {
            amount: Money::new(amount, eur()),
            vendor,
            category,
            at: t(10),
        }
    }

    #[test]
    fn percentages_parse_strictly() {
        assert_eq!(pct("12.5").to_string(), "12.5");
        assert_eq!(pct("12.50000").to_string(), "12.5");
        assert_eq!(pct("100").to_string(), "100");
        assert_eq!(pct("0").to_string(), "0");
        assert_eq!(pct("0.0001").per_million(), 1);
        assert_eq!(pct("12.5").per_million(), 125_000);
        assert_eq!(pct("100").per_million(), 1_000_000);
        for bad in [
            "", ".5", "5.", "-1", "100.0001", "101", "1e2", "0.00001", " 5", "5%", "+5", "1_0",
        ] {
            assert!(Percent::parse(bad).is_err(), "{bad:?} parsed");
        }
        assert!(Percent::new(Decimal::new(-1, 0)).is_err());
        assert!(Percent::new(Decimal::new(12345, 5)).is_err());
    }

    #[test]
    fn rounding_is_half_up_to_the_minor_unit() {
        // 10 % of 5 cents is 0.5 cents: up to 1. Of 4 cents, 0.4: down to 0.
        assert_eq!(percentage_of(5, pct("10")), 1);
        assert_eq!(percentage_of(4, pct("10")), 0);
        // 12.5 % of 1.00 EUR is 12.5 cents: 13.
        assert_eq!(percentage_of(100, pct("12.5")), 13);
        assert_eq!(percentage_of(i64::MAX, pct("100")), i64::MAX);
        assert_eq!(percentage_of(0, pct("50")), 0);
    }

    #[test]
    fn the_most_specific_level_wins() {
        let (v1, v2) = (VendorId::new(), VendorId::new());
        let (c1, c2) = (CategoryId::new(), CategoryId::new());
        let rules = vec![
            rule(None, None, "10"),
            rule(None, Some(c1), "8"),
            rule(Some(v1), None, "6"),
            rule(Some(v1), Some(c1), "4"),
        ];
        let level = |l: &Line| quote(&rules, l).map(|q| (q.level, q.commission.amount));
        assert_eq!(
            level(&line(1000, v1, Some(c1))),
            Some((Level::VendorCategory, 40))
        );
        assert_eq!(level(&line(1000, v1, Some(c2))), Some((Level::Vendor, 60)));
        assert_eq!(level(&line(1000, v1, None)), Some((Level::Vendor, 60)));
        assert_eq!(
            level(&line(1000, v2, Some(c1))),
            Some((Level::Category, 80))
        );
        assert_eq!(level(&line(1000, v2, None)), Some((Level::Shop, 100)));
        assert_eq!(quote(&rules[2..3], &line(1000, v2, None)), None);
    }

    #[test]
    fn ties_go_to_the_latest_start_then_the_newest_rule() {
        let vendor = VendorId::new();
        let mut older = rule(None, None, "10");
        let mut newer = rule(None, None, "20");
        let mut latest_start = rule(None, None, "30");
        older.valid_from = t(2);
        newer.valid_from = t(2);
        latest_start.valid_from = t(3);
        assert!(older.id < newer.id);
        // Order in the slice does not matter.
        let rules = vec![latest_start.clone(), newer.clone(), older.clone()];
        assert_eq!(
            select(&rules, &line(100, vendor, None)).map(|r| r.id),
            Some(latest_start.id)
        );
        let rules = vec![newer.clone(), older.clone()];
        assert_eq!(
            select(&rules, &line(100, vendor, None)).map(|r| r.id),
            Some(newer.id)
        );
        let rules = vec![older.clone(), newer.clone()];
        assert_eq!(
            select(&rules, &line(100, vendor, None)).map(|r| r.id),
            Some(newer.id)
        );
        // Before the latest start, the others apply.
        let mut early = line(100, vendor, None);
        early.at = t(2);
        let rules = vec![latest_start, newer.clone(), older];
        assert_eq!(select(&rules, &early).map(|r| r.id), Some(newer.id));
    }

    #[test]
    fn validity_is_from_inclusive_until_exclusive() {
        let vendor = VendorId::new();
        let mut r = rule(None, None, "10");
        r.valid_from = t(5);
        r.valid_until = Some(t(7));
        let at = |day| Line {
            at: t(day),
            ..line(100, vendor, None)
        };
        assert!(!r.applies_to(&at(4)));
        assert!(r.applies_to(&at(5)));
        assert!(r.applies_to(&at(6)));
        assert!(!r.applies_to(&at(7)));
        // An expired specific rule gives way to the shop default.
        let shop = rule(None, None, "20");
        let mut specific = rule(Some(vendor), None, "5");
        specific.valid_until = Some(t(3));
        let rules = [shop, specific];
        assert_eq!(quote(&rules, &at(2)).map(|q| q.level), Some(Level::Vendor));
        assert_eq!(quote(&rules, &at(3)).map(|q| q.level), Some(Level::Shop));
        assert!(check_validity(t(2), Some(t(2))).is_err());
        assert!(check_validity(t(2), Some(t(3))).is_ok());
        assert!(check_validity(t(2), None).is_ok());
    }

    #[test]
    fn fees_apply_in_their_currency_and_limits_per_currency() {
        let vendor = VendorId::new();
        let mut r = rule(None, None, "10");
        r.fixed_fee = Some(Money::new(30, eur()));
        r.limits = vec![
            CurrencyLimits {
                currency: eur(),
                min: Some(100),
                max: Some(500),
            },
            CurrencyLimits {
                currency: usd(),
                min: Some(50),
                max: None,
            },
        ];
        // 10 % of 20.00 EUR = 200 + 30 fee = 230, within [100, 500].
        assert_eq!(r.commission_on(Money::new(2000, eur())).amount, 230);
        // 10 % of 10.00 EUR = 100 + 30 = 130; of 5.00 EUR, 50 + 30 = 80, raised to 100.
        assert_eq!(r.commission_on(Money::new(1000, eur())).amount, 130);
        assert_eq!(r.commission_on(Money::new(500, eur())).amount, 100);
        // 10 % of 100.00 EUR = 1000 + 30, lowered to the maximum 500.
        assert_eq!(r.commission_on(Money::new(10_000, eur())).amount, 500);
        // In USD the EUR fee does not apply; the USD minimum does.
        assert_eq!(r.commission_on(Money::new(2000, usd())).amount, 200);
        assert_eq!(r.commission_on(Money::new(300, usd())).amount, 50);
        // Never more than the line: a minimum of 100 on a 60-cent line takes 60.
        assert_eq!(r.commission_on(Money::new(60, eur())).amount, 60);
        // A fee-only rule in another currency takes nothing.
        let mut fee_only = rule(None, None, "0");
        fee_only.percent = None;
        fee_only.fixed_fee = Some(Money::new(30, eur()));
        assert_eq!(fee_only.commission_on(Money::new(1000, usd())).amount, 0);
        assert_eq!(fee_only.commission_on(Money::new(1000, eur())).amount, 30);
        let q = quote(std::slice::from_ref(&fee_only), &line(1000, vendor, None));
        assert_eq!(q.map(|q| q.commission), Some(Money::new(30, eur())));
    }

    #[test]
    fn limits_are_checked() {
        assert!(check_limits(None, None).is_err());
        assert!(check_limits(Some(-1), None).is_err());
        assert!(check_limits(None, Some(-1)).is_err());
        assert!(check_limits(Some(5), Some(4)).is_err());
        assert!(check_limits(Some(4), Some(4)).is_ok());
        assert!(check_limits(Some(0), None).is_ok());
    }

    fn any_percent() -> impl Strategy<Value = Percent> {
        (0i64..=1_000_000).prop_map(|n| Percent::new(Decimal::new(n, 4)).unwrap())
    }

    fn any_currency() -> impl Strategy<Value = Currency> {
        prop_oneof![Just("EUR"), Just("USD"), Just("JPY"), Just("KWD")]
            .prop_map(|c| Currency::parse(c).unwrap())
    }

    prop_compose! {
        fn any_rule(vendors: Vec<VendorId>, categories: Vec<CategoryId>)
            (vendor in proptest::option::of(proptest::sample::select(vendors)),
             category in proptest::option::of(proptest::sample::select(categories)),
             percent in proptest::option::of(any_percent()),
             fee in proptest::option::of((0i64..=1_000_000, any_currency())),
             min in proptest::option::of(0i64..=100_000),
             max in proptest::option::of(0i64..=100_000),
             limit_currency in any_currency(),
             from in 1u32..=20,
             until in proptest::option::of(1u32..=28))
            -> CommissionRule
        {
            let fixed_fee = fee.map(|(amount, currency)| Money::new(amount, currency));
            let limits = match (min, max) {
                (None, None) => Vec::new(),
                (min, max) => vec![CurrencyLimits {
                    currency: limit_currency,
                    min,
                    max: max.map(|m| m.max(min.unwrap_or(0))),
                }],
            };
            CommissionRule {
                id: CommissionRuleId::new(),
                vendor,
                category,
                percent: if fixed_fee.is_none() && percent.is_none() { Some(Percent(Decimal::TEN)) } else { percent },
                fixed_fee,
                limits,
                valid_from: t(from),
                valid_until: until.map(t).filter(|u| *u > t(from)),
                created_at: t(1),
                created_by: "usr_test".into(),
            }
        }
    }

    fn vendors() -> Vec<VendorId> {
        (0..3).map(|_| VendorId::new()).collect()
    }

    fn categories() -> Vec<CategoryId> {
        (0..3).map(|_| CategoryId::new()).collect()
    }

    proptest! {
        /// The percentage part equals the exact decimal product rounded half up (away from
        /// zero: amounts are not negative).
        #[test]
        fn percentage_matches_exact_decimal_arithmetic(amount in 0i64..=i64::MAX, percent in any_percent()) {
            let exact = Decimal::from(amount) * percent.as_decimal() / Decimal::ONE_HUNDRED;
            let expected = exact.round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero);
            prop_assert_eq!(Decimal::from(percentage_of(amount, percent)), expected);
        }

        /// Commission is never negative and never more than the line, whatever the rule.
        #[test]
        fn commission_stays_within_the_line(
            rule in any_rule(vendors(), categories()),
            amount in 0i64..=i64::MAX,
            currency in any_currency(),
        ) {
            let commission = rule.commission_on(Money::new(amount, currency));
            prop_assert_eq!(commission.currency, currency);
            prop_assert!(commission.amount >= 0);
            prop_assert!(commission.amount <= amount);
        }

        /// With a pure percentage rule, a bigger line never pays less commission.
        #[test]
        fn pure_percentage_commission_is_monotone(
            percent in any_percent(),
            a in 0i64..=i64::MAX / 2,
            b in 0i64..=i64::MAX / 2,
        ) {
            let mut r = rule(None, None, "0");
            r.percent = Some(percent);
            let (small, big) = (a.min(b), a.max(b));
            let on = |amount| r.commission_on(Money::new(amount, eur())).amount;
            prop_assert!(on(small) <= on(big));
        }

        /// The rule used is valid and matching, no matching rule is more specific, and among
        /// those as specific none started later (or, starting together, is newer).
        #[test]
        fn the_most_specific_valid_rule_is_used(
            (rules, vendors, categories) in {
                let (vs, cs) = (vendors(), categories());
                (proptest::collection::vec(any_rule(vs.clone(), cs.clone()), 0..12), Just(vs), Just(cs))
            },
            vendor_index in 0usize..3,
            category_index in proptest::option::of(0usize..3),
            day in 1u32..=28,
            amount in 0i64..=10_000_000,
        ) {
            let line = Line {
                amount: Money::new(amount, eur()),
                vendor: vendors[vendor_index],
                category: category_index.map(|i| categories[i]),
                at: t(day),
            };
            let applicable: Vec<&CommissionRule> = rules.iter().filter(|r| r.applies_to(&line)).collect();
            match quote(&rules, &line) {
                None => prop_assert!(applicable.is_empty()),
                Some(q) => {
                    prop_assert!(q.rule.applies_to(&line));
                    prop_assert_eq!(q.level, q.rule.level());
                    prop_assert_eq!(q.commission, q.rule.commission_on(line.amount));
                    for other in applicable {
                        prop_assert!(other.level() <= q.level);
                        if other.level() == q.level {
                            prop_assert!(
                                (other.valid_from, other.id) <= (q.rule.valid_from, q.rule.id)
                            );
                        }
                    }
                }
            }
        }
    }
}

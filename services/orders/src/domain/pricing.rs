//! Pricing a cart or a checkout: line, vendor and order totals, shipping and tax.
//!
//! All amounts are minor units of one currency (the cart's).
//!
//! # Rules
//!
//! 1. A line's **subtotal** is `unit_price × quantity`, at the shop's displayed prices (gross
//!    when the shop's prices include tax, net otherwise).
//! 2. A line's **discount** comes from the input (per line, as [`coupon::discount`] computes
//!    it; none when the input has no discounts). It must lie within `0 ..= subtotal`.
//! 3. **Shipping** is charged per vendor: the vendor's `flat_rate`, or 0 when the vendor has a
//!    `free_over` threshold and its subtotal **after discount** reaches it (`≥`). A vendor with
//!    no shipping settings ships free. Shipping is priced like the products: gross when prices
//!    include tax.
//! 4. **Tax** is computed per line on `subtotal − discount`, at the rate of the line's tax
//!    category in the destination country ([`tax::rate_for`]: exact category, else the
//!    country's standard rate, else untaxed), rounded half up per line ([`tax::tax_in`]). A
//!    vendor's shipping is taxed at the destination's [`tax::STANDARD`] rate and that tax is
//!    added to the vendor's tax. Without a destination country nothing is taxed: when prices
//!    exclude tax the total then has no tax in it yet; when they include tax the total is
//!    already right and the tax shown is 0 until the country is known.
//! 5. A line's **total** is `subtotal − discount + tax` when prices exclude tax, and
//!    `subtotal − discount` when they include it (the tax is inside).
//! 6. A **vendor's** subtotal, discount and tax are the sums over its lines (tax plus its
//!    shipping tax); its total is the sum of its line totals plus shipping (plus shipping tax
//!    when prices exclude tax). Vendors are listed in order of first appearance in the lines.
//! 7. The **order** totals are the sums of the vendor totals.
//!
//! So for the order and for each vendor:
//! `total = subtotal − discount + shipping + (tax when prices exclude tax)`, and the parts
//! add up to the whole to the minor unit.
//!
//! The **tax breakdown** groups what was taxed by (country, category, rate) of the rule that
//! applied — a line taxed at its country's standard rate is listed under `standard`, as is
//! shipping — in order of first appearance. Untaxed amounts are listed too, at rate 0 under
//! the line's own category (and `standard` for shipping), with the destination country when
//! known. `taxable` is the **net** amount (without tax) in both modes, so the breakdown
//! covers the whole order: `Σ (taxable + tax) = total`, `Σ tax = totals.tax`.
//!
//! # Vendor earnings
//!
//! [`commission_base`]: commission is taken on what the vendor sold for — the subtotal, less
//! the part of the discount the vendor funded (it cut its own price); the shop's part does
//! not lower it. A discount shared by a percentage is split once per vendor
//! ([`coupon::split_funding`]) and the vendor's part spread over its lines
//! ([`vendor_funded_lines`]; ADR 0039). [`vendor_earnings`]: the vendor receives its total
//! without the tax (the marketplace collects the tax and owes it; ADR 0038), plus the
//! shop-funded part of the discount (the shop pays it back), less commission. Shipping is
//! the vendor's: it ships.

use crate::domain::coupon::{self, DiscountSplit};
use crate::domain::split;
use crate::domain::tax::{self, TaxRule};
use mercato_kernel::Currency;
use mercato_tenant_context::{CategoryId, ProductId, VendorId};
use rust_decimal::Decimal;
use serde::Serialize;

/// One cart line to price.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricingLine {
    pub vendor: VendorId,
    pub product: ProductId,
    /// The product's category path, root to leaf.
    pub categories: Vec<CategoryId>,
    pub unit_price: i64,
    pub quantity: i64,
    pub tax_category: String,
}

/// A vendor's shipping settings in the cart currency. A vendor missing from the list ships
/// free.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VendorShipping {
    pub vendor: VendorId,
    pub flat_rate: i64,
    /// Free shipping when the vendor's subtotal after discount is at least this.
    pub free_over: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TaxSettings {
    pub prices_include_tax: bool,
}

pub struct PricingInput<'a> {
    pub currency: Currency,
    pub lines: &'a [PricingLine],
    pub shipping: &'a [VendorShipping],
    /// Per line, from [`coupon::discount`], or empty for none. Who funds it does not change
    /// what the shopper pays; it matters for [`commission_base`] and [`vendor_earnings`].
    pub discounts: &'a [i64],
    pub tax: TaxSettings,
    pub tax_rules: &'a [TaxRule],
    /// The destination country, ISO 3166-1 alpha-2; `None` while not known.
    pub country: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PricedLine {
    pub subtotal: i64,
    pub discount: i64,
    pub tax: i64,
    pub total: i64,
    /// The rate applied, percent; 0 when untaxed.
    pub tax_rate: Decimal,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VendorTotals {
    pub vendor: VendorId,
    pub subtotal: i64,
    pub discount: i64,
    pub shipping: i64,
    /// Its lines' tax plus the tax on its shipping.
    pub tax: i64,
    pub total: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaxBreakdownLine {
    pub country: Option<String>,
    pub category: String,
    pub rate: Decimal,
    /// The net amount taxed at this rate (without tax, in both modes).
    pub taxable: i64,
    pub tax: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Totals {
    pub subtotal: i64,
    pub discount: i64,
    pub shipping: i64,
    pub tax: i64,
    pub total: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Priced {
    pub currency: Currency,
    /// One per input line, same order.
    pub lines: Vec<PricedLine>,
    /// In order of first appearance in the lines.
    pub vendors: Vec<VendorTotals>,
    pub totals: Totals,
    pub tax_breakdown: Vec<TaxBreakdownLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PricingError {
    #[error("amount out of range")]
    Overflow,
    #[error("{discounts} discounts given for {lines} lines")]
    DiscountsLengthMismatch { lines: usize, discounts: usize },
    #[error("line {line} has a negative quantity")]
    NegativeQuantity { line: usize },
    #[error("line {line} has a negative unit price")]
    NegativePrice { line: usize },
    #[error("line {line} has a discount outside 0 and its subtotal")]
    InvalidDiscount { line: usize },
    #[error("vendor {vendor} has negative shipping settings")]
    NegativeShipping { vendor: VendorId },
}

fn add(a: i64, b: i64) -> Result<i64, PricingError> {
    a.checked_add(b).ok_or(PricingError::Overflow)
}

fn sub(a: i64, b: i64) -> Result<i64, PricingError> {
    a.checked_sub(b).ok_or(PricingError::Overflow)
}

/// Accumulates the tax breakdown in first-appearance order.
struct Breakdown {
    country: Option<String>,
    include_tax: bool,
    groups: Vec<TaxBreakdownLine>,
}

impl Breakdown {
    /// Records `amount` (as displayed: gross when prices include tax) that carried `tax`
    /// under `rule`, or untaxed under `category` when there is no rule.
    fn record(
        &mut self,
        rule: Option<&TaxRule>,
        category: &str,
        amount: i64,
        tax: i64,
    ) -> Result<(), PricingError> {
        if amount == 0 && tax == 0 {
            return Ok(());
        }
        let net = if self.include_tax {
            sub(amount, tax)?
        } else {
            amount
        };
        let (country, category, rate) = match rule {
            Some(rule) => (
                Some(rule.country.to_ascii_uppercase()),
                rule.category.as_str(),
                rule.rate,
            ),
            None => (self.country.clone(), category, Decimal::ZERO),
        };
        let found = self
            .groups
            .iter_mut()
            .find(|g| g.country == country && g.category == category && g.rate == rate);
        match found {
            Some(group) => {
                group.taxable = add(group.taxable, net)?;
                group.tax = add(group.tax, tax)?;
            }
            None => self.groups.push(TaxBreakdownLine {
                country,
                category: category.to_owned(),
                rate,
                taxable: net,
                tax,
            }),
        }
        Ok(())
    }
}

/// Prices the lines of a cart (see the module documentation).
pub fn price(input: &PricingInput) -> Result<Priced, PricingError> {
    let lines = input.lines;
    if !input.discounts.is_empty() && input.discounts.len() != lines.len() {
        return Err(PricingError::DiscountsLengthMismatch {
            lines: lines.len(),
            discounts: input.discounts.len(),
        });
    }
    let include_tax = input.tax.prices_include_tax;
    let mut breakdown = Breakdown {
        country: input.country.map(|c| c.trim().to_ascii_uppercase()),
        include_tax,
        groups: Vec::new(),
    };

    let mut priced = Vec::with_capacity(lines.len());
    let mut vendors: Vec<VendorTotals> = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        if line.quantity < 0 {
            return Err(PricingError::NegativeQuantity { line: index });
        }
        if line.unit_price < 0 {
            return Err(PricingError::NegativePrice { line: index });
        }
        let subtotal = line
            .unit_price
            .checked_mul(line.quantity)
            .ok_or(PricingError::Overflow)?;
        let discount = input.discounts.get(index).copied().unwrap_or(0);
        if discount < 0 || discount > subtotal {
            return Err(PricingError::InvalidDiscount { line: index });
        }
        let taxable = subtotal - discount;
        let rule = tax::rate_for(input.tax_rules, input.country, &line.tax_category);
        let rate = rule.map_or(Decimal::ZERO, |r| r.rate);
        let tax = tax::tax_in(taxable, rate, include_tax);
        let total = if include_tax {
            taxable
        } else {
            add(taxable, tax)?
        };
        breakdown.record(rule, &line.tax_category, taxable, tax)?;
        priced.push(PricedLine {
            subtotal,
            discount,
            tax,
            total,
            tax_rate: rate,
        });

        let position = match vendors.iter().position(|v| v.vendor == line.vendor) {
            Some(position) => position,
            None => {
                vendors.push(VendorTotals {
                    vendor: line.vendor,
                    subtotal: 0,
                    discount: 0,
                    shipping: 0,
                    tax: 0,
                    total: 0,
                });
                vendors.len() - 1
            }
        };
        let v = &mut vendors[position];
        v.subtotal = add(v.subtotal, subtotal)?;
        v.discount = add(v.discount, discount)?;
        v.tax = add(v.tax, tax)?;
        v.total = add(v.total, total)?;
    }

    let shipping_rule = tax::rate_for(input.tax_rules, input.country, tax::STANDARD);
    let shipping_rate = shipping_rule.map_or(Decimal::ZERO, |r| r.rate);
    let mut totals = Totals::default();
    for v in &mut vendors {
        let settings = input.shipping.iter().find(|s| s.vendor == v.vendor);
        v.shipping = match settings {
            None => 0,
            Some(s) if s.flat_rate < 0 || s.free_over.is_some_and(|f| f < 0) => {
                return Err(PricingError::NegativeShipping { vendor: v.vendor });
            }
            Some(s) => {
                let after_discount = sub(v.subtotal, v.discount)?;
                if s.free_over.is_some_and(|over| after_discount >= over) {
                    0
                } else {
                    s.flat_rate
                }
            }
        };
        let shipping_tax = tax::tax_in(v.shipping, shipping_rate, include_tax);
        breakdown.record(shipping_rule, tax::STANDARD, v.shipping, shipping_tax)?;
        v.tax = add(v.tax, shipping_tax)?;
        v.total = add(v.total, v.shipping)?;
        if !include_tax {
            v.total = add(v.total, shipping_tax)?;
        }

        totals.subtotal = add(totals.subtotal, v.subtotal)?;
        totals.discount = add(totals.discount, v.discount)?;
        totals.shipping = add(totals.shipping, v.shipping)?;
        totals.tax = add(totals.tax, v.tax)?;
        totals.total = add(totals.total, v.total)?;
    }

    Ok(Priced {
        currency: input.currency,
        lines: priced,
        vendors,
        totals,
        tax_breakdown: breakdown.groups,
    })
}

/// The discount lines as a coupon sees them: each line's subtotal, saturating (an overflowing
/// line is refused by [`price`] anyway).
pub fn coupon_lines(lines: &[PricingLine]) -> Vec<coupon::CouponLine> {
    lines
        .iter()
        .map(|line| coupon::CouponLine {
            vendor: line.vendor,
            product: line.product,
            categories: line.categories.clone(),
            amount: line.unit_price.max(0).saturating_mul(line.quantity.max(0)),
        })
        .collect()
}

/// What a vendor is paid for its part of an order: its total less the tax in it (the
/// marketplace owes that), plus the shop-funded discount (the shop pays it back), less
/// commission. A vendor-funded discount is the vendor's to bear and is not added back.
/// Saturating.
pub fn vendor_earnings(
    vendor_total: i64,
    tax: i64,
    shop_funded_discount: i64,
    commission: i64,
) -> i64 {
    vendor_total
        .saturating_sub(tax)
        .saturating_add(shop_funded_discount)
        .saturating_sub(commission)
}

/// What commission is taken on: the subtotal, less the part of the discount the vendor
/// funded (its own price cut); the shop's part does not lower it. Never negative.
pub fn commission_base(subtotal: i64, vendor_funded_discount: i64) -> i64 {
    subtotal
        .saturating_sub(vendor_funded_discount.max(0))
        .max(0)
}

/// A vendor's discount split between shop and vendor ([`coupon::split_funding`]), and the
/// vendor's part spread over its lines in proportion to their discounts (largest remainder),
/// so the lines' commission bases add up to the vendor order's.
pub fn vendor_funded_lines(
    line_discounts: &[i64],
    vendor_percent: rust_decimal::Decimal,
) -> (DiscountSplit, Vec<i64>) {
    let discount = line_discounts.iter().map(|d| (*d).max(0)).sum::<i64>();
    let funding = coupon::split_funding(discount, vendor_percent);
    (funding, split::allocate(funding.by_vendor, line_discounts))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::coupon::{Coupon, CouponScope, CouponUsage, CouponValue};
    use chrono::{TimeZone, Utc};
    use proptest::prelude::*;

    fn eur() -> Currency {
        Currency::parse("EUR").unwrap()
    }

    fn dec(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    fn line(vendor: VendorId, unit_price: i64, quantity: i64, category: &str) -> PricingLine {
        PricingLine {
            vendor,
            product: ProductId::new(),
            categories: Vec::new(),
            unit_price,
            quantity,
            tax_category: category.to_owned(),
        }
    }

    fn rules() -> Vec<TaxRule> {
        vec![
            TaxRule {
                country: "DE".into(),
                category: tax::STANDARD.into(),
                rate: dec("19"),
            },
            TaxRule {
                country: "DE".into(),
                category: "books".into(),
                rate: dec("7"),
            },
        ]
    }

    fn input<'a>(
        lines: &'a [PricingLine],
        shipping: &'a [VendorShipping],
        discounts: &'a [i64],
        rules: &'a [TaxRule],
        include: bool,
        country: Option<&'a str>,
    ) -> PricingInput<'a> {
        PricingInput {
            currency: eur(),
            lines,
            shipping,
            discounts,
            tax: TaxSettings {
                prices_include_tax: include,
            },
            tax_rules: rules,
            country,
        }
    }

    #[test]
    fn exclusive_prices_get_tax_on_top() {
        let (a, b) = (VendorId::new(), VendorId::new());
        let lines = [
            line(a, 1000, 2, "books"),
            line(b, 5000, 1, "toys"),
            line(a, 500, 1, "toys"),
        ];
        let shipping = [
            VendorShipping {
                vendor: a,
                flat_rate: 490,
                free_over: Some(10_000),
            },
            VendorShipping {
                vendor: b,
                flat_rate: 390,
                free_over: Some(5_000),
            },
        ];
        let rules = rules();
        let discounts = [200, 0, 0];
        let p = price(&input(
            &lines,
            &shipping,
            &discounts,
            &rules,
            false,
            Some("DE"),
        ))
        .unwrap();
        // Line 1: 20.00 − 2.00 = 18.00, 7 % = 1.26. Line 2: 50.00 at 19 % = 9.50.
        // Line 3: 5.00 at 19 % = 0.95.
        assert_eq!(
            p.lines[0],
            PricedLine {
                subtotal: 2000,
                discount: 200,
                tax: 126,
                total: 1926,
                tax_rate: dec("7")
            }
        );
        assert_eq!(p.lines[1].tax, 950);
        assert_eq!(p.lines[2].tax, 95);
        // Vendor a: 25.00 − 2.00 = 23.00 < 100.00, ships 4.90 (+0.93 tax).
        let va = &p.vendors[0];
        assert_eq!(va.vendor, a);
        assert_eq!(
            (va.subtotal, va.discount, va.shipping, va.tax),
            (2500, 200, 490, 126 + 95 + 93)
        );
        assert_eq!(va.total, 2500 - 200 + 490 + 314);
        // Vendor b: 50.00 ≥ 50.00 ships free.
        let vb = &p.vendors[1];
        assert_eq!((vb.shipping, vb.tax, vb.total), (0, 950, 5950));
        assert_eq!(p.totals.total, va.total + vb.total);
        assert_eq!(p.totals.tax, 126 + 95 + 93 + 950);
        assert_eq!(
            p.tax_breakdown,
            vec![
                TaxBreakdownLine {
                    country: Some("DE".into()),
                    category: "books".into(),
                    rate: dec("7"),
                    taxable: 1800,
                    tax: 126
                },
                TaxBreakdownLine {
                    country: Some("DE".into()),
                    category: "standard".into(),
                    rate: dec("19"),
                    taxable: 5000 + 500 + 490,
                    tax: 950 + 95 + 93
                },
            ]
        );
    }

    #[test]
    fn inclusive_prices_contain_the_tax() {
        let a = VendorId::new();
        let lines = [line(a, 10_000, 1, "toys")];
        let shipping = [VendorShipping {
            vendor: a,
            flat_rate: 500,
            free_over: None,
        }];
        let rules = rules();
        let p = price(&input(&lines, &shipping, &[], &rules, true, Some("de"))).unwrap();
        assert_eq!(p.lines[0].tax, 1597);
        assert_eq!(p.lines[0].total, 10_000);
        // 5.00 gross shipping contains 0.80 tax (79.83…).
        assert_eq!(p.vendors[0].tax, 1597 + 80);
        assert_eq!(p.totals.total, 10_500);
        assert_eq!(p.tax_breakdown.len(), 1);
        assert_eq!(p.tax_breakdown[0].taxable, 10_500 - 1677);
    }

    #[test]
    fn without_a_country_nothing_is_taxed() {
        let a = VendorId::new();
        let lines = [line(a, 1000, 3, "toys")];
        let shipping = [VendorShipping {
            vendor: a,
            flat_rate: 300,
            free_over: None,
        }];
        let rules = rules();
        for include in [false, true] {
            let p = price(&input(&lines, &shipping, &[], &rules, include, None)).unwrap();
            assert_eq!(
                p.totals,
                Totals {
                    subtotal: 3000,
                    discount: 0,
                    shipping: 300,
                    tax: 0,
                    total: 3300
                }
            );
            assert_eq!(p.lines[0].tax_rate, Decimal::ZERO);
            assert_eq!(
                p.tax_breakdown,
                vec![
                    TaxBreakdownLine {
                        country: None,
                        category: "toys".into(),
                        rate: Decimal::ZERO,
                        taxable: 3000,
                        tax: 0
                    },
                    TaxBreakdownLine {
                        country: None,
                        category: "standard".into(),
                        rate: Decimal::ZERO,
                        taxable: 300,
                        tax: 0
                    },
                ]
            );
        }
        // A country without rules is untaxed too.
        let p = price(&input(&lines, &shipping, &[], &rules, false, Some("FR"))).unwrap();
        assert_eq!(p.totals.tax, 0);
        assert_eq!(p.tax_breakdown[0].country.as_deref(), Some("FR"));
    }

    #[test]
    fn unlisted_vendors_ship_free_and_free_over_counts_the_discount() {
        let (a, b) = (VendorId::new(), VendorId::new());
        let lines = [line(a, 6000, 1, "toys"), line(b, 100, 1, "toys")];
        let shipping = [VendorShipping {
            vendor: a,
            flat_rate: 500,
            free_over: Some(6000),
        }];
        let p = price(&input(&lines, &shipping, &[], &[], false, None)).unwrap();
        assert_eq!((p.vendors[0].shipping, p.vendors[1].shipping), (0, 0));
        let p = price(&input(&lines, &shipping, &[1, 0], &[], false, None)).unwrap();
        assert_eq!(p.vendors[0].shipping, 500);
    }

    #[test]
    fn bad_input_is_refused() {
        let a = VendorId::new();
        let ok = [line(a, 100, 1, "toys")];
        let run = |lines: &[PricingLine], discounts: &[i64], shipping: &[VendorShipping]| {
            price(&input(lines, shipping, discounts, &[], false, None)).map(|_| ())
        };
        assert_eq!(
            run(&ok, &[1, 2], &[]),
            Err(PricingError::DiscountsLengthMismatch {
                lines: 1,
                discounts: 2
            })
        );
        assert_eq!(
            run(&ok, &[101], &[]),
            Err(PricingError::InvalidDiscount { line: 0 })
        );
        assert_eq!(
            run(&ok, &[-1], &[]),
            Err(PricingError::InvalidDiscount { line: 0 })
        );
        assert_eq!(
            run(&[line(a, 100, -1, "toys")], &[], &[]),
            Err(PricingError::NegativeQuantity { line: 0 })
        );
        assert_eq!(
            run(&[line(a, -1, 1, "toys")], &[], &[]),
            Err(PricingError::NegativePrice { line: 0 })
        );
        assert_eq!(
            run(&[line(a, i64::MAX, 2, "toys")], &[], &[]),
            Err(PricingError::Overflow)
        );
        assert_eq!(
            run(
                &[line(a, i64::MAX, 1, "toys"), line(a, 1, 1, "toys")],
                &[],
                &[]
            ),
            Err(PricingError::Overflow)
        );
        let negative = [VendorShipping {
            vendor: a,
            flat_rate: -1,
            free_over: None,
        }];
        assert_eq!(
            run(&ok, &[], &negative),
            Err(PricingError::NegativeShipping { vendor: a })
        );
        assert_eq!(run(&[], &[], &[]), Ok(()));
    }

    #[test]
    fn earnings_and_commission_base_depend_on_who_funds_the_discount() {
        assert_eq!(commission_base(10_000, 0), 10_000);
        assert_eq!(commission_base(10_000, 1_000), 9_000);
        // Shared 30/70: the vendor funds 3.00 of 10.00 and commission is taken on 97.00.
        let (split, lines) = vendor_funded_lines(&[600, 400, 0], dec("30"));
        assert_eq!((split.by_shop, split.by_vendor), (700, 300));
        assert_eq!(lines, vec![180, 120, 0]);
        assert_eq!(commission_base(10_000, lines.iter().sum()), 9_700);
        assert_eq!(vendor_earnings(9_000, 0, split.by_shop, 1_455), 8_245);
        // 30 % of 0.05 is 0.015: the vendor's part rounds half up, the lines still add up.
        let (split, lines) = vendor_funded_lines(&[3, 2], dec("30"));
        assert_eq!((split.by_shop, split.by_vendor), (3, 2));
        assert_eq!(lines.iter().sum::<i64>(), 2);
        assert_eq!(vendor_earnings(9_000, 0, 1_000, 1_500), 8_500);
        assert_eq!(vendor_earnings(9_000, 0, 0, 1_500), 7_500);
        // The tax in the total is the marketplace's to pay.
        assert_eq!(vendor_earnings(10_710, 1_710, 0, 1_500), 7_500);
    }

    fn t0() -> chrono::DateTime<Utc> {
        Utc.with_ymd_and_hms(2030, 1, 10, 0, 0, 0).unwrap()
    }

    #[derive(Debug, Clone)]
    struct Cart {
        lines: Vec<PricingLine>,
        shipping: Vec<VendorShipping>,
        rules: Vec<TaxRule>,
        coupon: Option<Coupon>,
        include: bool,
        country: Option<&'static str>,
    }

    fn any_cart() -> impl Strategy<Value = Cart> {
        let vendor_count = 1usize..=4;
        vendor_count.prop_flat_map(|n| {
            let vendors: Vec<VendorId> = (0..n).map(|_| VendorId::new()).collect();
            let categories: Vec<CategoryId> = (0..3).map(|_| CategoryId::new()).collect();
            let tax_categories = ["standard", "books", "food", "digital"];
            let lines = proptest::collection::vec(
                (
                    0..n,
                    0i64..=200_000,
                    0i64..=20,
                    0usize..4,
                    proptest::collection::vec(0usize..3, 0..3),
                ),
                1..10,
            );
            let shipping = proptest::collection::vec(
                (0..n, 0i64..=2_000, proptest::option::of(0i64..=300_000)),
                0..=n,
            );
            let rules = proptest::collection::vec(
                (
                    prop_oneof![Just("DE"), Just("FR"), Just("US")],
                    0usize..4,
                    0i64..=300_000,
                ),
                0..8,
            );
            let coupon = proptest::option::of((
                prop_oneof![
                    (1i64..=1_000_000).prop_map(|p| CouponValue::Percent(Decimal::new(p, 4))),
                    (1i64..=500_000)
                        .prop_map(|a| CouponValue::Fixed(mercato_kernel::Money::new(a, eur()))),
                ],
                0usize..4,
                0..n,
                0usize..3,
                proptest::option::of(0i64..=500_000),
            ));
            (
                Just(vendors),
                Just(categories),
                lines,
                shipping,
                rules,
                coupon,
                any::<bool>(),
                prop_oneof![
                    Just(None),
                    Just(Some("DE")),
                    Just(Some("FR")),
                    Just(Some("fr")),
                    Just(Some("IT"))
                ],
            )
                .prop_map(
                    move |(
                        vendors,
                        categories,
                        lines,
                        shipping,
                        rules,
                        coupon,
                        include,
                        country,
                    )| {
                        let lines = lines
                            .into_iter()
                            .map(|(v, price, qty, tc, cats)| PricingLine {
                                vendor: vendors[v],
                                product: ProductId::new(),
                                categories: cats.into_iter().map(|c| categories[c]).collect(),
                                unit_price: price,
                                quantity: qty,
                                tax_category: tax_categories[tc].to_owned(),
                            })
                            .collect::<Vec<_>>();
                        let shipping = shipping
                            .into_iter()
                            .map(|(v, flat_rate, free_over)| VendorShipping {
                                vendor: vendors[v],
                                flat_rate,
                                free_over,
                            })
                            .collect();
                        let rules = rules
                            .into_iter()
                            .map(|(country, tc, rate)| TaxRule {
                                country: country.to_owned(),
                                category: tax_categories[tc].to_owned(),
                                rate: Decimal::new(rate, 4),
                            })
                            .collect();
                        let coupon = coupon.map(|(value, scope, v, c, min)| Coupon {
                            code: "PROP".into(),
                            value,
                            scope: match scope {
                                0 => CouponScope::Order,
                                1 => CouponScope::Vendor(vendors[v]),
                                2 => CouponScope::Categories(vec![categories[c]]),
                                _ => CouponScope::Products(
                                    lines.iter().step_by(2).map(|l| l.product).collect(),
                                ),
                            },
                            min_subtotal: min.map(|m| mercato_kernel::Money::new(m, eur())),
                            starts_at: None,
                            ends_at: None,
                            usage_limit: None,
                            per_customer_limit: None,
                            funded_by: coupon::FundedBy::Shop,
                            vendor_share_percent: None,
                            active: true,
                        });
                        Cart {
                            lines,
                            shipping,
                            rules,
                            coupon,
                            include,
                            country,
                        }
                    },
                )
        })
    }

    proptest! {
        /// The parts of a priced cart add up to its totals to the minor unit, whatever the
        /// coupon, shipping and tax rules, in both tax modes.
        #[test]
        fn vendor_totals_add_up_to_the_order_totals(cart in any_cart()) {
            let discounts = cart
                .coupon
                .as_ref()
                .and_then(|c| {
                    coupon::discount(c, &coupon_lines(&cart.lines), eur(), t0(), CouponUsage::default()).ok()
                })
                .unwrap_or_default();
            let p = price(&input(&cart.lines, &cart.shipping, &discounts, &cart.rules, cart.include, cart.country)).unwrap();
            let t = p.totals;
            let sum = |f: fn(&VendorTotals) -> i64| p.vendors.iter().map(f).sum::<i64>();
            prop_assert_eq!(sum(|v| v.total), t.total);
            prop_assert_eq!(sum(|v| v.subtotal), t.subtotal);
            prop_assert_eq!(sum(|v| v.discount), t.discount);
            prop_assert_eq!(sum(|v| v.shipping), t.shipping);
            prop_assert_eq!(sum(|v| v.tax), t.tax);
            let tax_on_top = if cart.include { 0 } else { t.tax };
            prop_assert_eq!(t.total, t.subtotal - t.discount + t.shipping + tax_on_top);
            for v in &p.vendors {
                let on_top = if cart.include { 0 } else { v.tax };
                prop_assert_eq!(v.total, v.subtotal - v.discount + v.shipping + on_top);
                prop_assert!(v.subtotal >= 0 && v.discount >= 0 && v.shipping >= 0 && v.tax >= 0 && v.total >= 0);
            }
            prop_assert!(t.subtotal >= 0 && t.discount >= 0 && t.shipping >= 0 && t.tax >= 0 && t.total >= 0);
            prop_assert!(t.discount <= t.subtotal);
            for (priced, line) in p.lines.iter().zip(&cart.lines) {
                prop_assert!(priced.subtotal >= 0 && priced.discount >= 0 && priced.tax >= 0 && priced.total >= 0);
                prop_assert!(priced.discount <= priced.subtotal);
                prop_assert_eq!(priced.subtotal, line.unit_price * line.quantity);
                if cart.include {
                    prop_assert!(priced.tax <= priced.subtotal - priced.discount);
                }
            }
            // Lines add up to their vendors (before shipping).
            for v in &p.vendors {
                let mine = || p.lines.iter().zip(&cart.lines).filter(|(_, l)| l.vendor == v.vendor).map(|(p, _)| p);
                prop_assert_eq!(mine().map(|l| l.subtotal).sum::<i64>(), v.subtotal);
                prop_assert_eq!(mine().map(|l| l.discount).sum::<i64>(), v.discount);
            }
            // Vendors appear once each, in order of first appearance.
            let mut first_seen: Vec<VendorId> = Vec::new();
            for l in &cart.lines {
                if !first_seen.contains(&l.vendor) {
                    first_seen.push(l.vendor);
                }
            }
            prop_assert_eq!(p.vendors.iter().map(|v| v.vendor).collect::<Vec<_>>(), first_seen);
            // The tax breakdown covers the whole order.
            prop_assert_eq!(p.tax_breakdown.iter().map(|b| b.tax).sum::<i64>(), t.tax);
            prop_assert_eq!(p.tax_breakdown.iter().map(|b| b.taxable + b.tax).sum::<i64>(), t.total);
            if cart.country.is_none() {
                prop_assert_eq!(t.tax, 0);
            }
        }
    }
}

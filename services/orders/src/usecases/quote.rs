//! Prices a cart as it stands now: today's catalog prices (a price that changed since the
//! shopper last saw it is flagged), availability from inventory, who still sells, the
//! coupon, per-vendor shipping, taxes for the destination and the commission each line will
//! carry. The cart view and checkout use the same quote, so what the shopper saw is what
//! checkout charges.

use crate::domain::CouponId;
use crate::domain::cart::{Cart, CartLine};
use crate::domain::coupon::{self, CouponLine, CouponUsage};
use crate::domain::order::TaxLine;
use crate::domain::pricing::{
    self, Priced, PricedLine, PricingInput, PricingLine, TaxSettings, VendorShipping,
};
use crate::repo::coupons;
use crate::repo::mirror::{self, CatalogVariant, Lookups, Selling, VendorMirror};
use crate::repo::settings::{OrderSettings, Rules};
use chrono::{DateTime, Utc};
use mercato_db::TenantTx;
use mercato_kernel::{Currency, Money, Problem};
use mercato_tenant_context::VendorId;
use mercato_vendors_api::commission::{self, CommissionRule};
use rust_decimal::Decimal;
use std::collections::HashMap;

/// Why a line cannot be bought as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineProblem {
    /// The catalog does not offer it (unknown, unpublished or deleted).
    NotForSale,
    /// Its vendor is not selling (suspended, not approved).
    VendorNotSelling,
    /// Its vendor is on holiday and takes orders again on this day.
    VendorOnHoliday(chrono::NaiveDate),
    /// Priced in another currency than the rest of the cart.
    CurrencyMismatch,
    /// Fewer units are available than the line asks for.
    InsufficientStock,
}

impl LineProblem {
    pub fn code(self) -> &'static str {
        match self {
            Self::NotForSale => "not_for_sale",
            Self::VendorNotSelling => "vendor_not_selling",
            Self::VendorOnHoliday(_) => "vendor_on_holiday",
            Self::CurrencyMismatch => "currency_mismatch",
            Self::InsufficientStock => "insufficient_stock",
        }
    }

    pub fn message(self) -> String {
        match self {
            Self::NotForSale => "this item is no longer for sale".into(),
            Self::VendorNotSelling => "this vendor is not selling at the moment".into(),
            Self::VendorOnHoliday(back) => {
                format!("this vendor is on holiday and takes orders again on {back}")
            }
            Self::CurrencyMismatch => {
                "this item is priced in another currency than the cart".into()
            }
            Self::InsufficientStock => "fewer units are available than requested".into(),
        }
    }

    /// Whether the line is left out of the totals.
    fn excluded(self) -> bool {
        !matches!(self, Self::InsufficientStock)
    }
}

/// One cart line, priced.
#[derive(Debug, Clone)]
pub struct QuotedLine {
    pub line: CartLine,
    pub variant: Option<CatalogVariant>,
    pub available: i64,
    pub problem: Option<LineProblem>,
    /// The catalog price now differs from what the shopper last saw.
    pub price_changed: bool,
    /// Present when the line is in the totals.
    pub priced: Option<PricedLine>,
    /// The commission the line will carry, and the rule it comes from (`com_…`).
    pub commission: Option<(i64, String)>,
}

/// A coupon use to record at checkout: the coupon, its total usage limit and its
/// per-customer limit.
pub type Redemption = (CouponId, Option<i64>, Option<i64>);

/// The coupon on the cart and what it does.
#[derive(Debug, Clone)]
pub struct CouponOutcome {
    pub code: String,
    pub coupon: Option<Redemption>,
    /// The vendor's share of the discount, percent (the shop funds the rest).
    pub vendor_percent: Decimal,
    pub discount: i64,
    /// Why it does not apply: a stable code and a sentence.
    pub refused: Option<(&'static str, String)>,
}

#[derive(Debug, Clone)]
pub struct Quote {
    pub currency: Option<Currency>,
    pub lines: Vec<QuotedLine>,
    pub vendors: HashMap<VendorId, VendorMirror>,
    pub priced: Option<Priced>,
    pub coupon: Option<CouponOutcome>,
    pub settings: OrderSettings,
}

impl Quote {
    /// The lines that block a checkout: problems, and prices the shopper has not seen.
    pub fn blocking(&self) -> Vec<(usize, &'static str, String)> {
        self.lines
            .iter()
            .enumerate()
            .filter_map(|(i, l)| match (l.problem, l.price_changed) {
                (Some(p), _) => Some((i, p.code(), p.message())),
                (None, true) => Some((
                    i,
                    "price_changed",
                    "the price changed since the cart was last seen; review the cart".into(),
                )),
                (None, false) => None,
            })
            .collect()
    }

    pub fn total(&self) -> Option<Money> {
        let currency = self.currency?;
        Some(Money::new(
            self.priced.as_ref().map_or(0, |p| p.totals.total),
            currency,
        ))
    }
}

/// Loads what a quote needs and prices `cart`. `customer_key` (a user id or an email)
/// counts the customer's earlier uses of the coupon.
pub async fn quote(
    tx: &TenantTx,
    cart: &Cart,
    rules: Rules,
    customer_key: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Quote, Problem> {
    let ids: Vec<_> = cart.lines.iter().map(|l| l.variant).collect();
    let lookups = mirror::lookups(tx, &ids).await?;
    quote_with(tx, cart, rules, customer_key, now, lookups).await
}

/// [`quote`] with the variants, stock and vendors of the cart's lines read already (in the
/// same transaction, by a caller that just checked them).
pub async fn quote_with(
    tx: &TenantTx,
    cart: &Cart,
    rules: Rules,
    customer_key: Option<&str>,
    now: DateTime<Utc>,
    lookups: Lookups,
) -> Result<Quote, Problem> {
    let Lookups {
        variants,
        stock,
        vendors,
    } = lookups;
    let Rules {
        settings,
        tax_rules,
        commission_rules,
    } = rules;

    let mut currency: Option<Currency> = None;
    let mut lines = Vec::with_capacity(cart.lines.len());
    for line in &cart.lines {
        let variant = variants.get(&line.variant).cloned();
        let available = stock.get(&line.variant).copied().unwrap_or(0);
        let mut problem = None;
        let mut price_changed = false;
        match &variant {
            None => problem = Some(LineProblem::NotForSale),
            // The vendor first: a suspended vendor's products are hidden too, and the
            // shopper is better told why.
            Some(v) => match mirror::selling(vendors.get(&v.vendor), now.date_naive()) {
                Selling::Suspended => problem = Some(LineProblem::VendorNotSelling),
                Selling::BackOn(back) => problem = Some(LineProblem::VendorOnHoliday(back)),
                _ if !v.visible => problem = Some(LineProblem::NotForSale),
                Selling::No => problem = Some(LineProblem::VendorNotSelling),
                Selling::Yes => {
                    let cart_currency = *currency.get_or_insert(v.price.currency);
                    if v.price.currency != cart_currency {
                        problem = Some(LineProblem::CurrencyMismatch);
                    } else {
                        price_changed = v.price.amount != line.seen_price;
                        if line.quantity > available {
                            problem = Some(LineProblem::InsufficientStock);
                        }
                    }
                }
            },
        }
        lines.push(QuotedLine {
            line: line.clone(),
            variant,
            available,
            problem,
            price_changed,
            priced: None,
            commission: None,
        });
    }
    let mut quote = Quote {
        currency,
        lines,
        vendors,
        priced: None,
        coupon: None,
        settings,
    };
    let Some(currency) = currency else {
        quote.coupon = cart.coupon_code.as_ref().map(|code| CouponOutcome {
            code: code.clone(),
            coupon: None,
            vendor_percent: Decimal::ZERO,
            discount: 0,
            refused: Some((
                "coupon_no_eligible_lines",
                "the cart has nothing to discount".into(),
            )),
        });
        return Ok(quote);
    };

    let priced_idx: Vec<usize> = quote
        .lines
        .iter()
        .enumerate()
        .filter(|(_, l)| !l.problem.is_some_and(LineProblem::excluded))
        .map(|(i, _)| i)
        .collect();
    let pricing_lines: Vec<PricingLine> = priced_idx
        .iter()
        .filter_map(|&i| {
            let l = &quote.lines[i];
            let v = l.variant.as_ref()?;
            Some(PricingLine {
                vendor: v.vendor,
                product: v.product,
                categories: v.categories.clone(),
                unit_price: v.price.amount,
                quantity: l.line.quantity,
                tax_category: v.tax_category.clone(),
            })
        })
        .collect();

    // The coupon.
    let mut discounts = Vec::new();
    let mut vendor_percent = Decimal::ZERO;
    if let Some(code) = &cart.coupon_code {
        let mut outcome = CouponOutcome {
            code: code.clone(),
            coupon: None,
            vendor_percent,
            discount: 0,
            refused: None,
        };
        match coupons::find_by_code(tx, code).await? {
            None => {
                outcome.refused =
                    Some(("coupon_unknown", "there is no coupon with this code".into()));
            }
            Some(stored) => {
                let coupon = stored.coupon()?;
                let by_customer = match customer_key {
                    Some(key) => coupons::redemptions_by(tx, stored.id, key).await?,
                    None => 0,
                };
                let usage = CouponUsage {
                    total: stored.used_count,
                    by_customer,
                };
                let coupon_lines: Vec<CouponLine> = pricing_lines
                    .iter()
                    .map(|l| CouponLine {
                        vendor: l.vendor,
                        product: l.product,
                        categories: l.categories.clone(),
                        amount: l.unit_price.saturating_mul(l.quantity),
                    })
                    .collect();
                outcome.coupon = Some((stored.id, coupon.usage_limit, coupon.per_customer_limit));
                outcome.vendor_percent = coupon.vendor_percent();
                match coupon::discount(&coupon, &coupon_lines, currency, now, usage) {
                    Ok(per_line) => {
                        outcome.discount = per_line.iter().sum();
                        vendor_percent = coupon.vendor_percent();
                        discounts = per_line;
                    }
                    Err(why) => outcome.refused = Some((why.code(), why.message())),
                }
            }
        }
        quote.coupon = Some(outcome);
    }

    let shipping: Vec<VendorShipping> = quote
        .vendors
        .values()
        .filter_map(|v| {
            let rate = v.flat_rate.filter(|m| m.currency == currency)?;
            Some(VendorShipping {
                vendor: v.id,
                flat_rate: rate.amount,
                free_over: v.free_over,
            })
        })
        .collect();
    let priced = pricing::price(&PricingInput {
        currency,
        lines: &pricing_lines,
        shipping: &shipping,
        discounts: &discounts,
        tax: TaxSettings {
            prices_include_tax: quote.settings.prices_include_tax,
        },
        tax_rules: &tax_rules,
        country: cart.country.as_deref(),
    })
    .map_err(|e| Problem::invalid_field("/lines", e.to_string()))?;

    // Commission per line, on what the vendor's sale is worth. The mirror stores only rules
    // it could read; one it cannot read now is damage, and skipping it would sell without
    // the shop's commission.
    let rules: Vec<CommissionRule> = commission_rules
        .into_iter()
        .map(|json| {
            let snapshot =
                serde_json::from_value::<mercato_vendors_api::events::CommissionRuleSnapshot>(json)
                    .map_err(Problem::internal)?;
            CommissionRule::try_from(snapshot).map_err(Problem::internal)
        })
        .collect::<Result<_, Problem>>()?;
    // The vendor's part of each vendor's discount, spread over its lines (the split is
    // rounded once per vendor, as the vendor order keeps it).
    let mut vendor_funded = vec![0; priced.lines.len()];
    for totals in &priced.vendors {
        let mine: Vec<usize> = (0..priced.lines.len())
            .filter(|&k| {
                pricing_lines
                    .get(k)
                    .is_some_and(|l| l.vendor == totals.vendor)
            })
            .collect();
        let discounts: Vec<i64> = mine.iter().map(|&k| priced.lines[k].discount).collect();
        let (_, parts) = pricing::vendor_funded_lines(&discounts, vendor_percent);
        for (&k, part) in mine.iter().zip(parts) {
            vendor_funded[k] = part;
        }
    }
    for (k, &i) in priced_idx.iter().enumerate() {
        let Some(p) = priced.lines.get(k) else {
            continue;
        };
        let l = &mut quote.lines[i];
        l.priced = Some(p.clone());
        if let Some(v) = &l.variant {
            let base = pricing::commission_base(p.subtotal, vendor_funded[k]);
            let line = commission::Line {
                amount: Money::new(base, currency),
                vendor: v.vendor,
                category: v.categories.last().copied(),
                at: now,
            };
            l.commission = Some(match commission::quote(&rules, &line) {
                Some(q) => (q.commission.amount, q.rule.id.to_string()),
                None => (0, String::new()),
            });
        }
    }
    quote.priced = Some(priced);
    Ok(quote)
}

/// The quote's tax per rate, as the order keeps it.
pub fn tax_lines(quote: &Quote) -> Vec<TaxLine> {
    quote.priced.as_ref().map_or_else(Vec::new, |p| {
        p.tax_breakdown
            .iter()
            .map(|t| TaxLine {
                country: t.country.clone(),
                category: t.category.clone(),
                rate: t.rate.normalize().to_string(),
                taxable: t.taxable,
                tax: t.tax,
            })
            .collect()
    })
}

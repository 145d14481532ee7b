//! The one rule for what a refund takes back from each party of a vendor order's sale, so
//! the ledger (accounting) and the vendor's balance (payouts) split it alike, to the cent.
//!
//! Each part of the sale (tax, commission, the discount the shop funded) is reversed in
//! proportion to what is given back: `round(x × refunded_after / total) − round(x ×
//! refunded_before / total)` (half up), so the parts of several partial refunds add up to the
//! whole sale's once all is refunded; what is given back beyond the total reverses nothing
//! more. The vendor gives back the rest: `amount − tax − commission + discount_by_shop`.

use crate::events::VendorOrderMoney;

/// What a vendor order's sale was made of, in minor units of its currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SaleParts {
    pub total: i64,
    pub tax: i64,
    pub commission: i64,
    pub discount_by_shop: i64,
}

/// What one refund takes back from each party, in minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RefundParts {
    /// Back from the tax owed.
    pub tax: i64,
    /// Back from the shop's commission.
    pub commission: i64,
    /// Of the shop-funded discount the shop no longer pays the vendor.
    pub discount_by_shop: i64,
    /// Off what the vendor is owed.
    pub vendor: i64,
}

impl From<&VendorOrderMoney> for SaleParts {
    fn from(v: &VendorOrderMoney) -> Self {
        Self {
            total: v.total,
            tax: v.tax,
            commission: v.commission,
            discount_by_shop: v.discount_by_shop,
        }
    }
}

impl SaleParts {
    /// The parts of refunding `amount` more when `refunded_before` was refunded already;
    /// `None` on arithmetic overflow.
    pub fn refund(&self, refunded_before: i64, amount: i64) -> Option<RefundParts> {
        let after = refunded_before.checked_add(amount)?;
        let (from, to) = (refunded_before.min(self.total), after.min(self.total));
        let part = |x: i64| share(x, to, self.total) - share(x, from, self.total);
        let (tax, commission, discount_by_shop) = (
            part(self.tax),
            part(self.commission),
            part(self.discount_by_shop),
        );
        let vendor = amount
            .checked_sub(tax)?
            .checked_sub(commission)?
            .checked_add(discount_by_shop)?;
        Some(RefundParts {
            tax,
            commission,
            discount_by_shop,
            vendor,
        })
    }
}

/// `x × part / whole`, rounded half up; 0 when `whole` is 0.
pub fn share(x: i64, part: i64, whole: i64) -> i64 {
    if whole == 0 {
        return 0;
    }
    let (x, part, whole) = (i128::from(x), i128::from(part), i128::from(whole));
    let scaled = x * part;
    let rounded = (2 * scaled + whole).div_euclid(2 * whole);
    i64::try_from(rounded).unwrap_or(if rounded < 0 { i64::MIN } else { i64::MAX })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SALE: SaleParts = SaleParts {
        total: 10_000,
        tax: 1_597,
        commission: 1_000,
        discount_by_shop: 500,
    };

    #[test]
    fn partial_refunds_add_up_to_the_whole() {
        let mut before = 0;
        let mut sum = RefundParts::default();
        for amount in [3_333, 3_333, 3_334] {
            let p = SALE.refund(before, amount).unwrap();
            before += amount;
            sum.tax += p.tax;
            sum.commission += p.commission;
            sum.discount_by_shop += p.discount_by_shop;
            sum.vendor += p.vendor;
        }
        let whole = SALE.refund(0, 10_000).unwrap();
        assert_eq!(sum, whole);
        assert_eq!(whole.vendor, 10_000 - 1_597 - 1_000 + 500);
    }

    #[test]
    fn beyond_the_total_only_the_vendor_gives_back() {
        let p = SALE.refund(10_000, 200).unwrap();
        assert_eq!(
            (p.tax, p.commission, p.discount_by_shop, p.vendor),
            (0, 0, 0, 200)
        );
    }

    #[test]
    fn shares_round_half_up() {
        assert_eq!(share(1, 1, 2), 1);
        assert_eq!(share(3, 1, 2), 2);
        assert_eq!(share(5, 0, 0), 0);
    }
}

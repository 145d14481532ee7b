//! The posting rules (ADR 0038): what an order's payment and a refund write to the ledger.
//! Pure functions of the contract payloads (`mercato-orders-api`); `events` posts what they
//! return.
//!
//! # A vendor order paid
//!
//! The shopper paid `total` (into the provider's clearing account). The marketplace
//! collects the `tax` in it and owes it; it keeps its `commission`; it pays the vendor back
//! the discount it funded (`discount_by_shop`, an expense); the vendor is owed the rest:
//!
//! | account | debit | credit |
//! |---|---|---|
//! | 1100 payment provider clearing | total | |
//! | 5100 discounts funded by the shop | discount_by_shop | |
//! | 2200 tax payable | | tax |
//! | 4100 commission revenue | | commission |
//! | 2100 vendor payables (the vendor) | | total + discount_by_shop − tax − commission |
//!
//! which is the vendor order's `earnings`. A vendor-funded discount is already out of the
//! total; shipping is the vendor's (it ships), inside its share.
//!
//! # A refund
//!
//! Each vendor order's share of a refund reverses that vendor order's sale in proportion to
//! what is given back, by the rule of `mercato_orders_api::money` (the one payouts applies
//! to the vendor's balance too): tax, commission and the shop-funded discount each by
//! `round(x × refunded_after / total) − round(x × refunded_before / total)` (half up), so
//! the parts of several partial refunds add up to the whole sale's exactly once all is
//! refunded; the vendor's payable takes the rest. A refund of a payment the order could not
//! keep (`stray_payment`) books nothing: its payment was never booked either.

use super::accounts::Account;
use super::entry::{Entry, EntryBuilder, EntryError, EntryKind, Line, Source};
use mercato_kernel::Currency;
use mercato_orders_api::events::VendorOrderMoney;
use mercato_orders_api::money::{RefundParts, SaleParts};
use mercato_orders_api::{OrderId, RefundId, VendorOrderId};
use mercato_payouts_api::PayoutChanged;
use mercato_tenant_context::VendorId;

/// A vendor order's sale as the ledger booked it: what its refunds reverse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booked {
    pub vendor_order: VendorOrderId,
    pub order: OrderId,
    pub vendor: VendorId,
    pub currency: Currency,
    pub total: i64,
    pub tax: i64,
    pub commission: i64,
    pub discount_by_shop: i64,
    /// Refunded so far, as the ledger booked it.
    pub refunded: i64,
}

/// The entry for `v` paid (see the module documentation) and what it booked.
pub fn sale(
    order: OrderId,
    currency: Currency,
    v: &VendorOrderMoney,
    source: Source,
) -> Result<(Entry, Booked), EntryError> {
    let owed = v
        .total
        .checked_add(v.discount_by_shop)
        .and_then(|a| a.checked_sub(v.tax))
        .and_then(|a| a.checked_sub(v.commission))
        .ok_or(EntryError::Overflow)?;
    let lines = EntryBuilder::new()
        .debit(Account::PspClearing, v.total)
        .debit(Account::ShopFundedDiscounts, v.discount_by_shop)
        .credit(Account::TaxPayable, v.tax)
        .credit(Account::CommissionRevenue, v.commission)
        .owe_vendor(v.vendor_id, owed)
        .finish()?;
    let entry = Entry {
        key: format!("sale:{}", v.vendor_order_id),
        kind: EntryKind::Sale,
        currency,
        memo: format!("order {order}, vendor order {} paid", v.vendor_order_id),
        source,
        lines,
    };
    let booked = Booked {
        vendor_order: v.vendor_order_id,
        order,
        vendor: v.vendor_id,
        currency,
        total: v.total,
        tax: v.tax,
        commission: v.commission,
        discount_by_shop: v.discount_by_shop,
        refunded: 0,
    };
    Ok((entry, booked))
}

/// What refunding `amount` more of `booked` takes back of each part; `None` on overflow.
pub fn refunded_parts(booked: &Booked, amount: i64) -> Option<RefundParts> {
    SaleParts {
        total: booked.total,
        tax: booked.tax,
        commission: booked.commission,
        discount_by_shop: booked.discount_by_shop,
    }
    .refund(booked.refunded, amount)
}

/// The entry for `amount` of `booked`'s vendor order refunded by `refund`, and the booking
/// after it.
pub fn refund(
    refund: RefundId,
    booked: &Booked,
    amount: i64,
    source: Source,
) -> Result<(Entry, Booked), EntryError> {
    let after = booked
        .refunded
        .checked_add(amount)
        .ok_or(EntryError::Overflow)?;
    let parts = refunded_parts(booked, amount).ok_or(EntryError::Overflow)?;
    let (tax, commission, discount) = (parts.tax, parts.commission, parts.discount_by_shop);
    let vendor_gives_back = parts.vendor;
    let lines = EntryBuilder::new()
        .credit(Account::PspClearing, amount)
        .debit(Account::TaxPayable, tax)
        .debit(Account::CommissionRevenue, commission)
        .credit(Account::ShopFundedDiscounts, discount)
        .owe_vendor(
            booked.vendor,
            vendor_gives_back
                .checked_neg()
                .ok_or(EntryError::Overflow)?,
        )
        .finish()?;
    let entry = Entry {
        key: format!("refund:{refund}:{}", booked.vendor_order),
        kind: EntryKind::Refund,
        currency: booked.currency,
        memo: format!(
            "order {}, vendor order {} refunded ({refund})",
            booked.order, booked.vendor_order
        ),
        source,
        lines,
    };
    Ok((
        entry,
        Booked {
            refunded: after,
            ..booked.clone()
        },
    ))
}

/// The entry for a payout that reached the vendor: the vendor is owed that much less, and
/// the money left the platform's provider balance (a Stripe Connect transfer, or the test
/// provider standing in for it) or its bank account (a bank transfer):
///
/// | account | debit | credit |
/// |---|---|---|
/// | 2100 vendor payables (the vendor) | amount | |
/// | 1100 payment provider clearing, or 1200 bank | | amount |
pub fn payout(p: &PayoutChanged, source: Source) -> Result<Entry, EntryError> {
    let from = if p.method == "bank_transfer" {
        Account::Bank
    } else {
        Account::PspClearing
    };
    let lines = EntryBuilder::new()
        .owe_vendor(
            p.vendor_id,
            p.amount.amount.checked_neg().ok_or(EntryError::Overflow)?,
        )
        .credit(from, p.amount.amount)
        .finish()?;
    Ok(Entry {
        key: format!("payout:{}", p.payout_id),
        kind: EntryKind::Payout,
        currency: p.amount.currency,
        memo: format!(
            "payout {} to vendor {} ({})",
            p.payout_id, p.vendor_id, p.method
        ),
        source,
        lines,
    })
}

/// The mirror of [`payout`] for a payout that was booked as paid and then taken back by
/// the provider (a Stripe transfer reversed, ADR 0044): the vendor is owed the money again,
/// and it is back in the provider balance (or the bank):
///
/// | account | debit | credit |
/// |---|---|---|
/// | 1100 payment provider clearing, or 1200 bank | amount | |
/// | 2100 vendor payables (the vendor) | | amount |
pub fn payout_reversal(p: &PayoutChanged, source: Source) -> Result<Entry, EntryError> {
    let booked = payout(p, source)?;
    let lines = booked
        .lines
        .into_iter()
        .map(|l| Line {
            debit: l.credit,
            credit: l.debit,
            ..l
        })
        .collect();
    Ok(Entry {
        key: format!("payout_reversal:{}", p.payout_id),
        kind: EntryKind::PayoutReversal,
        memo: format!(
            "payout {} to vendor {} reversed ({})",
            p.payout_id,
            p.vendor_id,
            p.failure.as_deref().unwrap_or("taken back by the provider")
        ),
        lines,
        ..booked
    })
}

/// The fee the payment provider took on `payment` of `order`, out of the clearing account:
/// Dr 5200 payment fees, Cr 1100, once per payment (`fee:pay_…`). `None` for no fee.
pub fn payment_fee(
    order: OrderId,
    payment: mercato_orders_api::PaymentId,
    fee: mercato_kernel::Money,
    source: Source,
) -> Result<Option<Entry>, EntryError> {
    if fee.amount == 0 {
        return Ok(None);
    }
    let lines = EntryBuilder::new()
        .debit(Account::PaymentFees, fee.amount)
        .credit(Account::PspClearing, fee.amount)
        .finish()?;
    Ok(Some(Entry {
        key: format!("fee:{payment}"),
        kind: EntryKind::PaymentFee,
        currency: fee.currency,
        memo: format!("payment fee of {payment} (order {order})"),
        source,
        lines,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn eur() -> Currency {
        Currency::parse("EUR").unwrap()
    }

    fn source() -> Source {
        Source {
            event_id: Some(uuid::Uuid::now_v7()),
            event: Some("order.paid".into()),
            occurred_at: chrono::Utc::now(),
            order: None,
            vendor_order: None,
        }
    }

    fn money(total: i64, tax: i64, commission: i64, by_shop: i64) -> VendorOrderMoney {
        VendorOrderMoney {
            vendor_order_id: VendorOrderId::new(),
            vendor_id: VendorId::new(),
            subtotal: total,
            discount_by_shop: by_shop,
            discount_by_vendor: 0,
            shipping: 0,
            tax,
            total,
            commission,
            earnings: total + by_shop - tax - commission,
            refunded: 0,
        }
    }

    /// Each account's net (debit − credit) over `entries`.
    fn net(entries: &[&Entry], account: Account) -> i64 {
        entries
            .iter()
            .flat_map(|e| &e.lines)
            .filter(|l| l.account == account)
            .map(|l| l.debit - l.credit)
            .sum()
    }

    #[test]
    fn a_sale_books_tax_commission_the_shops_discount_and_the_vendors_share() {
        // 100.00 of goods at 19 % on top, 10.00 off funded by the shop, 5.00 shipping:
        // total 90.00 + 5.00 + 17.10 tax = 112.10; commission 15.00.
        let v = money(11_210, 1_710, 1_500, 1_000);
        let (entry, booked) = sale(OrderId::new(), eur(), &v, source()).unwrap();
        assert_eq!(entry.key, format!("sale:{}", v.vendor_order_id));
        assert_eq!(entry.total(), 12_210);
        let e = [&entry];
        assert_eq!(net(&e, Account::PspClearing), 11_210);
        assert_eq!(net(&e, Account::ShopFundedDiscounts), 1_000);
        assert_eq!(net(&e, Account::TaxPayable), -1_710);
        assert_eq!(net(&e, Account::CommissionRevenue), -1_500);
        assert_eq!(net(&e, Account::VendorPayables), -v.earnings);
        assert_eq!(v.earnings, 9_000);
        assert_eq!(booked.refunded, 0);
    }

    #[test]
    fn partial_refunds_add_up_to_the_whole_sale() {
        let v = money(10_001, 1_597, 1_333, 777);
        let (sold, mut booked) = sale(OrderId::new(), eur(), &v, source()).unwrap();
        let mut entries = vec![sold];
        for amount in [3_333, 3_333, 3_335] {
            let (e, after) = refund(RefundId::new(), &booked, amount, source()).unwrap();
            entries.push(e);
            booked = after;
        }
        let all: Vec<&Entry> = entries.iter().collect();
        for account in Account::ALL {
            assert_eq!(net(&all, account), 0, "{account:?}");
        }
    }

    #[test]
    fn a_stray_share_beyond_the_sale_goes_to_the_vendor_alone() {
        let v = money(1_000, 100, 100, 0);
        let (_, booked) = sale(OrderId::new(), eur(), &v, source()).unwrap();
        let (_, booked) = refund(RefundId::new(), &booked, 1_000, source()).unwrap();
        let (extra, _) = refund(RefundId::new(), &booked, 50, source()).unwrap();
        let e = [&extra];
        assert_eq!(net(&e, Account::TaxPayable), 0);
        assert_eq!(net(&e, Account::VendorPayables), 50);
        assert_eq!(net(&e, Account::PspClearing), -50);
    }

    proptest! {
        #[test]
        fn every_entry_balances_and_refunds_never_over_reverse(
            total in 1i64..10_000_000,
            tax_pct in 0i64..30,
            commission_pct in 0i64..40,
            discount in 0i64..100_000,
            cuts in proptest::collection::vec(1i64..1_000, 1..6),
        ) {
            let v = money(total, total * tax_pct / 130, total * commission_pct / 100, discount);
            let (sold, mut booked) = sale(OrderId::new(), eur(), &v, source()).unwrap();
            prop_assert_eq!(
                sold.lines.iter().map(|l| l.debit).sum::<i64>(),
                sold.lines.iter().map(|l| l.credit).sum::<i64>()
            );
            let weights: i64 = cuts.iter().sum();
            let mut given = 0;
            let mut entries = vec![sold];
            for (i, c) in cuts.iter().enumerate() {
                let amount = if i + 1 == cuts.len() { total - given } else { total * c / weights };
                given += amount;
                if amount == 0 {
                    continue;
                }
                let (e, after) = refund(RefundId::new(), &booked, amount, source()).unwrap();
                prop_assert_eq!(
                    e.lines.iter().map(|l| l.debit).sum::<i64>(),
                    e.lines.iter().map(|l| l.credit).sum::<i64>()
                );
                entries.push(e);
                booked = after;
            }
            let all: Vec<&Entry> = entries.iter().collect();
            for account in Account::ALL {
                prop_assert_eq!(net(&all, account), 0, "{:?}", account);
            }
        }
    }

    #[test]
    fn a_reversed_payout_mirrors_its_booking() {
        let p = PayoutChanged {
            payout_id: mercato_payouts_api::PayoutId::new(),
            run_id: None,
            vendor_id: VendorId::new(),
            amount: mercato_kernel::Money::new(4_250, eur()),
            status: mercato_payouts_api::PayoutStatus::Failed,
            previous_status: Some(mercato_payouts_api::PayoutStatus::Paid),
            method: "stripe_connect".into(),
            reference: Some("tr_1".into()),
            failure: Some("reversed by Stripe".into()),
            actor: "provider:stripe".into(),
            items: Vec::new(),
        };
        let paid = payout(&p, source()).unwrap();
        let reversed = payout_reversal(&p, source()).unwrap();
        assert_eq!(reversed.kind, EntryKind::PayoutReversal);
        assert_ne!(reversed.key, paid.key);
        assert_eq!(reversed.total(), 4_250);
        for (a, b) in paid.lines.iter().zip(&reversed.lines) {
            assert_eq!((a.account, a.vendor), (b.account, b.vendor));
            assert_eq!((a.debit, a.credit), (b.credit, b.debit));
        }
        assert_eq!(
            net(&[&paid, &reversed], Account::VendorPayables),
            0,
            "the vendor is owed what it was before the payout"
        );
    }
}

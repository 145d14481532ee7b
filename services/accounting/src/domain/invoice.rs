//! Customer documents (ADR 0040): an invoice per vendor order paid, a credit note per vendor
//! order's share of a refund, and the shop's commission invoice to a vendor per payout
//! (`COM-2026-000001`, ADR 0043, see `domain::commission`). Their numbers, their amounts and
//! what is printed on them; pure functions of the contract payloads.
//!
//! # Numbers
//!
//! Each shop numbers each series on its own, from 1, without a gap: invoices of 2026 are
//! `INV-2026-000001`, `INV-2026-000002`, …; credit notes `CN-2026-000001`, …. The series is
//! chosen by the year the document is issued (UTC). The number itself is allocated from the
//! shop's counter row of the series in the document's own transaction (`repo::documents`).
//!
//! # Amounts
//!
//! An invoice shows the vendor order's money as orders priced it: `net = total − tax`, the
//! `tax`, the `shipping` in it, the `discount` off it (whoever funds it) and the `total`. A
//! credit note shows its share of a refund, split in the proportion the ledger reverses the
//! sale (`mercato_orders_api::money`): the tax exactly as the ledger takes it back, shipping
//! and discount by the same rounding, so several partial credit notes add up to the invoice.

use chrono::{DateTime, Datelike, Utc};
use mercato_orders_api::events::{InvoiceDetails, InvoiceParty, VendorOrderMoney};
use mercato_orders_api::money::{SaleParts, share};
use mercato_orders_api::{RefundId, VendorOrderId};
use mercato_tenant_context::VendorId;
use serde::{Deserialize, Serialize};

/// What a customer document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    Invoice,
    CreditNote,
    /// The shop's invoice to a vendor for the commission of a payout (ADR 0043).
    Commission,
    /// The shop's credit to a vendor for the commission of a refund of a vendor order whose
    /// commission a commission invoice carried (ADR 0043).
    CommissionCreditNote,
}

impl DocumentKind {
    pub fn code(self) -> &'static str {
        match self {
            Self::Invoice => "invoice",
            Self::CreditNote => "credit_note",
            Self::Commission => "commission",
            Self::CommissionCreditNote => "commission_credit_note",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        [
            Self::Invoice,
            Self::CreditNote,
            Self::Commission,
            Self::CommissionCreditNote,
        ]
        .into_iter()
        .find(|k| k.code() == code)
    }

    /// The prefix of the kind's series.
    pub fn prefix(self) -> &'static str {
        match self {
            Self::Invoice => "INV",
            Self::CreditNote => "CN",
            Self::Commission => "COM",
            Self::CommissionCreditNote => "CCN",
        }
    }

    /// The title printed on the document.
    pub fn title(self) -> &'static str {
        match self {
            Self::Invoice => "Invoice",
            Self::CreditNote => "Credit note",
            Self::Commission => "Commission invoice",
            Self::CommissionCreditNote => "Commission credit note",
        }
    }
}

/// The series a document of `kind` issued at `issued_at` is numbered in: `INV-2026`.
pub fn series(kind: DocumentKind, issued_at: DateTime<Utc>) -> String {
    format!("{}-{:04}", kind.prefix(), issued_at.year())
}

/// The number of the `seq`th document of `series`: `INV-2026-000001`. Six digits at least;
/// a shop's millionth document of a year gets seven.
pub fn number(series: &str, seq: i64) -> String {
    format!("{series}-{seq:06}")
}

/// The unique key of a vendor order's invoice: at most one, whatever replays.
pub fn invoice_key(vendor_order: VendorOrderId) -> String {
    format!("invoice:{vendor_order}")
}

/// The unique key of a payout's commission invoice: at most one.
pub fn commission_key(payout: mercato_payouts_api::PayoutId) -> String {
    format!("commission:{payout}")
}

/// The unique key of the commission credit note of one refund of a vendor order.
pub fn commission_credit_note_key(refund: RefundId, vendor_order: VendorOrderId) -> String {
    format!("commission_credit_note:{refund}:{vendor_order}")
}

/// The unique key of a vendor order's credit note for one refund.
pub fn credit_note_key(refund: RefundId, vendor_order: VendorOrderId) -> String {
    format!("credit_note:{refund}:{vendor_order}")
}

/// A document's money, in minor units of its currency; all ≥ 0 for a sale, `net + tax =
/// total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Amounts {
    pub net: i64,
    pub tax: i64,
    pub shipping: i64,
    pub discount: i64,
    pub total: i64,
}

impl Amounts {
    /// An invoice's amounts: the vendor order's money.
    pub fn of_sale(v: &VendorOrderMoney) -> Self {
        Self {
            net: v.total - v.tax,
            tax: v.tax,
            shipping: v.shipping,
            discount: v.discount_by_shop + v.discount_by_vendor,
            total: v.total,
        }
    }

    /// A credit note's amounts for `amount` more refunded of the invoice `self` when
    /// `refunded_before` was refunded already: the tax as the ledger reverses it (`sale`
    /// gives the sale's parts), shipping and discount in the same proportion; `None` on
    /// overflow.
    pub fn of_refund(&self, sale: SaleParts, refunded_before: i64, amount: i64) -> Option<Self> {
        let parts = sale.refund(refunded_before, amount)?;
        let after = refunded_before.checked_add(amount)?;
        let (from, to) = (refunded_before.min(self.total), after.min(self.total));
        let part = |x: i64| share(x, to, self.total) - share(x, from, self.total);
        Some(Self {
            net: amount.checked_sub(parts.tax)?,
            tax: parts.tax,
            shipping: part(self.shipping),
            discount: part(self.discount),
            total: amount,
        })
    }
}

/// A party as printed: a name, address lines and a tax id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrintedParty {
    pub name: String,
    pub lines: Vec<String>,
    /// Its VAT id (none on documents issued before parties had one).
    #[serde(default)]
    pub tax_id: Option<String>,
}

/// One row of a document's table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrintedLine {
    pub title: String,
    pub sku: String,
    pub quantity: i64,
    pub unit_price: i64,
    /// A decimal percentage (`"19"`), empty when unknown.
    pub tax_rate: String,
    pub total: i64,
}

/// What a document prints beyond its amounts: kept with it when it is issued, so rendering
/// later (or again) prints what was true then.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Printed {
    pub seller: PrintedParty,
    pub buyer: Option<PrintedParty>,
    pub buyer_email: Option<String>,
    pub prices_include_tax: bool,
    pub lines: Vec<PrintedLine>,
    /// A credit note's invoice number.
    pub refers_to: Option<String>,
    /// Notes the document must carry (the reverse-charge note); none on documents issued
    /// before documents had them.
    #[serde(default)]
    pub notes: Vec<String>,
}

fn seller(vendor: VendorId, details: Option<&InvoiceDetails>) -> PrintedParty {
    let name = details
        .and_then(|d| d.sellers.iter().find(|s| s.vendor_id == vendor))
        .map(|s| s.name.clone())
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| format!("Vendor {vendor}"));
    PrintedParty {
        name,
        lines: Vec::new(),
        tax_id: None,
    }
}

fn buyer(party: &InvoiceParty) -> PrintedParty {
    PrintedParty {
        name: party.name.clone(),
        lines: party.address.clone(),
        tax_id: None,
    }
}

/// What the invoice of `v` prints. Its lines are the order's lines of `v` when the event
/// carried them (`details`); an event written before orders sent them gets the money
/// breakdown as its lines instead.
pub fn invoice_print(v: &VendorOrderMoney, details: Option<&InvoiceDetails>) -> Printed {
    let lines: Vec<PrintedLine> = details
        .map(|d| {
            d.lines
                .iter()
                .filter(|l| l.vendor_order_id == v.vendor_order_id)
                .map(|l| PrintedLine {
                    title: l.title.clone(),
                    sku: l.sku.clone(),
                    quantity: l.quantity,
                    unit_price: l.unit_price,
                    tax_rate: l.tax_rate.clone(),
                    total: l.total,
                })
                .collect()
        })
        .unwrap_or_default();
    let lines = if lines.is_empty() {
        breakdown(v)
    } else {
        lines
    };
    Printed {
        seller: seller(v.vendor_id, details),
        buyer: details.map(|d| buyer(&d.buyer)),
        buyer_email: details.and_then(|d| d.buyer.email.clone()),
        prices_include_tax: details.is_some_and(|d| d.prices_include_tax),
        lines,
        refers_to: None,
        notes: Vec::new(),
    }
}

/// The money of `v` as lines, for an invoice without the order's lines.
fn breakdown(v: &VendorOrderMoney) -> Vec<PrintedLine> {
    let row = |title: &str, amount: i64| PrintedLine {
        title: title.to_owned(),
        sku: String::new(),
        quantity: 1,
        unit_price: amount,
        tax_rate: String::new(),
        total: amount,
    };
    let mut lines = vec![row("Goods", v.subtotal)];
    let discount = v.discount_by_shop + v.discount_by_vendor;
    if discount != 0 {
        lines.push(row("Discount", -discount));
    }
    if v.shipping != 0 {
        lines.push(row("Shipping", v.shipping));
    }
    lines
}

/// What a credit note of `amounts` for `refund` against `invoice` prints.
pub fn credit_note_print(
    invoice: &Printed,
    invoice_number: Option<&str>,
    refund: RefundId,
    amounts: &Amounts,
) -> Printed {
    let title = match invoice_number {
        Some(number) => format!("Refund {refund} of invoice {number}"),
        None => format!("Refund {refund}"),
    };
    Printed {
        lines: vec![PrintedLine {
            title,
            sku: String::new(),
            quantity: 1,
            unit_price: amounts.total,
            tax_rate: String::new(),
            total: amounts.total,
        }],
        refers_to: invoice_number.map(str::to_owned),
        ..invoice.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn money(
        total: i64,
        tax: i64,
        shipping: i64,
        by_shop: i64,
        by_vendor: i64,
    ) -> VendorOrderMoney {
        VendorOrderMoney {
            vendor_order_id: VendorOrderId::new(),
            vendor_id: VendorId::new(),
            subtotal: total - tax - shipping + by_shop + by_vendor,
            discount_by_shop: by_shop,
            discount_by_vendor: by_vendor,
            shipping,
            tax,
            total,
            commission: total / 10,
            earnings: 0,
            refunded: 0,
        }
    }

    #[test]
    fn invoice_numbers_are_per_kind_and_year_and_zero_padded() {
        let at = "2026-12-31T23:59:59Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(series(DocumentKind::Invoice, at), "INV-2026");
        assert_eq!(series(DocumentKind::CreditNote, at), "CN-2026");
        let next_year = "2027-01-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(series(DocumentKind::Invoice, next_year), "INV-2027");
        assert_eq!(number("INV-2026", 1), "INV-2026-000001");
        assert_eq!(number("CN-2026", 42), "CN-2026-000042");
        assert_eq!(number("INV-2026", 1_234_567), "INV-2026-1234567");
    }

    #[test]
    fn an_invoice_shows_the_vendor_orders_money() {
        // 2 × 12.50 − 2.50 = 22.50 goods, 4.90 shipping, 5.21 tax: 32.61.
        let v = money(3_261, 521, 490, 0, 250);
        let a = Amounts::of_sale(&v);
        assert_eq!(
            a,
            Amounts {
                net: 2_740,
                tax: 521,
                shipping: 490,
                discount: 250,
                total: 3_261
            }
        );
        let printed = invoice_print(&v, None);
        let sum: i64 = printed.lines.iter().map(|l| l.total).sum();
        assert_eq!(sum, v.total - v.tax, "the breakdown adds up to the net");
    }

    #[test]
    fn a_credit_notes_tax_is_the_ledgers() {
        let v = money(10_001, 1_597, 500, 777, 0);
        let invoice = Amounts::of_sale(&v);
        let sale = SaleParts::from(&v);
        let cn = invoice.of_refund(sale, 0, 3_333).unwrap();
        assert_eq!(cn.tax, sale.refund(0, 3_333).unwrap().tax);
        assert_eq!(cn.net + cn.tax, cn.total);
        assert_eq!(cn.total, 3_333);
    }

    proptest! {
        #[test]
        fn credit_notes_add_up_to_the_invoice(
            total in 1i64..10_000_000,
            tax_pct in 0i64..30,
            shipping in 0i64..10_000,
            discount in 0i64..10_000,
            cuts in proptest::collection::vec(1i64..1_000, 1..6),
        ) {
            let v = money(total, total * tax_pct / 130, shipping.min(total), discount, 0);
            let invoice = Amounts::of_sale(&v);
            let sale = SaleParts::from(&v);
            let weights: i64 = cuts.iter().sum();
            let (mut before, mut sum) = (0, Amounts::default());
            for (i, c) in cuts.iter().enumerate() {
                let amount = if i + 1 == cuts.len() { total - before } else { total * c / weights };
                let cn = invoice.of_refund(sale, before, amount).unwrap();
                prop_assert_eq!(cn.net + cn.tax, cn.total);
                before += amount;
                sum.net += cn.net;
                sum.tax += cn.tax;
                sum.shipping += cn.shipping;
                sum.discount += cn.discount;
                sum.total += cn.total;
            }
            prop_assert_eq!(sum, invoice);
        }
    }
}

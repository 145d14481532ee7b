//! The shop's commission invoice to a vendor per payout (ADR 0043), issued in the
//! transaction of the `accounting-payouts` consumer that books `payout.paid`: one invoice
//! per payout whose booking was posted now (its number taken only if both commit), listing
//! the commission of each vendor order the payout covers, and, when VAT applies, one entry
//! moving that VAT from commission revenue to tax payable (keyed `commission_vat:po_…`,
//! linked to the payout's event). A shop that has not given its invoice settings issues
//! none: it has no legal details to issue them from.

use crate::domain::accounts::Account;
use crate::domain::commission::{self, STANDARD, VatTreatment};
use crate::domain::entry::{Entry, EntryBuilder, EntryKind, Source};
use crate::domain::expense::VatRate;
use crate::domain::posting::Booked;
use crate::invoicing;
use crate::repo::{self, BalanceChanges, documents, legal};
use mercato_db::TenantTx;
use mercato_events::{Envelope, HandlerError};
use mercato_orders_api::RefundId;
use mercato_payouts_api::{PAYOUT_PAID, PayoutChanged};
use std::collections::HashSet;

/// Issues the commission invoices of the `payout.paid` events among `events` whose booking
/// (`payout:po_…`) is in `posted_now`, in `tx`; their VAT entries add to `changes`.
pub async fn invoice_payouts(
    tx: &TenantTx,
    events: &[&Envelope],
    posted_now: &HashSet<String>,
    changes: &mut BalanceChanges,
) -> Result<(), HandlerError> {
    let mut paid = Vec::new();
    for event in events.iter().filter(|e| e.name == PAYOUT_PAID) {
        let payout: PayoutChanged = event.payload_as()?;
        if !payout.items.is_empty() && posted_now.contains(&format!("payout:{}", payout.payout_id))
        {
            paid.push((*event, payout));
        }
    }
    if paid.is_empty() {
        return Ok(());
    }
    let Some(settings) = legal::settings(tx).await? else {
        return Ok(());
    };
    let vendors: Vec<_> = paid.iter().map(|(_, p)| p.vendor_id).collect();
    let known = legal::vendor_legal(tx, &vendors).await?;
    let mut entries = Vec::new();
    for (event, payout) in &paid {
        let vendor = known.get(&payout.vendor_id);
        let vat = match vendor {
            Some(details) => {
                let rate = legal::tax_rate(tx, &details.country, STANDARD).await?;
                let rate = rate.as_deref().and_then(|r| {
                    VatRate::parse(r)
                        .map_err(|_| tracing::warn!(tenant_id = %tx.tenant(), rate = r, "mirrored tax rate is not a VAT rate; taking 0"))
                        .ok()
                });
                commission::treatment(&settings.legal, details, rate)
            }
            // Its country unknown, no rate applies.
            None => VatTreatment::Taxed(VatRate::ZERO),
        };
        let gross: i64 = payout.items.iter().map(|i| i.commission).sum();
        let amounts = vat.amounts(gross);
        let printed = commission::print(
            &settings.legal,
            vendor,
            &format!("Vendor {}", payout.vendor_id),
            &payout.items,
            vat,
        );
        let document = invoicing::issue_commission_invoice(tx, payout, printed, amounts).await?;
        let carried: Vec<_> = payout
            .items
            .iter()
            .map(|i| (i.vendor_order_id, i.commission))
            .collect();
        let rate = match vat {
            VatTreatment::Taxed(rate) => Some(rate.to_string()),
            VatTreatment::ReverseCharge => None,
        };
        documents::save_commission_items(tx, document, payout.payout_id, &carried, rate.as_deref())
            .await?;
        if amounts.tax > 0 {
            let lines = EntryBuilder::new()
                .debit(Account::CommissionRevenue, amounts.tax)
                .credit(Account::TaxPayable, amounts.tax)
                .finish()
                .map_err(|e| HandlerError::Other(anyhow::Error::new(e)))?;
            entries.push(Entry {
                key: format!("commission_vat:{}", payout.payout_id),
                kind: EntryKind::CommissionVat,
                currency: payout.amount.currency,
                memo: format!(
                    "VAT on the commission of payout {} to vendor {}",
                    payout.payout_id, payout.vendor_id
                ),
                source: Source {
                    event_id: Some(event.id.as_uuid()),
                    event: Some(event.name.clone()),
                    occurred_at: event.occurred_at,
                    order: None,
                    vendor_order: None,
                },
                lines,
            });
        }
    }
    repo::post_all(tx, &entries, changes).await?;
    Ok(())
}

/// Credits `vendor` the commission `refund` took back from `sale` (`commission` of it, VAT
/// included), when a commission invoice carried that vendor order's commission: a
/// commission credit note referring to the invoice, at the invoice's VAT, and when there is
/// VAT, an entry moving it back from tax payable to commission revenue (keyed
/// `commission_vat_reversal:rfd_…:vor_…`), in `tx`, whose refund entry was posted now. The
/// credit never exceeds what the invoice carried less what earlier credit notes credited.
pub async fn credit_refund(
    tx: &TenantTx,
    event: &Envelope,
    refund: RefundId,
    sale: &Booked,
    commission: i64,
    changes: &mut BalanceChanges,
) -> Result<(), HandlerError> {
    if commission <= 0 {
        return Ok(());
    }
    let Some(item) = documents::commission_item(tx, sale.vendor_order).await? else {
        return Ok(());
    };
    let Some(invoice) = documents::find(tx, item.document).await? else {
        return Ok(());
    };
    let credited_before =
        documents::credited_commission(tx, item.document, sale.vendor_order).await?;
    let gross = commission.min(item.commission - credited_before);
    if gross <= 0 {
        return Ok(());
    }
    let vat = match item.vat_rate.as_deref() {
        None => VatTreatment::ReverseCharge,
        Some(text) => VatTreatment::Taxed(VatRate::parse(text).map_err(|_| {
            HandlerError::Other(anyhow::anyhow!(
                "commission item of {} has VAT rate {text:?}",
                sale.vendor_order
            ))
        })?),
    };
    let amounts = vat.amounts(gross);
    invoicing::issue_commission_credit_note(tx, &invoice, item.payout, refund, sale, amounts)
        .await?;
    if amounts.tax > 0 {
        let lines = EntryBuilder::new()
            .debit(Account::TaxPayable, amounts.tax)
            .credit(Account::CommissionRevenue, amounts.tax)
            .finish()
            .map_err(|e| HandlerError::Other(anyhow::Error::new(e)))?;
        let entry = Entry {
            key: format!("commission_vat_reversal:{refund}:{}", sale.vendor_order),
            kind: EntryKind::CommissionVatReversal,
            currency: sale.currency,
            memo: format!(
                "VAT on the commission of vendor order {} credited by refund {refund}",
                sale.vendor_order
            ),
            source: Source {
                event_id: Some(event.id.as_uuid()),
                event: Some(event.name.clone()),
                occurred_at: event.occurred_at,
                order: Some(sale.order),
                vendor_order: Some(sale.vendor_order),
            },
            lines,
        };
        repo::post_all(tx, std::slice::from_ref(&entry), changes).await?;
    }
    Ok(())
}

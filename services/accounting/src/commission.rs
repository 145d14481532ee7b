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
use crate::invoicing;
use crate::repo::{self, BalanceChanges, legal};
use mercato_db::TenantTx;
use mercato_events::{Envelope, HandlerError};
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
        invoicing::issue_commission_invoice(tx, payout, printed, amounts).await?;
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

//! The ledger's side of payouts: payouts' `payout.paid` (`mercato-payouts-api`) books the
//! money that left for the vendor (`domain::posting::payout`), once: the inbox skips a
//! redelivery, and the entry's key (`payout:po_…`) is unique, so a replay posts nothing
//! either. A payout that failed on its way was never booked: nothing to reverse. One that
//! failed after it was paid — Stripe reversed its transfer, ADR 0044 — comes as
//! `payout.failed` with `previous_status: paid`, and gets the mirror of its booking
//! (`domain::posting::payout_reversal`, keyed `payout_reversal:po_…`, so once too).
//!
//! With a payment booked now goes the shop's commission invoice to the vendor and the VAT
//! it moves to tax payable (`crate::commission`, ADR 0043), in the same transaction.

use crate::AccountingState;
use crate::domain::entry::Source;
use crate::domain::posting;
use crate::repo::{self, BalanceChanges};
use async_trait::async_trait;
use mercato_events::{Envelope, Handler, HandlerError, by_tenant, mark_processed_all};
use mercato_payouts_api::{PAYOUT_FAILED, PAYOUT_PAID, PayoutChanged, PayoutStatus};
use std::collections::BTreeSet;

/// The durable consumer that books payouts.
pub const PAYOUT_POSTINGS: &str = "accounting-payouts";
pub const PAYOUT_POSTINGS_PATTERNS: &[&str] = &[PAYOUT_PAID, PAYOUT_FAILED];

pub struct PayoutPostings(pub AccountingState);

#[async_trait]
impl Handler for PayoutPostings {
    async fn handle(&self, event: &Envelope) -> Result<(), HandlerError> {
        self.handle_batch(std::slice::from_ref(event)).await
    }

    async fn handle_batch(&self, events: &[Envelope]) -> Result<(), HandlerError> {
        for (tenant, events) in by_tenant(events) {
            let tx = self.0.db.tenant_tx(tenant).await?;
            let new = mark_processed_all(&*tx, PAYOUT_POSTINGS, &events).await?;
            let mut changes = BalanceChanges::default();
            let mut charted = BTreeSet::new();
            let mut entries = Vec::new();
            for (event, new) in events.iter().zip(new) {
                if !new {
                    continue;
                }
                let payout: PayoutChanged = event.payload_as()?;
                let reversal = payout.status == PayoutStatus::Failed;
                if reversal {
                    if payout.previous_status != Some(PayoutStatus::Paid) {
                        continue;
                    }
                    // The booking to reverse comes first (retried until it is there).
                    let paid = format!("payout:{}", payout.payout_id);
                    if !entries
                        .iter()
                        .any(|e: &crate::domain::entry::Entry| e.key == paid)
                        && repo::entry_id(&tx, &paid).await?.is_none()
                    {
                        return Err(HandlerError::Other(anyhow::anyhow!(
                            "payout {} reversed before its payment was booked",
                            payout.payout_id
                        )));
                    }
                }
                if charted.insert(payout.amount.currency) {
                    repo::ensure_chart(&tx, payout.amount.currency).await?;
                }
                let source = Source {
                    event_id: Some(event.id.as_uuid()),
                    event: Some(event.name.clone()),
                    occurred_at: event.occurred_at,
                    order: None,
                    vendor_order: None,
                };
                let entry = if reversal {
                    posting::payout_reversal(&payout, source)
                } else {
                    posting::payout(&payout, source)
                };
                entries.push(entry.map_err(|e| HandlerError::Other(anyhow::Error::new(e)))?);
            }
            let posted = repo::post_all(&tx, &entries, &mut changes).await?;
            // The commission invoice of each payout booked now (ADR 0043).
            let posted_now: std::collections::HashSet<String> = entries
                .iter()
                .zip(posted)
                .filter(|(_, new)| *new)
                .map(|(e, _)| e.key.clone())
                .collect();
            crate::commission::invoice_payouts(&tx, &events, &posted_now, &mut changes).await?;
            repo::add_to_balances(&tx, changes).await?;
            tx.commit().await?;
        }
        Ok(())
    }
}

//! The ledger's side of payouts: payouts' `payout.paid` (`mercato-payouts-api`) books the
//! money that left for the vendor (`domain::posting::payout`), once: the inbox skips a
//! redelivery, and the entry's key (`payout:po_…`) is unique, so a replay posts nothing
//! either. A payout that failed was never booked: nothing to reverse.

use crate::AccountingState;
use crate::domain::entry::Source;
use crate::domain::posting;
use crate::repo::{self, BalanceChanges};
use async_trait::async_trait;
use mercato_events::{Envelope, Handler, HandlerError, by_tenant, mark_processed_all};
use mercato_payouts_api::{PAYOUT_PAID, PayoutChanged};
use std::collections::BTreeSet;

/// The durable consumer that books payouts.
pub const PAYOUT_POSTINGS: &str = "accounting-payouts";
pub const PAYOUT_POSTINGS_PATTERNS: &[&str] = &[PAYOUT_PAID];

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
                entries.push(
                    posting::payout(&payout, source)
                        .map_err(|e| HandlerError::Other(anyhow::Error::new(e)))?,
                );
            }
            repo::post_all(&tx, &entries, &mut changes).await?;
            repo::add_to_balances(&tx, changes).await?;
            tx.commit().await?;
        }
        Ok(())
    }
}

//! The ledger's side of the payment provider (ADR 0045): orders' `payment.fee_reported`
//! books the fee the provider took on a payment (`domain::posting::payment_fee`: Dr 5200,
//! Cr 1100), once — the inbox skips a redelivery and the entry's key (`fee:pay_…`) is unique,
//! so a replay or a second report posts nothing. The payment's balance transaction in it, and
//! every page of `payment.balance_imported`, are kept for the reconciliation of 1100.

use crate::AccountingState;
use crate::domain::entry::Source;
use crate::domain::posting;
use crate::repo::{self, BalanceChanges};
use async_trait::async_trait;
use mercato_events::{Envelope, Handler, HandlerError, by_tenant, mark_processed_all};
use mercato_kernel::Money;
use mercato_orders_api::events::{
    PAYMENT_BALANCE_IMPORTED, PAYMENT_FEE_REPORTED, PaymentFeeReported, ProviderBalanceImported,
};
use std::collections::BTreeSet;

/// The durable consumer that books the providers' fees and keeps their balance transactions.
pub const PROVIDER_POSTINGS: &str = "accounting-payments";
pub const PROVIDER_POSTINGS_PATTERNS: &[&str] = &[PAYMENT_FEE_REPORTED, PAYMENT_BALANCE_IMPORTED];

pub struct ProviderPostings(pub AccountingState);

#[async_trait]
impl Handler for ProviderPostings {
    async fn handle(&self, event: &Envelope) -> Result<(), HandlerError> {
        self.handle_batch(std::slice::from_ref(event)).await
    }

    async fn handle_batch(&self, events: &[Envelope]) -> Result<(), HandlerError> {
        for (tenant, events) in by_tenant(events) {
            let tx = self.0.db.tenant_tx(tenant).await?;
            let new = mark_processed_all(&*tx, PROVIDER_POSTINGS, &events).await?;
            let mut changes = BalanceChanges::default();
            let mut charted = BTreeSet::new();
            let mut entries = Vec::new();
            for (event, new) in events.iter().zip(new) {
                if !new {
                    continue;
                }
                if event.name == PAYMENT_BALANCE_IMPORTED {
                    let page: ProviderBalanceImported = event.payload_as()?;
                    repo::reconciliation::save(&tx, &page.provider, &page.transactions).await?;
                    continue;
                }
                let reported: PaymentFeeReported = event.payload_as()?;
                let charge = &reported.charge;
                repo::reconciliation::save(&tx, &reported.provider, std::slice::from_ref(charge))
                    .await?;
                let fee = Money::new(charge.fee, charge.amount.currency);
                let source = Source {
                    event_id: Some(event.id.as_uuid()),
                    event: Some(event.name.clone()),
                    occurred_at: event.occurred_at,
                    order: Some(reported.order_id),
                    vendor_order: None,
                };
                let entry =
                    posting::payment_fee(reported.order_id, reported.payment_id, fee, source)
                        .map_err(|e| HandlerError::Other(anyhow::Error::new(e)))?;
                if let Some(entry) = entry {
                    if charted.insert(fee.currency) {
                        repo::ensure_chart(&tx, fee.currency).await?;
                    }
                    entries.push(entry);
                }
            }
            repo::post_all(&tx, &entries, &mut changes).await?;
            repo::add_to_balances(&tx, changes).await?;
            tx.commit().await?;
        }
        Ok(())
    }
}

//! What the accounting service consumes: orders' `order.paid` and `refund.completed`
//! (`mercato-orders-api`), posted to the shop's ledger by the rules of `domain::posting`,
//! exactly once. The inbox skips a redelivered event; an entry's key (`sale:vor_…`,
//! `refund:rfd_…:vor_…`) is unique, so the same booking arriving in another event (a
//! replay, a republish) posts nothing either, even after the inbox forgot the first.
//!
//! The same transaction issues the customer documents (`invoicing`, ADR 0040): an invoice
//! for each sale it posts, a credit note for each refund share it posts, so a document
//! exists exactly when its booking does, and its number is taken only if both commit.

use crate::AccountingState;
use crate::domain::entry::{EntryError, Source};
use crate::domain::posting::{self, Booked};
use crate::repo::{self, BalanceChanges};
use crate::{commission, invoicing};
use async_trait::async_trait;
use mercato_db::TenantTx;
use mercato_events::{Envelope, Handler, HandlerError, by_tenant, mark_processed_all};
use mercato_kernel::Currency;
use mercato_orders_api::OrderId;
use mercato_orders_api::events::{ORDER_PAID, OrderChanged, REFUND_COMPLETED, RefundCompleted};
use std::collections::{BTreeSet, HashMap};

/// The durable consumer that books orders' money.
pub const ORDER_POSTINGS: &str = "accounting-orders";
pub const ORDER_POSTINGS_PATTERNS: &[&str] = &[ORDER_PAID, REFUND_COMPLETED];

pub struct OrderPostings(pub AccountingState);

fn payload_error(message: String) -> HandlerError {
    HandlerError::Payload(serde::de::Error::custom(message))
}

fn entry_error(e: EntryError) -> HandlerError {
    HandlerError::Other(anyhow::Error::new(e))
}

impl OrderPostings {
    /// Books the sales of `paid`, `order.paid` events in delivery order, in `tx`, adding to
    /// `changes`; `charted` holds the currencies whose chart this transaction made sure of.
    /// The caller marked the events processed. Their entries take one round of statements
    /// ([`repo::post_all`]) and their invoices another ([`invoicing::issue_invoices`]).
    async fn book_sales(
        &self,
        tx: &TenantTx,
        paid: &[(&Envelope, OrderChanged)],
        changes: &mut BalanceChanges,
        charted: &mut BTreeSet<Currency>,
    ) -> Result<(), HandlerError> {
        let mut entries = Vec::new();
        let mut booked = Vec::new();
        let mut sales = Vec::new();
        for (event, order) in paid {
            if order.vendor_orders.is_empty() {
                return Err(payload_error(format!(
                    "order.paid of {} carries no vendor orders to book",
                    order.order_id
                )));
            }
            let currency = order.total.currency;
            // The chart once per currency and transaction, not once per order.
            if charted.insert(currency) {
                repo::ensure_chart(tx, currency).await?;
            }
            for v in &order.vendor_orders {
                let source = Source {
                    event_id: Some(event.id.as_uuid()),
                    event: Some(event.name.clone()),
                    occurred_at: event.occurred_at,
                    order: Some(order.order_id),
                    vendor_order: Some(v.vendor_order_id),
                };
                let (entry, sale) =
                    posting::sale(order.order_id, currency, v, source).map_err(entry_error)?;
                entries.push(entry);
                booked.push(sale);
                sales.push((order, v));
            }
        }
        if entries.is_empty() {
            return Ok(());
        }
        // An entry's key is unique: a sale posted before (or twice in this burst) posts once.
        let posted = repo::post_all(tx, &entries, changes).await?;
        // A sale posted now gets its invoice now; one posted before has its own.
        let invoiced: Vec<_> = sales
            .into_iter()
            .zip(&posted)
            .filter_map(|(sale, posted)| posted.then_some(sale))
            .collect();
        invoicing::issue_invoices(tx, &invoiced).await?;
        // The guest's key to these documents (ADR 0044), when the event carries it.
        let tokens: Vec<(OrderId, &str)> = paid
            .iter()
            .filter_map(|(_, o)| {
                let hash = o.invoice.as_ref()?.order_token_hash.as_deref()?;
                Some((o.order_id, hash))
            })
            .collect();
        repo::order_tokens::save(tx, &tokens).await?;
        let new: Vec<Booked> = booked
            .into_iter()
            .zip(posted)
            .filter_map(|(b, posted)| posted.then_some(b))
            .collect();
        repo::save_booked(tx, &new).await?;
        Ok(())
    }

    /// Books one `refund.completed` in `tx`, adding to `changes`. The caller marked it
    /// processed and booked the sales delivered before it.
    async fn book_refund(
        &self,
        tx: &TenantTx,
        event: &Envelope,
        changes: &mut BalanceChanges,
    ) -> Result<(), HandlerError> {
        let refund: RefundCompleted = event.payload_as()?;
        if refund.stray_payment {
            return Ok(());
        }
        let ids: Vec<_> = refund.shares.iter().map(|s| s.vendor_order_id).collect();
        let mut booked: HashMap<_, Booked> = repo::booked(tx, &ids).await?;
        for share in &refund.shares {
            if share.amount == 0 {
                continue;
            }
            // The sale is booked first; until then the refund waits (retried, then
            // dead-lettered where it can be looked at).
            let Some(sale) = booked.get(&share.vendor_order_id) else {
                return Err(HandlerError::Other(anyhow::anyhow!(
                    "refund {} of vendor order {} before its sale was booked",
                    refund.refund_id,
                    share.vendor_order_id
                )));
            };
            let source = Source {
                event_id: Some(event.id.as_uuid()),
                event: Some(event.name.clone()),
                occurred_at: event.occurred_at,
                order: Some(refund.order_id),
                vendor_order: Some(share.vendor_order_id),
            };
            let (entry, after) = posting::refund(refund.refund_id, sale, share.amount, source)
                .map_err(entry_error)?;
            if repo::post_all(tx, std::slice::from_ref(&entry), changes).await?[0] {
                repo::save_booked(tx, std::slice::from_ref(&after)).await?;
                invoicing::issue_credit_note(
                    tx,
                    refund.order_id,
                    refund.refund_id,
                    sale,
                    share.amount,
                )
                .await?;
                // `posting::refund` computed these too: no overflow.
                let commission =
                    posting::refunded_parts(sale, share.amount).map_or(0, |parts| parts.commission);
                commission::credit_refund(tx, event, refund.refund_id, sale, commission, changes)
                    .await?;
                booked.insert(share.vendor_order_id, after);
            }
        }
        Ok(())
    }
}

#[async_trait]
impl Handler for OrderPostings {
    async fn handle(&self, event: &Envelope) -> Result<(), HandlerError> {
        self.handle_batch(std::slice::from_ref(event)).await
    }

    /// One transaction per shop of the burst, the events in delivery order.
    async fn handle_batch(&self, events: &[Envelope]) -> Result<(), HandlerError> {
        for (tenant, events) in by_tenant(events) {
            let tx = self.0.db.tenant_tx(tenant).await?;
            let new = mark_processed_all(&*tx, ORDER_POSTINGS, &events).await?;
            let mut changes = BalanceChanges::default();
            let mut charted = BTreeSet::new();
            // One order at a time: booking a whole burst's sales in one round of statements
            // measured twice as slow in the ledger bench (2026-12-07, cause not found yet).
            for (event, new) in events.iter().zip(new) {
                if !new {
                    continue;
                }
                if event.name == ORDER_PAID {
                    let sale = [(*event, event.payload_as()?)];
                    self.book_sales(&tx, &sale, &mut changes, &mut charted)
                        .await?;
                    continue;
                }
                self.book_refund(&tx, event, &mut changes).await?;
            }
            repo::add_to_balances(&tx, changes).await?;
            tx.commit().await?;
        }
        Ok(())
    }
}

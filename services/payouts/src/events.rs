//! What the payouts service consumes: orders' `order.paid` (each vendor order's earnings),
//! `vendor_order.delivered` (the hold starts) and `refund.completed` (the vendor's part
//! clawed back, by the ledger's own rule), and vendors' `payout_account.updated` (the
//! mirror of whom to pay, how and from what amount). Each exactly once: the inbox skips a
//! redelivery, and earnings (per vendor order) and refunds (per refund and vendor order)
//! are keyed, so a replay under another event id adds nothing either.

use crate::PayoutsState;
use crate::domain;
use crate::repo::{self, Earning};
use async_trait::async_trait;
use mercato_events::{Envelope, Handler, HandlerError, by_tenant, mark_processed_all};
use mercato_orders_api::events::{
    ORDER_PAID, OrderChanged, REFUND_COMPLETED, RefundCompleted, VENDOR_ORDER_DELIVERED,
    VendorOrderChanged,
};
use mercato_orders_api::money::SaleParts;
use mercato_vendors_api::payout::{PAYOUT_ACCOUNT_UPDATED, PayoutAccountUpdated};

/// The durable consumer of orders' money events.
pub const EARNINGS: &str = "payouts-orders";
pub const EARNINGS_PATTERNS: &[&str] = &[ORDER_PAID, VENDOR_ORDER_DELIVERED, REFUND_COMPLETED];
/// The durable consumer of vendors' payout accounts.
pub const ACCOUNTS: &str = "payouts-vendors";
pub const ACCOUNTS_PATTERNS: &[&str] = &[PAYOUT_ACCOUNT_UPDATED];

pub struct Earnings(pub PayoutsState);

fn retry(message: String) -> HandlerError {
    HandlerError::Other(anyhow::anyhow!(message))
}

/// The earnings of each vendor order of a paid order.
fn earnings_of(event: &Envelope) -> Result<Vec<Earning>, HandlerError> {
    let order: OrderChanged = event.payload_as()?;
    Ok(order
        .vendor_orders
        .iter()
        .map(|v| Earning {
            vendor_order: v.vendor_order_id,
            order: order.order_id,
            vendor: v.vendor_id,
            currency: order.total.currency,
            total: v.total,
            tax: v.tax,
            commission: v.commission,
            discount_by_shop: v.discount_by_shop,
            earnings: v.earnings,
            refunded: 0,
            clawed_back: 0,
            paid_at: event.occurred_at,
            available_at: None,
        })
        .collect())
}

impl Earnings {
    /// Applies one event other than `order.paid` (whose earnings the caller records).
    async fn apply(&self, tx: &mercato_db::TenantTx, event: &Envelope) -> Result<(), HandlerError> {
        match event.name.as_str() {
            VENDOR_ORDER_DELIVERED => {
                let v: VendorOrderChanged = event.payload_as()?;
                let hold = repo::hold_days(tx)
                    .await?
                    .unwrap_or(domain::DEFAULT_HOLD_DAYS);
                let at = event.occurred_at;
                if !repo::mark_delivered(tx, v.vendor_order_id, at, domain::available_at(at, hold))
                    .await?
                {
                    // Delivered before its payment reached us: wait for it (retried).
                    return Err(retry(format!(
                        "vendor order {} delivered before its payment was recorded",
                        v.vendor_order_id
                    )));
                }
            }
            REFUND_COMPLETED => {
                let refund: RefundCompleted = event.payload_as()?;
                if refund.stray_payment {
                    return Ok(());
                }
                for share in refund.shares.iter().filter(|s| s.amount != 0) {
                    let Some(e) = repo::earning(tx, share.vendor_order_id).await? else {
                        return Err(retry(format!(
                            "refund {} of vendor order {} before its payment was recorded",
                            refund.refund_id, share.vendor_order_id
                        )));
                    };
                    let parts = SaleParts {
                        total: e.total,
                        tax: e.tax,
                        commission: e.commission,
                        discount_by_shop: e.discount_by_shop,
                    }
                    .refund(e.refunded, share.amount)
                    .ok_or_else(|| retry("refund amounts overflow".into()))?;
                    repo::apply_refund(
                        tx,
                        refund.refund_id,
                        share.vendor_order_id,
                        share.amount,
                        parts.vendor,
                    )
                    .await?;
                }
            }
            _ => {}
        }
        Ok(())
    }
}

#[async_trait]
impl Handler for Earnings {
    async fn handle(&self, event: &Envelope) -> Result<(), HandlerError> {
        self.handle_batch(std::slice::from_ref(event)).await
    }

    /// One transaction per shop of the burst, the events in delivery order.
    async fn handle_batch(&self, events: &[Envelope]) -> Result<(), HandlerError> {
        for (tenant, events) in by_tenant(events) {
            let tx = self.0.db.tenant_tx(tenant).await?;
            let new = mark_processed_all(&*tx, EARNINGS, &events).await?;
            // The earnings of paid orders are recorded together (one statement), before any
            // other event, which may be about one of them.
            let mut earnings = Vec::new();
            for (event, new) in events.iter().zip(new) {
                if !new {
                    continue;
                }
                if event.name == ORDER_PAID {
                    earnings.extend(earnings_of(event)?);
                    continue;
                }
                repo::add_earnings(&tx, &std::mem::take(&mut earnings)).await?;
                self.apply(&tx, event).await?;
            }
            repo::add_earnings(&tx, &earnings).await?;
            tx.commit().await?;
        }
        Ok(())
    }
}

pub struct Accounts(pub PayoutsState);

#[async_trait]
impl Handler for Accounts {
    async fn handle(&self, event: &Envelope) -> Result<(), HandlerError> {
        let account: PayoutAccountUpdated = event.payload_as()?;
        let tx = self.0.db.tenant_tx(event.tenant_id).await?;
        if mercato_events::mark_processed(&*tx, ACCOUNTS, event).await? {
            repo::save_account(&tx, &account, event.occurred_at).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

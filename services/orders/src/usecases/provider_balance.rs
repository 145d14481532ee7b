//! What the payment provider did with the shop's money beyond the payments themselves: the
//! fee it took on each captured payment, and its balance transactions, published through
//! this service's outbox for the ledger (ADR 0045).
//!
//! - A payment that succeeds enqueues a [`FEE_JOB`] in the same transaction. The job asks
//!   the provider for the payment's balance transaction (outside any transaction; retried
//!   while the provider has not made it yet) and publishes `payment.fee_reported` with it.
//!   A crash after the publish and before the job is marked done publishes it again; the
//!   ledger books a payment's fee once whatever arrives (its entry's key is the payment).
//! - The fee job and each completed refund make sure the shop's [`IMPORT_JOB`] sweep runs
//!   within `provider_import_delay_secs`: it pages through each accepted provider's balance
//!   transactions of the shop after the cursor it kept (`provider_import_cursors`) and
//!   publishes each page as `payment.balance_imported`, saving the cursor in the same
//!   transaction, so a page is published once (again only after a crash between the two).

use crate::OrdersState;
use crate::domain::OrderId;
use crate::domain::payment::{Payment, PaymentId};
use crate::repo::payments as repo;
use async_trait::async_trait;
use mercato_db::TenantTx;
use mercato_jobs::{Job, JobHandler, JobOutcome, NewJob, Worker};
use mercato_kernel::{Money, Problem};
use mercato_orders_api::events::{
    PAYMENT_BALANCE_IMPORTED, PAYMENT_FEE_REPORTED, PaymentFeeReported, ProviderBalanceImported,
    ProviderBalanceTransaction,
};
use mercato_payments::{BalanceTransaction, ProviderError};
use mercato_tenant_context::TenantId;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;

pub const FEE_JOB: &str = "orders.payment_fee";
pub const IMPORT_JOB: &str = "orders.provider_import";

/// How many pages one import publishes per provider before it leaves the rest to the next.
const IMPORT_PAGES: usize = 20;

#[derive(Serialize, Deserialize)]
struct FeeTask {
    payment_id: PaymentId,
    order_id: OrderId,
}

/// Enqueues the fee report of `payment`, which has just succeeded, in its transaction.
pub(crate) async fn schedule_fee(tx: &TenantTx, payment: &Payment) -> Result<(), Problem> {
    let payload = serde_json::to_value(FeeTask {
        payment_id: payment.id,
        order_id: payment.order,
    })?;
    mercato_jobs::enqueue(
        &**tx,
        NewJob {
            tenant: tx.tenant(),
            kind: FEE_JOB,
            subject: Some(payment.id.to_string()),
            payload,
            run_at: crate::now(),
            max_attempts: 30,
        },
    )
    .await?;
    Ok(())
}

/// Makes sure the shop's balance import runs soon, in the caller's transaction.
pub(crate) async fn schedule_import(state: &OrdersState, tx: &TenantTx) -> Result<(), Problem> {
    let delay = chrono::TimeDelta::seconds(
        i64::try_from(state.config.provider_import_delay_secs).unwrap_or(i64::MAX / 2),
    );
    state
        .sweeps
        .ensure_by(&**tx, tx.tenant(), IMPORT_JOB, crate::now() + delay, 20)
        .await?;
    Ok(())
}

fn contract(t: &BalanceTransaction) -> ProviderBalanceTransaction {
    ProviderBalanceTransaction {
        id: t.id.clone(),
        kind: t.kind.clone(),
        source: t.source.clone(),
        reference: t.reference.clone(),
        amount: Money::new(t.amount, t.currency),
        fee: t.fee,
        net: t.net,
        created: t.created.timestamp(),
    }
}

fn retry_or_fail(error: ProviderError) -> JobOutcome {
    match error {
        ProviderError::Unavailable(why) => JobOutcome::Retry(why),
        refused => JobOutcome::Fail(refused.to_string()),
    }
}

struct FeeReports(OrdersState);

impl FeeReports {
    async fn report(&self, tenant: TenantId, task: &FeeTask) -> Result<JobOutcome, Problem> {
        let payment = {
            let tx = self.0.db.tenant_read(tenant).await?;
            repo::of_order(&tx, task.order_id)
                .await?
                .into_iter()
                .find(|p| p.id == task.payment_id)
        };
        let Some(payment) = payment else {
            return Ok(JobOutcome::Fail("no such payment".into()));
        };
        let (Some(provider), Some(provider_ref)) = (
            self.0.payments.get(&payment.provider).cloned(),
            payment.provider_ref.clone(),
        ) else {
            return Ok(JobOutcome::Fail(format!(
                "payment {} has no provider to ask",
                payment.id
            )));
        };
        let charge = match provider.charge_balance(tenant, &provider_ref).await {
            Ok(Some(charge)) => charge,
            Ok(None) => {
                return Ok(JobOutcome::Retry(
                    "the provider has no balance transaction for the payment yet".into(),
                ));
            }
            Err(error) => return Ok(retry_or_fail(error)),
        };
        let tx = self.0.db.tenant_tx(tenant).await?;
        mercato_events::publish(
            &*tx,
            PAYMENT_FEE_REPORTED,
            tenant,
            &PaymentFeeReported {
                order_id: payment.order,
                payment_id: payment.id,
                provider: payment.provider.clone(),
                provider_ref,
                charge: contract(&charge),
            },
        )
        .await?;
        schedule_import(&self.0, &tx).await?;
        tx.commit().await?;
        self.0.outbox.notify_one();
        tracing::info!(tenant_id = %tenant, payment_id = %payment.id, fee = charge.fee, "payment fee reported");
        Ok(JobOutcome::Done)
    }
}

#[async_trait]
impl JobHandler for FeeReports {
    async fn run(&self, job: &Job) -> JobOutcome {
        let task: FeeTask = match serde_json::from_value(job.payload.clone()) {
            Ok(task) => task,
            Err(e) => return JobOutcome::Fail(format!("invalid payload: {e}")),
        };
        self.report(job.tenant, &task)
            .await
            .unwrap_or_else(|e| JobOutcome::Retry(e.to_string()))
    }
}

pub fn fee_worker(state: &OrdersState) -> Worker {
    Worker::new(
        state.db.clone(),
        FEE_JOB,
        Arc::new(FeeReports(state.clone())),
    )
    .backoff(Duration::from_secs(2), Duration::from_secs(600))
    .concurrency(8)
}

struct Imports(OrdersState);

impl Imports {
    async fn import(&self, tenant: TenantId) -> Result<(), Problem> {
        let accepted = {
            let tx = self.0.db.tenant_read(tenant).await?;
            crate::repo::settings::load(&tx, self.0.config.default_settings()).await?
        };
        for name in self.0.payments.names() {
            if !accepted.accepts(name) {
                continue;
            }
            let Some(provider) = self.0.payments.get(name).cloned() else {
                continue;
            };
            for _ in 0..IMPORT_PAGES {
                let cursor = {
                    let tx = self.0.db.tenant_read(tenant).await?;
                    mercato_payments::repo::import_cursor(&tx, name).await?
                };
                let page = provider
                    .balance_transactions(tenant, cursor.as_deref())
                    .await
                    .map_err(Problem::internal)?;
                let Some(next) = page.cursor.filter(|c| Some(c) != cursor.as_ref()) else {
                    break;
                };
                let tx = self.0.db.tenant_tx(tenant).await?;
                if !page.items.is_empty() {
                    mercato_events::publish(
                        &*tx,
                        PAYMENT_BALANCE_IMPORTED,
                        tenant,
                        &ProviderBalanceImported {
                            provider: name.to_owned(),
                            transactions: page.items.iter().map(contract).collect(),
                        },
                    )
                    .await?;
                }
                mercato_payments::repo::save_import_cursor(&tx, name, &next, crate::now()).await?;
                tx.commit().await?;
                self.0.outbox.notify_one();
            }
        }
        Ok(())
    }
}

#[async_trait]
impl JobHandler for Imports {
    async fn run(&self, job: &Job) -> JobOutcome {
        match self.import(job.tenant).await {
            Ok(()) => JobOutcome::Done,
            Err(e) => JobOutcome::Retry(e.to_string()),
        }
    }
}

pub fn import_worker(state: &OrdersState) -> Worker {
    Worker::new(
        state.db.clone(),
        IMPORT_JOB,
        Arc::new(Imports(state.clone())),
    )
    .backoff(Duration::from_secs(5), Duration::from_secs(900))
}

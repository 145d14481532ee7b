//! The test provider's webhook delivery: one durable job per event, signed when sent.

use super::{TestIntentId, TestProvider};
use crate::signature;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mercato_db::TenantTx;
use mercato_jobs::{Job, JobHandler, JobOutcome, NewJob, Worker};
use mercato_tenant_context::TenantId;
use sea_orm::DbErr;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The job kind of a webhook delivery.
pub const WEBHOOK_JOB: &str = "payments.test_webhook";

/// How many times a webhook is tried: with the jobs' default backoff (5 s doubling to an
/// hour) that is about a day, as Stripe keeps trying for days.
pub const DEFAULT_WEBHOOK_ATTEMPTS: i32 = 30;

/// Where the test provider's webhooks go: the receiving endpoint, called in process (or over
/// HTTP) with the signature header value and the exact body bytes. `Err` means not taken;
/// the delivery is tried again later.
#[async_trait]
pub trait WebhookSink: Send + Sync {
    async fn deliver(
        &self,
        tenant: TenantId,
        signature_header: String,
        body: Vec<u8>,
    ) -> Result<(), String>;
}

#[derive(Serialize, Deserialize)]
struct Payload {
    /// The event body, as text: JSON columns (JSONB) do not keep bytes, and the signature is
    /// over the bytes.
    body: String,
    /// Before delivering, move this intent from `requires_action` (the shopper
    /// "authenticated") or `processing` (the debit cleared) to `succeeded`; skip delivery if
    /// it ended otherwise meanwhile.
    #[serde(default)]
    settle: Option<TestIntentId>,
}

/// Enqueues the delivery of `body` about `intent`, due at `run_at`, in the caller's
/// transaction.
pub(super) async fn schedule(
    tx: &TenantTx,
    intent: TestIntentId,
    body: String,
    run_at: DateTime<Utc>,
    settle: bool,
) -> Result<(), DbErr> {
    let payload = serde_json::to_value(Payload {
        body,
        settle: settle.then_some(intent),
    })
    .map_err(|e| DbErr::Json(e.to_string()))?;
    mercato_jobs::enqueue(
        &**tx,
        NewJob {
            tenant: tx.tenant(),
            kind: WEBHOOK_JOB,
            subject: Some(intent.to_string()),
            payload,
            run_at,
            max_attempts: DEFAULT_WEBHOOK_ATTEMPTS,
        },
    )
    .await
    .map(|_| ())
}

/// Runs [`WEBHOOK_JOB`] jobs.
struct Delivery {
    provider: TestProvider,
    sink: Arc<dyn WebhookSink>,
}

#[async_trait]
impl JobHandler for Delivery {
    async fn run(&self, job: &Job) -> JobOutcome {
        let payload: Payload = match serde_json::from_value(job.payload.clone()) {
            Ok(payload) => payload,
            Err(e) => return JobOutcome::Fail(format!("invalid payload: {e}")),
        };
        if let Some(intent) = payload.settle {
            match self.provider.settle(job.tenant, intent).await {
                Ok(true) => {}
                Ok(false) => return JobOutcome::Done,
                Err(e) => return JobOutcome::Retry(format!("cannot settle the intent: {e}")),
            }
        }
        // Signed at each attempt with the time of sending, as Stripe does: the receiver's
        // tolerance is about the delivery, not the event.
        let header = signature::sign(
            self.provider.secret(),
            Utc::now().timestamp(),
            payload.body.as_bytes(),
        );
        match self
            .sink
            .deliver(job.tenant, header, payload.body.into_bytes())
            .await
        {
            Ok(()) => JobOutcome::Done,
            Err(error) => JobOutcome::Retry(format!("webhook not taken: {error}")),
        }
    }
}

/// The worker delivering `provider`'s webhooks to `sink`, up to 16 at a time. It wakes as
/// soon as `provider` commits a webhook that is due now, rather than at its next poll (the
/// delayed ones of cards that settle later are found by polling). Run it (or `run_once` in
/// tests) next to the host's other workers; tune its polling and backoff with `Worker`'s
/// builders. Several may run (they claim disjoint jobs); a wake-up reaches one of them.
pub fn webhook_worker(provider: &TestProvider, sink: Arc<dyn WebhookSink>) -> Worker {
    Worker::new(
        provider.db().clone(),
        WEBHOOK_JOB,
        Arc::new(Delivery {
            provider: provider.clone(),
            sink,
        }),
    )
    .concurrency(16)
    .wake_on(Arc::clone(&provider.webhook_due))
}

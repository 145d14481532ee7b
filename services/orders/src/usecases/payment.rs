//! Payments of orders: the providers a deployment offers, taking a payment for an order,
//! and applying what providers report through webhooks (each event once, in any order).
//!
//! A payment row is written before the provider is called, so a webhook always finds it. A
//! success pays a pending order; on an order that expired or was cancelled meanwhile it is
//! refunded by a durable job, never kept. A failure leaves the order `pending_payment` with
//! the reason, and the shopper may pay again.

use crate::OrdersState;
use crate::domain::OrderId;
use crate::domain::lifecycle::{OrderStatus, VendorOrderStatus};
use crate::domain::order::{FullOrder, PaymentFailure};
use crate::domain::payment::{Payment, PaymentId, PaymentStatus};
use crate::problems::OrdersProblem;
use crate::repo::orders;
use crate::repo::payments as repo;
use crate::usecases::records::{self, OrderRecord};
use crate::usecases::transitions;
use async_trait::async_trait;
use mercato_db::TenantTx;
use mercato_jobs::{Job, JobHandler, JobOutcome, NewJob, Worker};
use mercato_kernel::{Money, Problem};
use mercato_orders_api::events::{ORDER_PAYMENT_FAILED, PaymentFailed};
use mercato_payments::{
    EventKind, IntentRequest, IntentState, IntentStatus, PaymentMethod, PaymentProvider,
    ProviderError, ProviderEvent, TestProvider, WebhookSink,
};
use mercato_tenant_context::TenantId;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// The payment providers of a deployment and their webhook secrets.
#[derive(Clone, Default)]
pub struct Providers {
    providers: BTreeMap<&'static str, Arc<dyn PaymentProvider>>,
    secrets: BTreeMap<&'static str, Vec<String>>,
    test: Option<TestProvider>,
    pub tolerance_secs: i64,
}

impl Providers {
    pub fn new(tolerance_secs: i64) -> Self {
        Self {
            tolerance_secs,
            ..Self::default()
        }
    }

    /// Offers the built-in test provider.
    pub fn with_test(mut self, provider: TestProvider) -> Self {
        self.secrets
            .insert("test", vec![provider.secret().to_owned()]);
        self.providers.insert("test", Arc::new(provider.clone()));
        self.test = Some(provider);
        self
    }

    /// Offers another provider, with the secrets its webhooks may be signed with.
    pub fn with(mut self, provider: Arc<dyn PaymentProvider>, secrets: Vec<String>) -> Self {
        let name = provider.name();
        self.secrets.insert(name, secrets);
        self.providers.insert(name, provider);
        self
    }

    pub fn get(&self, name: &str) -> Option<&Arc<dyn PaymentProvider>> {
        self.providers.get(name)
    }

    pub fn secrets(&self, name: &str) -> &[String] {
        self.secrets.get(name).map_or(&[], Vec::as_slice)
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.providers.keys().copied().collect()
    }
}

/// Who acted when a provider reported something.
pub fn provider_actor(provider: &str) -> String {
    format!("provider:{provider}")
}

/// Takes a payment for a pending order: records the attempt, calls the provider (outside any
/// transaction), then applies its answer. Returns the order as it then stands.
pub async fn pay(
    state: &OrdersState,
    tenant: TenantId,
    order: OrderId,
    provider_name: &str,
    method: PaymentMethod,
    key: Option<&str>,
) -> Result<(), Problem> {
    if state.payments.get(provider_name).is_none() {
        return Err(crate::usecases::checkout::provider_not_accepted(
            provider_name,
        ));
    }
    // 1. Record the attempt, once no other attempt is under way.
    let tx = state.db.tenant_tx(tenant).await?;
    let settings = crate::repo::settings::load(&tx, state.config.default_settings()).await?;
    if !settings.accepts(provider_name) {
        return Err(crate::usecases::checkout::provider_not_accepted(
            provider_name,
        ));
    }
    let full = orders::find(&tx, order, true)
        .await?
        .ok_or_else(Problem::not_found)?;
    if full.order.status != OrderStatus::PendingPayment {
        return Err(Problem::of(
            OrdersProblem::OrderNotPayable,
            format!("the order is {}", full.order.status.code()),
        ));
    }
    if crate::now() >= full.order.expires_at {
        return Err(Problem::of(
            OrdersProblem::OrderNotPayable,
            "the order's time to pay has run out",
        ));
    }
    let earlier = repo::of_order(&tx, order).await?;
    if key.is_some() && earlier.iter().any(|p| p.idempotency_key.as_deref() == key) {
        // A retry of an attempt already made: its outcome stands.
        return Ok(());
    }
    if full.order.total == 0 {
        // Nothing to charge (a coupon covered everything): paid as it stands.
        let mut full = full;
        transitions::order_and_vendor_orders(
            &tx,
            &mut full,
            OrderStatus::Paid,
            VendorOrderStatus::ToFulfil,
            "system",
            Some("nothing to pay"),
        )
        .await?;
        tx.commit().await?;
        state.outbox.notify_one();
        return Ok(());
    }
    if earlier.iter().any(|p| {
        matches!(
            p.status,
            PaymentStatus::Processing | PaymentStatus::Succeeded
        ) || (p.status == PaymentStatus::Created
            && crate::now() - p.created_at < chrono::TimeDelta::seconds(60))
    }) {
        return Err(Problem::of(
            OrdersProblem::PaymentInProgress,
            "a payment of this order is under way; wait for its outcome",
        ));
    }
    let now = crate::now();
    let payment = Payment {
        id: PaymentId::new(),
        order,
        provider: provider_name.to_owned(),
        provider_ref: None,
        amount: Money::new(full.order.total, full.order.currency),
        status: PaymentStatus::Created,
        failure_code: None,
        failure_message: None,
        idempotency_key: key.map(str::to_owned),
        created_at: now,
        updated_at: now,
    };
    repo::insert(&tx, &payment).await?;
    tx.commit().await?;
    take(state, tenant, payment, method, false, None)
        .await
        .map(|_| ())
}

/// Calls the provider for a recorded attempt (outside any transaction), then applies its
/// answer. The checkout records its attempt with the order, and comes here directly with
/// the order as it wrote it (`written`). With `record`, it also returns the order as that
/// answer left it, read in the same transaction.
pub async fn take(
    state: &OrdersState,
    tenant: TenantId,
    payment: Payment,
    method: PaymentMethod,
    record: bool,
    written: Option<FullOrder>,
) -> Result<Option<OrderRecord>, Problem> {
    let provider = state
        .payments
        .get(&payment.provider)
        .cloned()
        .ok_or_else(|| Problem::invalid_field("/payment/provider", "not offered by this shop"))?;
    let order = payment.order;
    // 2. The provider.
    let request = IntentRequest {
        tenant,
        order_ref: order.to_string(),
        amount: payment.amount,
        method,
        idempotency_key: payment.id.to_string(),
        transfer_group: order.to_string(),
        description: format!("order {order}"),
    };
    let answer = provider.create_and_confirm(&request).await;
    // 3. Its answer.
    apply_answer(state, tenant, payment, answer, record, written).await
}

/// Applies the provider's synchronous answer to a payment attempt (see [`take`] for `record`
/// and `written`).
///
/// A successful answer to checkout's attempt uses the order as checkout wrote it when its
/// row, locked, shows no change since: then nothing else has happened to it (a webhook or
/// an expiry would have moved it), and its only payment is this attempt, as written. Any
/// other answer, or a changed order, reads the order and its payments.
async fn apply_answer(
    state: &OrdersState,
    tenant: TenantId,
    mut payment: Payment,
    answer: Result<IntentState, ProviderError>,
    record: bool,
    written: Option<FullOrder>,
) -> Result<Option<OrderRecord>, Problem> {
    let tx = state.db.tenant_tx(tenant).await?;
    let as_written = match written {
        Some(full)
            if matches!(
                &answer,
                Ok(IntentState {
                    status: IntentStatus::Succeeded,
                    ..
                })
            ) && orders::unchanged(&tx, &full.order).await? =>
        {
            Some(full)
        }
        _ => None,
    };
    let (mut full, mut payments) = match as_written {
        Some(full) => (full, vec![payment.clone()]),
        None => {
            let full = orders::find(&tx, payment.order, true)
                .await?
                .ok_or_else(Problem::not_found)?;
            // A webhook may have settled this attempt meanwhile.
            let payments = repo::of_order(&tx, payment.order).await?;
            if let Some(current) = payments.iter().find(|p| p.id == payment.id) {
                payment = current.clone();
            }
            (full, payments)
        }
    };
    let was_unpaid = full.order.status == OrderStatus::PendingPayment;
    let actor = provider_actor(&payment.provider);
    match answer {
        Ok(intent) => {
            payment.provider_ref = Some(intent.provider_ref.clone());
            settle(&tx, &mut full, &mut payment, &intent.status, &actor).await?;
        }
        Err(ProviderError::Refused { code, message, .. }) => {
            fail(&tx, &mut full, &mut payment, &code, &message, &actor).await?;
        }
        Err(ProviderError::Unavailable(e)) => {
            tracing::warn!(error = %e, payment = %payment.id, "payment provider unavailable");
            fail(
                &tx,
                &mut full,
                &mut payment,
                "provider_unavailable",
                "the payment provider could not be reached; try again",
                &actor,
            )
            .await?;
        }
    }
    let shown = if record {
        if let Some(slot) = payments.iter_mut().find(|p| p.id == payment.id) {
            *slot = payment;
        }
        Some(records::with_payments(&tx, full, payments, was_unpaid).await?)
    } else {
        None
    };
    tx.commit().await?;
    state.outbox.notify_one();
    Ok(shown)
}

async fn fail(
    tx: &TenantTx,
    full: &mut FullOrder,
    payment: &mut Payment,
    code: &str,
    message: &str,
    actor: &str,
) -> Result<(), Problem> {
    if matches!(
        payment.status,
        PaymentStatus::Succeeded | PaymentStatus::Failed | PaymentStatus::Canceled
    ) {
        return Ok(());
    }
    payment.status = PaymentStatus::Failed;
    payment.failure_code = Some(code.to_owned());
    payment.failure_message = Some(message.to_owned());
    payment.updated_at = crate::now();
    repo::update(tx, payment).await?;
    if full.order.status == OrderStatus::PendingPayment {
        full.order.payment_failure = Some(PaymentFailure {
            code: code.to_owned(),
            message: message.to_owned(),
        });
        full.order.updated_at = crate::now();
        orders::update_order(tx, &full.order).await?;
        mercato_events::publish(
            &**tx,
            ORDER_PAYMENT_FAILED,
            tx.tenant(),
            &PaymentFailed {
                order_id: full.order.id,
                payment_id: payment.id,
                code: code.to_owned(),
                message: message.to_owned(),
                actor: actor.to_owned(),
            },
        )
        .await?;
    }
    Ok(())
}

/// Applies an intent status to a payment and its order.
async fn settle(
    tx: &TenantTx,
    full: &mut FullOrder,
    payment: &mut Payment,
    status: &IntentStatus,
    actor: &str,
) -> Result<(), Problem> {
    let now = crate::now();
    match status {
        IntentStatus::Succeeded => {
            if payment.status == PaymentStatus::Succeeded {
                return Ok(());
            }
            payment.status = PaymentStatus::Succeeded;
            payment.failure_code = None;
            payment.failure_message = None;
            payment.updated_at = now;
            repo::update(tx, payment).await?;
            // The provider took its fee on this money whether the order keeps it or not.
            crate::usecases::provider_balance::schedule_fee(tx, payment).await?;
            if full.order.status == OrderStatus::PendingPayment && now >= full.order.expires_at {
                // Its time ran out before its expiry job came round: its stock may be
                // someone else's by now. Expire it here; the payment goes back below.
                crate::usecases::expiry::expire_in(tx, full).await?;
            }
            if full.order.status == OrderStatus::PendingPayment {
                full.order.payment_failure = None;
                full.order.paid_by = Some(payment.id);
                transitions::order_and_vendor_orders(
                    tx,
                    full,
                    OrderStatus::Paid,
                    VendorOrderStatus::ToFulfil,
                    actor,
                    None,
                )
                .await?;
            } else {
                // The order expired, was cancelled, or another payment paid it: give this
                // money back.
                schedule_refund(tx, payment, &full.order.status).await?;
            }
        }
        IntentStatus::Processing | IntentStatus::RequiresAction => {
            if payment.status == PaymentStatus::Created {
                payment.status = PaymentStatus::Processing;
                payment.updated_at = now;
                repo::update(tx, payment).await?;
            }
        }
        IntentStatus::Failed { code, message } => {
            fail(tx, full, payment, code, message, actor).await?;
        }
        IntentStatus::Canceled => {
            if matches!(
                payment.status,
                PaymentStatus::Created | PaymentStatus::Processing
            ) {
                payment.status = PaymentStatus::Canceled;
                payment.updated_at = now;
                repo::update(tx, payment).await?;
            }
        }
    }
    Ok(())
}

/// Verifies one provider webhook (`signature`: its `Stripe-Signature`, made with any of the
/// provider's secrets, within the tolerance) and applies its event; anything else is a 400
/// and changes nothing.
pub async fn receive_webhook(
    state: &OrdersState,
    tenant: TenantId,
    provider: &str,
    signature: &str,
    body: &[u8],
) -> Result<(), Problem> {
    let secrets = state.payments.secrets(provider);
    if secrets.is_empty() {
        return Err(Problem::not_found());
    }
    let now = chrono::Utc::now().timestamp();
    mercato_payments::signature::verify(
        signature,
        body,
        secrets,
        now,
        state.payments.tolerance_secs,
    )
    .map_err(|e| Problem::of(OrdersProblem::InvalidSignature, e.to_string()))?;
    let event = mercato_payments::event::parse(body)
        .map_err(|e| Problem::of(OrdersProblem::InvalidEvent, e.to_string()))?;
    apply_event(state, tenant, provider, &event).await
}

/// Applies a verified provider event, once: a redelivered event changes nothing, and an
/// event that arrives after a later one (a failure after the success) cannot undo it.
pub async fn apply_event(
    state: &OrdersState,
    tenant: TenantId,
    provider: &str,
    event: &ProviderEvent,
) -> Result<(), Problem> {
    // A provider account sends every shop's events to every endpoint it has: an event about
    // another shop's payment is not this shop's to record. An event about a payment that
    // names no shop is no shop's: Mercato's intents always carry theirs.
    match event.metadata.get("tenant_id") {
        Some(shop) if *shop != tenant.to_string() => return Ok(()),
        None if !event.intent_ref.is_empty() => {
            return Err(Problem::of(
                OrdersProblem::EventWithoutShop,
                "the payment event names no shop (metadata.tenant_id); nothing was applied",
            ));
        }
        _ => {}
    }
    let tx = state.db.tenant_tx(tenant).await?;
    let known = if event.intent_ref.is_empty() {
        None
    } else {
        repo::by_provider_ref(&tx, provider, &event.intent_ref).await?
    };
    if let Some(payment) = &known
        && payment.status == PaymentStatus::Succeeded
    {
        // A succeeded payment stays so (refunds are their own rows), and `settle` changes
        // nothing for any intent event about it, so there is nothing to record either: a
        // redelivery ends here again. The usual case: the webhook of a payment the
        // checkout's answer already settled.
        check_amount(payment, event);
        tx.commit().await?;
        return Ok(());
    }
    let kind = match &event.kind {
        EventKind::Other(name) => name.clone(),
        other => format!("{other:?}"),
    };
    if !repo::first_delivery(&tx, provider, &event.id, &kind, crate::now()).await? {
        return Ok(());
    }
    if event.intent_ref.is_empty() {
        tx.commit().await?;
        return Ok(());
    }
    let payment = match known {
        Some(payment) => payment,
        // The synchronous answer has not recorded the intent yet: find the attempt by the
        // order it names (under the order's lock), else it is not this shop's.
        None => match find_by_metadata(&tx, provider, event).await? {
            Some(found) => found,
            None => {
                tracing::info!(event = %event.id, "payment event for an unknown intent ignored");
                tx.commit().await?;
                return Ok(());
            }
        },
    };
    check_amount(&payment, event);
    if payment.status == PaymentStatus::Succeeded {
        // Settled by the answer that committed while this waited for the order's lock.
        tx.commit().await?;
        return Ok(());
    }
    apply_to(state, tx, payment, provider, event).await
}

fn check_amount(payment: &Payment, event: &ProviderEvent) {
    if payment.amount.amount != event.amount || payment.amount.currency != event.currency {
        tracing::warn!(event = %event.id, "payment event amount differs from the payment");
    }
}

async fn find_by_metadata(
    tx: &TenantTx,
    provider: &str,
    event: &ProviderEvent,
) -> Result<Option<Payment>, Problem> {
    let Some(order) = event
        .metadata
        .get("order_ref")
        .and_then(|o| o.parse::<OrderId>().ok())
    else {
        return Ok(None);
    };
    // The order's lock first: a synchronous answer tying this intent to its attempt right
    // now has then committed, and what follows sees it.
    if !orders::lock(tx, order).await? {
        return Ok(None);
    }
    let payments = repo::of_order(tx, order).await?;
    // The attempt without an intent yet, or the one the synchronous answer has just tied
    // to this intent (it committed between the lookup by intent and this one).
    Ok(payments
        .into_iter()
        .rev()
        .find(|p| {
            p.provider == provider
                && p.provider_ref
                    .as_deref()
                    .is_none_or(|r| r == event.intent_ref)
        })
        .map(|mut p| {
            p.provider_ref = Some(event.intent_ref.clone());
            p
        }))
}

async fn apply_to(
    state: &OrdersState,
    tx: TenantTx,
    mut payment: Payment,
    provider: &str,
    event: &ProviderEvent,
) -> Result<(), Problem> {
    let mut full = orders::find(&tx, payment.order, true)
        .await?
        .ok_or_else(Problem::not_found)?;
    // Read the attempt again under the order's lock: the synchronous answer may have
    // settled it meanwhile, and a stale copy would take its own success for a stray one.
    let provider_ref = payment.provider_ref.clone();
    if let Some(current) = repo::of_order(&tx, payment.order)
        .await?
        .into_iter()
        .find(|p| p.id == payment.id)
    {
        payment = current;
    }
    if payment.provider_ref.is_none() {
        payment.provider_ref = provider_ref;
    }
    let status = match &event.kind {
        EventKind::IntentSucceeded => IntentStatus::Succeeded,
        EventKind::IntentProcessing => IntentStatus::Processing,
        EventKind::IntentRequiresAction => IntentStatus::RequiresAction,
        EventKind::IntentCanceled => IntentStatus::Canceled,
        EventKind::IntentFailed => {
            let failure = event.failure.clone();
            IntentStatus::Failed {
                code: failure
                    .as_ref()
                    .map_or_else(|| "payment_failed".to_owned(), |f| f.code.clone()),
                message: failure.map_or_else(|| "the payment failed".to_owned(), |f| f.message),
            }
        }
        EventKind::Other(_) => {
            tx.commit().await?;
            return Ok(());
        }
    };
    if payment.status == PaymentStatus::Created && payment.provider_ref.is_some() {
        repo::update(&tx, &payment).await?;
    }
    if status == IntentStatus::Succeeded && event.money() != payment.amount {
        // Not what was asked for: it pays nothing until merchant staff look at it.
        crate::usecases::review::hold(
            &tx,
            &mut full,
            &mut payment,
            event.money(),
            &provider_actor(provider),
        )
        .await?;
        tx.commit().await?;
        state.outbox.notify_one();
        return Ok(());
    }
    settle(
        &tx,
        &mut full,
        &mut payment,
        &status,
        &provider_actor(provider),
    )
    .await?;
    tx.commit().await?;
    state.outbox.notify_one();
    Ok(())
}

pub const AUTO_REFUND_JOB: &str = "orders.auto_refund";

#[derive(Serialize, Deserialize)]
struct AutoRefund {
    payment_id: PaymentId,
    order_id: OrderId,
    reason: String,
}

pub(crate) async fn schedule_refund(
    tx: &TenantTx,
    payment: &Payment,
    order_status: &OrderStatus,
) -> Result<(), Problem> {
    let payload = serde_json::to_value(AutoRefund {
        payment_id: payment.id,
        order_id: payment.order,
        reason: format!(
            "payment arrived when the order was already {}",
            order_status.code()
        ),
    })?;
    mercato_jobs::enqueue(
        &**tx,
        NewJob {
            tenant: tx.tenant(),
            kind: AUTO_REFUND_JOB,
            subject: Some(payment.order.to_string()),
            payload,
            run_at: crate::now(),
            max_attempts: 50,
        },
    )
    .await?;
    Ok(())
}

/// Gives back a payment the order cannot keep (see [`settle`]).
struct AutoRefunds(OrdersState);

#[async_trait]
impl JobHandler for AutoRefunds {
    async fn run(&self, job: &Job) -> JobOutcome {
        let task: AutoRefund = match serde_json::from_value(job.payload.clone()) {
            Ok(task) => task,
            Err(e) => return JobOutcome::Fail(format!("invalid payload: {e}")),
        };
        match crate::usecases::refunds::refund_whole_payment(
            &self.0,
            job.tenant,
            task.order_id,
            task.payment_id,
            &task.reason,
        )
        .await
        {
            Ok(()) => JobOutcome::Done,
            Err(e) => JobOutcome::Retry(e.to_string()),
        }
    }
}

pub fn auto_refund_worker(state: &OrdersState) -> Worker {
    Worker::new(
        state.db.clone(),
        AUTO_REFUND_JOB,
        Arc::new(AutoRefunds(state.clone())),
    )
    .backoff(Duration::from_secs(2), Duration::from_secs(300))
}

/// Delivers the test provider's webhooks to this service, through the same verification as
/// the HTTP endpoint.
struct LocalWebhooks(OrdersState);

#[async_trait]
impl WebhookSink for LocalWebhooks {
    async fn deliver(
        &self,
        tenant: TenantId,
        signature_header: String,
        body: Vec<u8>,
    ) -> Result<(), String> {
        receive_webhook(&self.0, tenant, "test", &signature_header, &body)
            .await
            .map_err(|p| p.to_string())
    }
}

/// The worker that sends the test provider's webhooks, when the test provider is offered.
pub fn test_webhook_worker(state: &OrdersState) -> Option<Worker> {
    let provider = state.payments.test.as_ref()?;
    Some(mercato_payments::webhook_worker(
        provider,
        Arc::new(LocalWebhooks(state.clone())),
    ))
}

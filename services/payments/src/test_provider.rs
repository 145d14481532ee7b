//! The built-in test provider: deterministic outcomes from Stripe's test cards (see
//! [`cards`]), kept durably in the host service's database so a restart forgets nothing,
//! and webhooks in Stripe's shape and signature scheme, so the receiving side is the same
//! code whichever provider a shop uses.
//!
//! Every change of an intent (succeeded, payment failed, canceled) enqueues a
//! [`WEBHOOK_JOB`] job in the same transaction, carrying the exact event body; the worker
//! from [`webhook_worker`], woken as soon as that transaction commits, signs it when it
//! sends it and retries with backoff until the [`WebhookSink`] takes it. Two cards settle
//! later (see [`cards`] for the whole list):
//!
//! - `…3220` ([`cards::REQUIRES_ACTION`]) needs authentication: `requires_action` at confirm;
//!   it can be canceled while it waits.
//! - `…5555` ([`cards::PROCESSING`]) behaves like a bank debit still being processed:
//!   `processing` at confirm; like Stripe, cancelling it is refused
//!   (`payment_intent_unexpected_state`) while it is processing.
//!
//! Either way, its job, due after the configured delay, marks it succeeded (unless it was
//! canceled meanwhile) and then delivers `payment_intent.succeeded`; nothing is announced at
//! confirm.
//!
//! Differences from Stripe, on purpose: replaying an idempotency key returns the intent as it
//! stands now (Stripe replays the first response), and canceling a canceled intent returns
//! it (Stripe refuses). Refunds send no webhook, and neither does an intent that becomes
//! `processing` (Stripe sends `payment_intent.processing`).

pub mod cards;
mod fees;
mod webhooks;

pub use fees::TestFee;

pub use webhooks::{DEFAULT_WEBHOOK_ATTEMPTS, WEBHOOK_JOB, WebhookSink, webhook_worker};

use crate::event::{EventKind, IntentObject, intent_event_json};
use crate::provider::{
    BalancePage, BalanceTransaction, IntentRequest, IntentState, IntentStatus, PaymentMethod,
    PaymentProvider, ProviderError, RefundState,
};
use crate::repo::{self, StoredIntent, StoredRefund};
use cards::{Charge, Outcome};
use chrono::{DateTime, SubsecRound, TimeDelta, Utc};
use mercato_db::{Db, TenantTx, is_unique_violation};
use mercato_kernel::Money;
use mercato_tenant_context::TenantId;
use sea_orm::DbErr;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

mercato_kernel::typed_id!(
    /// A test provider payment intent (`pi_test_…`).
    pub TestIntentId, "pi_test"
);
mercato_kernel::typed_id!(
    /// A test provider refund (`re_test_…`).
    pub TestRefundId, "re_test"
);
mercato_kernel::typed_id!(
    /// A test provider webhook event (`evt_test_…`).
    pub TestEventId, "evt_test"
);

/// How long a card that needs authentication stays `requires_action` (and the processing
/// card `processing`) by default.
pub const DEFAULT_ACTION_DELAY: Duration = Duration::from_secs(2);

/// The built-in test provider (`"test"`). Cheap to clone.
#[derive(Clone)]
pub struct TestProvider {
    db: Db,
    secret: String,
    delay: Duration,
    fee: TestFee,
    /// Poked after a commit that enqueued a webhook due now; the worker from
    /// [`webhook_worker`] wakes on it instead of waiting out its poll interval.
    webhook_due: Arc<Notify>,
}

impl fmt::Debug for TestProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestProvider")
            .field("delay", &self.delay)
            .field("fee", &self.fee)
            .finish_non_exhaustive()
    }
}

/// The current instant at the precision both backends store.
fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

fn later(at: DateTime<Utc>, delay: Duration) -> DateTime<Utc> {
    let delay = TimeDelta::from_std(delay).unwrap_or(TimeDelta::days(1));
    at.checked_add_signed(delay).unwrap_or(at)
}

fn unavailable(error: DbErr) -> ProviderError {
    ProviderError::Unavailable(format!("test provider database: {error}"))
}

fn missing(what: &str, id: &str) -> ProviderError {
    ProviderError::refused(
        "resource_missing",
        format!("No such {what}: '{id}'"),
        Some("intent"),
    )
}

fn key_reused() -> ProviderError {
    ProviderError::refused(
        "idempotency_key_in_use",
        "Keys for idempotent requests can only be used with the same parameters they were first used with.",
        Some("idempotency_key"),
    )
}

/// A hash of everything a create request says, to tell a replay from a key reused for
/// another payment. Length-prefixed fields, so no two requests share a text.
fn fingerprint(request: &IntentRequest) -> String {
    let method = match &request.method {
        PaymentMethod::Card { number } => format!("card:{number}"),
        PaymentMethod::Token(token) => format!("token:{token}"),
    };
    let amount = request.amount.amount.to_string();
    let mut hash = Sha256::new();
    for field in [
        request.order_ref.as_str(),
        &amount,
        request.amount.currency.code(),
        &method,
        &request.transfer_group,
        &request.description,
    ] {
        hash.update(field.len().to_string().as_bytes());
        hash.update(b":");
        hash.update(field.as_bytes());
    }
    hex::encode(hash.finalize())
}

fn state(intent: &StoredIntent) -> IntentState {
    IntentState {
        provider_ref: intent.id.to_string(),
        status: intent.status.clone(),
        amount: intent.amount,
    }
}

fn refund_state(refund: &StoredRefund) -> RefundState {
    RefundState {
        provider_ref: refund.id.to_string(),
        amount: refund.amount,
        succeeded: true,
    }
}

/// Stripe's word for an intent's status.
fn stripe_status(status: &IntentStatus) -> &'static str {
    match status {
        IntentStatus::Failed { .. } => "requires_payment_method",
        other => other.as_str(),
    }
}

/// The body of the event saying `intent` is now `status`.
fn event_body(
    tenant: TenantId,
    intent: &StoredIntent,
    kind: &EventKind,
    status: &IntentStatus,
    created: i64,
) -> String {
    let object = IntentObject {
        id: intent.id.to_string(),
        amount: intent.amount,
        status: stripe_status(status).to_owned(),
        metadata: BTreeMap::from([
            ("tenant_id".to_owned(), tenant.to_string()),
            ("order_ref".to_owned(), intent.order_ref.clone()),
        ]),
        last_payment_error: match status {
            IntentStatus::Failed { code, message } => Some(cards::payment_error(code, message)),
            _ => None,
        },
    };
    intent_event_json(&TestEventId::new().to_string(), kind, created, &object)
}

/// Either the provider's answer, or a database error to map (or to retry after a race).
type Attempt<T> = Result<Result<T, ProviderError>, DbErr>;

impl TestProvider {
    /// A provider keeping its intents in `db` (migrated with [`crate::migrate`], next to the
    /// host's jobs table), signing webhooks with `secret`, and settling cards that need
    /// authentication, and the processing card, after `delay` ([`DEFAULT_ACTION_DELAY`] is
    /// Stripe-like).
    pub fn new(db: Db, secret: String, delay: Duration) -> Self {
        Self {
            db,
            secret,
            delay,
            fee: TestFee::default(),
            webhook_due: Arc::new(Notify::new()),
        }
    }

    /// Charges `fee` on each payment it takes (instead of [`TestFee::default`]).
    pub fn with_fee(mut self, fee: TestFee) -> Self {
        self.fee = fee;
        self
    }

    /// Books a captured payment in the provider's balance: the gross in, the fee off.
    async fn record_charge(
        &self,
        tx: &TenantTx,
        intent: &StoredIntent,
        at: DateTime<Utc>,
    ) -> Result<(), DbErr> {
        let amount = intent.amount.amount;
        let fee = self.fee.of(amount);
        repo::insert_balance_transaction(
            tx,
            &BalanceTransaction {
                id: new_balance_id(),
                kind: "charge".into(),
                source: intent.id.to_string(),
                reference: intent.order_ref.clone(),
                amount,
                fee,
                net: amount - fee,
                currency: intent.amount.currency,
                created: at,
            },
        )
        .await
    }

    /// Adds a movement to the shop's balance at the provider that no payment or refund
    /// made (an `adjustment`, or a `transfer`), as a provider's back office would: for demos
    /// and for tests of the reconciliation. `amount` is signed; no fee.
    pub async fn record_adjustment(
        &self,
        tenant: TenantId,
        kind: &str,
        reference: &str,
        amount: Money,
    ) -> Result<BalanceTransaction, ProviderError> {
        if !matches!(kind, "adjustment" | "transfer") {
            return Err(ProviderError::refused(
                "parameter_invalid",
                "kind is adjustment or transfer",
                Some("kind"),
            ));
        }
        let id = new_balance_id();
        let made = BalanceTransaction {
            source: id.clone(),
            id,
            kind: kind.to_owned(),
            reference: reference.to_owned(),
            amount: amount.amount,
            fee: 0,
            net: amount.amount,
            currency: amount.currency,
            created: now(),
        };
        let tx = self.db.tenant_tx(tenant).await.map_err(unavailable)?;
        repo::insert_balance_transaction(&tx, &made)
            .await
            .map_err(unavailable)?;
        tx.commit().await.map_err(unavailable)?;
        Ok(made)
    }

    /// The webhook signing secret, for the receiver's list of secrets.
    pub fn secret(&self) -> &str {
        &self.secret
    }

    pub(crate) fn db(&self) -> &Db {
        &self.db
    }

    /// The intent as it stands now; `None` if the shop has no such intent.
    pub async fn intent(
        &self,
        tenant: TenantId,
        provider_ref: &str,
    ) -> Result<Option<IntentState>, ProviderError> {
        let Ok(id) = provider_ref.parse::<TestIntentId>() else {
            return Ok(None);
        };
        let tx = self.db.tenant_read(tenant).await.map_err(unavailable)?;
        let found = repo::find_intent(&tx, id).await.map_err(unavailable)?;
        Ok(found.as_ref().map(state))
    }

    /// Runs `attempt` once more when it lost a race on an idempotency key (the other request
    /// committed first, so the second run finds its row).
    async fn with_one_retry<T, F, Fut>(&self, attempt: F) -> Result<T, ProviderError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Attempt<T>>,
    {
        match attempt().await {
            Ok(answer) => answer,
            Err(error) if is_unique_violation(&error) => {
                attempt().await.map_err(unavailable).and_then(|a| a)
            }
            Err(error) => Err(unavailable(error)),
        }
    }

    async fn create(
        &self,
        request: &IntentRequest,
        charge: &Charge,
        fingerprint: &str,
    ) -> Attempt<IntentState> {
        let tx = self.db.tenant_tx(request.tenant).await?;
        let at = now();
        let status = match &charge.outcome {
            Outcome::Succeed => IntentStatus::Succeeded,
            Outcome::RequireAction => IntentStatus::RequiresAction,
            Outcome::Process => IntentStatus::Processing,
            Outcome::Decline(error) => {
                let (code, message) = cards::failure_of(error);
                IntentStatus::Failed { code, message }
            }
        };
        let intent = StoredIntent {
            id: TestIntentId::new(),
            idempotency_key: request.idempotency_key.clone(),
            fingerprint: fingerprint.to_owned(),
            order_ref: request.order_ref.clone(),
            amount: request.amount,
            payment_method: charge.summary.clone(),
            status: status.clone(),
            transfer_group: request.transfer_group.clone(),
            description: request.description.clone(),
            created_at: at,
            updated_at: at,
        };
        if !repo::insert_intent(&tx, &intent).await? {
            // The key was used before: the intent it made is the answer.
            let existing = repo::find_intent_by_key(&tx, &request.idempotency_key)
                .await?
                .ok_or_else(|| DbErr::RecordNotFound("the intent of a used key".into()))?;
            return Ok(if existing.fingerprint == fingerprint {
                Ok(state(&existing))
            } else {
                Err(key_reused())
            });
        }
        let due_now = match &status {
            IntentStatus::RequiresAction | IntentStatus::Processing => {
                let due = later(at, self.delay);
                let body = event_body(
                    tx.tenant(),
                    &intent,
                    &EventKind::IntentSucceeded,
                    &IntentStatus::Succeeded,
                    due.timestamp(),
                );
                webhooks::schedule(&tx, intent.id, body, due, true).await?;
                // Without a delay the shopper "authenticates" at once: wake the worker too.
                due <= at
            }
            IntentStatus::Failed { .. } => {
                self.announce(&tx, &intent, EventKind::IntentFailed, at)
                    .await?;
                true
            }
            _ => {
                self.record_charge(&tx, &intent, at).await?;
                self.announce(&tx, &intent, EventKind::IntentSucceeded, at)
                    .await?;
                true
            }
        };
        tx.commit().await?;
        if due_now {
            self.webhook_due.notify_one();
        }
        tracing::info!(tenant_id = %request.tenant, intent_id = %intent.id, status = status.as_str(), "test provider intent created");
        Ok(Ok(state(&intent)))
    }

    /// Enqueues the webhook saying `intent` (as it now stands) had `kind` happen, due now.
    async fn announce(
        &self,
        tx: &TenantTx,
        intent: &StoredIntent,
        kind: EventKind,
        at: DateTime<Utc>,
    ) -> Result<(), DbErr> {
        let body = event_body(tx.tenant(), intent, &kind, &intent.status, at.timestamp());
        webhooks::schedule(tx, intent.id, body, at, false).await
    }

    async fn cancel_in_tx(&self, tenant: TenantId, id: TestIntentId) -> Attempt<IntentState> {
        let tx = self.db.tenant_tx(tenant).await?;
        let Some(mut intent) = repo::lock_intent(&tx, id).await? else {
            return Ok(Err(missing("payment_intent", &id.to_string())));
        };
        match intent.status {
            // Stripe refuses to cancel a payment it is still processing, as one it took.
            IntentStatus::Succeeded | IntentStatus::Processing => {
                return Ok(Err(ProviderError::refused(
                    "payment_intent_unexpected_state",
                    format!(
                        "You cannot cancel this PaymentIntent because it has a status of {}.",
                        stripe_status(&intent.status)
                    ),
                    None,
                )));
            }
            IntentStatus::Canceled => return Ok(Ok(state(&intent))),
            IntentStatus::RequiresAction | IntentStatus::Failed { .. } => {}
        }
        let at = now();
        intent.status = IntentStatus::Canceled;
        intent.updated_at = at;
        repo::set_intent_status(&tx, id, &intent.status, at).await?;
        self.announce(&tx, &intent, EventKind::IntentCanceled, at)
            .await?;
        tx.commit().await?;
        self.webhook_due.notify_one();
        tracing::info!(tenant_id = %tenant, intent_id = %id, "test provider intent canceled");
        Ok(Ok(state(&intent)))
    }

    async fn refund_in_tx(
        &self,
        tenant: TenantId,
        id: TestIntentId,
        amount: Money,
        key: &str,
    ) -> Attempt<RefundState> {
        let tx = self.db.tenant_tx(tenant).await?;
        // The lock first: a concurrent refund of this intent with the same key then either
        // committed before (found below and replayed) or waits for this one.
        let Some(intent) = repo::lock_intent(&tx, id).await? else {
            return Ok(Err(missing("payment_intent", &id.to_string())));
        };
        if let Some(existing) = repo::find_refund_by_key(&tx, key).await? {
            return Ok(if existing.intent == id && existing.amount == amount {
                Ok(refund_state(&existing))
            } else {
                Err(key_reused())
            });
        }
        if intent.status != IntentStatus::Succeeded {
            return Ok(Err(ProviderError::refused(
                "payment_intent_unexpected_state",
                format!(
                    "This PaymentIntent has a status of {} and no successful charge to refund.",
                    stripe_status(&intent.status)
                ),
                None,
            )));
        }
        if amount.currency != intent.amount.currency {
            return Ok(Err(ProviderError::refused(
                "currency_mismatch",
                format!(
                    "The refund is in {} but the payment was in {}.",
                    amount.currency, intent.amount.currency
                ),
                Some("amount"),
            )));
        }
        let refunded = repo::refunds_of(&tx, id)
            .await?
            .iter()
            .try_fold(0i64, |sum, r| sum.checked_add(r.amount.amount))
            .ok_or_else(|| DbErr::Custom("refund total out of range".to_owned()))?;
        let left = intent.amount.amount.saturating_sub(refunded);
        if amount.amount > left {
            return Ok(Err(ProviderError::refused(
                "amount_too_large",
                format!(
                    "Refund amount ({}) is greater than the unrefunded amount of the payment ({left}).",
                    amount.amount
                ),
                Some("amount"),
            )));
        }
        let refund = StoredRefund {
            id: TestRefundId::new(),
            intent: id,
            idempotency_key: key.to_owned(),
            amount,
            created_at: now(),
        };
        repo::insert_refund(&tx, &refund).await?;
        repo::insert_balance_transaction(
            &tx,
            &BalanceTransaction {
                id: new_balance_id(),
                kind: "refund".into(),
                source: refund.id.to_string(),
                reference: key.to_owned(),
                amount: -amount.amount,
                fee: 0,
                net: -amount.amount,
                currency: amount.currency,
                created: refund.created_at,
            },
        )
        .await?;
        tx.commit().await?;
        tracing::info!(tenant_id = %tenant, intent_id = %id, refund_id = %refund.id, amount = amount.amount, "test provider refund created");
        Ok(Ok(refund_state(&refund)))
    }

    /// Marks an intent waiting for authentication, or processing, as succeeded, for its
    /// delayed webhook. True when it is (now or already) succeeded, so the webhook should go
    /// out; false when it ended otherwise meanwhile (canceled) and there is nothing to
    /// announce.
    pub(crate) async fn settle(&self, tenant: TenantId, id: TestIntentId) -> Result<bool, DbErr> {
        let tx = self.db.tenant_tx(tenant).await?;
        let Some(intent) = repo::lock_intent(&tx, id).await? else {
            return Ok(false);
        };
        match intent.status {
            IntentStatus::Succeeded => Ok(true),
            IntentStatus::RequiresAction | IntentStatus::Processing => {
                let at = now();
                repo::set_intent_status(&tx, id, &IntentStatus::Succeeded, at).await?;
                self.record_charge(&tx, &intent, at).await?;
                tx.commit().await?;
                tracing::info!(tenant_id = %tenant, intent_id = %id, was = intent.status.as_str(), "test provider intent succeeded after the delay");
                Ok(true)
            }
            IntentStatus::Failed { .. } | IntentStatus::Canceled => Ok(false),
        }
    }
}

/// A new balance transaction id (`txn_test_…`, time-ordered like the ids it is kept by).
fn new_balance_id() -> String {
    format!("txn_test_{}", uuid::Uuid::now_v7().simple())
}

/// How many balance transactions one page holds.
const BALANCE_PAGE: u64 = 100;

fn parse_ref(provider_ref: &str) -> Result<TestIntentId, ProviderError> {
    provider_ref
        .parse()
        .map_err(|_| missing("payment_intent", provider_ref))
}

fn require_key(key: &str) -> Result<(), ProviderError> {
    if key.is_empty() || key.len() > 255 {
        return Err(ProviderError::refused(
            "idempotency_key_invalid",
            "An idempotency key of 1 to 255 characters is required.",
            Some("idempotency_key"),
        ));
    }
    Ok(())
}

#[async_trait::async_trait]
impl PaymentProvider for TestProvider {
    fn name(&self) -> &'static str {
        "test"
    }

    async fn create_and_confirm(
        &self,
        request: &IntentRequest,
    ) -> Result<IntentState, ProviderError> {
        require_key(&request.idempotency_key)?;
        if request.amount.amount <= 0 {
            return Err(ProviderError::refused(
                "amount_too_small",
                "Amount must be at least 1 minor unit.",
                Some("amount"),
            ));
        }
        let charge = cards::resolve(&request.method)?;
        let fingerprint = fingerprint(request);
        // A key used before is answered inside `create`, so there is no race to retry.
        self.create(request, &charge, &fingerprint)
            .await
            .map_err(unavailable)
            .and_then(|answer| answer)
    }

    async fn cancel(
        &self,
        tenant: TenantId,
        provider_ref: &str,
    ) -> Result<IntentState, ProviderError> {
        let id = parse_ref(provider_ref)?;
        self.with_one_retry(|| self.cancel_in_tx(tenant, id)).await
    }

    async fn refund(
        &self,
        tenant: TenantId,
        provider_ref: &str,
        amount: Money,
        idempotency_key: &str,
    ) -> Result<RefundState, ProviderError> {
        require_key(idempotency_key)?;
        if amount.amount <= 0 {
            return Err(ProviderError::refused(
                "parameter_invalid_integer",
                "The refund amount must be a positive integer.",
                Some("amount"),
            ));
        }
        let id = parse_ref(provider_ref)?;
        self.with_one_retry(|| self.refund_in_tx(tenant, id, amount, idempotency_key))
            .await
    }

    async fn charge_balance(
        &self,
        tenant: TenantId,
        provider_ref: &str,
    ) -> Result<Option<BalanceTransaction>, ProviderError> {
        let id = parse_ref(provider_ref)?;
        let tx = self.db.tenant_read(tenant).await.map_err(unavailable)?;
        repo::balance_transaction_of(&tx, "charge", &id.to_string())
            .await
            .map_err(unavailable)
    }

    async fn balance_transactions(
        &self,
        tenant: TenantId,
        cursor: Option<&str>,
    ) -> Result<BalancePage, ProviderError> {
        let after = match cursor {
            None => None,
            Some(cursor) => Some(
                cursor
                    .strip_prefix("txn_test_")
                    .and_then(|id| uuid::Uuid::parse_str(id).ok())
                    .ok_or_else(|| {
                        ProviderError::refused(
                            "resource_missing",
                            format!("No such balance_transaction: '{cursor}'"),
                            Some("starting_after"),
                        )
                    })?,
            ),
        };
        let tx = self.db.tenant_read(tenant).await.map_err(unavailable)?;
        let items = repo::balance_transactions_after(&tx, after, BALANCE_PAGE)
            .await
            .map_err(unavailable)?;
        let cursor = items.last().map(|t| t.id.clone());
        Ok(BalancePage { items, cursor })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mercato_kernel::Currency;

    fn request() -> IntentRequest {
        IntentRequest {
            tenant: TenantId::new(),
            order_ref: "ord_1".into(),
            amount: Money::new(1000, Currency::parse("EUR").unwrap()),
            method: PaymentMethod::Card {
                number: cards::SUCCEEDS.into(),
            },
            idempotency_key: "k1".into(),
            transfer_group: "ord_1".into(),
            description: "Order 1".into(),
        }
    }

    #[test]
    fn fingerprints_tell_requests_apart() {
        let base = request();
        let same = fingerprint(&base);
        assert_eq!(fingerprint(&base.clone()), same);
        let mut other = base.clone();
        other.amount.amount += 1;
        assert_ne!(fingerprint(&other), same);
        let mut other = base.clone();
        other.method = PaymentMethod::Token(format!("card:{}", cards::SUCCEEDS));
        assert_ne!(fingerprint(&other), same);
        // The field boundaries count: moving text from one field to the next changes it.
        let mut shifted = base.clone();
        shifted.transfer_group = "ord_1O".into();
        shifted.description = "rder 1".into();
        assert_ne!(fingerprint(&shifted), same);
        // The tenant and key are not part of it: they select the row.
        let mut elsewhere = base;
        elsewhere.tenant = TenantId::new();
        elsewhere.idempotency_key = "k2".into();
        assert_eq!(fingerprint(&elsewhere), same);
    }

    #[test]
    fn failed_intents_read_as_stripe_says() {
        let failed = IntentStatus::Failed {
            code: "card_declined".into(),
            message: "x".into(),
        };
        assert_eq!(stripe_status(&failed), "requires_payment_method");
        assert_eq!(
            stripe_status(&IntentStatus::RequiresAction),
            "requires_action"
        );
        assert_eq!(stripe_status(&IntentStatus::Processing), "processing");
    }

    #[test]
    fn ids_carry_stripe_like_prefixes() {
        assert!(TestIntentId::new().to_string().starts_with("pi_test_"));
        assert!(TestRefundId::new().to_string().starts_with("re_test_"));
        assert!(TestEventId::new().to_string().starts_with("evt_test_"));
        assert!(parse_ref("pi_1234").is_err());
        let id = TestIntentId::new();
        assert_eq!(parse_ref(&id.to_string()), Ok(id));
    }
}

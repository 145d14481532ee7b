//! Stripe as a payment provider (`"stripe"`), through async-stripe's client: it builds the
//! form-encoded requests, sends the secret key, the pinned `Stripe-Version` and the
//! `Idempotency-Key`, and reads Stripe's error objects.
//!
//! One platform account takes every shop's payments: an intent carries `metadata[tenant_id]`
//! and `metadata[order_ref]`, and a shop may cancel or refund only intents whose
//! `tenant_id` is its own (another shop's intent is `resource_missing`, as if it did not
//! exist). `transfer_group` groups the later vendor transfers with the charge.
//!
//! Intents are created and confirmed in one call with the shopper's `pm_…` payment method,
//! with automatic payment methods that never redirect (`automatic_payment_methods[enabled]`,
//! `[allow_redirects]=never`): Mercato's API has no return URL to send a shopper back to, and
//! without one Stripe refuses to confirm an intent that might redirect. Cards need no
//! redirect: 3-D Secure ends as `requires_action`, finished in the browser with Stripe.js. A
//! raw card number is refused here without calling Stripe, which never takes one from a
//! server.
//!
//! Answers are read leniently, only the fields Mercato needs, so a newer API version or a
//! Stripe emulator that leaves out fields Mercato does not use still works. A card declined
//! at confirm comes back from Stripe as an HTTP 402 error carrying the intent (an emulator's
//! may name only the charge: the intent is then looked up through it): that is an outcome
//! (`Ok` with [`IntentStatus::Failed`]), not an error. Other 4xx answers are
//! refusals; 5xx, 409 (a concurrent request with the same key), 429 and network failures
//! leave the request to be retried with the same idempotency key.

use crate::event::failure_code;
use crate::provider::{
    BalancePage, BalanceTransaction, IntentRequest, IntentState, IntentStatus, PaymentMethod,
    PaymentProvider, ProviderError, RefundState,
};
use ::stripe::{ApiErrors, ApiErrorsType, IdempotencyKey, RequestStrategy, StripeError};
use mercato_kernel::{Currency, Money};
use mercato_tenant_context::TenantId;
use miniserde::json::{Number, Object, Value};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::time::Duration;
use stripe_client_core::{RequestBuilder, StripeMethod, StripeRequest};
use stripe_core::payment_intent::{
    CancelPaymentIntent, CreatePaymentIntent, CreatePaymentIntentAutomaticPaymentMethods,
    CreatePaymentIntentAutomaticPaymentMethodsAllowRedirects, RetrievePaymentIntent,
};
use stripe_core::refund::CreateRefund;

/// How long one request may take before it counts as unavailable (the same idempotency key
/// makes trying again safe).
const TIMEOUT: Duration = Duration::from_secs(30);

/// Stripe (`"stripe"`). Cheap to clone.
#[derive(Clone)]
pub struct StripeProvider {
    client: ::stripe::Client,
    api_base: Option<String>,
}

/// Never prints the secret key.
impl fmt::Debug for StripeProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StripeProvider")
            .field("api_base", &self.api_base)
            .finish_non_exhaustive()
    }
}

/// Why a Stripe client could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum StripeSetupError {
    /// The secret key is not usable as a header value, or the API base is not a URL.
    #[error("stripe client: {0}")]
    Client(#[source] StripeError),
}

impl StripeProvider {
    /// A provider calling Stripe with `secret_key` (`sk_…`), at `api_base` when given (an
    /// emulator or a test server, e.g. `http://127.0.0.1:8420`) instead of Stripe's API.
    ///
    /// Installs ring as the process-wide rustls crypto provider unless one is installed
    /// already: both ring and aws-lc-rs may be compiled into the process, and rustls then
    /// refuses to pick one itself.
    pub fn new(secret_key: String, api_base: Option<String>) -> Result<Self, StripeSetupError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let api_base = api_base
            .filter(|base| !base.trim().is_empty())
            .map(|base| format!("{}/", base.trim().trim_end_matches('/')));
        let mut builder = ::stripe::ClientBuilder::new(secret_key)
            .timeout(TIMEOUT)
            .app_info("mercato", Some(env!("CARGO_PKG_VERSION").to_owned()), None);
        if let Some(base) = &api_base {
            builder = builder.url(base.clone());
        }
        let client = builder.build().map_err(StripeSetupError::Client)?;
        Ok(Self { client, api_base })
    }

    /// The intent as Stripe has it, if it is `tenant`'s.
    async fn owned_intent(
        &self,
        tenant: TenantId,
        provider_ref: &str,
    ) -> Result<WireIntent, ProviderError> {
        if !is_object_id(provider_ref) {
            return Err(no_such_intent(provider_ref));
        }
        let intent: WireIntent = RetrievePaymentIntent::new(provider_ref)
            .build()
            .customize()
            .send(&self.client)
            .await
            .map_err(|error| match error {
                StripeError::Stripe(api, 404) => missing(provider_ref, &api),
                other => outcome_of(other),
            })?;
        let tenant = tenant.to_string();
        if intent.metadata.as_ref().and_then(|m| m.get("tenant_id")) != Some(&tenant) {
            return Err(no_such_intent(provider_ref));
        }
        Ok(intent)
    }

    /// The intent a declined confirm left behind, when Stripe's error names only the charge
    /// (emulators do; Stripe itself sends the intent).
    async fn intent_of_charge(&self, charge: &str) -> Result<Option<String>, ProviderError> {
        if !is_object_id(charge) {
            return Ok(None);
        }
        let charge: WireCharge =
            RequestBuilder::new(StripeMethod::Get, format!("/charges/{charge}"))
                .customize()
                .send(&self.client)
                .await
                .map_err(outcome_of)?;
        Ok(charge.payment_intent)
    }

    /// What a declined confirm amounts to: the failed intent, when the error says which.
    async fn declined(
        &self,
        request: &IntentRequest,
        error: &ApiErrors,
    ) -> Result<IntentState, ProviderError> {
        let status = IntentStatus::Failed {
            code: failure_code(
                error.code.as_ref().map(|c| c.as_str()),
                error.decline_code.as_deref(),
            ),
            message: error
                .message
                .clone()
                .unwrap_or_else(|| "The payment was declined.".to_owned()),
        };
        if let Some(intent) = &error.payment_intent {
            return Ok(IntentState {
                provider_ref: intent.id.to_string(),
                status,
                amount: money(intent.amount, &intent.currency.to_string())?,
            });
        }
        let intent = match &error.charge {
            Some(charge) => self.intent_of_charge(charge).await?,
            None => None,
        };
        match intent {
            Some(provider_ref) => Ok(IntentState {
                provider_ref,
                status,
                amount: request.amount,
            }),
            // Nothing to point at: the attempt failed all the same.
            None => Err(refusal(error)),
        }
    }
}

/// A payment intent, as much of it as Mercato reads.
#[derive(Debug, miniserde::Deserialize)]
struct WireIntent {
    id: String,
    amount: i64,
    currency: String,
    status: String,
    metadata: Option<BTreeMap<String, String>>,
    last_payment_error: Option<WireError>,
}

#[derive(Debug, miniserde::Deserialize)]
struct WireError {
    code: Option<String>,
    decline_code: Option<String>,
    message: Option<String>,
}

#[derive(Debug, miniserde::Deserialize)]
struct WireTransfer {
    id: String,
    amount: i64,
    currency: String,
}

/// `POST /v1/transfers`' form: what Stripe Connect needs to move money from the platform's
/// balance to a connected account.
#[derive(serde::Serialize)]
struct TransferForm<'a> {
    amount: i64,
    currency: String,
    destination: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    transfer_group: Option<&'a str>,
    metadata: BTreeMap<&'static str, String>,
}

/// A transfer to a vendor's connected account, as Stripe made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferState {
    /// `tr_…`
    pub provider_ref: String,
    pub amount: Money,
}

impl StripeProvider {
    /// Transfers `amount` from the platform's balance to the connected account
    /// `destination` (`acct_…`), once per `idempotency_key` (a payout's id), in
    /// `transfer_group` (the payout run), with `metadata[tenant_id]` and
    /// `metadata[payout_id]`. A transfer Stripe made is final: the money is in the
    /// connected account's balance, and Stripe pays it out to the vendor's bank.
    pub async fn transfer(
        &self,
        tenant: TenantId,
        destination: &str,
        amount: Money,
        transfer_group: Option<&str>,
        idempotency_key: &str,
    ) -> Result<TransferState, ProviderError> {
        let strategy = key(idempotency_key)?;
        if !destination.starts_with("acct_") || !is_object_id(destination) {
            return Err(ProviderError::refused(
                "resource_missing",
                format!("No such destination: '{destination}'"),
                Some("destination"),
            ));
        }
        let form = TransferForm {
            amount: amount.amount,
            currency: amount.currency.code().to_ascii_lowercase(),
            destination,
            transfer_group,
            metadata: BTreeMap::from([
                ("tenant_id", tenant.to_string()),
                ("payout_id", idempotency_key.to_owned()),
            ]),
        };
        let transfer: WireTransfer = RequestBuilder::new(StripeMethod::Post, "/transfers")
            .form(&form)
            .customize()
            .request_strategy(strategy)
            .send(&self.client)
            .await
            .map_err(outcome_of)?;
        let made = money(transfer.amount, &transfer.currency)?;
        if made != amount {
            // Stripe made another transfer than asked: never count it as this payout.
            return Err(ProviderError::Unavailable(format!(
                "stripe answered transfer {} of {} {} for a transfer of {} {}",
                transfer.id, made.amount, made.currency, amount.amount, amount.currency
            )));
        }
        tracing::info!(tenant_id = %tenant, transfer_id = %transfer.id, destination, "stripe transfer created");
        Ok(TransferState {
            provider_ref: transfer.id,
            amount: made,
        })
    }
}

#[derive(Debug, miniserde::Deserialize)]
struct WireRefund {
    id: String,
    amount: i64,
    currency: String,
    status: Option<String>,
}

#[derive(Debug, miniserde::Deserialize)]
struct WireCharge {
    payment_intent: Option<String>,
}

fn unreadable(what: &str) -> ProviderError {
    ProviderError::Unavailable(format!("stripe answered with {what}"))
}

fn money(amount: i64, currency: &str) -> Result<Money, ProviderError> {
    let currency = Currency::parse(&currency.to_ascii_uppercase())
        .map_err(|_| unreadable(&format!("an unknown currency {currency:?}")))?;
    Ok(Money::new(amount, currency))
}

/// Whether `id` can be an object id (`pi_…`, `ch_…`) and so go into a URL path as it is.
fn is_object_id(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn no_such_intent(provider_ref: &str) -> ProviderError {
    ProviderError::refused(
        "resource_missing",
        format!("No such payment_intent: '{provider_ref}'"),
        Some("intent"),
    )
}

fn missing(provider_ref: &str, error: &ApiErrors) -> ProviderError {
    match error.code.as_ref().map(|c| c.as_str()) {
        Some("resource_missing") | None => no_such_intent(provider_ref),
        Some(_) => refusal(error),
    }
}

/// Stripe's `code`, or its error `type` when it gives no code.
fn refusal(error: &ApiErrors) -> ProviderError {
    let code = error
        .code
        .as_ref()
        .map_or_else(|| error.type_.as_str(), |c| c.as_str());
    ProviderError::Refused {
        code: code.to_owned(),
        message: error.message.clone().unwrap_or_default(),
        param: error.param.clone(),
    }
}

/// A request Stripe did not carry out: refused, or to be tried again.
fn outcome_of(error: StripeError) -> ProviderError {
    match error {
        StripeError::Stripe(api, status) if status == 409 || status == 429 || status >= 500 => {
            ProviderError::Unavailable(format!(
                "stripe answered {status}: {}",
                api.message.as_deref().unwrap_or(api.type_.as_str())
            ))
        }
        StripeError::Stripe(api, _) => refusal(&api),
        // The client reads error bodies as Stripe's error object; anything else (a proxy's
        // HTML page) comes here, without its status.
        StripeError::JSONDeserialize(what) => unreadable(&format!("an unreadable body: {what}")),
        StripeError::ClientError(what) => {
            ProviderError::Unavailable(format!("stripe could not be reached: {what}"))
        }
        StripeError::Timeout => ProviderError::Unavailable("stripe did not answer in time".into()),
        StripeError::ConfigError(what) => {
            ProviderError::Unavailable(format!("stripe client: {what}"))
        }
    }
}

fn key(idempotency_key: &str) -> Result<RequestStrategy, ProviderError> {
    IdempotencyKey::new(idempotency_key)
        .map(RequestStrategy::Idempotent)
        .map_err(|error| {
            ProviderError::refused(
                "idempotency_key_invalid",
                error.to_string(),
                Some("idempotency_key"),
            )
        })
}

/// Where an intent stands, in Mercato's words.
fn state(intent: &WireIntent) -> Result<IntentState, ProviderError> {
    let status = match intent.status.as_str() {
        "succeeded" => IntentStatus::Succeeded,
        "processing" => IntentStatus::Processing,
        "requires_action" => IntentStatus::RequiresAction,
        "canceled" => IntentStatus::Canceled,
        // Back to needing a payment method: the attempt failed.
        "requires_payment_method" => {
            let error = intent.last_payment_error.as_ref();
            IntentStatus::Failed {
                code: failure_code(
                    error.and_then(|e| e.code.as_deref()),
                    error.and_then(|e| e.decline_code.as_deref()),
                ),
                message: error
                    .and_then(|e| e.message.clone())
                    .unwrap_or_else(|| "The payment was not completed.".to_owned()),
            }
        }
        // `requires_confirmation` and `requires_capture` do not happen to an intent created
        // confirmed and captured automatically.
        other => {
            return Err(ProviderError::refused(
                "payment_intent_unexpected_state",
                format!("The PaymentIntent has a status of {other}."),
                None,
            ));
        }
    };
    Ok(IntentState {
        provider_ref: intent.id.clone(),
        status,
        amount: money(intent.amount, &intent.currency)?,
    })
}

#[async_trait::async_trait]
impl PaymentProvider for StripeProvider {
    fn name(&self) -> &'static str {
        "stripe"
    }

    async fn create_and_confirm(
        &self,
        request: &IntentRequest,
    ) -> Result<IntentState, ProviderError> {
        let payment_method = match &request.method {
            PaymentMethod::Token(token) => token.clone(),
            PaymentMethod::Card { .. } => {
                return Err(ProviderError::refused(
                    "invalid_payment_method",
                    "Stripe takes a payment method id (pm_…) from Stripe.js, never a card number.",
                    Some("payment_method"),
                ));
            }
        };
        let strategy = key(&request.idempotency_key)?;
        let Ok(currency) = request
            .amount
            .currency
            .code()
            .to_ascii_lowercase()
            .parse::<stripe_types::Currency>();
        let mut create = CreatePaymentIntent::new(request.amount.amount, currency)
            .payment_method(payment_method)
            .automatic_payment_methods(CreatePaymentIntentAutomaticPaymentMethods {
                enabled: true,
                allow_redirects: Some(
                    CreatePaymentIntentAutomaticPaymentMethodsAllowRedirects::Never,
                ),
            })
            .confirm(true)
            .metadata(HashMap::from([
                ("tenant_id".to_owned(), request.tenant.to_string()),
                ("order_ref".to_owned(), request.order_ref.clone()),
            ]));
        // Stripe refuses empty strings for these; an empty one means none.
        if !request.transfer_group.is_empty() {
            create = create.transfer_group(request.transfer_group.clone());
        }
        if !request.description.is_empty() {
            create = create.description(request.description.clone());
        }
        let answer: Result<WireIntent, StripeError> = create
            .build()
            .customize()
            .request_strategy(strategy)
            .send(&self.client)
            .await;
        let intent = match answer {
            Ok(intent) => state(&intent)?,
            Err(StripeError::Stripe(error, status))
                if status == 402 || error.type_ == ApiErrorsType::CardError =>
            {
                self.declined(request, &error).await?
            }
            Err(other) => return Err(outcome_of(other)),
        };
        tracing::info!(
            tenant_id = %request.tenant,
            intent_id = %intent.provider_ref,
            status = intent.status.as_str(),
            "stripe intent created"
        );
        Ok(intent)
    }

    async fn cancel(
        &self,
        tenant: TenantId,
        provider_ref: &str,
    ) -> Result<IntentState, ProviderError> {
        self.owned_intent(tenant, provider_ref).await?;
        let intent: WireIntent = CancelPaymentIntent::new(provider_ref)
            .build()
            .customize()
            .send(&self.client)
            .await
            .map_err(outcome_of)?;
        tracing::info!(tenant_id = %tenant, intent_id = %intent.id, "stripe intent canceled");
        state(&intent)
    }

    async fn refund(
        &self,
        tenant: TenantId,
        provider_ref: &str,
        amount: Money,
        idempotency_key: &str,
    ) -> Result<RefundState, ProviderError> {
        let strategy = key(idempotency_key)?;
        let intent = self.owned_intent(tenant, provider_ref).await?;
        let paid = money(intent.amount, &intent.currency)?;
        if paid.currency != amount.currency {
            return Err(ProviderError::refused(
                "currency_mismatch",
                format!(
                    "The refund is in {} but the payment was in {}.",
                    amount.currency, paid.currency
                ),
                Some("amount"),
            ));
        }
        let refund: WireRefund = CreateRefund::new()
            .payment_intent(provider_ref)
            .amount(amount.amount)
            .metadata(HashMap::from([
                ("tenant_id".to_owned(), tenant.to_string()),
                // What the reconciliation matches the refund's balance transaction by.
                ("refund_ref".to_owned(), idempotency_key.to_owned()),
            ]))
            .build()
            .customize()
            .request_strategy(strategy)
            .send(&self.client)
            .await
            .map_err(outcome_of)?;
        tracing::info!(tenant_id = %tenant, intent_id = %provider_ref, refund_id = %refund.id, "stripe refund created");
        Ok(RefundState {
            provider_ref: refund.id,
            amount: money(refund.amount, &refund.currency)?,
            // `pending` (some methods settle refunds later) is not yet a success.
            succeeded: refund.status.as_deref() == Some("succeeded"),
        })
    }

    /// The intent's latest charge with its balance transaction expanded; `None` while the
    /// charge or its balance transaction is not there yet (Stripe makes it when the charge
    /// is captured; some methods later).
    async fn charge_balance(
        &self,
        tenant: TenantId,
        provider_ref: &str,
    ) -> Result<Option<BalanceTransaction>, ProviderError> {
        if !is_object_id(provider_ref) {
            return Err(no_such_intent(provider_ref));
        }
        let intent: WireIntentCharge = RequestBuilder::new(
            StripeMethod::Get,
            format!("/payment_intents/{provider_ref}"),
        )
        .query(&ExpandQuery {
            expand: ["latest_charge.balance_transaction"],
        })
        .customize()
        .send(&self.client)
        .await
        .map_err(|error| match error {
            StripeError::Stripe(api, 404) => missing(provider_ref, &api),
            other => outcome_of(other),
        })?;
        if intent.metadata.as_ref().and_then(|m| m.get("tenant_id")) != Some(&tenant.to_string()) {
            return Err(no_such_intent(provider_ref));
        }
        let Some(Value::Object(charge)) = &intent.latest_charge else {
            return Ok(None);
        };
        let Some(Value::Object(balance)) = field(charge, "balance_transaction") else {
            return Ok(None);
        };
        let mut read = read_balance(
            balance,
            "charge",
            metadata(charge, "order_ref").or_else(|| text(charge, "transfer_group")),
        )?;
        if read.source.is_empty() {
            read.source = text(charge, "id").unwrap_or_default();
        }
        Ok(Some(read))
    }

    /// Stripe lists newest first. With a cursor (the newest balance transaction taken
    /// before), the pages just newer than it, walked towards now with `ending_before`;
    /// without one, everything, walked back with `starting_after`. Up to
    /// [`MAX_BALANCE_PAGES`] pages a call; the cursor says where the next call goes on.
    async fn balance_transactions(
        &self,
        tenant: TenantId,
        cursor: Option<&str>,
    ) -> Result<BalancePage, ProviderError> {
        let tenant = tenant.to_string();
        let mut seen: Vec<Value> = Vec::new();
        let mut newest: Option<String> = None;
        match cursor {
            Some(cursor) => {
                let mut before = cursor.to_owned();
                for _ in 0..MAX_BALANCE_PAGES {
                    let page = self.balance_page(None, Some(&before)).await?;
                    let Some(Value::Object(first)) = page.data.first() else {
                        break;
                    };
                    before = text(first, "id").ok_or_else(|| unreadable("an object without id"))?;
                    newest = Some(before.clone());
                    // Each page newest first; the later pages are newer still.
                    let mut older_first = page.data;
                    older_first.reverse();
                    seen.extend(older_first);
                    if !page.has_more {
                        break;
                    }
                }
            }
            None => {
                let mut after: Option<String> = None;
                for _ in 0..MAX_BALANCE_PAGES {
                    let page = self.balance_page(after.as_deref(), None).await?;
                    if newest.is_none()
                        && let Some(Value::Object(first)) = page.data.first()
                    {
                        newest = text(first, "id");
                    }
                    let Some(Value::Object(last)) = page.data.last() else {
                        break;
                    };
                    after = text(last, "id");
                    let has_more = page.has_more;
                    seen.extend(page.data);
                    if !has_more {
                        break;
                    }
                }
                seen.reverse();
            }
        }
        let mut items = Vec::new();
        for value in &seen {
            if let Some(t) = balance_of(value, &tenant)? {
                items.push(t);
            }
        }
        Ok(BalancePage {
            items,
            cursor: newest,
        })
    }
}

/// The most pages of balance transactions one call walks (100 each).
const MAX_BALANCE_PAGES: usize = 50;

/// `GET /v1/balance_transactions`' query.
#[derive(serde::Serialize)]
struct BalanceQuery<'a> {
    limit: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    starting_after: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ending_before: Option<&'a str>,
    expand: [&'static str; 1],
}

/// `GET /v1/payment_intents/{id}`' query, with the charge's balance transaction expanded.
#[derive(serde::Serialize)]
struct ExpandQuery {
    expand: [&'static str; 1],
}

/// A page of a Stripe list, its objects read loosely (an expandable field is an id or the
/// object).
#[derive(Debug, miniserde::Deserialize)]
struct WireList {
    data: Vec<Value>,
    has_more: bool,
}

#[derive(Debug, miniserde::Deserialize)]
struct WireIntentCharge {
    metadata: Option<BTreeMap<String, String>>,
    latest_charge: Option<Value>,
}

fn field<'a>(object: &'a Object, name: &str) -> Option<&'a Value> {
    object.get(name)
}

fn text(object: &Object, name: &str) -> Option<String> {
    match field(object, name)? {
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

fn integer(object: &Object, name: &str) -> Option<i64> {
    match field(object, name)? {
        Value::Number(Number::I64(n)) => Some(*n),
        Value::Number(Number::U64(n)) => i64::try_from(*n).ok(),
        _ => None,
    }
}

fn metadata(object: &Object, name: &str) -> Option<String> {
    match field(object, "metadata")? {
        Value::Object(m) => text(m, name),
        _ => None,
    }
}

/// A balance transaction as Stripe sends it, its source expanded; `None` when it is not one
/// or is not `tenant`'s (one platform account holds every shop's money).
fn balance_of(value: &Value, tenant: &str) -> Result<Option<BalanceTransaction>, ProviderError> {
    let Value::Object(t) = value else {
        return Err(unreadable("a balance transaction that is not an object"));
    };
    let source = match field(t, "source") {
        Some(Value::Object(source)) => source,
        _ => return Ok(None),
    };
    if metadata(source, "tenant_id").as_deref() != Some(tenant) {
        return Ok(None);
    }
    let (kind, reference) = match text(t, "type").as_deref() {
        Some("charge" | "payment") => (
            "charge",
            metadata(source, "order_ref").or_else(|| text(source, "transfer_group")),
        ),
        Some("refund" | "payment_refund") => ("refund", metadata(source, "refund_ref")),
        Some("transfer") => ("transfer", metadata(source, "payout_id")),
        _ => ("adjustment", None),
    };
    Ok(Some(read_balance(t, kind, reference)?))
}

fn read_balance(
    t: &Object,
    kind: &str,
    reference: Option<String>,
) -> Result<BalanceTransaction, ProviderError> {
    let missing = |name: &str| unreadable(&format!("a balance transaction without {name}"));
    let amount = integer(t, "amount").ok_or_else(|| missing("amount"))?;
    let fee = integer(t, "fee").unwrap_or(0);
    let currency = text(t, "currency").ok_or_else(|| missing("currency"))?;
    let created = integer(t, "created").ok_or_else(|| missing("created"))?;
    let source = match field(t, "source") {
        Some(Value::String(id)) => id.clone(),
        Some(Value::Object(source)) => text(source, "id").unwrap_or_default(),
        _ => String::new(),
    };
    Ok(BalanceTransaction {
        id: text(t, "id").ok_or_else(|| missing("id"))?,
        kind: kind.to_owned(),
        source,
        reference: reference.unwrap_or_default(),
        amount,
        fee,
        net: integer(t, "net").unwrap_or(amount - fee),
        currency: money(0, &currency)?.currency,
        created: chrono::DateTime::from_timestamp(created, 0)
            .ok_or_else(|| missing("a valid created"))?,
    })
}

impl StripeProvider {
    async fn balance_page(
        &self,
        starting_after: Option<&str>,
        ending_before: Option<&str>,
    ) -> Result<WireList, ProviderError> {
        RequestBuilder::new(StripeMethod::Get, "/balance_transactions")
            .query(&BalanceQuery {
                limit: 100,
                starting_after,
                ending_before,
                expand: ["data.source"],
            })
            .customize()
            .send(&self.client)
            .await
            .map_err(outcome_of)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(status: &str, error: Option<WireError>) -> WireIntent {
        WireIntent {
            id: "pi_1".into(),
            amount: 1200,
            currency: "eur".into(),
            status: status.into(),
            metadata: None,
            last_payment_error: error,
        }
    }

    #[test]
    fn maps_stripe_statuses() {
        for (word, status) in [
            ("succeeded", IntentStatus::Succeeded),
            ("processing", IntentStatus::Processing),
            ("requires_action", IntentStatus::RequiresAction),
            ("canceled", IntentStatus::Canceled),
        ] {
            let mapped = state(&wire(word, None)).unwrap();
            assert_eq!(mapped.status, status);
            assert_eq!(mapped.provider_ref, "pi_1");
            assert_eq!(
                mapped.amount,
                Money::new(1200, Currency::parse("EUR").unwrap())
            );
        }
        let failed = state(&wire(
            "requires_payment_method",
            Some(WireError {
                code: Some("card_declined".into()),
                decline_code: Some("insufficient_funds".into()),
                message: Some("Your card has insufficient funds.".into()),
            }),
        ))
        .unwrap();
        assert_eq!(
            failed.status,
            IntentStatus::Failed {
                code: "insufficient_funds".into(),
                message: "Your card has insufficient funds.".into()
            }
        );
        let error = state(&wire("requires_capture", None)).unwrap_err();
        assert_eq!(error.code(), Some("payment_intent_unexpected_state"));
    }

    #[test]
    fn reads_an_intent_leniently() {
        let intent: WireIntent = miniserde::json::from_str(
            r#"{"id":"pi_2","object":"payment_intent","amount":500,"currency":"usd",
                "status":"succeeded","next_action":null,"charges":{"data":[]}}"#,
        )
        .unwrap();
        assert_eq!(intent.id, "pi_2");
        assert!(intent.metadata.is_none());
        assert!(intent.last_payment_error.is_none());
    }

    #[test]
    fn debug_shows_no_secret() {
        let provider =
            StripeProvider::new("sk_test_hush".into(), Some("http://127.0.0.1:9/".into())).unwrap();
        let shown = format!("{provider:?}");
        assert!(!shown.contains("sk_test_hush"), "{shown}");
        assert!(shown.contains("http://127.0.0.1:9/"));
        assert!(StripeProvider::new("sk_test\nbad".into(), None).is_err());
    }
}

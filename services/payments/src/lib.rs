//! Payments: the [`PaymentProvider`] seam orders takes payments through, the built-in
//! deterministic [`TestProvider`] (the embedded default), Stripe ([`StripeProvider`],
//! through async-stripe), webhook signatures
//! ([`signature`], Stripe's scheme, for every provider) and provider events ([`event`],
//! Stripe's JSON shape).
//!
//! Each provider reports the fee of a captured payment and lists the shop's balance
//! transactions ([`PaymentProvider::charge_balance`], [`PaymentProvider::balance_transactions`]):
//! the test provider from its own book (a fee of [`TestFee`], 1.5 % + 25 by default), Stripe
//! from its balance transactions.
//!
//! It owns the test provider's intents, refunds and balance transactions, in tables of the host service's
//! database (payments is linked into orders): run [`migrate`] there, next to the host's own
//! migrations, which must include `mercato_jobs::JOBS_MIGRATION`. It publishes no bus events:
//! a provider tells the host what happened through signed webhooks, which the test provider
//! delivers from durable jobs ([`test_provider::webhook_worker`]) to a [`WebhookSink`]. It
//! consumes nothing.

pub mod event;
pub mod provider;
pub mod repo;
pub mod signature;
pub mod stripe;
pub mod test_provider;

pub use self::stripe::StripeProvider;
pub use event::{EventError, EventKind, Failure, ProviderEvent};
pub use provider::{
    BalancePage, BalanceTransaction, IntentRequest, IntentState, IntentStatus, PaymentMethod,
    PaymentProvider, ProviderError, RefundState,
};
pub use repo::migrate;
pub use signature::SignatureError;
pub use test_provider::{TestFee, TestProvider, WebhookSink, webhook_worker};

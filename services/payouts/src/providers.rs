//! Where a payout's money goes, by the vendor's payout method:
//!
//! - `stripe_connect`: a transfer to the vendor's connected account, through Stripe when the
//!   platform has a Stripe key (the same account that takes the payments), else through the
//!   built-in test provider when it is on (demo and tests only), which pays at once and
//!   records the transfer under the payout's idempotency key so a retried call pays once.
//!   With neither, such a payout fails and its money returns to the balance.
//! - `bank_transfer`: the merchant sends the money by hand; the payout waits `in_transit`
//!   until merchant staff mark it paid (or failed).

use crate::repo;
use mercato_db::Db;
use mercato_kernel::Money;
use mercato_tenant_context::TenantId;
use std::sync::Arc;

/// What sending a payout came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    /// The provider paid it; its reference.
    Paid(String),
    /// On its way: the merchant (or the provider, later) says when it arrived.
    InTransit(Option<String>),
    /// Refused for good: why.
    Refused(String),
}

/// Who carries out Stripe Connect transfers: Stripe (the composition root adapts
/// `mercato_payments::StripeProvider::transfer`), or the built-in test provider.
#[async_trait::async_trait]
pub trait Connect: Send + Sync + 'static {
    /// Transfers `t` to its destination once per idempotency key: [`Sent::Paid`] with the
    /// transfer's id, or [`Sent::Refused`] for good. `Err` is worth retrying with the same
    /// key (the provider could not be reached or failed on its side).
    async fn transfer(&self, t: &Transfer<'_>) -> Result<Sent, String>;

    /// Checks that a webhook `body` came from the provider, by its `signature` header
    /// (`Stripe-Signature`): the provider's transfer events (a reversal, ADR 0044) arrive
    /// this way. A provider that sends none has no webhook endpoint.
    fn verify_webhook(&self, signature: &str, body: &[u8]) -> Result<(), WebhookRefused> {
        let _ = (signature, body);
        Err(WebhookRefused::NoEndpoint)
    }
}

/// Why a provider's webhook was not taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookRefused {
    /// The provider sends no webhooks here (none configured, or the test provider).
    NoEndpoint,
    /// The signature is missing, malformed, stale or made with another secret: why.
    BadSignature(String),
}

/// The payout providers this process may use.
#[derive(Clone, Default)]
pub struct Providers {
    /// Carries out `stripe_connect` payouts; none configured refuses them.
    pub connect: Option<Arc<dyn Connect>>,
}

/// The built-in test payout provider (demo and tests): pays at once, once per idempotency
/// key, keeping its book of transfers in the payouts database.
#[derive(Clone)]
pub struct TestPayouts {
    pub db: Db,
    /// How long it takes to answer after making a transfer.
    pub delay: std::time::Duration,
}

#[async_trait::async_trait]
impl Connect for TestPayouts {
    async fn transfer(&self, t: &Transfer<'_>) -> Result<Sent, String> {
        let made = repo::test_transfer(
            &self.db,
            t.tenant,
            &t.idempotency_key,
            t.destination.unwrap_or("acct_test"),
            t.amount.currency,
            t.amount.amount,
        )
        .await
        .map(Sent::Paid)
        .map_err(|e| e.to_string());
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        made
    }
}

/// One payout to send.
pub struct Transfer<'a> {
    pub tenant: TenantId,
    pub method: &'a str,
    pub destination: Option<&'a str>,
    pub amount: Money,
    /// The payout's id: a retried call with it pays nobody twice.
    pub idempotency_key: String,
    /// What groups the transfer with others at the provider: the payout run.
    pub group: Option<String>,
}

impl Providers {
    /// Sends `t` by its method. `Err` is a failure worth retrying (the provider could not
    /// be reached); a refusal is [`Sent::Refused`].
    pub async fn send(&self, t: &Transfer<'_>) -> Result<Sent, String> {
        match t.method {
            "bank_transfer" => Ok(Sent::InTransit(None)),
            "stripe_connect" => match &self.connect {
                Some(connect) => connect.transfer(t).await,
                None => Ok(Sent::Refused(
                    "Stripe Connect transfers are not configured on this platform".into(),
                )),
            },
            other => Ok(Sent::Refused(format!("unknown payout method {other:?}"))),
        }
    }
}

//! Where a payout's money goes, by the vendor's payout method:
//!
//! - `stripe_connect`: a transfer to the vendor's connected account. With the built-in test
//!   provider on (demo and tests only, never in production), the test provider stands in
//!   and pays at once, recording the transfer under the payout's idempotency key so a
//!   retried call pays once. A real Stripe Connect adapter is not built yet: without the
//!   test provider such a payout fails and its money returns to the balance.
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

/// Who carries out Stripe Connect transfers: the built-in test provider, or (later) Stripe.
#[async_trait::async_trait]
pub trait Connect: Send + Sync + 'static {
    /// Transfers `t` to its destination once per idempotency key; the transfer's id.
    /// `Err` is worth retrying (the provider could not be reached or answered oddly).
    async fn transfer(&self, t: &Transfer<'_>) -> Result<String, String>;
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
}

#[async_trait::async_trait]
impl Connect for TestPayouts {
    async fn transfer(&self, t: &Transfer<'_>) -> Result<String, String> {
        repo::test_transfer(
            &self.db,
            t.tenant,
            &t.idempotency_key,
            t.destination.unwrap_or("acct_test"),
            t.amount.currency,
            t.amount.amount,
        )
        .await
        .map_err(|e| e.to_string())
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
}

impl Providers {
    /// Sends `t` by its method. `Err` is a failure worth retrying (the provider could not
    /// be reached); a refusal is [`Sent::Refused`].
    pub async fn send(&self, t: &Transfer<'_>) -> Result<Sent, String> {
        match t.method {
            "bank_transfer" => Ok(Sent::InTransit(None)),
            "stripe_connect" => match &self.connect {
                Some(connect) => connect.transfer(t).await.map(Sent::Paid),
                None => Ok(Sent::Refused(
                    "Stripe Connect transfers are not configured on this platform".into(),
                )),
            },
            other => Ok(Sent::Refused(format!("unknown payout method {other:?}"))),
        }
    }
}

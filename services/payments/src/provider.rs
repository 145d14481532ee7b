//! The payment provider seam: what orders asks of whichever provider a shop uses (the
//! built-in test provider, Stripe), and what it gets back.
//!
//! An intent is created and confirmed in one call. Its outcome is final only when it is
//! `Succeeded`, `Failed` or `Canceled`; `Processing` and `RequiresAction` settle later and the
//! provider says so in a signed webhook (see [`crate::event`]). A declined card is an outcome,
//! not an error: `Ok` with [`IntentStatus::Failed`]. [`ProviderError`] is for requests the
//! provider did not carry out.

use mercato_kernel::Money;
use mercato_tenant_context::TenantId;
use serde::{Deserialize, Serialize};
use std::fmt;

/// How the shopper pays.
#[derive(Clone, PartialEq, Eq)]
pub enum PaymentMethod {
    /// A card number, as typed (only the built-in test provider takes raw numbers).
    Card { number: String },
    /// A provider's payment method id, such as `pm_…` from Stripe Elements.
    Token(String),
}

/// Never prints a card number: only its last four digits.
impl fmt::Debug for PaymentMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Card { number } => {
                let digits: Vec<char> = number.chars().filter(char::is_ascii_digit).collect();
                let last4: String = digits[digits.len().saturating_sub(4)..].iter().collect();
                write!(f, "Card {{ number: \"…{last4}\" }}")
            }
            Self::Token(token) => f.debug_tuple("Token").field(token).finish(),
        }
    }
}

/// A payment to take now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntentRequest {
    pub tenant: TenantId,
    /// The order this pays for (`ord_…`); sent to the provider as metadata.
    pub order_ref: String,
    pub amount: Money,
    pub method: PaymentMethod,
    /// The same key gives back the same intent: a retry never charges twice.
    pub idempotency_key: String,
    /// Groups the later vendor transfers with this charge (Stripe Connect).
    pub transfer_group: String,
    pub description: String,
}

/// Where an intent stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum IntentStatus {
    Succeeded,
    /// The provider is still working on it; a webhook will say how it ended.
    Processing,
    /// The shopper must authenticate (3-D Secure); a webhook will say how it ended.
    RequiresAction,
    /// The attempt failed: `code` is the most specific reason (`card_declined`,
    /// `insufficient_funds`), `message` is fit to show the shopper.
    Failed {
        code: String,
        message: String,
    },
    Canceled,
}

impl IntentStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Succeeded => "succeeded",
            Self::Processing => "processing",
            Self::RequiresAction => "requires_action",
            Self::Failed { .. } => "failed",
            Self::Canceled => "canceled",
        }
    }

    /// Will this intent still change without anyone asking?
    pub fn is_pending(&self) -> bool {
        matches!(self, Self::Processing | Self::RequiresAction)
    }
}

/// A payment intent as the provider has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntentState {
    /// The provider's id (`pi_…`).
    pub provider_ref: String,
    #[serde(flatten)]
    pub status: IntentStatus,
    pub amount: Money,
}

/// A refund as the provider has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundState {
    /// The provider's id (`re_…`).
    pub provider_ref: String,
    pub amount: Money,
    pub succeeded: bool,
}

/// One movement of the shop's money at the provider, as its balance shows it (Stripe's
/// balance transaction): a captured payment (`charge`: `amount` the gross, `fee` what the
/// provider took), a `refund` (negative), a `transfer` to a connected account (negative), or
/// an `adjustment` (anything else). `net` is `amount − fee`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BalanceTransaction {
    /// The provider's id (`txn_…`).
    pub id: String,
    pub kind: String,
    /// What it is about at the provider: the intent or charge, the refund, the transfer.
    pub source: String,
    /// What Mercato knows it by: the order (`ord_…`) of a charge, the refund (`rfd_…`) of a
    /// refund, the payout (`po_…`) of a transfer; empty when it names none.
    pub reference: String,
    pub amount: i64,
    pub fee: i64,
    pub net: i64,
    pub currency: mercato_kernel::Currency,
    pub created: chrono::DateTime<chrono::Utc>,
}

/// A page of the shop's balance transactions, oldest first, and where the next page starts
/// (`None`: where this one started; nothing new).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BalancePage {
    pub items: Vec<BalanceTransaction>,
    pub cursor: Option<String>,
}

/// A request the provider did not carry out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// It could not be reached or failed on its side: the same request (same idempotency
    /// key) may be tried again.
    #[error("provider unavailable: {0}")]
    Unavailable(String),
    /// It refused the request as it stands; trying again will not help. `code` is the
    /// provider's (Stripe's) error code, `param` the offending parameter when it names one.
    #[error("provider refused: {code}: {message}")]
    Refused {
        code: String,
        message: String,
        param: Option<String>,
    },
}

impl ProviderError {
    pub fn refused(code: &str, message: impl Into<String>, param: Option<&str>) -> Self {
        Self::Refused {
            code: code.to_owned(),
            message: message.into(),
            param: param.map(str::to_owned),
        }
    }

    /// The refusal code; `None` when the provider was unavailable.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Refused { code, .. } => Some(code),
            Self::Unavailable(_) => None,
        }
    }
}

/// A payment provider. Every call is scoped to the shop it is made for: one shop's intents
/// are not another's to cancel or refund.
#[async_trait::async_trait]
pub trait PaymentProvider: Send + Sync {
    /// `"test"`, `"stripe"`.
    fn name(&self) -> &'static str;

    /// Creates the intent and confirms it with the payment method. Idempotent by
    /// `request.idempotency_key`: the same key gives the same intent (as it stands now) and
    /// never a second charge; reusing a key with other parameters is refused.
    async fn create_and_confirm(
        &self,
        request: &IntentRequest,
    ) -> Result<IntentState, ProviderError>;

    /// Cancels an intent that has not succeeded; a succeeded one is refused with
    /// `payment_intent_unexpected_state` (refund it instead).
    async fn cancel(
        &self,
        tenant: TenantId,
        provider_ref: &str,
    ) -> Result<IntentState, ProviderError>;

    /// Refunds `amount` of a succeeded intent. Idempotent by `idempotency_key`. More than
    /// the amount left to refund is refused with `amount_too_large`.
    async fn refund(
        &self,
        tenant: TenantId,
        provider_ref: &str,
        amount: Money,
        idempotency_key: &str,
    ) -> Result<RefundState, ProviderError>;

    /// The balance transaction of a succeeded intent's captured payment, whose `fee` is
    /// what the provider took; `None` while the provider has not made it yet.
    async fn charge_balance(
        &self,
        tenant: TenantId,
        provider_ref: &str,
    ) -> Result<Option<BalanceTransaction>, ProviderError>;

    /// The shop's balance transactions made after the one `cursor` points at (from a page
    /// this returned before; `None`: the first ones), oldest first.
    async fn balance_transactions(
        &self,
        tenant: TenantId,
        cursor: Option<&str>,
    ) -> Result<BalancePage, ProviderError>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use mercato_kernel::Currency;

    #[test]
    fn debug_hides_the_card_number() {
        let method = PaymentMethod::Card {
            number: "4242 4242 4242 4242".into(),
        };
        let shown = format!("{method:?}");
        assert_eq!(shown, "Card { number: \"…4242\" }");
        assert!(
            !format!(
                "{:?}",
                PaymentMethod::Card {
                    number: "12".into()
                }
            )
            .contains("4242")
        );
    }

    #[test]
    fn intent_state_json_is_flat() {
        let state = IntentState {
            provider_ref: "pi_1".into(),
            status: IntentStatus::Failed {
                code: "card_declined".into(),
                message: "Your card was declined.".into(),
            },
            amount: Money::new(1000, Currency::parse("EUR").unwrap()),
        };
        let json = serde_json::to_value(&state).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "provider_ref": "pi_1",
                "status": "failed",
                "code": "card_declined",
                "message": "Your card was declined.",
                "amount": { "amount": 1000, "currency": "EUR" }
            })
        );
        assert_eq!(serde_json::from_value::<IntentState>(json).unwrap(), state);
        let succeeded = IntentState {
            status: IntentStatus::Succeeded,
            ..state
        };
        assert_eq!(
            serde_json::to_value(&succeeded).unwrap()["status"],
            "succeeded"
        );
    }

    #[test]
    fn refusals_read_well() {
        let error = ProviderError::refused("amount_too_large", "too much", Some("amount"));
        assert_eq!(
            error.to_string(),
            "provider refused: amount_too_large: too much"
        );
        assert_eq!(error.code(), Some("amount_too_large"));
        assert_eq!(ProviderError::Unavailable("down".into()).code(), None);
    }
}

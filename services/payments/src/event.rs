//! Provider events in Stripe's JSON shape: what a verified webhook body says happened to a
//! payment intent. Both the test provider (which builds them with [`intent_event_json`]) and
//! Stripe send this shape, so the receiving side has one parser.
//!
//! Only payment intents are understood. An event about another kind of object (a charge, a
//! refund, a payout) parses as [`EventKind::Other`] with an empty `intent_ref` and an
//! `amount` of 0, and its `currency` is the object's own when it names a known one (EUR
//! otherwise): look at nothing but `kind` for those. Receivers acknowledge such events and
//! ignore them, so the provider does not retry them.

use mercato_kernel::money::UnknownCurrency;
use mercato_kernel::{Currency, Money};
use serde::Deserialize;
use std::collections::BTreeMap;

/// The `type` of an event, for the payment-intent events Mercato acts on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// `payment_intent.succeeded`
    IntentSucceeded,
    /// `payment_intent.payment_failed`
    IntentFailed,
    /// `payment_intent.canceled`
    IntentCanceled,
    /// `payment_intent.processing`
    IntentProcessing,
    /// `payment_intent.requires_action`
    IntentRequiresAction,
    /// Any other type, as sent.
    Other(String),
}

const TYPES: [(&str, EventKind); 5] = [
    ("payment_intent.succeeded", EventKind::IntentSucceeded),
    ("payment_intent.payment_failed", EventKind::IntentFailed),
    ("payment_intent.canceled", EventKind::IntentCanceled),
    ("payment_intent.processing", EventKind::IntentProcessing),
    (
        "payment_intent.requires_action",
        EventKind::IntentRequiresAction,
    ),
];

impl EventKind {
    /// The kind an event `type` names.
    pub fn from_type(kind: &str) -> Self {
        TYPES
            .iter()
            .find(|(name, _)| *name == kind)
            .map_or_else(|| Self::Other(kind.to_owned()), |(_, k)| k.clone())
    }

    /// The event `type` on the wire.
    pub fn as_type(&self) -> &str {
        match self {
            Self::Other(kind) => kind,
            known => TYPES
                .iter()
                .find(|(_, k)| k == known)
                .map_or("", |(name, _)| name),
        }
    }
}

/// Why a payment attempt failed, as the provider put it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The most specific reason: the decline code when there is a telling one
    /// (`insufficient_funds`), else the error code (`card_declined`); see [`failure_code`].
    pub code: String,
    pub message: String,
}

/// One event about a payment intent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderEvent {
    /// The provider's event id (`evt_…`): receivers deduplicate by it.
    pub id: String,
    pub kind: EventKind,
    /// When the provider created the event (unix seconds).
    pub created: i64,
    /// The payment intent's id (`pi_…`); empty when the event is not about one.
    pub intent_ref: String,
    /// The intent's amount in minor units.
    pub amount: i64,
    pub currency: Currency,
    pub metadata: BTreeMap<String, String>,
    /// The intent's `last_payment_error`, when it has one.
    pub failure: Option<Failure>,
}

impl ProviderEvent {
    pub fn money(&self) -> Money {
        Money::new(self.amount, self.currency)
    }
}

/// Why a webhook body is not an event this parser can read.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("the event is not JSON of the expected shape: {0}")]
    Malformed(#[source] serde_json::Error),
    #[error("the body is a {0:?} object, not an event")]
    NotAnEvent(String),
    #[error("the event's payment intent has an unknown currency: {0}")]
    Currency(#[from] UnknownCurrency),
}

#[derive(Deserialize)]
struct WireEvent {
    id: String,
    #[serde(default)]
    object: Option<String>,
    #[serde(rename = "type")]
    kind: String,
    created: i64,
    data: WireData,
}

#[derive(Deserialize)]
struct WireData {
    object: serde_json::Value,
}

#[derive(Deserialize)]
struct WireIntent {
    id: String,
    amount: i64,
    currency: String,
    #[serde(default)]
    metadata: BTreeMap<String, String>,
    #[serde(default)]
    last_payment_error: Option<WireError>,
}

#[derive(Deserialize)]
struct WireError {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    decline_code: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

/// The most specific failure reason of a Stripe error: its `decline_code` unless that is
/// missing or only `generic_decline`, else its `code`, else `payment_failed`. So a plain
/// decline reads `card_declined` and a decline for want of money `insufficient_funds`.
pub fn failure_code(code: Option<&str>, decline_code: Option<&str>) -> String {
    decline_code
        .filter(|d| !d.is_empty() && *d != "generic_decline")
        .or(code.filter(|c| !c.is_empty()))
        .unwrap_or("payment_failed")
        .to_owned()
}

fn currency(code: &str) -> Result<Currency, UnknownCurrency> {
    Currency::parse(&code.to_ascii_uppercase())
}

/// Parses a webhook body (verify its signature first).
pub fn parse(body: &[u8]) -> Result<ProviderEvent, EventError> {
    let event: WireEvent = serde_json::from_slice(body).map_err(EventError::Malformed)?;
    if let Some(object) = event.object.filter(|o| o != "event") {
        return Err(EventError::NotAnEvent(object));
    }
    let object = event.data.object;
    if object.get("object").and_then(|o| o.as_str()) != Some("payment_intent") {
        let currency = match object
            .get("currency")
            .and_then(|c| c.as_str())
            .and_then(|c| currency(c).ok())
        {
            Some(known) => known,
            None => Currency::parse("EUR")?,
        };
        return Ok(ProviderEvent {
            id: event.id,
            kind: EventKind::Other(event.kind),
            created: event.created,
            intent_ref: String::new(),
            amount: 0,
            currency,
            metadata: BTreeMap::new(),
            failure: None,
        });
    }
    let intent: WireIntent = serde_json::from_value(object).map_err(EventError::Malformed)?;
    Ok(ProviderEvent {
        id: event.id,
        kind: EventKind::from_type(&event.kind),
        created: event.created,
        intent_ref: intent.id,
        amount: intent.amount,
        currency: currency(&intent.currency)?,
        metadata: intent.metadata,
        failure: intent.last_payment_error.map(|e| Failure {
            code: failure_code(e.code.as_deref(), e.decline_code.as_deref()),
            message: e.message.unwrap_or_default(),
        }),
    })
}

/// A payment intent as an event carries it, for [`intent_event_json`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntentObject {
    /// `pi_…`
    pub id: String,
    pub amount: Money,
    /// Stripe's status word: `succeeded`, `processing`, `requires_action`,
    /// `requires_payment_method` (after a failed attempt), `canceled`.
    pub status: String,
    pub metadata: BTreeMap<String, String>,
    pub last_payment_error: Option<PaymentError>,
}

/// An intent's `last_payment_error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentError {
    pub code: String,
    pub decline_code: Option<String>,
    pub message: String,
}

/// The JSON text of event `id` of `kind` about `intent`, in Stripe's shape (currency in
/// lowercase, as Stripe sends it). [`parse`] reads it back.
pub fn intent_event_json(
    id: &str,
    kind: &EventKind,
    created: i64,
    intent: &IntentObject,
) -> String {
    let error = intent.last_payment_error.as_ref().map(|e| {
        serde_json::json!({
            "type": "card_error",
            "code": e.code,
            "decline_code": e.decline_code,
            "message": e.message,
        })
    });
    serde_json::json!({
        "id": id,
        "object": "event",
        "api_version": "2024-06-20",
        "created": created,
        "livemode": false,
        "type": kind.as_type(),
        "data": {
            "object": {
                "id": intent.id,
                "object": "payment_intent",
                "amount": intent.amount.amount,
                "currency": intent.amount.currency.code().to_ascii_lowercase(),
                "status": intent.status,
                "metadata": intent.metadata,
                "last_payment_error": error,
                "livemode": false,
            }
        }
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eur(amount: i64) -> Money {
        Money::new(amount, Currency::parse("EUR").unwrap())
    }

    /// A `payment_intent.payment_failed` event as Stripe sends it, trimmed of nothing that
    /// matters: extra fields must be ignored.
    const STRIPE_FAILED: &str = r#"{
      "id": "evt_3PkQz2LkdIwHu7ix0gGvD3nK",
      "object": "event",
      "api_version": "2024-06-20",
      "created": 1722865536,
      "data": {
        "object": {
          "id": "pi_3PkQz2LkdIwHu7ix0zuJq9Sb",
          "object": "payment_intent",
          "amount": 2000,
          "amount_capturable": 0,
          "amount_received": 0,
          "capture_method": "automatic_async",
          "currency": "usd",
          "customer": null,
          "description": null,
          "last_payment_error": {
            "charge": "ch_3PkQz2LkdIwHu7ix0xC1vCVk",
            "code": "card_declined",
            "decline_code": "insufficient_funds",
            "doc_url": "https://stripe.com/docs/error-codes/card-declined",
            "message": "Your card has insufficient funds.",
            "payment_method": { "id": "pm_1PkQz2LkdIwHu7ixD8WxEzZu", "object": "payment_method" },
            "type": "card_error"
          },
          "livemode": false,
          "metadata": { "order_ref": "ord_1", "tenant_id": "shop_1" },
          "payment_method_types": ["card"],
          "status": "requires_payment_method",
          "transfer_group": "ord_1"
        }
      },
      "livemode": false,
      "pending_webhooks": 1,
      "request": { "id": "req_abc", "idempotency_key": "key-1" },
      "type": "payment_intent.payment_failed"
    }"#;

    #[test]
    fn parses_a_stripe_failure_event() {
        let event = parse(STRIPE_FAILED.as_bytes()).unwrap();
        assert_eq!(event.id, "evt_3PkQz2LkdIwHu7ix0gGvD3nK");
        assert_eq!(event.kind, EventKind::IntentFailed);
        assert_eq!(event.created, 1_722_865_536);
        assert_eq!(event.intent_ref, "pi_3PkQz2LkdIwHu7ix0zuJq9Sb");
        assert_eq!(
            event.money(),
            Money::new(2000, Currency::parse("USD").unwrap())
        );
        assert_eq!(event.metadata["order_ref"], "ord_1");
        assert_eq!(event.metadata["tenant_id"], "shop_1");
        assert_eq!(
            event.failure,
            Some(Failure {
                code: "insufficient_funds".into(),
                message: "Your card has insufficient funds.".into()
            })
        );
    }

    #[test]
    fn round_trips_what_the_builder_makes() {
        let intent = IntentObject {
            id: "pi_test_1".into(),
            amount: eur(1234),
            status: "requires_payment_method".into(),
            metadata: BTreeMap::from([("order_ref".to_owned(), "ord_9".to_owned())]),
            last_payment_error: Some(PaymentError {
                code: "card_declined".into(),
                decline_code: Some("generic_decline".into()),
                message: "Your card was declined.".into(),
            }),
        };
        let body = intent_event_json(
            "evt_test_1",
            &EventKind::IntentFailed,
            1_700_000_000,
            &intent,
        );
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(json["type"], "payment_intent.payment_failed");
        assert_eq!(json["data"]["object"]["currency"], "eur");
        let event = parse(body.as_bytes()).unwrap();
        assert_eq!(
            event,
            ProviderEvent {
                id: "evt_test_1".into(),
                kind: EventKind::IntentFailed,
                created: 1_700_000_000,
                intent_ref: "pi_test_1".into(),
                amount: 1234,
                currency: Currency::parse("EUR").unwrap(),
                metadata: intent.metadata.clone(),
                failure: Some(Failure {
                    code: "card_declined".into(),
                    message: "Your card was declined.".into()
                }),
            }
        );
    }

    #[test]
    fn success_events_have_no_failure() {
        let intent = IntentObject {
            id: "pi_test_2".into(),
            amount: eur(500),
            status: "succeeded".into(),
            metadata: BTreeMap::new(),
            last_payment_error: None,
        };
        let body = intent_event_json("evt_test_2", &EventKind::IntentSucceeded, 1, &intent);
        let event = parse(body.as_bytes()).unwrap();
        assert_eq!(event.kind, EventKind::IntentSucceeded);
        assert_eq!(event.failure, None);
        assert!(event.metadata.is_empty());
    }

    #[test]
    fn knows_every_intent_type_both_ways() {
        for kind in [
            EventKind::IntentSucceeded,
            EventKind::IntentFailed,
            EventKind::IntentCanceled,
            EventKind::IntentProcessing,
            EventKind::IntentRequiresAction,
            EventKind::Other("payment_intent.amount_capturable_updated".into()),
        ] {
            assert_eq!(EventKind::from_type(kind.as_type()), kind);
        }
        assert_eq!(
            EventKind::IntentCanceled.as_type(),
            "payment_intent.canceled"
        );
    }

    #[test]
    fn unknown_intent_types_still_carry_the_intent() {
        let body = STRIPE_FAILED.replace(
            "payment_intent.payment_failed",
            "payment_intent.partially_funded",
        );
        let event = parse(body.as_bytes()).unwrap();
        assert_eq!(
            event.kind,
            EventKind::Other("payment_intent.partially_funded".into())
        );
        assert_eq!(event.intent_ref, "pi_3PkQz2LkdIwHu7ix0zuJq9Sb");
        assert_eq!(event.amount, 2000);
    }

    #[test]
    fn events_about_other_objects_are_other() {
        let body = r#"{"id":"evt_1","object":"event","type":"charge.refunded","created":5,
            "data":{"object":{"id":"ch_1","object":"charge","amount":700,"currency":"gbp"}}}"#;
        let event = parse(body.as_bytes()).unwrap();
        assert_eq!(event.kind, EventKind::Other("charge.refunded".into()));
        assert_eq!(event.intent_ref, "");
        assert_eq!(event.amount, 0);
        assert_eq!(event.currency, Currency::parse("GBP").unwrap());
        // A payment_intent.* type about something else is still not an intent event.
        let body = body.replace("charge.refunded", "payment_intent.succeeded");
        let event = parse(body.as_bytes()).unwrap();
        assert_eq!(
            event.kind,
            EventKind::Other("payment_intent.succeeded".into())
        );
        assert_eq!(event.intent_ref, "");
    }

    #[test]
    fn rejects_what_is_not_an_event() {
        assert!(matches!(parse(b"not json"), Err(EventError::Malformed(_))));
        assert!(matches!(parse(b"{}"), Err(EventError::Malformed(_))));
        assert!(matches!(
            parse(br#"{"id":"pi_1","object":"payment_intent","type":"x","created":1,"data":{"object":{}}}"#),
            Err(EventError::NotAnEvent(o)) if o == "payment_intent"
        ));
        let no_amount = STRIPE_FAILED.replace("\"amount\": 2000,", "");
        assert!(matches!(
            parse(no_amount.as_bytes()),
            Err(EventError::Malformed(_))
        ));
        let odd_currency = STRIPE_FAILED.replace("\"usd\"", "\"xts\"");
        assert!(matches!(
            parse(odd_currency.as_bytes()),
            Err(EventError::Currency(_))
        ));
    }

    #[test]
    fn failure_code_prefers_a_telling_decline_code() {
        assert_eq!(
            failure_code(Some("card_declined"), Some("insufficient_funds")),
            "insufficient_funds"
        );
        assert_eq!(
            failure_code(Some("card_declined"), Some("generic_decline")),
            "card_declined"
        );
        assert_eq!(failure_code(Some("expired_card"), None), "expired_card");
        assert_eq!(failure_code(None, None), "payment_failed");
    }
}

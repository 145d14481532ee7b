//! The Stripe adapter against a local server speaking Stripe's wire format: the requests it
//! sends (form-encoded bracketed parameters, the secret key, the idempotency key) and how it
//! reads Stripe's objects and error objects, including what localstripe cannot show (a
//! decline carrying its intent, `processing`, refusals with a parameter, outages).

use crate::recorder::{Recorder, Seen};
use crate::support::eur;
use mercato_kernel::{Currency, Money};
use mercato_payments::stripe::StripeProvider;
use mercato_payments::{
    IntentRequest, IntentStatus, PaymentMethod, PaymentProvider, ProviderError,
};
use mercato_tenant_context::TenantId;
use serde_json::{Value, json};

const KEY: &str = "sk_test_mercato_wire";

fn provider(server: &Recorder) -> StripeProvider {
    StripeProvider::new(KEY.to_owned(), Some(server.url())).unwrap()
}

fn paying(tenant: TenantId, token: &str, amount: i64) -> IntentRequest {
    let order = format!("ord_{}", uuid::Uuid::now_v7().simple());
    IntentRequest {
        tenant,
        order_ref: order.clone(),
        amount: eur(amount),
        method: PaymentMethod::Token(token.to_owned()),
        idempotency_key: format!("pay_{order}"),
        transfer_group: order.clone(),
        description: format!("order {order}"),
    }
}

/// A PaymentIntent as Stripe's API returns it (every field its object has, most of them
/// empty), in `status`, belonging to `tenant`.
fn intent(id: &str, amount: i64, status: &str, tenant: TenantId) -> Value {
    json!({
        "id": id,
        "object": "payment_intent",
        "amount": amount,
        "amount_capturable": 0,
        "amount_details": { "tip": {} },
        "amount_received": if status == "succeeded" { amount } else { 0 },
        "application": null,
        "application_fee_amount": null,
        "automatic_payment_methods": null,
        "canceled_at": null,
        "cancellation_reason": null,
        "capture_method": "automatic_async",
        "client_secret": format!("{id}_secret_abc"),
        "confirmation_method": "automatic",
        "created": 1_764_000_000,
        "currency": "eur",
        "customer": null,
        "description": "order ord_1",
        "last_payment_error": null,
        "latest_charge": if status == "succeeded" { json!("ch_3Q1") } else { Value::Null },
        "livemode": false,
        "metadata": { "tenant_id": tenant.to_string(), "order_ref": "ord_1" },
        "next_action": null,
        "on_behalf_of": null,
        "payment_method": "pm_1Q0PsIJvEtkwdCNYMSaVuRz6",
        "payment_method_configuration_details": null,
        "payment_method_options": null,
        "payment_method_types": ["card"],
        "processing": null,
        "receipt_email": null,
        "review": null,
        "setup_future_usage": null,
        "shipping": null,
        "source": null,
        "statement_descriptor": null,
        "statement_descriptor_suffix": null,
        "status": status,
        "transfer_data": null,
        "transfer_group": "ord_1"
    })
}

fn refund(id: &str, intent: &str, amount: i64) -> Value {
    json!({
        "id": id,
        "object": "refund",
        "amount": amount,
        "balance_transaction": "txn_1",
        "charge": "ch_3Q1",
        "created": 1_764_000_100,
        "currency": "eur",
        "metadata": {},
        "payment_intent": intent,
        "reason": null,
        "receipt_number": null,
        "source_transfer_reversal": null,
        "status": "succeeded",
        "transfer_reversal": null
    })
}

fn api_error(kind: &str, code: &str, message: &str, param: Option<&str>) -> Value {
    json!({ "error": {
        "type": kind,
        "code": code,
        "doc_url": format!("https://stripe.com/docs/error-codes/{code}"),
        "message": message,
        "param": param,
        "request_log_url": "https://dashboard.stripe.com/test/logs/req_1"
    }})
}

fn refused(code: &str, param: Option<&str>) -> impl Fn(&ProviderError) -> bool {
    move |e| matches!(e, ProviderError::Refused { code: c, param: p, .. } if c == code && p.as_deref() == param)
}

fn assert_authorised(seen: &Seen) {
    assert_eq!(
        seen.header("authorization").as_deref(),
        Some(&*format!("Bearer {KEY}"))
    );
    assert!(seen.header("stripe-version").is_some_and(|v| !v.is_empty()));
}

#[tokio::test]
async fn a_confirmed_payment_is_sent_as_stripe_takes_it() {
    let server = Recorder::start().await;
    let shop = TenantId::new();
    let request = paying(shop, "pm_card_visa", 1234);
    server.reply(200, intent("pi_3Q1", 1234, "succeeded", shop));

    let state = provider(&server)
        .create_and_confirm(&request)
        .await
        .unwrap();
    assert_eq!(state.provider_ref, "pi_3Q1");
    assert_eq!(state.status, IntentStatus::Succeeded);
    assert_eq!(state.amount, eur(1234));

    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    let sent = &seen[0];
    assert_eq!(sent.method, "POST");
    assert_eq!(sent.path, "/v1/payment_intents");
    assert_authorised(sent);
    assert_eq!(
        sent.header("content-type").as_deref(),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(
        sent.header("idempotency-key"),
        Some(request.idempotency_key.clone())
    );
    assert_eq!(sent.field("amount").as_deref(), Some("1234"));
    assert_eq!(sent.field("currency").as_deref(), Some("eur"));
    assert_eq!(
        sent.field("payment_method").as_deref(),
        Some("pm_card_visa")
    );
    assert_eq!(sent.field("confirm").as_deref(), Some("true"));
    assert_eq!(
        sent.field("automatic_payment_methods[enabled]").as_deref(),
        Some("true")
    );
    assert_eq!(
        sent.field("automatic_payment_methods[allow_redirects]")
            .as_deref(),
        Some("never")
    );
    assert_eq!(
        sent.field("transfer_group"),
        Some(request.order_ref.clone())
    );
    assert_eq!(sent.field("description"), Some(request.description.clone()));
    assert_eq!(sent.field("metadata[tenant_id]"), Some(shop.to_string()));
    assert_eq!(
        sent.field("metadata[order_ref]"),
        Some(request.order_ref.clone())
    );
}

#[tokio::test]
async fn authentication_and_processing_are_pending_outcomes() {
    let server = Recorder::start().await;
    let shop = TenantId::new();
    let stripe = provider(&server);
    let mut action = intent("pi_3Q2", 500, "requires_action", shop);
    action["next_action"] = json!({ "type": "use_stripe_sdk", "use_stripe_sdk": {} });
    server.reply(200, action);
    server.reply(200, intent("pi_3Q3", 700, "processing", shop));

    let first = stripe
        .create_and_confirm(&paying(shop, "pm_card_authenticationRequired", 500))
        .await
        .unwrap();
    assert_eq!(first.status, IntentStatus::RequiresAction);
    assert_eq!(first.provider_ref, "pi_3Q2");
    let second = stripe
        .create_and_confirm(&paying(shop, "pm_sepa_debit", 700))
        .await
        .unwrap();
    assert_eq!(second.status, IntentStatus::Processing);
    assert!(second.status.is_pending());
}

#[tokio::test]
async fn a_decline_is_a_failed_intent_not_an_error() {
    let server = Recorder::start().await;
    let shop = TenantId::new();
    let mut failed = intent("pi_3Q4", 2000, "requires_payment_method", shop);
    failed["last_payment_error"] = json!({
        "type": "card_error",
        "code": "card_declined",
        "decline_code": "insufficient_funds",
        "charge": "ch_3Q4",
        "message": "Your card has insufficient funds."
    });
    server.reply(
        402,
        json!({ "error": {
            "type": "card_error",
            "code": "card_declined",
            "decline_code": "insufficient_funds",
            "charge": "ch_3Q4",
            "doc_url": "https://stripe.com/docs/error-codes/card-declined",
            "message": "Your card has insufficient funds.",
            "payment_intent": failed,
            "request_log_url": "https://dashboard.stripe.com/test/logs/req_2"
        }}),
    );

    let state = provider(&server)
        .create_and_confirm(&paying(
            shop,
            "pm_card_visa_chargeDeclinedInsufficientFunds",
            2000,
        ))
        .await
        .unwrap();
    assert_eq!(state.provider_ref, "pi_3Q4");
    assert_eq!(state.amount, eur(2000));
    assert_eq!(
        state.status,
        IntentStatus::Failed {
            code: "insufficient_funds".into(),
            message: "Your card has insufficient funds.".into()
        }
    );
    // The error named its intent: nothing else was asked.
    assert_eq!(server.seen().len(), 1);
}

#[tokio::test]
async fn an_invalid_request_is_refused_with_its_parameter() {
    let server = Recorder::start().await;
    server.reply(
        400,
        api_error(
            "invalid_request_error",
            "amount_too_small",
            "Amount must be at least €0.50 eur",
            Some("amount"),
        ),
    );
    let error = provider(&server)
        .create_and_confirm(&paying(TenantId::new(), "pm_card_visa", 10))
        .await
        .unwrap_err();
    assert!(
        refused("amount_too_small", Some("amount"))(&error),
        "{error:?}"
    );
    assert!(error.to_string().contains("at least"));
}

#[tokio::test]
async fn outages_are_unavailable_and_may_be_retried() {
    let server = Recorder::start().await;
    let stripe = provider(&server);
    let shop = TenantId::new();
    server.reply(
        500,
        json!({ "error": { "type": "api_error", "message": "An unknown error occurred" } }),
    );
    server.reply_text(502, "<html><body>Bad gateway</body></html>");
    server.reply(
        429,
        api_error(
            "invalid_request_error",
            "rate_limit",
            "Too many requests",
            None,
        ),
    );
    for _ in 0..3 {
        let error = stripe
            .create_and_confirm(&paying(shop, "pm_card_visa", 100))
            .await
            .unwrap_err();
        assert!(matches!(error, ProviderError::Unavailable(_)), "{error:?}");
    }
    // Each was tried once: retrying is the caller's, with the same key.
    assert_eq!(server.seen().len(), 3);

    // Nothing listening at all.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let gone = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let nobody = StripeProvider::new(KEY.to_owned(), Some(gone)).unwrap();
    let error = nobody
        .create_and_confirm(&paying(shop, "pm_card_visa", 100))
        .await
        .unwrap_err();
    assert!(matches!(error, ProviderError::Unavailable(_)), "{error:?}");
}

#[tokio::test]
async fn a_card_number_never_reaches_stripe() {
    let server = Recorder::start().await;
    let mut request = paying(TenantId::new(), "unused", 100);
    request.method = PaymentMethod::Card {
        number: "4242424242424242".into(),
    };
    let error = provider(&server)
        .create_and_confirm(&request)
        .await
        .unwrap_err();
    assert!(
        refused("invalid_payment_method", Some("payment_method"))(&error),
        "{error:?}"
    );
    assert!(server.seen().is_empty());
}

#[tokio::test]
async fn cancelling_checks_the_shop_then_cancels() {
    let server = Recorder::start().await;
    let stripe = provider(&server);
    let shop = TenantId::new();
    server.reply(200, intent("pi_3Q5", 900, "requires_action", shop));
    server.reply(200, intent("pi_3Q5", 900, "canceled", shop));

    let state = stripe.cancel(shop, "pi_3Q5").await.unwrap();
    assert_eq!(state.status, IntentStatus::Canceled);
    assert_eq!(state.provider_ref, "pi_3Q5");
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(
        (seen[0].method.as_str(), seen[0].path.as_str()),
        ("GET", "/v1/payment_intents/pi_3Q5")
    );
    // Nothing to expand or filter.
    assert_eq!(seen[0].query.as_deref().unwrap_or_default(), "");
    assert_eq!(
        (seen[1].method.as_str(), seen[1].path.as_str()),
        ("POST", "/v1/payment_intents/pi_3Q5/cancel")
    );
    assert_authorised(&seen[1]);

    // A succeeded intent: Stripe refuses, and so does the adapter.
    server.reply(200, intent("pi_3Q6", 900, "succeeded", shop));
    server.reply(
        400,
        api_error(
            "invalid_request_error",
            "payment_intent_unexpected_state",
            "You cannot cancel this PaymentIntent because it has a status of succeeded.",
            None,
        ),
    );
    let error = stripe.cancel(shop, "pi_3Q6").await.unwrap_err();
    assert!(
        refused("payment_intent_unexpected_state", None)(&error),
        "{error:?}"
    );
}

#[tokio::test]
async fn another_shops_intent_is_missing() {
    let server = Recorder::start().await;
    let stripe = provider(&server);
    let owner = TenantId::new();
    let other = TenantId::new();
    server.reply(200, intent("pi_3Q7", 900, "requires_action", owner));
    let error = stripe.cancel(other, "pi_3Q7").await.unwrap_err();
    assert!(
        refused("resource_missing", Some("intent"))(&error),
        "{error:?}"
    );
    server.reply(200, intent("pi_3Q7", 900, "succeeded", owner));
    let error = stripe
        .refund(other, "pi_3Q7", eur(100), "refund-1")
        .await
        .unwrap_err();
    assert!(
        refused("resource_missing", Some("intent"))(&error),
        "{error:?}"
    );
    // Only the look-ups: nothing was cancelled or refunded.
    assert!(server.seen().iter().all(|s| s.method == "GET"));

    server.reply(
        404,
        api_error(
            "invalid_request_error",
            "resource_missing",
            "No such payment_intent: 'pi_nope'",
            Some("intent"),
        ),
    );
    let error = stripe.cancel(owner, "pi_nope").await.unwrap_err();
    assert!(
        refused("resource_missing", Some("intent"))(&error),
        "{error:?}"
    );

    // What cannot be an id never goes into a URL.
    let asked = server.seen().len();
    let error = stripe
        .cancel(owner, "pi_1/../../refunds")
        .await
        .unwrap_err();
    assert!(
        refused("resource_missing", Some("intent"))(&error),
        "{error:?}"
    );
    assert_eq!(server.seen().len(), asked);
}

#[tokio::test]
async fn a_refund_is_sent_with_its_amount_and_key() {
    let server = Recorder::start().await;
    let stripe = provider(&server);
    let shop = TenantId::new();
    server.reply(200, intent("pi_3Q8", 3000, "succeeded", shop));
    server.reply(200, refund("re_3Q8", "pi_3Q8", 1200));

    let state = stripe
        .refund(shop, "pi_3Q8", eur(1200), "refund-key-1")
        .await
        .unwrap();
    assert_eq!(state.provider_ref, "re_3Q8");
    assert_eq!(state.amount, eur(1200));
    assert!(state.succeeded);

    let seen = server.seen();
    let sent = &seen[1];
    assert_eq!(
        (sent.method.as_str(), sent.path.as_str()),
        ("POST", "/v1/refunds")
    );
    assert_authorised(sent);
    assert_eq!(
        sent.header("idempotency-key").as_deref(),
        Some("refund-key-1")
    );
    assert_eq!(sent.field("payment_intent").as_deref(), Some("pi_3Q8"));
    assert_eq!(sent.field("amount").as_deref(), Some("1200"));
    assert_eq!(sent.field("metadata[tenant_id]"), Some(shop.to_string()));

    // A pending refund (some methods settle later) is not yet a success.
    server.reply(200, intent("pi_3Q8", 3000, "succeeded", shop));
    let mut pending = refund("re_3Q9", "pi_3Q8", 100);
    pending["status"] = json!("pending");
    server.reply(200, pending);
    let state = stripe
        .refund(shop, "pi_3Q8", eur(100), "refund-key-2")
        .await
        .unwrap();
    assert!(!state.succeeded);
}

#[tokio::test]
async fn refunding_too_much_or_in_another_currency_is_refused() {
    let server = Recorder::start().await;
    let stripe = provider(&server);
    let shop = TenantId::new();
    server.reply(200, intent("pi_3QA", 2000, "succeeded", shop));
    server.reply(
        400,
        api_error(
            "invalid_request_error",
            "amount_too_large",
            "Refund amount (€30.00) is greater than unrefunded amount on charge (€20.00)",
            Some("amount"),
        ),
    );
    let error = stripe
        .refund(shop, "pi_3QA", eur(3000), "refund-key-3")
        .await
        .unwrap_err();
    assert!(
        refused("amount_too_large", Some("amount"))(&error),
        "{error:?}"
    );

    server.reply(200, intent("pi_3QA", 2000, "succeeded", shop));
    let usd = Money::new(100, Currency::parse("USD").unwrap());
    let error = stripe
        .refund(shop, "pi_3QA", usd, "refund-key-4")
        .await
        .unwrap_err();
    assert!(
        refused("currency_mismatch", Some("amount"))(&error),
        "{error:?}"
    );
    // The second refund was never sent.
    assert_eq!(server.seen().len(), 3);
}

/// A Transfer as Stripe's API returns it.
fn transfer(id: &str, amount: i64, destination: &str, group: &str) -> Value {
    json!({
        "id": id, "object": "transfer", "amount": amount, "amount_reversed": 0,
        "balance_transaction": "txn_1", "created": 1_765_000_000, "currency": "eur",
        "description": null, "destination": destination, "destination_payment": "py_1",
        "livemode": false, "metadata": {}, "reversals": { "object": "list", "data": [],
        "has_more": false, "total_count": 0, "url": format!("/v1/transfers/{id}/reversals") },
        "reversed": false, "source_transaction": null, "source_type": "card",
        "transfer_group": group
    })
}

#[tokio::test]
async fn a_transfer_to_a_connected_account_is_sent_with_its_group_and_key() {
    let server = Recorder::start().await;
    let stripe = provider(&server);
    let shop = TenantId::new();
    server.reply(200, transfer("tr_1Q9", 2515, "acct_1Tea", "prun_1"));

    let made = stripe
        .transfer(shop, "acct_1Tea", eur(2515), Some("prun_1"), "po_1")
        .await
        .unwrap();
    assert_eq!(made.provider_ref, "tr_1Q9");
    assert_eq!(made.amount, eur(2515));

    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    let sent = &seen[0];
    assert_eq!(
        (sent.method.as_str(), sent.path.as_str()),
        ("POST", "/v1/transfers")
    );
    assert_authorised(sent);
    assert_eq!(sent.header("idempotency-key").as_deref(), Some("po_1"));
    assert_eq!(sent.field("amount").as_deref(), Some("2515"));
    assert_eq!(sent.field("currency").as_deref(), Some("eur"));
    assert_eq!(sent.field("destination").as_deref(), Some("acct_1Tea"));
    assert_eq!(sent.field("transfer_group").as_deref(), Some("prun_1"));
    assert_eq!(sent.field("metadata[tenant_id]"), Some(shop.to_string()));
    assert_eq!(sent.field("metadata[payout_id]").as_deref(), Some("po_1"));
}

#[tokio::test]
async fn a_transfer_stripe_refuses_is_final_and_an_outage_is_retried() {
    let server = Recorder::start().await;
    let stripe = provider(&server);
    let shop = TenantId::new();
    // Not a connected account id: refused without asking Stripe.
    let error = stripe
        .transfer(shop, "acct_../x", eur(100), None, "po_2")
        .await
        .unwrap_err();
    assert!(
        refused("resource_missing", Some("destination"))(&error),
        "{error:?}"
    );
    assert!(server.seen().is_empty());
    // A connected account Stripe does not know, and a platform balance too low: refusals.
    server.reply(
        400,
        api_error(
            "invalid_request_error",
            "resource_missing",
            "No such destination: 'acct_1Gone'",
            Some("destination"),
        ),
    );
    server.reply(
        400,
        api_error(
            "invalid_request_error",
            "balance_insufficient",
            "You have insufficient available funds in your Stripe account.",
            None,
        ),
    );
    let gone = stripe
        .transfer(shop, "acct_1Gone", eur(100), None, "po_3")
        .await
        .unwrap_err();
    assert!(
        refused("resource_missing", Some("destination"))(&gone),
        "{gone:?}"
    );
    let poor = stripe
        .transfer(shop, "acct_1Tea", eur(100), None, "po_4")
        .await
        .unwrap_err();
    assert!(refused("balance_insufficient", None)(&poor), "{poor:?}");
    // An outage, and an answer for another amount than asked: to be tried again.
    server.reply(
        500,
        json!({ "error": { "type": "api_error", "message": "An unknown error occurred" } }),
    );
    server.reply(200, transfer("tr_odd", 1, "acct_1Tea", "prun_1"));
    for key in ["po_5", "po_6"] {
        let error = stripe
            .transfer(shop, "acct_1Tea", eur(100), None, key)
            .await
            .unwrap_err();
        assert!(matches!(error, ProviderError::Unavailable(_)), "{error:?}");
    }
}

/// A balance transaction as Stripe lists it, its source expanded to an object carrying
/// `metadata`.
fn balance(id: &str, kind: &str, amount: i64, fee: i64, source: Value) -> Value {
    json!({
        "id": id,
        "object": "balance_transaction",
        "amount": amount,
        "available_on": 1_764_600_000,
        "created": 1_764_000_000,
        "currency": "eur",
        "description": null,
        "fee": fee,
        "fee_details": [],
        "net": amount - fee,
        "reporting_category": kind,
        "source": source,
        "status": "pending",
        "type": kind
    })
}

#[tokio::test]
async fn the_fee_of_a_payment_is_read_from_its_charge_balance_transaction() {
    let server = Recorder::start().await;
    let shop = TenantId::new();
    let mut paid = intent("pi_3Q1", 1234, "succeeded", shop);
    paid["latest_charge"] = json!({
        "id": "ch_3Q1",
        "object": "charge",
        "metadata": { "tenant_id": shop.to_string(), "order_ref": "ord_1" },
        "transfer_group": "ord_1",
        "balance_transaction": balance("txn_1", "charge", 1234, 61, json!("ch_3Q1"))
    });
    server.reply(200, paid);
    let mut waiting = intent("pi_3Q2", 900, "succeeded", shop);
    waiting["latest_charge"] = json!({ "id": "ch_3Q2", "balance_transaction": null });
    server.reply(200, waiting);
    server.reply(200, intent("pi_3Q3", 900, "succeeded", TenantId::new()));

    let stripe = provider(&server);
    let charge = stripe
        .charge_balance(shop, "pi_3Q1")
        .await
        .unwrap()
        .expect("a balance transaction");
    assert_eq!(
        (
            charge.id.as_str(),
            charge.kind.as_str(),
            charge.reference.as_str()
        ),
        ("txn_1", "charge", "ord_1")
    );
    assert_eq!((charge.amount, charge.fee, charge.net), (1234, 61, 1173));
    assert_eq!(charge.source, "ch_3Q1");
    // Not made yet: asked again later.
    assert_eq!(stripe.charge_balance(shop, "pi_3Q2").await.unwrap(), None);
    // Another shop's intent does not exist for this one.
    let error = stripe.charge_balance(shop, "pi_3Q3").await.unwrap_err();
    assert!(
        refused("resource_missing", Some("intent"))(&error),
        "{error:?}"
    );

    let seen = server.seen();
    assert_eq!(seen[0].method, "GET");
    assert_eq!(seen[0].path, "/v1/payment_intents/pi_3Q1");
    let query = seen[0].query.clone().unwrap_or_default();
    let decoded: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    assert!(
        decoded
            .iter()
            .any(|(k, v)| k.starts_with("expand[") && v == "latest_charge.balance_transaction"),
        "{query}"
    );
    assert_authorised(&seen[0]);
}

#[tokio::test]
async fn balance_transactions_are_paged_and_kept_to_the_shop() {
    let server = Recorder::start().await;
    let shop = TenantId::new();
    let ours = |extra: Value| {
        let mut source = json!({ "id": "x", "metadata": { "tenant_id": shop.to_string() } });
        for (k, v) in extra.as_object().unwrap() {
            if k == "metadata" {
                for (mk, mv) in v.as_object().unwrap() {
                    source["metadata"][mk] = mv.clone();
                }
            } else {
                source[k] = v.clone();
            }
        }
        source
    };
    let theirs =
        json!({ "id": "ch_other", "metadata": { "tenant_id": TenantId::new().to_string() } });
    // Newest first, two pages.
    server.reply(
        200,
        json!({ "object": "list", "url": "/v1/balance_transactions", "has_more": true, "data": [
            balance("txn_3", "charge", 5000, 100, theirs),
            balance("txn_2", "refund", -400, 0,
                ours(json!({ "id": "re_1", "metadata": { "refund_ref": "rfd_1" } }))),
        ]}),
    );
    server.reply(
        200,
        json!({ "object": "list", "url": "/v1/balance_transactions", "has_more": false, "data": [
            balance("txn_1", "charge", 1234, 61,
                ours(json!({ "id": "ch_1", "transfer_group": "ord_1" }))),
        ]}),
    );
    // Later: what is newer than the cursor.
    server.reply(
        200,
        json!({ "object": "list", "url": "/v1/balance_transactions", "has_more": false, "data": [
            balance("txn_5", "transfer", -700, 0,
                ours(json!({ "id": "tr_1", "metadata": { "payout_id": "po_1" } }))),
            balance("txn_4", "adjustment", -50, 0, ours(json!({ "id": "du_1" }))),
        ]}),
    );

    let stripe = provider(&server);
    let first = stripe.balance_transactions(shop, None).await.unwrap();
    let read: Vec<(&str, &str, &str, i64)> = first
        .items
        .iter()
        .map(|t| (t.id.as_str(), t.kind.as_str(), t.reference.as_str(), t.net))
        .collect();
    assert_eq!(
        read,
        vec![
            ("txn_1", "charge", "ord_1", 1173),
            ("txn_2", "refund", "rfd_1", -400)
        ]
    );
    assert_eq!(first.cursor.as_deref(), Some("txn_3"));
    let next = stripe
        .balance_transactions(shop, first.cursor.as_deref())
        .await
        .unwrap();
    let read: Vec<(&str, &str, &str)> = next
        .items
        .iter()
        .map(|t| (t.id.as_str(), t.kind.as_str(), t.reference.as_str()))
        .collect();
    assert_eq!(
        read,
        vec![("txn_4", "adjustment", ""), ("txn_5", "transfer", "po_1")]
    );
    assert_eq!(next.cursor.as_deref(), Some("txn_5"));

    let seen = server.seen();
    let queries: Vec<Vec<(String, String)>> = seen
        .iter()
        .map(|s| {
            assert_eq!(s.path, "/v1/balance_transactions");
            form_urlencoded::parse(s.query.clone().unwrap_or_default().as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .collect();
    let has =
        |q: &Vec<(String, String)>, k: &str, v: &str| q.iter().any(|(qk, qv)| qk == k && qv == v);
    assert!(has(&queries[0], "limit", "100"), "{queries:?}");
    assert!(
        queries[0]
            .iter()
            .any(|(k, v)| k.starts_with("expand[") && v == "data.source")
    );
    assert!(has(&queries[1], "starting_after", "txn_2"), "{queries:?}");
    assert!(has(&queries[2], "ending_before", "txn_3"), "{queries:?}");
}

//! The Stripe adapter against localstripe, a stateful Stripe emulator, at
//! `MERCATO_TEST_STRIPE_URL` (skipped without it, unless `MERCATO_TEST_REQUIRE_BACKENDS=1`).
//!
//! Start it with `.ci/localstripe-loopback.py` (as `.ci/run` does): that binds it to
//! 127.0.0.1 and lets it take the three intent parameters it does not model
//! (`transfer_group`, `description`, `automatic_payment_methods`), which a plain localstripe
//! refuses. It has no idempotency keys, no refund limits, no `processing` cards, and its
//! decline names only the charge, not the intent (the adapter then looks the intent up
//! through the charge): those are covered by the wire tests against a local server.

use crate::recorder::Recorder;
use crate::support::eur;
use mercato_payments::stripe::StripeProvider;
use mercato_payments::{
    IntentRequest, IntentStatus, PaymentMethod, PaymentProvider, ProviderError, event, signature,
};
use mercato_tenant_context::TenantId;
use std::time::Duration;

const URL: &str = "MERCATO_TEST_STRIPE_URL";
/// localstripe takes any key that looks like a secret key.
const KEY: &str = "sk_test_mercato_localstripe";
/// Declined when charged (`pm_card_visa_chargeDeclined` is declined only when attached to a
/// customer in localstripe).
const DECLINED: &str = "pm_card_chargeCustomerFail";

fn localstripe(test: &str) -> Option<(String, StripeProvider)> {
    let url = mercato_testkit::backend(URL, &format!("localstripe: {test}"))?;
    let provider = StripeProvider::new(KEY.to_owned(), Some(url.clone())).unwrap();
    Some((url, provider))
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

#[tokio::test]
async fn a_visa_payment_succeeds_and_refunds() {
    let Some((_, stripe)) = localstripe("a_visa_payment_succeeds_and_refunds") else {
        return;
    };
    let shop = TenantId::new();
    let paid = stripe
        .create_and_confirm(&paying(shop, "pm_card_visa", 2500))
        .await
        .unwrap();
    assert_eq!(paid.status, IntentStatus::Succeeded);
    assert!(paid.provider_ref.starts_with("pi_"), "{paid:?}");
    assert_eq!(paid.amount, eur(2500));

    let refund = stripe
        .refund(shop, &paid.provider_ref, eur(1000), "refund-1")
        .await
        .unwrap();
    assert!(refund.provider_ref.starts_with("re_"), "{refund:?}");
    assert_eq!(refund.amount, eur(1000));
    assert!(refund.succeeded);

    // Stripe refuses to cancel a payment it took.
    let error = stripe.cancel(shop, &paid.provider_ref).await.unwrap_err();
    assert!(matches!(error, ProviderError::Refused { .. }), "{error:?}");
}

#[tokio::test]
async fn a_declined_card_fails_and_can_be_cancelled() {
    let Some((_, stripe)) = localstripe("a_declined_card_fails_and_can_be_cancelled") else {
        return;
    };
    let shop = TenantId::new();
    let failed = stripe
        .create_and_confirm(&paying(shop, DECLINED, 1800))
        .await
        .unwrap();
    assert!(failed.provider_ref.starts_with("pi_"), "{failed:?}");
    assert_eq!(
        failed.status,
        IntentStatus::Failed {
            code: "card_declined".into(),
            message: "Your card was declined.".into()
        }
    );

    // The failed intent waits for another payment method: another shop cannot touch it,
    // its own can cancel it.
    let error = stripe
        .cancel(TenantId::new(), &failed.provider_ref)
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some("resource_missing"));
    let canceled = stripe.cancel(shop, &failed.provider_ref).await.unwrap();
    assert_eq!(canceled.status, IntentStatus::Canceled);
    assert_eq!(canceled.provider_ref, failed.provider_ref);

    // Nothing was paid, so nothing can be refunded.
    let error = stripe
        .refund(shop, &failed.provider_ref, eur(100), "refund-2")
        .await
        .unwrap_err();
    assert!(matches!(error, ProviderError::Refused { .. }), "{error:?}");
}

#[tokio::test]
async fn unknown_payment_methods_are_refused() {
    let Some((_, stripe)) = localstripe("unknown_payment_methods_are_refused") else {
        return;
    };
    let error = stripe
        .create_and_confirm(&paying(TenantId::new(), "pm_does_not_exist", 100))
        .await
        .unwrap_err();
    assert!(matches!(error, ProviderError::Refused { .. }), "{error:?}");
}

/// localstripe signs its webhooks like Stripe: Mercato's check and parser take them.
#[tokio::test]
async fn its_signed_webhooks_verify_and_parse() {
    let Some((url, stripe)) = localstripe("its_signed_webhooks_verify_and_parse") else {
        return;
    };
    let endpoint = Recorder::start().await;
    let secret = format!("whsec_{}", uuid::Uuid::now_v7().simple());
    let hook = format!("mercato_{}", uuid::Uuid::now_v7().simple());
    let registered = reqwest::Client::new()
        .post(format!("{url}/_config/webhooks/{hook}"))
        .form(&[
            ("url", format!("{}/hook", endpoint.url())),
            ("secret", secret.clone()),
        ])
        .send()
        .await
        .unwrap();
    assert!(registered.status().is_success());

    let shop = TenantId::new();
    let request = paying(shop, "pm_card_visa", 4200);
    let paid = stripe.create_and_confirm(&request).await.unwrap();

    // localstripe sends after a second; every test's events come to every endpoint.
    let mut found = None;
    for _ in 0..100 {
        found = endpoint.seen().into_iter().find_map(|seen| {
            let event = event::parse(&seen.body).ok()?;
            (event.intent_ref == paid.provider_ref).then_some((seen, event))
        });
        if found.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (seen, event) = found.expect("a webhook about the intent");
    let header = seen.header(signature::HEADER).unwrap();
    let now = chrono::Utc::now().timestamp();
    signature::verify(&header, &seen.body, &[secret], now, 300).unwrap();
    assert_eq!(
        signature::verify(&header, &seen.body, &["whsec_other".into()], now, 300),
        Err(mercato_payments::SignatureError::Mismatch)
    );
    assert_eq!(event.kind, event::EventKind::IntentSucceeded);
    assert_eq!(event.money(), eur(4200));
    assert_eq!(event.metadata["tenant_id"], shop.to_string());
    assert_eq!(event.metadata["order_ref"], request.order_ref);
}

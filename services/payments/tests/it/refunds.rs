//! Refunds: partial, up to what was paid and no more, idempotent by key, and only by the
//! shop the payment belongs to.

use crate::on_every_backend;
use crate::support::{Service, eur, paying};
use mercato_kernel::{Currency, Money};
use mercato_payments::event::EventKind;
use mercato_payments::test_provider::cards;
use mercato_payments::{IntentState, IntentStatus, PaymentProvider, ProviderError};
use mercato_tenant_context::TenantId;

async fn paid(service: &Service, shop: TenantId, amount: i64) -> IntentState {
    service
        .provider
        .create_and_confirm(&paying(shop, cards::SUCCEEDS, amount))
        .await
        .unwrap()
}

async fn partial_refunds_add_up_to_the_payment_and_no_more(service: Service) {
    let shop = TenantId::new();
    let intent = paid(&service, shop, 1000).await;
    let first = service
        .provider
        .refund(shop, &intent.provider_ref, eur(300), "refund-1")
        .await
        .unwrap();
    assert!(first.provider_ref.starts_with("re_test_"));
    assert_eq!(first.amount, eur(300));
    assert!(first.succeeded);

    let too_much = service
        .provider
        .refund(shop, &intent.provider_ref, eur(701), "refund-2")
        .await
        .unwrap_err();
    assert!(
        matches!(&too_much, ProviderError::Refused { code, param, .. }
            if code == "amount_too_large" && param.as_deref() == Some("amount")),
        "{too_much:?}"
    );
    let rest = service
        .provider
        .refund(shop, &intent.provider_ref, eur(700), "refund-3")
        .await
        .unwrap();
    assert_eq!(rest.amount, eur(700));
    assert_ne!(rest.provider_ref, first.provider_ref);
    let nothing_left = service
        .provider
        .refund(shop, &intent.provider_ref, eur(1), "refund-4")
        .await
        .unwrap_err();
    assert_eq!(nothing_left.code(), Some("amount_too_large"));
}

async fn more_than_the_payment_is_refused_at_once(service: Service) {
    let shop = TenantId::new();
    let intent = paid(&service, shop, 1000).await;
    let error = service
        .provider
        .refund(shop, &intent.provider_ref, eur(1001), "too-much")
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some("amount_too_large"));
    // The whole of it is fine.
    let all = service
        .provider
        .refund(shop, &intent.provider_ref, eur(1000), "all")
        .await
        .unwrap();
    assert_eq!(all.amount, eur(1000));
}

async fn the_same_refund_key_refunds_once(service: Service) {
    let shop = TenantId::new();
    let intent = paid(&service, shop, 1000).await;
    let first = service
        .provider
        .refund(shop, &intent.provider_ref, eur(600), "same-key")
        .await
        .unwrap();
    let again = service
        .provider
        .refund(shop, &intent.provider_ref, eur(600), "same-key")
        .await
        .unwrap();
    assert_eq!(again, first);
    let (a, b) = tokio::join!(
        service
            .provider
            .refund(shop, &intent.provider_ref, eur(600), "same-key"),
        service
            .provider
            .refund(shop, &intent.provider_ref, eur(600), "same-key")
    );
    assert_eq!(a.unwrap(), first);
    assert_eq!(b.unwrap(), first);
    // Refunded once: 400 are left.
    let rest = service
        .provider
        .refund(shop, &intent.provider_ref, eur(400), "rest")
        .await
        .unwrap();
    assert_eq!(rest.amount, eur(400));
    // The key for another amount is a mistake.
    let error = service
        .provider
        .refund(shop, &intent.provider_ref, eur(100), "same-key")
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some("idempotency_key_in_use"));
}

async fn only_a_succeeded_payment_in_its_currency_is_refunded(service: Service) {
    let shop = TenantId::new();
    let declined = service
        .provider
        .create_and_confirm(&paying(shop, cards::DECLINED, 1000))
        .await
        .unwrap();
    let error = service
        .provider
        .refund(shop, &declined.provider_ref, eur(100), "r1")
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some("payment_intent_unexpected_state"));

    let intent = paid(&service, shop, 1000).await;
    let dollars = Money::new(100, Currency::parse("USD").unwrap());
    let error = service
        .provider
        .refund(shop, &intent.provider_ref, dollars, "r2")
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some("currency_mismatch"));
    let error = service
        .provider
        .refund(shop, &intent.provider_ref, eur(0), "r3")
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some("parameter_invalid_integer"));
    let error = service
        .provider
        .refund(shop, &intent.provider_ref, eur(100), "")
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some("idempotency_key_invalid"));
    let error = service
        .provider
        .refund(shop, "pi_test_nope", eur(100), "r4")
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some("resource_missing"));
}

async fn a_processing_payment_is_refunded_once_it_succeeded(service: Service) {
    let shop = TenantId::new();
    let intent = service
        .provider
        .create_and_confirm(&paying(shop, cards::PROCESSING, 2000))
        .await
        .unwrap();
    assert_eq!(intent.status, IntentStatus::Processing);
    // Nothing taken yet, nothing to refund.
    let error = service
        .provider
        .refund(shop, &intent.provider_ref, eur(500), "early")
        .await
        .unwrap_err();
    assert_eq!(
        error,
        ProviderError::Refused {
            code: "payment_intent_unexpected_state".into(),
            message:
                "This PaymentIntent has a status of processing and no successful charge to refund."
                    .into(),
            param: None,
        }
    );

    assert_eq!(
        service.deliver_when_due(1).await,
        1,
        "the success never came"
    );
    assert_eq!(service.events()[0].kind, EventKind::IntentSucceeded);
    let partial = service
        .provider
        .refund(shop, &intent.provider_ref, eur(500), "r1")
        .await
        .unwrap();
    assert!(partial.succeeded);
    assert_eq!(partial.amount, eur(500));
    assert!(partial.provider_ref.starts_with("re_test_"));
    let rest = service
        .provider
        .refund(shop, &intent.provider_ref, eur(1500), "r2")
        .await
        .unwrap();
    assert!(rest.succeeded);
    assert_ne!(rest.provider_ref, partial.provider_ref);
    let error = service
        .provider
        .refund(shop, &intent.provider_ref, eur(1), "r3")
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some("amount_too_large"));
    // Refunds send no webhook.
    assert_eq!(service.deliver_due().await, 0);
}

async fn another_shop_cannot_refund_a_payment(service: Service) {
    let shop = TenantId::new();
    let intruder = TenantId::new();
    let intent = paid(&service, shop, 1000).await;
    let error = service
        .provider
        .refund(intruder, &intent.provider_ref, eur(1000), "steal")
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some("resource_missing"));
    // Its own key space: the shop's key used by the intruder finds nothing of the shop's.
    let mine = service
        .provider
        .refund(shop, &intent.provider_ref, eur(1000), "steal")
        .await
        .unwrap();
    assert_eq!(mine.amount, eur(1000));
    let error = service
        .provider
        .refund(intruder, &intent.provider_ref, eur(1000), "steal")
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some("resource_missing"));
}

async fn concurrent_refunds_never_exceed_the_payment(service: Service) {
    let shop = TenantId::new();
    // The same key at once: one refund, both told about it.
    let intent = paid(&service, shop, 1000).await;
    let (a, b) = tokio::join!(
        service
            .provider
            .refund(shop, &intent.provider_ref, eur(600), "racing-key"),
        service
            .provider
            .refund(shop, &intent.provider_ref, eur(600), "racing-key")
    );
    assert_eq!(a.unwrap(), b.unwrap());
    // Different keys at once: only one fits.
    let intent = paid(&service, shop, 1000).await;
    let (a, b) = tokio::join!(
        service
            .provider
            .refund(shop, &intent.provider_ref, eur(600), "first"),
        service
            .provider
            .refund(shop, &intent.provider_ref, eur(600), "second")
    );
    let mut codes: Vec<_> = [a, b]
        .into_iter()
        .map(|r| r.err().and_then(|e| e.code().map(str::to_owned)))
        .collect();
    codes.sort();
    assert_eq!(codes, [None, Some("amount_too_large".to_owned())]);
}

on_every_backend!(
    concurrent_refunds_never_exceed_the_payment,
    partial_refunds_add_up_to_the_payment_and_no_more,
    more_than_the_payment_is_refused_at_once,
    the_same_refund_key_refunds_once,
    only_a_succeeded_payment_in_its_currency_is_refunded,
    a_processing_payment_is_refunded_once_it_succeeded,
    another_shop_cannot_refund_a_payment,
);

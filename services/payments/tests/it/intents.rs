//! Creating and confirming intents with each test card, idempotency, the delayed success of
//! a card that needs authentication and of the processing card, and cancelling.

use crate::on_every_backend;
use crate::support::{DELAY, Service, eur, paying};
use mercato_payments::event::EventKind;
use mercato_payments::test_provider::cards;
use mercato_payments::{IntentStatus, PaymentMethod, PaymentProvider, ProviderError};
use mercato_tenant_context::TenantId;

fn failed(code: &str, message: &str) -> IntentStatus {
    IntentStatus::Failed {
        code: code.into(),
        message: message.into(),
    }
}

async fn a_good_card_succeeds_at_once_and_says_so_by_webhook(service: Service) {
    let shop = TenantId::new();
    let request = paying(shop, cards::SUCCEEDS, 1234);
    let intent = service.provider.create_and_confirm(&request).await.unwrap();
    assert_eq!(intent.status, IntentStatus::Succeeded);
    assert_eq!(intent.amount, eur(1234));
    assert!(intent.provider_ref.starts_with("pi_test_"));
    assert_eq!(service.provider.name(), "test");
    assert_eq!(
        service
            .provider
            .intent(shop, &intent.provider_ref)
            .await
            .unwrap(),
        Some(intent.clone())
    );

    assert_eq!(service.deliver_due().await, 1);
    let delivered = service.sink.delivered();
    assert_eq!(delivered[0].tenant, shop);
    let event = delivered[0].event();
    assert!(event.id.starts_with("evt_test_"));
    assert_eq!(event.kind, EventKind::IntentSucceeded);
    assert_eq!(event.intent_ref, intent.provider_ref);
    assert_eq!(event.money(), eur(1234));
    assert_eq!(event.metadata["tenant_id"], shop.to_string());
    assert_eq!(event.metadata["order_ref"], request.order_ref);
    assert_eq!(event.failure, None);
}

async fn declined_cards_fail_without_an_error(service: Service) {
    let shop = TenantId::new();
    let declined = service
        .provider
        .create_and_confirm(&paying(shop, cards::DECLINED, 500))
        .await
        .unwrap();
    assert_eq!(
        declined.status,
        failed("card_declined", "Your card was declined.")
    );
    let poor = service
        .provider
        .create_and_confirm(&paying(shop, cards::INSUFFICIENT_FUNDS, 500))
        .await
        .unwrap();
    assert_eq!(
        poor.status,
        failed("insufficient_funds", "Your card has insufficient funds.")
    );

    assert_eq!(service.deliver_due().await, 2);
    let events = service.events();
    let of = |r: &str| events.iter().find(|e| e.intent_ref == r).unwrap().clone();
    let declined_event = of(&declined.provider_ref);
    assert_eq!(declined_event.kind, EventKind::IntentFailed);
    let failure = declined_event.failure.unwrap();
    assert_eq!(failure.code, "card_declined");
    assert_eq!(failure.message, "Your card was declined.");
    let poor_event = of(&poor.provider_ref);
    assert_eq!(poor_event.kind, EventKind::IntentFailed);
    assert_eq!(poor_event.failure.unwrap().code, "insufficient_funds");
}

async fn other_valid_numbers_succeed_and_invalid_ones_are_refused(service: Service) {
    let shop = TenantId::new();
    let mastercard = service
        .provider
        .create_and_confirm(&paying(shop, "5555 5555 5555 4444", 700))
        .await
        .unwrap();
    assert_eq!(mastercard.status, IntentStatus::Succeeded);
    let mut by_token = paying(shop, cards::SUCCEEDS, 700);
    by_token.method = PaymentMethod::Token("pm_card_visa".into());
    assert_eq!(
        service
            .provider
            .create_and_confirm(&by_token)
            .await
            .unwrap()
            .status,
        IntentStatus::Succeeded
    );
    assert_eq!(service.deliver_due().await, 2);

    for number in ["4242424242424241", "1234", "not a card"] {
        let error = service
            .provider
            .create_and_confirm(&paying(shop, number, 700))
            .await
            .unwrap_err();
        assert_eq!(
            error,
            ProviderError::Refused {
                code: "invalid_card_number".into(),
                message: "Your card number is invalid.".into(),
                param: Some("payment.card".into()),
            }
        );
    }
    let zero = service
        .provider
        .create_and_confirm(&paying(shop, cards::SUCCEEDS, 0))
        .await
        .unwrap_err();
    assert_eq!(zero.code(), Some("amount_too_small"));
    // Nothing was charged, so nothing is announced.
    assert_eq!(service.deliver_due().await, 0);
}

async fn the_same_idempotency_key_gives_the_same_intent(service: Service) {
    let shop = TenantId::new();
    let request = paying(shop, cards::SUCCEEDS, 900);
    let first = service.provider.create_and_confirm(&request).await.unwrap();
    let again = service.provider.create_and_confirm(&request).await.unwrap();
    assert_eq!(again, first);
    // Concurrent retries too.
    let (a, b) = tokio::join!(
        service.provider.create_and_confirm(&request),
        service.provider.create_and_confirm(&request)
    );
    assert_eq!(a.unwrap(), first);
    assert_eq!(b.unwrap(), first);
    // One charge, one webhook.
    assert_eq!(service.deliver_due().await, 1);

    // The key with other parameters is a mistake, not a new payment.
    let mut other = request.clone();
    other.amount = eur(901);
    let error = service
        .provider
        .create_and_confirm(&other)
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some("idempotency_key_in_use"));
    // Keys are the shop's own: another shop's same key is another payment.
    let elsewhere = TenantId::new();
    let theirs = service
        .provider
        .create_and_confirm(&paying(elsewhere, cards::SUCCEEDS, 900))
        .await
        .unwrap();
    let mut same_key = paying(elsewhere, cards::SUCCEEDS, 900);
    same_key.idempotency_key = request.idempotency_key.clone();
    let theirs_too = service
        .provider
        .create_and_confirm(&same_key)
        .await
        .unwrap();
    assert_ne!(theirs_too.provider_ref, first.provider_ref);
    assert_ne!(theirs_too.provider_ref, theirs.provider_ref);
}

async fn a_card_needing_authentication_succeeds_after_the_delay(service: Service) {
    let shop = TenantId::new();
    let started = std::time::Instant::now();
    let request = paying(shop, cards::REQUIRES_ACTION, 2500);
    let intent = service.provider.create_and_confirm(&request).await.unwrap();
    assert_eq!(intent.status, IntentStatus::RequiresAction);
    // Nothing yet.
    assert_eq!(service.deliver_due().await, 0);
    assert_eq!(
        service
            .provider
            .intent(shop, &intent.provider_ref)
            .await
            .unwrap()
            .unwrap()
            .status,
        IntentStatus::RequiresAction
    );
    // A retry of the create meanwhile still says it waits.
    let retried = service.provider.create_and_confirm(&request).await.unwrap();
    assert_eq!(retried, intent);
    let mut delivered = 0;
    for _ in 0..200 {
        delivered += service.deliver_due().await;
        if delivered > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(delivered, 1, "the delayed success never came");
    assert!(started.elapsed() >= DELAY);
    let event = &service.events()[0];
    assert_eq!(event.kind, EventKind::IntentSucceeded);
    assert_eq!(event.intent_ref, intent.provider_ref);
    assert_eq!(event.money(), eur(2500));
    let now = service
        .provider
        .intent(shop, &intent.provider_ref)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(now.status, IntentStatus::Succeeded);
    // Now it is paid, it cannot be canceled.
    let error = service
        .provider
        .cancel(shop, &intent.provider_ref)
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some("payment_intent_unexpected_state"));
}

async fn the_processing_card_is_processing_and_cannot_be_canceled(service: Service) {
    let shop = TenantId::new();
    let request = paying(shop, cards::PROCESSING, 3100);
    let intent = service.provider.create_and_confirm(&request).await.unwrap();
    assert_eq!(intent.status, IntentStatus::Processing);
    assert_eq!(intent.amount, eur(3100));
    assert!(intent.status.is_pending());
    // Nothing is announced at confirm.
    assert_eq!(service.deliver_due().await, 0);

    let error = service
        .provider
        .cancel(shop, &intent.provider_ref)
        .await
        .unwrap_err();
    assert_eq!(
        error,
        ProviderError::Refused {
            code: "payment_intent_unexpected_state".into(),
            message: "You cannot cancel this PaymentIntent because it has a status of processing."
                .into(),
            param: None,
        }
    );
    // The refusal changed nothing and announced nothing.
    assert_eq!(
        service
            .provider
            .intent(shop, &intent.provider_ref)
            .await
            .unwrap(),
        Some(intent.clone())
    );
    assert_eq!(service.deliver_due().await, 0);
    // A retry of the create meanwhile still says it is processing.
    let retried = service.provider.create_and_confirm(&request).await.unwrap();
    assert_eq!(retried, intent);
    // Another shop cannot cancel it either: to them it does not exist.
    let error = service
        .provider
        .cancel(TenantId::new(), &intent.provider_ref)
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some("resource_missing"));
}

async fn the_processing_card_succeeds_after_the_delay(service: Service) {
    let shop = TenantId::new();
    let started = std::time::Instant::now();
    let request = paying(shop, cards::PROCESSING, 3100);
    let intent = service.provider.create_and_confirm(&request).await.unwrap();
    assert_eq!(intent.status, IntentStatus::Processing);
    assert_eq!(
        service.deliver_when_due(1).await,
        1,
        "the success never came"
    );
    assert!(started.elapsed() >= DELAY);
    // `events` checks each signature as a receiver would, then parses.
    let events = service.events();
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert!(event.id.starts_with("evt_test_"));
    assert_eq!(event.kind, EventKind::IntentSucceeded);
    assert_eq!(event.intent_ref, intent.provider_ref);
    assert_eq!(event.money(), eur(3100));
    assert_eq!(event.metadata["tenant_id"], shop.to_string());
    assert_eq!(event.metadata["order_ref"], request.order_ref);
    assert_eq!(event.failure, None);
    let delivered = &service.sink.delivered()[0];
    assert_eq!(delivered.tenant, shop);
    let json: serde_json::Value = serde_json::from_slice(&delivered.body).unwrap();
    assert_eq!(json["type"], "payment_intent.succeeded");
    assert_eq!(json["data"]["object"]["status"], "succeeded");

    let now = service
        .provider
        .intent(shop, &intent.provider_ref)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(now.status, IntentStatus::Succeeded);
    assert_eq!(
        service.provider.create_and_confirm(&request).await.unwrap(),
        now
    );
    // Still not cancelable: now it is paid.
    let error = service
        .provider
        .cancel(shop, &intent.provider_ref)
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some("payment_intent_unexpected_state"));
    // Exactly one webhook, once.
    tokio::time::sleep(DELAY).await;
    assert_eq!(service.deliver_due().await, 0);
    assert_eq!(service.sink.delivered().len(), 1);
}

async fn a_canceled_intent_never_succeeds_later(service: Service) {
    let shop = TenantId::new();
    let intent = service
        .provider
        .create_and_confirm(&paying(shop, cards::REQUIRES_ACTION, 2500))
        .await
        .unwrap();
    let canceled = service
        .provider
        .cancel(shop, &intent.provider_ref)
        .await
        .unwrap();
    assert_eq!(canceled.status, IntentStatus::Canceled);
    assert_eq!(canceled.provider_ref, intent.provider_ref);
    tokio::time::sleep(DELAY + std::time::Duration::from_millis(100)).await;
    // The cancellation is announced; the delayed success is dropped.
    assert_eq!(service.deliver_due().await, 2);
    let events = service.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, EventKind::IntentCanceled);
    assert_eq!(events[0].intent_ref, intent.provider_ref);
    assert_eq!(
        service
            .provider
            .intent(shop, &intent.provider_ref)
            .await
            .unwrap()
            .unwrap()
            .status,
        IntentStatus::Canceled
    );
}

async fn cancelling_follows_the_intent_state(service: Service) {
    let shop = TenantId::new();
    let paid = service
        .provider
        .create_and_confirm(&paying(shop, cards::SUCCEEDS, 100))
        .await
        .unwrap();
    let error = service
        .provider
        .cancel(shop, &paid.provider_ref)
        .await
        .unwrap_err();
    assert_eq!(
        error,
        ProviderError::Refused {
            code: "payment_intent_unexpected_state".into(),
            message: "You cannot cancel this PaymentIntent because it has a status of succeeded."
                .into(),
            param: None,
        }
    );

    let declined = service
        .provider
        .create_and_confirm(&paying(shop, cards::DECLINED, 100))
        .await
        .unwrap();
    let canceled = service
        .provider
        .cancel(shop, &declined.provider_ref)
        .await
        .unwrap();
    assert_eq!(canceled.status, IntentStatus::Canceled);
    // Again: nothing changes, nothing more is announced.
    let again = service
        .provider
        .cancel(shop, &declined.provider_ref)
        .await
        .unwrap();
    assert_eq!(again, canceled);
    assert_eq!(service.deliver_due().await, 3);
    let kinds: Vec<_> = service
        .events()
        .into_iter()
        .filter(|e| e.intent_ref == declined.provider_ref)
        .map(|e| e.kind)
        .collect();
    // One each; delivered side by side (a worker round runs a batch at once), so in either
    // order, as Stripe's may arrive too.
    assert_eq!(kinds.len(), 2, "{kinds:?}");
    assert!(kinds.contains(&EventKind::IntentFailed), "{kinds:?}");
    assert!(kinds.contains(&EventKind::IntentCanceled), "{kinds:?}");

    for unknown in ["pi_test_nope", "", "pi_123"] {
        let error = service.provider.cancel(shop, unknown).await.unwrap_err();
        assert_eq!(error.code(), Some("resource_missing"), "{unknown:?}");
    }
}

async fn another_shop_cannot_see_or_cancel_an_intent(service: Service) {
    let shop = TenantId::new();
    let intruder = TenantId::new();
    let intent = service
        .provider
        .create_and_confirm(&paying(shop, cards::REQUIRES_ACTION, 100))
        .await
        .unwrap();
    let error = service
        .provider
        .cancel(intruder, &intent.provider_ref)
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some("resource_missing"));
    assert_eq!(
        service
            .provider
            .intent(intruder, &intent.provider_ref)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        service
            .provider
            .intent(shop, &intent.provider_ref)
            .await
            .unwrap()
            .unwrap()
            .status,
        IntentStatus::RequiresAction
    );
}

on_every_backend!(
    a_good_card_succeeds_at_once_and_says_so_by_webhook,
    declined_cards_fail_without_an_error,
    other_valid_numbers_succeed_and_invalid_ones_are_refused,
    the_same_idempotency_key_gives_the_same_intent,
    a_card_needing_authentication_succeeds_after_the_delay,
    the_processing_card_is_processing_and_cannot_be_canceled,
    the_processing_card_succeeds_after_the_delay,
    a_canceled_intent_never_succeeds_later,
    cancelling_follows_the_intent_state,
    another_shop_cannot_see_or_cancel_an_intent,
);

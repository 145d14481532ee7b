//! Webhook delivery: signed bodies a receiver accepts, retried until taken, and durable
//! across a restart.

use crate::on_every_backend;
use crate::support::{SECRET, Service, paying};
use mercato_jobs::JobStatus;
use mercato_payments::event::{self, EventKind};
use mercato_payments::signature::{self, SignatureError};
use mercato_payments::test_provider::{WEBHOOK_JOB, cards};
use mercato_payments::{IntentStatus, PaymentProvider};
use mercato_tenant_context::TenantId;
use std::time::Duration;

async fn webhooks_are_signed_with_the_provider_secret(service: Service) {
    let shop = TenantId::new();
    let intent = service
        .provider
        .create_and_confirm(&paying(shop, cards::SUCCEEDS, 4200))
        .await
        .unwrap();
    assert_eq!(service.provider.secret(), SECRET);
    assert_eq!(service.deliver_due().await, 1);
    let delivered = &service.sink.delivered()[0];
    let now = chrono::Utc::now().timestamp();
    let signed_at = signature::verify(
        &delivered.header,
        &delivered.body,
        &["whsec_old".to_owned(), SECRET.to_owned()],
        now,
        signature::DEFAULT_TOLERANCE_SECS,
    )
    .unwrap();
    assert!((now - signed_at).abs() <= 5);
    assert_eq!(
        signature::verify(
            &delivered.header,
            &delivered.body,
            &["whsec_other".to_owned()],
            now,
            300
        ),
        Err(SignatureError::Mismatch)
    );
    let mut tampered = delivered.body.clone();
    let at = tampered.iter().position(|b| *b == b'2').unwrap();
    tampered[at] = b'9';
    assert_eq!(
        signature::verify(&delivered.header, &tampered, &[SECRET.to_owned()], now, 300),
        Err(SignatureError::Mismatch)
    );
    let event = event::parse(&delivered.body).unwrap();
    assert_eq!(event.kind, EventKind::IntentSucceeded);
    assert_eq!(event.intent_ref, intent.provider_ref);
    assert_eq!(event.amount, 4200);
    // Stripe's wire shape.
    let json: serde_json::Value = serde_json::from_slice(&delivered.body).unwrap();
    assert_eq!(json["object"], "event");
    assert_eq!(json["type"], "payment_intent.succeeded");
    assert_eq!(json["data"]["object"]["object"], "payment_intent");
    assert_eq!(json["data"]["object"]["currency"], "eur");
    assert_eq!(json["data"]["object"]["status"], "succeeded");
}

async fn a_webhook_the_receiver_refuses_is_tried_again(service: Service) {
    let shop = TenantId::new();
    service.sink.fail_next(2);
    let intent = service
        .provider
        .create_and_confirm(&paying(shop, cards::DECLINED, 300))
        .await
        .unwrap();
    let mut tries = 0;
    for _ in 0..200 {
        tries += service.deliver_due().await;
        if !service.sink.delivered().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(tries, 3);
    let events = service.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, EventKind::IntentFailed);
    let tx = service.db.tenant_read(shop).await.unwrap();
    let job = mercato_jobs::latest_for(&*tx, shop, WEBHOOK_JOB, &intent.provider_ref)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(job.status, JobStatus::Succeeded);
    assert_eq!(job.attempts, 3);
    assert_eq!(
        job.last_error.as_deref(),
        Some("webhook not taken: endpoint answered 503")
    );
}

async fn webhooks_survive_a_restart(service: Service) {
    let shop = TenantId::new();
    let intent = service
        .provider
        .create_and_confirm(&paying(shop, cards::REQUIRES_ACTION, 800))
        .await
        .unwrap();
    assert_eq!(intent.status, IntentStatus::RequiresAction);
    // The process dies; a new one over the same database finishes the job.
    let restarted = Service::new(service.db.clone());
    drop(service);
    tokio::time::sleep(crate::support::DELAY).await;
    let mut delivered = 0;
    for _ in 0..200 {
        delivered += restarted.deliver_due().await;
        if delivered > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(delivered, 1);
    let event = &restarted.events()[0];
    assert_eq!(event.kind, EventKind::IntentSucceeded);
    assert_eq!(event.intent_ref, intent.provider_ref);
    assert_eq!(event.metadata["tenant_id"], shop.to_string());
}

on_every_backend!(
    webhooks_are_signed_with_the_provider_secret,
    a_webhook_the_receiver_refuses_is_tried_again,
    webhooks_survive_a_restart,
);

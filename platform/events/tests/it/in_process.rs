//! Routing, retries and dead letters of the in-process bus.

use crate::support::{Recorder, event};
use async_trait::async_trait;
use mercato_events::{Bus, BusError, Envelope, Handler, HandlerError, InProcessBus, RetryPolicy};
use mercato_tenant_context::TenantId;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

fn fast_retry(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(5),
    }
}

#[tokio::test]
async fn routes_by_topic_pattern() {
    let bus = InProcessBus::new();
    let (shops, everything, verified) = (
        Arc::new(Recorder::default()),
        Arc::new(Recorder::default()),
        Arc::new(Recorder::default()),
    );
    bus.subscribe("shops", &["shop.*"], shops.clone())
        .await
        .unwrap();
    bus.subscribe("everything", &["#"], everything.clone())
        .await
        .unwrap();
    bus.subscribe(
        "verified",
        &["domain.verified", "*.domain.verified"],
        verified.clone(),
    )
    .await
    .unwrap();

    let tenant = TenantId::new();
    for name in [
        "shop.created",
        "shop.domain.verified",
        "domain.verified",
        "vendor.approved",
    ] {
        bus.publish(&event(name, tenant)).await.unwrap();
    }
    // publish waits for the handlers, so there is nothing to wait for here.
    assert_eq!(shops.names(), ["shop.created"]);
    assert_eq!(
        everything.names(),
        [
            "shop.created",
            "shop.domain.verified",
            "domain.verified",
            "vendor.approved"
        ]
    );
    assert_eq!(
        verified.names(),
        ["shop.domain.verified", "domain.verified"],
        "one delivery even if two patterns match"
    );
}

/// Fails its first `failures` calls (by error, or by panicking), then succeeds.
struct Flaky {
    failures: u32,
    panics: bool,
    calls: AtomicU32,
}

impl Flaky {
    fn new(failures: u32) -> Arc<Self> {
        Arc::new(Self {
            failures,
            panics: false,
            calls: AtomicU32::new(0),
        })
    }

    fn calls(&self) -> u32 {
        self.calls.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl Handler for Flaky {
    async fn handle(&self, _event: &Envelope) -> Result<(), HandlerError> {
        let call = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        match call <= self.failures {
            true if self.panics => panic!("handler bug"),
            true => Err(anyhow::anyhow!("downstream unavailable").into()),
            false => Ok(()),
        }
    }
}

#[tokio::test]
async fn a_failing_handler_is_retried_until_it_succeeds() {
    let bus = InProcessBus::new().with_retry(fast_retry(5));
    let flaky = Flaky::new(2);
    bus.subscribe("flaky", &["#"], flaky.clone()).await.unwrap();
    bus.publish(&event("shop.created", TenantId::new()))
        .await
        .unwrap();
    assert_eq!(flaky.calls(), 3);
    assert!(bus.dead_letters().is_empty());
}

#[tokio::test]
async fn a_handler_that_keeps_failing_is_dead_lettered() {
    let bus = InProcessBus::new().with_retry(fast_retry(4));
    let broken = Flaky::new(u32::MAX);
    let healthy = Arc::new(Recorder::default());
    bus.subscribe("broken", &["shop.*"], broken.clone())
        .await
        .unwrap();
    bus.subscribe("healthy", &["shop.*"], healthy.clone())
        .await
        .unwrap();

    let created = event("shop.created", TenantId::new());
    // The bus took the event; that one consumer gave up is its own business.
    bus.publish(&created).await.unwrap();
    assert_eq!(broken.calls(), 4);
    let dead = bus.dead_letters();
    assert_eq!(dead.len(), 1);
    assert_eq!(
        (dead[0].consumer.as_str(), &dead[0].event, dead[0].attempts),
        ("broken", &created, 4)
    );
    assert!(
        dead[0].error.contains("downstream unavailable"),
        "{}",
        dead[0].error
    );
    assert_eq!(healthy.events(), [created]);
}

#[tokio::test]
async fn a_panicking_handler_counts_as_a_failure_and_its_consumer_survives() {
    let bus = InProcessBus::new().with_retry(fast_retry(3));
    let panicky = Arc::new(Flaky {
        failures: 1,
        panics: true,
        calls: AtomicU32::new(0),
    });
    bus.subscribe("panicky", &["#"], panicky.clone())
        .await
        .unwrap();
    bus.publish(&event("shop.created", TenantId::new()))
        .await
        .unwrap();
    bus.publish(&event("shop.renamed", TenantId::new()))
        .await
        .unwrap();
    assert_eq!(
        panicky.calls(),
        3,
        "one panic, one retry that worked, then the next event"
    );
    assert!(bus.dead_letters().is_empty());
}

struct BadPayload;

#[async_trait]
impl Handler for BadPayload {
    async fn handle(&self, event: &Envelope) -> Result<(), HandlerError> {
        #[derive(serde::Deserialize)]
        #[allow(dead_code)]
        struct Expected {
            missing_field: String,
        }
        event.payload_as::<Expected>()?;
        Ok(())
    }
}

#[tokio::test]
async fn an_invalid_payload_is_dead_lettered_without_retries() {
    let bus = InProcessBus::new().with_retry(fast_retry(5));
    bus.subscribe("strict", &["#"], Arc::new(BadPayload))
        .await
        .unwrap();
    bus.publish(&event("shop.created", TenantId::new()))
        .await
        .unwrap();
    let dead = bus.dead_letters();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].attempts, 1);
    assert!(dead[0].error.contains("missing_field"), "{}", dead[0].error);
}

#[tokio::test]
async fn rejects_bad_subscriptions_and_names() {
    let bus = InProcessBus::new();
    let recorder = Arc::new(Recorder::default());
    bus.subscribe("one", &["shop.*"], recorder.clone())
        .await
        .unwrap();
    assert!(matches!(
        bus.subscribe("one", &["vendor.*"], recorder.clone()).await,
        Err(BusError::DuplicateConsumer(_))
    ));
    assert!(matches!(
        bus.subscribe("two", &["shop.cre*"], recorder.clone()).await,
        Err(BusError::InvalidPattern { .. })
    ));
    assert!(matches!(
        bus.subscribe("Two Words", &["#"], recorder.clone()).await,
        Err(BusError::InvalidConsumer(_))
    ));
    let mut bad = event("shop.created", TenantId::new());
    bad.name = "shop.*".into();
    assert!(matches!(
        bus.publish(&bad).await,
        Err(BusError::InvalidName { .. })
    ));
    assert!(recorder.events().is_empty());
}

/// Records how it was called: the size of every call (1 for `handle`) and the events in the
/// order it applied them. Its first call waits for `gate`, so the rest queue up meanwhile;
/// with `fail_batches`, every `handle_batch` fails without applying anything.
struct Batches {
    gate: tokio::sync::Semaphore,
    calls: std::sync::Mutex<Vec<usize>>,
    applied: std::sync::Mutex<Vec<String>>,
    fail_batches: bool,
}

impl Batches {
    fn new(fail_batches: bool) -> Arc<Self> {
        Arc::new(Self {
            gate: tokio::sync::Semaphore::new(0),
            calls: std::sync::Mutex::default(),
            applied: std::sync::Mutex::default(),
            fail_batches,
        })
    }

    async fn enter(&self, size: usize) {
        let first = {
            let mut calls = self.calls.lock().unwrap();
            calls.push(size);
            calls.len() == 1
        };
        if first {
            let _permit = self.gate.acquire().await.unwrap();
        }
    }

    fn calls(&self) -> Vec<usize> {
        self.calls.lock().unwrap().clone()
    }

    fn applied(&self) -> Vec<String> {
        self.applied.lock().unwrap().clone()
    }
}

#[async_trait]
impl Handler for Batches {
    async fn handle(&self, event: &Envelope) -> Result<(), HandlerError> {
        self.enter(1).await;
        self.applied.lock().unwrap().push(event.name.clone());
        Ok(())
    }

    async fn handle_batch(&self, events: &[Envelope]) -> Result<(), HandlerError> {
        self.enter(events.len()).await;
        if self.fail_batches {
            return Err(anyhow::anyhow!("batch refused").into());
        }
        let mut applied = self.applied.lock().unwrap();
        applied.extend(events.iter().map(|e| e.name.clone()));
        Ok(())
    }
}

/// Publishes `count` events as one batch while `handler`'s first call is held, then lets it
/// go; returns the event names in publishing order.
async fn publish_held(bus: &InProcessBus, handler: &Arc<Batches>, count: usize) -> Vec<String> {
    let tenant = TenantId::new();
    let events: Vec<Envelope> = (0..count)
        .map(|i| event(&format!("stock.changed{i}"), tenant))
        .collect();
    let names = events.iter().map(|e| e.name.clone()).collect();
    let publisher = {
        let bus = bus.clone();
        tokio::spawn(async move { bus.publish_batch(&events).await })
    };
    while handler.calls().is_empty() {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    // The publisher hands every event over before it waits; give it the time to.
    tokio::time::sleep(Duration::from_millis(50)).await;
    handler.gate.add_permits(1);
    let (published, error) = tokio::time::timeout(Duration::from_secs(10), publisher)
        .await
        .expect("the batch is confirmed")
        .unwrap();
    assert!(error.is_none(), "{error:?}");
    assert_eq!(published, count);
    names
}

#[tokio::test]
async fn events_that_queue_up_reach_a_consumer_as_one_batch_in_order() {
    let bus = InProcessBus::new();
    let handler = Batches::new(false);
    bus.subscribe("stock", &["#"], handler.clone())
        .await
        .unwrap();
    let names = publish_held(&bus, &handler, 10).await;
    let calls = handler.calls();
    assert_eq!(
        calls.iter().sum::<usize>(),
        10,
        "every event once: {calls:?}"
    );
    // However the first call caught the queue, the events held up behind it came together.
    assert!(
        calls.len() <= 2 && calls.iter().any(|&size| size > 1),
        "{calls:?}"
    );
    assert_eq!(handler.applied(), names);
    assert!(bus.dead_letters().is_empty());
}

#[tokio::test]
async fn a_failed_batch_is_handled_again_one_event_at_a_time() {
    let bus = InProcessBus::new().with_retry(fast_retry(2));
    let handler = Batches::new(true);
    bus.subscribe("stock", &["#"], handler.clone())
        .await
        .unwrap();
    let names = publish_held(&bus, &handler, 6).await;
    // Whatever the first call was, every event was then applied on its own, in order.
    assert_eq!(handler.applied(), names);
    assert!(handler.calls().iter().any(|&size| size > 1));
    assert!(bus.dead_letters().is_empty());
}

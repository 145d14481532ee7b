//! The RabbitMQ bus against a real broker.

use crate::support::{AMQP_VAR, Events, TestDb, event};
use async_trait::async_trait;
use lapin::options::{BasicGetOptions, ExchangeDeleteOptions, QueueDeleteOptions};
use lapin::{Connection, ConnectionProperties};
use mercato_events::{AmqpBus, Bus, Envelope, Handler, HandlerError, Relay, RetryPolicy, enqueue};
use mercato_tenant_context::TenantId;
use mercato_testkit::{backend, clean_up_now, unique};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;

/// A fresh exchange for one test. Dropping it deletes the exchanges and the queues of
/// `consumers`, also when the test failed.
struct Broker {
    url: String,
    exchange: String,
    consumers: &'static [&'static str],
}

impl Broker {
    fn new(test: &str, consumers: &'static [&'static str]) -> Option<Self> {
        let url = backend(AMQP_VAR, test)?;
        Some(Self {
            url,
            exchange: unique("evt_test_"),
            consumers,
        })
    }

    async fn bus(&self) -> AmqpBus {
        let retry = RetryPolicy {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(50),
        };
        AmqpBus::connect(&self.url, &self.exchange)
            .await
            .unwrap()
            .with_retry(retry)
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let (url, exchange, consumers) = (self.url.clone(), self.exchange.clone(), self.consumers);
        clean_up_now(async move {
            let connection = Connection::connect(&url, ConnectionProperties::default()).await?;
            let channel = connection.create_channel().await?;
            for consumer in consumers {
                for queue in [
                    format!("{exchange}.{consumer}"),
                    format!("{exchange}.{consumer}.dead"),
                ] {
                    channel
                        .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
                        .await?;
                }
            }
            for name in [exchange.clone(), format!("{exchange}.dlx")] {
                channel
                    .exchange_delete(name.as_str().into(), ExchangeDeleteOptions::default())
                    .await?;
            }
            connection.close(200, "done".into()).await
        });
    }
}

struct Forward(mpsc::UnboundedSender<Envelope>);

#[async_trait]
impl Handler for Forward {
    async fn handle(&self, event: &Envelope) -> Result<(), HandlerError> {
        let _ = self.0.send(event.clone());
        Ok(())
    }
}

async fn next(received: &mut mpsc::UnboundedReceiver<Envelope>) -> Envelope {
    tokio::time::timeout(Duration::from_secs(10), received.recv())
        .await
        .expect("no event within 10s")
        .unwrap()
}

#[tokio::test]
async fn a_published_event_reaches_the_matching_subscriber_unchanged() {
    let Some(broker) = Broker::new(
        "amqp::a_published_event_reaches_the_matching_subscriber_unchanged",
        &["shops"],
    ) else {
        return;
    };
    let bus = broker.bus().await;
    let (tx, mut received) = mpsc::unbounded_channel();
    bus.subscribe("shops", &["shop.*"], Arc::new(Forward(tx)))
        .await
        .unwrap();

    let tenant = TenantId::new();
    let created = Envelope::new(
        "shop.created",
        2,
        tenant,
        &serde_json::json!({ "slug": "acme", "plan": null }),
    )
    .unwrap();
    let renamed = event("shop.renamed", tenant);
    bus.publish(&created).await.unwrap();
    bus.publish(&event("domain.verified", tenant))
        .await
        .unwrap();
    bus.publish(&renamed).await.unwrap();

    assert_eq!(next(&mut received).await, created);
    // The queue is FIFO, so the non-matching event in between was not delivered.
    assert_eq!(next(&mut received).await, renamed);

    bus.close().await.unwrap();
}

struct AlwaysFails(AtomicU32);

#[async_trait]
impl Handler for AlwaysFails {
    async fn handle(&self, _event: &Envelope) -> Result<(), HandlerError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Err(anyhow::anyhow!("always fails").into())
    }
}

#[tokio::test]
async fn an_event_its_handler_keeps_failing_on_ends_in_the_dead_letter_queue() {
    let Some(broker) = Broker::new(
        "amqp::an_event_its_handler_keeps_failing_on_ends_in_the_dead_letter_queue",
        &["failing"],
    ) else {
        return;
    };
    let bus = broker.bus().await;
    let failing = Arc::new(AlwaysFails(AtomicU32::new(0)));
    bus.subscribe("failing", &["#"], failing.clone())
        .await
        .unwrap();
    let created = event("shop.created", TenantId::new());
    bus.publish(&created).await.unwrap();

    let connection = Connection::connect(&broker.url, ConnectionProperties::default())
        .await
        .unwrap();
    let channel = connection.create_channel().await.unwrap();
    let dead_queue = format!("{}.failing.dead", broker.exchange);
    let mut dead = None;
    for _ in 0..100 {
        dead = channel
            .basic_get(dead_queue.as_str().into(), BasicGetOptions { no_ack: true })
            .await
            .unwrap();
        if dead.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let dead = dead.expect("nothing reached the dead-letter queue within 10s");
    let body: Envelope = serde_json::from_slice(&dead.delivery.data).unwrap();
    assert_eq!(body, created);
    assert_eq!(
        dead.delivery
            .properties
            .message_id()
            .as_ref()
            .map(|id| id.to_string()),
        Some(created.id.to_string())
    );
    assert_eq!(
        failing.0.load(Ordering::SeqCst),
        3,
        "dead-lettered after the retries, not before"
    );
    connection.close(200, "done".into()).await.unwrap();

    bus.close().await.unwrap();
}

#[tokio::test]
async fn the_relay_publishes_the_outbox_to_the_broker() {
    let Some(broker) = Broker::new(
        "amqp::the_relay_publishes_the_outbox_to_the_broker",
        &["forward"],
    ) else {
        return;
    };
    let t = TestDb::sqlite::<Events>().await;
    let bus = Arc::new(broker.bus().await);
    let (tx, mut received) = mpsc::unbounded_channel();
    bus.subscribe("forward", &["#"], Arc::new(Forward(tx)))
        .await
        .unwrap();

    let tenant = TenantId::new();
    let created = event("shop.created", tenant);
    let db_tx = t.db.tenant_tx(tenant).await.unwrap();
    enqueue(&*db_tx, &created).await.unwrap();
    db_tx.commit().await.unwrap();
    let relay = Relay::new(t.db.clone(), bus.clone());
    assert_eq!(relay.relay_once().await.unwrap(), 1);
    assert_eq!(next(&mut received).await, created);

    bus.close().await.unwrap();
    t.finish().await;
}

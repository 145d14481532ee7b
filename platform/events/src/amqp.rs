//! The bus of the split shape: a durable RabbitMQ topic exchange.
//!
//! Topology per consumer: a durable queue `<exchange>.<consumer>` bound to the consumer's
//! patterns, dead-lettering into the direct exchange `<exchange>.dlx` with the consumer's
//! name as routing key, where the queue `<exchange>.<consumer>.dead` collects what the
//! consumer gave up on. Several processes subscribing the same consumer share its queue
//! (competing consumers).

use crate::bus::{check_consumer, check_name, check_patterns, handle_with_retry};
use crate::{Bus, BusError, BusPending, Envelope, Handler, RetryPolicy};
use async_trait::async_trait;
use futures::StreamExt;
use lapin::message::Delivery;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicNackOptions, BasicPublishOptions, BasicQosOptions,
    ConfirmSelectOptions, ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{
    BasicProperties, Channel, Confirmation, Connection, ConnectionProperties, ExchangeKind,
};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use tokio_util::sync::CancellationToken;

/// Unacknowledged deliveries a consumer holds; they are handled one at a time, in order.
const PREFETCH: u16 = 16;
/// AMQP delivery mode 2: the broker writes the message to disk.
const PERSISTENT: u8 = 2;

/// A RabbitMQ connection publishing to, and consuming from, one topic exchange.
pub struct AmqpBus {
    connection: Connection,
    /// In confirm mode, so `publish` can wait for the broker's ack.
    publisher: Channel,
    exchange: String,
    retry: RetryPolicy,
    stop: CancellationToken,
    /// The queues this process consumes from, for [`Bus::pending`].
    queues: Arc<Mutex<Vec<String>>>,
    /// Deliveries a consumer of this process has taken and not acknowledged yet.
    in_flight: Arc<AtomicU64>,
}

impl AmqpBus {
    /// Connects and declares the durable topic exchange `exchange`.
    pub async fn connect(url: &str, exchange: &str) -> Result<Self, BusError> {
        // Queue names derive from the exchange name; bounding both keeps them under the
        // 255-byte AMQP limit.
        let exchange_ok = !exchange.is_empty()
            && exchange.len() <= 100
            && exchange
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
        if !exchange_ok {
            return Err(BusError::InvalidExchange(exchange.to_owned()));
        }
        let connection = Connection::connect(url, ConnectionProperties::default()).await?;
        let publisher = connection.create_channel().await?;
        publisher
            .exchange_declare(
                exchange.into(),
                ExchangeKind::Topic,
                durable_exchange(),
                FieldTable::default(),
            )
            .await?;
        publisher
            .confirm_select(ConfirmSelectOptions::default())
            .await?;
        tracing::info!(exchange, "connected to the broker");
        Ok(Self {
            connection,
            publisher,
            exchange: exchange.to_owned(),
            retry: RetryPolicy::default(),
            stop: CancellationToken::new(),
            queues: Arc::default(),
            in_flight: Arc::default(),
        })
    }

    /// Retries for consumers subscribed after this call.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// For readiness checks: false once the connection or the publishing channel is gone
    /// (this bus does not reconnect; the process should be restarted).
    pub fn is_connected(&self) -> bool {
        self.connection.status().connected() && self.publisher.status().connected()
    }

    /// Stops the consumers (unacknowledged deliveries go back to their queues) and closes
    /// the connection.
    pub async fn close(&self) -> Result<(), BusError> {
        self.stop.cancel();
        self.connection.close(200, "closing".into()).await?;
        Ok(())
    }
}

impl Drop for AmqpBus {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

fn durable_exchange() -> ExchangeDeclareOptions {
    ExchangeDeclareOptions {
        durable: true,
        ..ExchangeDeclareOptions::default()
    }
}

#[async_trait]
impl Bus for AmqpBus {
    async fn publish(&self, event: &Envelope) -> Result<(), BusError> {
        check_name(event)?;
        let body = serde_json::to_vec(event).map_err(|source| BusError::Encode {
            event_id: event.id,
            source,
        })?;
        // The tenant in a header lets operators see it in the management UI and in the
        // dead-letter queues without decoding bodies.
        let mut headers = FieldTable::default();
        headers.insert(
            "tenant_id".into(),
            AMQPValue::LongString(event.tenant_id.to_string().into()),
        );
        let properties = BasicProperties::default()
            .with_message_id(event.id.to_string().into())
            .with_content_type("application/json".into())
            .with_delivery_mode(PERSISTENT)
            .with_timestamp(u64::try_from(event.occurred_at.timestamp()).unwrap_or(0))
            .with_headers(headers);
        let confirmation = self
            .publisher
            .basic_publish(
                self.exchange.as_str().into(),
                event.name.as_str().into(),
                BasicPublishOptions::default(),
                &body,
                properties,
            )
            .await?
            .await?;
        match confirmation {
            Confirmation::Ack(_) => Ok(()),
            Confirmation::Nack(_) | Confirmation::NotRequested => {
                Err(BusError::NotConfirmed { event_id: event.id })
            }
        }
    }

    async fn subscribe(
        &self,
        consumer: &str,
        patterns: &[&str],
        handler: Arc<dyn Handler>,
    ) -> Result<(), BusError> {
        check_consumer(consumer)?;
        check_patterns(patterns)?;
        let exchange = self.exchange.as_str();
        let dlx = format!("{exchange}.dlx");
        let queue = format!("{exchange}.{consumer}");
        let dead = format!("{queue}.dead");

        // Each consumer gets its own channel so a slow handler never stalls the publisher.
        let channel = self.connection.create_channel().await?;
        channel
            .exchange_declare(
                dlx.as_str().into(),
                ExchangeKind::Direct,
                durable_exchange(),
                FieldTable::default(),
            )
            .await?;
        channel
            .queue_declare(
                dead.as_str().into(),
                QueueDeclareOptions::durable(),
                FieldTable::default(),
            )
            .await?;
        channel
            .queue_bind(
                dead.as_str().into(),
                dlx.as_str().into(),
                consumer.into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;
        let mut arguments = FieldTable::default();
        arguments.insert(
            "x-dead-letter-exchange".into(),
            AMQPValue::LongString(dlx.as_str().into()),
        );
        arguments.insert(
            "x-dead-letter-routing-key".into(),
            AMQPValue::LongString(consumer.into()),
        );
        channel
            .queue_declare(
                queue.as_str().into(),
                QueueDeclareOptions::durable(),
                arguments,
            )
            .await?;
        self.consume_from(channel, queue, consumer, patterns, handler)
            .await
    }

    async fn subscribe_transient(
        &self,
        consumer: &str,
        patterns: &[&str],
        handler: Arc<dyn Handler>,
    ) -> Result<(), BusError> {
        check_consumer(consumer)?;
        check_patterns(patterns)?;
        let queue = format!("{}.{consumer}", self.exchange);
        let channel = self.connection.create_channel().await?;
        // Exclusive and auto-deleted: the broker drops the queue with this connection.
        let options = QueueDeclareOptions {
            exclusive: true,
            auto_delete: true,
            ..QueueDeclareOptions::default()
        };
        channel
            .queue_declare(queue.as_str().into(), options, FieldTable::default())
            .await?;
        self.consume_from(channel, queue, consumer, patterns, handler)
            .await
    }

    fn is_ready(&self) -> bool {
        self.is_connected()
    }

    /// Counts the ready messages of this process's queues (a passive declare of each, on a
    /// channel of its own) and the deliveries its consumers hold. Messages the broker has
    /// pushed to a consumer that has not taken them yet (its prefetch) are in neither: a
    /// consumer takes the next one as soon as it finishes the last, so a caller that wants
    /// certainty asks twice, a moment apart.
    async fn pending(&self) -> Result<BusPending, BusError> {
        let queues = self
            .queues
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let mut queued = 0;
        if !queues.is_empty() {
            let channel = self.connection.create_channel().await?;
            let passive = QueueDeclareOptions {
                passive: true,
                ..QueueDeclareOptions::default()
            };
            for queue in &queues {
                let declared = channel
                    .queue_declare(queue.as_str().into(), passive, FieldTable::default())
                    .await?;
                queued += u64::from(declared.message_count());
            }
            channel.close(200, "pending counted".into()).await?;
        }
        Ok(BusPending {
            queued,
            in_flight: self.in_flight.load(Ordering::SeqCst),
        })
    }
}

impl AmqpBus {
    /// Binds `queue` to `patterns` and hands its deliveries to `handler` on a task.
    async fn consume_from(
        &self,
        channel: lapin::Channel,
        queue: String,
        consumer: &str,
        patterns: &[&str],
        handler: Arc<dyn Handler>,
    ) -> Result<(), BusError> {
        let exchange = self.exchange.as_str();
        for pattern in patterns {
            channel
                .queue_bind(
                    queue.as_str().into(),
                    exchange.into(),
                    (*pattern).into(),
                    QueueBindOptions::default(),
                    FieldTable::default(),
                )
                .await?;
        }
        channel
            .basic_qos(PREFETCH, BasicQosOptions::default())
            .await?;
        // An empty tag lets the broker name the consumer.
        let mut deliveries = channel
            .basic_consume(
                queue.as_str().into(),
                "".into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await?;
        tracing::info!(consumer, queue = %queue, patterns = ?patterns, "consumer subscribed");
        self.queues
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(queue.clone());

        let (consumer, retry, stop) = (consumer.to_owned(), self.retry, self.stop.clone());
        let in_flight = Arc::clone(&self.in_flight);
        tokio::spawn(async move {
            loop {
                let next = tokio::select! {
                    () = stop.cancelled() => break,
                    next = deliveries.next() => next,
                };
                match next {
                    Some(Ok(delivery)) => {
                        in_flight.fetch_add(1, Ordering::SeqCst);
                        consume(&delivery, &consumer, &handler, retry).await;
                        in_flight.fetch_sub(1, Ordering::SeqCst);
                    }
                    Some(Err(err)) => {
                        tracing::error!(consumer = %consumer, error = %err, "consumer stopped on a broker error");
                        break;
                    }
                    None => {
                        tracing::warn!(consumer = %consumer, "consumer cancelled by the broker");
                        break;
                    }
                }
            }
            // Unacknowledged deliveries return to the queue when the channel closes.
            if let Err(err) = channel.close(200, "consumer stopped".into()).await {
                tracing::debug!(consumer = %consumer, error = %err, "closing consumer channel failed");
            }
        });
        Ok(())
    }
}

/// Handles one delivery: ack on success, nack without requeue (to the dead letters) once
/// the retries are spent or the body is not an envelope.
async fn consume(
    delivery: &Delivery,
    consumer: &str,
    handler: &Arc<dyn Handler>,
    retry: RetryPolicy,
) {
    let event: Envelope = match serde_json::from_slice(&delivery.data) {
        Ok(event) => event,
        Err(err) => {
            tracing::error!(
                consumer, routing_key = %delivery.routing_key, error = %err,
                "undecodable message dead-lettered"
            );
            nack(delivery, consumer).await;
            return;
        }
    };
    match handle_with_retry(handler, &event, consumer, retry).await {
        Ok(()) => {
            if let Err(err) = delivery.acker.ack(BasicAckOptions::default()).await {
                // The broker redelivers it; the inbox makes that harmless.
                tracing::warn!(
                    consumer, tenant_id = %event.tenant_id, event = %event.name, event_id = %event.id, error = %err,
                    "cannot acknowledge event"
                );
            }
        }
        Err(exhausted) => {
            tracing::error!(
                consumer, tenant_id = %event.tenant_id, event = %event.name, event_id = %event.id,
                attempts = exhausted.attempts, error = %exhausted.error,
                "event dead-lettered"
            );
            nack(delivery, consumer).await;
        }
    }
}

async fn nack(delivery: &Delivery, consumer: &str) {
    let options = BasicNackOptions {
        multiple: false,
        requeue: false,
    };
    if let Err(err) = delivery.acker.nack(options).await {
        tracing::warn!(consumer, error = %err, "cannot dead-letter message");
    }
}

//! The bus of the all-in-one shape: topic routing between tasks of one process.
//!
//! `publish` returns once every matching consumer has finished with the event (handled
//! it, or dead-lettered it after its retries). That is this bus's "broker confirmation":
//! the relay marks the outbox row only then, so a crash while a handler runs loses nothing
//! and the event is relayed again on restart. The price is that the relay waits for the
//! handlers, and that a handler must never publish on the bus directly (it would wait for
//! itself); handlers write follow-up events to their outbox like everyone else.
//!
//! A consumer that finds several events queued when it is free takes up to 64 of them at
//! once with [`Handler::handle_batch`] (one transaction for the lot, where the handler
//! implements it), and falls back to one at a time, with retries, if the batch fails.

use crate::bus::{check_consumer, check_name, check_patterns, handle_with_retry};
use crate::pattern::topic_matches;
use crate::{Bus, BusError, BusPending, Envelope, Handler, RetryPolicy};
use async_trait::async_trait;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use tokio::sync::{mpsc, oneshot};

/// Events a consumer may have queued before `publish` waits for room.
const QUEUE_CAPACITY: usize = 256;
/// The most events a consumer is handed in one [`Handler::handle_batch`].
const MAX_BATCH: usize = 64;

/// An event a consumer gave up on.
#[derive(Debug, Clone, PartialEq)]
pub struct DeadLetter {
    pub consumer: String,
    pub event: Envelope,
    /// Tries made, the first included.
    pub attempts: u32,
    /// The last failure.
    pub error: String,
}

struct Delivery {
    event: Envelope,
    done: oneshot::Sender<()>,
}

struct Subscription {
    consumer: String,
    patterns: Vec<String>,
    queue: mpsc::Sender<Delivery>,
}

/// An in-memory topic bus with one task per consumer. Cheap to clone; clones share
/// subscribers and dead letters.
#[derive(Clone)]
pub struct InProcessBus {
    subscriptions: Arc<Mutex<Vec<Subscription>>>,
    dead_letters: Arc<Mutex<Vec<DeadLetter>>>,
    retry: RetryPolicy,
    /// Deliveries handed to a consumer's queue and not finished yet (see [`Bus::pending`]).
    in_flight: Arc<AtomicU64>,
}

impl Default for InProcessBus {
    fn default() -> Self {
        Self::new()
    }
}

impl InProcessBus {
    pub fn new() -> Self {
        Self {
            subscriptions: Arc::default(),
            dead_letters: Arc::default(),
            retry: RetryPolicy::default(),
            in_flight: Arc::default(),
        }
    }

    /// Retries for consumers subscribed after this call.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Events consumers gave up on since the bus started, oldest first. They are kept in
    /// memory only; the error log has each of them too.
    pub fn dead_letters(&self) -> Vec<DeadLetter> {
        lock(&self.dead_letters).clone()
    }
}

// A poisoned lock only means a panic elsewhere; the vectors themselves stay consistent.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[async_trait]
impl Bus for InProcessBus {
    async fn publish(&self, event: &Envelope) -> Result<(), BusError> {
        let (_, error) = self.publish_batch(std::slice::from_ref(event)).await;
        error.map_or(Ok(()), Err)
    }

    async fn publish_batch(&self, events: &[Envelope]) -> (usize, Option<BusError>) {
        // Hand every event to every consumer first, so consumers work in parallel and each
        // finds a batch waiting, then wait for them in order.
        let mut confirmations = Vec::with_capacity(events.len());
        let mut stopped = None;
        'events: for event in events {
            if let Err(error) = check_name(event) {
                stopped = Some(error);
                break;
            }
            let targets: Vec<(String, mpsc::Sender<Delivery>)> = lock(&self.subscriptions)
                .iter()
                .filter(|s| s.patterns.iter().any(|p| topic_matches(p, &event.name)))
                .map(|s| (s.consumer.clone(), s.queue.clone()))
                .collect();
            let mut waits = Vec::with_capacity(targets.len());
            for (consumer, queue) in targets {
                let (done, confirmed) = oneshot::channel();
                let delivery = Delivery {
                    event: event.clone(),
                    done,
                };
                // Counted before it is queued, so the consumer never finishes it uncounted.
                self.in_flight.fetch_add(1, Ordering::SeqCst);
                if queue.send(delivery).await.is_err() {
                    self.in_flight.fetch_sub(1, Ordering::SeqCst);
                    stopped = Some(BusError::ConsumerStopped(consumer));
                    break 'events;
                }
                waits.push((consumer, confirmed));
            }
            confirmations.push(waits);
        }
        // Only events every consumer has confirmed count; a consumer that stops part way
        // leaves the rest to be published again.
        let handed = confirmations.len();
        for (published, waits) in confirmations.into_iter().enumerate() {
            for (consumer, confirmed) in waits {
                if confirmed.await.is_err() {
                    return (published, Some(BusError::ConsumerStopped(consumer)));
                }
            }
        }
        (handed, stopped)
    }

    async fn subscribe(
        &self,
        consumer: &str,
        patterns: &[&str],
        handler: Arc<dyn Handler>,
    ) -> Result<(), BusError> {
        check_consumer(consumer)?;
        check_patterns(patterns)?;
        let (queue, mut deliveries) = mpsc::channel::<Delivery>(QUEUE_CAPACITY);
        {
            let mut subscriptions = lock(&self.subscriptions);
            if subscriptions.iter().any(|s| s.consumer == consumer) {
                return Err(BusError::DuplicateConsumer(consumer.to_owned()));
            }
            subscriptions.push(Subscription {
                consumer: consumer.to_owned(),
                patterns: patterns.iter().map(|p| (*p).to_owned()).collect(),
                queue,
            });
        }
        tracing::info!(consumer, patterns = ?patterns, "consumer subscribed");
        let (consumer, dead_letters, retry, in_flight) = (
            consumer.to_owned(),
            Arc::clone(&self.dead_letters),
            self.retry,
            Arc::clone(&self.in_flight),
        );
        // The task ends when the bus (holding the sending side) is dropped.
        tokio::spawn(async move {
            while let Some(first) = deliveries.recv().await {
                let mut batch = vec![first];
                while batch.len() < MAX_BATCH {
                    match deliveries.try_recv() {
                        Ok(delivery) => batch.push(delivery),
                        Err(_) => break,
                    }
                }
                if batch.len() > 1 && handle_batch(&handler, &batch, &consumer).await {
                    for delivery in batch {
                        in_flight.fetch_sub(1, Ordering::SeqCst);
                        let _ = delivery.done.send(());
                    }
                    continue;
                }
                for Delivery { event, done } in batch {
                    if let Err(exhausted) =
                        handle_with_retry(&handler, &event, &consumer, retry).await
                    {
                        tracing::error!(
                            consumer = %consumer, tenant_id = %event.tenant_id, event = %event.name, event_id = %event.id,
                            attempts = exhausted.attempts, error = %exhausted.error,
                            "event dead-lettered"
                        );
                        lock(&dead_letters).push(DeadLetter {
                            consumer: consumer.clone(),
                            event,
                            attempts: exhausted.attempts,
                            error: exhausted.error,
                        });
                    }
                    in_flight.fetch_sub(1, Ordering::SeqCst);
                    // The publisher may have gone away (its relay was stopped); nobody to tell.
                    let _ = done.send(());
                }
            }
        });
        Ok(())
    }

    async fn pending(&self) -> Result<BusPending, BusError> {
        // A queued delivery is also one `publish` waits for: this bus counts them together.
        Ok(BusPending {
            queued: 0,
            in_flight: self.in_flight.load(Ordering::SeqCst),
        })
    }
}

/// One try at `batch` with [`Handler::handle_batch`], in its own task so a panic is only a
/// failed try. False if it failed: the caller then handles the events one by one.
async fn handle_batch(handler: &Arc<dyn Handler>, batch: &[Delivery], consumer: &str) -> bool {
    let events: Vec<Envelope> = batch.iter().map(|d| d.event.clone()).collect();
    let task_handler = Arc::clone(handler);
    let count = events.len();
    match tokio::spawn(async move { task_handler.handle_batch(&events).await }).await {
        Ok(Ok(())) => true,
        Ok(Err(error)) => {
            tracing::warn!(consumer, events = count, %error, "event batch failed; handling its events one by one");
            false
        }
        Err(join) => {
            tracing::warn!(consumer, events = count, error = %join, "event batch panicked; handling its events one by one");
            false
        }
    }
}

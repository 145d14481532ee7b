//! The bus of the all-in-one shape: topic routing between tasks of one process.
//!
//! `publish` returns once every matching consumer has finished with the event (handled
//! it, or dead-lettered it after its retries). That is this bus's "broker confirmation":
//! the relay marks the outbox row only then, so a crash while a handler runs loses nothing
//! and the event is relayed again on restart. The price is that the relay waits for the
//! handlers, and that a handler must never publish on the bus directly (it would wait for
//! itself); handlers write follow-up events to their outbox like everyone else.

use crate::bus::{check_consumer, check_name, check_patterns, handle_with_retry};
use crate::pattern::topic_matches;
use crate::{Bus, BusError, Envelope, Handler, RetryPolicy};
use async_trait::async_trait;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use tokio::sync::{mpsc, oneshot};

/// Events a consumer may have queued before `publish` waits for room.
const QUEUE_CAPACITY: usize = 256;

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
        check_name(event)?;
        let targets: Vec<(String, mpsc::Sender<Delivery>)> = lock(&self.subscriptions)
            .iter()
            .filter(|s| s.patterns.iter().any(|p| topic_matches(p, &event.name)))
            .map(|s| (s.consumer.clone(), s.queue.clone()))
            .collect();
        // Hand the event to every consumer first so they work in parallel, then wait.
        let mut confirmations = Vec::with_capacity(targets.len());
        for (consumer, queue) in targets {
            let (done, confirmed) = oneshot::channel();
            if queue
                .send(Delivery {
                    event: event.clone(),
                    done,
                })
                .await
                .is_err()
            {
                return Err(BusError::ConsumerStopped(consumer));
            }
            confirmations.push((consumer, confirmed));
        }
        for (consumer, confirmed) in confirmations {
            confirmed
                .await
                .map_err(|_| BusError::ConsumerStopped(consumer))?;
        }
        Ok(())
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
        let (consumer, dead_letters, retry) = (
            consumer.to_owned(),
            Arc::clone(&self.dead_letters),
            self.retry,
        );
        // The task ends when the bus (holding the sending side) is dropped.
        tokio::spawn(async move {
            while let Some(Delivery { event, done }) = deliveries.recv().await {
                if let Err(exhausted) = handle_with_retry(&handler, &event, &consumer, retry).await
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
                // The publisher may have gone away (its relay was stopped); nobody to tell.
                let _ = done.send(());
            }
        });
        Ok(())
    }
}

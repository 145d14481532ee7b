//! The bus contract both implementations honour, and the retry loop they share.

use crate::{Envelope, EventId};
use async_trait::async_trait;
use mercato_tenant_context::TenantId;
use sea_orm::DbErr;
use std::sync::Arc;
use std::time::Duration;

/// Where the relay publishes and consumers subscribe.
#[async_trait]
pub trait Bus: Send + Sync + 'static {
    /// Returns only once the bus has taken responsibility for the event (the broker
    /// confirmed it), because the relay marks the outbox row sent right after.
    async fn publish(&self, event: &Envelope) -> Result<(), BusError>;

    /// Publishes `events` in order, as [`Bus::publish`] would one after another, and returns
    /// how many of them, from the first, the bus took responsibility for, with the error that
    /// stopped it short. A bus may overlap them (the in-process bus hands the whole batch to
    /// its consumers before it waits) as long as each consumer still sees them in order.
    async fn publish_batch(&self, events: &[Envelope]) -> (usize, Option<BusError>) {
        for (done, event) in events.iter().enumerate() {
            if let Err(error) = self.publish(event).await {
                return (done, Some(error));
            }
        }
        (events.len(), None)
    }

    /// Delivers every event whose name matches one of `patterns` (`*` one word, `#` zero or
    /// more) to `handler`, as the durable consumer `consumer`. Delivery is at least once:
    /// handlers deduplicate with [`crate::mark_processed`].
    async fn subscribe(
        &self,
        consumer: &str,
        patterns: &[&str],
        handler: Arc<dyn Handler>,
    ) -> Result<(), BusError>;

    /// Like [`Bus::subscribe`], for a consumer that lives only as long as this process (a
    /// cache kept fresh by events): nothing is kept for it while it is gone, so a restart
    /// leaves no queue behind. Failed events are dropped after the retries, not dead-lettered.
    async fn subscribe_transient(
        &self,
        consumer: &str,
        patterns: &[&str],
        handler: Arc<dyn Handler>,
    ) -> Result<(), BusError> {
        self.subscribe(consumer, patterns, handler).await
    }

    /// Can the bus take events now? `/readyz` asks.
    fn is_ready(&self) -> bool {
        true
    }

    /// What this process's consumers have not finished: events waiting in their queues and
    /// events they are handling. With the outboxes' [`crate::outbox_state`], it tells an
    /// operator (or a test's barrier) whether everything published so far was handled.
    async fn pending(&self) -> Result<BusPending, BusError> {
        Ok(BusPending::default())
    }
}

/// See [`Bus::pending`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct BusPending {
    /// Events in this process's consumers' queues, not handed to a consumer yet.
    pub queued: u64,
    /// Events a consumer of this process has taken and not finished (handled or
    /// dead-lettered).
    pub in_flight: u64,
}

/// `events` grouped by shop, each group in delivery order and the shops in the order they
/// first appear: a [`Handler::handle_batch`] opens one tenant transaction per group.
pub fn by_tenant(events: &[Envelope]) -> Vec<(TenantId, Vec<&Envelope>)> {
    let mut groups: Vec<(TenantId, Vec<&Envelope>)> = Vec::new();
    for event in events {
        match groups
            .iter_mut()
            .find(|(tenant, _)| *tenant == event.tenant_id)
        {
            Some((_, group)) => group.push(event),
            None => groups.push((event.tenant_id, vec![event])),
        }
    }
    groups
}

/// A consumer's reaction to an event.
#[async_trait]
pub trait Handler: Send + Sync + 'static {
    async fn handle(&self, event: &Envelope) -> Result<(), HandlerError>;

    /// Handles several events of this consumer at once, in delivery order. The in-process
    /// bus calls it with what has queued up for the consumer while it was busy, so a
    /// handler that applies them in one transaction (inbox records included) pays one
    /// commit for a burst. On an error the bus handles each event of the batch again on its
    /// own with [`Handler::handle`] and its retries, so a batch must either have all of its
    /// effects or none (roll back), or be idempotent as the inbox makes it. The default
    /// handles them one by one.
    async fn handle_batch(&self, events: &[Envelope]) -> Result<(), HandlerError> {
        for event in events {
            self.handle(event).await?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("broker error: {0}")]
    Broker(#[from] lapin::Error),
    #[error("the broker did not confirm event {event_id}")]
    NotConfirmed { event_id: EventId },
    #[error("cannot encode event {event_id}: {source}")]
    Encode {
        event_id: EventId,
        source: serde_json::Error,
    },
    #[error("invalid event name {name:?}: {reason}")]
    InvalidName { name: String, reason: &'static str },
    #[error("invalid topic pattern {pattern:?}: {reason}")]
    InvalidPattern {
        pattern: String,
        reason: &'static str,
    },
    #[error("invalid consumer name {0:?}: use 1 to 100 lowercase letters, digits, '_' and '-'")]
    InvalidConsumer(String),
    #[error(
        "invalid exchange name {0:?}: use 1 to 100 lowercase letters, digits, '.', '_' and '-'"
    )]
    InvalidExchange(String),
    #[error("consumer {0:?} is already subscribed on this bus")]
    DuplicateConsumer(String),
    #[error("consumer {0:?} stopped")]
    ConsumerStopped(String),
}

#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// The payload does not fit the consumer's type. Retrying cannot help, so the event
    /// goes straight to the dead letters.
    #[error("invalid payload: {0}")]
    Payload(#[from] serde_json::Error),
    #[error("database error: {0}")]
    Db(#[from] DbErr),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl HandlerError {
    fn is_retryable(&self) -> bool {
        !matches!(self, Self::Payload(_))
    }
}

/// How often a failing handler is retried before its event is dead-lettered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Tries in total, the first included.
    pub max_attempts: u32,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// The wait after failed attempt number `attempt` (1-based): doubling, capped.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        self.initial_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }
}

/// A handling that failed for good.
#[derive(Debug)]
pub(crate) struct Exhausted {
    pub attempts: u32,
    pub error: String,
}

/// Runs `handler` on `event` until it succeeds, fails permanently or runs out of tries.
/// Each attempt runs in its own task so a panicking handler counts as a failed attempt
/// instead of killing the consumer.
pub(crate) async fn handle_with_retry(
    handler: &Arc<dyn Handler>,
    event: &Envelope,
    consumer: &str,
    policy: RetryPolicy,
) -> Result<(), Exhausted> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let (task_handler, task_event) = (Arc::clone(handler), event.clone());
        let outcome = tokio::spawn(async move { task_handler.handle(&task_event).await }).await;
        let (error, retryable) = match outcome {
            Ok(Ok(())) => return Ok(()),
            Ok(Err(err)) => (err.to_string(), err.is_retryable()),
            Err(join) => (format!("handler panicked or was cancelled: {join}"), true),
        };
        if !retryable || attempt >= policy.max_attempts {
            return Err(Exhausted {
                attempts: attempt,
                error,
            });
        }
        let wait = policy.backoff(attempt);
        tracing::warn!(
            consumer, tenant_id = %event.tenant_id, event = %event.name, event_id = %event.id,
            attempt, retry_in_ms = wait.as_millis() as u64, error = %error,
            "event handler failed, retrying"
        );
        tokio::time::sleep(wait).await;
    }
}

/// Consumer names become queue names; keep them boring.
pub(crate) fn check_consumer(consumer: &str) -> Result<(), BusError> {
    let ok = !consumer.is_empty()
        && consumer.len() <= 100
        && consumer
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(BusError::InvalidConsumer(consumer.to_owned()))
    }
}

pub(crate) fn check_patterns(patterns: &[&str]) -> Result<(), BusError> {
    for pattern in patterns {
        if let Some(reason) = crate::pattern::invalid_pattern_reason(pattern) {
            return Err(BusError::InvalidPattern {
                pattern: (*pattern).to_owned(),
                reason,
            });
        }
    }
    Ok(())
}

pub(crate) fn check_name(event: &Envelope) -> Result<(), BusError> {
    match crate::envelope::invalid_name_reason(&event.name) {
        Some(reason) => Err(BusError::InvalidName {
            name: event.name.clone(),
            reason,
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let policy = RetryPolicy {
            max_attempts: 10,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(500),
        };
        let waits: Vec<u128> = (1..=5).map(|a| policy.backoff(a).as_millis()).collect();
        assert_eq!(waits, [100, 200, 400, 500, 500]);
        assert_eq!(policy.backoff(u32::MAX), Duration::from_millis(500));
    }
}

/// A durable consumer a service declares: the composition root subscribes it before any
/// relay starts.
#[derive(Clone)]
pub struct Subscription {
    /// The consumer's name: its queue on RabbitMQ and its key in the inbox.
    pub consumer: &'static str,
    /// Event-name patterns (`vendor.*`, `product.changed`).
    pub patterns: &'static [&'static str],
    pub handler: Arc<dyn Handler>,
}

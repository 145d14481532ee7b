//! Events between services: the [`Envelope`] every event travels in, the transactional
//! outbox ([`enqueue`] in the producer's transaction, [`Relay`] to the bus), the inbox
//! ([`mark_processed`] in the consumer's transaction, [`mark_processed_all`] for a batch)
//! the [`Mirror`] mechanism every consumer keeps its copy of another service's data with,
//! and the [`Bus`] itself — in-process for the all-in-one shape, RabbitMQ ([`AmqpBus`]) for
//! the split one. Published rows and inbox records are purged after a window
//! ([`purge_published`], [`purge_processed`]).
//!
//! Delivery is at least once from commit to handler: the relay marks a row only after the
//! bus confirmed it, handlers are retried with backoff and then dead-lettered, and the
//! inbox turns redeliveries into no-ops. This crate publishes and consumes no events of
//! its own.

mod amqp;
mod bus;
mod envelope;
mod in_process;
mod inbox;
mod mirror;
mod outbox;
mod pattern;
mod relay;
mod retention;

pub use amqp::AmqpBus;
pub use bus::{
    Bus, BusError, BusPending, Handler, HandlerError, RetryPolicy, Subscription, by_tenant,
};
pub use envelope::{Envelope, EventId};
pub use in_process::{DeadLetter, InProcessBus};
pub use inbox::{INBOX_AGE_INDEX_MIGRATION, INBOX_MIGRATION, mark_processed, mark_processed_all};
pub use mirror::{Mirror, MirrorChange, MirrorRow, MirrorTable, Mirrored, Retire};
pub use outbox::{
    OUTBOX_AGE_INDEX_MIGRATION, OUTBOX_MIGRATION, OutboxState, enqueue, enqueue_all, outbox_state,
    publish,
};
pub use relay::{Relay, RelayError};
pub use retention::{
    KEEP_PROCESSED, KEEP_PUBLISHED, PURGE_BATCH, purge_processed, purge_published,
};

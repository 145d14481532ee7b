//! The relay: moves committed outbox rows to the bus, then marks them published.
//!
//! Publishing and marking cannot be atomic, so a relay killed in between publishes the
//! event again on its next run: delivery is at least once and consumers deduplicate with
//! the inbox. Nothing committed is ever lost, because a row is marked only after the bus
//! confirmed it.

use crate::{Bus, BusError, EventId, outbox};
use chrono::Utc;
use mercato_db::Db;
use mercato_tenant_context::TenantId;
use sea_orm::{DbBackend, DbErr};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// Rows taken per transaction.
const BATCH_SIZE: u64 = 100;
const DEFAULT_POLL_INTERVAL: Duration = Duration::from_millis(200);
/// The longest the relay waits after repeated failures (database or broker down).
const MAX_ERROR_BACKOFF: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("outbox database error: {0}")]
    Db(#[from] DbErr),
    #[error("cannot publish event {event_id} ({name}) of tenant {tenant_id}: {source}")]
    Publish {
        event_id: EventId,
        tenant_id: TenantId,
        name: String,
        source: BusError,
    },
}

/// Publishes a service's outbox. Run one per service process; on PostgreSQL several may
/// run side by side.
pub struct Relay {
    db: Db,
    bus: Arc<dyn Bus>,
    poll_interval: Duration,
    notify: Arc<Notify>,
}

impl Relay {
    pub fn new(db: Db, bus: Arc<dyn Bus>) -> Self {
        Self {
            db,
            bus,
            poll_interval: DEFAULT_POLL_INTERVAL,
            notify: Arc::new(Notify::new()),
        }
    }

    /// How long `run` sleeps when the outbox is empty (default 200ms).
    pub fn with_poll_interval(mut self, poll_interval: Duration) -> Self {
        self.poll_interval = poll_interval;
        self
    }

    /// Call `notify_one()` on this after committing events to have them relayed without
    /// waiting for the next poll. A poke while the relay is busy is remembered.
    pub fn notifier(&self) -> Arc<Notify> {
        Arc::clone(&self.notify)
    }

    /// Publishes up to one batch of unpublished events, oldest first, and returns how many
    /// were published. On a publish failure the events before it are still marked.
    pub async fn relay_once(&self) -> Result<usize, RelayError> {
        let claim = self.db.platform_tx("outbox relay").await?;
        let batch = outbox::unpublished(&*claim, BATCH_SIZE).await?;
        if batch.is_empty() {
            claim.commit().await?;
            return Ok(0);
        }
        // PostgreSQL: keep the row locks while publishing so concurrent relays skip this
        // batch. SQLite has one writer (and `platform_tx` takes the write lock at once) and
        // one relay per file: holding the lock while an in-process consumer of the same
        // file handles the event would deadlock them, so read, release, publish, and mark
        // in a second short transaction.
        let claim = if self.db.backend() == DbBackend::Postgres {
            Some(claim)
        } else {
            claim.commit().await?;
            None
        };

        let (count, error) = self.bus.publish_batch(&batch).await;
        let published = &batch[..count.min(batch.len())];
        let failure = error.map(|source| {
            let event = &batch[published.len().min(batch.len() - 1)];
            RelayError::Publish {
                event_id: event.id,
                tenant_id: event.tenant_id,
                name: event.name.clone(),
                source,
            }
        });

        let mark = match claim {
            Some(tx) => tx,
            None => self.db.platform_tx("outbox relay").await?,
        };
        outbox::mark_published(&*mark, published, Utc::now()).await?;
        mark.commit().await?;
        for event in published {
            tracing::debug!(tenant_id = %event.tenant_id, event = %event.name, event_id = %event.id, "event published");
        }
        match failure {
            Some(err) => Err(err),
            None => Ok(published.len()),
        }
    }

    /// Relays until `shutdown` is cancelled: a batch, then a full batch again at once, or a
    /// poll-interval sleep that a poke on [`Relay::notifier`] cuts short. A batch in flight
    /// is finished rather than dropped, so shutdown never abandons a half-used transaction.
    pub async fn run(self, shutdown: CancellationToken) {
        tracing::info!(
            poll_interval_ms = self.poll_interval.as_millis() as u64,
            "outbox relay started"
        );
        let mut failures: u32 = 0;
        while !shutdown.is_cancelled() {
            let (wait, wake_on_notify) = match self.relay_once().await {
                Ok(count) => {
                    failures = 0;
                    if count as u64 == BATCH_SIZE {
                        continue;
                    }
                    (self.poll_interval, true)
                }
                Err(err) => {
                    failures = failures.saturating_add(1);
                    let wait = self
                        .poll_interval
                        .saturating_mul(2u32.saturating_pow(failures.min(8)))
                        .min(MAX_ERROR_BACKOFF);
                    match &err {
                        RelayError::Publish {
                            event_id,
                            tenant_id,
                            name,
                            ..
                        } => tracing::error!(
                            tenant_id = %tenant_id, event = %name, event_id = %event_id, error = %err, failures,
                            "outbox relay failed to publish, retrying"
                        ),
                        RelayError::Db(_) => {
                            tracing::error!(error = %err, failures, "outbox relay failed, retrying")
                        }
                    }
                    // A poke must not turn the backoff into a hot loop against a broken backend.
                    (wait, false)
                }
            };
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = tokio::time::sleep(wait) => {}
                () = self.notify.notified(), if wake_on_notify => {}
            }
        }
        tracing::info!("outbox relay stopped");
    }
}

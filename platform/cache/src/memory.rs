//! The in-process backend: a moka cache whose entries each carry their own TTL.

use crate::{CacheBackend, CacheError};
use async_trait::async_trait;
use moka::Expiry;
use moka::future::Cache as Moka;
use moka::ops::compute::Op;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Values and sets share one key space, as they do in Redis.
#[derive(Clone)]
enum Stored {
    Value(Arc<[u8]>),
    Members(Arc<BTreeSet<String>>),
}

#[derive(Clone)]
struct Entry {
    stored: Stored,
    ttl: Duration,
}

/// Every write restarts the entry's clock with the TTL it was written with; reads don't.
struct WrittenTtl;

impl Expiry<String, Entry> for WrittenTtl {
    fn expire_after_create(&self, _: &String, entry: &Entry, _: Instant) -> Option<Duration> {
        Some(entry.ttl)
    }

    fn expire_after_update(
        &self,
        _: &String,
        entry: &Entry,
        _: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(entry.ttl)
    }
}

pub(crate) struct InMemory(Moka<String, Entry>);

impl InMemory {
    pub(crate) fn new(max_entries: u64) -> Self {
        Self(
            Moka::builder()
                .max_capacity(max_entries)
                .expire_after(WrittenTtl)
                .build(),
        )
    }

    async fn stored(&self, key: &str) -> Option<Stored> {
        self.0.get(key).await.map(|entry| entry.stored)
    }
}

fn wrong_kind(key: &str) -> CacheError {
    CacheError::WrongKind(key.to_owned())
}

#[async_trait]
impl CacheBackend for InMemory {
    fn name(&self) -> &'static str {
        "in-memory"
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        match self.stored(key).await {
            None => Ok(None),
            Some(Stored::Value(bytes)) => Ok(Some(bytes.to_vec())),
            Some(Stored::Members(_)) => Err(wrong_kind(key)),
        }
    }

    async fn set(&self, key: &str, value: Vec<u8>, ttl: Duration) -> Result<(), CacheError> {
        let stored = Stored::Value(value.into());
        self.0.insert(key.to_owned(), Entry { stored, ttl }).await;
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), CacheError> {
        self.0.invalidate(key).await;
        Ok(())
    }

    async fn add_to_set(&self, key: &str, member: &str, ttl: Duration) -> Result<(), CacheError> {
        let mut holds_value = false;
        // Read-modify-write under moka's per-key lock, so concurrent adds are not lost.
        self.0
            .entry_by_ref(key)
            .and_compute_with(|existing| {
                let members = match existing.map(|entry| entry.into_value().stored) {
                    Some(Stored::Value(_)) => None,
                    Some(Stored::Members(members)) => Some(Arc::unwrap_or_clone(members)),
                    None => Some(BTreeSet::new()),
                };
                let op = match members {
                    Some(mut members) => {
                        members.insert(member.to_owned());
                        let stored = Stored::Members(Arc::new(members));
                        Op::Put(Entry { stored, ttl })
                    }
                    None => {
                        holds_value = true;
                        Op::Nop
                    }
                };
                std::future::ready(op)
            })
            .await;
        if holds_value {
            return Err(wrong_kind(key));
        }
        Ok(())
    }

    async fn set_members(&self, key: &str) -> Result<Vec<String>, CacheError> {
        match self.stored(key).await {
            None => Ok(Vec::new()),
            Some(Stored::Members(members)) => Ok(members.iter().cloned().collect()),
            Some(Stored::Value(_)) => Err(wrong_kind(key)),
        }
    }

    async fn ping(&self) -> Result<(), CacheError> {
        Ok(())
    }
}

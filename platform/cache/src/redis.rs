//! The Redis backend: a deadpool pool of multiplexed connections, every key under a namespace.

use crate::{CacheBackend, CacheError};
use async_trait::async_trait;
use deadpool_redis::redis::{self, AsyncCommands as _, RedisError};
use deadpool_redis::{Config, Connection, Pool, PoolConfig, Runtime};
use std::time::Duration;

/// How long a command waits for a free connection. Connecting and each reply have the redis
/// client's default limits (1 s and 500 ms), so a slow or absent Redis is a quick miss, not a hang.
const WAIT_FOR_CONNECTION: Duration = Duration::from_secs(1);

pub(crate) struct InRedis {
    pool: Pool,
    namespace: String,
}

impl InRedis {
    pub(crate) async fn connect(url: &str, namespace: &str) -> Result<Self, CacheError> {
        if namespace.is_empty() {
            return Err(CacheError::EmptyNamespace);
        }
        let mut pool = PoolConfig::default();
        pool.timeouts.wait = Some(WAIT_FOR_CONNECTION);
        let mut config = Config::from_url(url);
        config.pool = Some(pool);
        let pool = config
            .create_pool(Some(Runtime::Tokio1))
            .map_err(|e| CacheError::Backend(e.into()))?;
        let backend = Self {
            pool,
            namespace: namespace.to_owned(),
        };
        backend.ping().await?;
        Ok(backend)
    }

    fn key(&self, key: &str) -> String {
        format!("{}:{key}", self.namespace)
    }

    async fn connection(&self) -> Result<Connection, CacheError> {
        self.pool
            .get()
            .await
            .map_err(|e| CacheError::Backend(e.into()))
    }
}

/// Maps a command's error, naming `key` when it holds the other kind of value.
fn failed(key: &str) -> impl FnOnce(RedisError) -> CacheError + '_ {
    move |error| match error.code() {
        Some("WRONGTYPE") => CacheError::WrongKind(key.to_owned()),
        _ => CacheError::Backend(error.into()),
    }
}

/// SADD and PEXPIRE as one step: the set never exists without its expiry, and when the key
/// holds a value the script stops at SADD's WRONGTYPE, leaving the value's own TTL alone (a
/// MULTI/EXEC would still run the PEXPIRE).
const ADD_TO_SET: &str = "redis.call('SADD', KEYS[1], ARGV[1]) \
    redis.call('PEXPIRE', KEYS[1], ARGV[2])";

/// Redis rejects a zero expiry, and a TTL below a millisecond is gone at once anyway.
fn millis(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}

#[async_trait]
impl CacheBackend for InRedis {
    fn name(&self) -> &'static str {
        "redis"
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        let mut conn = self.connection().await?;
        conn.get(self.key(key)).await.map_err(failed(key))
    }

    async fn set(&self, key: &str, value: Vec<u8>, ttl: Duration) -> Result<(), CacheError> {
        let mut conn = self.connection().await?;
        conn.pset_ex(self.key(key), value, millis(ttl))
            .await
            .map_err(failed(key))
    }

    async fn delete(&self, key: &str) -> Result<(), CacheError> {
        let mut conn = self.connection().await?;
        conn.del(self.key(key)).await.map_err(failed(key))
    }

    async fn add_to_set(&self, key: &str, member: &str, ttl: Duration) -> Result<(), CacheError> {
        let mut conn = self.connection().await?;
        redis::cmd("EVAL")
            .arg(ADD_TO_SET)
            .arg(1)
            .arg(self.key(key))
            .arg(member)
            .arg(millis(ttl))
            .query_async(&mut conn)
            .await
            .map_err(failed(key))
    }

    async fn set_members(&self, key: &str) -> Result<Vec<String>, CacheError> {
        let mut conn = self.connection().await?;
        conn.smembers(self.key(key)).await.map_err(failed(key))
    }

    async fn ping(&self) -> Result<(), CacheError> {
        let mut conn = self.connection().await?;
        redis::cmd("PING")
            .query_async::<String>(&mut conn)
            .await
            .map(drop)
            .map_err(|e| CacheError::Backend(e.into()))
    }
}

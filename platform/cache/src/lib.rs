//! The platform cache: short-lived copies of data whose source of truth lives elsewhere
//! (host-name resolution, a shop's settings, …). It publishes [`Cache`], a cheap handle over
//! an in-memory or a Redis backend that stores JSON values with a per-entry TTL plus small
//! string sets used to index keys for group invalidation, and [`CacheKey`], which puts every
//! tenant-owned key under its shop (DESIGN.md §3, rule 6).
//!
//! A cache failure is never fatal. Callers treat every [`CacheError`] as a miss, log it at
//! `warn` themselves (this crate does not log) and go to the source of truth. A failed delete
//! leaves the entry until its TTL runs out, which is why every entry has one.

mod memory;
mod redis;

use async_trait::async_trait;
use mercato_tenant_context::TenantId;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// A cache key. Tenant-owned data MUST use [`CacheKey::tenant`]; platform-level data (e.g.
/// host-name resolution) uses [`CacheKey::platform`].
///
/// Parts are joined with `:` as they are, so within one scope `["a:b"]` and `["a", "b"]` are
/// the same key; keys of different tenants, or of a tenant and the platform, never are.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CacheKey(String);

impl CacheKey {
    /// `t:<shop_…>:<part>:<part>…`
    pub fn tenant(tenant: TenantId, parts: &[&str]) -> Self {
        Self::joined(format!("t:{tenant}"), parts)
    }

    /// `p:<part>:<part>…`
    pub fn platform(parts: &[&str]) -> Self {
        Self::joined("p".to_owned(), parts)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn joined(mut key: String, parts: &[&str]) -> Self {
        for part in parts {
            key.push(':');
            key.push_str(part);
        }
        Self(key)
    }
}

impl fmt::Display for CacheKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a cache operation failed. Callers treat it as a miss.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CacheError {
    #[error("cache namespace must not be empty")]
    EmptyNamespace,
    /// The backend could not be reached or rejected the command.
    #[error("cache backend failed")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("could not encode the value to cache")]
    Encode(#[source] serde_json::Error),
    /// The cached value is not the requested type (e.g. written by an older release).
    #[error("cached value does not decode as the requested type")]
    Decode(#[source] serde_json::Error),
    /// A value read as a set, or a set read as a value.
    #[error("cache key `{0}` holds a different kind of value")]
    WrongKind(String),
}

/// What a backend stores: raw bytes and string sets, each with a TTL.
#[async_trait]
trait CacheBackend: Send + Sync {
    fn name(&self) -> &'static str;
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError>;
    async fn set(&self, key: &str, value: Vec<u8>, ttl: Duration) -> Result<(), CacheError>;
    async fn delete(&self, key: &str) -> Result<(), CacheError>;
    async fn add_to_set(&self, key: &str, member: &str, ttl: Duration) -> Result<(), CacheError>;
    async fn set_members(&self, key: &str) -> Result<Vec<String>, CacheError>;
    async fn ping(&self) -> Result<(), CacheError>;
}

/// A cheap-to-clone handle on the cache.
#[derive(Clone)]
pub struct Cache(Arc<dyn CacheBackend>);

impl fmt::Debug for Cache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Cache").field(&self.0.name()).finish()
    }
}

impl Cache {
    /// A cache inside this process holding at most `max_entries` entries (values and sets).
    pub fn in_memory(max_entries: u64) -> Self {
        Self(Arc::new(memory::InMemory::new(max_entries)))
    }

    /// A cache in Redis. Every key is stored as `<namespace>:<key>`, so test runs and
    /// deployments sharing one Redis never collide. Fails unless Redis answers a PING.
    pub async fn redis(url: &str, namespace: &str) -> Result<Self, CacheError> {
        Ok(Self(Arc::new(
            redis::InRedis::connect(url, namespace).await?,
        )))
    }

    /// The value at `key`, or `None` when there is none or it expired.
    pub async fn get<T: DeserializeOwned>(&self, key: &CacheKey) -> Result<Option<T>, CacheError> {
        match self.0.get(key.as_str()).await? {
            Some(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(CacheError::Decode),
            None => Ok(None),
        }
    }

    /// Stores `value` at `key` for `ttl`, replacing what was there.
    pub async fn set<T: Serialize>(
        &self,
        key: &CacheKey,
        value: &T,
        ttl: Duration,
    ) -> Result<(), CacheError> {
        let bytes = serde_json::to_vec(value).map_err(CacheError::Encode)?;
        self.0.set(key.as_str(), bytes, ttl).await
    }

    /// Removes the value or set at `key`; nothing to remove is not an error.
    pub async fn delete(&self, key: &CacheKey) -> Result<(), CacheError> {
        self.0.delete(key.as_str()).await
    }

    /// Adds `member` to the set at `key` and gives the whole set `ttl` from now. Sets index
    /// keys for group invalidation (e.g. all host names cached for one shop): list them with
    /// [`Cache::set_members`], delete each, then [`Cache::delete`] the set.
    pub async fn add_to_set(
        &self,
        key: &CacheKey,
        member: &str,
        ttl: Duration,
    ) -> Result<(), CacheError> {
        self.0.add_to_set(key.as_str(), member, ttl).await
    }

    /// The members of the set at `key`, sorted; empty when there is no set.
    pub async fn set_members(&self, key: &CacheKey) -> Result<Vec<String>, CacheError> {
        let mut members = self.0.set_members(key.as_str()).await?;
        members.sort_unstable();
        Ok(members)
    }

    /// Whether the backend answers, for `/readyz`.
    pub async fn ping(&self) -> Result<(), CacheError> {
        self.0.ping().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_key_starts_with_the_shop() {
        let tenant = TenantId::new();
        let key = CacheKey::tenant(tenant, &["settings", "v1"]);
        assert_eq!(key.as_str(), format!("t:{tenant}:settings:v1"));
        assert!(key.as_str().starts_with("t:shop_"));
        assert_eq!(
            CacheKey::tenant(tenant, &[]).as_str(),
            format!("t:{tenant}")
        );
    }

    #[test]
    fn platform_key_has_its_own_prefix() {
        let key = CacheKey::platform(&["host", "shoes.example.com"]);
        assert_eq!(key.as_str(), "p:host:shoes.example.com");
        assert_eq!(key.to_string(), key.as_str());
    }

    #[test]
    fn same_parts_make_different_keys_per_scope() {
        let (a, b) = (TenantId::new(), TenantId::new());
        let keys = [
            CacheKey::tenant(a, &["x"]),
            CacheKey::tenant(b, &["x"]),
            CacheKey::platform(&["x"]),
        ];
        assert_ne!(keys[0], keys[1]);
        assert_ne!(keys[0], keys[2]);
        assert_ne!(keys[1], keys[2]);
    }
}

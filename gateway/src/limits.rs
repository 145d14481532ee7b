//! Rate limits: one bucket per shop sized by its plan, so a noisy shop exhausts only its own
//! budget, and one bucket per client address within a shop, so one client cannot use up
//! the whole shop's budget. Requests no shop answers (the platform host, unknown hosts) take
//! from a bucket per client address, and so does every host resolution that misses the
//! cache, so a client sending made-up hosts cannot turn each request into a database read.
//! GCRA buckets from `governor`.
//!
//! tower_governor was not used: its layer has one quota for every key, and a shop's quota
//! comes from its plan (see docs/adr/0006-rate-limits.md).

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};
use mercato_kernel::Problem;
use mercato_tenant_context::TenantId;
use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

struct ShopBucket {
    rate: u32,
    burst: u32,
    limiter: DefaultDirectRateLimiter,
}

pub struct RateLimits {
    shops: Mutex<HashMap<TenantId, Arc<ShopBucket>>>,
    clients: DefaultKeyedRateLimiter<(TenantId, IpAddr)>,
    /// Per client address, for requests to the platform host and to unknown hosts.
    unscoped: DefaultKeyedRateLimiter<IpAddr>,
    /// Per client address, for host resolutions the cache could not answer.
    resolutions: DefaultKeyedRateLimiter<IpAddr>,
    checks: AtomicU64,
}

/// The per-client rates, in requests per second; each allows a burst of twice its rate.
#[derive(Debug, Clone, Copy)]
pub struct ClientRates {
    /// To one shop, on top of the shop's plan-wide limit.
    pub per_shop: u32,
    /// To the platform host and to hosts no shop answers at.
    pub unscoped: u32,
    /// Host resolutions that miss the cache.
    pub resolutions: u32,
}

fn twice(rate: u32) -> Quota {
    quota(rate, rate.saturating_mul(2))
}

fn refused(not_until: governor::NotUntil<governor::clock::QuantaInstant>) -> Problem {
    let now = DefaultClock::default().now();
    Problem::too_many_requests(not_until.wait_time_from(now).as_secs().max(1))
}

fn quota(rate: u32, burst: u32) -> Quota {
    let rate = NonZeroU32::new(rate.max(1)).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN);
    Quota::per_second(rate).allow_burst(burst)
}

impl RateLimits {
    pub fn new(rates: ClientRates) -> Self {
        Self {
            shops: Mutex::new(HashMap::new()),
            clients: RateLimiter::keyed(twice(rates.per_shop)),
            unscoped: RateLimiter::keyed(twice(rates.unscoped)),
            resolutions: RateLimiter::keyed(twice(rates.resolutions)),
            checks: AtomicU64::new(0),
        }
    }

    /// Drops idle keys now and then, so addresses seen once do not stay in memory.
    fn tidy(&self) {
        if self
            .checks
            .fetch_add(1, Ordering::Relaxed)
            .is_multiple_of(10_000)
        {
            self.clients.retain_recent();
            self.unscoped.retain_recent();
            self.resolutions.retain_recent();
        }
    }

    /// Takes one request from the client's bucket for the platform host and unknown hosts.
    pub fn check_unscoped(&self, client: IpAddr) -> Result<(), Problem> {
        self.tidy();
        self.unscoped.check_key(&client).map_err(refused)
    }

    /// Takes one host resolution (a cache miss) from the client's budget.
    pub fn check_resolution(&self, client: IpAddr) -> Result<(), Problem> {
        self.tidy();
        self.resolutions.check_key(&client).map_err(refused)
    }

    fn bucket(&self, shop: TenantId, rate: u32, burst: u32) -> Arc<ShopBucket> {
        let mut shops = self
            .shops
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match shops.get(&shop) {
            // A plan change gives the shop a fresh bucket of the new size.
            Some(bucket) if bucket.rate == rate && bucket.burst == burst => bucket.clone(),
            _ => {
                let bucket = Arc::new(ShopBucket {
                    rate,
                    burst,
                    limiter: RateLimiter::direct(quota(rate, burst)),
                });
                shops.insert(shop, bucket.clone());
                bucket
            }
        }
    }

    /// Takes one request from the shop's and the client's buckets, or answers 429.
    pub fn check(
        &self,
        shop: TenantId,
        rate: u32,
        burst: u32,
        client: Option<IpAddr>,
    ) -> Result<(), Problem> {
        self.tidy();
        if let Some(ip) = client {
            self.clients.check_key(&(shop, ip)).map_err(refused)?;
        }
        let bucket = self.bucket(shop, rate, burst);
        bucket.limiter.check().map_err(refused)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rates(per_shop: u32, unscoped: u32, resolutions: u32) -> ClientRates {
        ClientRates {
            per_shop,
            unscoped,
            resolutions,
        }
    }

    #[test]
    fn one_shop_over_its_limit_does_not_touch_another() {
        let limits = RateLimits::new(rates(1_000, 1_000, 1_000));
        let (a, b) = (TenantId::new(), TenantId::new());
        let allowed = (0..50)
            .filter(|_| limits.check(a, 5, 10, None).is_ok())
            .count();
        assert!(
            (10..=11).contains(&allowed),
            "burst of 10 (plus refill), got {allowed}"
        );
        assert!(limits.check(b, 5, 10, None).is_ok());
    }

    #[test]
    fn one_client_cannot_use_up_the_shop() {
        let limits = RateLimits::new(rates(2, 1_000, 1_000));
        let shop = TenantId::new();
        let noisy: IpAddr = [10, 0, 0, 1].into();
        let quiet: IpAddr = [10, 0, 0, 2].into();
        let allowed = (0..20)
            .filter(|_| limits.check(shop, 1_000, 1_000, Some(noisy)).is_ok())
            .count();
        assert!(allowed <= 5, "client burst is capped, got {allowed}");
        assert!(limits.check(shop, 1_000, 1_000, Some(quiet)).is_ok());
    }

    #[test]
    fn unscoped_requests_and_resolutions_are_counted_per_client() {
        let limits = RateLimits::new(rates(1_000, 2, 3));
        let noisy: IpAddr = [10, 0, 0, 1].into();
        let quiet: IpAddr = [10, 0, 0, 2].into();
        let allowed = (0..20)
            .filter(|_| limits.check_unscoped(noisy).is_ok())
            .count();
        assert!((4..=5).contains(&allowed), "burst of 4, got {allowed}");
        let refusal = limits.check_unscoped(noisy).expect_err("over the limit");
        assert_eq!(refusal.status.as_u16(), 429);
        assert!(limits.check_unscoped(quiet).is_ok());
        // Resolutions have their own budget: the noisy client may still resolve a host.
        let resolved = (0..20)
            .filter(|_| limits.check_resolution(noisy).is_ok())
            .count();
        assert!((6..=7).contains(&resolved), "burst of 6, got {resolved}");
    }
}

//! Rate limits: one bucket per shop sized by its plan, so a noisy shop exhausts only its own
//! budget, and one bucket per client address within a shop, so one client cannot use up
//! the whole shop's budget. GCRA buckets from `governor`.
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
    checks: AtomicU64,
}

fn quota(rate: u32, burst: u32) -> Quota {
    let rate = NonZeroU32::new(rate.max(1)).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN);
    Quota::per_second(rate).allow_burst(burst)
}

impl RateLimits {
    pub fn new(per_client_per_second: u32) -> Self {
        Self {
            shops: Mutex::new(HashMap::new()),
            clients: RateLimiter::keyed(quota(
                per_client_per_second,
                per_client_per_second.saturating_mul(2),
            )),
            checks: AtomicU64::new(0),
        }
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
        if self
            .checks
            .fetch_add(1, Ordering::Relaxed)
            .is_multiple_of(10_000)
        {
            self.clients.retain_recent();
        }
        let now = DefaultClock::default().now();
        if let Some(ip) = client
            && let Err(not_until) = self.clients.check_key(&(shop, ip))
        {
            return Err(Problem::too_many_requests(
                not_until.wait_time_from(now).as_secs().max(1),
            ));
        }
        let bucket = self.bucket(shop, rate, burst);
        bucket.limiter.check().map_err(|not_until| {
            Problem::too_many_requests(not_until.wait_time_from(now).as_secs().max(1))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_shop_over_its_limit_does_not_touch_another() {
        let limits = RateLimits::new(1_000);
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
        let limits = RateLimits::new(2);
        let shop = TenantId::new();
        let noisy: IpAddr = [10, 0, 0, 1].into();
        let quiet: IpAddr = [10, 0, 0, 2].into();
        let allowed = (0..20)
            .filter(|_| limits.check(shop, 1_000, 1_000, Some(noisy)).is_ok())
            .count();
        assert!(allowed <= 5, "client burst is capped, got {allowed}");
        assert!(limits.check(shop, 1_000, 1_000, Some(quiet)).is_ok());
    }
}

//! The cache's contract, the same on every backend: what a caller stores is what it reads
//! back until it expires or is deleted, and one tenant's keys never reach another's.

use crate::on_every_backend;
use crate::support::{Backend, Fixture, run};
use mercato_cache::{Cache, CacheError, CacheKey};
use mercato_tenant_context::TenantId;
use serde::{Deserialize, Serialize};
use std::time::Duration;

const MINUTE: Duration = Duration::from_secs(60);

on_every_backend!(
    a_struct_round_trips,
    a_missing_key_is_none,
    entries_expire_after_their_ttl,
    a_deleted_value_is_gone,
    tenants_with_the_same_parts_do_not_collide,
    sets_collect_members_until_deleted,
    a_key_holds_a_value_or_a_set_not_both,
);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Storefront {
    name: String,
    currency: String,
    vendor_count: u32,
    banner: Option<String>,
}

fn storefront(name: &str) -> Storefront {
    Storefront {
        name: name.to_owned(),
        currency: "EUR".to_owned(),
        vendor_count: 3,
        banner: None,
    }
}

async fn a_struct_round_trips(f: Fixture) {
    let cache = f.cache().await;
    cache.ping().await.unwrap();
    let key = CacheKey::tenant(TenantId::new(), &["storefront"]);
    cache.set(&key, &storefront("Shoes"), MINUTE).await.unwrap();
    assert_eq!(
        cache.get::<Storefront>(&key).await.unwrap(),
        Some(storefront("Shoes"))
    );

    cache.set(&key, &storefront("Boots"), MINUTE).await.unwrap();
    assert_eq!(
        cache.get::<Storefront>(&key).await.unwrap(),
        Some(storefront("Boots")),
        "a set replaces the value"
    );
    assert!(
        matches!(cache.get::<u64>(&key).await, Err(CacheError::Decode(_))),
        "another type is an error the caller treats as a miss"
    );
}

async fn a_missing_key_is_none(f: Fixture) {
    let cache = f.cache().await;
    let key = CacheKey::platform(&["host", "nowhere.example.com"]);
    assert_eq!(cache.get::<Storefront>(&key).await.unwrap(), None);
    assert_eq!(cache.set_members(&key).await.unwrap(), Vec::<String>::new());
}

async fn entries_expire_after_their_ttl(f: Fixture) {
    let cache = f.cache().await;
    let tenant = TenantId::new();
    let (short, long) = (
        CacheKey::tenant(tenant, &["short"]),
        CacheKey::tenant(tenant, &["long"]),
    );
    let hosts = CacheKey::tenant(tenant, &["hosts"]);
    let ttl = Duration::from_millis(200);
    cache.set(&short, &1, ttl).await.unwrap();
    cache.set(&long, &2, MINUTE).await.unwrap();
    cache
        .add_to_set(&hosts, "shoes.example.com", ttl)
        .await
        .unwrap();

    tokio::time::sleep(Duration::from_millis(400)).await;

    assert_eq!(cache.get::<i32>(&short).await.unwrap(), None);
    assert_eq!(
        cache.set_members(&hosts).await.unwrap(),
        Vec::<String>::new()
    );
    assert_eq!(
        cache.get::<i32>(&long).await.unwrap(),
        Some(2),
        "each entry has its own ttl"
    );
}

async fn a_deleted_value_is_gone(f: Fixture) {
    let cache = f.cache().await;
    let tenant = TenantId::new();
    let (gone, kept) = (
        CacheKey::tenant(tenant, &["gone"]),
        CacheKey::tenant(tenant, &["kept"]),
    );
    cache.set(&gone, &"a", MINUTE).await.unwrap();
    cache.set(&kept, &"b", MINUTE).await.unwrap();

    cache.delete(&gone).await.unwrap();

    assert_eq!(cache.get::<String>(&gone).await.unwrap(), None);
    assert_eq!(
        cache.get::<String>(&kept).await.unwrap().as_deref(),
        Some("b")
    );
    cache.delete(&gone).await.unwrap(); // deleting nothing is fine
}

async fn tenants_with_the_same_parts_do_not_collide(f: Fixture) {
    let cache = f.cache().await;
    let (a, b) = (TenantId::new(), TenantId::new());
    let (key_a, key_b) = (CacheKey::tenant(a, &["x"]), CacheKey::tenant(b, &["x"]));
    let platform = CacheKey::platform(&["x"]);
    cache.set(&key_a, &"shop a", MINUTE).await.unwrap();
    cache.set(&key_b, &"shop b", MINUTE).await.unwrap();
    cache.set(&platform, &"platform", MINUTE).await.unwrap();

    assert_eq!(
        cache.get::<String>(&key_a).await.unwrap().as_deref(),
        Some("shop a")
    );
    assert_eq!(
        cache.get::<String>(&key_b).await.unwrap().as_deref(),
        Some("shop b")
    );
    assert_eq!(
        cache.get::<String>(&platform).await.unwrap().as_deref(),
        Some("platform")
    );

    cache.delete(&key_a).await.unwrap();
    assert_eq!(
        cache.get::<String>(&key_b).await.unwrap().as_deref(),
        Some("shop b")
    );
    assert_eq!(
        cache.get::<String>(&platform).await.unwrap().as_deref(),
        Some("platform")
    );
}

async fn sets_collect_members_until_deleted(f: Fixture) {
    let cache = f.cache().await;
    let (a, b) = (TenantId::new(), TenantId::new());
    let (hosts_a, hosts_b) = (
        CacheKey::tenant(a, &["hosts"]),
        CacheKey::tenant(b, &["hosts"]),
    );
    for host in [
        "shoes.example.com",
        "boots.example.com",
        "shoes.example.com",
    ] {
        cache.add_to_set(&hosts_a, host, MINUTE).await.unwrap();
    }
    cache
        .add_to_set(&hosts_b, "hats.example.com", MINUTE)
        .await
        .unwrap();

    assert_eq!(
        cache.set_members(&hosts_a).await.unwrap(),
        ["boots.example.com", "shoes.example.com"],
        "members are sorted and unique"
    );

    cache.delete(&hosts_a).await.unwrap();
    assert_eq!(
        cache.set_members(&hosts_a).await.unwrap(),
        Vec::<String>::new()
    );
    assert_eq!(
        cache.set_members(&hosts_b).await.unwrap(),
        ["hats.example.com"]
    );
}

async fn a_key_holds_a_value_or_a_set_not_both(f: Fixture) {
    let cache = f.cache().await;
    let tenant = TenantId::new();
    let (value, set) = (
        CacheKey::tenant(tenant, &["value"]),
        CacheKey::tenant(tenant, &["set"]),
    );
    cache.set(&value, &1, MINUTE).await.unwrap();
    cache.add_to_set(&set, "m", MINUTE).await.unwrap();

    assert!(matches!(
        cache.add_to_set(&value, "m", MINUTE).await,
        Err(CacheError::WrongKind(_))
    ));
    assert!(matches!(
        cache.set_members(&value).await,
        Err(CacheError::WrongKind(_))
    ));
    assert!(matches!(
        cache.get::<i32>(&set).await,
        Err(CacheError::WrongKind(_))
    ));
    assert_eq!(
        cache.get::<i32>(&value).await.unwrap(),
        Some(1),
        "the value is untouched"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_namespaces_do_not_see_each_other() {
    run(
        Backend::Redis,
        concat!(module_path!(), "::redis_namespaces_do_not_see_each_other"),
        |f| async move {
            let (staging, production) = (f.cache().await, f.cache().await);
            let key = CacheKey::platform(&["host", "shoes.example.com"]);
            let hosts = CacheKey::tenant(TenantId::new(), &["hosts"]);
            staging.set(&key, &"staging", MINUTE).await.unwrap();
            staging
                .add_to_set(&hosts, "shoes.example.com", MINUTE)
                .await
                .unwrap();

            assert_eq!(production.get::<String>(&key).await.unwrap(), None);
            assert_eq!(
                production.set_members(&hosts).await.unwrap(),
                Vec::<String>::new()
            );

            production.set(&key, &"production", MINUTE).await.unwrap();
            production.delete(&hosts).await.unwrap();
            assert_eq!(
                staging.get::<String>(&key).await.unwrap().as_deref(),
                Some("staging")
            );
            assert_eq!(
                staging.set_members(&hosts).await.unwrap(),
                ["shoes.example.com"]
            );
        },
    )
    .await;
}

#[tokio::test]
async fn redis_that_does_not_answer_fails_at_construction() {
    // Port 1 on loopback: nothing listens, so the connection is refused at once.
    let outcome = Cache::redis("redis://127.0.0.1:1", "mercato-cache-test").await;
    assert!(matches!(outcome, Err(CacheError::Backend(_))));
    assert!(matches!(
        Cache::redis("redis://127.0.0.1:1", "").await,
        Err(CacheError::EmptyNamespace)
    ));
}

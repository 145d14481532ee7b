//! The backend matrix: one cache per test on each backend, Redis namespaces emptied afterwards.

use deadpool_redis::redis::AsyncCommands as _;
use mercato_cache::Cache;
use std::future::Future;
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone, Copy)]
pub enum Backend {
    InMemory,
    Redis,
}

/// Opens caches on one backend for one test and remembers the Redis namespaces it used.
#[derive(Clone)]
pub struct Fixture {
    redis_url: Option<String>,
    namespaces: Arc<Mutex<Vec<String>>>,
}

impl Fixture {
    /// A new, empty cache: a fresh in-memory cache, or a fresh Redis namespace.
    pub async fn cache(&self) -> Cache {
        match &self.redis_url {
            None => Cache::in_memory(1_000),
            Some(url) => {
                let namespace = format!("mercato-cache-test:{}", uuid::Uuid::now_v7().simple());
                self.namespaces.lock().unwrap().push(namespace.clone());
                Cache::redis(url, &namespace)
                    .await
                    .expect("connect to redis")
            }
        }
    }
}

/// The Redis URL, or `None` after saying the test is skipped (a failure when
/// `MERCATO_TEST_REQUIRE_BACKENDS=1`).
fn redis_url(test: &str) -> Option<String> {
    match std::env::var("MERCATO_TEST_REDIS_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("MERCATO_TEST_REQUIRE_BACKENDS").as_deref() == Ok("1") => {
            panic!("{test} needs MERCATO_TEST_REDIS_URL (MERCATO_TEST_REQUIRE_BACKENDS=1)")
        }
        _ => {
            eprintln!("SKIPPED: {test} needs MERCATO_TEST_REDIS_URL");
            None
        }
    }
}

pub async fn run<F, Fut>(backend: Backend, test: &str, body: F)
where
    F: FnOnce(Fixture) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let redis_url = match backend {
        Backend::InMemory => None,
        Backend::Redis => match redis_url(test) {
            Some(url) => Some(url),
            None => return,
        },
    };
    let fixture = Fixture {
        redis_url,
        namespaces: Arc::default(),
    };
    let outcome = tokio::spawn(body(fixture.clone())).await;
    if let Some(url) = &fixture.redis_url {
        let namespaces = fixture.namespaces.lock().unwrap().clone();
        for namespace in namespaces {
            purge(url, &namespace).await;
        }
    }
    if let Err(error) = outcome {
        std::panic::resume_unwind(error.into_panic());
    }
}

/// Deletes every key under `namespace`.
async fn purge(url: &str, namespace: &str) {
    let client = deadpool_redis::redis::Client::open(url).expect("redis url");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("connect to redis");
    let keys: Vec<String> = {
        let mut iter = conn
            .scan_match::<_, String>(format!("{namespace}:*"))
            .await
            .expect("scan");
        let mut keys = Vec::new();
        while let Some(key) = iter.next_item().await {
            keys.push(key.expect("scan item"));
        }
        keys
    };
    if !keys.is_empty() {
        let _: () = conn.del(keys).await.expect("delete test keys");
    }
}

/// Declares each listed `async fn(Fixture)` as one test per backend:
/// `in_memory::<name>` and `redis::<name>`.
#[macro_export]
macro_rules! on_every_backend {
    ($($name:ident),* $(,)?) => {
        mod in_memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let test = concat!(module_path!(), "::", stringify!($name));
                    $crate::support::run($crate::support::Backend::InMemory, test, super::$name).await;
                }
            )*
        }
        mod redis {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let test = concat!(module_path!(), "::", stringify!($name));
                    $crate::support::run($crate::support::Backend::Redis, test, super::$name).await;
                }
            )*
        }
    };
}

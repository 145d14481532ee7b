//! A migrated database of its own for each test, on each backend, with a test provider, a
//! webhook worker and a sink that records what it is given.

use async_trait::async_trait;
use mercato_db::{Db, DbTarget};
use mercato_jobs::Worker;
use mercato_kernel::{Currency, Money};
use mercato_payments::event::{self, ProviderEvent};
use mercato_payments::signature;
use mercato_payments::test_provider::{self, TestProvider, WebhookSink};
use mercato_payments::{IntentRequest, PaymentMethod};
use mercato_tenant_context::TenantId;
use sea_orm::ConnectionTrait as _;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const SECRET: &str = "whsec_payments_test_secret";

/// How long a card that needs authentication (or the processing card) waits in these tests.
pub const DELAY: Duration = Duration::from_millis(400);

#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// One webhook as the sink received it.
#[derive(Debug, Clone)]
pub struct Delivered {
    pub tenant: TenantId,
    pub header: String,
    pub body: Vec<u8>,
}

impl Delivered {
    /// Checks the signature as a receiver would, then parses the event.
    pub fn event(&self) -> ProviderEvent {
        let now = chrono::Utc::now().timestamp();
        signature::verify(&self.header, &self.body, &[SECRET.to_owned()], now, 300)
            .expect("a valid signature");
        event::parse(&self.body).expect("a parsable event")
    }
}

/// Records deliveries; refuses the first `failures` of them.
#[derive(Default)]
pub struct RecordingSink {
    delivered: Mutex<Vec<Delivered>>,
    failures: AtomicUsize,
}

impl RecordingSink {
    pub fn fail_next(&self, n: usize) {
        self.failures.store(n, Ordering::SeqCst);
    }

    pub fn delivered(&self) -> Vec<Delivered> {
        self.delivered.lock().unwrap().clone()
    }
}

#[async_trait]
impl WebhookSink for RecordingSink {
    async fn deliver(
        &self,
        tenant: TenantId,
        signature_header: String,
        body: Vec<u8>,
    ) -> Result<(), String> {
        if self
            .failures
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err("endpoint answered 503".into());
        }
        self.delivered.lock().unwrap().push(Delivered {
            tenant,
            header: signature_header,
            body,
        });
        Ok(())
    }
}

/// The provider under test, its webhook worker and where its webhooks land.
#[derive(Clone)]
pub struct Service {
    pub db: Db,
    pub provider: TestProvider,
    pub sink: Arc<RecordingSink>,
    pub worker: Worker,
}

impl Service {
    pub fn new(db: Db) -> Self {
        let provider = TestProvider::new(db.clone(), SECRET.to_owned(), DELAY);
        let sink = Arc::new(RecordingSink::default());
        let worker = test_provider::webhook_worker(&provider, sink.clone())
            .poll_interval(Duration::from_millis(20))
            .backoff(Duration::from_millis(50), Duration::from_millis(200));
        Self {
            db,
            provider,
            sink,
            worker,
        }
    }

    /// Runs every webhook job due now; how many ran.
    pub async fn deliver_due(&self) -> usize {
        let mut ran = 0;
        // A round runs a batch of up to 16 jobs; count the jobs, not the rounds.
        loop {
            match self.worker.run_batch().await.unwrap() {
                0 => break,
                batch => ran += batch,
            }
        }
        ran
    }

    /// Runs webhook jobs as they fall due until `expected` have run (or about four seconds
    /// have passed); how many ran.
    pub async fn deliver_when_due(&self, expected: usize) -> usize {
        let mut ran = 0;
        for _ in 0..200 {
            ran += self.deliver_due().await;
            if ran >= expected {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        ran
    }

    /// The events delivered so far, verified and parsed.
    pub fn events(&self) -> Vec<ProviderEvent> {
        self.sink.delivered().iter().map(Delivered::event).collect()
    }
}

pub fn eur(amount: i64) -> Money {
    Money::new(amount, Currency::parse("EUR").unwrap())
}

/// A payment of `amount` euro cents by `card` for a new order of `tenant`.
pub fn paying(tenant: TenantId, card: &str, amount: i64) -> IntentRequest {
    let order = format!("ord_{}", uuid::Uuid::now_v7().simple());
    IntentRequest {
        tenant,
        order_ref: order.clone(),
        amount: eur(amount),
        method: PaymentMethod::Card {
            number: card.to_owned(),
        },
        idempotency_key: format!("pay-{order}"),
        transfer_group: order.clone(),
        description: format!("Order {order}"),
    }
}

/// Runs `body` against a fresh, migrated database on `backend`. PostgreSQL needs
/// `MERCATO_TEST_POSTGRES_URL` (skipped without it, unless `MERCATO_TEST_REQUIRE_BACKENDS=1`);
/// its schema is dropped afterwards, pass or fail.
pub async fn run<F, Fut>(backend: Backend, test: &str, body: F)
where
    F: FnOnce(Service) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("payments.db");
    let schema = format!("payments_test_{}", uuid::Uuid::now_v7().simple());
    let url = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => match mercato_testkit::backend(mercato_testkit::POSTGRES, test) {
            Some(url) => Some(url),
            None => return,
        },
    };
    let connect = || async {
        match &url {
            None => Db::connect(DbTarget::Sqlite(&path), 5).await,
            Some(url) => {
                Db::connect(
                    DbTarget::Postgres {
                        url,
                        schema: &schema,
                    },
                    8,
                )
                .await
            }
        }
        .expect("connect")
    };
    let db = connect().await;
    // As in the host service (orders): its jobs table, then the payments tables.
    mercato_db::migrate(&db, "host", &[mercato_jobs::JOBS_MIGRATION])
        .await
        .expect("migrate the jobs table");
    mercato_payments::migrate(&db).await.expect("migrate");
    let outcome = tokio::spawn(body(Service::new(db))).await;
    if url.is_some() {
        let admin = connect().await;
        admin
            .raw_connection()
            .execute_unprepared(&format!("DROP SCHEMA {schema} CASCADE"))
            .await
            .expect("drop the test schema");
        admin.close().await.expect("close");
    }
    if let Err(error) = outcome {
        std::panic::resume_unwind(error.into_panic());
    }
}

/// Declares each listed `async fn(Service)` as a test per backend.
#[macro_export]
macro_rules! on_every_backend {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let test = concat!(module_path!(), "::", stringify!($name));
                    $crate::support::run($crate::support::Backend::Sqlite, test, super::$name).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let test = concat!(module_path!(), "::", stringify!($name));
                    $crate::support::run($crate::support::Backend::Postgres, test, super::$name).await;
                }
            )*
        }
    };
}

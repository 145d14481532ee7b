//! A migrated database of its own for each test, on each backend (through
//! `mercato_testkit`), with a test provider, a webhook worker and a sink that records what it
//! is given.

use async_trait::async_trait;
use mercato_db::Db;
use mercato_jobs::Worker;
use mercato_kernel::{Currency, Money};
use mercato_payments::event::{self, ProviderEvent};
use mercato_payments::signature;
use mercato_payments::test_provider::{self, TestProvider, WebhookSink};
use mercato_payments::{IntentRequest, PaymentMethod};
use mercato_tenant_context::TenantId;
use mercato_testkit::TestDb;
use sea_orm::DbErr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const SECRET: &str = "whsec_payments_test_secret";

/// How long a card that needs authentication (or the processing card) waits in these tests.
pub const DELAY: Duration = Duration::from_millis(400);

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

    /// The service on the test's database.
    pub async fn start(t: &TestDb) -> Self {
        Self::new(t.db.clone())
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

/// The tests' database: as in the host service (orders), its jobs table, then the payments
/// tables.
pub struct Payments;

impl mercato_testkit::Schema for Payments {
    const NAME: &'static str = "payments";
    const POSTGRES_CONNECTIONS: u32 = 8;

    async fn migrate(db: &Db) -> Result<(), DbErr> {
        mercato_db::migrate(db, "host", &[mercato_jobs::JOBS_MIGRATION]).await?;
        mercato_payments::migrate(db).await
    }
}

/// Declares each listed `async fn(Service)` as a test per backend (see
/// `mercato_testkit::on_every_database!`).
#[macro_export]
macro_rules! on_every_backend {
    ($($name:ident),* $(,)?) => {
        mercato_testkit::on_every_database!(
            $crate::support::Payments, $crate::support::Service::start; $($name),*
        );
    };
}

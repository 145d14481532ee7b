//! Outbox → relay → bus → inbox, on every database.

use crate::support::{CrashAfterPublish, Recorder, Tables as _, TestDb, event, on_every_database};
use async_trait::async_trait;
use mercato_db::Db;
use mercato_events::{
    Bus, Envelope, Handler, HandlerError, InProcessBus, Relay, enqueue, enqueue_all, mark_processed,
};
use mercato_tenant_context::TenantId;
use sea_orm::{ConnectionTrait, Statement};
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

on_every_database!(
    rolled_back_event_is_never_published,
    committed_events_are_published_in_order_once,
    relay_killed_before_marking_republishes_and_the_inbox_applies_once,
    events_survive_a_restart,
    run_wakes_on_the_notifier_and_stops_on_shutdown,
    concurrent_relays_publish_each_event_once,
    events_enqueued_together_keep_their_order_among_the_rest,
);

async fn recording_bus() -> (Arc<InProcessBus>, Arc<Recorder>) {
    let bus = Arc::new(InProcessBus::new());
    let recorder = Arc::new(Recorder::default());
    bus.subscribe("recorder", &["#"], recorder.clone())
        .await
        .unwrap();
    (bus, recorder)
}

async fn commit_events(db: &Db, tenant: TenantId, events: &[&Envelope]) {
    let tx = db.tenant_tx(tenant).await.unwrap();
    for event in events {
        enqueue(&*tx, event).await.unwrap();
    }
    tx.commit().await.unwrap();
}

async fn events_enqueued_together_keep_their_order_among_the_rest(t: TestDb) {
    let (bus, recorder) = recording_bus().await;
    let relay = Relay::new(t.db.clone(), bus);
    let tenant = TenantId::new();
    let [e1, e2, e3, e4, e5] =
        ["shop.e1", "shop.e2", "shop.e3", "shop.e4", "shop.e5"].map(|n| event(n, tenant));
    commit_events(&t.db, tenant, &[&e1]).await;
    let tx = t.db.tenant_tx(tenant).await.unwrap();
    enqueue_all(&*tx, &[e2.clone(), e3.clone()]).await.unwrap();
    enqueue(&*tx, &e4).await.unwrap();
    tx.commit().await.unwrap();
    // Rolled back together: none of them exists.
    let tx = t.db.tenant_tx(tenant).await.unwrap();
    enqueue_all(
        &*tx,
        &[event("shop.gone", tenant), event("shop.gone", tenant)],
    )
    .await
    .unwrap();
    drop(tx);
    commit_events(&t.db, tenant, &[&e5]).await;

    assert_eq!(relay.relay_once().await.unwrap(), 5);
    assert_eq!(recorder.events(), [e1, e2, e3, e4, e5]);
    // A bad name anywhere in the list refuses the whole list.
    let tx = t.db.tenant_tx(tenant).await.unwrap();
    let bad = Envelope {
        name: "no dots".into(),
        ..event("shop.e6", tenant)
    };
    assert!(
        enqueue_all(&*tx, &[event("shop.e7", tenant), bad])
            .await
            .is_err()
    );
    drop(tx);
    assert_eq!(t.count("SELECT COUNT(*) FROM outbox").await, 5);
    t.finish().await;
}

async fn rolled_back_event_is_never_published(t: TestDb) {
    let (bus, recorder) = recording_bus().await;
    let relay = Relay::new(t.db.clone(), bus);
    let tenant = TenantId::new();

    let rolled_back = event("shop.created", tenant);
    let tx = t.db.tenant_tx(tenant).await.unwrap();
    enqueue(&*tx, &rolled_back).await.unwrap();
    drop(tx);

    assert_eq!(relay.relay_once().await.unwrap(), 0);
    assert!(recorder.events().is_empty());
    assert_eq!(t.count("SELECT COUNT(*) FROM outbox").await, 0);

    // The same relay does publish a committed one, so the zero above means something.
    let kept = event("shop.renamed", tenant);
    commit_events(&t.db, tenant, &[&kept]).await;
    assert_eq!(relay.relay_once().await.unwrap(), 1);
    assert_eq!(recorder.events(), [kept]);
    t.finish().await;
}

async fn committed_events_are_published_in_order_once(t: TestDb) {
    let (bus, recorder) = recording_bus().await;
    let relay = Relay::new(t.db.clone(), bus);
    let (a, b) = (TenantId::new(), TenantId::new());
    // Built in one order, committed in another: "oldest" means oldest committed.
    let [e1, e2, e3, e4, e5] =
        ["shop.e1", "shop.e2", "shop.e3", "shop.e4", "shop.e5"].map(|n| event(n, a));
    let e3 = Envelope { tenant_id: b, ..e3 };
    commit_events(&t.db, a, &[&e2]).await;
    commit_events(&t.db, b, &[&e3]).await;
    commit_events(&t.db, a, &[&e1, &e5]).await;
    commit_events(&t.db, a, &[&e4]).await;

    assert_eq!(relay.relay_once().await.unwrap(), 5);
    assert_eq!(recorder.events(), [e2, e3, e1, e5, e4]);
    assert_eq!(
        t.count("SELECT COUNT(*) FROM outbox WHERE published_at IS NOT NULL")
            .await,
        5
    );

    assert_eq!(relay.relay_once().await.unwrap(), 0);
    assert_eq!(recorder.events().len(), 5);
    t.finish().await;
}

/// A consumer whose effect is a counter in its own database, guarded by the inbox.
struct ApplyOnce {
    db: Db,
    deliveries: AtomicUsize,
}

#[async_trait]
impl Handler for ApplyOnce {
    async fn handle(&self, event: &Envelope) -> Result<(), HandlerError> {
        self.deliveries.fetch_add(1, Ordering::SeqCst);
        let tx = self.db.tenant_tx(event.tenant_id).await?;
        if mark_processed(&*tx, "apply-once", event).await? {
            tx.execute_raw(Statement::from_sql_and_values(
                tx.get_database_backend(),
                "INSERT INTO effects (tenant_id, applied) VALUES ($1, 1) \
                 ON CONFLICT (tenant_id) DO UPDATE SET applied = effects.applied + 1",
                [event.tenant_id.as_uuid().into()],
            ))
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

async fn relay_killed_before_marking_republishes_and_the_inbox_applies_once(t: TestDb) {
    let bus = Arc::new(InProcessBus::new());
    let consumer = Arc::new(ApplyOnce {
        db: t.db.clone(),
        deliveries: AtomicUsize::new(0),
    });
    bus.subscribe("apply-once", &["shop.*"], consumer.clone())
        .await
        .unwrap();
    let tenant = TenantId::new();
    let created = event("shop.created", tenant);
    commit_events(&t.db, tenant, &[&created]).await;

    let crashing = Arc::new(CrashAfterPublish::new(bus.clone()));
    let doomed = Relay::new(t.db.clone(), crashing.clone());
    tokio::select! {
        result = doomed.relay_once() => panic!("the crashing relay returned {result:?}"),
        () = crashing.published.notified() => {}
    }
    // The relay_once future is dropped here, mid-batch, like a killed process.
    assert_eq!(consumer.deliveries.load(Ordering::SeqCst), 1);
    assert_eq!(
        t.count("SELECT COUNT(*) FROM outbox WHERE published_at IS NULL")
            .await,
        1
    );

    let relay = Relay::new(t.db.clone(), bus);
    assert_eq!(
        relay.relay_once().await.unwrap(),
        1,
        "the unmarked event is published again"
    );
    assert_eq!(consumer.deliveries.load(Ordering::SeqCst), 2);
    assert_eq!(t.effects(tenant).await, 1, "the redelivery had no effect");
    assert_eq!(relay.relay_once().await.unwrap(), 0);

    // A new event still has its effect: the inbox only skips what it has seen.
    commit_events(&t.db, tenant, &[&event("shop.renamed", tenant)]).await;
    assert_eq!(relay.relay_once().await.unwrap(), 1);
    assert_eq!(t.effects(tenant).await, 2);
    t.finish().await;
}

async fn events_survive_a_restart(t: TestDb) {
    let tenant = TenantId::new();
    let created = event("shop.created", tenant);
    commit_events(&t.db, tenant, &[&created]).await;

    let t = t.restart().await;
    let (bus, recorder) = recording_bus().await;
    let relay = Relay::new(t.db.clone(), bus);
    assert_eq!(relay.relay_once().await.unwrap(), 1);
    assert_eq!(
        recorder.events(),
        [created],
        "the envelope comes back unchanged"
    );
    t.finish().await;
}

/// Forwards each event to the test.
struct Forward(mpsc::UnboundedSender<Envelope>);

#[async_trait]
impl Handler for Forward {
    async fn handle(&self, event: &Envelope) -> Result<(), HandlerError> {
        let _ = self.0.send(event.clone());
        Ok(())
    }
}

async fn run_wakes_on_the_notifier_and_stops_on_shutdown(t: TestDb) {
    let bus = Arc::new(InProcessBus::new());
    let (tx, mut received) = mpsc::unbounded_channel();
    bus.subscribe("forward", &["#"], Arc::new(Forward(tx)))
        .await
        .unwrap();
    // A poll interval no test outlives: only the notifier can explain a prompt delivery.
    let relay = Relay::new(t.db.clone(), bus).with_poll_interval(Duration::from_secs(3600));
    let notifier = relay.notifier();
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(relay.run(shutdown.clone()));
    let tenant = TenantId::new();

    for name in ["shop.created", "shop.renamed"] {
        let sent = event(name, tenant);
        commit_events(&t.db, tenant, &[&sent]).await;
        notifier.notify_one();
        let got = tokio::time::timeout(Duration::from_secs(10), received.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got, sent);
    }

    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(10), running)
        .await
        .unwrap()
        .unwrap();
    t.finish().await;
}

/// Slow enough that concurrent relays overlap.
struct SlowRecorder(Recorder);

#[async_trait]
impl Handler for SlowRecorder {
    async fn handle(&self, event: &Envelope) -> Result<(), HandlerError> {
        tokio::time::sleep(Duration::from_millis(1)).await;
        self.0.handle(event).await
    }
}

async fn concurrent_relays_publish_each_event_once(t: TestDb) {
    if !t.is_postgres() {
        // SQLite runs one relay per file by design (embedded, single writer).
        return t.finish().await;
    }
    let bus = Arc::new(InProcessBus::new());
    let recorder = Arc::new(SlowRecorder(Recorder::default()));
    bus.subscribe("recorder", &["#"], recorder.clone())
        .await
        .unwrap();
    let tenant = TenantId::new();
    let events: Vec<Envelope> = (0..250).map(|_| event("shop.updated", tenant)).collect();
    commit_events(&t.db, tenant, &events.iter().collect::<Vec<_>>()).await;

    let relays = (0..3).map(|_| {
        let relay = Relay::new(t.db.clone(), bus.clone() as Arc<dyn Bus>);
        tokio::spawn(async move {
            let mut total = 0;
            loop {
                match relay.relay_once().await.unwrap() {
                    0 => return total,
                    n => total += n,
                }
            }
        })
    });
    let mut published = 0;
    for relay in relays.collect::<Vec<_>>() {
        published += relay.await.unwrap();
    }
    let seen: HashSet<_> = recorder.0.events().iter().map(|e| e.id).collect();
    assert_eq!(published, 250);
    assert_eq!(
        recorder.0.events().len(),
        250,
        "no event was published twice"
    );
    assert_eq!(seen, events.iter().map(|e| e.id).collect());
    t.finish().await;
}

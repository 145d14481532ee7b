//! The inbox's batch form, `mark_processed_all`, on every database.

use crate::support::{Tables as _, TestDb, event, on_every_database};
use mercato_events::{Envelope, mark_processed, mark_processed_all};
use mercato_tenant_context::TenantId;

on_every_database!(
    tells_new_from_processed_and_repeated_events,
    marks_more_events_than_one_statement_holds,
    records_nothing_when_the_transaction_rolls_back,
    refuses_events_of_several_shops,
);

/// How many events `consumer` has recorded, across shops.
async fn recorded(t: &TestDb, consumer: &str) -> i64 {
    t.count(&format!(
        "SELECT COUNT(*) FROM processed_events WHERE consumer = '{consumer}'"
    ))
    .await
}

async fn mark_all(t: &TestDb, tenant: TenantId, consumer: &str, events: &[&Envelope]) -> Vec<bool> {
    let tx = t.db.tenant_tx(tenant).await.unwrap();
    let new = mark_processed_all(&*tx, consumer, events).await.unwrap();
    tx.commit().await.unwrap();
    new
}

async fn tells_new_from_processed_and_repeated_events(t: TestDb) {
    let tenant = TenantId::new();
    let [seen, a, b] = ["stock.changed", "stock.changed", "order.placed"].map(|n| event(n, tenant));
    let tx = t.db.tenant_tx(tenant).await.unwrap();
    assert!(mark_processed(&*tx, "mirror", &seen).await.unwrap());
    tx.commit().await.unwrap();

    assert_eq!(
        mark_all(&t, tenant, "mirror", &[&a, &seen, &b, &a]).await,
        [true, false, true, false]
    );
    assert_eq!(recorded(&t, "mirror").await, 3);

    // Recorded for good: a redelivery of the lot is new to nobody, one-by-one or batched.
    assert_eq!(
        mark_all(&t, tenant, "mirror", &[&b, &a, &seen]).await,
        [false, false, false]
    );
    let tx = t.db.tenant_tx(tenant).await.unwrap();
    assert!(!mark_processed(&*tx, "mirror", &b).await.unwrap());
    drop(tx);

    // The inbox is per consumer: another one has seen none of them.
    assert_eq!(
        mark_all(&t, tenant, "search", &[&seen, &a, &b]).await,
        [true, true, true]
    );
    assert_eq!(recorded(&t, "mirror").await, 3);
    assert_eq!(recorded(&t, "search").await, 3);

    assert!(mark_all(&t, tenant, "mirror", &[]).await.is_empty());
    t.finish().await;
}

async fn marks_more_events_than_one_statement_holds(t: TestDb) {
    let tenant = TenantId::new();
    let events: Vec<Envelope> = (0..1200).map(|_| event("stock.changed", tenant)).collect();
    let (old, _) = events.split_at(700);
    let old: Vec<&Envelope> = old.iter().collect();
    assert!(
        mark_all(&t, tenant, "mirror", &old)
            .await
            .iter()
            .all(|new| *new)
    );
    assert_eq!(recorded(&t, "mirror").await, 700);

    let all: Vec<&Envelope> = events.iter().collect();
    let new = mark_all(&t, tenant, "mirror", &all).await;
    assert_eq!(new.len(), 1200);
    assert!(
        new[..700].iter().all(|new| !new),
        "the first 700 were recorded"
    );
    assert!(new[700..].iter().all(|new| *new), "the last 500 were not");
    assert_eq!(recorded(&t, "mirror").await, 1200);
    t.finish().await;
}

async fn records_nothing_when_the_transaction_rolls_back(t: TestDb) {
    let tenant = TenantId::new();
    let [a, b] = ["stock.changed", "stock.changed"].map(|n| event(n, tenant));
    let tx = t.db.tenant_tx(tenant).await.unwrap();
    assert_eq!(
        mark_processed_all(&*tx, "mirror", &[&a, &b]).await.unwrap(),
        [true, true]
    );
    drop(tx);
    assert_eq!(recorded(&t, "mirror").await, 0);
    // So the redelivery applies them.
    assert_eq!(
        mark_all(&t, tenant, "mirror", &[&b, &a]).await,
        [true, true]
    );
    t.finish().await;
}

async fn refuses_events_of_several_shops(t: TestDb) {
    let (shop, other) = (TenantId::new(), TenantId::new());
    let (own, foreign) = (event("stock.changed", shop), event("stock.changed", other));
    let tx = t.db.tenant_tx(shop).await.unwrap();
    assert!(
        mark_processed_all(&*tx, "mirror", &[&own, &foreign])
            .await
            .is_err()
    );
    drop(tx);
    // On PostgreSQL row-level security also keeps a shop's transaction from recording
    // another shop's events.
    if t.is_postgres() {
        let tx = t.db.tenant_tx(shop).await.unwrap();
        assert!(
            mark_processed_all(&*tx, "mirror", &[&foreign])
                .await
                .is_err()
        );
        drop(tx);
    }
    assert_eq!(recorded(&t, "mirror").await, 0);
    t.finish().await;
}

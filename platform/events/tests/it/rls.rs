//! The outbox and inbox are tenant tables: on PostgreSQL, row-level security keeps one
//! shop's events out of another shop's transactions.

use crate::support::{Events, TestDb, event};
use mercato_db::TxConn;
use mercato_events::{InProcessBus, Relay, enqueue, mark_processed};
use mercato_tenant_context::TenantId;
use sea_orm::{ConnectionTrait, Statement};
use std::sync::Arc;

async fn count(tx: &TxConn, sql: &str) -> i64 {
    let row = tx
        .query_one_raw(Statement::from_string(tx.get_database_backend(), sql))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index(0).unwrap()
}

#[tokio::test]
async fn outbox_rows_are_visible_only_to_their_tenant() {
    let Some(t) =
        TestDb::postgres::<Events>("rls::outbox_rows_are_visible_only_to_their_tenant").await
    else {
        return;
    };
    let (a, b) = (TenantId::new(), TenantId::new());
    let created = event("shop.created", a);
    let tx = t.db.tenant_tx(a).await.unwrap();
    enqueue(&*tx, &created).await.unwrap();
    assert!(mark_processed(&*tx, "someone", &created).await.unwrap());
    tx.commit().await.unwrap();

    let other = t.db.tenant_tx(b).await.unwrap();
    assert_eq!(count(&other, "SELECT COUNT(*) FROM outbox").await, 0);
    assert_eq!(
        count(&other, "SELECT COUNT(*) FROM processed_events").await,
        0
    );
    drop(other);

    let own = t.db.tenant_tx(a).await.unwrap();
    assert_eq!(count(&own, "SELECT COUNT(*) FROM outbox").await, 1);
    assert_eq!(
        count(&own, "SELECT COUNT(*) FROM processed_events").await,
        1
    );
    drop(own);

    // Nor can a shop's transaction write another shop's event.
    let other = t.db.tenant_tx(b).await.unwrap();
    assert!(enqueue(&*other, &event("shop.renamed", a)).await.is_err());
    drop(other);

    // A connection that set no tenant sees nothing; the relay's platform scope sees it.
    let unscoped =
        t.db.raw_connection()
            .query_one_raw(Statement::from_string(
                t.db.backend(),
                "SELECT COUNT(*) FROM outbox",
            ))
            .await
            .unwrap()
            .unwrap();
    assert_eq!(unscoped.try_get_by_index::<i64>(0).unwrap(), 0);
    let relay = Relay::new(t.db.clone(), Arc::new(InProcessBus::new()));
    assert_eq!(relay.relay_once().await.unwrap(), 1);
    t.finish().await;
}

#[tokio::test]
async fn a_read_transaction_sees_its_tenant_and_writes_nothing() {
    let Some(t) =
        TestDb::postgres::<Events>("rls::a_read_transaction_sees_its_tenant_and_writes_nothing")
            .await
    else {
        return;
    };
    let (a, b) = (TenantId::new(), TenantId::new());
    let tx = t.db.tenant_tx(a).await.unwrap();
    enqueue(&*tx, &event("shop.created", a)).await.unwrap();
    tx.commit().await.unwrap();

    let read = t.db.tenant_read(a).await.unwrap();
    assert_eq!(count(&read, "SELECT COUNT(*) FROM outbox").await, 1);
    // READ ONLY: even its own shop's row cannot be written.
    assert!(enqueue(&*read, &event("shop.renamed", a)).await.is_err());
    drop(read);
    let other = t.db.tenant_read(b).await.unwrap();
    assert_eq!(count(&other, "SELECT COUNT(*) FROM outbox").await, 0);
    drop(other);
    let platform =
        t.db.platform_read("test: count every shop's events")
            .await
            .unwrap();
    assert_eq!(count(&platform, "SELECT COUNT(*) FROM outbox").await, 1);
    assert!(
        enqueue(&*platform, &event("shop.renamed", b))
            .await
            .is_err()
    );
    drop(platform);
    t.finish().await;
}

/// PostgreSQL transactions begin with their scope in one round trip on sqlx's own
/// transaction (ADR 0021): one dropped without a commit leaves nothing, and a duplicate
/// key is still told apart from other errors.
#[tokio::test]
async fn a_dropped_transaction_leaves_nothing_and_a_duplicate_is_recognised() {
    let Some(t) = TestDb::postgres::<Events>(
        "rls::a_dropped_transaction_leaves_nothing_and_a_duplicate_is_recognised",
    )
    .await
    else {
        return;
    };
    let a = TenantId::new();
    let created = event("shop.created", a);
    let tx = t.db.tenant_tx(a).await.unwrap();
    enqueue(&*tx, &created).await.unwrap();
    assert_eq!(count(&tx, "SELECT COUNT(*) FROM outbox").await, 1);
    drop(tx);
    let tx = t.db.tenant_tx(a).await.unwrap();
    assert_eq!(count(&tx, "SELECT COUNT(*) FROM outbox").await, 0);
    enqueue(&*tx, &created).await.unwrap();
    let again = enqueue(&*tx, &created).await.unwrap_err();
    assert!(mercato_db::is_unique_violation(&again), "{again}");
    drop(tx);
    let tx = t.db.tenant_tx(a).await.unwrap();
    enqueue(&*tx, &created).await.unwrap();
    tx.commit().await.unwrap();
    let read = t.db.tenant_read(a).await.unwrap();
    assert_eq!(count(&read, "SELECT COUNT(*) FROM outbox").await, 1);
    drop(read);
    t.finish().await;
}

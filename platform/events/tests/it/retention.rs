//! Retention: published outbox rows and inbox records older than their window are purged,
//! in batches, on every database; unpublished rows and anything within its window stay.

use crate::support::{Tables as _, TestDb, event, on_every_database};
use chrono::{DateTime, TimeDelta, Utc};
use mercato_events::{
    Envelope, KEEP_PROCESSED, KEEP_PUBLISHED, PURGE_BATCH, enqueue_all, mark_processed,
    purge_processed, purge_published,
};
use mercato_tenant_context::TenantId;
use sea_orm::{ConnectionTrait, Statement};

on_every_database!(
    purges_published_events_past_the_window_only,
    purges_a_backlog_larger_than_one_batch,
    purges_inbox_records_past_the_window_only,
);

async fn enqueue_committed(t: &TestDb, tenant: TenantId, events: &[Envelope]) {
    let tx = t.db.tenant_tx(tenant).await.unwrap();
    enqueue_all(&*tx, events).await.unwrap();
    tx.commit().await.unwrap();
}

/// Sets a timestamp column of the rows of `table` whose `key` column is `id`, as if the
/// row had been written at `at`.
async fn age(
    t: &TestDb,
    table: &str,
    column: &str,
    key: &str,
    ids: &[&Envelope],
    at: DateTime<Utc>,
) {
    let tx = t.db.platform_tx("test ageing").await.unwrap();
    for event in ids {
        tx.execute_raw(Statement::from_sql_and_values(
            tx.get_database_backend(),
            format!("UPDATE {table} SET {column} = $1 WHERE {key} = $2"),
            [at.into(), event.id.as_uuid().into()],
        ))
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
}

async fn outbox_has(t: &TestDb, event: &Envelope) -> bool {
    let tx = t.db.platform_tx("test read").await.unwrap();
    let row = tx
        .query_one_raw(Statement::from_sql_and_values(
            tx.get_database_backend(),
            "SELECT COUNT(*) FROM outbox WHERE id = $1",
            [event.id.as_uuid().into()],
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap() == 1
}

async fn purges_published_events_past_the_window_only(t: TestDb) {
    let (shop, other) = (TenantId::new(), TenantId::new());
    let now = Utc::now();
    let [old, recent, waiting] =
        ["order.placed", "order.paid", "order.shipped"].map(|n| event(n, shop));
    let elsewhere = event("order.placed", other);
    enqueue_committed(&t, shop, &[old.clone(), recent.clone(), waiting.clone()]).await;
    enqueue_committed(&t, other, std::slice::from_ref(&elsewhere)).await;
    let past_window = now - KEEP_PUBLISHED - TimeDelta::hours(1);
    age(
        &t,
        "outbox",
        "published_at",
        "id",
        &[&old, &elsewhere],
        past_window,
    )
    .await;
    age(
        &t,
        "outbox",
        "published_at",
        "id",
        &[&recent],
        now - KEEP_PUBLISHED + TimeDelta::hours(1),
    )
    .await;
    // Never published, however old: still on its way to the bus.
    age(
        &t,
        "outbox",
        "occurred_at",
        "id",
        &[&waiting],
        now - TimeDelta::days(365),
    )
    .await;

    assert_eq!(
        purge_published(&t.db, now - KEEP_PUBLISHED).await.unwrap(),
        2
    );

    assert!(
        !outbox_has(&t, &old).await,
        "published before the window: gone"
    );
    assert!(
        !outbox_has(&t, &elsewhere).await,
        "every shop's rows are purged"
    );
    assert!(
        outbox_has(&t, &recent).await,
        "published within the window: kept"
    );
    assert!(outbox_has(&t, &waiting).await, "unpublished: kept");
    // Nothing left to purge: a second sweep deletes nothing.
    assert_eq!(
        purge_published(&t.db, now - KEEP_PUBLISHED).await.unwrap(),
        0
    );
    t.finish().await;
}

async fn purges_a_backlog_larger_than_one_batch(t: TestDb) {
    let shop = TenantId::new();
    let backlog = usize::try_from(PURGE_BATCH).unwrap() * 2 + 17;
    let events: Vec<Envelope> = (0..backlog).map(|_| event("stock.changed", shop)).collect();
    enqueue_committed(&t, shop, &events).await;
    let waiting = event("stock.changed", shop);
    enqueue_committed(&t, shop, std::slice::from_ref(&waiting)).await;
    let tx = t.db.platform_tx("test ageing").await.unwrap();
    tx.execute_raw(Statement::from_sql_and_values(
        tx.get_database_backend(),
        "UPDATE outbox SET published_at = $1 WHERE id <> $2",
        [
            (Utc::now() - TimeDelta::days(8)).into(),
            waiting.id.as_uuid().into(),
        ],
    ))
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let purged = purge_published(&t.db, Utc::now() - KEEP_PUBLISHED)
        .await
        .unwrap();
    assert_eq!(purged, backlog as u64);
    assert_eq!(t.count("SELECT COUNT(*) FROM outbox").await, 1);
    assert!(outbox_has(&t, &waiting).await);
    t.finish().await;
}

async fn purges_inbox_records_past_the_window_only(t: TestDb) {
    let shop = TenantId::new();
    let now = Utc::now();
    let [old, recent, fresh] =
        ["order.placed", "order.paid", "order.shipped"].map(|n| event(n, shop));
    let tx = t.db.tenant_tx(shop).await.unwrap();
    for e in [&old, &recent, &fresh] {
        assert!(mark_processed(&*tx, "mirror", e).await.unwrap());
    }
    tx.commit().await.unwrap();
    age(
        &t,
        "processed_events",
        "processed_at",
        "event_id",
        &[&old],
        now - KEEP_PROCESSED - TimeDelta::hours(1),
    )
    .await;
    age(
        &t,
        "processed_events",
        "processed_at",
        "event_id",
        &[&recent],
        now - KEEP_PROCESSED + TimeDelta::hours(1),
    )
    .await;

    assert_eq!(
        purge_processed(&t.db, now - KEEP_PROCESSED).await.unwrap(),
        1
    );
    assert_eq!(t.count("SELECT COUNT(*) FROM processed_events").await, 2);

    // Within the window a redelivery is still recognised; past it the record is forgotten,
    // which is why the window must outlast every redelivery.
    let tx = t.db.tenant_tx(shop).await.unwrap();
    assert!(!mark_processed(&*tx, "mirror", &recent).await.unwrap());
    assert!(!mark_processed(&*tx, "mirror", &fresh).await.unwrap());
    assert!(mark_processed(&*tx, "mirror", &old).await.unwrap());
    drop(tx);
    t.finish().await;
}

//! Reservations nobody commits run out: the shop's expiry sweep, durable from the moment the
//! reservation is, gives their units back; a commit that comes too late is refused. A shop's
//! reservations share one sweep job, not one job each.

use crate::on_every_backend;
use crate::reservations::lines;
use crate::support::{Caller, Service};
use mercato_inventory::expiry;
use mercato_tenant_context::TenantId;
use serde_json::json;
use std::time::Duration;

async fn expired_reservations_are_released_by_the_job(service: Service) {
    let shop = TenantId::new();
    let (_, _, tea) = service.stocked(shop, 4).await;
    let orders = Caller::orders_service(shop);
    let mut body = lines(&[(tea, 3)]);
    body["ttl_seconds"] = json!(1);
    let held = service.post(&orders, "/api/v1/reservations", body).await;
    assert_eq!(held.status, 201, "{:?}", held.body);
    let path = format!("/api/v1/reservations/{}", held.str("id"));
    // The shop's sweep is a durable job, committed with the reservation and due when it runs
    // out: a restart loses nothing.
    let job = sweep_job(&service, shop).await.expect("a sweep job");
    assert_eq!(job.status, mercato_jobs::JobStatus::Queued);
    let expires_at = chrono::DateTime::parse_from_rfc3339(&held.str("expires_at")).unwrap();
    assert_eq!(job.run_at, expires_at);
    let worker = expiry::sweep_worker(&service.state);
    // Not due yet.
    assert!(!worker.run_once().await.unwrap());
    assert_eq!(service.totals(shop, tea).await, (4, 3, 1));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let mut ran = false;
    for _ in 0..200 {
        if worker.run_once().await.unwrap() {
            ran = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(ran, "the sweep never became due");
    assert_eq!(service.totals(shop, tea).await, (4, 0, 4));
    let expired = service.get(&orders, &path).await;
    assert_eq!(expired.str("status"), "expired");
    assert_eq!(expired.str("ended_by"), "system");
    let events = service.events_named(shop, "reservation.expired").await;
    assert_eq!(events.len(), 1);
    // Too late to pay for it; releasing it is fine.
    let commit = service
        .post(&orders, &format!("{path}/commit"), json!({}))
        .await;
    assert_eq!(commit.status, 409, "{:?}", commit.body);
    let release = service
        .post(&orders, &format!("{path}/release"), json!({}))
        .await;
    assert_eq!(release.status, 200);
    // A commit that beats the job to an expired reservation expires it instead.
    let mut body = lines(&[(tea, 2)]);
    body["ttl_seconds"] = json!(1);
    let late = service.post(&orders, "/api/v1/reservations", body).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let too_late = service
        .post(
            &orders,
            &format!("/api/v1/reservations/{}/commit", late.str("id")),
            json!({}),
        )
        .await;
    assert_eq!(too_late.status, 409, "{:?}", too_late.body);
    assert_eq!(too_late.str("code"), "reservation_expired");
    assert_eq!(service.totals(shop, tea).await, (4, 0, 4));
    // The sweep then finds nothing to do.
    for _ in 0..200 {
        if worker.run_once().await.unwrap() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        service
            .events_named(shop, "reservation.expired")
            .await
            .len(),
        2
    );
    assert_eq!(service.totals(shop, tea).await, (4, 0, 4));
}

/// Keys are forgotten after a day, by the retention sweep; younger ones still replay.
async fn old_idempotency_keys_are_forgotten(service: Service) {
    let shop = TenantId::new();
    let (_, _, tea) = service.stocked(shop, 10).await;
    let orders = Caller::orders_service(shop);
    let reserve = |key: &'static str, units: i64| {
        let (service, orders) = (&service, &orders);
        async move {
            service
                .call(
                    orders,
                    "POST",
                    "/api/v1/reservations",
                    Some(lines(&[(tea, units)])),
                    &[("idempotency-key", key)],
                )
                .await
        }
    };
    let first = reserve("the-day-before", 1).await;
    assert_eq!(first.status, 201);
    let recent = reserve("this-morning", 1).await;
    assert_eq!(recent.status, 201);
    // Make one key two days old and the other almost a day.
    for (key, age) in [
        ("the-day-before", chrono::TimeDelta::days(2)),
        ("this-morning", chrono::TimeDelta::hours(23)),
    ] {
        use sea_orm::ConnectionTrait as _;
        let tx = service.state.db.tenant_tx(shop).await.unwrap();
        tx.execute_raw(sea_orm::Statement::from_sql_and_values(
            tx.get_database_backend(),
            "UPDATE idempotency_keys SET created_at = $1 \
             WHERE tenant_id = $2 AND idempotency_key = $3",
            [
                (chrono::Utc::now() - age).into(),
                shop.as_uuid().into(),
                key.into(),
            ],
        ))
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }

    let purged = mercato_inventory::retention::sweep(&service.state.db)
        .await
        .unwrap();
    assert!(purged >= 1, "the old key at least");

    // The old key means nothing now: another request with it is a new reservation.
    let reused = reserve("the-day-before", 2).await;
    assert_eq!(reused.status, 201, "{:?}", reused.body);
    assert_ne!(reused.str("id"), first.str("id"));
    // The younger key still replays its reservation.
    let replayed = reserve("this-morning", 1).await;
    assert_eq!(replayed.status, 201, "{:?}", replayed.body);
    assert_eq!(replayed.str("id"), recent.str("id"));
    assert_eq!(service.totals(shop, tea).await, (10, 4, 6));
}

async fn sweep_job(service: &Service, shop: TenantId) -> Option<mercato_jobs::Job> {
    let tx = service.state.db.tenant_read(shop).await.unwrap();
    mercato_jobs::latest_for(&*tx, shop, expiry::SWEEP_JOB, mercato_jobs::SWEEP_SUBJECT)
        .await
        .unwrap()
}

/// `(kind, status)` of every job of the shop, oldest first.
async fn jobs_of(service: &Service, shop: TenantId) -> Vec<(String, String)> {
    use sea_orm::ConnectionTrait as _;
    let tx = service.state.db.tenant_read(shop).await.unwrap();
    tx.query_all_raw(sea_orm::Statement::from_sql_and_values(
        tx.get_database_backend(),
        "SELECT kind, status FROM jobs WHERE tenant_id = $1 ORDER BY created_at, id",
        [shop.as_uuid().into()],
    ))
    .await
    .unwrap()
    .iter()
    .map(|row| {
        (
            row.try_get("", "kind").unwrap(),
            row.try_get("", "status").unwrap(),
        )
    })
    .collect()
}

/// Moves the shop's active reservations and queued sweeps `by` into the past, as if that
/// much time had gone by.
async fn age(service: &Service, shop: TenantId, by: chrono::TimeDelta) {
    use sea_orm::ConnectionTrait as _;
    let tx = service.state.db.tenant_tx(shop).await.unwrap();
    for sql in [
        "UPDATE reservations SET expires_at = $1 WHERE tenant_id = $2 AND status = 'active'",
        "UPDATE jobs SET run_at = $1 WHERE tenant_id = $2 AND status = 'queued'",
    ] {
        tx.execute_raw(sea_orm::Statement::from_sql_and_values(
            tx.get_database_backend(),
            sql,
            [(chrono::Utc::now() - by).into(), shop.as_uuid().into()],
        ))
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
}

/// Many reservations, one sweep: holding stock writes no job per reservation; one run of
/// the sweep expires every reservation due, a bounded batch at a time, and leaves the
/// shop without a sweep once nothing is held.
async fn a_shops_reservations_share_one_sweep(service: Service) {
    let shop = TenantId::new();
    let other = TenantId::new();
    let (_, _, tea) = service.stocked(shop, 200).await;
    let (_, _, coffee) = service.stocked(other, 5).await;
    let orders = Caller::orders_service(shop);
    let mut held = Vec::new();
    for _ in 0..(expiry::SWEEP_BATCH + 5) {
        let mut body = lines(&[(tea, 1)]);
        body["ttl_seconds"] = json!(3600);
        let reply = service.post(&orders, "/api/v1/reservations", body).await;
        assert_eq!(reply.status, 201, "{:?}", reply.body);
        held.push(reply.str("id"));
    }
    let mut body = lines(&[(coffee, 2)]);
    body["ttl_seconds"] = json!(3600);
    let theirs = service
        .post(&Caller::orders_service(other), "/api/v1/reservations", body)
        .await;
    assert_eq!(theirs.status, 201, "{:?}", theirs.body);
    let sweep = (expiry::SWEEP_JOB.to_owned(), "queued".to_owned());
    assert_eq!(jobs_of(&service, shop).await, vec![sweep.clone()]);
    assert_eq!(jobs_of(&service, other).await, vec![sweep.clone()]);

    // Due now: the first run expires a batch and queues the next run at once.
    age(&service, shop, chrono::TimeDelta::seconds(1)).await;
    let worker = expiry::sweep_worker(&service.state);
    let expired = expiry::sweep(&service.state, shop).await.unwrap();
    assert_eq!(expired, expiry::SWEEP_BATCH as usize);
    assert_eq!(service.totals(shop, tea).await, (200, 5, 195));
    let next = sweep_job(&service, shop).await.expect("the next sweep");
    assert_eq!(next.status, mercato_jobs::JobStatus::Queued);
    assert!(next.run_at <= chrono::Utc::now());
    while worker.run_once().await.unwrap() {}
    assert_eq!(service.totals(shop, tea).await, (200, 0, 200));
    for id in &held {
        let reply = service
            .get(&orders, &format!("/api/v1/reservations/{id}"))
            .await;
        assert_eq!(reply.str("status"), "expired");
    }
    assert_eq!(
        service
            .events_named(shop, "reservation.expired")
            .await
            .len(),
        held.len()
    );
    // Nothing held: no sweep left queued. The other shop's reservation is untouched.
    let jobs = jobs_of(&service, shop).await;
    assert!(
        jobs.iter().all(|(_, status)| status == "succeeded"),
        "{jobs:?}"
    );
    assert_eq!(service.totals(other, coffee).await, (5, 2, 3));
    assert_eq!(jobs_of(&service, other).await, vec![sweep]);
}

on_every_backend!(
    expired_reservations_are_released_by_the_job,
    a_shops_reservations_share_one_sweep,
    old_idempotency_keys_are_forgotten,
);

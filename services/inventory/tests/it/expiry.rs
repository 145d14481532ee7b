//! Reservations nobody commits run out: the expiry job, durable from the moment the
//! reservation is, gives their units back; a commit that comes too late is refused.

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
    // The expiry is a durable job, committed with the reservation: a restart loses nothing.
    let job = {
        let tx = service.state.db.tenant_read(shop).await.unwrap();
        mercato_jobs::latest_for(&*tx, shop, expiry::JOB_KIND, &held.str("id"))
            .await
            .unwrap()
            .expect("an expiry job")
    };
    assert_eq!(job.status, mercato_jobs::JobStatus::Queued);
    let expires_at = chrono::DateTime::parse_from_rfc3339(&held.str("expires_at")).unwrap();
    assert_eq!(job.run_at, expires_at);
    let worker = expiry::worker(&service.state);
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
    assert!(ran, "the expiry job never became due");
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
    // The job then finds nothing to do.
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

on_every_backend!(
    expired_reservations_are_released_by_the_job,
    old_idempotency_keys_are_forgotten,
);

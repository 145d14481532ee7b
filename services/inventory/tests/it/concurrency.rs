//! No oversell under concurrency: many checkouts reserving the same few units at once get
//! exactly what there is, and every other request a clean 409.

use crate::on_every_backend;
use crate::support::{Caller, Service};
use mercato_tenant_context::{TenantId, VendorId, VendorRole};
use serde_json::json;
use std::collections::BTreeMap;

/// 200 checkouts (the orders service reserving for each) try to hold one unit of a variant
/// with 50 units over two warehouses, all at once.
async fn two_hundred_checkouts_fifty_units(service: Service) {
    let shop = TenantId::new();
    let vendor = VendorId::new();
    let (_, variants) = service.product(shop, vendor, 1).await;
    let tea = variants[0];
    let staff = Caller::vendor_staff(shop, vendor, VendorRole::Staff);
    let a = service.warehouse(&staff, vendor, "A").await;
    let b = service.warehouse(&staff, vendor, "B").await;
    service.receive(&staff, &a, tea, 30).await;
    service.receive(&staff, &b, tea, 20).await;

    let started = std::time::Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..200 {
        let service = service.clone();
        let orders = Caller::orders_service(shop);
        tasks.push(tokio::spawn(async move {
            service
                .post(
                    &orders,
                    "/api/v1/reservations",
                    json!({ "lines": [{ "variant_id": tea, "quantity": 1 }] }),
                )
                .await
        }));
    }
    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
    let mut reserved_units = 0;
    for task in tasks {
        let reply = task.await.unwrap();
        *statuses.entry(reply.status.as_u16()).or_default() += 1;
        if reply.status == 201 {
            reserved_units += reply.body["lines"][0]["quantity"].as_i64().unwrap();
        } else {
            assert_eq!(reply.status, 409, "{:?}", reply.body);
            assert_eq!(reply.str("code"), "insufficient_stock");
        }
    }
    eprintln!(
        "{:?}: 200 concurrent reservations for 50 units: {statuses:?}, {reserved_units} units reserved, in {:?}",
        service.state.db.backend(),
        started.elapsed()
    );
    assert_eq!(statuses.get(&201), Some(&50), "{statuses:?}");
    assert_eq!(statuses.get(&409), Some(&150), "{statuses:?}");
    assert_eq!(reserved_units, 50);
    assert_eq!(service.totals(shop, tea).await, (50, 50, 0));
    // Per warehouse too: each gave exactly what it had.
    for (warehouse, units) in [(&a, 30), (&b, 20)] {
        let levels = service
            .get(&staff, &format!("/api/v1/warehouses/{warehouse}/stock"))
            .await;
        assert_eq!(
            levels.body["data"][0]["reserved"], units,
            "{:?}",
            levels.body
        );
    }
    assert_eq!(
        service
            .events_named(shop, "reservation.created")
            .await
            .len(),
        50
    );
}

/// Reservations, releases and write-offs of the same variant racing: on hand never goes
/// below what is reserved, and the books add up at the end.
async fn reservations_and_adjustments_race(service: Service) {
    let shop = TenantId::new();
    let vendor = VendorId::new();
    let (_, variants) = service.product(shop, vendor, 2).await;
    let staff = Caller::vendor_staff(shop, vendor, VendorRole::Staff);
    let a = service.warehouse(&staff, vendor, "A").await;
    let b = service.warehouse(&staff, vendor, "B").await;
    for v in &variants {
        service.receive(&staff, &a, *v, 20).await;
        service.receive(&staff, &b, *v, 20).await;
    }
    let mut tasks = Vec::new();
    for i in 0..60usize {
        let service = service.clone();
        let staff = staff.clone();
        let (a, variants) = (a.clone(), variants.clone());
        tasks.push(tokio::spawn(async move {
            if i % 3 == 0 {
                // Write one off in warehouse A.
                let reply = service
                    .post(
                        &staff,
                        &format!("/api/v1/warehouses/{a}/adjustments"),
                        json!({ "variant_id": variants[i % 2], "delta": -1, "reason": "damaged" }),
                    )
                    .await;
                assert!(
                    matches!(reply.status.as_u16(), 201 | 409),
                    "{:?}",
                    reply.body
                );
                (0, 0, if reply.status == 201 { 1 } else { 0 })
            } else {
                // Both variants, in either order: locks are taken in one order regardless.
                let (first, second) = if i % 2 == 0 {
                    (variants[0], variants[1])
                } else {
                    (variants[1], variants[0])
                };
                let orders = Caller::orders_service(service_tenant(&staff));
                let reply = service
                    .post(
                        &orders,
                        "/api/v1/reservations",
                        json!({ "lines": [
                            { "variant_id": first, "quantity": 1 },
                            { "variant_id": second, "quantity": 1 },
                        ] }),
                    )
                    .await;
                assert!(
                    matches!(reply.status.as_u16(), 201 | 409),
                    "{:?}",
                    reply.body
                );
                if reply.status != 201 {
                    return (0, 0, 0);
                }
                if i % 4 == 1 {
                    let released = service
                        .post(
                            &orders,
                            &format!("/api/v1/reservations/{}/release", reply.str("id")),
                            json!({}),
                        )
                        .await;
                    assert_eq!(released.status, 200, "{:?}", released.body);
                    (0, 1, 0)
                } else {
                    (1, 0, 0)
                }
            }
        }));
    }
    let (mut held, mut released, mut written_off) = (0, 0, 0);
    for task in tasks {
        let (h, r, w) = task.await.unwrap();
        held += h;
        released += r;
        written_off += w;
    }
    let _ = released;
    // Each held reservation holds one of each variant; write-offs split between them.
    let (on_hand_0, reserved_0, available_0) = service.totals(shop, variants[0]).await;
    let (on_hand_1, reserved_1, available_1) = service.totals(shop, variants[1]).await;
    assert_eq!(reserved_0, held);
    assert_eq!(reserved_1, held);
    assert_eq!(on_hand_0 + on_hand_1, 80 - written_off);
    assert_eq!(available_0, on_hand_0 - reserved_0);
    assert_eq!(available_1, on_hand_1 - reserved_1);
    assert!(available_0 >= 0 && available_1 >= 0);
}

fn service_tenant(caller: &Caller) -> TenantId {
    caller.tenant
}

on_every_backend!(
    two_hundred_checkouts_fifty_units,
    reservations_and_adjustments_race,
);

//! Reservations: all or nothing across warehouses, commit and release, idempotent retries,
//! expiry by the job, and the walls between shoppers, vendors and shops.

use crate::on_every_backend;
use crate::support::{Caller, Service};
use mercato_tenant_context::{TenantId, VariantId, VendorId, VendorRole};
use serde_json::{Value, json};

pub fn lines(items: &[(VariantId, i64)]) -> Value {
    json!({
        "lines": items.iter().map(|(v, q)| json!({ "variant_id": v, "quantity": q })).collect::<Vec<_>>()
    })
}

async fn a_suspended_vendors_stock_is_not_reserved(service: Service) {
    let shop = TenantId::new();
    let vendor = VendorId::new();
    let (_, variants) = service.product(shop, vendor, 1).await;
    let staff = Caller::vendor_staff(shop, vendor, VendorRole::Staff);
    let warehouse = service.warehouse(&staff, vendor, "Main").await;
    service.receive(&staff, &warehouse, variants[0], 5).await;
    let shopper = Caller::shopper(shop);
    service
        .vendor_event(shop, "vendor.suspended", vendor, "suspended")
        .await;
    let refused = service
        .post(&shopper, "/api/v1/reservations", lines(&[(variants[0], 1)]))
        .await;
    assert_eq!(refused.status, 409, "{:?}", refused.body);
    assert_eq!(refused.str("code"), "vendor_not_selling");
    assert_eq!(refused.body["errors"][0]["field"], "/lines/0/variant_id");
    assert_eq!(service.totals(shop, variants[0]).await, (5, 0, 5));
    service
        .vendor_event(shop, "vendor.reinstated", vendor, "approved")
        .await;
    let reserved = service
        .post(&shopper, "/api/v1/reservations", lines(&[(variants[0], 1)]))
        .await;
    assert_eq!(reserved.status, 201, "{:?}", reserved.body);
}

async fn reserve_commit_and_release(service: Service) {
    let shop = TenantId::new();
    let vendor = VendorId::new();
    let (_, variants) = service.product(shop, vendor, 2).await;
    let (tea, cup) = (variants[0], variants[1]);
    let staff = Caller::vendor_staff(shop, vendor, VendorRole::Staff);
    let big = service.warehouse(&staff, vendor, "Big").await;
    let small = service.warehouse(&staff, vendor, "Small").await;
    service.receive(&staff, &big, tea, 8).await;
    service.receive(&staff, &small, tea, 5).await;
    service.receive(&staff, &small, cup, 3).await;

    let shopper = Caller::shopper(shop);
    // 10 tea: more than any one warehouse has, so split, the fuller first.
    let reserved = service
        .post(&shopper, "/api/v1/reservations", {
            let mut body = lines(&[(tea, 10), (cup, 2)]);
            body["reference"] = json!("cart_42");
            body["ttl_seconds"] = json!(600);
            body
        })
        .await;
    assert_eq!(reserved.status, 201, "{:?}", reserved.body);
    assert_eq!(reserved.str("status"), "active");
    assert_eq!(reserved.str("reference"), "cart_42");
    let id = reserved.str("id");
    assert!(id.starts_with("rsv_"));
    assert_eq!(
        reserved.body["lines"][0]["allocations"],
        json!([{ "warehouse_id": big, "quantity": 8 }, { "warehouse_id": small, "quantity": 2 }])
    );
    assert_eq!(
        reserved.body["lines"][1]["allocations"],
        json!([{ "warehouse_id": small, "quantity": 2 }])
    );
    assert_eq!(service.totals(shop, tea).await, (13, 10, 3));
    assert_eq!(service.totals(shop, cup).await, (3, 2, 1));

    // Whoever reserved sees it; the merchant too.
    let path = format!("/api/v1/reservations/{id}");
    assert_eq!(service.get(&shopper, &path).await.status, 200);
    assert_eq!(
        service.get(&Caller::merchant(shop), &path).await.status,
        200
    );
    let mine = service
        .get(&shopper, "/api/v1/reservations?reference=cart_42")
        .await;
    assert_eq!(mine.body["data"].as_array().map(Vec::len), Some(1));

    // Paid: the units leave on hand, recorded as sold.
    let committed = service
        .post(&shopper, &format!("{path}/commit"), json!({}))
        .await;
    assert_eq!(committed.status, 200, "{:?}", committed.body);
    assert_eq!(committed.str("status"), "committed");
    assert_eq!(service.totals(shop, tea).await, (3, 0, 3));
    assert_eq!(service.totals(shop, cup).await, (1, 0, 1));
    let history = service
        .get(&staff, &format!("/api/v1/warehouses/{big}/adjustments"))
        .await;
    assert_eq!(history.body["data"][0]["reason"], "sold");
    assert_eq!(history.body["data"][0]["delta"], -8);
    assert_eq!(history.body["data"][0]["reservation_id"], id.as_str());
    // Committing again is harmless; releasing a sold reservation is refused.
    let again = service
        .post(&shopper, &format!("{path}/commit"), json!({}))
        .await;
    assert_eq!(again.status, 200);
    let release_sold = service
        .post(&shopper, &format!("{path}/release"), json!({}))
        .await;
    assert_eq!(release_sold.status, 409, "{:?}", release_sold.body);
    assert_eq!(service.totals(shop, tea).await, (3, 0, 3));

    // Cancelled: the units come back.
    let second = service
        .post(&shopper, "/api/v1/reservations", lines(&[(tea, 3)]))
        .await;
    assert_eq!(second.status, 201, "{:?}", second.body);
    assert_eq!(service.totals(shop, tea).await, (3, 3, 0));
    let second_path = format!("/api/v1/reservations/{}", second.str("id"));
    let released = service
        .post(&shopper, &format!("{second_path}/release"), json!({}))
        .await;
    assert_eq!(released.status, 200, "{:?}", released.body);
    assert_eq!(released.str("status"), "released");
    assert_eq!(service.totals(shop, tea).await, (3, 0, 3));
    let twice = service
        .post(&shopper, &format!("{second_path}/release"), json!({}))
        .await;
    assert_eq!(twice.status, 200);
    let commit_released = service
        .post(&shopper, &format!("{second_path}/commit"), json!({}))
        .await;
    assert_eq!(commit_released.status, 409);

    let names: Vec<String> = service
        .events(shop)
        .await
        .into_iter()
        .map(|(n, _)| n)
        .filter(|n| n.starts_with("reservation."))
        .collect();
    assert_eq!(
        names,
        [
            "reservation.created",
            "reservation.committed",
            "reservation.created",
            "reservation.released"
        ]
    );
    let created = &service.events_named(shop, "reservation.created").await[0];
    assert_eq!(
        created["lines"][0]["vendor_id"],
        vendor.to_string().as_str()
    );
    assert_eq!(created["reference"], "cart_42");
}

async fn all_or_nothing(service: Service) {
    let shop = TenantId::new();
    let vendor = VendorId::new();
    let (_, variants) = service.product(shop, vendor, 3).await;
    let staff = Caller::vendor_staff(shop, vendor, VendorRole::Staff);
    let main = service.warehouse(&staff, vendor, "Main").await;
    let closed = service.warehouse(&staff, vendor, "Closed").await;
    service.receive(&staff, &main, variants[0], 5).await;
    service.receive(&staff, &main, variants[1], 1).await;
    service.receive(&staff, &closed, variants[1], 10).await;
    // An inactive warehouse's stock counts on hand but cannot be reserved.
    let off = service
        .call(
            &staff,
            "PATCH",
            &format!("/api/v1/warehouses/{closed}"),
            Some(json!({ "active": false })),
            &[],
        )
        .await;
    assert_eq!(off.status, 200);
    assert_eq!(service.totals(shop, variants[1]).await, (11, 0, 1));

    let shopper = Caller::shopper(shop);
    let short = service
        .post(
            &shopper,
            "/api/v1/reservations",
            lines(&[(variants[0], 5), (variants[1], 2), (variants[2], 1)]),
        )
        .await;
    assert_eq!(short.status, 409, "{:?}", short.body);
    assert_eq!(short.str("code"), "insufficient_stock");
    assert_eq!(short.fields(), ["/lines/1/quantity", "/lines/2/quantity"]);
    // Nothing was held, not even the line that fitted.
    assert_eq!(service.totals(shop, variants[0]).await, (5, 0, 5));
    assert!(
        service
            .events_named(shop, "reservation.created")
            .await
            .is_empty()
    );
    // Reopened, the warehouse serves the rest.
    service
        .call(
            &staff,
            "PATCH",
            &format!("/api/v1/warehouses/{closed}"),
            Some(json!({ "active": true })),
            &[],
        )
        .await;
    let fits = service
        .post(
            &shopper,
            "/api/v1/reservations",
            lines(&[(variants[0], 5), (variants[1], 2)]),
        )
        .await;
    assert_eq!(fits.status, 201, "{:?}", fits.body);
    assert_eq!(
        fits.body["lines"][1]["allocations"],
        json!([{ "warehouse_id": closed, "quantity": 2 }])
    );
}

async fn retries_with_a_key_reserve_once(service: Service) {
    let shop = TenantId::new();
    let (_, _, tea) = service.stocked(shop, 10).await;
    let shopper = Caller::shopper(shop);
    let body = lines(&[(tea, 3)]);
    let key = [("idempotency-key", "checkout-7f3a")];
    let first = service
        .call(
            &shopper,
            "POST",
            "/api/v1/reservations",
            Some(body.clone()),
            &key,
        )
        .await;
    assert_eq!(first.status, 201, "{:?}", first.body);
    let replay = service
        .call(
            &shopper,
            "POST",
            "/api/v1/reservations",
            Some(body.clone()),
            &key,
        )
        .await;
    assert_eq!(replay.status, 201, "{:?}", replay.body);
    assert_eq!(
        replay
            .headers
            .get("idempotent-replayed")
            .map(|v| v.as_bytes()),
        Some(&b"true"[..])
    );
    assert_eq!(replay.body, first.body);
    assert_eq!(service.totals(shop, tea).await, (10, 3, 7));
    // The same key with another request is refused, and reserves nothing.
    let other = service
        .call(
            &shopper,
            "POST",
            "/api/v1/reservations",
            Some(lines(&[(tea, 4)])),
            &key,
        )
        .await;
    assert_eq!(other.status, 422, "{:?}", other.body);
    assert_eq!(other.str("code"), "idempotency_key_reused");
    // Keys belong to their caller: another shopper's identical key is their own.
    let neighbour = service
        .call(
            &Caller::shopper(shop),
            "POST",
            "/api/v1/reservations",
            Some(body.clone()),
            &key,
        )
        .await;
    assert_eq!(neighbour.status, 201);
    assert_ne!(neighbour.str("id"), first.str("id"));
    // Without a key, the reference makes retries safe too.
    let mut with_ref = lines(&[(tea, 1)]);
    with_ref["reference"] = json!("ord_991");
    let by_ref = service
        .post(&shopper, "/api/v1/reservations", with_ref.clone())
        .await;
    assert_eq!(by_ref.status, 201);
    let by_ref_again = service
        .post(&shopper, "/api/v1/reservations", with_ref)
        .await;
    assert_eq!(by_ref_again.status, 201);
    assert!(by_ref_again.headers.contains_key("idempotent-replayed"));
    assert_eq!(by_ref_again.str("id"), by_ref.str("id"));
    assert_eq!(service.totals(shop, tea).await, (10, 7, 3));
    // A refusal is not stored: once stock arrives, the same key succeeds.
    let later = [("idempotency-key", "checkout-later")];
    let five_later = || {
        service.call(
            &shopper,
            "POST",
            "/api/v1/reservations",
            Some(lines(&[(tea, 5)])),
            &later,
        )
    };
    let refused = five_later().await;
    assert_eq!(refused.status, 409);
    let merchant = Caller::merchant(shop);
    let warehouse = service.get(&merchant, "/api/v1/warehouses").await.body["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    service.receive(&merchant, &warehouse, tea, 2).await;
    let succeeded = five_later().await;
    assert_eq!(succeeded.status, 201, "{:?}", succeeded.body);
    // Its units were the last ones: a retry is short of stock now, and still gets the
    // first answer (a refused reservation looks its key up), holding nothing more.
    let retried = five_later().await;
    assert_eq!(retried.status, 201, "{:?}", retried.body);
    assert_eq!(retried.body, succeeded.body);
    assert_eq!(service.totals(shop, tea).await, (12, 12, 0));
    // Adjustments take keys too.
    let adjust_key = [("idempotency-key", "delivery-118")];
    let path = format!("/api/v1/warehouses/{warehouse}/adjustments");
    let delivery = json!({ "variant_id": tea, "delta": 6, "reason": "received" });
    let once = service
        .call(
            &merchant,
            "POST",
            &path,
            Some(delivery.clone()),
            &adjust_key,
        )
        .await;
    let twice = service
        .call(&merchant, "POST", &path, Some(delivery), &adjust_key)
        .await;
    assert_eq!((once.status.as_u16(), twice.status.as_u16()), (201, 201));
    assert!(twice.headers.contains_key("idempotent-replayed"));
    assert_eq!(once.body, twice.body);
    assert_eq!(service.totals(shop, tea).await, (18, 12, 6));
    let bad_key = service
        .call(
            &shopper,
            "POST",
            "/api/v1/reservations",
            Some(lines(&[(tea, 1)])),
            &[("idempotency-key", "has space")],
        )
        .await;
    assert_eq!(bad_key.status, 422);
}

async fn concurrent_retries_with_one_key_reserve_once(service: Service) {
    let shop = TenantId::new();
    let (_, _, tea) = service.stocked(shop, 100).await;
    let shopper = Caller::shopper(shop);
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let (service, shopper) = (service.clone(), shopper.clone());
        tasks.push(tokio::spawn(async move {
            service
                .call(
                    &shopper,
                    "POST",
                    "/api/v1/reservations",
                    Some(lines(&[(tea, 2)])),
                    &[("idempotency-key", "double-click")],
                )
                .await
        }));
    }
    let mut ids = std::collections::BTreeSet::new();
    for task in tasks {
        let reply = task.await.unwrap();
        assert_eq!(reply.status, 201, "{:?}", reply.body);
        ids.insert(reply.str("id"));
    }
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_eq!(service.totals(shop, tea).await, (100, 2, 98));
}

async fn bad_reservations_are_refused_and_change_nothing(service: Service) {
    let shop = TenantId::new();
    let (_, _, tea) = service.stocked(shop, 10).await;
    let (_, _, other_shops_tea) = service.stocked(TenantId::new(), 10).await;
    let shopper = Caller::shopper(shop);
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (lines(&[(tea, 0)]), vec!["/lines/0/quantity"]),
        (lines(&[(tea, -2)]), vec!["/lines/0/quantity"]),
        (lines(&[(tea, 100_001)]), vec!["/lines/0/quantity"]),
        (lines(&[]), vec!["/lines"]),
        (lines(&[(tea, 1), (tea, 1)]), vec!["/lines/1/variant_id"]),
        (lines(&[(VariantId::new(), 1)]), vec!["/lines/0/variant_id"]),
        (
            lines(&[(tea, 1), (other_shops_tea, 1)]),
            vec!["/lines/1/variant_id"],
        ),
        (
            json!({ "lines": [{ "variant_id": "prd_x", "quantity": 1 }] }),
            vec!["/lines/0/variant_id"],
        ),
        (
            {
                let mut b = lines(&[(tea, 1)]);
                b["ttl_seconds"] = json!(3601);
                b
            },
            vec!["/ttl_seconds"],
        ),
        (
            {
                let mut b = lines(&[(tea, 1)]);
                b["ttl_seconds"] = json!(0);
                b
            },
            vec!["/ttl_seconds"],
        ),
        (
            {
                let mut b = lines(&[(tea, 1)]);
                b["reference"] = json!("");
                b
            },
            vec!["/reference"],
        ),
    ];
    for (body, fields) in cases {
        let reply = service
            .post(&shopper, "/api/v1/reservations", body.clone())
            .await;
        assert_eq!(reply.status, 422, "{body}: {:?}", reply.body);
        assert_eq!(reply.fields(), fields, "{body}");
    }
    let many: Vec<(VariantId, i64)> = (0..101).map(|_| (VariantId::new(), 1)).collect();
    let too_many = service
        .post(&shopper, "/api/v1/reservations", lines(&many))
        .await;
    assert_eq!(too_many.status, 422);
    let float = service
        .post(
            &shopper,
            "/api/v1/reservations",
            json!({ "lines": [{ "variant_id": tea, "quantity": 1.5 }] }),
        )
        .await;
    assert_eq!(float.status, 422);
    let anonymous = service
        .post(
            &Caller::anonymous(shop),
            "/api/v1/reservations",
            lines(&[(tea, 1)]),
        )
        .await;
    assert_eq!(anonymous.status, 401);
    assert_eq!(service.totals(shop, tea).await, (10, 0, 10));
    assert!(
        service
            .events_named(shop, "reservation.created")
            .await
            .is_empty()
    );
}

async fn reservations_stay_with_their_shopper_and_shop(service: Service) {
    let shop = TenantId::new();
    let (vendor, _, tea) = service.stocked(shop, 10).await;
    let shopper = Caller::shopper(shop);
    let held = service
        .post(&shopper, "/api/v1/reservations", lines(&[(tea, 2)]))
        .await;
    let path = format!("/api/v1/reservations/{}", held.str("id"));
    let strangers = [
        Caller::shopper(shop),
        Caller::vendor_staff(shop, vendor, VendorRole::Owner),
        Caller::merchant(TenantId::new()),
        shopper.in_shop(TenantId::new()),
    ];
    for caller in &strangers {
        assert_eq!(service.get(caller, &path).await.status, 404, "{caller:?}");
        for action in ["commit", "release"] {
            let reply = service
                .post(caller, &format!("{path}/{action}"), json!({}))
                .await;
            assert_eq!(reply.status, 404, "{caller:?} {action}: {:?}", reply.body);
        }
        let listed = service.get(caller, "/api/v1/reservations").await;
        assert_eq!(listed.body["data"], json!([]), "{caller:?}");
    }
    // Merchant staff who may only read see it but may not end it.
    let reader = Caller::merchant_staff(shop);
    assert_eq!(service.get(&reader, &path).await.status, 200);
    assert_eq!(
        service
            .post(&reader, &format!("{path}/release"), json!({}))
            .await
            .status,
        403
    );
    assert_eq!(service.totals(shop, tea).await, (10, 2, 8));
    // The merchant may release a shopper's reservation (a cancelled order).
    let merchant = Caller::merchant(shop);
    let released = service
        .post(&merchant, &format!("{path}/release"), json!({}))
        .await;
    assert_eq!(released.status, 200, "{:?}", released.body);
    assert_eq!(service.totals(shop, tea).await, (10, 0, 10));
    // A shopper holds a bounded number of reservations at once; staff are not bounded.
    let limit = mercato_inventory::http::reservations::SHOPPER_ACTIVE_LIMIT;
    let warehouse = service.get(&merchant, "/api/v1/warehouses").await.body["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    service.receive(&merchant, &warehouse, tea, 100).await;
    let hoarder = Caller::shopper(shop);
    for _ in 0..limit {
        let r = service
            .post(&hoarder, "/api/v1/reservations", lines(&[(tea, 1)]))
            .await;
        assert_eq!(r.status, 201, "{:?}", r.body);
    }
    let one_more = service
        .post(&hoarder, "/api/v1/reservations", lines(&[(tea, 1)]))
        .await;
    assert_eq!(one_more.status, 409, "{:?}", one_more.body);
    assert_eq!(one_more.str("code"), "too_many_reservations");
    let staff_hold = service
        .post(&merchant, "/api/v1/reservations", lines(&[(tea, 1)]))
        .await;
    assert_eq!(staff_hold.status, 201);
}

on_every_backend!(
    a_suspended_vendors_stock_is_not_reserved,
    reserve_commit_and_release,
    all_or_nothing,
    retries_with_a_key_reserve_once,
    concurrent_retries_with_one_key_reserve_once,
    bad_reservations_are_refused_and_change_nothing,
    reservations_stay_with_their_shopper_and_shop,
);

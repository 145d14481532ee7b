//! Reservations: all or nothing across warehouses, commit and release, idempotent retries
//! that show the reservation as it is now, and who may hold stock at all: the orders service
//! (checkouts), merchant staff, a vendor's staff for its own variants; never a shopper, nor
//! another vendor or shop.

use crate::on_every_backend;
use crate::support::{Caller, Reply, Service};
use mercato_tenant_context::{Role, TenantId, VariantId, VendorId, VendorMembership, VendorRole};
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
    let orders = Caller::orders_service(shop);
    service
        .vendor_event(shop, "vendor.suspended", vendor, "suspended")
        .await;
    let refused = service
        .post(&orders, "/api/v1/reservations", lines(&[(variants[0], 1)]))
        .await;
    assert_eq!(refused.status, 409, "{:?}", refused.body);
    assert_eq!(refused.str("code"), "vendor_not_selling");
    assert_eq!(refused.body["errors"][0]["field"], "/lines/0/variant_id");
    assert_eq!(service.totals(shop, variants[0]).await, (5, 0, 5));
    service
        .vendor_event(shop, "vendor.reinstated", vendor, "approved")
        .await;
    let reserved = service
        .post(&orders, "/api/v1/reservations", lines(&[(variants[0], 1)]))
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

    let orders = Caller::orders_service(shop);
    // 10 tea: more than any one warehouse has, so split, the fuller first.
    let reserved = service
        .post(&orders, "/api/v1/reservations", {
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
    assert_eq!(service.get(&orders, &path).await.status, 200);
    assert_eq!(
        service.get(&Caller::merchant(shop), &path).await.status,
        200
    );
    let mine = service
        .get(&orders, "/api/v1/reservations?reference=cart_42")
        .await;
    assert_eq!(mine.body["data"].as_array().map(Vec::len), Some(1));

    // Paid: the units leave on hand, recorded as sold.
    let committed = service
        .post(&orders, &format!("{path}/commit"), json!({}))
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
        .post(&orders, &format!("{path}/commit"), json!({}))
        .await;
    assert_eq!(again.status, 200);
    let release_sold = service
        .post(&orders, &format!("{path}/release"), json!({}))
        .await;
    assert_eq!(release_sold.status, 409, "{:?}", release_sold.body);
    assert_eq!(service.totals(shop, tea).await, (3, 0, 3));

    // Cancelled: the units come back.
    let second = service
        .post(&orders, "/api/v1/reservations", lines(&[(tea, 3)]))
        .await;
    assert_eq!(second.status, 201, "{:?}", second.body);
    assert_eq!(service.totals(shop, tea).await, (3, 3, 0));
    let second_path = format!("/api/v1/reservations/{}", second.str("id"));
    let released = service
        .post(&orders, &format!("{second_path}/release"), json!({}))
        .await;
    assert_eq!(released.status, 200, "{:?}", released.body);
    assert_eq!(released.str("status"), "released");
    assert_eq!(service.totals(shop, tea).await, (3, 0, 3));
    let twice = service
        .post(&orders, &format!("{second_path}/release"), json!({}))
        .await;
    assert_eq!(twice.status, 200);
    let commit_released = service
        .post(&orders, &format!("{second_path}/commit"), json!({}))
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

    let orders = Caller::orders_service(shop);
    let short = service
        .post(
            &orders,
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
            &orders,
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
    let orders = Caller::orders_service(shop);
    let body = lines(&[(tea, 3)]);
    let key = [("idempotency-key", "checkout-7f3a")];
    let first = service
        .call(
            &orders,
            "POST",
            "/api/v1/reservations",
            Some(body.clone()),
            &key,
        )
        .await;
    assert_eq!(first.status, 201, "{:?}", first.body);
    let replay = service
        .call(
            &orders,
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
            &orders,
            "POST",
            "/api/v1/reservations",
            Some(lines(&[(tea, 4)])),
            &key,
        )
        .await;
    assert_eq!(other.status, 422, "{:?}", other.body);
    assert_eq!(other.str("code"), "idempotency_key_reused");
    // Keys belong to their caller: merchant staff's identical key is their own.
    let neighbour = service
        .call(
            &Caller::merchant(shop),
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
        .post(&orders, "/api/v1/reservations", with_ref.clone())
        .await;
    assert_eq!(by_ref.status, 201);
    let by_ref_again = service
        .post(&orders, "/api/v1/reservations", with_ref)
        .await;
    assert_eq!(by_ref_again.status, 201);
    assert!(by_ref_again.headers.contains_key("idempotent-replayed"));
    assert_eq!(by_ref_again.str("id"), by_ref.str("id"));
    assert_eq!(service.totals(shop, tea).await, (10, 7, 3));
    // A refusal is not stored: once stock arrives, the same key succeeds.
    let later = [("idempotency-key", "checkout-later")];
    let five_later = || {
        service.call(
            &orders,
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
            &orders,
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
    let orders = Caller::orders_service(shop);
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let (service, orders) = (service.clone(), orders.clone());
        tasks.push(tokio::spawn(async move {
            service
                .call(
                    &orders,
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
    let orders = Caller::orders_service(shop);
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
            .post(&orders, "/api/v1/reservations", body.clone())
            .await;
        assert_eq!(reply.status, 422, "{body}: {:?}", reply.body);
        assert_eq!(reply.fields(), fields, "{body}");
    }
    let many: Vec<(VariantId, i64)> = (0..101).map(|_| (VariantId::new(), 1)).collect();
    let too_many = service
        .post(&orders, "/api/v1/reservations", lines(&many))
        .await;
    assert_eq!(too_many.status, 422);
    let float = service
        .post(
            &orders,
            "/api/v1/reservations",
            json!({ "lines": [{ "variant_id": tea, "quantity": 1.5 }] }),
        )
        .await;
    assert_eq!(float.status, 422);
    assert_eq!(service.totals(shop, tea).await, (10, 0, 10));
    assert!(
        service
            .events_named(shop, "reservation.created")
            .await
            .is_empty()
    );
}

async fn reservations_stay_with_their_holder_and_shop(service: Service) {
    let shop = TenantId::new();
    let (vendor, _, tea) = service.stocked(shop, 10).await;
    let orders = Caller::orders_service(shop);
    let held = service
        .post(&orders, "/api/v1/reservations", lines(&[(tea, 2)]))
        .await;
    assert_eq!(held.status, 201, "{:?}", held.body);
    let path = format!("/api/v1/reservations/{}", held.str("id"));
    // A checkout's hold is not the vendor's to end; another shop's callers, and the same
    // callers on another shop's domain, do not see it.
    let owner = Caller::vendor_staff(shop, vendor, VendorRole::Owner);
    let strangers = [
        owner.clone(),
        Caller::merchant(TenantId::new()),
        orders.in_shop(TenantId::new()),
        owner.in_shop(TenantId::new()),
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
        assert_eq!(listed.status, 200, "{caller:?}: {:?}", listed.body);
        assert_eq!(listed.body["data"], json!([]), "{caller:?}");
    }
    assert_eq!(service.totals(shop, tea).await, (10, 2, 8));
    // The merchant may release a checkout's reservation (a cancelled order).
    let released = service
        .post(
            &Caller::merchant(shop),
            &format!("{path}/release"),
            json!({}),
        )
        .await;
    assert_eq!(released.status, 200, "{:?}", released.body);
    assert_eq!(service.totals(shop, tea).await, (10, 0, 10));
}

/// Shoppers hold stock only through a checkout: a shopper who could reserve a variant's whole
/// stock and commit it would take it for good, with no order and no payment. To them, and
/// to anonymous callers and keys without stock rights, reservations do not exist.
async fn shoppers_and_strangers_cannot_hold_stock(service: Service) {
    let shop = TenantId::new();
    let (_, _, tea) = service.stocked(shop, 10).await;
    let checkout = service
        .post(
            &Caller::orders_service(shop),
            "/api/v1/reservations",
            lines(&[(tea, 2)]),
        )
        .await;
    assert_eq!(checkout.status, 201, "{:?}", checkout.body);
    let path = format!("/api/v1/reservations/{}", checkout.str("id"));
    let outsiders = [
        Caller::shopper(shop),
        Caller::anonymous(shop),
        Caller::api_key(shop, Role::Customer),
    ];
    for caller in &outsiders {
        // Everything that is left, then the attempt's own commit: refused at the first step.
        let everything = service
            .post(caller, "/api/v1/reservations", lines(&[(tea, 8)]))
            .await;
        assert_eq!(everything.status, 404, "{caller:?}: {:?}", everything.body);
        let keyed = service
            .call(
                caller,
                "POST",
                "/api/v1/reservations",
                Some(lines(&[(tea, 1)])),
                &[("idempotency-key", "take-it-all")],
            )
            .await;
        assert_eq!(keyed.status, 404, "{caller:?}: {:?}", keyed.body);
        // A bad body tells them no more than a good one.
        let malformed = service
            .post(caller, "/api/v1/reservations", json!({ "lines": "all" }))
            .await;
        assert_eq!(malformed.status, 404, "{caller:?}: {:?}", malformed.body);
        let listed = service.get(caller, "/api/v1/reservations").await;
        assert_eq!(listed.status, 404, "{caller:?}: {:?}", listed.body);
        assert_eq!(service.get(caller, &path).await.status, 404, "{caller:?}");
        for action in ["commit", "release"] {
            let reply = service
                .post(caller, &format!("{path}/{action}"), json!({}))
                .await;
            assert_eq!(reply.status, 404, "{caller:?} {action}: {:?}", reply.body);
        }
    }
    // Nothing moved: the checkout still holds its two, the rest is for sale.
    assert_eq!(service.totals(shop, tea).await, (10, 2, 8));
    let shown = service.get(&Caller::merchant(shop), &path).await;
    assert_eq!(shown.str("status"), "active");
    assert_eq!(
        service
            .events_named(shop, "reservation.created")
            .await
            .len(),
        1
    );
    for ended in ["reservation.committed", "reservation.released"] {
        assert!(
            service.events_named(shop, ended).await.is_empty(),
            "{ended}"
        );
    }
}

async fn a_vendors_staff_holds_only_its_own_vendors_stock(service: Service) {
    let shop = TenantId::new();
    let (vendor, _, mine) = service.stocked(shop, 10).await;
    let (rival_vendor, _, theirs) = service.stocked(shop, 10).await;
    let staff = Caller::vendor_staff(shop, vendor, VendorRole::Staff);
    // Another vendor's variant, alone or among its own: 404, and nothing is held.
    for body in [
        lines(&[(theirs, 10)]),
        lines(&[(mine, 1), (theirs, 1)]),
        lines(&[(theirs, 1), (mine, 1)]),
    ] {
        let reply = service
            .post(&staff, "/api/v1/reservations", body.clone())
            .await;
        assert_eq!(reply.status, 404, "{body}: {:?}", reply.body);
    }
    assert_eq!(service.totals(shop, mine).await, (10, 0, 10));
    assert_eq!(service.totals(shop, theirs).await, (10, 0, 10));
    assert!(
        service
            .events_named(shop, "reservation.created")
            .await
            .is_empty()
    );

    // Its own (a phone order, say): held, seen, listed.
    let mut body = lines(&[(mine, 3)]);
    body["reference"] = json!("phone-order-1");
    let held = service.post(&staff, "/api/v1/reservations", body).await;
    assert_eq!(held.status, 201, "{:?}", held.body);
    let path = format!("/api/v1/reservations/{}", held.str("id"));
    assert_eq!(service.get(&staff, &path).await.status, 200);
    let listed = service.get(&staff, "/api/v1/reservations").await;
    assert_eq!(listed.body["data"].as_array().map(Vec::len), Some(1));
    // The rival vendor's staff, the same person in another shop, and the same person once
    // moved to the rival vendor neither see nor end it.
    let moved = Caller {
        vendors: vec![VendorMembership {
            vendor: rival_vendor,
            role: VendorRole::Staff,
        }],
        ..staff.clone()
    };
    for caller in [
        &Caller::vendor_staff(shop, rival_vendor, VendorRole::Owner),
        &staff.in_shop(TenantId::new()),
        &moved,
    ] {
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
    assert_eq!(service.totals(shop, mine).await, (10, 3, 7));
    // Its staff end it.
    let committed = service
        .post(&staff, &format!("{path}/commit"), json!({}))
        .await;
    assert_eq!(committed.status, 200, "{:?}", committed.body);
    assert_eq!(committed.str("status"), "committed");
    assert_eq!(service.totals(shop, mine).await, (7, 0, 7));
    assert_eq!(service.totals(shop, theirs).await, (10, 0, 10));
}

async fn merchant_staff_hold_any_stock_and_readers_only_look(service: Service) {
    let shop = TenantId::new();
    let (_, _, tea) = service.stocked(shop, 10).await;
    let (_, _, cup) = service.stocked(shop, 5).await;
    // The owner, and an integration's key with a role that manages stock, hold any vendor's.
    let held = service
        .post(
            &Caller::merchant(shop),
            "/api/v1/reservations",
            lines(&[(tea, 2), (cup, 1)]),
        )
        .await;
    assert_eq!(held.status, 201, "{:?}", held.body);
    let key = Caller::api_key(shop, Role::Admin);
    let by_key = service
        .post(&key, "/api/v1/reservations", lines(&[(cup, 1)]))
        .await;
    assert_eq!(by_key.status, 201, "{:?}", by_key.body);
    // And end anyone's.
    let committed = service
        .post(
            &key,
            &format!("/api/v1/reservations/{}/commit", held.str("id")),
            json!({}),
        )
        .await;
    assert_eq!(committed.status, 200, "{:?}", committed.body);
    // Merchant staff who may only look see every reservation but neither hold nor end one.
    let reader = Caller::merchant_staff(shop);
    let refused = service
        .post(&reader, "/api/v1/reservations", lines(&[(tea, 1)]))
        .await;
    assert_eq!(refused.status, 403, "{:?}", refused.body);
    let listed = service.get(&reader, "/api/v1/reservations").await;
    assert_eq!(listed.body["data"].as_array().map(Vec::len), Some(2));
    let path = format!("/api/v1/reservations/{}", by_key.str("id"));
    assert_eq!(service.get(&reader, &path).await.status, 200);
    let release = service
        .post(&reader, &format!("{path}/release"), json!({}))
        .await;
    assert_eq!(release.status, 403, "{:?}", release.body);
    assert_eq!(service.totals(shop, tea).await, (8, 0, 8));
    assert_eq!(service.totals(shop, cup).await, (4, 1, 3));
}

/// A request repeated after its reservation ended must not tell the client it still holds
/// units: the replay shows the reservation as it is now, and reserves nothing again.
async fn a_replay_shows_the_reservation_as_it_is_now(service: Service) {
    let shop = TenantId::new();
    let (_, _, tea) = service.stocked(shop, 10).await;
    let orders = Caller::orders_service(shop);
    let replayed = |reply: &Reply| {
        reply
            .headers
            .get("idempotent-replayed")
            .map(|v| v.as_bytes().to_vec())
    };

    // By reference: reserved, released, asked again.
    let mut by_reference = lines(&[(tea, 4)]);
    by_reference["reference"] = json!("ord_gone");
    let first = service
        .post(&orders, "/api/v1/reservations", by_reference.clone())
        .await;
    assert_eq!(first.status, 201, "{:?}", first.body);
    let path = format!("/api/v1/reservations/{}", first.str("id"));
    let released = service
        .post(&orders, &format!("{path}/release"), json!({}))
        .await;
    assert_eq!(released.status, 200, "{:?}", released.body);
    let again = service
        .post(&orders, "/api/v1/reservations", by_reference)
        .await;
    assert_eq!(again.status, 201, "{:?}", again.body);
    assert_eq!(replayed(&again), Some(b"true".to_vec()));
    assert_eq!(again.str("id"), first.str("id"));
    assert_eq!(again.str("status"), "released");
    assert_eq!(again.str("ended_by"), "svc_orders");
    assert_eq!(again.body["ended_at"], released.body["ended_at"]);
    assert_eq!(service.totals(shop, tea).await, (10, 0, 10));

    // By key: released, asked again while the units are there to take again.
    let key: &'static [(&str, &str)] = &[("idempotency-key", "checkout-91")];
    let reserve = |quantity: i64, key: &'static [(&'static str, &'static str)]| {
        service.call(
            &orders,
            "POST",
            "/api/v1/reservations",
            Some(lines(&[(tea, quantity)])),
            key,
        )
    };
    let keyed = reserve(3, key).await;
    assert_eq!(keyed.status, 201, "{:?}", keyed.body);
    let keyed_path = format!("/api/v1/reservations/{}", keyed.str("id"));
    let released = service
        .post(&orders, &format!("{keyed_path}/release"), json!({}))
        .await;
    assert_eq!(released.status, 200, "{:?}", released.body);
    let again = reserve(3, key).await;
    assert_eq!(again.status, 201, "{:?}", again.body);
    assert_eq!(replayed(&again), Some(b"true".to_vec()));
    assert_eq!(again.str("id"), keyed.str("id"));
    assert_eq!(again.str("status"), "released");
    assert_eq!(service.totals(shop, tea).await, (10, 0, 10));

    // By key: committed, asked again when what is left could not cover it.
    let sold_key: &'static [(&str, &str)] = &[("idempotency-key", "checkout-92")];
    let sold = reserve(6, sold_key).await;
    assert_eq!(sold.status, 201, "{:?}", sold.body);
    let committed = service
        .post(
            &orders,
            &format!("/api/v1/reservations/{}/commit", sold.str("id")),
            json!({}),
        )
        .await;
    assert_eq!(committed.status, 200, "{:?}", committed.body);
    let again = reserve(6, sold_key).await;
    assert_eq!(again.status, 201, "{:?}", again.body);
    assert_eq!(replayed(&again), Some(b"true".to_vec()));
    assert_eq!(again.str("id"), sold.str("id"));
    assert_eq!(again.str("status"), "committed");
    assert_eq!(service.totals(shop, tea).await, (4, 0, 4));
    assert_eq!(
        service
            .events_named(shop, "reservation.created")
            .await
            .len(),
        3
    );
}

on_every_backend!(
    a_suspended_vendors_stock_is_not_reserved,
    reserve_commit_and_release,
    all_or_nothing,
    retries_with_a_key_reserve_once,
    concurrent_retries_with_one_key_reserve_once,
    bad_reservations_are_refused_and_change_nothing,
    reservations_stay_with_their_holder_and_shop,
    shoppers_and_strangers_cannot_hold_stock,
    a_vendors_staff_holds_only_its_own_vendors_stock,
    merchant_staff_hold_any_stock_and_readers_only_look,
    a_replay_shows_the_reservation_as_it_is_now,
);

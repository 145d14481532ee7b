//! Stock levels and adjustments: who may stock what, the history, the rules that keep on
//! hand sane, low-stock alerts once per crossing, and the events catalog mirrors.

use crate::on_every_backend;
use crate::support::{Caller, Service, product_event};
use mercato_tenant_context::{ProductId, TenantId, VariantId, VendorId, VendorRole};
use serde_json::{Value, json};

async fn adjust(
    service: &Service,
    caller: &Caller,
    warehouse: &str,
    body: Value,
) -> crate::support::Reply {
    service
        .post(
            caller,
            &format!("/api/v1/warehouses/{warehouse}/adjustments"),
            body,
        )
        .await
}

async fn adjustments_move_on_hand_and_are_kept(service: Service) {
    let shop = TenantId::new();
    let vendor = VendorId::new();
    let (_, variants) = service.product(shop, vendor, 2).await;
    let staff = Caller::vendor_staff(shop, vendor, VendorRole::Staff);
    let north = service.warehouse(&staff, vendor, "North").await;
    let south = service.warehouse(&staff, vendor, "South").await;
    let v = variants[0];

    let received = adjust(
        &service,
        &staff,
        &north,
        json!({
            "variant_id": v, "delta": 40, "reason": "received", "note": " delivery 7 "
        }),
    )
    .await;
    assert_eq!(received.status, 201, "{:?}", received.body);
    assert_eq!(received.body["adjustment"]["delta"], 40);
    assert_eq!(received.body["adjustment"]["reason"], "received");
    assert_eq!(received.body["adjustment"]["note"], "delivery 7");
    assert_eq!(received.body["adjustment"]["on_hand_after"], 40);
    assert_eq!(received.body["stock"]["available"], 40);
    assert_eq!(received.body["stock"]["sku"], "SKU-0");
    service.receive(&staff, &south, v, 10).await;
    let damaged = adjust(
        &service,
        &staff,
        &north,
        json!({
            "variant_id": v, "delta": -3, "reason": "damaged"
        }),
    )
    .await;
    assert_eq!(damaged.status, 201, "{:?}", damaged.body);
    // A stocktake gives the count; the delta is what gets there.
    let counted = adjust(
        &service,
        &staff,
        &north,
        json!({
            "variant_id": v, "on_hand": 35, "reason": "correction", "note": "stocktake"
        }),
    )
    .await;
    assert_eq!(counted.status, 201, "{:?}", counted.body);
    assert_eq!(counted.body["adjustment"]["delta"], -2);
    let returned = adjust(
        &service,
        &staff,
        &south,
        json!({
            "variant_id": v, "delta": 1, "reason": "returned"
        }),
    )
    .await;
    assert_eq!(returned.status, 201);
    assert_eq!(service.totals(shop, v).await, (46, 0, 46));

    // The history, newest first, with who and why.
    let history = service
        .get(&staff, &format!("/api/v1/warehouses/{north}/adjustments"))
        .await;
    assert_eq!(history.status, 200);
    let reasons: Vec<&str> = history.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["reason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons, ["correction", "damaged", "received"]);
    let actor = match staff.actor {
        mercato_tenant_context::Actor::User(id) => id.to_string(),
        _ => unreachable!(),
    };
    assert_eq!(history.body["data"][0]["actor"], actor.as_str());
    assert_eq!(history.body["data"][0]["note"], "stocktake");
    let one = service
        .get(
            &staff,
            &format!(
                "/api/v1/warehouses/{north}/adjustments?variant_id={}&limit=1",
                v
            ),
        )
        .await;
    assert_eq!(one.body["data"].as_array().map(Vec::len), Some(1));
    assert!(one.body["next_cursor"].is_string());

    // The per-warehouse view and the variant view agree.
    let levels = service
        .get(&staff, &format!("/api/v1/warehouses/{south}/stock"))
        .await;
    assert_eq!(levels.status, 200);
    assert_eq!(levels.body["data"][0]["on_hand"], 11);
    let stock = service.get(&staff, &format!("/api/v1/stock/{v}")).await;
    assert_eq!(stock.status, 200, "{:?}", stock.body);
    assert_eq!(stock.body["warehouses"].as_array().map(Vec::len), Some(2));
    assert_eq!(stock.body["vendor_id"], vendor.to_string().as_str());

    // Every change told catalog the new totals.
    let changes = service.events_named(shop, "stock.changed").await;
    assert_eq!(changes.len(), 5);
    let last = changes.last().unwrap();
    assert_eq!(last["variant_id"], v.to_string().as_str());
    assert_eq!(last["vendor_id"], vendor.to_string().as_str());
    assert_eq!(
        (&last["on_hand"], &last["reserved"], &last["available"]),
        (&json!(46), &json!(0), &json!(46))
    );
    assert!(last["product_id"].as_str().unwrap().starts_with("prd_"));
}

async fn on_hand_never_drops_below_zero_or_reserved(service: Service) {
    let shop = TenantId::new();
    let (vendor, warehouse, v) = service.stocked(shop, 5).await;
    let staff = Caller::vendor_staff(shop, vendor, VendorRole::Staff);
    let too_many = adjust(
        &service,
        &staff,
        &warehouse,
        json!({
            "variant_id": v, "delta": -6, "reason": "lost"
        }),
    )
    .await;
    assert_eq!(too_many.status, 409, "{:?}", too_many.body);
    assert_eq!(too_many.str("code"), "stock_below_zero");
    // Hold 4 for a checkout: only 1 may now be written off.
    let held = service
        .post(
            &Caller::orders_service(shop),
            "/api/v1/reservations",
            json!({ "lines": [{ "variant_id": v, "quantity": 4 }] }),
        )
        .await;
    assert_eq!(held.status, 201, "{:?}", held.body);
    let into_reserved = adjust(
        &service,
        &staff,
        &warehouse,
        json!({
            "variant_id": v, "delta": -2, "reason": "damaged"
        }),
    )
    .await;
    assert_eq!(into_reserved.status, 409, "{:?}", into_reserved.body);
    assert_eq!(into_reserved.str("code"), "stock_reserved");
    assert!(
        into_reserved
            .str("detail")
            .contains("4 unit(s) are reserved"),
        "{:?}",
        into_reserved.body
    );
    let count_below = adjust(
        &service,
        &staff,
        &warehouse,
        json!({
            "variant_id": v, "on_hand": 3, "reason": "correction"
        }),
    )
    .await;
    assert_eq!(count_below.status, 409);
    let ok = adjust(
        &service,
        &staff,
        &warehouse,
        json!({
            "variant_id": v, "delta": -1, "reason": "damaged"
        }),
    )
    .await;
    assert_eq!(ok.status, 201, "{:?}", ok.body);
    assert_eq!(service.totals(shop, v).await, (4, 4, 0));
}

async fn bad_adjustments_are_refused_and_change_nothing(service: Service) {
    let shop = TenantId::new();
    let (vendor, warehouse, v) = service.stocked(shop, 5).await;
    let staff = Caller::vendor_staff(shop, vendor, VendorRole::Staff);
    // Another vendor's variant, in this shop.
    let (_, theirs) = service.product(shop, VendorId::new(), 1).await;
    let cases = [
        (
            json!({ "variant_id": v, "delta": 0, "reason": "correction" }),
            "/delta",
        ),
        (
            json!({ "variant_id": v, "delta": -1, "reason": "received" }),
            "/delta",
        ),
        (
            json!({ "variant_id": v, "delta": 2, "reason": "damaged" }),
            "/delta",
        ),
        (
            json!({ "variant_id": v, "delta": 1, "reason": "sold" }),
            "/reason",
        ),
        (
            json!({ "variant_id": v, "delta": 1, "reason": "stolen" }),
            "/reason",
        ),
        (json!({ "variant_id": v, "reason": "received" }), "/delta"),
        (
            json!({ "variant_id": v, "delta": 1, "on_hand": 3, "reason": "received" }),
            "/delta",
        ),
        (
            json!({ "variant_id": v, "on_hand": -1, "reason": "correction" }),
            "/on_hand",
        ),
        (
            json!({ "variant_id": v, "on_hand": 5, "reason": "correction" }),
            "/on_hand",
        ),
        (
            json!({ "variant_id": v, "delta": 2_000_000_000i64, "reason": "received" }),
            "/delta",
        ),
        (
            json!({ "variant_id": v, "delta": 1, "reason": "received", "note": "x".repeat(501) }),
            "/note",
        ),
        (
            json!({ "variant_id": "var_nope", "delta": 1, "reason": "received" }),
            "/variant_id",
        ),
        (
            json!({ "variant_id": VariantId::new(), "delta": 1, "reason": "received" }),
            "/variant_id",
        ),
        (
            json!({ "variant_id": theirs[0], "delta": 1, "reason": "received" }),
            "/variant_id",
        ),
    ];
    for (body, field) in cases {
        let reply = adjust(&service, &staff, &warehouse, body.clone()).await;
        assert_eq!(reply.status, 422, "{body}: {:?}", reply.body);
        assert!(
            reply.fields().contains(&field.to_owned()),
            "{body}: {:?}",
            reply.body
        );
    }
    let float = adjust(
        &service,
        &staff,
        &warehouse,
        json!({ "variant_id": v, "delta": 1.5, "reason": "received" }),
    )
    .await;
    assert_eq!(float.status, 422);
    assert_eq!(service.totals(shop, v).await, (5, 0, 5));
    let history = service
        .get(
            &staff,
            &format!("/api/v1/warehouses/{warehouse}/adjustments"),
        )
        .await;
    assert_eq!(history.body["data"].as_array().map(Vec::len), Some(1));
}

async fn only_the_vendors_staff_and_merchants_stock_its_variants(service: Service) {
    let shop = TenantId::new();
    let (vendor, warehouse, v) = service.stocked(shop, 5).await;
    let body = json!({ "variant_id": v, "delta": 100, "reason": "received" });
    let other_vendor = Caller::vendor_staff(shop, VendorId::new(), VendorRole::Owner);
    let other_shop = Caller::merchant(TenantId::new());
    let same_staff_elsewhere =
        Caller::vendor_staff(shop, vendor, VendorRole::Owner).in_shop(TenantId::new());
    for caller in [
        &other_vendor,
        &Caller::shopper(shop),
        &other_shop,
        &same_staff_elsewhere,
    ] {
        let reply = adjust(&service, caller, &warehouse, body.clone()).await;
        assert_eq!(reply.status, 404, "{caller:?}: {:?}", reply.body);
        let seen = service.get(caller, &format!("/api/v1/stock/{v}")).await;
        assert_eq!(seen.status, 404, "{caller:?}");
        let threshold = service
            .call(
                caller,
                "PUT",
                &format!("/api/v1/stock/{v}/threshold"),
                Some(json!({ "threshold": 3 })),
                &[],
            )
            .await;
        assert_eq!(threshold.status, 404, "{caller:?}");
    }
    let anonymous = adjust(&service, &Caller::anonymous(shop), &warehouse, body.clone()).await;
    assert_eq!(anonymous.status, 404);
    let reader = adjust(
        &service,
        &Caller::merchant_staff(shop),
        &warehouse,
        body.clone(),
    )
    .await;
    assert_eq!(reader.status, 403, "{:?}", reader.body);
    assert_eq!(service.totals(shop, v).await, (5, 0, 5));
    // The shop's merchant may stock any vendor; an integration key with the owner role too.
    let merchant = adjust(&service, &Caller::merchant(shop), &warehouse, body.clone()).await;
    assert_eq!(merchant.status, 201, "{:?}", merchant.body);
    let key = adjust(
        &service,
        &Caller::api_key(shop, mercato_tenant_context::Role::Admin),
        &warehouse,
        body,
    )
    .await;
    assert_eq!(key.status, 201, "{:?}", key.body);
    assert_eq!(service.totals(shop, v).await, (205, 0, 205));
}

async fn low_stock_is_announced_once_per_crossing(service: Service) {
    let shop = TenantId::new();
    let (vendor, warehouse, v) = service.stocked(shop, 10).await;
    let staff = Caller::vendor_staff(shop, vendor, VendorRole::Staff);
    let set = service
        .call(
            &staff,
            "PUT",
            &format!("/api/v1/stock/{v}/threshold"),
            Some(json!({ "threshold": 5 })),
            &[],
        )
        .await;
    assert_eq!(set.status, 200, "{:?}", set.body);
    assert_eq!(set.body["low_stock_threshold"], 5);
    assert_eq!(set.body["low_stock"], false);
    let take = |delta: i64| {
        let service = service.clone();
        let staff = staff.clone();
        let warehouse = warehouse.clone();
        async move {
            let reason = if delta < 0 { "lost" } else { "received" };
            let reply = adjust(
                &service,
                &staff,
                &warehouse,
                json!({ "variant_id": v, "delta": delta, "reason": reason }),
            )
            .await;
            assert_eq!(reply.status, 201, "{:?}", reply.body);
        }
    };
    take(-5).await; // 5: at the threshold, not below.
    assert!(service.events_named(shop, "stock.low").await.is_empty());
    take(-1).await; // 4: crossed.
    take(-2).await; // 2: still low, no second alert.
    let lows = service.events_named(shop, "stock.low").await;
    assert_eq!(lows.len(), 1, "{lows:?}");
    assert_eq!(lows[0]["available"], 4);
    assert_eq!(lows[0]["threshold"], 5);
    assert_eq!(lows[0]["variant_id"], v.to_string().as_str());
    // A reservation taking it lower says nothing more either.
    let held = service
        .post(
            &Caller::orders_service(shop),
            "/api/v1/reservations",
            json!({ "lines": [{ "variant_id": v, "quantity": 1 }] }),
        )
        .await;
    assert_eq!(held.status, 201);
    assert_eq!(service.events_named(shop, "stock.low").await.len(), 1);
    let stock = service.get(&staff, &format!("/api/v1/stock/{v}")).await;
    assert_eq!(stock.body["low_stock"], true);
    // Back to the threshold re-arms; the next drop alerts again.
    take(4).await; // 6 on hand, 1 reserved: 5 available.
    take(-1).await; // 4 available.
    assert_eq!(service.events_named(shop, "stock.low").await.len(), 2);
    // Raising the threshold above what is available is a crossing at once; clearing it
    // ends the low state.
    take(10).await; // 14 available: re-armed.
    let raised = service
        .call(
            &staff,
            "PUT",
            &format!("/api/v1/stock/{v}/threshold"),
            Some(json!({ "threshold": 20 })),
            &[],
        )
        .await;
    assert_eq!(raised.body["low_stock"], true);
    assert_eq!(service.events_named(shop, "stock.low").await.len(), 3);
    let cleared = service
        .call(
            &staff,
            "PUT",
            &format!("/api/v1/stock/{v}/threshold"),
            Some(json!({ "threshold": null })),
            &[],
        )
        .await;
    assert_eq!(cleared.status, 200);
    assert_eq!(cleared.body["low_stock"], false);
    assert!(cleared.body["low_stock_threshold"].is_null());
    for bad in [
        json!({ "threshold": 0 }),
        json!({ "threshold": -3 }),
        json!({ "threshold": "5" }),
        json!({ "limit": 5 }),
    ] {
        let reply = service
            .call(
                &staff,
                "PUT",
                &format!("/api/v1/stock/{v}/threshold"),
                Some(bad.clone()),
                &[],
            )
            .await;
        assert_eq!(reply.status, 422, "{bad}: {:?}", reply.body);
    }
}

async fn the_catalog_mirror_follows_product_changes(service: Service) {
    let shop = TenantId::new();
    let vendor = VendorId::new();
    let product = ProductId::new();
    let (a, b) = (VariantId::new(), VariantId::new());
    let staff = Caller::vendor_staff(shop, vendor, VendorRole::Staff);
    let warehouse = service.warehouse(&staff, vendor, "Main").await;
    // Unknown to inventory until catalog says so.
    let early = service
        .post(
            &staff,
            &format!("/api/v1/warehouses/{warehouse}/adjustments"),
            json!({ "variant_id": a, "delta": 3, "reason": "received" }),
        )
        .await;
    assert_eq!(early.status, 422);
    let first = product_event(shop, product, vendor, &[a, b], false);
    service.product_changed(&first).await;
    // A redelivery is a no-op; so is an event for another shop's product.
    service.product_changed(&first).await;
    service.receive(&staff, &warehouse, a, 3).await;
    service.receive(&staff, &warehouse, b, 2).await;
    // Variant b is removed from the product: no more stock for it, its history stays.
    let second = product_event(shop, product, vendor, &[a], false);
    service.product_changed(&second).await;
    let gone = service
        .post(
            &staff,
            &format!("/api/v1/warehouses/{warehouse}/adjustments"),
            json!({ "variant_id": b, "delta": 1, "reason": "received" }),
        )
        .await;
    assert_eq!(gone.status, 422, "{:?}", gone.body);
    let reserve_gone = service
        .post(
            &Caller::orders_service(shop),
            "/api/v1/reservations",
            json!({ "lines": [{ "variant_id": b, "quantity": 1 }] }),
        )
        .await;
    assert_eq!(reserve_gone.status, 422, "{:?}", reserve_gone.body);
    let seen = service.get(&staff, &format!("/api/v1/stock/{b}")).await;
    assert_eq!(seen.body["deleted"], true);
    assert_eq!(seen.body["on_hand"], 2);
    // An older event arriving late does not bring it back.
    service
        .product_changed(&Envelope {
            id: mercato_events::EventId::new(),
            ..first.clone()
        })
        .await;
    let still_gone = service.get(&staff, &format!("/api/v1/stock/{b}")).await;
    assert_eq!(still_gone.body["deleted"], true);
    // Deleting the product retires every variant.
    service
        .product_changed(&product_event(shop, product, vendor, &[a], true))
        .await;
    let retired = service.get(&staff, &format!("/api/v1/stock/{a}")).await;
    assert_eq!(retired.body["deleted"], true);
    // Another shop never sees these variants.
    let elsewhere = service
        .get(
            &Caller::merchant(TenantId::new()),
            &format!("/api/v1/stock/{a}"),
        )
        .await;
    assert_eq!(elsewhere.status, 404);
}

use mercato_events::Envelope;

on_every_backend!(
    adjustments_move_on_hand_and_are_kept,
    on_hand_never_drops_below_zero_or_reserved,
    bad_adjustments_are_refused_and_change_nothing,
    only_the_vendors_staff_and_merchants_stock_its_variants,
    low_stock_is_announced_once_per_crossing,
    the_catalog_mirror_follows_product_changes,
);

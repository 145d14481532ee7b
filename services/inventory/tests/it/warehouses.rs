//! Warehouses: vendor staff set up their own, merchant staff any vendor's; strangers and
//! other shops see nothing; bad input is refused and changes nothing.

use crate::on_every_backend;
use crate::support::{Caller, Service, warehouse_body};
use mercato_tenant_context::{TenantId, VendorId, VendorRole};
use serde_json::json;

async fn vendor_staff_manage_their_warehouses(service: Service) {
    let shop = TenantId::new();
    let vendor = VendorId::new();
    let owner = Caller::vendor_staff(shop, vendor, VendorRole::Owner);
    let created = service
        .post(
            &owner,
            "/api/v1/warehouses",
            warehouse_body(vendor, "  Hamburg "),
        )
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(created.str("name"), "Hamburg");
    assert_eq!(created.body["active"], true);
    assert_eq!(created.body["address"]["country"], "DE");
    let id = created.str("id");
    assert!(id.starts_with("whs_"), "{id}");

    // The same name twice for one vendor is a conflict; another vendor may use it.
    let twice = service
        .post(
            &owner,
            "/api/v1/warehouses",
            warehouse_body(vendor, "Hamburg"),
        )
        .await;
    assert_eq!(twice.status, 409, "{:?}", twice.body);
    assert_eq!(twice.str("code"), "warehouse_name_taken");
    let other_vendor = VendorId::new();
    let other = Caller::vendor_staff(shop, other_vendor, VendorRole::Manager);
    service.warehouse(&other, other_vendor, "Hamburg").await;

    // Staff (not only owners) change it; the change shows.
    let staff = Caller::vendor_staff(shop, vendor, VendorRole::Staff);
    let renamed = service
        .call(
            &staff,
            "PATCH",
            &format!("/api/v1/warehouses/{id}"),
            Some(json!({ "name": "Hamburg Port", "active": false })),
            &[],
        )
        .await;
    assert_eq!(renamed.status, 200, "{:?}", renamed.body);
    assert_eq!(renamed.str("name"), "Hamburg Port");
    assert_eq!(renamed.body["active"], false);
    let shown = service
        .get(&staff, &format!("/api/v1/warehouses/{id}"))
        .await;
    assert_eq!(shown.status, 200);
    assert_eq!(shown.str("name"), "Hamburg Port");

    // Each vendor lists its own; the merchant lists all, or one vendor's.
    let mine = service.get(&staff, "/api/v1/warehouses").await;
    assert_eq!(mine.status, 200);
    assert_eq!(mine.body["data"].as_array().map(Vec::len), Some(1));
    let merchant = Caller::merchant(shop);
    let all = service.get(&merchant, "/api/v1/warehouses").await;
    assert_eq!(all.body["data"].as_array().map(Vec::len), Some(2));
    let filtered = service
        .get(
            &merchant,
            &format!("/api/v1/warehouses?vendor_id={other_vendor}"),
        )
        .await;
    assert_eq!(filtered.body["data"].as_array().map(Vec::len), Some(1));
    // Paging.
    let first = service.get(&merchant, "/api/v1/warehouses?limit=1").await;
    let cursor = first.str("next_cursor");
    assert!(!cursor.is_empty(), "{:?}", first.body);
    let second = service
        .get(
            &merchant,
            &format!("/api/v1/warehouses?limit=1&cursor={cursor}"),
        )
        .await;
    assert_eq!(second.body["data"].as_array().map(Vec::len), Some(1));
    assert_ne!(second.body["data"][0]["id"], first.body["data"][0]["id"]);
    assert!(second.body["next_cursor"].is_null());
}

async fn merchants_set_up_warehouses_for_known_vendors(service: Service) {
    let shop = TenantId::new();
    let vendor = VendorId::new();
    let merchant = Caller::merchant(shop);
    // Inventory has not heard of this vendor: the merchant cannot invent one.
    let unknown = service
        .post(
            &merchant,
            "/api/v1/warehouses",
            warehouse_body(vendor, "Berlin"),
        )
        .await;
    assert_eq!(unknown.status, 422, "{:?}", unknown.body);
    assert_eq!(unknown.fields(), ["/vendor_id"]);
    // Vendor events without a status (a checklist override) say nothing about existence.
    service
        .vendor_raw(
            shop,
            "vendor.checklist_overridden",
            json!({ "vendor_id": vendor, "code": "tax_id", "reason": "ok", "actor": "usr_x" }),
        )
        .await;
    let still_unknown = service
        .post(
            &merchant,
            "/api/v1/warehouses",
            warehouse_body(vendor, "Berlin"),
        )
        .await;
    assert_eq!(still_unknown.status, 422, "{:?}", still_unknown.body);
    service
        .vendor_event(shop, "vendor.applied", vendor, "applied")
        .await;
    let id = service.warehouse(&merchant, vendor, "Berlin").await;
    // The vendor's staff see what the merchant set up for them.
    let staff = Caller::vendor_staff(shop, vendor, VendorRole::Staff);
    let shown = service
        .get(&staff, &format!("/api/v1/warehouses/{id}"))
        .await;
    assert_eq!(shown.status, 200, "{:?}", shown.body);
    // Merchant staff who may only read see it but cannot change it.
    let reader = Caller::merchant_staff(shop);
    assert_eq!(
        service
            .get(&reader, &format!("/api/v1/warehouses/{id}"))
            .await
            .status,
        200
    );
    let refused = service
        .call(
            &reader,
            "PATCH",
            &format!("/api/v1/warehouses/{id}"),
            Some(json!({ "name": "Mine now" })),
            &[],
        )
        .await;
    assert_eq!(refused.status, 403, "{:?}", refused.body);
    // A rejected vendor gets no new warehouses.
    service
        .vendor_event(shop, "vendor.rejected", vendor, "rejected")
        .await;
    let rejected = service
        .post(
            &merchant,
            "/api/v1/warehouses",
            warehouse_body(vendor, "Bonn"),
        )
        .await;
    assert_eq!(rejected.status, 422, "{:?}", rejected.body);
}

async fn strangers_and_other_shops_see_nothing(service: Service) {
    let shop = TenantId::new();
    let vendor = VendorId::new();
    let owner = Caller::vendor_staff(shop, vendor, VendorRole::Owner);
    let id = service.warehouse(&owner, vendor, "Leipzig").await;
    let path = format!("/api/v1/warehouses/{id}");
    let patch = Some(json!({ "name": "Taken over" }));

    let other_vendor = Caller::vendor_staff(shop, VendorId::new(), VendorRole::Owner);
    let shopper = Caller::shopper(shop);
    let other_shop_owner = Caller::merchant(TenantId::new());
    let same_vendor_elsewhere = owner.in_shop(TenantId::new());
    for caller in [
        &other_vendor,
        &shopper,
        &other_shop_owner,
        &same_vendor_elsewhere,
    ] {
        assert_eq!(service.get(caller, &path).await.status, 404, "{caller:?}");
        let changed = service
            .call(caller, "PATCH", &path, patch.clone(), &[])
            .await;
        assert_eq!(changed.status, 404, "{caller:?}: {:?}", changed.body);
        assert_eq!(
            service.get(caller, &format!("{path}/stock")).await.status,
            404
        );
        assert_eq!(
            service
                .get(caller, &format!("{path}/adjustments"))
                .await
                .status,
            404
        );
    }
    // Creating a warehouse for someone else's vendor: 404, it does not exist for them.
    let hijack = service
        .post(
            &other_vendor,
            "/api/v1/warehouses",
            warehouse_body(vendor, "Mine"),
        )
        .await;
    assert_eq!(hijack.status, 404, "{:?}", hijack.body);
    // Their lists do not show it.
    let listed = service
        .get(
            &other_vendor,
            &format!("/api/v1/warehouses?vendor_id={vendor}"),
        )
        .await;
    assert_eq!(listed.status, 200);
    assert_eq!(listed.body["data"], json!([]));
    let elsewhere = service.get(&other_shop_owner, "/api/v1/warehouses").await;
    assert_eq!(elsewhere.body["data"], json!([]));
    assert_eq!(
        service.get(&shopper, "/api/v1/warehouses").await.status,
        403
    );
    assert_eq!(
        service
            .get(&Caller::anonymous(shop), "/api/v1/warehouses")
            .await
            .status,
        401
    );
    // Nothing changed.
    let shown = service.get(&owner, &path).await;
    assert_eq!(shown.str("name"), "Leipzig");
}

async fn bad_warehouses_are_refused(service: Service) {
    let shop = TenantId::new();
    let vendor = VendorId::new();
    let owner = Caller::vendor_staff(shop, vendor, VendorRole::Owner);
    let bad = service
        .post(
            &owner,
            "/api/v1/warehouses",
            json!({
                "vendor_id": vendor, "name": " ",
                "address": { "line1": "", "postal_code": "1", "city": "X", "country": "Germany" }
            }),
        )
        .await;
    assert_eq!(bad.status, 422, "{:?}", bad.body);
    assert_eq!(
        bad.fields(),
        ["/name", "/address/line1", "/address/country"]
    );
    let bad_vendor = service
        .post(&owner, "/api/v1/warehouses", warehouse_body(vendor, "X"))
        .await;
    assert_eq!(bad_vendor.status, 201);
    let mut body = warehouse_body(vendor, "Y");
    body["vendor_id"] = json!("ven_nope");
    let malformed = service.post(&owner, "/api/v1/warehouses", body).await;
    assert_eq!(malformed.status, 422);
    assert_eq!(malformed.fields(), ["/vendor_id"]);
    let mut body = warehouse_body(vendor, "Z");
    body["colour"] = json!("red");
    let unknown_field = service.post(&owner, "/api/v1/warehouses", body).await;
    assert_eq!(unknown_field.status, 422, "{:?}", unknown_field.body);
    let listed = service.get(&owner, "/api/v1/warehouses").await;
    assert_eq!(listed.body["data"].as_array().map(Vec::len), Some(1));
}

on_every_backend!(
    vendor_staff_manage_their_warehouses,
    merchants_set_up_warehouses_for_known_vendors,
    strangers_and_other_shops_see_nothing,
    bad_warehouses_are_refused,
);

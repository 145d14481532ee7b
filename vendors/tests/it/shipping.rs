//! A vendor's shipping settings: set by its owner and managers or merchant staff, shown with
//! the vendor, carried in every `vendor.*` event, and refused whole when not consistent.

use crate::on_every_backend;
use crate::support::{Caller, Service};
use mercato_tenant_context::{TenantId, VendorRole};
use serde_json::{Value, json};

fn eur(amount: i64) -> Value {
    json!({ "amount": amount, "currency": "EUR" })
}

async fn shipping_settings_are_set_shown_and_announced(service: Service) {
    let shop = TenantId::new();
    let applicant = Caller::customer(shop);
    let vendor = service.apply(&applicant, "Nordic Tea").await;
    let path = format!("/api/v1/vendors/{vendor}");
    // A new vendor ships free until it says otherwise, and says so in its events.
    let fresh = service.get(&applicant, &path).await;
    assert_eq!(fresh.status, 200, "{:?}", fresh.body);
    assert!(fresh.body["shipping_flat_rate"].is_null());
    assert!(fresh.body["free_shipping_over"].is_null());
    let applied = service.events_named(shop, "vendor.applied").await;
    assert_eq!(
        applied[0]["shipping"],
        json!({ "flat_rate": null, "free_over": null })
    );

    // The owner sets both.
    let set = service
        .patch(
            &applicant,
            &path,
            json!({ "shipping_flat_rate": eur(490), "free_shipping_over": eur(5000) }),
        )
        .await;
    assert_eq!(set.status, 200, "{:?}", set.body);
    assert_eq!(set.body["shipping_flat_rate"], eur(490));
    assert_eq!(set.body["free_shipping_over"], eur(5000));
    let shown = service.get(&applicant, &path).await;
    assert_eq!(shown.body["shipping_flat_rate"], eur(490));
    assert_eq!(shown.body["free_shipping_over"], eur(5000));
    let updated = service.events_named(shop, "vendor.updated").await;
    assert_eq!(updated.len(), 1);
    assert_eq!(
        updated[0]["shipping"],
        json!({ "flat_rate": eur(490), "free_over": eur(5000) })
    );
    assert_eq!(updated[0]["vendor_id"], vendor.to_string());

    // A manager changes the rate; other fields stay.
    let manager = Caller::vendor_staff(shop, vendor, VendorRole::Manager);
    let changed = service
        .patch(&manager, &path, json!({ "shipping_flat_rate": eur(390) }))
        .await;
    assert_eq!(changed.status, 200, "{:?}", changed.body);
    assert_eq!(changed.body["shipping_flat_rate"], eur(390));
    assert_eq!(changed.body["free_shipping_over"], eur(5000));
    // Merchant staff clear the threshold: `null` clears, absent keeps.
    let merchant = Caller::merchant(shop);
    let cleared = service
        .patch(&merchant, &path, json!({ "free_shipping_over": null }))
        .await;
    assert_eq!(cleared.status, 200, "{:?}", cleared.body);
    assert_eq!(cleared.body["shipping_flat_rate"], eur(390));
    assert!(cleared.body["free_shipping_over"].is_null());
    let last = service.events_named(shop, "vendor.updated").await;
    assert_eq!(
        last.last().unwrap()["shipping"],
        json!({ "flat_rate": eur(390), "free_over": null })
    );
    // The vendor's plain staff may not touch it.
    let staff = Caller::vendor_staff(shop, vendor, VendorRole::Staff);
    let refused = service
        .patch(&staff, &path, json!({ "shipping_flat_rate": eur(0) }))
        .await;
    assert_eq!(refused.status, 403, "{:?}", refused.body);
    // Another shop's staff do not see it at all.
    let stranger = Caller::merchant(TenantId::new());
    let hidden = service
        .patch(&stranger, &path, json!({ "shipping_flat_rate": eur(0) }))
        .await;
    assert_eq!(hidden.status, 404);
    assert_eq!(
        service.get(&applicant, &path).await.body["shipping_flat_rate"],
        eur(390)
    );
}

async fn bad_shipping_settings_are_refused_and_change_nothing(service: Service) {
    let shop = TenantId::new();
    let applicant = Caller::customer(shop);
    let vendor = service.apply(&applicant, "Kaffee Kontor").await;
    let path = format!("/api/v1/vendors/{vendor}");
    let set = service
        .patch(&applicant, &path, json!({ "shipping_flat_rate": eur(490) }))
        .await;
    assert_eq!(set.status, 200, "{:?}", set.body);
    let events = service.events(shop).await.len();

    let cases = [
        (
            json!({ "shipping_flat_rate": { "amount": -1, "currency": "EUR" }, "store_name": "New" }),
            vec!["/shipping_flat_rate/amount"],
        ),
        (
            json!({ "free_shipping_over": { "amount": 100, "currency": "XYZ" } }),
            vec!["/free_shipping_over/currency"],
        ),
        (
            json!({
                "shipping_flat_rate": { "amount": -5, "currency": "eur" },
                "free_shipping_over": { "amount": -1, "currency": "EUR" },
            }),
            vec![
                "/shipping_flat_rate/amount",
                "/shipping_flat_rate/currency",
                "/free_shipping_over/amount",
            ],
        ),
        // Two currencies in one patch: the threshold is blamed.
        (
            json!({ "shipping_flat_rate": eur(100), "free_shipping_over": { "amount": 100, "currency": "USD" } }),
            vec!["/free_shipping_over/currency"],
        ),
        // A threshold in another currency than the stored rate.
        (
            json!({ "free_shipping_over": { "amount": 100, "currency": "USD" } }),
            vec!["/free_shipping_over/currency"],
        ),
        // A rate in another currency than a stored threshold is checked the same way below.
    ];
    for (body, fields) in cases {
        let refused = service.patch(&applicant, &path, body.clone()).await;
        assert_eq!(refused.status, 422, "{body}: {:?}", refused.body);
        assert_eq!(refused.fields(), fields, "{body}");
    }
    let unchanged = service.get(&applicant, &path).await;
    assert_eq!(unchanged.body["shipping_flat_rate"], eur(490));
    assert!(unchanged.body["free_shipping_over"].is_null());
    assert_eq!(unchanged.str("store_name"), "Kaffee Kontor");
    assert_eq!(service.events(shop).await.len(), events);

    let threshold = service
        .patch(
            &applicant,
            &path,
            json!({ "free_shipping_over": eur(3000) }),
        )
        .await;
    assert_eq!(threshold.status, 200, "{:?}", threshold.body);
    let usd_rate = service
        .patch(
            &applicant,
            &path,
            json!({ "shipping_flat_rate": { "amount": 500, "currency": "USD" } }),
        )
        .await;
    assert_eq!(usd_rate.status, 422, "{:?}", usd_rate.body);
    assert_eq!(usd_rate.fields(), ["/shipping_flat_rate/currency"]);
    // Moving both to another currency at once is fine.
    let moved = service
        .patch(
            &applicant,
            &path,
            json!({
                "shipping_flat_rate": { "amount": 500, "currency": "USD" },
                "free_shipping_over": { "amount": 4000, "currency": "USD" },
            }),
        )
        .await;
    assert_eq!(moved.status, 200, "{:?}", moved.body);
    // Clearing the rate leaves a lone threshold, which is consistent (shipping is free).
    let free = service
        .patch(&applicant, &path, json!({ "shipping_flat_rate": null }))
        .await;
    assert_eq!(free.status, 200, "{:?}", free.body);
    assert!(free.body["shipping_flat_rate"].is_null());
}

on_every_backend!(
    shipping_settings_are_set_shown_and_announced,
    bad_shipping_settings_are_refused_and_change_nothing,
);

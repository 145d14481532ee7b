//! A vendor on holiday sells nothing until the day after its `holiday_until` (the shop's day,
//! UTC): a reservation with any of its lines is refused with `vendor_on_holiday`, naming the
//! day it is back and each of its lines, and nothing is held. Orders refuses such lines at
//! cart and checkout already; this is the second wall, for any caller of reservations. Other
//! vendors of the shop, and a vendor with the same id in another shop, are not held back.

use crate::on_every_backend;
use crate::reservations::lines;
use crate::support::{Caller, Service, vendor_snapshot};
use chrono::{Duration, NaiveDate, Utc};
use mercato_tenant_context::{TenantId, VariantId, VendorId, VendorRole};
use mercato_vendors_api::vendor::VendorSnapshot;
use serde_json::Value;

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// Sends `vendor` on holiday until `until` (inclusive; `None`: home), as the vendors service
/// announces it.
async fn holiday(service: &Service, shop: TenantId, vendor: VendorId, until: Option<NaiveDate>) {
    let payload = VendorSnapshot {
        holiday_until: until,
        ..vendor_snapshot(vendor, "approved")
    };
    service
        .vendor_payload(shop, "vendor.updated", payload)
        .await;
}

/// A vendor of `shop` with `units` of a new variant in stock, known to the mirror as approved.
async fn selling(service: &Service, shop: TenantId, vendor: VendorId, units: i64) -> VariantId {
    let (_, variants) = service.product(shop, vendor, 1).await;
    let staff = Caller::vendor_staff(shop, vendor, VendorRole::Staff);
    let warehouse = service.warehouse(&staff, vendor, "Main").await;
    service
        .receive(&staff, &warehouse, variants[0], units)
        .await;
    holiday(service, shop, vendor, None).await;
    variants[0]
}

fn messages(body: &Value) -> Vec<(String, String)> {
    body["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| {
                    let s = |k: &str| e[k].as_str().unwrap_or_default().to_owned();
                    (s("field"), s("message"))
                })
                .collect()
        })
        .unwrap_or_default()
}

async fn a_vendor_on_holiday_has_none_of_its_stock_held(service: Service) {
    let shop = TenantId::new();
    let (away, home) = (VendorId::new(), VendorId::new());
    let tea = selling(&service, shop, away, 5).await;
    let pot = selling(&service, shop, home, 5).await;
    let merchant = Caller::merchant(shop);
    let orders = Caller::orders_service(shop);
    let until = today() + Duration::days(3);
    let back = (until + Duration::days(1)).to_string();
    holiday(&service, shop, away, Some(until)).await;

    // Merchant staff and the orders service alike: refused, the line named with the day the
    // vendor is back; the other vendor's line is not named, and nothing is held of either.
    for caller in [&merchant, &orders] {
        let refused = service
            .post(caller, "/api/v1/reservations", lines(&[(pot, 1), (tea, 2)]))
            .await;
        assert_eq!(refused.status, 409, "{:?}", refused.body);
        assert_eq!(refused.str("code"), "vendor_on_holiday");
        assert!(refused.str("detail").contains(&back), "{:?}", refused.body);
        assert_eq!(
            messages(&refused.body),
            [(
                "/lines/1/variant_id".to_owned(),
                format!("its vendor is on holiday and takes orders again on {back}")
            )]
        );
    }
    assert_eq!(service.totals(shop, tea).await, (5, 0, 5));
    assert_eq!(service.totals(shop, pot).await, (5, 0, 5));
    assert!(
        service
            .events_named(shop, "reservation.created")
            .await
            .is_empty()
    );
    // Its own staff cannot hold its stock either.
    let staff = Caller::vendor_staff(shop, away, VendorRole::Staff);
    let own = service
        .post(&staff, "/api/v1/reservations", lines(&[(tea, 1)]))
        .await;
    assert_eq!(own.status, 409, "{:?}", own.body);
    assert_eq!(own.str("code"), "vendor_on_holiday");

    // Another vendor of the shop sells as usual.
    let other = service
        .post(&merchant, "/api/v1/reservations", lines(&[(pot, 1)]))
        .await;
    assert_eq!(other.status, 201, "{:?}", other.body);
    assert_eq!(service.totals(shop, pot).await, (5, 1, 4));

    // Home again: its stock is held as before.
    holiday(&service, shop, away, None).await;
    let reserved = service
        .post(&merchant, "/api/v1/reservations", lines(&[(tea, 2)]))
        .await;
    assert_eq!(reserved.status, 201, "{:?}", reserved.body);
    assert_eq!(service.totals(shop, tea).await, (5, 2, 3));
}

async fn a_holiday_lasts_through_its_last_day(service: Service) {
    let shop = TenantId::new();
    let vendor = VendorId::new();
    let tea = selling(&service, shop, vendor, 5).await;
    let merchant = Caller::merchant(shop);
    // Away until today: still away, back tomorrow.
    holiday(&service, shop, vendor, Some(today())).await;
    let refused = service
        .post(&merchant, "/api/v1/reservations", lines(&[(tea, 1)]))
        .await;
    assert_eq!(refused.status, 409, "{:?}", refused.body);
    assert_eq!(refused.str("code"), "vendor_on_holiday");
    let tomorrow = (today() + Duration::days(1)).to_string();
    assert!(
        refused.str("detail").contains(&tomorrow),
        "{:?}",
        refused.body
    );
    // A holiday that ended yesterday holds nothing back.
    holiday(&service, shop, vendor, Some(today() - Duration::days(1))).await;
    let reserved = service
        .post(&merchant, "/api/v1/reservations", lines(&[(tea, 1)]))
        .await;
    assert_eq!(reserved.status, 201, "{:?}", reserved.body);
}

async fn suspended_and_away_vendors_are_named_together(service: Service) {
    let shop = TenantId::new();
    let (away, stopped) = (VendorId::new(), VendorId::new());
    let tea = selling(&service, shop, away, 5).await;
    let pot = selling(&service, shop, stopped, 5).await;
    let until = today() + Duration::days(2);
    holiday(&service, shop, away, Some(until)).await;
    service
        .vendor_event(shop, "vendor.suspended", stopped, "suspended")
        .await;
    let refused = service
        .post(
            &Caller::merchant(shop),
            "/api/v1/reservations",
            lines(&[(tea, 1), (pot, 1)]),
        )
        .await;
    // Suspension is the stronger reason: the request is `vendor_not_selling`, and each line
    // says why.
    assert_eq!(refused.status, 409, "{:?}", refused.body);
    assert_eq!(refused.str("code"), "vendor_not_selling");
    let fields: Vec<String> = messages(&refused.body)
        .into_iter()
        .map(|(f, _)| f)
        .collect();
    assert_eq!(fields, ["/lines/0/variant_id", "/lines/1/variant_id"]);
    assert!(
        messages(&refused.body)[0]
            .1
            .contains(&(until + Duration::days(1)).to_string())
    );
    assert_eq!(service.totals(shop, tea).await, (5, 0, 5));
    assert_eq!(service.totals(shop, pot).await, (5, 0, 5));
}

async fn a_holiday_stays_in_its_shop(service: Service) {
    // The same vendor id in two shops (the mirror keys vendors by shop): away in one, selling
    // in the other.
    let (away_shop, open_shop) = (TenantId::new(), TenantId::new());
    let vendor = VendorId::new();
    let there = selling(&service, away_shop, vendor, 5).await;
    let here = selling(&service, open_shop, vendor, 5).await;
    holiday(
        &service,
        away_shop,
        vendor,
        Some(today() + Duration::days(5)),
    )
    .await;
    let refused = service
        .post(
            &Caller::merchant(away_shop),
            "/api/v1/reservations",
            lines(&[(there, 1)]),
        )
        .await;
    assert_eq!(refused.str("code"), "vendor_on_holiday");
    let reserved = service
        .post(
            &Caller::merchant(open_shop),
            "/api/v1/reservations",
            lines(&[(here, 1)]),
        )
        .await;
    assert_eq!(reserved.status, 201, "{:?}", reserved.body);
    assert_eq!(service.totals(open_shop, here).await, (5, 1, 4));
}

on_every_backend!(
    a_vendor_on_holiday_has_none_of_its_stock_held,
    a_holiday_lasts_through_its_last_day,
    suspended_and_away_vendors_are_named_together,
    a_holiday_stays_in_its_shop,
);

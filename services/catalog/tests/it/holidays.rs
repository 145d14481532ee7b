//! A vendor on holiday: its products stay on show, the page and each list entry (the product
//! list and search) with a `vendor_away` notice naming the day it takes orders again; back
//! home, the notice goes. Another vendor of the shop, and the same vendor id in another shop,
//! show none. A suspended vendor's products still vanish, holiday or not.

use crate::on_every_backend;
use crate::support::{Caller, Reply, Service};
use chrono::{Duration, NaiveDate, Utc};
use mercato_catalog::events;
use mercato_events::{Envelope, Handler};
use mercato_tenant_context::{TenantId, UserId, VendorId};
use mercato_vendors_api::vendor::{VendorSnapshot, VendorStatus};
use serde_json::{Value, json};

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// Announces `vendor` of `tenant` as the vendors service does: `status`, on holiday until
/// `until` (inclusive) or not.
async fn vendor_event(
    service: &Service,
    tenant: TenantId,
    vendor: VendorId,
    status: &str,
    until: Option<NaiveDate>,
) {
    let payload = VendorSnapshot {
        vendor_id: vendor,
        slug: format!("v-{}", vendor.as_uuid().simple()),
        store_name: "Nordic Tea".into(),
        status: VendorStatus::parse(status).expect("a vendor status"),
        owner_user_id: UserId::new(),
        holiday_until: until,
        reason: None,
        actor: "usr_test".into(),
        shipping: Default::default(),
        legal: None,
    };
    let event = Envelope::new("vendor.updated", 1, tenant, &payload).expect("envelope");
    mercato_events::Mirrored::new(
        events::VENDORS,
        service.state.db.clone(),
        events::VendorsMirror,
    )
    .waking(service.state.outbox.clone())
    .handle(&event)
    .await
    .expect("vendor event handled");
}

/// An approved vendor of `tenant` (with the id `vendor`) with one product on sale; returns
/// its slug.
async fn on_sale(service: &Service, tenant: TenantId, vendor: VendorId, slug: &str) -> String {
    vendor_event(service, tenant, vendor, "approved", None).await;
    let merchant = Caller::merchant(tenant);
    let saved = service
        .json(
            &merchant,
            "PUT",
            "/api/v1/catalog/settings",
            json!({ "require_listing_approval": false }),
        )
        .await;
    assert_eq!(saved.status, 200, "{:?}", saved.body);
    let staff = Caller::vendor_staff(tenant, vendor);
    let created = service
        .json(
            &staff,
            "POST",
            "/api/v1/catalog/products",
            json!({
                "vendor_id": vendor, "slug": slug, "title": format!("Sencha {slug}"),
                "variants": [{
                    "sku": format!("{slug}-1"), "price": { "amount": 1250, "currency": "EUR" },
                }],
            }),
        )
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let path = format!("/api/v1/catalog/products/{}/transitions", created.str("id"));
    let published = service
        .json(&staff, "POST", &path, json!({ "action": "publish" }))
        .await;
    assert_eq!(published.status, 200, "{:?}", published.body);
    assert_eq!(published.str("status"), "active", "{:?}", published.body);
    slug.to_owned()
}

async fn page(service: &Service, tenant: TenantId, slug: &str) -> Reply {
    service
        .get(
            &Caller::anonymous(tenant),
            &format!("/api/v1/products/{slug}"),
        )
        .await
}

/// The `vendor_away` of each entry of a public list, by slug.
fn notices(list: &Reply) -> Vec<(String, Value)> {
    assert_eq!(list.status, 200, "{:?}", list.body);
    list.body["data"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|p| {
                    let slug = p["slug"].as_str().unwrap_or_default().to_owned();
                    (slug, p["vendor_away"].clone())
                })
                .collect()
        })
        .unwrap_or_default()
}

fn sorted(mut v: Vec<(String, Value)>) -> Vec<(String, Value)> {
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

async fn a_vendor_on_holiday_stays_on_show_with_a_notice(service: Service) {
    let shop = TenantId::new();
    let (away, home) = (VendorId::new(), VendorId::new());
    let tea = on_sale(&service, shop, away, "sencha").await;
    let pot = on_sale(&service, shop, home, "kyusu").await;
    let until = today() + Duration::days(3);
    let back = until + Duration::days(1);
    vendor_event(&service, shop, away, "approved", Some(until)).await;

    let notice = json!({
        "code": "vendor_on_holiday",
        "message": format!("this vendor is on holiday and takes orders again on {back}"),
        "back_on": back.to_string(),
    });
    let shown = page(&service, shop, &tea).await;
    assert_eq!(shown.status, 200, "{:?}", shown.body);
    assert_eq!(shown.body["vendor_away"], notice);
    let other = page(&service, shop, &pot).await;
    assert_eq!(other.status, 200, "{:?}", other.body);
    assert_eq!(other.body["vendor_away"], Value::Null);
    assert!(other.body.as_object().unwrap().contains_key("vendor_away"));
    // Both stay listed, the away vendor's with the notice; search shows it too.
    let shopper = Caller::anonymous(shop);
    let listed = service.get(&shopper, "/api/v1/products").await;
    let expected = sorted(vec![
        (tea.clone(), notice.clone()),
        (pot.clone(), Value::Null),
    ]);
    assert_eq!(sorted(notices(&listed)), expected);
    service.settle().await;
    let found = service.get(&shopper, "/api/v1/search?q=sencha").await;
    assert_eq!(sorted(notices(&found)), expected);

    // Home again: the notice goes.
    vendor_event(&service, shop, away, "approved", None).await;
    assert_eq!(
        page(&service, shop, &tea).await.body["vendor_away"],
        Value::Null
    );
    let listed = service.get(&shopper, "/api/v1/products").await;
    assert_eq!(
        sorted(notices(&listed)),
        sorted(vec![(tea.clone(), Value::Null), (pot, Value::Null)])
    );

    // A holiday whose last day was yesterday shows nothing; one ending today still shows.
    vendor_event(
        &service,
        shop,
        away,
        "approved",
        Some(today() - Duration::days(1)),
    )
    .await;
    assert_eq!(
        page(&service, shop, &tea).await.body["vendor_away"],
        Value::Null
    );
    vendor_event(&service, shop, away, "approved", Some(today())).await;
    assert_eq!(
        page(&service, shop, &tea).await.body["vendor_away"]["back_on"],
        (today() + Duration::days(1)).to_string()
    );
}

async fn a_suspended_vendor_still_vanishes_holiday_or_not(service: Service) {
    let shop = TenantId::new();
    let vendor = VendorId::new();
    let tea = on_sale(&service, shop, vendor, "sencha").await;
    vendor_event(
        &service,
        shop,
        vendor,
        "suspended",
        Some(today() + Duration::days(3)),
    )
    .await;
    assert_eq!(page(&service, shop, &tea).await.status, 404);
    let listed = service
        .get(&Caller::anonymous(shop), "/api/v1/products")
        .await;
    assert!(notices(&listed).is_empty(), "{:?}", listed.body);
}

async fn a_holiday_stays_in_its_shop(service: Service) {
    // The same vendor id in two shops: away in one, at home in the other.
    let (away_shop, open_shop) = (TenantId::new(), TenantId::new());
    let vendor = VendorId::new();
    let there = on_sale(&service, away_shop, vendor, "sencha").await;
    let here = on_sale(&service, open_shop, vendor, "sencha").await;
    vendor_event(
        &service,
        away_shop,
        vendor,
        "approved",
        Some(today() + Duration::days(5)),
    )
    .await;
    assert!(page(&service, away_shop, &there).await.body["vendor_away"].is_object());
    let shown = page(&service, open_shop, &here).await;
    assert_eq!(shown.status, 200, "{:?}", shown.body);
    assert_eq!(shown.body["vendor_away"], Value::Null);
    let listed = service
        .get(&Caller::anonymous(open_shop), "/api/v1/products")
        .await;
    assert_eq!(notices(&listed), [(here, Value::Null)]);
}

on_every_backend!(
    a_vendor_on_holiday_stays_on_show_with_a_notice,
    a_suspended_vendor_still_vanishes_holiday_or_not,
    a_holiday_stays_in_its_shop,
);

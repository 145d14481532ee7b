//! A coupon's discount shared between shop and vendor (ADR 0039): the merchant sets the
//! vendor's share as a percentage; each vendor order shows the shop's and the vendor's parts,
//! the vendor's rounded half up, and commission and earnings follow them, as does the
//! `order.paid` contract. A share outside 0 to 100 is a 422 that changes nothing, and
//! another shop's coupon is a 404.

use crate::on_every_backend;
use crate::support::{Caller, Service, eur};
use mercato_orders_api::events::{ORDER_PAID, OrderChanged};
use mercato_tenant_context::TenantId;
use mercato_vendors_api::vendor::VendorStatus;
use serde_json::{Value, json};

async fn a_shared_coupon_splits_each_vendor_orders_discount(s: Service) {
    let shop = TenantId::new();
    let tea_vendor = s.vendor(shop, VendorStatus::Approved).await;
    let pot_vendor = s.vendor(shop, VendorStatus::Approved).await;
    let tea = s.list(shop, tea_vendor, "Sencha", 1500, 10).await;
    let pot = s.list(shop, pot_vendor, "Kyusu", 1250, 10).await;
    s.commission_rule(shop, None, Some("10"), None).await;
    let merchant = Caller::merchant(shop);

    // 10 % off, the vendor funding 30 % of it and the shop 70 %.
    let created = s
        .post(
            &merchant,
            "/api/v1/coupons",
            json!({ "code": "share10", "percent": "10", "vendor_share_percent": 30 }),
        )
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(created.str("funded_by"), "shared");
    assert_eq!(created.str("vendor_share_percent"), "30");
    assert_eq!(created.str("shop_share_percent"), "70");
    let coupon = format!("/api/v1/coupons/{}", created.str("id"));
    assert_eq!(s.get(&merchant, &coupon).await.body, created.body);
    let listed = s.get(&merchant, "/api/v1/coupons").await;
    assert_eq!(listed.body["data"], json!([created.body.clone()]));
    // `funded_by` alone still means all of it: the vendor's share is 100 %.
    let by_vendor = s
        .post(
            &merchant,
            "/api/v1/coupons",
            json!({ "code": "vendor5", "percent": "5", "funded_by": "vendor" }),
        )
        .await;
    assert_eq!(by_vendor.status, 201, "{:?}", by_vendor.body);
    assert_eq!(by_vendor.str("funded_by"), "vendor");
    assert_eq!(by_vendor.str("vendor_share_percent"), "100");
    assert_eq!(by_vendor.str("shop_share_percent"), "0");

    // The cart shows the split before checkout.
    let shopper = Caller::shopper(shop);
    let cart = s
        .cart(&shopper, &[(tea.variant, 2), (pot.variant, 1)])
        .await;
    let priced = s
        .call(
            &shopper,
            "PATCH",
            &format!("/api/v1/carts/{cart}"),
            Some(json!({ "coupon_code": "SHARE10" })),
            &[],
        )
        .await;
    assert_eq!(priced.status, 200, "{:?}", priced.body);
    assert_eq!(priced.body["coupon"]["applied"], true, "{:?}", priced.body);
    assert_eq!(priced.body["coupon"]["funded_by"], "shared");
    assert_eq!(priced.body["coupon"]["vendor_share_percent"], "30");

    let placed = s.checkout(&shopper, &cart, "checkout-1").await;
    assert_eq!(placed.status, 201, "{:?}", placed.body);
    assert_eq!(placed.str("status"), "paid", "{:?}", placed.body);
    let order = placed.str("id");
    // By hand, untaxed, no shipping, 10 % commission on what the vendor sold for:
    // tea: 2 × 15.00 = 30.00, discount 3.00: the vendor 0.90, the shop 2.10; commission on
    //      29.10 = 2.91; total 27.00; earnings 27.00 + 2.10 − 2.91 = 26.19.
    // pot: 12.50, discount 1.25: the vendor 30 % = 0.375 → 0.38 (half up), the shop 0.87;
    //      commission on 12.12 = 1.21; total 11.25; earnings 11.25 + 0.87 − 1.21 = 10.91.
    let expected = [
        (tea_vendor, 3000, 300, 210, 90, 291, 2700, 2619),
        (pot_vendor, 1250, 125, 87, 38, 121, 1125, 1091),
    ];
    let read = s.get(&merchant, &format!("/api/v1/orders/{order}")).await;
    assert_eq!(read.status, 200, "{:?}", read.body);
    let parts: Vec<Value> = read.body["vendor_orders"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let part = |vendor: String| -> Value {
        parts
            .iter()
            .find(|p| p["vendor_id"] == vendor.as_str())
            .cloned()
            .unwrap_or_else(|| panic!("no vendor order of {vendor}: {parts:?}"))
    };
    for (vendor, subtotal, discount, by_shop, by_vendor, commission, total, earnings) in expected {
        let p = part(vendor.to_string());
        assert_eq!(p["subtotal"], json!(eur(subtotal)), "{p}");
        assert_eq!(p["discount"], json!(eur(discount)), "{p}");
        assert_eq!(p["discount_funded_by"], "shared", "{p}");
        assert_eq!(p["discount_by_shop"], json!(eur(by_shop)), "{p}");
        assert_eq!(p["discount_by_vendor"], json!(eur(by_vendor)), "{p}");
        assert_eq!(p["commission"], json!(eur(commission)), "{p}");
        assert_eq!(p["total"], json!(eur(total)), "{p}");
        assert_eq!(p["earnings"], json!(eur(earnings)), "{p}");
        // The vendor sees its own part the same way.
        let theirs = s
            .get(
                &Caller::vendor_staff(shop, vendor),
                &format!(
                    "/api/v1/vendor-orders/{}",
                    p["id"].as_str().unwrap_or_default()
                ),
            )
            .await;
        assert_eq!(theirs.status, 200, "{:?}", theirs.body);
        assert_eq!(theirs.body["discount_by_shop"], p["discount_by_shop"]);
        assert_eq!(theirs.body["discount_by_vendor"], p["discount_by_vendor"]);
    }

    // `order.paid` carries the same parts to the ledger and the payouts.
    let paid = s.events_named(shop, ORDER_PAID).await;
    assert_eq!(paid.len(), 1, "{paid:?}");
    let paid: OrderChanged = serde_json::from_value(paid[0].clone()).expect("an OrderChanged");
    assert_eq!(paid.vendor_orders.len(), 2);
    for (vendor, subtotal, _, by_shop, by_vendor, commission, total, earnings) in expected {
        let money = paid
            .vendor_orders
            .iter()
            .find(|m| m.vendor_id == vendor)
            .expect("the vendor's money");
        assert_eq!(
            (
                money.subtotal,
                money.discount_by_shop,
                money.discount_by_vendor,
                money.commission,
                money.total,
                money.earnings,
            ),
            (subtotal, by_shop, by_vendor, commission, total, earnings)
        );
    }
}

async fn a_share_outside_0_to_100_is_refused_and_changes_nothing(s: Service) {
    let shop = TenantId::new();
    let merchant = Caller::merchant(shop);
    let created = s
        .post(
            &merchant,
            "/api/v1/coupons",
            json!({ "code": "SHARE10", "percent": "10", "vendor_share_percent": "30" }),
        )
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let coupon = format!("/api/v1/coupons/{}", created.str("id"));

    let bad_creations = [
        json!({ "code": "BAD1", "percent": "10", "vendor_share_percent": "100.5" }),
        json!({ "code": "BAD2", "percent": "10", "vendor_share_percent": -1 }),
        json!({ "code": "BAD3", "percent": "10", "vendor_share_percent": "12.34567" }),
        json!({ "code": "BAD4", "percent": "10", "vendor_share_percent": "30", "funded_by": "shop" }),
    ];
    for body in bad_creations {
        let refused = s.post(&merchant, "/api/v1/coupons", body.clone()).await;
        assert_eq!(refused.status, 422, "{body}: {:?}", refused.body);
        assert_eq!(
            refused.errors().first().map(|(field, _)| field.as_str()),
            Some("/vendor_share_percent"),
            "{body}: {:?}",
            refused.body
        );
    }
    let refused = s
        .call(
            &merchant,
            "PATCH",
            &coupon,
            Some(json!({ "vendor_share_percent": "101", "active": false })),
            &[],
        )
        .await;
    assert_eq!(refused.status, 422, "{:?}", refused.body);
    assert_eq!(refused.errors()[0].0, "/vendor_share_percent");

    // Nothing changed: one coupon, as it was made.
    assert_eq!(s.get(&merchant, &coupon).await.body, created.body);
    let listed = s.get(&merchant, "/api/v1/coupons").await;
    assert_eq!(listed.body["data"], json!([created.body.clone()]));

    // A valid change of the share is kept.
    let changed = s
        .call(
            &merchant,
            "PATCH",
            &coupon,
            Some(json!({ "vendor_share_percent": "100" })),
            &[],
        )
        .await;
    assert_eq!(changed.status, 200, "{:?}", changed.body);
    assert_eq!(changed.str("funded_by"), "vendor");
    assert_eq!(s.get(&merchant, &coupon).await.body, changed.body);

    // Another shop's merchant neither reads nor changes it.
    let other = Caller::merchant(TenantId::new());
    assert_eq!(s.get(&other, &coupon).await.status, 404);
    let foreign = s
        .call(
            &other,
            "PATCH",
            &coupon,
            Some(json!({ "vendor_share_percent": "0", "active": false })),
            &[],
        )
        .await;
    assert_eq!(foreign.status, 404, "{:?}", foreign.body);
    assert_eq!(
        s.get(&other, "/api/v1/coupons").await.body["data"],
        json!([])
    );
    assert_eq!(s.get(&merchant, &coupon).await.body, changed.body);
}

on_every_backend!(
    a_shared_coupon_splits_each_vendor_orders_discount,
    a_share_outside_0_to_100_is_refused_and_changes_nothing,
);

//! A shop's own settings: public to everyone on its domain, editable by merchant staff
//! with `settings:write`, validated field by field; and its plan, readable by staff.

use crate::on_every_backend;
use crate::support::{Caller, Service};
use mercato_tenant_context::Role;
use serde_json::json;

/// The owner edits settings; `null` clears an optional one and absent fields stay; the
/// public view shows the result (branding name falling back to the shop's name).
async fn the_merchant_edits_settings_and_the_public_reads_them(s: Service) {
    let shop = s.open_shop("growth").await;
    let public = s.get(&Caller::anonymous(shop.id), "/api/v1/shop").await;
    assert_eq!(public.status, 200, "{}", public.body);
    assert_eq!(public.body["branding"]["name"], shop.body["name"]);

    let updated = s
        .patch(
            &shop.owner,
            "/api/v1/shop/settings",
            json!({
                "name": " Renamed ", "primary_colour": "#AA0000", "support_email": "help@example.com",
                "locale": "fr-FR", "default_currency": "CHF", "branding_name": "Renamed & Co"
            }),
        )
        .await;
    assert_eq!(updated.status, 200, "{}", updated.body);
    assert_eq!(updated.body["name"], "Renamed");
    assert_eq!(updated.body["branding"]["primary_colour"], "#aa0000");
    let public = s.get(&Caller::anonymous(shop.id), "/api/v1/shop").await;
    assert_eq!(public.status, 200, "{}", public.body);
    assert_eq!(public.body["id"], shop.id.to_string());
    assert_eq!(public.body["name"], "Renamed");
    assert_eq!(public.body["locale"], "fr-FR");
    assert_eq!(public.body["currency"], "CHF");
    assert_eq!(
        public.body["timezone"], "Europe/Berlin",
        "absent: unchanged"
    );
    assert_eq!(public.body["branding"]["name"], "Renamed & Co");
    assert_eq!(public.body["branding"]["primary_colour"], "#aa0000");
    assert_eq!(public.body["support_email"], "help@example.com");

    let cleared = s
        .patch(
            &shop.owner,
            "/api/v1/shop/settings",
            json!({ "support_email": null, "branding_name": null }),
        )
        .await;
    assert_eq!(cleared.status, 200, "{}", cleared.body);
    let public = s.get(&Caller::anonymous(shop.id), "/api/v1/shop").await;
    assert!(public.body["support_email"].is_null(), "{}", public.body);
    assert_eq!(
        public.body["branding"]["name"], "Renamed",
        "back to the name"
    );
    assert_eq!(public.body["branding"]["primary_colour"], "#aa0000");
    assert_eq!(public.body["locale"], "fr-FR");
    assert_eq!(
        s.event_names(shop.id).await,
        ["shop.created", "shop.updated", "shop.updated"]
    );
}

/// Invalid settings: a 422 naming each bad field, and the shop is exactly as before.
async fn invalid_settings_are_refused_and_change_nothing(s: Service) {
    let shop = s.open_shop("growth").await;
    let before = s.get(&shop.owner, "/api/v1/shop/settings").await;
    assert_eq!(before.status, 200, "{}", before.body);

    let rejected = s
        .patch(
            &shop.owner,
            "/api/v1/shop/settings",
            json!({
                "name": "", "primary_colour": "red", "default_currency": "EURO",
                "timezone": "Mars/Base", "locale": "fr-FR"
            }),
        )
        .await;
    assert_eq!(rejected.status, 422, "{}", rejected.body);
    assert_eq!(rejected.code(), "validation_failed");
    assert_eq!(
        rejected.fields(),
        ["/name", "/default_currency", "/primary_colour"]
    );

    for (key, value, field) in [
        ("locale", json!("french"), "/locale"),
        ("timezone", json!("Berlin"), "/timezone"),
        ("accent_colour", json!("#12345"), "/accent_colour"),
        ("support_email", json!("help"), "/support_email"),
        ("branding_name", json!(""), "/branding_name"),
        // What only a platform admin may change is no setting.
        ("plan", json!("scale"), "/plan"),
        ("slug", json!("another-slug"), "/slug"),
        ("status", json!("suspended"), "/status"),
    ] {
        let reply = s
            .patch(&shop.owner, "/api/v1/shop/settings", json!({ key: value }))
            .await;
        assert_eq!(reply.status, 422, "{key}: {}", reply.body);
        assert_eq!(reply.fields(), [field], "{key}: {}", reply.body);
    }

    let after = s.get(&shop.owner, "/api/v1/shop/settings").await;
    assert_eq!(after.body, before.body, "nothing changed");
    assert_eq!(s.event_names(shop.id).await, ["shop.created"]);
}

/// `settings:write` is for owners and admins: staff and customers get 403, anonymous
/// callers 401, and none of them changes anything. Staff may read the plan.
async fn only_owners_and_admins_change_settings(s: Service) {
    let shop = s.open_shop("growth").await;
    let admin = Caller::with_role(shop.id, Role::Admin);
    let renamed = s
        .patch(
            &admin,
            "/api/v1/shop/settings",
            json!({ "name": "By admin" }),
        )
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.body);

    for (caller, status) in [
        (Caller::with_role(shop.id, Role::Staff), 403),
        (Caller::with_role(shop.id, Role::Customer), 403),
        (Caller::anonymous(shop.id), 401),
    ] {
        let read = s.get(&caller, "/api/v1/shop/settings").await;
        assert_eq!(read.status, status, "{caller:?}: {}", read.body);
        let write = s
            .patch(&caller, "/api/v1/shop/settings", json!({ "name": "Mine" }))
            .await;
        assert_eq!(write.status, status, "{caller:?}: {}", write.body);
        let code = if status == 403 {
            "forbidden"
        } else {
            "unauthorized"
        };
        assert_eq!(write.code(), code);
    }
    assert_eq!(s.admin_view(shop.id).await.body["name"], "By admin");

    let staff_plan = s
        .get(
            &Caller::with_role(shop.id, Role::Staff),
            "/api/v1/shop/plan",
        )
        .await;
    assert_eq!(staff_plan.status, 200, "{}", staff_plan.body);
    let customer_plan = s
        .get(
            &Caller::with_role(shop.id, Role::Customer),
            "/api/v1/shop/plan",
        )
        .await;
    assert_eq!(customer_plan.status, 403, "{}", customer_plan.body);
}

/// The plan a shop reads is the one stored for it, with the admin's flag overrides.
async fn a_shop_reads_its_plan_limits_and_flags(s: Service) {
    let shop = s.open_shop("growth").await;
    let plan = s.get(&shop.owner, "/api/v1/shop/plan").await;
    assert_eq!(plan.status, 200, "{}", plan.body);
    assert_eq!(plan.body["plan"], "growth");
    assert_eq!(plan.body["limits"]["custom_domains"], 5);
    assert_eq!(plan.body["limits"]["staff_seats"], 10);
    assert_eq!(plan.body["features"]["pdf_reports"], false);
    assert_eq!(plan.body["features"]["webhooks"], true);

    let flagged = s
        .patch(
            &Caller::admin(),
            &format!("/api/v1/admin/shops/{}", shop.id),
            json!({ "features": { "pdf_reports": true, "webhooks": false } }),
        )
        .await;
    assert_eq!(flagged.status, 200, "{}", flagged.body);
    let plan = s.get(&shop.owner, "/api/v1/shop/plan").await;
    assert_eq!(plan.body["features"]["pdf_reports"], true);
    assert_eq!(plan.body["features"]["webhooks"], false);
    assert_eq!(plan.body["plan"], "growth");
}

on_every_backend!(
    the_merchant_edits_settings_and_the_public_reads_them,
    invalid_settings_are_refused_and_change_nothing,
    only_owners_and_admins_change_settings,
    a_shop_reads_its_plan_limits_and_flags,
);

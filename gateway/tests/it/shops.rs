//! Story 1 and 5: a platform admin runs shops; a shop's settings are public and editable by
//! its merchant.

use crate::on_all_backends;
use crate::support::{Backend, PLATFORM, TestApp};
use serde_json::json;

async fn admin_runs_the_shop_lifecycle(backend: Backend, test: &str) {
    let Some(app) = TestApp::spawn(backend, test).await else {
        return;
    };
    let admin = app.admin_token().await;
    let shop = app.shop(&admin, "free").await;
    assert_eq!(shop.body["status"], "active");
    assert_eq!(shop.body["platform_hostname"], shop.host);
    assert_eq!(shop.body["limits"]["staff_seats"], 2);

    // Its subdomain answers at once.
    let public = app
        .client
        .get(&shop.host, "/api/v1/shop", None)
        .await
        .unwrap();
    assert_eq!(public.status, 200, "{}", public.text);
    assert_eq!(public.str("id"), shop.id.to_string());
    assert_eq!(public.str("currency"), "EUR");

    // The admin finds it in the list, page by page.
    let mut seen = false;
    let mut cursor: Option<String> = None;
    for _ in 0..1000 {
        let path = match &cursor {
            Some(c) => format!("/api/v1/admin/shops?limit=2&cursor={c}"),
            None => "/api/v1/admin/shops?limit=2".to_owned(),
        };
        let page = app.client.get(PLATFORM, &path, Some(&admin)).await.unwrap();
        assert_eq!(page.status, 200, "{}", page.text);
        let data = page.body["data"].as_array().cloned().unwrap_or_default();
        assert!(data.len() <= 2);
        seen |= data.iter().any(|s| s["id"] == shop.id.to_string());
        cursor = page.body["next_cursor"].as_str().map(str::to_owned);
        if cursor.is_none() {
            break;
        }
    }
    assert!(seen, "the new shop is listed");

    // Suspended: its domain answers 503 with a problem; its data is kept.
    let path = format!("/api/v1/admin/shops/{}/suspend", shop.id);
    let suspended = app
        .client
        .post(
            PLATFORM,
            &path,
            Some(&admin),
            &json!({ "reason": "unpaid invoice" }),
        )
        .await
        .unwrap();
    assert_eq!(suspended.status, 200, "{}", suspended.text);
    assert_eq!(suspended.body["status"], "suspended");
    // The gateway learns of it from the `shop.suspended` event.
    app.settle().await;
    let down = app
        .client
        .get(&shop.host, "/api/v1/shop", None)
        .await
        .unwrap();
    assert_eq!(down.status, 503, "suspension: {}", down.text);
    assert_eq!(down.content_type(), "application/problem+json");
    assert_eq!(down.str("code"), "shop_suspended");
    let listed = app
        .client
        .get(
            PLATFORM,
            "/api/v1/admin/shops?status=suspended&limit=200",
            Some(&admin),
        )
        .await
        .unwrap();
    assert!(
        listed.body["data"]
            .as_array()
            .is_some_and(|d| d.iter().any(|s| s["id"] == shop.id.to_string()))
    );

    // Reactivated: back, with the same data.
    let path = format!("/api/v1/admin/shops/{}/reactivate", shop.id);
    let back = app
        .client
        .send("POST", PLATFORM, &path, Some(&admin), None)
        .await
        .unwrap();
    assert_eq!(back.status, 200, "{}", back.text);
    // ... and of this from `shop.reactivated`.
    app.settle().await;
    let public = app
        .client
        .get(&shop.host, "/api/v1/shop", None)
        .await
        .unwrap();
    assert_eq!(public.status, 200, "reactivation: {}", public.text);
    assert_eq!(public.str("id"), shop.id.to_string());

    // A duplicate slug is a conflict and creates nothing.
    let dup = app
        .client
        .post(
            PLATFORM,
            "/api/v1/admin/shops",
            Some(&admin),
            &json!({ "name": "Dup", "slug": shop.slug, "default_currency": "EUR" }),
        )
        .await
        .unwrap();
    assert_eq!(dup.status, 409, "{}", dup.text);
    assert_eq!(dup.str("code"), "slug_taken");
}
on_all_backends!(admin_runs_the_shop_lifecycle);

async fn only_platform_admins_administer(backend: Backend, test: &str) {
    let Some(app) = TestApp::spawn(backend, test).await else {
        return;
    };
    let admin = app.admin_token().await;
    let shop = app.shop(&admin, "free").await;
    // No token: 401. A shop owner's token on the platform host: 401 (wrong audience).
    let anonymous = app
        .client
        .get(PLATFORM, "/api/v1/admin/shops", None)
        .await
        .unwrap();
    assert_eq!(anonymous.status, 401, "{}", anonymous.text);
    let owner = app
        .client
        .get(PLATFORM, "/api/v1/admin/shops", Some(&shop.owner))
        .await
        .unwrap();
    assert_eq!(owner.status, 401, "{}", owner.text);
    // Admin routes do not exist on a shop's domain, even for an admin's token.
    let on_shop = app
        .client
        .get(&shop.host, "/api/v1/admin/shops", Some(&admin))
        .await
        .unwrap();
    assert!(
        on_shop.status == 401 || on_shop.status == 404,
        "{}",
        on_shop.text
    );
    let on_shop = app
        .client
        .get(&shop.host, "/api/v1/admin/shops", None)
        .await
        .unwrap();
    assert_eq!(on_shop.status, 404, "{}", on_shop.text);
}
on_all_backends!(only_platform_admins_administer);

async fn merchant_edits_settings_the_public_reads_them(backend: Backend, test: &str) {
    let Some(app) = TestApp::spawn(backend, test).await else {
        return;
    };
    let admin = app.admin_token().await;
    let shop = app.shop(&admin, "growth").await;
    let patch = json!({ "name": "Renamed", "primary_colour": "#AA0000", "support_email": "help@example.test", "locale": "fr-FR" });
    let updated = app
        .client
        .patch(
            &shop.host,
            "/api/v1/shop/settings",
            Some(&shop.owner),
            &patch,
        )
        .await
        .unwrap();
    assert_eq!(updated.status, 200, "{}", updated.text);
    let public = app
        .client
        .get(&shop.host, "/api/v1/shop", None)
        .await
        .unwrap();
    assert_eq!(public.str("name"), "Renamed");
    assert_eq!(public.str("locale"), "fr-FR");
    assert_eq!(public.body["branding"]["primary_colour"], "#aa0000");
    assert_eq!(public.str("support_email"), "help@example.test");

    // null clears an optional field; absent fields stay.
    let cleared = app
        .client
        .patch(
            &shop.host,
            "/api/v1/shop/settings",
            Some(&shop.owner),
            &json!({ "support_email": null }),
        )
        .await
        .unwrap();
    assert_eq!(cleared.status, 200, "{}", cleared.text);
    let public = app
        .client
        .get(&shop.host, "/api/v1/shop", None)
        .await
        .unwrap();
    assert!(public.body["support_email"].is_null());
    assert_eq!(public.str("name"), "Renamed");

    // Invalid values: 422 naming each field, nothing changes.
    let bad = json!({ "name": "", "primary_colour": "red", "default_currency": "EURO", "timezone": "Mars/Base" });
    let rejected = app
        .client
        .patch(&shop.host, "/api/v1/shop/settings", Some(&shop.owner), &bad)
        .await
        .unwrap();
    assert_eq!(rejected.status, 422, "{}", rejected.text);
    let fields: Vec<&str> = rejected.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(
        fields,
        ["/name", "/default_currency", "/primary_colour"],
        "{}",
        rejected.text
    );
    let public = app
        .client
        .get(&shop.host, "/api/v1/shop", None)
        .await
        .unwrap();
    assert_eq!(public.str("name"), "Renamed");

    // A customer may not change settings; anonymous callers must sign in.
    let reg = app
        .client
        .post(
            &shop.host,
            "/api/v1/auth/register",
            None,
            &json!({ "email": "c@example.test", "password": "long enough password" }),
        )
        .await
        .unwrap();
    assert_eq!(reg.status, 201, "{}", reg.text);
    let customer = reg.str("access_token");
    let denied = app
        .client
        .patch(
            &shop.host,
            "/api/v1/shop/settings",
            Some(&customer),
            &json!({ "name": "Mine" }),
        )
        .await
        .unwrap();
    assert_eq!(denied.status, 403, "{}", denied.text);
    let anonymous = app
        .client
        .patch(
            &shop.host,
            "/api/v1/shop/settings",
            None,
            &json!({ "name": "Mine" }),
        )
        .await
        .unwrap();
    assert_eq!(anonymous.status, 401, "{}", anonymous.text);

    // Plans: limits and flags, with an admin override.
    let plan = app
        .client
        .get(&shop.host, "/api/v1/shop/plan", Some(&shop.owner))
        .await
        .unwrap();
    assert_eq!(plan.body["plan"], "growth");
    assert_eq!(plan.body["features"]["pdf_reports"], false);
    let path = format!("/api/v1/admin/shops/{}", shop.id);
    let flagged = app
        .client
        .patch(
            PLATFORM,
            &path,
            Some(&admin),
            &json!({ "features": { "pdf_reports": true } }),
        )
        .await
        .unwrap();
    assert_eq!(flagged.status, 200, "{}", flagged.text);
    let plan = app
        .client
        .get(&shop.host, "/api/v1/shop/plan", Some(&shop.owner))
        .await
        .unwrap();
    assert_eq!(plan.body["features"]["pdf_reports"], true);
    let unknown = app
        .client
        .patch(
            PLATFORM,
            &path,
            Some(&admin),
            &json!({ "features": { "teleport": true } }),
        )
        .await
        .unwrap();
    assert_eq!(unknown.status, 422, "{}", unknown.text);
}
on_all_backends!(merchant_edits_settings_the_public_reads_them);

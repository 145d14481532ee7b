//! Story 1: a platform admin runs shops, and only platform admins may. A shop's settings
//! (public, editable by its merchant) are tested in the tenants crate's own suite
//! (`tenants/tests/it/settings.rs`).

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

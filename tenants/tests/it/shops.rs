//! Opening shops: what a valid shop is, what is refused (and that a refusal stores and
//! announces nothing), one shop per slug, who may administer shops, and suspension.

use crate::on_every_backend;
use crate::support::{Caller, PLATFORM_DOMAIN, Service, micros};
use mercato_testkit::unique;
use serde_json::json;

/// A shop opened with only the required fields gets the documented defaults, is stored,
/// and is announced once with its owner's email (lowercased).
async fn a_shop_opens_with_defaults_and_is_announced(s: Service) {
    let slug = unique("tea-");
    let created = s
        .post(
            &Caller::admin(),
            "/api/v1/admin/shops",
            json!({
                "name": "  Tea House  ", "slug": slug, "default_currency": "EUR",
                "owner_email": "Owner@Tea.Example.COM"
            }),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let body = &created.body;
    assert_eq!(body["name"], "Tea House", "the name is trimmed");
    assert_eq!(body["slug"], slug);
    assert_eq!(body["status"], "active");
    assert!(body["status_reason"].is_null());
    assert_eq!(body["plan"], "free");
    assert_eq!(body["locale"], "en");
    assert_eq!(body["timezone"], "UTC");
    assert_eq!(body["default_currency"], "EUR");
    assert_eq!(
        body["platform_hostname"],
        format!("{slug}.{PLATFORM_DOMAIN}")
    );
    assert_eq!(body["limits"]["staff_seats"], 2);
    assert_eq!(body["limits"]["custom_domains"], 1);
    assert_eq!(body["limits"]["products"], 100);
    assert_eq!(
        body["features"],
        json!({ "api_keys": false, "custom_domains": true, "pdf_reports": false, "webhooks": false })
    );

    let id: mercato_tenant_context::TenantId = created.str("id").parse().expect("shop id");
    let read = s.admin_view(id).await;
    assert_eq!(
        micros(&read.body),
        micros(&created.body),
        "what was answered is what was stored"
    );

    let events = s.events().await;
    assert_eq!(events.len(), 1, "{events:?}");
    let (tenant, name, payload) = &events[0];
    assert_eq!((*tenant, name.as_str()), (id, "shop.created"));
    assert_eq!(payload["slug"], slug);
    assert_eq!(payload["plan"], "free");
    assert_eq!(payload["owner_email"], "owner@tea.example.com");
}

/// Every invalid field is named at once, with a message saying what is expected; nothing
/// is stored or announced.
async fn invalid_shops_are_refused_field_by_field_and_change_nothing(s: Service) {
    let admin = Caller::admin();
    let all_bad = s
        .post(
            &admin,
            "/api/v1/admin/shops",
            json!({
                "name": "", "slug": "Bad Slug", "default_currency": "EURO", "locale": "english",
                "timezone": "nowhere", "plan": "gold", "owner_email": "x"
            }),
        )
        .await;
    assert_eq!(all_bad.status, 422, "{}", all_bad.body);
    assert_eq!(all_bad.code(), "validation_failed");
    assert_eq!(
        all_bad.fields(),
        [
            "/name",
            "/slug",
            "/default_currency",
            "/locale",
            "/timezone",
            "/plan",
            "/owner_email"
        ]
    );
    assert_eq!(all_bad.message("/plan"), "one of free, growth, scale");
    assert_eq!(
        all_bad.message("/default_currency"),
        "an ISO 4217 code such as EUR"
    );

    // One bad field at a time: the field and why.
    let valid = || {
        json!({
            "name": "Tea", "slug": unique("tea-"), "default_currency": "EUR", "locale": "de-DE",
            "timezone": "Europe/Berlin", "plan": "growth", "owner_email": "o@tea.example.com"
        })
    };
    let cases = [
        ("name", json!("   "), "/name", "1-100 characters"),
        (
            "name",
            json!("Tea\u{0007}"),
            "/name",
            "no control characters",
        ),
        ("name", json!("x".repeat(101)), "/name", "1-100 characters"),
        (
            "slug",
            json!("platform"),
            "/slug",
            "reserved by the platform",
        ),
        ("slug", json!("www"), "/slug", "reserved by the platform"),
        ("slug", json!("ab"), "/slug", "3-40 lowercase"),
        ("slug", json!("Tea-House"), "/slug", "3-40 lowercase"),
        ("slug", json!("-tea"), "/slug", "inner hyphens"),
        ("slug", json!("tea.house"), "/slug", "3-40 lowercase"),
        ("slug", json!("t".repeat(41)), "/slug", "3-40 lowercase"),
        (
            "default_currency",
            json!("eur"),
            "/default_currency",
            "ISO 4217",
        ),
        ("locale", json!("de_DE"), "/locale", "language tag"),
        (
            "timezone",
            json!("europe/berlin"),
            "/timezone",
            "IANA time zone",
        ),
        (
            "plan",
            json!("enterprise"),
            "/plan",
            "one of free, growth, scale",
        ),
        (
            "owner_email",
            json!("owner@localhost"),
            "/owner_email",
            "email address",
        ),
    ];
    for (key, value, field, message) in cases {
        let mut body = valid();
        body[key] = value.clone();
        let reply = s.post(&admin, "/api/v1/admin/shops", body).await;
        assert_eq!(reply.status, 422, "{key}={value}: {}", reply.body);
        assert_eq!(reply.fields(), [field], "{key}={value}: {}", reply.body);
        assert!(
            reply.message(field).contains(message),
            "{key}={value}: {}",
            reply.body
        );
    }

    // Fields a shop is not opened with (its id, its status) are refused, not ignored.
    for (key, value) in [
        ("status", json!("suspended")),
        ("tenant_id", json!(mercato_tenant_context::TenantId::new())),
    ] {
        let mut body = valid();
        body[key] = value;
        let reply = s.post(&admin, "/api/v1/admin/shops", body).await;
        assert_eq!(reply.status, 422, "{key}: {}", reply.body);
        assert_eq!(reply.fields(), [format!("/{key}")], "{}", reply.body);
    }
    // A missing required field is named.
    let missing = s
        .post(
            &admin,
            "/api/v1/admin/shops",
            json!({ "name": "Tea", "default_currency": "EUR" }),
        )
        .await;
    assert_eq!(missing.status, 422, "{}", missing.body);
    assert_eq!(missing.fields(), ["/slug"], "{}", missing.body);

    assert_eq!(s.all_shops().await, Vec::<serde_json::Value>::new());
    assert_eq!(s.events().await, Vec::new());
}

/// A slug names a subdomain, so it belongs to one shop: a second shop with it is a 409 that
/// leaves the first one as it was and announces nothing.
async fn a_slug_belongs_to_one_shop(s: Service) {
    let first = s.open_shop("growth").await;
    let events_before = s.events().await.len();
    let dup = s
        .post(
            &Caller::admin(),
            "/api/v1/admin/shops",
            json!({ "name": "Impostor", "slug": first.slug, "default_currency": "USD", "plan": "scale" }),
        )
        .await;
    assert_eq!(dup.status, 409, "{}", dup.body);
    assert_eq!(dup.code(), "slug_taken");
    assert!(dup.str("detail").contains(&first.slug), "{}", dup.body);

    let shops = s.all_shops().await;
    assert_eq!(shops.len(), 1);
    assert_eq!(
        micros(&shops[0]),
        micros(&first.body),
        "the first shop is unchanged"
    );
    assert_eq!(s.events().await.len(), events_before);
    assert_eq!(
        s.resolved_shop(&format!("{}.{PLATFORM_DOMAIN}", first.slug))
            .await,
        Some(first.id)
    );
}

/// Two admins opening shops with the same slug at the same moment: one wins, the other
/// gets the same clean 409 (never a 500).
async fn racing_for_a_slug_one_shop_wins(s: Service) {
    let slug = unique("race-");
    let open = |name: &'static str| {
        let s = s.clone();
        let slug = slug.clone();
        async move {
            s.post(
                &Caller::admin(),
                "/api/v1/admin/shops",
                json!({ "name": name, "slug": slug, "default_currency": "EUR" }),
            )
            .await
        }
    };
    let (a, b) = tokio::join!(open("A"), open("B"));
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409], "{} / {}", a.body, b.body);
    let lost = if a.status == 409 { &a } else { &b };
    assert_eq!(lost.code(), "slug_taken");
    assert_eq!(s.all_shops().await.len(), 1);
}

/// Only a platform administrator on the platform host runs shops: an anonymous caller is
/// told to sign in; a shop's owner (shop scope) finds no such route; nothing is created.
async fn only_platform_admins_open_shops(s: Service) {
    let body = json!({ "name": "Tea", "slug": unique("tea-"), "default_currency": "EUR" });
    let anonymous = s
        .post(
            &Caller::platform_anonymous(),
            "/api/v1/admin/shops",
            body.clone(),
        )
        .await;
    assert_eq!(anonymous.status, 401, "{}", anonymous.body);
    assert_eq!(anonymous.code(), "unauthorized");
    let shop = s.open_shop("free").await;
    let from_a_shop = s
        .post(&shop.owner, "/api/v1/admin/shops", body.clone())
        .await;
    assert_eq!(from_a_shop.status, 404, "{}", from_a_shop.body);
    let listed = s.get(&shop.owner, "/api/v1/admin/shops").await;
    assert_eq!(listed.status, 404, "{}", listed.body);
    assert_eq!(s.all_shops().await.len(), 1, "only the admin's shop");
}

/// Suspension keeps the shop and says why; it is announced once however often it is
/// asked; an over-long reason is refused without suspending; reactivation clears it.
async fn suspension_and_reactivation(s: Service) {
    let shop = s.open_shop("growth").await;
    let admin = Caller::admin();
    let path = format!("/api/v1/admin/shops/{}", shop.id);

    let too_long = s
        .post(
            &admin,
            &format!("{path}/suspend"),
            json!({ "reason": "x".repeat(501) }),
        )
        .await;
    assert_eq!(too_long.status, 422, "{}", too_long.body);
    assert_eq!(too_long.fields(), ["/reason"]);
    assert_eq!(s.admin_view(shop.id).await.body["status"], "active");

    let suspended = s
        .post(
            &admin,
            &format!("{path}/suspend"),
            json!({ "reason": "unpaid invoice" }),
        )
        .await;
    assert_eq!(suspended.status, 200, "{}", suspended.body);
    assert_eq!(suspended.body["status"], "suspended");
    assert_eq!(suspended.body["status_reason"], "unpaid invoice");
    let again = s
        .post(
            &admin,
            &format!("{path}/suspend"),
            json!({ "reason": "again" }),
        )
        .await;
    assert_eq!(again.status, 200, "{}", again.body);
    let read = s.admin_view(shop.id).await;
    assert_eq!(read.body["status"], "suspended");
    assert_eq!(
        read.body["status_reason"], "unpaid invoice",
        "the first reason stays"
    );
    assert_eq!(read.body["name"], shop.body["name"], "its data is kept");
    let listed = s.get(&admin, "/api/v1/admin/shops?status=suspended").await;
    assert_eq!(listed.data().len(), 1);
    assert_eq!(listed.data()[0]["id"], shop.id.to_string());
    let active = s.get(&admin, "/api/v1/admin/shops?status=active").await;
    assert_eq!(active.data(), Vec::<serde_json::Value>::new());

    let back = s
        .call(&admin, "POST", &format!("{path}/reactivate"), None)
        .await;
    assert_eq!(back.status, 200, "{}", back.body);
    assert_eq!(back.body["status"], "active");
    assert!(back.body["status_reason"].is_null());
    assert_eq!(
        s.event_names(shop.id).await,
        ["shop.created", "shop.suspended", "shop.reactivated"]
    );

    let unknown = s
        .post(
            &admin,
            &format!(
                "/api/v1/admin/shops/{}/suspend",
                mercato_tenant_context::TenantId::new()
            ),
            json!({}),
        )
        .await;
    assert_eq!(unknown.status, 404, "{}", unknown.body);
}

/// A platform admin changes a shop's plan and flags; unknown plans and flags are refused
/// and change nothing.
async fn admins_change_plans_and_flags(s: Service) {
    let shop = s.open_shop("free").await;
    let admin = Caller::admin();
    let path = format!("/api/v1/admin/shops/{}", shop.id);

    let bad = s
        .patch(
            &admin,
            &path,
            json!({ "plan": "gold", "features": { "teleport": true, "webhooks": true } }),
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert_eq!(bad.fields(), ["/plan", "/features/teleport"]);
    let read = s.admin_view(shop.id).await;
    assert_eq!(read.body["plan"], "free");
    assert_eq!(read.body["features"]["webhooks"], false);

    let upgraded = s
        .patch(
            &admin,
            &path,
            json!({ "plan": "scale", "features": { "custom_domains": false } }),
        )
        .await;
    assert_eq!(upgraded.status, 200, "{}", upgraded.body);
    assert_eq!(upgraded.body["plan"], "scale");
    assert_eq!(upgraded.body["limits"]["custom_domains"], 20);
    assert_eq!(
        upgraded.body["features"]["pdf_reports"], true,
        "scale's default"
    );
    assert_eq!(
        upgraded.body["features"]["custom_domains"], false,
        "overridden"
    );

    // null returns a flag to its plan's default.
    let reset = s
        .patch(
            &admin,
            &path,
            json!({ "features": { "custom_domains": null } }),
        )
        .await;
    assert_eq!(reset.status, 200, "{}", reset.body);
    assert_eq!(reset.body["features"]["custom_domains"], true);
    assert_eq!(
        micros(&s.admin_view(shop.id).await.body),
        micros(&reset.body)
    );
    assert_eq!(
        s.event_names(shop.id).await,
        ["shop.created", "shop.updated", "shop.updated"]
    );
}

on_every_backend!(
    a_shop_opens_with_defaults_and_is_announced,
    invalid_shops_are_refused_field_by_field_and_change_nothing,
    a_slug_belongs_to_one_shop,
    racing_for_a_slug_one_shop_wins,
    only_platform_admins_open_shops,
    suspension_and_reactivation,
    admins_change_plans_and_flags,
);

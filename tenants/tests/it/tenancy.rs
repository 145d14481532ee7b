//! Tenancy: a shop's staff reach only their own shop. Another shop's domains are 404s for
//! every verb, settings edits land on the caller's own shop only, the platform's routes do
//! not exist on a shop's scope, and a context the gateway did not sign is refused. Each
//! case checks that the other shop is exactly as it was.

use crate::on_every_backend;
use crate::support::{Caller, Service, micros};
use mercato_tenant_context::{ContextKey, Role};
use sea_orm::{ConnectionTrait as _, DbBackend, Statement};
use serde_json::json;

/// Shop B's domain id used by shop A's owner and admin: not found, for reading, removing
/// and asking for a check; A's list shows only A's domains; B's domain is untouched.
async fn another_shops_domains_are_not_found(s: Service) {
    let a = s.open_shop("growth").await;
    let b = s.open_shop("growth").await;
    s.added_domain(&a, "a-shop.example.com").await;
    let b_domain = s.added_domain(&b, "b-shop.example.com").await;
    let b_path = format!("/api/v1/shop/domains/{}", b_domain.str("id"));
    let b_events = s.event_names(b.id).await;

    for caller in [a.owner.clone(), Caller::with_role(a.id, Role::Admin)] {
        let read = s.get(&caller, &b_path).await;
        let verify = s
            .call(&caller, "POST", &format!("{b_path}/verify"), None)
            .await;
        let remove = s.delete(&caller, &b_path).await;
        for reply in [read, verify, remove] {
            assert_eq!(reply.status, 404, "{}", reply.body);
            assert_eq!(reply.code(), "not_found");
            assert!(!reply.body.to_string().contains("b-shop"), "{}", reply.body);
        }
        assert_eq!(s.hostnames(&a).await, ["a-shop.example.com"]);
    }

    assert_eq!(
        micros(&s.domain(&b, &b_domain.str("id")).await.body),
        micros(&b_domain.body)
    );
    assert_eq!(s.hostnames(&b).await, ["b-shop.example.com"]);
    assert_eq!(s.event_names(b.id).await, b_events);
}

/// Settings are always the caller's own shop's: A's owner edits A, and B (as its admin and
/// the public see it) is unchanged.
async fn settings_edits_land_on_the_callers_shop_only(s: Service) {
    let a = s.open_shop("growth").await;
    let b = s.open_shop("growth").await;
    let b_before = s.admin_view(b.id).await.body;

    let edited = s
        .patch(
            &a.owner,
            "/api/v1/shop/settings",
            json!({ "name": "Owned", "support_email": "attacker@example.com" }),
        )
        .await;
    assert_eq!(edited.status, 200, "{}", edited.body);
    assert_eq!(edited.body["id"], a.id.to_string());
    let read = s.get(&a.owner, "/api/v1/shop/settings").await;
    assert_eq!(read.body["id"], a.id.to_string());
    assert_eq!(read.body["name"], "Owned");

    assert_eq!(s.admin_view(b.id).await.body, b_before);
    let b_public = s.get(&Caller::anonymous(b.id), "/api/v1/shop").await;
    assert_eq!(b_public.body["name"], b.body["name"]);
    assert!(b_public.body["support_email"].is_null());
    assert_eq!(s.event_names(b.id).await, ["shop.created"]);
}

/// Shop A's owner cannot reach shop B through the platform's routes: on a shop's scope
/// they do not exist, for reading, changing, suspending or reactivating; B is unchanged.
async fn a_shops_owner_cannot_administer_another_shop(s: Service) {
    let a = s.open_shop("free").await;
    let b = s.open_shop("growth").await;
    let b_before = s.admin_view(b.id).await.body;
    let b_path = format!("/api/v1/admin/shops/{}", b.id);

    for caller in [a.owner.clone(), Caller::with_role(a.id, Role::Admin)] {
        let replies = [
            s.get(&caller, &b_path).await,
            s.get(&caller, "/api/v1/admin/shops").await,
            s.patch(
                &caller,
                &b_path,
                json!({ "plan": "free", "features": { "custom_domains": false } }),
            )
            .await,
            s.post(
                &caller,
                &format!("{b_path}/suspend"),
                json!({ "reason": "x" }),
            )
            .await,
            s.call(&caller, "POST", &format!("{b_path}/reactivate"), None)
                .await,
        ];
        for reply in replies {
            assert_eq!(reply.status, 404, "{}", reply.body);
            assert!(!reply.body.to_string().contains(&b.slug), "{}", reply.body);
        }
    }
    assert_eq!(s.admin_view(b.id).await.body, b_before);
    assert_eq!(s.event_names(b.id).await, ["shop.created"]);
}

/// A context signed with another key, or none at all, is a 401 for reads and writes; a
/// platform context on a shop route finds nothing. The shop is unchanged.
async fn a_context_the_gateway_did_not_sign_changes_nothing(s: Service) {
    let shop = s.open_shop("growth").await;
    let before = s.admin_view(shop.id).await.body;
    let forged_key = ContextKey::new(b"a guessed context key");
    for (method, path, body) in [
        (
            "PATCH",
            "/api/v1/shop/settings",
            json!({ "name": "Forged" }),
        ),
        (
            "POST",
            "/api/v1/shop/domains",
            json!({ "hostname": "forged.example.com" }),
        ),
        ("GET", "/api/v1/shop/settings", json!({})),
    ] {
        let forged = s
            .call_signed(&shop.owner, &forged_key, method, path, Some(body.clone()))
            .await;
        assert_eq!(forged.status, 401, "{method} {path}: {}", forged.body);
        assert_eq!(forged.code(), "unauthorized");
        let bare = s.call_without_context(method, path, body.clone()).await;
        assert_eq!(bare.status, 401, "{method} {path}: {}", bare.body);
        let platform = s.call(&Caller::admin(), method, path, Some(body)).await;
        assert_eq!(platform.status, 404, "{method} {path}: {}", platform.body);
    }
    assert_eq!(s.admin_view(shop.id).await.body, before);
    assert_eq!(s.hostnames(&shop).await, Vec::<String>::new());
    assert_eq!(s.event_names(shop.id).await, ["shop.created"]);
}

/// The second wall: on PostgreSQL, a transaction scoped to shop A sees none of shop B's
/// rows even with a query that forgets to filter (row-level security).
async fn row_level_security_hides_other_shops_rows(s: Service) {
    if s.state.db.backend() != DbBackend::Postgres {
        return; // SQLite has no row-level security; the repository's filters are the wall.
    }
    let a = s.open_shop("growth").await;
    let b = s.open_shop("growth").await;
    s.added_domain(&a, "a-shop.example.com").await;
    s.added_domain(&b, "b-shop.example.com").await;

    let tx = s.state.db.tenant_read(a.id).await.expect("a read");
    let unfiltered = |sql: &str| Statement::from_string(DbBackend::Postgres, sql.to_owned());
    let hosts: Vec<String> = tx
        .query_all_raw(unfiltered("SELECT hostname FROM domains"))
        .await
        .expect("domains")
        .iter()
        .map(|row| row.try_get("", "hostname").expect("hostname"))
        .collect();
    assert_eq!(hosts, ["a-shop.example.com"]);
    let slugs: Vec<String> = tx
        .query_all_raw(unfiltered("SELECT slug FROM shops"))
        .await
        .expect("shops")
        .iter()
        .map(|row| row.try_get("", "slug").expect("slug"))
        .collect();
    assert_eq!(slugs, [a.slug.as_str()]);
}

on_every_backend!(
    another_shops_domains_are_not_found,
    settings_edits_land_on_the_callers_shop_only,
    a_shops_owner_cannot_administer_another_shop,
    a_context_the_gateway_did_not_sign_changes_nothing,
    row_level_security_hides_other_shops_rows,
);

//! Story: staff who lose their place lose it everywhere, within seconds (ADR 0029). A removed
//! member's unexpired access token stops working at every service, their refresh token too,
//! and the API keys they created die with them; a demoted member's token and keys fall to
//! the new role; a new password ends the other sessions. A change in one shop touches no
//! other shop's account, and leaving one vendor keeps the others.

use crate::staff::{join, me, nth_mail};
use crate::support::{Backend, PASSWORD, Shop, TestApp, eventually};
use crate::{on_all_backends, on_embedded_and_real};
use mercato_testkit::{Reply, unique};
use serde_json::json;

const NEW_PASSWORD: &str = "a much better passphrase";

async fn login(app: &TestApp, host: &str, email: &str, password: &str) -> Reply {
    app.client
        .post(
            host,
            "/api/v1/auth/login",
            None,
            &json!({ "email": email, "password": password }),
        )
        .await
        .unwrap()
}

async fn refresh(app: &TestApp, host: &str, refresh_token: &str) -> Reply {
    app.client
        .post(
            host,
            "/api/v1/auth/refresh",
            None,
            &json!({ "refresh_token": refresh_token }),
        )
        .await
        .unwrap()
}

async fn create_key(app: &TestApp, host: &str, token: &str, role: &str) -> Reply {
    let created = app
        .client
        .post(
            host,
            "/api/v1/api-keys",
            Some(token),
            &json!({ "name": format!("{role} sync"), "role": role }),
        )
        .await
        .unwrap();
    assert_eq!(created.status, 201, "{}", created.text);
    created
}

/// A merchant read (settings: admins and owners) and a merchant write (renaming the shop),
/// both answered by the tenants service, not identity.
async fn read_settings(app: &TestApp, shop: &Shop, token: &str) -> Reply {
    app.client
        .get(&shop.host, "/api/v1/shop/settings", Some(token))
        .await
        .unwrap()
}

async fn rename_shop(app: &TestApp, shop: &Shop, token: &str, name: &str) -> Reply {
    app.client
        .patch(
            &shop.host,
            "/api/v1/shop/settings",
            Some(token),
            &json!({ "name": name }),
        )
        .await
        .unwrap()
}

/// Waits until `token` is refused as revoked on `shop`'s settings; returns the answer.
async fn until_revoked(app: &TestApp, shop: &Shop, token: &str, what: &str) -> Reply {
    eventually(
        what,
        || async { read_settings(app, shop, token).await },
        |reply| reply.status == 401,
    )
    .await
}

async fn a_removed_member_loses_everything_within_seconds(backend: Backend, test: &str) {
    let Some(app) = TestApp::spawn(backend, test).await else {
        return;
    };
    let admin = app.admin_token().await;
    let shop = app.shop(&admin, "growth").await;
    let email = format!("{}@example.test", unique("mallory-"));
    join(&app, &shop, &shop.owner, &email, "admin").await;
    let session = login(&app, &shop.host, &email, PASSWORD).await;
    assert_eq!(session.status, 200, "{}", session.text);
    let token = session.str("access_token");
    let her_key = create_key(&app, &shop.host, &token, "admin")
        .await
        .str("key");
    let owners_key = create_key(&app, &shop.host, &shop.owner, "admin")
        .await
        .str("key");
    // Before: she reads and writes like any admin, and so does her key.
    assert_eq!(read_settings(&app, &shop, &token).await.status, 200);
    let renamed = rename_shop(&app, &shop, &token, "Before").await;
    assert_eq!(renamed.status, 200, "{}", renamed.text);
    assert_eq!(read_settings(&app, &shop, &her_key).await.status, 200);

    let id = me(&app, &shop.host, &token).await.str("id");
    let removed = app
        .client
        .delete(
            &shop.host,
            &format!("/api/v1/staff/{id}"),
            Some(&shop.owner),
        )
        .await
        .unwrap();
    assert_eq!(removed.status, 204, "{}", removed.text);

    // Her still-unexpired token: refused within seconds, on a read and on a write.
    let read = until_revoked(&app, &shop, &token, "the removed member's read to end").await;
    assert_eq!(read.str("code"), "session_revoked", "{}", read.text);
    let write = rename_shop(&app, &shop, &token, "After").await;
    assert_eq!(write.status, 401, "{}", write.text);
    assert_eq!(write.str("code"), "session_revoked", "{}", write.text);
    let shown = read_settings(&app, &shop, &shop.owner).await;
    assert_eq!(shown.str("name"), "Before", "{}", shown.text);
    // Her refresh token and her key are dead; the owner's key is not.
    let refreshed = refresh(&app, &shop.host, &session.str("refresh_token")).await;
    assert_eq!(refreshed.status, 401, "{}", refreshed.text);
    let by_key = read_settings(&app, &shop, &her_key).await;
    assert_eq!(by_key.status, 401, "{}", by_key.text);
    assert_eq!(read_settings(&app, &shop, &owners_key).await.status, 200);
    let keys = app
        .client
        .get(&shop.host, "/api/v1/api-keys", Some(&shop.owner))
        .await
        .unwrap();
    let revoked: Vec<bool> = keys.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| !k["revoked_at"].is_null())
        .collect();
    assert_eq!(revoked, [false, true], "newest first: {}", keys.text);
    // The owner's own session is untouched.
    assert_eq!(read_settings(&app, &shop, &shop.owner).await.status, 200);
}
on_all_backends!(a_removed_member_loses_everything_within_seconds);

async fn a_demoted_member_keeps_only_the_new_role(backend: Backend, test: &str) {
    let Some(app) = TestApp::spawn(backend, test).await else {
        return;
    };
    let admin = app.admin_token().await;
    let shop = app.shop(&admin, "growth").await;
    let email = format!("{}@example.test", unique("dana-"));
    join(&app, &shop, &shop.owner, &email, "admin").await;
    let session = login(&app, &shop.host, &email, PASSWORD).await;
    let token = session.str("access_token");
    let her_key = create_key(&app, &shop.host, &token, "admin").await;
    let (key_id, her_key) = (her_key.str("id"), her_key.str("key"));
    let owners_key = create_key(&app, &shop.host, &shop.owner, "admin")
        .await
        .str("key");
    assert_eq!(read_settings(&app, &shop, &token).await.status, 200);

    let id = me(&app, &shop.host, &token).await.str("id");
    let demoted = app
        .client
        .patch(
            &shop.host,
            &format!("/api/v1/staff/{id}"),
            Some(&shop.owner),
            &json!({ "role": "staff" }),
        )
        .await
        .unwrap();
    assert_eq!(demoted.status, 200, "{}", demoted.text);

    // The admin token is refused; a refresh mints a staff one, which may read the team
    // but not the settings.
    let old = until_revoked(
        &app,
        &shop,
        &token,
        "the demoted member's admin token to end",
    )
    .await;
    assert_eq!(old.str("code"), "session_revoked", "{}", old.text);
    let refreshed = refresh(&app, &shop.host, &session.str("refresh_token")).await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.text);
    let token = refreshed.str("access_token");
    assert_eq!(me(&app, &shop.host, &token).await.str("role"), "staff");
    assert_eq!(read_settings(&app, &shop, &token).await.status, 403);
    assert_eq!(rename_shop(&app, &shop, &token, "Dana's").await.status, 403);
    let team = app
        .client
        .get(&shop.host, "/api/v1/staff", Some(&token))
        .await
        .unwrap();
    assert_eq!(team.status, 200, "{}", team.text);

    // Her admin key is cut down to staff; the owner's admin key stays admin.
    let keys = app
        .client
        .get(&shop.host, "/api/v1/api-keys", Some(&shop.owner))
        .await
        .unwrap();
    let hers = keys.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == key_id.as_str())
        .cloned()
        .unwrap();
    assert_eq!(hers["role"], "staff", "{}", keys.text);
    assert!(hers["revoked_at"].is_null(), "{}", keys.text);
    assert_eq!(read_settings(&app, &shop, &her_key).await.status, 403);
    let by_key = app
        .client
        .get(&shop.host, "/api/v1/staff", Some(&her_key))
        .await
        .unwrap();
    assert_eq!(by_key.status, 200, "{}", by_key.text);
    assert_eq!(read_settings(&app, &shop, &owners_key).await.status, 200);
}
on_embedded_and_real!(a_demoted_member_keeps_only_the_new_role);

async fn a_new_password_ends_the_other_sessions(backend: Backend, test: &str) {
    let Some(app) = TestApp::spawn(backend, test).await else {
        return;
    };
    let admin = app.admin_token().await;
    let shop = app.shop(&admin, "growth").await;
    let email = format!("{}@example.test", unique("pat-"));
    join(&app, &shop, &shop.owner, &email, "admin").await;
    let laptop = login(&app, &shop.host, &email, PASSWORD).await;
    let stolen = login(&app, &shop.host, &email, PASSWORD).await;
    assert_eq!(
        read_settings(&app, &shop, &stolen.str("access_token"))
            .await
            .status,
        200
    );

    let change = |token: String, current: &'static str, new: &'static str| {
        let app = &app;
        let host = shop.host.clone();
        async move {
            app.client
                .post(
                    &host,
                    "/api/v1/auth/password",
                    Some(&token),
                    &json!({ "current_password": current, "new_password": new }),
                )
                .await
                .unwrap()
        }
    };
    let laptop_token = laptop.str("access_token");
    let wrong = change(laptop_token.clone(), "not my password", NEW_PASSWORD).await;
    assert_eq!(wrong.status, 401, "{}", wrong.text);
    let weak = change(laptop_token.clone(), PASSWORD, "short").await;
    assert_eq!(weak.status, 422, "{}", weak.text);
    assert_eq!(weak.body["errors"][0]["field"], "/new_password");
    let anonymous = app
        .client
        .post(
            &shop.host,
            "/api/v1/auth/password",
            None,
            &json!({ "current_password": PASSWORD, "new_password": NEW_PASSWORD }),
        )
        .await
        .unwrap();
    assert_eq!(anonymous.status, 401, "{}", anonymous.text);
    let changed = change(laptop_token, PASSWORD, NEW_PASSWORD).await;
    assert_eq!(changed.status, 200, "{}", changed.text);

    // The other session ends, its refresh token too; the new session goes on.
    let stolen_read = until_revoked(
        &app,
        &shop,
        &stolen.str("access_token"),
        "the other session to end",
    )
    .await;
    assert_eq!(stolen_read.str("code"), "session_revoked");
    let stolen_refresh = refresh(&app, &shop.host, &stolen.str("refresh_token")).await;
    assert_eq!(stolen_refresh.status, 401, "{}", stolen_refresh.text);
    let laptop_refresh = refresh(&app, &shop.host, &laptop.str("refresh_token")).await;
    assert_eq!(laptop_refresh.status, 401, "{}", laptop_refresh.text);
    let current = changed.str("access_token");
    assert_eq!(read_settings(&app, &shop, &current).await.status, 200);
    let next = refresh(&app, &shop.host, &changed.str("refresh_token")).await;
    assert_eq!(next.status, 200, "{}", next.text);
    assert_eq!(login(&app, &shop.host, &email, PASSWORD).await.status, 401);
    assert_eq!(
        login(&app, &shop.host, &email, NEW_PASSWORD).await.status,
        200
    );
}
on_all_backends!(a_new_password_ends_the_other_sessions);

async fn a_removal_in_one_shop_leaves_the_other_alone(backend: Backend, test: &str) {
    let Some(app) = TestApp::spawn(backend, test).await else {
        return;
    };
    let admin = app.admin_token().await;
    let shop_a = app.shop(&admin, "growth").await;
    let shop_b = app.shop(&admin, "growth").await;
    // One person, one email, an admin account in each shop.
    let email = format!("{}@example.test", unique("twin-"));
    let in_a = join(&app, &shop_a, &shop_a.owner, &email, "admin").await;
    let in_b = join(&app, &shop_b, &shop_b.owner, &email, "admin").await;
    let key_b = create_key(&app, &shop_b.host, &in_b, "admin")
        .await
        .str("key");
    let id_a = me(&app, &shop_a.host, &in_a).await.str("id");
    // Shop B's token means nothing on shop A, and shop A's owner cannot reach B's account.
    assert_eq!(read_settings(&app, &shop_a, &in_b).await.status, 401);
    let id_b = me(&app, &shop_b.host, &in_b).await.str("id");
    let foreign = app
        .client
        .delete(
            &shop_a.host,
            &format!("/api/v1/staff/{id_b}"),
            Some(&shop_a.owner),
        )
        .await
        .unwrap();
    assert_eq!(foreign.status, 404, "{}", foreign.text);

    let removed = app
        .client
        .delete(
            &shop_a.host,
            &format!("/api/v1/staff/{id_a}"),
            Some(&shop_a.owner),
        )
        .await
        .unwrap();
    assert_eq!(removed.status, 204, "{}", removed.text);
    let ended = until_revoked(&app, &shop_a, &in_a, "the shop A session to end").await;
    assert_eq!(ended.str("code"), "session_revoked", "{}", ended.text);
    // In shop B she is still an admin, with her token and her key.
    assert_eq!(read_settings(&app, &shop_b, &in_b).await.status, 200);
    assert_eq!(read_settings(&app, &shop_b, &key_b).await.status, 200);
    assert_eq!(me(&app, &shop_b.host, &in_b).await.str("role"), "admin");
}
on_embedded_and_real!(a_removal_in_one_shop_leaves_the_other_alone);

/// Invites `email` to `vendor` as `role` and accepts the `nth` mail with `PASSWORD`.
async fn vendor_join(
    app: &TestApp,
    shop: &Shop,
    by: &str,
    vendor: &str,
    email: &str,
    nth: usize,
) -> Reply {
    let invited = app
        .client
        .post(
            &shop.host,
            "/api/v1/vendor-staff/invitations",
            Some(by),
            &json!({ "vendor_id": vendor, "email": email, "role": "manager" }),
        )
        .await
        .unwrap();
    assert_eq!(invited.status, 201, "{}", invited.text);
    let code = nth_mail(app, &shop.id.to_string(), email, nth)
        .await
        .code("mvi_");
    let joined = app
        .client
        .post(
            &shop.host,
            "/api/v1/auth/vendor-invitations/accept",
            None,
            &json!({ "token": code, "password": PASSWORD }),
        )
        .await
        .unwrap();
    assert_eq!(joined.status, 201, "{}", joined.text);
    joined
}

async fn leaving_one_vendor_keeps_the_other(backend: Backend, test: &str) {
    let Some(app) = TestApp::spawn(backend, test).await else {
        return;
    };
    let admin = app.admin_token().await;
    let shop = app.shop(&admin, "growth").await;
    let (vendor_a, owner_a) = app.vendor_with_owner(&shop, "Alpha Yarns").await;
    let (vendor_b, owner_b) = app.vendor_with_owner(&shop, "Beta Needles").await;
    let email = format!("{}@example.test", unique("moonlighter-"));
    vendor_join(&app, &shop, &owner_a, &vendor_a, &email, 1).await;
    let both = vendor_join(&app, &shop, &owner_b, &vendor_b, &email, 2).await;
    let token = both.str("access_token");
    let edit = |token: String, vendor: String, text: &'static str| {
        let app = &app;
        let host = shop.host.clone();
        async move {
            app.client
                .patch(
                    &host,
                    &format!("/api/v1/vendors/{vendor}"),
                    Some(&token),
                    &json!({ "description": text }),
                )
                .await
                .unwrap()
        }
    };
    assert_eq!(
        edit(token.clone(), vendor_a.clone(), "by the manager")
            .await
            .status,
        200
    );
    assert_eq!(
        edit(token.clone(), vendor_b.clone(), "by the manager")
            .await
            .status,
        200
    );
    let id = me(&app, &shop.host, &token).await.str("id");

    let removed = app
        .client
        .delete(
            &shop.host,
            &format!("/api/v1/vendor-staff/{vendor_a}/{id}"),
            Some(&owner_a),
        )
        .await
        .unwrap();
    assert_eq!(removed.status, 204, "{}", removed.text);

    // The token that names vendor A is refused within seconds (probed with a read, so no
    // write lands meanwhile), and then on a write at the vendors service too.
    let vendor_path = format!("/api/v1/vendors/{vendor_a}");
    let probe = eventually(
        "the token naming vendor A to end",
        || async {
            app.client
                .get(&shop.host, &vendor_path, Some(&token))
                .await
                .unwrap()
        },
        |reply| reply.status == 401,
    )
    .await;
    assert_eq!(probe.str("code"), "session_revoked", "{}", probe.text);
    let refused = edit(token.clone(), vendor_a.clone(), "still here?").await;
    assert_eq!(refused.status, 401, "{}", refused.text);
    assert_eq!(refused.str("code"), "session_revoked", "{}", refused.text);
    // A refresh carries vendor B only: B's work goes on, A is a stranger.
    let refreshed = refresh(&app, &shop.host, &both.str("refresh_token")).await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.text);
    let token = refreshed.str("access_token");
    let vendors = me(&app, &shop.host, &token).await.body["vendors"].clone();
    assert_eq!(vendors.as_array().map(Vec::len), Some(1), "{vendors}");
    assert_eq!(vendors[0]["vendor"], vendor_b.as_str());
    assert_eq!(
        edit(token.clone(), vendor_b.clone(), "still B's")
            .await
            .status,
        200
    );
    assert_eq!(edit(token, vendor_a.clone(), "not A's").await.status, 404);
    let shown = app
        .client
        .get(
            &shop.host,
            &format!("/api/v1/vendors/{vendor_a}"),
            Some(&owner_a),
        )
        .await
        .unwrap();
    assert_eq!(
        shown.body["profile"]["description"], "by the manager",
        "{}",
        shown.text
    );
}
on_embedded_and_real!(leaving_one_vendor_keeps_the_other);

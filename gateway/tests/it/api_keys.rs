//! Story: an integrator gets an API key from the merchant. Keys are a plan feature, act with
//! their role (admin or staff) and nothing more, work only on their own shop, and stop
//! working when revoked.

use crate::staff::invite;
use crate::support::{Backend, TestApp};
use crate::{on_all_backends, on_embedded_and_real};
use serde_json::json;

async fn create_key(app: &TestApp, host: &str, token: &str, role: &str) -> mercato_testkit::Reply {
    app.client
        .post(
            host,
            "/api/v1/api-keys",
            Some(token),
            &json!({ "name": format!("{role} integration"), "role": role }),
        )
        .await
        .unwrap()
}

async fn keys_are_a_plan_feature(backend: Backend, test: &str) {
    let Some(app) = TestApp::spawn(backend, test).await else {
        return;
    };
    let admin = app.admin_token().await;
    let free = app.shop(&admin, "free").await;
    let refused = create_key(&app, &free.host, &free.owner, "staff").await;
    assert_eq!(refused.status, 403, "{}", refused.text);
    assert_eq!(refused.str("code"), "feature_disabled");
    let listed = app
        .client
        .get(&free.host, "/api/v1/api-keys", Some(&free.owner))
        .await
        .unwrap();
    assert_eq!(listed.status, 200, "{}", listed.text);
    assert_eq!(listed.body["data"], json!([]), "nothing was created");
    let anonymous = app
        .client
        .post(
            &free.host,
            "/api/v1/api-keys",
            None,
            &json!({ "name": "x", "role": "staff" }),
        )
        .await
        .unwrap();
    assert_eq!(anonymous.status, 401, "{}", anonymous.text);
}
on_embedded_and_real!(keys_are_a_plan_feature);

async fn keys_act_with_their_role_on_their_shop(backend: Backend, test: &str) {
    let Some(app) = TestApp::spawn(backend, test).await else {
        return;
    };
    let admin = app.admin_token().await;
    let shop = app.shop(&admin, "growth").await;
    let other = app.shop(&admin, "growth").await;

    for (role, field) in [("owner", "/role"), ("customer", "/role")] {
        let bad = create_key(&app, &shop.host, &shop.owner, role).await;
        assert_eq!(bad.status, 422, "{}", bad.text);
        assert_eq!(bad.body["errors"][0]["field"], field);
    }
    let created = create_key(&app, &shop.host, &shop.owner, "staff").await;
    assert_eq!(created.status, 201, "{}", created.text);
    let key = created.str("key");
    assert!(key.starts_with("mk_"), "{}", created.text);
    assert_eq!(created.str("prefix"), key[..10]);
    assert!(created.str("id").starts_with("key_"));

    // Listed without the secret.
    let listed = app
        .client
        .get(&shop.host, "/api/v1/api-keys", Some(&shop.owner))
        .await
        .unwrap();
    assert_eq!(listed.status, 200, "{}", listed.text);
    assert!(!listed.text.contains(&key), "{}", listed.text);
    assert_eq!(listed.body["data"][0]["prefix"], created.str("prefix"));
    assert_eq!(listed.body["data"][0]["revoked_at"], json!(null));

    // A staff key does what staff may do, and no more.
    let team = app
        .client
        .get(&shop.host, "/api/v1/staff", Some(&key))
        .await
        .unwrap();
    assert_eq!(team.status, 200, "{}", team.text);
    let settings = app
        .client
        .patch(
            &shop.host,
            "/api/v1/shop/settings",
            Some(&key),
            &json!({ "name": "Renamed by a key" }),
        )
        .await
        .unwrap();
    assert_eq!(settings.status, 403, "{}", settings.text);
    let invited = invite(&app, &shop.host, &key, "eve@example.test", "staff").await;
    assert_eq!(invited.status, 403, "{}", invited.text);
    let me = app
        .client
        .get(&shop.host, "/api/v1/auth/me", Some(&key))
        .await
        .unwrap();
    assert_eq!(me.status, 401, "{}", me.text);
    let minted = create_key(&app, &shop.host, &key, "staff").await;
    assert_eq!(minted.status, 403, "{}", minted.text);

    // An admin key manages staff up to admin, recorded as the key.
    let admin_key = create_key(&app, &shop.host, &shop.owner, "admin").await;
    assert_eq!(admin_key.status, 201, "{}", admin_key.text);
    let admin_key_id = admin_key.str("id");
    let admin_key = admin_key.str("key");
    let invited = invite(&app, &shop.host, &admin_key, "fay@example.test", "staff").await;
    assert_eq!(invited.status, 201, "{}", invited.text);
    assert_eq!(invited.str("invited_by"), admin_key_id);
    let owner = invite(&app, &shop.host, &admin_key, "gus@example.test", "owner").await;
    assert_eq!(owner.status, 403, "{}", owner.text);

    // Another shop's key is nobody here; its id is not found here.
    let foreign = create_key(&app, &other.host, &other.owner, "admin").await;
    assert_eq!(foreign.status, 201, "{}", foreign.text);
    let intruder = app
        .client
        .get(&shop.host, "/api/v1/staff", Some(&foreign.str("key")))
        .await
        .unwrap();
    assert_eq!(intruder.status, 401, "{}", intruder.text);
    let foreign_revoke = app
        .client
        .delete(
            &shop.host,
            &format!("/api/v1/api-keys/{}", foreign.str("id")),
            Some(&shop.owner),
        )
        .await
        .unwrap();
    assert_eq!(foreign_revoke.status, 404, "{}", foreign_revoke.text);
    let at_home = app
        .client
        .get(&other.host, "/api/v1/staff", Some(&foreign.str("key")))
        .await
        .unwrap();
    assert_eq!(at_home.status, 200, "{}", at_home.text);

    // Revoked: 401 from then on.
    let path = format!("/api/v1/api-keys/{}", created.str("id"));
    let revoked = app
        .client
        .delete(&shop.host, &path, Some(&shop.owner))
        .await
        .unwrap();
    assert_eq!(revoked.status, 204, "{}", revoked.text);
    let dead = app
        .client
        .get(&shop.host, "/api/v1/staff", Some(&key))
        .await
        .unwrap();
    assert_eq!(dead.status, 401, "{}", dead.text);
    let twice = app
        .client
        .delete(&shop.host, &path, Some(&shop.owner))
        .await
        .unwrap();
    assert_eq!(twice.status, 204, "{}", twice.text);
    let garbage = app
        .client
        .get(&shop.host, "/api/v1/staff", Some("mk_not-a-key"))
        .await
        .unwrap();
    assert_eq!(garbage.status, 401, "{}", garbage.text);
}
on_all_backends!(keys_act_with_their_role_on_their_shop);

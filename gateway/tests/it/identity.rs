//! Story 3: accounts per shop, sessions, refresh-token rotation with reuse detection.

use crate::on_all_backends;
use crate::support::{Backend, PASSWORD, PLATFORM, TestApp};
use serde_json::json;

async fn customers_register_and_keep_a_session(backend: Backend, test: &str) {
    let Some(app) = TestApp::spawn(backend, test).await else {
        return;
    };
    let admin = app.admin_token().await;
    let shop = app.shop(&admin, "free").await;
    let other = app.shop(&admin, "free").await;

    let credentials = json!({ "email": "Ada@Example.test", "password": PASSWORD, "name": "Ada" });
    let reg = app
        .client
        .post(&shop.host, "/api/v1/auth/register", None, &credentials)
        .await
        .unwrap();
    assert_eq!(reg.status, 201, "{}", reg.text);
    let again = app
        .client
        .post(&shop.host, "/api/v1/auth/register", None, &credentials)
        .await
        .unwrap();
    assert_eq!(again.status, 409, "{}", again.text);
    // The same email in another shop is another, unrelated account.
    let elsewhere = app
        .client
        .post(
            &other.host,
            "/api/v1/auth/register",
            None,
            &json!({ "email": "ada@example.test", "password": "another password!" }),
        )
        .await
        .unwrap();
    assert_eq!(elsewhere.status, 201, "{}", elsewhere.text);

    let me = app
        .client
        .get(
            &shop.host,
            "/api/v1/auth/me",
            Some(&reg.str("access_token")),
        )
        .await
        .unwrap();
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(me.str("email"), "ada@example.test");
    assert_eq!(me.str("role"), "customer");
    let me_other = app
        .client
        .get(
            &other.host,
            "/api/v1/auth/me",
            Some(&elsewhere.str("access_token")),
        )
        .await
        .unwrap();
    assert_ne!(me_other.str("id"), me.str("id"));

    // Each shop checks its own password.
    let wrong = app
        .client
        .post(
            &other.host,
            "/api/v1/auth/login",
            None,
            &json!({ "email": "ada@example.test", "password": PASSWORD }),
        )
        .await
        .unwrap();
    assert_eq!(wrong.status, 401, "{}", wrong.text);
    let nobody = app
        .client
        .post(
            &shop.host,
            "/api/v1/auth/login",
            None,
            &json!({ "email": "nobody@example.test", "password": PASSWORD }),
        )
        .await
        .unwrap();
    assert_eq!(nobody.status, 401);
    assert_eq!(
        nobody.str("detail"),
        wrong.str("detail"),
        "unknown email and wrong password look the same"
    );

    // Refresh rotates; the old refresh token is then spent.
    let login = app
        .client
        .post(
            &shop.host,
            "/api/v1/auth/login",
            None,
            &json!({ "email": "ada@example.test", "password": PASSWORD }),
        )
        .await
        .unwrap();
    assert_eq!(login.status, 200, "{}", login.text);
    assert_eq!(login.body["expires_in"], 900);
    let first = login.str("refresh_token");
    let rotated = app
        .client
        .post(
            &shop.host,
            "/api/v1/auth/refresh",
            None,
            &json!({ "refresh_token": first }),
        )
        .await
        .unwrap();
    assert_eq!(rotated.status, 200, "{}", rotated.text);
    let second = rotated.str("refresh_token");
    assert_ne!(first, second);

    // Reuse of the spent token revokes the whole family: the newer token dies too.
    let reuse = app
        .client
        .post(
            &shop.host,
            "/api/v1/auth/refresh",
            None,
            &json!({ "refresh_token": first }),
        )
        .await
        .unwrap();
    assert_eq!(reuse.status, 401, "{}", reuse.text);
    let after = app
        .client
        .post(
            &shop.host,
            "/api/v1/auth/refresh",
            None,
            &json!({ "refresh_token": second }),
        )
        .await
        .unwrap();
    assert_eq!(after.status, 401, "{}", after.text);

    // Logout ends a session; its refresh token no longer works.
    let session = app
        .client
        .post(
            &shop.host,
            "/api/v1/auth/login",
            None,
            &json!({ "email": "ada@example.test", "password": PASSWORD }),
        )
        .await
        .unwrap();
    let out = app
        .client
        .post(
            &shop.host,
            "/api/v1/auth/logout",
            None,
            &json!({ "refresh_token": session.str("refresh_token") }),
        )
        .await
        .unwrap();
    assert_eq!(out.status, 204);
    let dead = app
        .client
        .post(
            &shop.host,
            "/api/v1/auth/refresh",
            None,
            &json!({ "refresh_token": session.str("refresh_token") }),
        )
        .await
        .unwrap();
    assert_eq!(dead.status, 401);

    // A shop's refresh token means nothing on another shop's domain.
    let session = app
        .client
        .post(
            &shop.host,
            "/api/v1/auth/login",
            None,
            &json!({ "email": "ada@example.test", "password": PASSWORD }),
        )
        .await
        .unwrap();
    let foreign = app
        .client
        .post(
            &other.host,
            "/api/v1/auth/refresh",
            None,
            &json!({ "refresh_token": session.str("refresh_token") }),
        )
        .await
        .unwrap();
    assert_eq!(foreign.status, 401, "{}", foreign.text);
    let still = app
        .client
        .post(
            &shop.host,
            "/api/v1/auth/refresh",
            None,
            &json!({ "refresh_token": session.str("refresh_token") }),
        )
        .await
        .unwrap();
    assert_eq!(
        still.status, 200,
        "the foreign attempt changed nothing: {}",
        still.text
    );
}
on_all_backends!(customers_register_and_keep_a_session);

async fn platform_admins_live_only_on_the_platform_host(backend: Backend, test: &str) {
    let Some(app) = TestApp::spawn(backend, test).await else {
        return;
    };
    let admin = app.admin_token().await;
    let me = app
        .client
        .get(PLATFORM, "/api/v1/auth/me", Some(&admin))
        .await
        .unwrap();
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(me.str("role"), "platform_admin");
    assert!(me.str("id").starts_with("adm_"));
    // Nobody registers on the platform host.
    let reg = app
        .client
        .post(
            PLATFORM,
            "/api/v1/auth/register",
            None,
            &json!({ "email": "x@example.test", "password": PASSWORD }),
        )
        .await
        .unwrap();
    assert_eq!(reg.status, 404, "{}", reg.text);
    // The admin's credentials do not sign in on a shop.
    let shop = app.shop(&admin, "free").await;
    let email = me.str("email");
    let on_shop = app
        .client
        .post(
            &shop.host,
            "/api/v1/auth/login",
            None,
            &json!({ "email": email, "password": PASSWORD }),
        )
        .await
        .unwrap();
    assert_eq!(on_shop.status, 401, "{}", on_shop.text);
}
on_all_backends!(platform_admins_live_only_on_the_platform_host);

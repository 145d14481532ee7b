//! Story: a forgotten password. A code by mail (only to accounts that exist, with the same
//! answer either way), used once, ends every session; on shops and on the platform host.

use crate::staff::{mails_to, nth_mail};
use crate::support::{Backend, PASSWORD, PLATFORM, TestApp};
use crate::{on_all_backends, on_embedded_and_real};
use mercato_testkit::Reply;
use serde_json::json;

const NEW_PASSWORD: &str = "a much better passphrase";

async fn ask(app: &TestApp, host: &str, email: &str) -> Reply {
    app.client
        .post(
            host,
            "/api/v1/auth/password-reset",
            None,
            &json!({ "email": email }),
        )
        .await
        .unwrap()
}

async fn confirm(app: &TestApp, host: &str, code: &str, password: &str) -> Reply {
    app.client
        .post(
            host,
            "/api/v1/auth/password-reset/confirm",
            None,
            &json!({ "token": code, "password": password }),
        )
        .await
        .unwrap()
}

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

async fn a_forgotten_password_is_reset_by_mail(backend: Backend, test: &str) {
    let Some(app) = TestApp::spawn(backend, test).await else {
        return;
    };
    let admin = app.admin_token().await;
    let shop = app.shop(&admin, "free").await;
    let other = app.shop(&admin, "free").await;
    let folder = shop.id.to_string();
    let email = "ada@example.test";
    for host in [&shop.host, &other.host] {
        let reg = app
            .client
            .post(
                host,
                "/api/v1/auth/register",
                None,
                &json!({ "email": email, "password": PASSWORD }),
            )
            .await
            .unwrap();
        assert_eq!(reg.status, 201, "{}", reg.text);
    }
    let session = login(&app, &shop.host, email, PASSWORD).await;
    assert_eq!(session.status, 200, "{}", session.text);

    let unknown = ask(&app, &shop.host, "nobody@example.test").await;
    assert_eq!(unknown.status, 202, "{}", unknown.text);
    let known = ask(&app, &shop.host, "Ada@Example.test").await;
    assert_eq!(known.status, 202, "{}", known.text);
    assert_eq!(known.body, unknown.body, "the answer tells nothing");
    let bad = ask(&app, &shop.host, "not an email").await;
    assert_eq!(bad.status, 422, "{}", bad.text);

    let mail = nth_mail(&app, &folder, email, 1).await;
    assert!(mails_to(&app, &folder, "nobody@example.test").is_empty());
    let code = mail.code("mpr_");

    // Another shop's domain knows nothing of the code; it still works at home afterwards.
    let foreign = confirm(&app, &other.host, &code, NEW_PASSWORD).await;
    assert_eq!(foreign.status, 400, "{}", foreign.text);
    assert_eq!(
        login(&app, &other.host, email, PASSWORD).await.status,
        200,
        "the other shop's account is untouched"
    );
    let weak = confirm(&app, &shop.host, &code, "short").await;
    assert_eq!(weak.status, 422, "{}", weak.text);
    let unknown_code = confirm(&app, &shop.host, "mpr_unknown", NEW_PASSWORD).await;
    assert_eq!(unknown_code.status, 400, "{}", unknown_code.text);
    assert_eq!(unknown_code.str("code"), "invalid_token");

    let done = confirm(&app, &shop.host, &code, NEW_PASSWORD).await;
    assert_eq!(done.status, 204, "{}", done.text);
    assert_eq!(login(&app, &shop.host, email, PASSWORD).await.status, 401);
    assert_eq!(
        login(&app, &shop.host, email, NEW_PASSWORD).await.status,
        200
    );
    let old_session = app
        .client
        .post(
            &shop.host,
            "/api/v1/auth/refresh",
            None,
            &json!({ "refresh_token": session.str("refresh_token") }),
        )
        .await
        .unwrap();
    assert_eq!(old_session.status, 401, "{}", old_session.text);
    let reused = confirm(&app, &shop.host, &code, "yet another passphrase").await;
    assert_eq!(reused.status, 400, "{}", reused.text);
    assert_eq!(reused.str("code"), "invalid_token");
    assert_eq!(
        login(&app, &shop.host, email, NEW_PASSWORD).await.status,
        200,
        "the reused code changed nothing"
    );
}
on_all_backends!(a_forgotten_password_is_reset_by_mail);

async fn platform_admins_reset_theirs_on_the_platform_host(backend: Backend, test: &str) {
    let Some(app) = TestApp::spawn(backend, test).await else {
        return;
    };
    let admin = app.admin_token().await;
    let email = app
        .client
        .get(PLATFORM, "/api/v1/auth/me", Some(&admin))
        .await
        .unwrap()
        .str("email");
    let asked = ask(&app, PLATFORM, &email).await;
    assert_eq!(asked.status, 202, "{}", asked.text);
    let code = nth_mail(&app, "platform", &email, 1).await.code("mpr_");
    // A shop's domain is another realm.
    let shop = app.shop(&admin, "free").await;
    let elsewhere = confirm(&app, &shop.host, &code, NEW_PASSWORD).await;
    assert_eq!(elsewhere.status, 400, "{}", elsewhere.text);
    let done = confirm(&app, PLATFORM, &code, NEW_PASSWORD).await;
    assert_eq!(done.status, 204, "{}", done.text);
    assert_eq!(
        login(&app, PLATFORM, &email, NEW_PASSWORD).await.status,
        200
    );
    assert_eq!(login(&app, PLATFORM, &email, PASSWORD).await.status, 401);
}
on_embedded_and_real!(platform_admins_reset_theirs_on_the_platform_host);

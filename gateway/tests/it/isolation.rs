//! Cross-tenant attacks: shop B's ids and tokens used on shop A's domain get 404/401 and
//! change nothing; a context header sent by a client is ignored.

use crate::on_all_backends;
use crate::support::{Backend, TestApp};
use mercato_tenant_context::{Actor, ContextKey, RequestContext, RequestId, Role, Scope, UserId};
use serde_json::json;

async fn another_shops_ids_and_tokens_do_nothing(backend: Backend, test: &str) {
    let Some(app) = TestApp::spawn(backend, test).await else {
        return;
    };
    let admin = app.admin_token().await;
    let a = app.shop(&admin, "growth").await;
    let b = app.shop(&admin, "growth").await;
    let b_domain = app
        .client
        .post(
            &b.host,
            "/api/v1/shop/domains",
            Some(&b.owner),
            &json!({ "hostname": "b-shop.example.test" }),
        )
        .await
        .unwrap();
    assert_eq!(b_domain.status, 201, "{}", b_domain.text);
    let b_path = format!("/api/v1/shop/domains/{}", b_domain.str("id"));

    // B's domain id on A's domain, with A's owner: not found, for every verb.
    assert_eq!(
        app.client
            .get(&a.host, &b_path, Some(&a.owner))
            .await
            .unwrap()
            .status,
        404
    );
    assert_eq!(
        app.client
            .delete(&a.host, &b_path, Some(&a.owner))
            .await
            .unwrap()
            .status,
        404
    );
    assert_eq!(
        app.client
            .send(
                "POST",
                &a.host,
                &format!("{b_path}/verify"),
                Some(&a.owner),
                None
            )
            .await
            .unwrap()
            .status,
        404
    );
    // B's token on A's domain: 401, for reads and writes.
    assert_eq!(
        app.client
            .get(&a.host, "/api/v1/shop/domains", Some(&b.owner))
            .await
            .unwrap()
            .status,
        401
    );
    let write = app
        .client
        .patch(
            &a.host,
            "/api/v1/shop/settings",
            Some(&b.owner),
            &json!({ "name": "Owned" }),
        )
        .await
        .unwrap();
    assert_eq!(write.status, 401, "{}", write.text);
    assert_eq!(
        app.client
            .get(&a.host, "/api/v1/auth/me", Some(&b.owner))
            .await
            .unwrap()
            .status,
        401
    );

    // Nothing changed: B still has its domain, A its name.
    let still = app
        .client
        .get(&b.host, &b_path, Some(&b.owner))
        .await
        .unwrap();
    assert_eq!(still.status, 200, "{}", still.text);
    let a_public = app.client.get(&a.host, "/api/v1/shop", None).await.unwrap();
    assert_eq!(a_public.body["name"], a.body["name"]);
    // A's list does not show B's domain.
    let a_list = app
        .client
        .get(&a.host, "/api/v1/shop/domains", Some(&a.owner))
        .await
        .unwrap();
    assert_eq!(
        a_list.body["data"].as_array().map(Vec::len),
        Some(0),
        "{}",
        a_list.text
    );
}
on_all_backends!(another_shops_ids_and_tokens_do_nothing);

async fn a_forged_context_header_is_ignored(backend: Backend, test: &str) {
    let Some(app) = TestApp::spawn(backend, test).await else {
        return;
    };
    let admin = app.admin_token().await;
    let shop = app.shop(&admin, "free").await;
    let forged = RequestContext {
        scope: Scope::Shop(shop.id),
        actor: Actor::User(UserId::new()),
        roles: vec![Role::Owner],
        vendors: Vec::new(),
        request_id: RequestId::new(),
        terms: None,
        client_ip: None,
    };
    for key in [b"guessed-internal-key".as_slice(), b""] {
        let header = ContextKey::new(key).sign(&forged);
        let reply = app
            .client
            .send_raw(
                "PATCH",
                &shop.host,
                "/api/v1/shop/settings",
                &[
                    ("x-mercato-context", &header),
                    ("content-type", "application/json"),
                ],
                br#"{"name":"Forged"}"#.to_vec(),
            )
            .await
            .unwrap();
        // The header was stripped: the caller is anonymous.
        assert_eq!(reply.status, 401, "{}", reply.text);
    }
    let public = app
        .client
        .get(&shop.host, "/api/v1/shop", None)
        .await
        .unwrap();
    assert_eq!(public.body["name"], shop.body["name"]);
}
on_all_backends!(a_forged_context_header_is_ignored);

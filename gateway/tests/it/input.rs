//! Bad input gets a 4xx problem response, never a 500, and changes nothing.

use crate::on_all_backends;
use crate::support::{Backend, PLATFORM, TestApp};
use serde_json::json;

async fn bad_input_gets_problems(backend: Backend, test: &str) {
    let Some(app) =
        TestApp::spawn_with(backend, test, |c| c.gateway.max_body_bytes = 64 * 1024).await
    else {
        return;
    };
    let admin = app.admin_token().await;
    let shop = app.shop(&admin, "free").await;
    let json_type = ("content-type", "application/json");
    let auth = format!("Bearer {}", shop.owner);
    let bearer = ("authorization", auth.as_str());

    type Case<'a> = (&'a str, &'a str, Vec<(&'a str, &'a str)>, Vec<u8>, u16);
    let cases: Vec<Case> = vec![
        (
            "malformed json",
            "/api/v1/auth/register",
            vec![json_type],
            b"{\"email\":".to_vec(),
            400,
        ),
        (
            "not json",
            "/api/v1/auth/login",
            vec![("content-type", "text/plain")],
            b"email=x".to_vec(),
            415,
        ),
        (
            "unknown field",
            "/api/v1/auth/register",
            vec![json_type],
            br#"{"email":"a@example.test","password":"long enough pw","admin":true}"#.to_vec(),
            422,
        ),
        (
            "missing field",
            "/api/v1/auth/login",
            vec![json_type],
            br#"{"email":"a@example.test"}"#.to_vec(),
            422,
        ),
        (
            "wrong type",
            "/api/v1/auth/login",
            vec![json_type],
            br#"{"email":1,"password":"x"}"#.to_vec(),
            422,
        ),
        (
            "invalid email",
            "/api/v1/auth/register",
            vec![json_type],
            br#"{"email":"not-an-email","password":"long enough pw"}"#.to_vec(),
            422,
        ),
        (
            "short password",
            "/api/v1/auth/register",
            vec![json_type],
            br#"{"email":"a@example.test","password":"short"}"#.to_vec(),
            422,
        ),
        (
            "oversized body",
            "/api/v1/shop/domains",
            // The server may close the connection without reading the body; the client must
            // not put that connection back in its pool for the next request.
            vec![json_type, bearer, ("connection", "close")],
            vec![b' '; 100 * 1024],
            413,
        ),
    ];
    for (what, path, headers, body, status) in cases {
        let reply = app
            .client
            .send_raw("POST", &shop.host, path, &headers, body)
            .await
            .unwrap();
        assert_eq!(reply.status, status, "{what}: {}", reply.text);
        assert_eq!(reply.content_type(), "application/problem+json", "{what}");
        assert_eq!(reply.body["status"], status, "{what}: {}", reply.text);
        assert!(!reply.str("code").is_empty(), "{what}");
    }
    // Field paths name the culprit.
    let reply = app
        .client
        .post(
            &shop.host,
            "/api/v1/auth/register",
            None,
            &json!({ "email": "a@example.test", "password": "long enough", "role": "owner" }),
        )
        .await
        .unwrap();
    assert_eq!(reply.body["errors"][0]["field"], "/role", "{}", reply.text);
    // Nothing was registered by the refused requests.
    let login = app
        .client
        .post(
            &shop.host,
            "/api/v1/auth/login",
            None,
            &json!({ "email": "a@example.test", "password": "long enough pw" }),
        )
        .await
        .unwrap();
    assert_eq!(login.status, 401);

    // Unknown paths, unknown hosts, bad ids and bad query values.
    let unknown = app
        .client
        .get(&shop.host, "/api/v1/nothing-here", None)
        .await
        .unwrap();
    assert_eq!(
        (unknown.status, unknown.content_type().as_str()),
        (404, "application/problem+json")
    );
    let unknown = app
        .client
        .get(&shop.host, "/api/v1/shop/nothing-here", None)
        .await
        .unwrap();
    assert_eq!(
        (unknown.status, unknown.content_type().as_str()),
        (404, "application/problem+json"),
        "{}",
        unknown.text
    );
    let host = app
        .client
        .get("no-such-shop.localhost", "/api/v1/shop", None)
        .await
        .unwrap();
    assert_eq!(
        (host.status, host.content_type().as_str()),
        (404, "application/problem+json")
    );
    let bad_id = app
        .client
        .get(
            &shop.host,
            "/api/v1/shop/domains/not-an-id",
            Some(&shop.owner),
        )
        .await
        .unwrap();
    assert_eq!(bad_id.status, 404, "{}", bad_id.text);
    let bad_limit = app
        .client
        .get(PLATFORM, "/api/v1/admin/shops?limit=100000", Some(&admin))
        .await
        .unwrap();
    assert_eq!(bad_limit.status, 422, "{}", bad_limit.text);
    let bad_status = app
        .client
        .get(PLATFORM, "/api/v1/admin/shops?status=gone", Some(&admin))
        .await
        .unwrap();
    assert_eq!(bad_status.status, 422, "{}", bad_status.text);
    let bad_cursor = app
        .client
        .get(PLATFORM, "/api/v1/admin/shops?cursor=garbage", Some(&admin))
        .await
        .unwrap();
    assert_eq!(bad_cursor.status, 422, "{}", bad_cursor.text);
    let wrong_method = app
        .client
        .send("PUT", &shop.host, "/api/v1/shop", None, None)
        .await
        .unwrap();
    assert_eq!(
        (wrong_method.status, wrong_method.content_type().as_str()),
        (405, "application/problem+json"),
        "{}",
        wrong_method.text
    );
    let bad_token = app
        .client
        .get(&shop.host, "/api/v1/auth/me", Some("not-a-jwt"))
        .await
        .unwrap();
    assert_eq!(bad_token.status, 401);

    // Shop creation: every invalid field named at once, nothing created.
    let bad_shop = json!({ "name": "", "slug": "Bad Slug", "default_currency": "XXX", "locale": "english", "timezone": "nowhere", "plan": "gold", "owner_email": "x" });
    let reply = app
        .client
        .post(PLATFORM, "/api/v1/admin/shops", Some(&admin), &bad_shop)
        .await
        .unwrap();
    assert_eq!(reply.status, 422, "{}", reply.text);
    assert_eq!(
        reply.body["errors"].as_array().map(Vec::len),
        Some(7),
        "{}",
        reply.text
    );
}
on_all_backends!(bad_input_gets_problems);

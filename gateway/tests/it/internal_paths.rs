//! `/internal` endpoints are the gateway's own. A path with a dot segment (`..`, `%2e%2e`,
//! `.`, in any case; `\` separates segments too) or an empty one (`//`) is a 400 before
//! routing, on every host, so it cannot be collapsed into `/internal/…` on the way to a
//! service (which the split shape's HTTP client would do). And a request that reaches
//! `/internal` anyway, with any actor but the gateway's own, is a 404 there.

use crate::on_all_backends;
use crate::support::{Backend, PLATFORM, TestApp};
use mercato_tenant_context::{
    Actor, AdminId, ApiKeyId, RequestContext, RequestId, Role, Scope, ServiceName, ShopTerms,
    UserId,
};
use serde_json::json;

async fn dot_and_empty_segments_are_refused_before_routing(backend: Backend, test: &str) {
    let Some(app) = TestApp::spawn(backend, test).await else {
        return;
    };
    let admin = app.admin_token().await;
    let shop = app.shop(&admin, "growth").await;
    let resolve = |via: &str| format!("{via}internal/v1/resolve?host={}", shop.host);
    // Without the check, the split shape's upstream client turns the routed
    // `/api/v1/shop/../../../internal/…` into `/internal/…` at the tenants service.
    let targets = [
        resolve("/api/v1/../"),
        resolve("/api/v1/%2e%2e/"),
        resolve("/api/v1/%2E%2E/"),
        resolve("/api/v1/shop/../../../"),
        resolve("/api/v1/shop/%2e%2e/%2E%2e/.%2e/"),
        resolve("/api/v1/shop/.%2e/%2e./%2E./"),
        resolve("/api/v1/auth/./../../../"),
        resolve("//"),
        // URL parsers read `\` in an http URL as `/`.
        resolve("/api/v1/shop\\..\\..\\..\\"),
        "/api/v1\\\\products".to_owned(),
        "/api/v1/auth/../../../internal/v1/api-keys/verify".to_owned(),
        "/api/v1//products".to_owned(),
        "/api/v1/products//".to_owned(),
        "/api/v1/./shop".to_owned(),
        "/api/v1/shop/%2e".to_owned(),
        "/api/v1/shop/.".to_owned(),
        "/media/../secrets.toml".to_owned(),
        "/..".to_owned(),
    ];
    for host in [PLATFORM, shop.host.as_str(), "nobody.example"] {
        for target in &targets {
            for (method, token) in [("GET", None), ("POST", Some(&admin)), ("GET", Some(&admin))] {
                let auth = token.map(|t| format!("Bearer {t}"));
                let headers: Vec<(&str, &str)> = auth
                    .as_deref()
                    .map(|a| vec![("authorization", a)])
                    .unwrap_or_default();
                let reply = app
                    .client
                    .send_verbatim(method, host, target, &headers)
                    .await
                    .unwrap();
                assert_eq!(reply.status, 400, "{method} {host}{target}: {}", reply.text);
                assert_eq!(reply.content_type(), "application/problem+json");
                assert_eq!(reply.str("code"), "invalid_path", "{}", reply.text);
                assert!(!reply.text.contains("shop_id"), "{}", reply.text);
            }
        }
    }

    // `/internal` itself is not routed from outside, on any host.
    for host in [PLATFORM, shop.host.as_str()] {
        let reply = app
            .client
            .send_verbatim("GET", host, &resolve("/"), &[])
            .await
            .unwrap();
        assert_eq!(reply.status, 404, "{host}: {}", reply.text);
        assert!(!reply.text.contains("shop_id"), "{}", reply.text);
    }

    // Ordinary paths still route; a single trailing slash is no traversal and answers as
    // it always has (no route ends in `/`).
    let listed = app
        .client
        .send_verbatim("GET", &shop.host, "/api/v1/products", &[])
        .await
        .unwrap();
    assert_eq!(listed.status, 200, "{}", listed.text);
    let trailing = app
        .client
        .send_verbatim("GET", &shop.host, "/api/v1/products/", &[])
        .await
        .unwrap();
    assert_eq!(trailing.status, 404, "{}", trailing.text);
    assert_eq!(trailing.str("code"), "not_found");
    let dots_inside_a_name = app
        .client
        .send_verbatim("GET", &shop.host, "/api/v1/products/a..b", &[])
        .await
        .unwrap();
    assert_eq!(
        dots_inside_a_name.status, 404,
        "{}",
        dots_inside_a_name.text
    );
}
on_all_backends!(dot_and_empty_segments_are_refused_before_routing);

/// The actors the gateway forwards for clients, and another service's: all strangers to
/// `/internal`.
fn strangers() -> Vec<Actor> {
    vec![
        Actor::Anonymous,
        Actor::User(UserId::new()),
        Actor::ApiKey(ApiKeyId::new()),
        Actor::PlatformAdmin(AdminId::new()),
        Actor::Service(ServiceName::Orders),
    ]
}

fn context(scope: Scope, actor: Actor, terms: Option<ShopTerms>) -> RequestContext {
    RequestContext {
        scope,
        actor,
        roles: match actor {
            Actor::User(_) => vec![Role::Owner],
            _ => Vec::new(),
        },
        vendors: Vec::new(),
        request_id: RequestId::new(),
        terms,
        client_ip: None,
    }
}

async fn internal_endpoints_answer_only_the_gateway(backend: Backend, test: &str) {
    let Some(app) = TestApp::spawn(backend, test).await else {
        return;
    };
    let admin = app.admin_token().await;
    let shop = app.shop(&admin, "growth").await;
    let created = app
        .client
        .post(
            &shop.host,
            "/api/v1/api-keys",
            Some(&shop.owner),
            &json!({ "name": "integration", "role": "staff" }),
        )
        .await
        .unwrap();
    assert_eq!(created.status, 201, "{}", created.text);
    let key = json!({ "key": created.str("key") });
    let gateway = Actor::Service(ServiceName::Gateway);

    // Host resolution: the gateway's own context gets the shop, with its terms.
    let resolve = format!("/internal/v1/resolve?host={}", shop.host);
    let platform = |actor| context(Scope::Platform, actor, None);
    let answer = app
        .call_service("tenants", "GET", &resolve, &platform(gateway), None)
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.str("shop_id"), shop.id.to_string());
    let terms: ShopTerms = serde_json::from_value(answer.body["terms"].clone()).unwrap();
    for actor in strangers() {
        for path in [resolve.as_str(), "/internal/v1/resolve"] {
            let reply = app
                .call_service("tenants", "GET", path, &platform(actor), None)
                .await;
            assert_eq!(reply.status, 404, "{actor:?} {path}: {}", reply.text);
            assert_eq!(reply.str("code"), "not_found");
            assert!(!reply.text.contains(&shop.id.to_string()), "{}", reply.text);
        }
    }

    // API key checks: the gateway's context verifies the key; any other is told nothing.
    let in_shop = |actor| context(Scope::Shop(shop.id), actor, Some(terms.clone()));
    let verify = "/internal/v1/api-keys/verify";
    let verified = app
        .call_service("identity", "POST", verify, &in_shop(gateway), Some(&key))
        .await;
    assert_eq!(verified.status, 200, "{}", verified.text);
    assert_eq!(verified.str("key_id"), created.str("id"));
    for actor in strangers() {
        for body in [&key, &json!({ "not": "a key request" })] {
            let reply = app
                .call_service("identity", "POST", verify, &in_shop(actor), Some(body))
                .await;
            assert_eq!(reply.status, 404, "{actor:?}: {}", reply.text);
            assert!(!reply.text.contains("key_id"), "{}", reply.text);
        }
    }

    // Session standings: the gateway's context reads the owner's epoch; any other is told
    // nothing, and another shop's scope does not find this shop's account.
    let me = app
        .client
        .get(&shop.host, "/api/v1/auth/me", Some(&shop.owner))
        .await
        .unwrap();
    assert_eq!(me.status, 200, "{}", me.text);
    let session = format!("/internal/v1/sessions/{}", me.str("id"));
    let standing = app
        .call_service("identity", "GET", &session, &in_shop(gateway), None)
        .await;
    assert_eq!(standing.status, 200, "{}", standing.text);
    assert!(standing.body["session_epoch"].is_u64(), "{}", standing.text);
    for actor in strangers() {
        let reply = app
            .call_service("identity", "GET", &session, &in_shop(actor), None)
            .await;
        assert_eq!(reply.status, 404, "{actor:?}: {}", reply.text);
        assert!(!reply.text.contains("session_epoch"), "{}", reply.text);
    }
    let other = app.shop(&admin, "growth").await;
    let elsewhere = context(Scope::Shop(other.id), gateway, None);
    let reply = app
        .call_service("identity", "GET", &session, &elsewhere, None)
        .await;
    assert_eq!(reply.status, 404, "another shop: {}", reply.text);

    // And the key still works through the gateway, which checks it as itself.
    let staff = app
        .client
        .get(&shop.host, "/api/v1/staff", Some(&created.str("key")))
        .await
        .unwrap();
    assert_eq!(staff.status, 200, "{}", staff.text);
}
on_all_backends!(internal_endpoints_answer_only_the_gateway);

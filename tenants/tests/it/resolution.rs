//! The gateway's question "which shop is this host?" (`/internal/v1/resolve`): the platform
//! host, a shop's subdomain, a verified custom domain; the shop's status and terms in the
//! answer, a suspended shop included; and nobody but the gateway may ask.

use crate::on_every_backend;
use crate::support::{Caller, PLATFORM_DOMAIN, Service, subdomain, unique_host};
use axum::http::StatusCode;
use mercato_tenant_context::{Actor, ContextKey, Scope, ServiceName};
use mercato_tenants::Resolution;
use mercato_tenants::domain::plan::Plan;
use mercato_tenants::domain::shop::ShopStatus;
use serde_json::json;
use std::collections::BTreeMap;

/// Subdomains resolve to their shop with its status and terms, however the `Host` header
/// writes them; the platform host is the platform; anything else is a 404.
async fn hosts_resolve_to_shops_or_the_platform(s: Service) {
    let shop = s.open_shop("growth").await;
    let host = subdomain(&shop);
    let expected = Resolution::Shop {
        shop_id: shop.id,
        slug: shop.slug.clone(),
        status: ShopStatus::Active,
        terms: Plan::Growth.terms(&BTreeMap::new()),
    };
    for written in [
        host.clone(),
        host.to_uppercase(),
        format!("{host}:8080"),
        format!("{host}."),
        format!("{}.:443", host.to_uppercase()),
    ] {
        assert_eq!(
            s.resolve(&written).await,
            (StatusCode::OK, Some(expected.clone())),
            "{written}"
        );
    }
    for platform in [
        format!("platform.{PLATFORM_DOMAIN}"),
        format!("Platform.{PLATFORM_DOMAIN}:8443"),
    ] {
        assert_eq!(
            s.resolve(&platform).await,
            (StatusCode::OK, Some(Resolution::Platform)),
            "{platform}"
        );
    }
    for unknown in [
        format!("no-such-shop.{PLATFORM_DOMAIN}"),
        format!("www.{host}"),
        PLATFORM_DOMAIN.to_owned(),
        shop.slug.clone(),
        format!("{}.example.com", shop.slug),
        unique_host("never-added-"),
    ] {
        assert_eq!(
            s.resolve(&unknown).await,
            (StatusCode::NOT_FOUND, None),
            "{unknown}"
        );
    }

    // The terms follow the admin's changes.
    let changed = s
        .patch(
            &Caller::admin(),
            &format!("/api/v1/admin/shops/{}", shop.id),
            json!({ "plan": "scale", "features": { "webhooks": false } }),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    let overrides = BTreeMap::from([("webhooks".to_owned(), false)]);
    let (_, resolved) = s.resolve(&host).await;
    let Some(Resolution::Shop { terms, .. }) = resolved else {
        panic!("{host} resolves to a shop: {resolved:?}");
    };
    assert_eq!(terms, Plan::Scale.terms(&overrides));
    assert_eq!(terms.plan, "scale");
    assert!(!terms.features.contains("webhooks"), "{terms:?}");
    assert!(terms.features.contains("pdf_reports"), "{terms:?}");
}

/// Only a verified custom domain routes, and only to its shop: pending and removed ones
/// are 404s.
async fn a_custom_domain_routes_only_while_verified(s: Service) {
    let shop = s.open_shop("growth").await;
    let hostname = unique_host("www-");
    let added = s.added_domain(&shop, &hostname).await;
    assert_eq!(s.resolved_shop(&hostname).await, None, "pending");
    s.publish_token(&added);
    s.check_domains().await;
    for written in [
        hostname.clone(),
        hostname.to_uppercase(),
        format!("{hostname}.:8080"),
    ] {
        assert_eq!(s.resolved_shop(&written).await, Some(shop.id), "{written}");
    }
    // The shop's subdomain still works beside it.
    assert_eq!(s.resolved_shop(&subdomain(&shop)).await, Some(shop.id));

    let path = format!("/api/v1/shop/domains/{}", added.str("id"));
    assert_eq!(s.delete(&shop.owner, &path).await.status, 204);
    assert_eq!(s.resolved_shop(&hostname).await, None, "removed");
}

/// A suspended shop still resolves, on its subdomain and its custom domain, with status
/// `suspended` (the gateway then answers 503 rather than "no such shop"); after
/// reactivation it is `active` again.
async fn a_suspended_shop_resolves_with_its_status(s: Service) {
    let shop = s.open_shop("growth").await;
    let hostname = unique_host("www-");
    let added = s.added_domain(&shop, &hostname).await;
    s.publish_token(&added);
    s.check_domains().await;
    let admin = Caller::admin();
    let path = format!("/api/v1/admin/shops/{}", shop.id);

    let status_of = |host: String| {
        let s = s.clone();
        async move {
            match s.resolve(&host).await {
                (
                    StatusCode::OK,
                    Some(Resolution::Shop {
                        status, shop_id, ..
                    }),
                ) => (shop_id, status),
                other => panic!("{host}: {other:?}"),
            }
        }
    };
    let suspended = s
        .post(
            &admin,
            &format!("{path}/suspend"),
            json!({ "reason": "unpaid" }),
        )
        .await;
    assert_eq!(suspended.status, 200, "{}", suspended.body);
    for host in [subdomain(&shop), hostname.clone()] {
        assert_eq!(status_of(host).await, (shop.id, ShopStatus::Suspended));
    }

    let back = s
        .call(&admin, "POST", &format!("{path}/reactivate"), None)
        .await;
    assert_eq!(back.status, 200, "{}", back.body);
    for host in [subdomain(&shop), hostname] {
        assert_eq!(status_of(host).await, (shop.id, ShopStatus::Active));
    }
}

/// `/internal` answers only the gateway acting for itself: a platform admin, an anonymous
/// caller, a shop's owner or another service get a 404 that names no shop; a context
/// signed with another key is refused.
async fn only_the_gateway_may_resolve(s: Service) {
    let shop = s.open_shop("growth").await;
    let path = format!("/internal/v1/resolve?host={}", subdomain(&shop));
    let orders = Caller {
        scope: Scope::Platform,
        actor: Actor::Service(ServiceName::Orders),
        roles: Vec::new(),
    };
    for caller in [
        Caller::admin(),
        Caller::platform_anonymous(),
        shop.owner.clone(),
        orders,
    ] {
        let reply = s.get(&caller, &path).await;
        assert_eq!(reply.status, 404, "{caller:?}: {}", reply.body);
        assert!(
            !reply.body.to_string().contains(&shop.id.to_string()),
            "{}",
            reply.body
        );
    }
    let forged = s
        .call_signed(
            &Caller::gateway(),
            &ContextKey::new(b"a guessed context key"),
            "GET",
            &path,
            None,
        )
        .await;
    assert_eq!(forged.status, 401, "{}", forged.body);
    assert_eq!(s.get(&Caller::gateway(), &path).await.status, 200);
}

on_every_backend!(
    hosts_resolve_to_shops_or_the_platform,
    a_custom_domain_routes_only_while_verified,
    a_suspended_shop_resolves_with_its_status,
    only_the_gateway_may_resolve,
);

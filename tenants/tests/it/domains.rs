//! Adding custom domains: which host names are refused and why, what a new domain looks
//! like, the plan's limit and feature flag, one row per host name per shop, removal.

use crate::on_every_backend;
use crate::support::{Caller, PLATFORM_DOMAIN, Service, micros, unique_host};
use mercato_tenant_context::Role;
use serde_json::json;

/// Host names that cannot be a shop's domain, each with the reason given; none is stored
/// or announced.
async fn hostnames_that_are_refused_and_why(s: Service) {
    let shop = s.open_shop("scale").await;
    let long_label = format!("{}.com", "a".repeat(64));
    let too_long = format!("{}.com", ["abcdefghij"; 23].join("."));
    let cases: Vec<(&str, &str)> = vec![
        ("", "at most 253 characters"),
        ("   ", "at most 253 characters"),
        (&too_long, "at most 253 characters"),
        ("localhost", "at least two labels"),
        ("com", "at least two labels"),
        ("not a domain", "at least two labels"),
        ("not a.domain", "1-63 letters, digits or inner hyphens"),
        ("shop..example.com", "1-63 letters"),
        ("-shop.example.com", "inner hyphens"),
        ("shop-.example.com", "inner hyphens"),
        ("shop_x.example.com", "1-63 letters"),
        ("shop.example.com:8080", "1-63 letters"),
        ("http://shop.example.com", "1-63 letters"),
        ("shop.example.com/path", "1-63 letters"),
        ("*.example.com", "1-63 letters"),
        ("münchen.example.com", "punycode"),
        (&long_label, "1-63 letters"),
        ("1.2.3.4", "not an IP address"),
        ("10.0.0.1", "not an IP address"),
        // The platform's own names: every shop has its subdomain already.
        (PLATFORM_DOMAIN, "platform's own domain"),
        ("platform.mercato.test", "platform's own domain"),
        ("Other-Shop.MERCATO.test.", "platform's own domain"),
    ];
    for (hostname, why) in cases {
        let reply = s.add_domain(&shop.owner, hostname).await;
        assert_eq!(reply.status, 422, "{hostname:?}: {}", reply.body);
        assert_eq!(reply.code(), "validation_failed");
        assert_eq!(reply.fields(), ["/hostname"], "{hostname:?}");
        assert!(
            reply.message("/hostname").contains(why),
            "{hostname:?}: {}",
            reply.body
        );
    }
    // The tenant is never taken from the body.
    let with_tenant = s
        .post(
            &shop.owner,
            "/api/v1/shop/domains",
            json!({ "hostname": unique_host("x-"), "tenant_id": shop.id }),
        )
        .await;
    assert_eq!(with_tenant.status, 422, "{}", with_tenant.body);
    assert_eq!(with_tenant.fields(), ["/tenant_id"]);

    assert_eq!(s.hostnames(&shop).await, Vec::<String>::new());
    assert_eq!(s.event_names(shop.id).await, ["shop.created"]);
}

/// A new domain is stored lowercased without a trailing dot, pending, with the TXT record
/// to publish; it is announced and a check is scheduled. Punycode names are domains too.
async fn an_added_domain_is_pending_with_its_txt_record(s: Service) {
    let shop = s.open_shop("growth").await;
    let hostname = unique_host("www-");
    let added = s
        .add_domain(&shop.owner, &format!("  {}.  ", hostname.to_uppercase()))
        .await;
    assert_eq!(added.status, 201, "{}", added.body);
    assert!(added.str("id").starts_with("dom_"), "{}", added.body);
    assert_eq!(added.str("hostname"), hostname);
    assert_eq!(added.str("status"), "pending");
    assert_eq!(added.body["verification"]["type"], "TXT");
    assert_eq!(
        added.body["verification"]["name"],
        format!("_mercato-verify.{hostname}")
    );
    let token = added.body["verification"]["value"].as_str().unwrap_or("");
    assert!(token.starts_with("mercato-verify="), "{token}");
    assert!(token.len() > "mercato-verify=".len() + 20, "{token}");
    assert!(added.body["last_checked_at"].is_null());
    assert!(added.body["verified_at"].is_null());

    let read = s.domain(&shop, &added.str("id")).await;
    assert_eq!(
        micros(&read.body),
        micros(&added.body),
        "what was answered is what was stored"
    );
    assert_eq!(s.hostnames(&shop).await, [hostname.as_str()]);
    assert_eq!(
        s.event_names(shop.id).await,
        ["shop.created", "domain.added"]
    );
    let events = s.events().await;
    let payload = &events.last().expect("an event").2;
    assert_eq!(payload["hostname"], hostname);
    assert_eq!(payload["status"], "pending");

    // Another shop's token is its own.
    let other = s.open_shop("growth").await;
    let theirs = s.added_domain(&other, &unique_host("www-")).await;
    assert_ne!(
        theirs.body["verification"]["value"],
        added.body["verification"]["value"]
    );

    let punycode = s
        .add_domain(&shop.owner, "xn--mnchen-3ya.example.com")
        .await;
    assert_eq!(punycode.status, 201, "{}", punycode.body);
    // A check is due for each new domain.
    assert!(s.check_domains_once().await);
}

/// The plan caps custom domains (free: one) with a 402 that stores nothing; an upgrade or
/// a removal makes room. A shop whose `custom_domains` flag is off gets a 403.
async fn the_plan_limits_custom_domains(s: Service) {
    let shop = s.open_shop("free").await;
    let first = s.added_domain(&shop, "one.example.com").await;

    for hostname in ["two.example.com", "one.example.com"] {
        let refused = s.add_domain(&shop.owner, hostname).await;
        assert_eq!(refused.status, 402, "{hostname}: {}", refused.body);
        assert_eq!(refused.code(), "plan_limit_exceeded");
        assert!(
            refused.str("detail").contains("the free plan allows 1"),
            "{}",
            refused.body
        );
    }
    assert_eq!(s.hostnames(&shop).await, ["one.example.com"]);
    assert_eq!(
        s.event_names(shop.id).await,
        ["shop.created", "domain.added"]
    );

    // Removing the one frees its place.
    let path = format!("/api/v1/shop/domains/{}", first.str("id"));
    assert_eq!(s.delete(&shop.owner, &path).await.status, 204);
    assert_eq!(s.get(&shop.owner, &path).await.status, 404);
    s.added_domain(&shop, "two.example.com").await;

    // An upgrade raises the limit.
    let admin_path = format!("/api/v1/admin/shops/{}", shop.id);
    let upgraded = s
        .patch(&Caller::admin(), &admin_path, json!({ "plan": "growth" }))
        .await;
    assert_eq!(upgraded.status, 200, "{}", upgraded.body);
    s.added_domain(&shop, "three.example.com").await;

    // The flag switched off: no more domains, whatever the plan allows.
    let off = s
        .patch(
            &Caller::admin(),
            &admin_path,
            json!({ "features": { "custom_domains": false } }),
        )
        .await;
    assert_eq!(off.status, 200, "{}", off.body);
    let refused = s.add_domain(&shop.owner, "four.example.com").await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert_eq!(refused.code(), "forbidden");
    let mut names = s.hostnames(&shop).await;
    names.sort();
    assert_eq!(names, ["three.example.com", "two.example.com"]);
}

/// A shop adds a host name once (409 `domain_exists`, nothing stored), however it is
/// written.
async fn a_shop_adds_a_host_name_once(s: Service) {
    let shop = s.open_shop("growth").await;
    s.added_domain(&shop, "shop.example.com").await;
    for again in ["shop.example.com", "SHOP.example.com."] {
        let dup = s.add_domain(&shop.owner, again).await;
        assert_eq!(dup.status, 409, "{again}: {}", dup.body);
        assert_eq!(dup.code(), "domain_exists");
    }
    assert_eq!(s.hostnames(&shop).await, ["shop.example.com"]);
    assert_eq!(
        s.event_names(shop.id).await,
        ["shop.created", "domain.added"]
    );
}

/// `domains:manage` is for owners and admins; staff and customers get 403, anonymous
/// callers 401, for every domain route; nothing is added or removed.
async fn only_owners_and_admins_manage_domains(s: Service) {
    let shop = s.open_shop("growth").await;
    let admin = Caller::with_role(shop.id, Role::Admin);
    let added = s.add_domain(&admin, "admin.example.com").await;
    assert_eq!(added.status, 201, "{}", added.body);
    let path = format!("/api/v1/shop/domains/{}", added.str("id"));

    for (caller, status) in [
        (Caller::with_role(shop.id, Role::Staff), 403),
        (Caller::with_role(shop.id, Role::Customer), 403),
        (Caller::anonymous(shop.id), 401),
    ] {
        let add = s.add_domain(&caller, "mine.example.com").await;
        let list = s.get(&caller, "/api/v1/shop/domains").await;
        let show = s.get(&caller, &path).await;
        let verify = s
            .call(&caller, "POST", &format!("{path}/verify"), None)
            .await;
        let remove = s.delete(&caller, &path).await;
        for reply in [add, list, show, verify, remove] {
            assert_eq!(reply.status, status, "{caller:?}: {}", reply.body);
        }
    }
    assert_eq!(s.hostnames(&shop).await, ["admin.example.com"]);
}

on_every_backend!(
    hostnames_that_are_refused_and_why,
    an_added_domain_is_pending_with_its_txt_record,
    the_plan_limits_custom_domains,
    a_shop_adds_a_host_name_once,
    only_owners_and_admins_manage_domains,
);

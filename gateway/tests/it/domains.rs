//! Story 2: custom domains, verified by a DNS TXT record that a real DNS server on loopback
//! serves; only verified domains route, and a domain routes to at most one shop.

use crate::on_all_backends;
use crate::support::{Backend, TestApp, eventually};
use mercato_testkit::unique;
use serde_json::json;

async fn a_verified_custom_domain_routes_to_its_shop(backend: Backend, test: &str) {
    let Some(app) = TestApp::spawn(backend, test).await else {
        return;
    };
    let admin = app.admin_token().await;
    let shop = app.shop(&admin, "growth").await;
    let hostname = format!("{}.example.test", unique("www-"));

    let added = app
        .client
        .post(
            &shop.host,
            "/api/v1/shop/domains",
            Some(&shop.owner),
            &json!({ "hostname": hostname.to_uppercase() }),
        )
        .await
        .unwrap();
    assert_eq!(added.status, 201, "{}", added.text);
    assert_eq!(added.str("hostname"), hostname);
    assert_eq!(added.str("status"), "pending");
    assert_eq!(
        added.body["verification"]["name"],
        format!("_mercato-verify.{hostname}")
    );
    let token = added.body["verification"]["value"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/v1/shop/domains/{}", added.str("id"));

    // Pending domains do not route.
    let early = app
        .client
        .get(&hostname, "/api/v1/shop", None)
        .await
        .unwrap();
    assert_eq!(early.status, 404, "{}", early.text);

    // The first checks find no record: still pending, with the check's time and error.
    let checked = eventually(
        "a failed check",
        || app.client.get(&shop.host, &path, Some(&shop.owner)),
        |r| {
            r.as_ref()
                .is_ok_and(|r| !r.body["last_checked_at"].is_null())
        },
    )
    .await
    .unwrap();
    assert_eq!(checked.str("status"), "pending", "{}", checked.text);
    assert!(
        checked.str("last_error").contains("no TXT record"),
        "{}",
        checked.text
    );

    // The merchant publishes the record (with a decoy) and the next check verifies.
    app.dns
        .set_txt(
            &format!("_mercato-verify.{hostname}"),
            &["v=spf1 -all", &token],
        )
        .await
        .unwrap();
    let verified = eventually(
        "verification",
        || app.client.get(&shop.host, &path, Some(&shop.owner)),
        |r| r.as_ref().is_ok_and(|r| r.str("status") == "verified"),
    )
    .await
    .unwrap();
    assert!(verified.body["last_error"].is_null());

    // Now the custom domain serves the shop (the gateway's cache was invalidated by events).
    let routed = eventually(
        "routing",
        || app.client.get(&hostname, "/api/v1/shop", None),
        |r| r.as_ref().is_ok_and(|r| r.status == 200),
    )
    .await
    .unwrap();
    assert_eq!(routed.str("id"), shop.id.to_string());
    // With a port and a trailing dot it is the same host.
    let with_port = app
        .client
        .get(
            &format!("{}.:8080", hostname.to_uppercase()),
            "/api/v1/shop",
            None,
        )
        .await
        .unwrap();
    assert_eq!(with_port.str("id"), shop.id.to_string());

    // Another shop cannot take it.
    let rival = app.shop(&admin, "growth").await;
    let taken = app
        .client
        .post(
            &rival.host,
            "/api/v1/shop/domains",
            Some(&rival.owner),
            &json!({ "hostname": hostname }),
        )
        .await
        .unwrap();
    assert_eq!(taken.status, 409, "{}", taken.text);
    assert_eq!(taken.str("code"), "domain_taken");

    // Removing it stops the routing.
    let removed = app
        .client
        .delete(&shop.host, &path, Some(&shop.owner))
        .await
        .unwrap();
    assert_eq!(removed.status, 204);
    eventually(
        "unrouting",
        || app.client.get(&hostname, "/api/v1/shop", None),
        |r| r.as_ref().is_ok_and(|r| r.status == 404),
    )
    .await
    .unwrap();
}
on_all_backends!(a_verified_custom_domain_routes_to_its_shop);

async fn checks_give_up_then_can_be_asked_again(backend: Backend, test: &str) {
    let Some(app) =
        TestApp::spawn_with(backend, test, |c| c.tenants.domain_checks.max_attempts = 3).await
    else {
        return;
    };
    let admin = app.admin_token().await;
    let shop = app.shop(&admin, "growth").await;
    let hostname = format!("{}.example.test", unique("shop-"));
    // A wrong token never verifies; after 3 attempts the domain is failed.
    app.dns
        .set_txt(
            &format!("_mercato-verify.{hostname}"),
            &["mercato-verify=wrong"],
        )
        .await
        .unwrap();
    let added = app
        .client
        .post(
            &shop.host,
            "/api/v1/shop/domains",
            Some(&shop.owner),
            &json!({ "hostname": hostname }),
        )
        .await
        .unwrap();
    assert_eq!(added.status, 201, "{}", added.text);
    let path = format!("/api/v1/shop/domains/{}", added.str("id"));
    let failed = eventually(
        "failure",
        || app.client.get(&shop.host, &path, Some(&shop.owner)),
        |r| r.as_ref().is_ok_and(|r| r.str("status") == "failed"),
    )
    .await
    .unwrap();
    assert!(
        failed
            .str("last_error")
            .contains("does not contain the token"),
        "{}",
        failed.text
    );
    assert_eq!(
        app.client
            .get(&hostname, "/api/v1/shop", None)
            .await
            .unwrap()
            .status,
        404
    );

    // Fixed record, new check on request.
    let token = added.body["verification"]["value"]
        .as_str()
        .unwrap()
        .to_owned();
    app.dns
        .set_txt(&format!("_mercato-verify.{hostname}"), &[&token])
        .await
        .unwrap();
    let again = app
        .client
        .send(
            "POST",
            &shop.host,
            &format!("{path}/verify"),
            Some(&shop.owner),
            None,
        )
        .await
        .unwrap();
    assert_eq!(again.status, 202, "{}", again.text);
    eventually(
        "verification",
        || app.client.get(&shop.host, &path, Some(&shop.owner)),
        |r| r.as_ref().is_ok_and(|r| r.str("status") == "verified"),
    )
    .await
    .unwrap();
}
on_all_backends!(checks_give_up_then_can_be_asked_again);

async fn domain_input_is_checked(backend: Backend, test: &str) {
    let Some(app) = TestApp::spawn(backend, test).await else {
        return;
    };
    let admin = app.admin_token().await;
    let shop = app.shop(&admin, "free").await;
    for bad in [
        "localhost",
        "not a domain",
        "1.2.3.4",
        "x.localhost",
        "-a.example.test",
        "",
    ] {
        let reply = app
            .client
            .post(
                &shop.host,
                "/api/v1/shop/domains",
                Some(&shop.owner),
                &json!({ "hostname": bad }),
            )
            .await
            .unwrap();
        assert_eq!(reply.status, 422, "{bad}: {}", reply.text);
        assert_eq!(reply.body["errors"][0]["field"], "/hostname");
    }
    // The free plan allows one custom domain.
    let first = app
        .client
        .post(
            &shop.host,
            "/api/v1/shop/domains",
            Some(&shop.owner),
            &json!({ "hostname": "one.example.test" }),
        )
        .await
        .unwrap();
    assert_eq!(first.status, 201, "{}", first.text);
    let dup = app
        .client
        .post(
            &shop.host,
            "/api/v1/shop/domains",
            Some(&shop.owner),
            &json!({ "hostname": "one.example.test" }),
        )
        .await
        .unwrap();
    assert_eq!(dup.status, 402, "{}", dup.text);
    let second = app
        .client
        .post(
            &shop.host,
            "/api/v1/shop/domains",
            Some(&shop.owner),
            &json!({ "hostname": "two.example.test" }),
        )
        .await
        .unwrap();
    assert_eq!(second.status, 402, "{}", second.text);
    assert_eq!(second.str("code"), "plan_limit_exceeded");
    let list = app
        .client
        .get(&shop.host, "/api/v1/shop/domains", Some(&shop.owner))
        .await
        .unwrap();
    assert_eq!(
        list.body["data"].as_array().map(Vec::len),
        Some(1),
        "the refused ones were not stored"
    );
}
on_all_backends!(domain_input_is_checked);

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

//! `/readyz` (which pings every database), `/metrics` and `/events/pending` are served on
//! the admin listener only, never on a shop's domain; `/healthz` stays on the main listener.
//! `/events/pending` says what is not handled yet of the events published so far, and the
//! test barrier (`TestApp::settle`) is built on it.

use crate::on_all_backends;
use crate::support::{Backend, PLATFORM, TestApp};
use sea_orm::{ConnectionTrait, Statement};

async fn readiness_and_metrics_are_only_on_the_admin_listener(backend: Backend, test: &str) {
    let Some(app) = TestApp::spawn(backend, test).await else {
        return;
    };
    let admin = app.admin_token().await;
    let shop = app.shop(&admin, "free").await;

    for host in [shop.host.as_str(), PLATFORM, "nobody.example"] {
        for path in ["/readyz", "/metrics", "/events/pending"] {
            let reply = app.client.get(host, path, None).await.unwrap();
            assert_eq!(reply.status, 404, "{host}{path}: {}", reply.text);
            assert_eq!(reply.content_type(), "application/problem+json");
            assert!(!reply.text.contains("ready"), "{}", reply.text);
            assert!(
                !reply.text.contains("mercato_http_requests_total"),
                "{}",
                reply.text
            );
        }
        let alive = app.client.get(host, "/healthz", None).await.unwrap();
        assert_eq!(alive.status, 200, "{host}: {}", alive.text);
        assert_eq!(alive.str("status"), "ok");
    }

    let ready = app.admin.get("localhost", "/readyz", None).await.unwrap();
    assert_eq!(ready.status, 200, "{}", ready.text);
    assert_eq!(ready.str("status"), "ready");
    let metrics = app.admin.get("localhost", "/metrics", None).await.unwrap();
    assert_eq!(metrics.status, 200, "{}", metrics.text);
    assert!(
        metrics.content_type().starts_with("text/plain"),
        "{}",
        metrics.content_type()
    );
    // The main listener's traffic (the 404s above included) is what it counts.
    assert!(
        metrics
            .text
            .contains("mercato_http_requests_total{service=\"gateway\",status=\"404\"}"),
        "{}",
        metrics.text
    );
    let alive = app.admin.get("localhost", "/healthz", None).await.unwrap();
    assert_eq!(alive.status, 200, "{}", alive.text);
    // The admin listener is not a second front door.
    let api = app
        .admin
        .get(&shop.host, "/api/v1/shop", None)
        .await
        .unwrap();
    assert_eq!(api.status, 404, "{}", api.text);
    assert!(!api.text.contains(&shop.slug), "{}", api.text);
}
on_all_backends!(readiness_and_metrics_are_only_on_the_admin_listener);

async fn events_pending_settles_once_every_event_is_handled(backend: Backend, test: &str) {
    let Some(app) = TestApp::spawn(backend, test).await else {
        return;
    };
    let admin = app.admin_token().await;
    // A new shop with an owner to invite: `shop.created` goes from tenants to identity,
    // which writes the invitation and `staff.invited` to its own outbox.
    let slug = mercato_testkit::unique("settle-");
    let created = app
        .client
        .post(
            PLATFORM,
            "/api/v1/admin/shops",
            Some(&admin),
            &serde_json::json!({
                "name": "Settle Co", "slug": slug, "default_currency": "EUR", "plan": "free",
                "timezone": "Europe/Berlin", "locale": "de-DE",
                "owner_email": format!("owner@{slug}.example"),
            }),
        )
        .await
        .unwrap();
    assert_eq!(created.status, 201, "{}", created.text);

    app.settle().await;
    // Identity has handled `shop.created` by now, and what it published in return was
    // handled too: no polling.
    let tx = app
        .identity_db
        .platform_read("test: staff.invited")
        .await
        .unwrap();
    let invited = tx
        .query_one_raw(Statement::from_string(
            app.identity_db.backend(),
            "SELECT count(*) FROM outbox WHERE name = 'staff.invited' AND published_at IS NOT NULL",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<i64>(0)
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(invited, 1);
    // The process that runs the services (the only one, or the split shape's services
    // process) reports every service's outbox, all relayed, and nothing left on the bus.
    let services = app
        .services_admin()
        .get("localhost", "/events/pending", None)
        .await
        .unwrap();
    assert_eq!(services.status, 200, "{}", services.text);
    assert_eq!(services.body["settled"], true, "{}", services.text);
    let outboxes = services.body["outboxes"].as_object().unwrap();
    let mut names: Vec<&str> = outboxes.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "catalog",
            "identity",
            "inventory",
            "orders",
            "payouts",
            "tenants",
            "vendors"
        ]
    );
    for (service, outbox) in outboxes {
        assert_eq!(outbox["unpublished"], 0, "{service}: {}", services.text);
    }
    assert!(
        outboxes["tenants"]["last_seq"].as_i64().unwrap() > 0,
        "{}",
        services.text
    );
    assert_eq!(
        services.body["bus"],
        serde_json::json!({ "queued": 0, "in_flight": 0 })
    );
}
on_all_backends!(events_pending_settles_once_every_event_is_handled);

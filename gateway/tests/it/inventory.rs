//! Inventory end to end: a vendor's staff set up warehouses on the shop's domain, the
//! merchant sees and manages every vendor's, and nobody else — another vendor, a shopper,
//! another shop — sees or changes anything. `sales` follows a listed product through
//! stock, concurrent reservations, payment, cancellation and expiry, and shows a shopper
//! cannot hold stock at all. The service's own suite (`services/inventory/tests/it`) covers
//! the rules in depth, 200 checkouts racing for 50 units included.

mod sales;

use crate::on_embedded_and_real;
use crate::support::{Backend, TestApp, error_fields, ids};
use mercato_tenant_context::VariantId;
use serde_json::{Value, json};

pub fn warehouse(vendor: &str, name: &str) -> Value {
    json!({
        "vendor_id": vendor,
        "name": name,
        "address": {
            "line1": "Am Sandtorkai 5", "postal_code": "20457", "city": "Hamburg", "country": "DE"
        }
    })
}

async fn vendors_keep_warehouses_the_merchant_oversees(backend: Backend, test: &str) {
    let Some(app) = TestApp::spawn(backend, test).await else {
        return;
    };
    let admin = app.admin_token().await;
    let shop = app.shop(&admin, "growth").await;
    let host = shop.host.as_str();
    let (vendor, owner) = app.vendor_with_owner(&shop, "Nordic Tea").await;

    let created = app
        .client
        .post(
            host,
            "/api/v1/warehouses",
            Some(&owner),
            &warehouse(&vendor, "Hamburg"),
        )
        .await
        .unwrap();
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.str("id");
    assert!(id.starts_with("whs_"), "{id}");
    assert_eq!(created.str("vendor_id"), vendor);
    assert_eq!(created.body["active"], true);
    let path = format!("/api/v1/warehouses/{id}");

    let renamed = app
        .client
        .patch(
            host,
            &path,
            Some(&owner),
            &json!({ "name": "Hamburg Port" }),
        )
        .await
        .unwrap();
    assert_eq!(renamed.status, 200, "{}", renamed.text);
    assert_eq!(renamed.str("name"), "Hamburg Port");
    let duplicate = app
        .client
        .post(
            host,
            "/api/v1/warehouses",
            Some(&owner),
            &warehouse(&vendor, "Hamburg Port"),
        )
        .await
        .unwrap();
    assert_eq!(duplicate.status, 409, "{}", duplicate.text);
    assert_eq!(duplicate.str("code"), "warehouse_name_taken");

    // A new warehouse has no stock and no history yet.
    let stock = app
        .client
        .get(host, &format!("{path}/stock"), Some(&owner))
        .await
        .unwrap();
    assert_eq!(stock.status, 200, "{}", stock.text);
    assert_eq!(stock.body["data"], json!([]));
    let history = app
        .client
        .get(host, &format!("{path}/adjustments"), Some(&owner))
        .await
        .unwrap();
    assert_eq!(history.status, 200, "{}", history.text);
    assert_eq!(history.body["data"], json!([]));
    // Stock is only for variants catalog has announced.
    let unknown = app
        .client
        .post(
            host,
            &format!("{path}/adjustments"),
            Some(&owner),
            &json!({ "variant_id": VariantId::new(), "delta": 5, "reason": "received" }),
        )
        .await
        .unwrap();
    assert_eq!(unknown.status, 422, "{}", unknown.text);
    assert_eq!(error_fields(&unknown), ["/variant_id"]);

    // The merchant sees every vendor's warehouses and may set one up for a vendor, once
    // inventory has heard of it (from `vendor.applied`).
    let all = app
        .client
        .get(host, "/api/v1/warehouses", Some(&shop.owner))
        .await
        .unwrap();
    assert_eq!(all.status, 200, "{}", all.text);
    assert_eq!(ids(&all.body), vec![id.clone()]);
    app.settle().await;
    let by_merchant = app
        .client
        .post(
            host,
            "/api/v1/warehouses",
            Some(&shop.owner),
            &warehouse(&vendor, "Berlin"),
        )
        .await
        .unwrap();
    assert_eq!(by_merchant.status, 201, "{}", by_merchant.text);
    let mine = app
        .client
        .get(
            host,
            &format!("/api/v1/warehouses?vendor_id={vendor}"),
            Some(&owner),
        )
        .await
        .unwrap();
    assert_eq!(ids(&mine.body).len(), 2, "{}", mine.text);
    let closed = app
        .client
        .patch(
            host,
            &format!("/api/v1/warehouses/{}", by_merchant.str("id")),
            Some(&shop.owner),
            &json!({ "active": false }),
        )
        .await
        .unwrap();
    assert_eq!(closed.status, 200, "{}", closed.text);
    assert_eq!(closed.body["active"], false);

    // The vendor's staff hold only what exists: unknown variants are named.
    let reservation = app
        .client
        .post(
            host,
            "/api/v1/reservations",
            Some(&owner),
            &json!({ "lines": [{ "variant_id": VariantId::new(), "quantity": 1 }] }),
        )
        .await
        .unwrap();
    assert_eq!(reservation.status, 422, "{}", reservation.text);
    assert_eq!(error_fields(&reservation), ["/lines/0/variant_id"]);
    let none = app
        .client
        .get(host, "/api/v1/reservations", Some(&owner))
        .await
        .unwrap();
    assert_eq!(none.status, 200, "{}", none.text);
    assert_eq!(none.body["data"], json!([]));
    // Shoppers hold stock only through a checkout: reservations do not exist for them.
    let (_, shopper) = app.customer(&shop).await;
    let theirs = app
        .client
        .get(host, "/api/v1/reservations", Some(&shopper))
        .await
        .unwrap();
    assert_eq!(theirs.status, 404, "{}", theirs.text);
}
on_embedded_and_real!(vendors_keep_warehouses_the_merchant_oversees);

async fn warehouses_stay_with_their_vendor_and_shop(backend: Backend, test: &str) {
    let Some(app) = TestApp::spawn(backend, test).await else {
        return;
    };
    let admin = app.admin_token().await;
    let shop_a = app.shop(&admin, "growth").await;
    let shop_b = app.shop(&admin, "growth").await;
    let (vendor_a, owner_a) = app.vendor_with_owner(&shop_a, "Alpine Honey").await;
    let (_, rival_a) = app.vendor_with_owner(&shop_a, "Baltic Amber").await;
    let (_, owner_b) = app.vendor_with_owner(&shop_b, "Celtic Wool").await;
    let (_, shopper_a) = app.customer(&shop_a).await;
    let created = app
        .client
        .post(
            &shop_a.host,
            "/api/v1/warehouses",
            Some(&owner_a),
            &warehouse(&vendor_a, "Innsbruck"),
        )
        .await
        .unwrap();
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.str("id");
    let path = format!("/api/v1/warehouses/{id}");
    let patch = json!({ "name": "Taken" });
    let adjustment = json!({ "variant_id": VariantId::new(), "delta": 5, "reason": "received" });

    // Another vendor of the shop, a shopper, and another shop's merchant and vendor: 404.
    let strangers = [
        (&shop_a, &rival_a),
        (&shop_a, &shopper_a),
        (&shop_b, &shop_b.owner),
        (&shop_b, &owner_b),
    ];
    for (shop, token) in strangers {
        for (method, route, body) in [
            ("GET", path.clone(), None),
            ("PATCH", path.clone(), Some(&patch)),
            ("GET", format!("{path}/stock"), None),
            ("GET", format!("{path}/adjustments"), None),
            ("POST", format!("{path}/adjustments"), Some(&adjustment)),
        ] {
            let reply = app
                .client
                .send(method, &shop.host, &route, Some(token), body)
                .await
                .unwrap();
            assert_eq!(
                reply.status, 404,
                "{method} {route} on {}: {}",
                shop.host, reply.text
            );
        }
    }
    // Nobody else can set up a warehouse for this vendor.
    let hijack = app
        .client
        .post(
            &shop_a.host,
            "/api/v1/warehouses",
            Some(&rival_a),
            &warehouse(&vendor_a, "Mine"),
        )
        .await
        .unwrap();
    assert_eq!(hijack.status, 404, "{}", hijack.text);
    let foreign = app
        .client
        .post(
            &shop_b.host,
            "/api/v1/warehouses",
            Some(&shop_b.owner),
            &warehouse(&vendor_a, "Mine"),
        )
        .await
        .unwrap();
    assert_eq!(foreign.status, 422, "{}", foreign.text);
    // A shop A token is no good on shop B.
    let replayed = app
        .client
        .get(&shop_b.host, &path, Some(&owner_a))
        .await
        .unwrap();
    assert_eq!(replayed.status, 401, "{}", replayed.text);
    // Lists show only one's own.
    for (shop, token) in [(&shop_a, &rival_a), (&shop_b, &shop_b.owner)] {
        let listed = app
            .client
            .get(&shop.host, "/api/v1/warehouses", Some(token))
            .await
            .unwrap();
        assert_eq!(listed.status, 200, "{}", listed.text);
        assert!(!ids(&listed.body).contains(&id), "{}", listed.text);
    }
    let anonymous = app
        .client
        .get(&shop_a.host, "/api/v1/warehouses", None)
        .await
        .unwrap();
    assert_eq!(anonymous.status, 401, "{}", anonymous.text);
    // Nothing changed.
    let shown = app
        .client
        .get(&shop_a.host, &path, Some(&owner_a))
        .await
        .unwrap();
    assert_eq!(shown.status, 200, "{}", shown.text);
    assert_eq!(shown.str("name"), "Innsbruck");
    let history = app
        .client
        .get(
            &shop_a.host,
            &format!("{path}/adjustments"),
            Some(&shop_a.owner),
        )
        .await
        .unwrap();
    assert_eq!(history.body["data"], json!([]));
}
on_embedded_and_real!(warehouses_stay_with_their_vendor_and_shop);

async fn bad_inventory_input_is_refused(backend: Backend, test: &str) {
    let Some(app) = TestApp::spawn(backend, test).await else {
        return;
    };
    let admin = app.admin_token().await;
    let shop = app.shop(&admin, "growth").await;
    let host = shop.host.as_str();
    let (vendor, owner) = app.vendor_with_owner(&shop, "Danube Soap").await;
    let bad = app
        .client
        .post(
            host,
            "/api/v1/warehouses",
            Some(&owner),
            &json!({
                "vendor_id": vendor, "name": "",
                "address": { "line1": "x", "postal_code": "1", "city": "", "country": "Deutschland" }
            }),
        )
        .await
        .unwrap();
    assert_eq!(bad.status, 422, "{}", bad.text);
    assert_eq!(
        error_fields(&bad),
        ["/name", "/address/city", "/address/country"]
    );
    let malformed = app
        .client
        .send_raw(
            "POST",
            host,
            "/api/v1/warehouses",
            &[
                ("authorization", &format!("Bearer {owner}")),
                ("content-type", "application/json"),
            ],
            b"{\"vendor_id\":".to_vec(),
        )
        .await
        .unwrap();
    assert_eq!(malformed.status, 400, "{}", malformed.text);

    let variant = VariantId::new();
    for (body, field) in [
        (json!({ "lines": [] }), "/lines"),
        (
            json!({ "lines": [{ "variant_id": variant, "quantity": 0 }] }),
            "/lines/0/quantity",
        ),
        (
            json!({ "lines": [{ "variant_id": variant, "quantity": -3 }] }),
            "/lines/0/quantity",
        ),
        (
            json!({ "lines": [{ "variant_id": variant, "quantity": 1 }], "ttl_seconds": 86400 }),
            "/ttl_seconds",
        ),
        (
            json!({ "lines": [{ "variant_id": "var_x", "quantity": 1 }] }),
            "/lines/0/variant_id",
        ),
    ] {
        let reply = app
            .client
            .post(host, "/api/v1/reservations", Some(&owner), &body)
            .await
            .unwrap();
        assert_eq!(reply.status, 422, "{body}: {}", reply.text);
        assert!(
            error_fields(&reply).contains(&field.to_owned()),
            "{body}: {}",
            reply.text
        );
    }
    let anonymous = app
        .client
        .post(
            host,
            "/api/v1/reservations",
            None,
            &json!({ "lines": [{ "variant_id": variant, "quantity": 1 }] }),
        )
        .await
        .unwrap();
    assert_eq!(anonymous.status, 404, "{}", anonymous.text);
    let listed = app
        .client
        .get(host, "/api/v1/warehouses", Some(&owner))
        .await
        .unwrap();
    assert_eq!(listed.body["data"], json!([]), "{}", listed.text);
}
on_embedded_and_real!(bad_inventory_input_is_refused);

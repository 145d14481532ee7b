//! Another shop's or another vendor's listings do not exist for the caller: every catalog
//! endpoint answers 404 and changes nothing.

use super::{PNG, catalog_knows, create, eur, move_product, product, send_bytes};
use crate::on_all_backends;
use crate::support::Backend;
use serde_json::{Value, json};

async fn other_shops_and_vendors_get_404_and_change_nothing(backend: Backend, test: &str) {
    let Some(app) = super::spawn(backend, test).await else {
        return;
    };
    let admin = app.admin_token().await;
    let shop = app.shop(&admin, "growth").await;
    let elsewhere = app.shop(&admin, "growth").await;
    let host = shop.host.as_str();
    let (vendor, seller) = app.approved_vendor(&shop, "Alpine Honey").await;
    let (rival, rival_token) = app.approved_vendor(&shop, "Baltic Amber").await;
    let (_, shopper) = app.customer(&shop).await;
    catalog_knows(&app, &shop, &seller, &vendor).await;
    catalog_knows(&app, &shop, &rival_token, &rival).await;

    let created = create(
        &app,
        &shop,
        &seller,
        &product(&vendor, "Forest Honey", &[("HON-1", 900)]),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.str("id");
    let variant = created.body["variants"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let with_image = send_bytes(
        &app,
        host,
        "POST",
        &format!("/api/v1/catalog/products/{id}/media"),
        &seller,
        "image/png",
        PNG.to_vec(),
    )
    .await;
    assert_eq!(with_image.status, 201, "{}", with_image.text);
    let media = with_image.body["media"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let import = send_bytes(
        &app,
        host,
        "POST",
        &format!("/api/v1/catalog/imports?vendor_id={vendor}"),
        &seller,
        "text/csv",
        b"product_slug,title,sku,price,currency\nwild-honey,Wild Honey,HON-2,7.50,EUR\n".to_vec(),
    )
    .await;
    assert_eq!(import.status, 202, "{}", import.text);
    let import_id = import.str("id");

    let product_path = format!("/api/v1/catalog/products/{id}");
    let patch = json!({ "title": "Hijacked" });
    let requests: Vec<(&str, String, Option<Value>)> = vec![
        ("GET", product_path.clone(), None),
        ("PATCH", product_path.clone(), Some(patch.clone())),
        ("DELETE", product_path.clone(), None),
        (
            "POST",
            format!("{product_path}/transitions"),
            Some(json!({ "action": "archive" })),
        ),
        (
            "POST",
            format!("{product_path}/variants"),
            Some(json!({ "sku": "EVIL-1", "price": eur(1) })),
        ),
        (
            "PATCH",
            format!("{product_path}/variants/{variant}"),
            Some(json!({ "price": eur(1) })),
        ),
        ("DELETE", format!("{product_path}/variants/{variant}"), None),
        (
            "PUT",
            format!("{product_path}/media/order"),
            Some(json!({ "media_ids": [media] })),
        ),
        ("DELETE", format!("{product_path}/media/{media}"), None),
        (
            "GET",
            format!("/api/v1/catalog/products?vendor_id={vendor}"),
            None,
        ),
        (
            "POST",
            "/api/v1/catalog/products".to_owned(),
            Some(product(&vendor, "Planted", &[("EVIL-2", 1)])),
        ),
        ("GET", format!("/api/v1/catalog/imports/{import_id}"), None),
        (
            "GET",
            format!("/api/v1/catalog/export?vendor_id={vendor}"),
            None,
        ),
    ];
    // The rival vendor and a plain shopper of the same shop: not theirs, so not there.
    for token in [&rival_token, &shopper] {
        for (method, path, body) in &requests {
            let reply = app
                .client
                .send(method, host, path, Some(token), body.as_ref())
                .await
                .unwrap();
            assert_eq!(reply.status, 404, "{method} {path}: {}", reply.text);
        }
        let upload = send_bytes(
            &app,
            host,
            "POST",
            &format!("{product_path}/media"),
            token,
            "image/png",
            PNG.to_vec(),
        )
        .await;
        assert_eq!(upload.status, 404, "{}", upload.text);
        let csv = send_bytes(
            &app,
            host,
            "POST",
            &format!("/api/v1/catalog/imports?vendor_id={vendor}"),
            token,
            "text/csv",
            b"product_slug,title,sku,price,currency\nx-y,X,EVIL-3,1.00,EUR\n".to_vec(),
        )
        .await;
        assert_eq!(csv.status, 404, "{}", csv.text);
    }
    // The other shop's owner, on the other shop: shop A's ids name nothing there.
    for (method, path, body) in &requests {
        let reply = app
            .client
            .send(
                method,
                &elsewhere.host,
                path,
                Some(&elsewhere.owner),
                body.as_ref(),
            )
            .await
            .unwrap();
        assert_eq!(
            reply.status, 404,
            "{method} {path} on the other shop: {}",
            reply.text
        );
    }
    // The other shop's token on this shop's domain is no token here.
    let foreign = app
        .client
        .patch(host, &product_path, Some(&elsewhere.owner), &patch)
        .await
        .unwrap();
    assert_eq!(foreign.status, 401, "{}", foreign.text);
    // Anonymous callers are asked to sign in; the merchant-wide export is the merchant's.
    let anonymous = app
        .client
        .patch(host, &product_path, None, &patch)
        .await
        .unwrap();
    assert_eq!(anonymous.status, 401, "{}", anonymous.text);
    let all = app
        .client
        .get(host, "/api/v1/catalog/export", Some(&seller))
        .await
        .unwrap();
    assert_eq!(all.status, 403, "{}", all.text);

    // Nothing changed, and the vendor still manages it.
    let mine = app
        .client
        .get(host, &product_path, Some(&seller))
        .await
        .unwrap();
    assert_eq!(mine.status, 200, "{}", mine.text);
    assert_eq!(mine.str("title"), "Forest Honey");
    assert_eq!(mine.str("status"), "draft");
    assert_eq!(mine.body["variants"].as_array().unwrap().len(), 1);
    assert_eq!(mine.body["variants"][0]["price"], eur(900));
    assert_eq!(mine.body["media"].as_array().unwrap().len(), 1);
    let theirs = app
        .client
        .get(
            host,
            &format!("/api/v1/catalog/products?vendor_id={rival}"),
            Some(&rival_token),
        )
        .await
        .unwrap();
    assert_eq!(
        theirs.body["data"].as_array().unwrap().len(),
        0,
        "{}",
        theirs.text
    );
    // The merchant sees and may change every vendor's listing.
    let merchant = move_product(&app, &shop, &shop.owner, &id, "publish", None).await;
    assert_eq!(merchant.str("status"), "active", "{}", merchant.text);
}
on_all_backends!(other_shops_and_vendors_get_404_and_change_nothing);

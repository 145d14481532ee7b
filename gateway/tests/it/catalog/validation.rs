//! Bad input gets a clear problem naming the field, and changes nothing: prices (negative,
//! fractional, unknown or mixed currencies), slugs, SKUs, options, attributes, duplicates,
//! category cycles.

use super::{catalog_knows, create, eur, fields, move_product, product, slugs};
use crate::on_embedded_and_real;
use crate::support::Backend;
use serde_json::{Value, json};

async fn bad_prices_and_products_get_field_errors(backend: Backend, test: &str) {
    let Some(app) = super::spawn(backend, test).await else {
        return;
    };
    let admin = app.admin_token().await;
    let shop = app.shop(&admin, "growth").await;
    let host = shop.host.as_str();
    let (vendor, seller) = app.approved_vendor(&shop, "Baltic Amber").await;
    catalog_knows(&app, &shop, &seller, &vendor).await;
    app.client
        .post(
            host,
            "/api/v1/attributes",
            Some(&shop.owner),
            &json!({ "code": "colour", "name": "Colour", "kind": "enum", "options": ["amber"] }),
        )
        .await
        .unwrap();

    let variant = |sku: &str, price: Value| json!({ "sku": sku, "price": price });
    let cases: Vec<(Value, u16, Vec<&str>)> = vec![
        (
            json!({ "vendor_id": vendor, "title": "Ring", "variants": [variant("R-1", eur(-100))] }),
            422,
            vec!["/variants/0/price/amount"],
        ),
        (
            json!({ "vendor_id": vendor, "title": "Ring", "variants": [variant("R-1", json!({ "amount": 100, "currency": "XYZ" }))] }),
            422,
            vec!["/variants/0/price/currency"],
        ),
        (
            json!({ "vendor_id": vendor, "title": "Ring", "variants": [variant("R-1", json!({ "amount": 19.99, "currency": "EUR" }))] }),
            422,
            vec!["/variants/0/price/amount"],
        ),
        (
            json!({ "vendor_id": vendor, "title": "Ring", "variants": [variant("R-1", eur(100)), variant("R-2", json!({ "amount": 100, "currency": "USD" }))] }),
            422,
            vec!["/variants/1/price/currency"],
        ),
        (
            json!({ "vendor_id": vendor, "title": "Ring", "variants": [{ "sku": "R-1", "price": eur(100), "compare_at_price": eur(90) }] }),
            422,
            vec!["/variants/0/compare_at_price"],
        ),
        (
            json!({ "vendor_id": vendor, "title": "", "slug": "Not A Slug", "tags": ["a|b"], "variants": [variant("bad sku", eur(1))] }),
            422,
            vec!["/title", "/slug", "/tags", "/variants/0/sku"],
        ),
        (
            json!({ "vendor_id": vendor, "title": "Ring", "option_types": ["size"], "variants": [{ "sku": "R-1", "price": eur(1), "options": { "colour": "x" } }] }),
            422,
            vec!["/variants/0/options/size"],
        ),
        (
            json!({ "vendor_id": vendor, "title": "Ring", "attributes": { "colour": "blue", "weight": 3 } }),
            422,
            vec!["/attributes/colour", "/attributes/weight"],
        ),
    ];
    for (body, status, expected) in cases {
        let reply = create(&app, &shop, &seller, &body).await;
        assert_eq!(reply.status, status, "{body}: {}", reply.text);
        assert_eq!(fields(&reply), expected, "{body}: {}", reply.text);
    }

    // Duplicates are conflicts; nothing half-made stays behind.
    let first = create(
        &app,
        &shop,
        &seller,
        &product(&vendor, "Amber Ring", &[("AR-1", 4900)]),
    )
    .await;
    assert_eq!(first.status, 201, "{}", first.text);
    let same_slug = create(
        &app,
        &shop,
        &seller,
        &product(&vendor, "Amber Ring", &[("AR-2", 4900)]),
    )
    .await;
    assert_eq!(
        (same_slug.status, same_slug.str("code").as_str()),
        (409, "slug_taken"),
        "{}",
        same_slug.text
    );
    let same_sku = create(
        &app,
        &shop,
        &seller,
        &product(&vendor, "Amber Earrings", &[("AR-1", 4900)]),
    )
    .await;
    assert_eq!(
        (same_sku.status, same_sku.str("code").as_str()),
        (409, "sku_taken"),
        "{}",
        same_sku.text
    );
    let mine = app
        .client
        .get(
            host,
            &format!("/api/v1/catalog/products?vendor_id={vendor}"),
            Some(&seller),
        )
        .await
        .unwrap();
    assert_eq!(slugs(&mine.body), ["amber-ring"], "{}", mine.text);

    // A variant of another currency, or a negative price, on an existing product.
    let id = first.str("id");
    let variants = format!("/api/v1/catalog/products/{id}/variants");
    let usd = app
        .client
        .post(
            host,
            &variants,
            Some(&seller),
            &variant("AR-3", json!({ "amount": 100, "currency": "USD" })),
        )
        .await
        .unwrap();
    assert_eq!(
        (usd.status, fields(&usd)),
        (422, vec!["/price/currency".to_owned()]),
        "{}",
        usd.text
    );
    let variant_id = first.body["variants"][0]["id"].as_str().unwrap().to_owned();
    let negative = app
        .client
        .patch(
            host,
            &format!("{variants}/{variant_id}"),
            Some(&seller),
            &json!({ "price": eur(-1) }),
        )
        .await
        .unwrap();
    assert_eq!(
        (negative.status, fields(&negative)),
        (422, vec!["/price/amount".to_owned()]),
        "{}",
        negative.text
    );
    let repriced = app
        .client
        .patch(
            host,
            &format!("{variants}/{variant_id}"),
            Some(&seller),
            &json!({ "price": eur(3900) }),
        )
        .await
        .unwrap();
    assert_eq!(repriced.status, 200, "{}", repriced.text);
    assert_eq!(repriced.body["variants"][0]["price"], eur(3900));
    // Publishing needs a variant; the last one of a published product stays.
    let empty = create(&app, &shop, &seller, &product(&vendor, "Nothing Yet", &[])).await;
    let refused = move_product(&app, &shop, &seller, &empty.str("id"), "publish", None).await;
    assert_eq!(
        (refused.status, refused.str("code").as_str()),
        (409, "no_variants"),
        "{}",
        refused.text
    );
    move_product(&app, &shop, &seller, &id, "publish", None).await;
    let last = app
        .client
        .delete(host, &format!("{variants}/{variant_id}"), Some(&seller))
        .await
        .unwrap();
    assert_eq!(
        (last.status, last.str("code").as_str()),
        (409, "last_variant"),
        "{}",
        last.text
    );

    // The category tree refuses cycles and keeps non-empty categories.
    let owner = shop.owner.as_str();
    let parent = app
        .client
        .post(
            host,
            "/api/v1/categories",
            Some(owner),
            &json!({ "name": "Jewellery" }),
        )
        .await
        .unwrap();
    let child = app
        .client
        .post(
            host,
            "/api/v1/categories",
            Some(owner),
            &json!({ "name": "Rings", "parent_id": parent.str("id") }),
        )
        .await
        .unwrap();
    let cycle = app
        .client
        .patch(
            host,
            &format!("/api/v1/categories/{}", parent.str("id")),
            Some(owner),
            &json!({ "parent_id": child.str("id") }),
        )
        .await
        .unwrap();
    assert_eq!(
        (cycle.status, fields(&cycle)),
        (422, vec!["/parent_id".to_owned()]),
        "{}",
        cycle.text
    );
    let busy = app
        .client
        .delete(
            host,
            &format!("/api/v1/categories/{}", parent.str("id")),
            Some(owner),
        )
        .await
        .unwrap();
    assert_eq!(
        (busy.status, busy.str("code").as_str()),
        (409, "category_not_empty"),
        "{}",
        busy.text
    );
    let vendor_category = app
        .client
        .post(
            host,
            "/api/v1/categories",
            Some(&seller),
            &json!({ "name": "Mine" }),
        )
        .await
        .unwrap();
    assert_eq!(vendor_category.status, 403, "{}", vendor_category.text);
}
on_embedded_and_real!(bad_prices_and_products_get_field_errors);

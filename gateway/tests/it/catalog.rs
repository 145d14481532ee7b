//! Catalog end to end: an approved vendor lists a product with variants and an image, it
//! goes on sale on its shop's domain (and not on another shop's), shoppers filter and sort
//! the list, a suspended vendor's products vanish; moderation, and review again after a
//! vendor's edit; bad input; attacks; CSV.

mod attacks;
mod imports;
mod moderation;
mod review;
mod stock;
mod validation;

use crate::on_embedded_and_real;
use crate::support::{Backend, Shop, TestApp};
use mercato_testkit::Reply;
use serde_json::{Value, json};

/// The platform for a catalog scenario. Rate limits are off: the scenarios poll and make
/// many requests in a burst, which is not what they test.
pub async fn spawn(backend: Backend, test: &str) -> Option<TestApp> {
    TestApp::spawn_with(backend, test, |config| {
        config.gateway.enforce_rate_limits = false;
    })
    .await
}

/// A 1×1 PNG.
pub const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82";

pub fn fields(reply: &Reply) -> Vec<String> {
    reply.body["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e["field"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

pub fn slugs(list: &Value) -> Vec<String> {
    list["data"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v["slug"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

pub fn eur(amount: i64) -> Value {
    json!({ "amount": amount, "currency": "EUR" })
}

/// A product of `vendor` with one variant per (sku, price in cents).
pub fn product(vendor: &str, title: &str, variants: &[(&str, i64)]) -> Value {
    json!({
        "vendor_id": vendor,
        "title": title,
        "variants": variants
            .iter()
            .map(|(sku, price)| json!({ "sku": sku, "price": eur(*price) }))
            .collect::<Vec<_>>(),
    })
}

pub async fn create(app: &TestApp, shop: &Shop, token: &str, body: &Value) -> Reply {
    app.client
        .post(&shop.host, "/api/v1/catalog/products", Some(token), body)
        .await
        .unwrap()
}

pub async fn move_product(
    app: &TestApp,
    shop: &Shop,
    token: &str,
    id: &str,
    action: &str,
    reason: Option<&str>,
) -> Reply {
    let mut body = json!({ "action": action });
    if let Some(reason) = reason {
        body["reason"] = json!(reason);
    }
    app.client
        .post(
            &shop.host,
            &format!("/api/v1/catalog/products/{id}/transitions"),
            Some(token),
            &body,
        )
        .await
        .unwrap()
}

/// The slugs of the public list on `host` with `query`.
pub async fn listed(app: &TestApp, host: &str, query: &str) -> Vec<String> {
    let reply = app
        .client
        .get(host, &format!("/api/v1/products?{query}"), None)
        .await
        .unwrap();
    assert_eq!(reply.status, 200, "{query}: {}", reply.text);
    slugs(&reply.body)
}

/// Waits until every event so far is handled (the barrier), then checks that the catalog
/// knows the vendor (its `vendor.*` events arrived): its staff may list.
pub async fn catalog_knows(app: &TestApp, shop: &Shop, token: &str, vendor: &str) {
    app.settle().await;
    let reply = app
        .client
        .get(
            &shop.host,
            &format!("/api/v1/catalog/products?vendor_id={vendor}"),
            Some(token),
        )
        .await
        .unwrap();
    assert_eq!(reply.status, 200, "{}", reply.text);
}

pub async fn send_bytes(
    app: &TestApp,
    host: &str,
    method: &str,
    path: &str,
    token: &str,
    content_type: &str,
    bytes: Vec<u8>,
) -> Reply {
    let auth = format!("Bearer {token}");
    app.client
        .send_raw(
            method,
            host,
            path,
            &[
                ("authorization", auth.as_str()),
                ("content-type", content_type),
            ],
            bytes,
        )
        .await
        .unwrap()
}

/// Fetches a media link: a gateway path (local storage) or a presigned S3 URL.
async fn fetch(app: &TestApp, host: &str, url: &str) -> (u16, Vec<u8>, String) {
    if url.starts_with("http") {
        let response = reqwest::get(url).await.unwrap();
        let status = response.status().as_u16();
        let kind = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        (status, response.bytes().await.unwrap().to_vec(), kind)
    } else {
        let reply = app
            .client
            .send_raw("GET", host, url, &[], Vec::new())
            .await
            .unwrap();
        let kind = reply.content_type();
        (reply.status, reply.text.into_bytes(), kind)
    }
}

async fn a_vendor_lists_a_product_and_shoppers_find_it(backend: Backend, test: &str) {
    let Some(app) = spawn(backend, test).await else {
        return;
    };
    let admin = app.admin_token().await;
    let shop = app.shop(&admin, "growth").await;
    let other = app.shop(&admin, "growth").await;
    let host = shop.host.as_str();
    let owner = shop.owner.as_str();

    // The merchant shapes the catalog: a category tree and two attributes.
    let drinks = app
        .client
        .post(
            host,
            "/api/v1/categories",
            Some(owner),
            &json!({ "name": "Drinks" }),
        )
        .await
        .unwrap();
    assert_eq!(drinks.status, 201, "{}", drinks.text);
    let tea = app
        .client
        .post(
            host,
            "/api/v1/categories",
            Some(owner),
            &json!({ "name": "Tea", "parent_id": drinks.str("id") }),
        )
        .await
        .unwrap();
    assert_eq!(tea.status, 201, "{}", tea.text);
    assert_eq!(tea.body["path"], json!([drinks.str("id"), tea.str("id")]));
    for body in [
        json!({ "code": "colour", "name": "Colour", "kind": "enum", "options": ["green", "black"] }),
        json!({ "code": "organic", "name": "Organic", "kind": "boolean" }),
    ] {
        let made = app
            .client
            .post(host, "/api/v1/attributes", Some(owner), &body)
            .await
            .unwrap();
        assert_eq!(made.status, 201, "{}", made.text);
    }

    // An approved vendor lists a product with two variants.
    let (vendor, seller) = app.approved_vendor(&shop, "Nordic Tea").await;
    catalog_knows(&app, &shop, &seller, &vendor).await;
    let mut body = product(&vendor, "Sencha Green Tea", &[]);
    body["category_id"] = json!(tea.str("id"));
    body["tags"] = json!(["green", "japan"]);
    body["option_types"] = json!(["size"]);
    body["attributes"] = json!({ "colour": "green", "organic": true });
    body["seo"] = json!({ "description": "Steamed green tea from Shizuoka" });
    body["variants"] = json!([
        { "sku": "SEN-50", "options": { "size": "50 g" }, "price": eur(650), "weight_grams": 60,
          "dimensions_mm": { "length": 100, "width": 60, "height": 30 }, "barcode": "4006381333931" },
        { "sku": "SEN-100", "options": { "size": "100 g" }, "price": eur(1150), "compare_at_price": eur(1300) },
    ]);
    let created = create(&app, &shop, &seller, &body).await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.str("status"), "draft");
    assert_eq!(created.str("slug"), "sencha-green-tea");
    assert_eq!(created.body["visible"], false);
    assert_eq!(created.body["variants"][0]["available"], 0);
    assert_eq!(created.body["category_path"][0]["slug"], "drinks");
    let id = created.str("id");
    assert!(id.starts_with("prd_"), "{id}");

    // An image, recognised by its bytes; a text file named .png is not one.
    let media_path = format!("/api/v1/catalog/products/{id}/media");
    let fake = send_bytes(
        &app,
        host,
        "POST",
        &format!("{media_path}?name=cover.png"),
        &seller,
        "image/png",
        b"just some text, honestly".to_vec(),
    )
    .await;
    assert_eq!(fake.status, 415, "{}", fake.text);
    let uploaded = send_bytes(
        &app,
        host,
        "POST",
        &media_path,
        &seller,
        "application/octet-stream",
        PNG.to_vec(),
    )
    .await;
    assert_eq!(uploaded.status, 201, "{}", uploaded.text);
    let url = uploaded.body["media"][0]["url"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, bytes, kind) = fetch(&app, host, &url).await;
    assert_eq!((status, kind.as_str()), (200, "image/png"), "{url}");
    if url.starts_with("http") {
        assert_eq!(bytes, PNG);
    }

    // Not on sale until published.
    assert!(listed(&app, host, "").await.is_empty());
    let hidden = app
        .client
        .get(host, "/api/v1/products/sencha-green-tea", None)
        .await
        .unwrap();
    assert_eq!(hidden.status, 404);
    let published = move_product(&app, &shop, &seller, &id, "publish", None).await;
    assert_eq!(published.status, 200, "{}", published.text);
    assert_eq!(published.str("status"), "active");

    // On sale on its shop's domain, with what a shopper needs.
    app.settle().await;
    let on_sale = listed(&app, host, "").await;
    assert_eq!(on_sale, ["sencha-green-tea"], "the product on sale");
    let list = app
        .client
        .get(host, "/api/v1/products", None)
        .await
        .unwrap();
    let item = &list.body["data"][0];
    assert_eq!(item["id"], id.as_str());
    assert_eq!(item["vendor_id"], vendor.as_str());
    assert_eq!(item["vendor_name"], "Nordic Tea");
    assert_eq!(item["variants"][0]["sku"], "SEN-50");
    assert_eq!(item["variants"][0]["price"], eur(650));
    assert_eq!(item["variants"][0]["available"], 0);
    assert_eq!(item["price_from"], eur(650));
    assert!(item["image_url"].is_string(), "{}", list.text);
    assert!(list.body["next_cursor"].is_null());
    let page = app
        .client
        .get(host, "/api/v1/products/sencha-green-tea", None)
        .await
        .unwrap();
    assert_eq!(page.status, 200, "{}", page.text);
    assert_eq!(page.body["variants"].as_array().unwrap().len(), 2);
    assert_eq!(page.body["variants"][1]["compare_at_price"], eur(1300));
    assert_eq!(page.body["variants"][0]["dimensions_mm"]["length"], 100);
    assert_eq!(page.body["seo"]["title"], "Sencha Green Tea");
    assert_eq!(page.body["seo"]["canonical_slug"], "sencha-green-tea");
    assert_eq!(
        page.body["seo"]["description"],
        "Steamed green tea from Shizuoka"
    );
    assert_eq!(page.body["media"][0]["content_type"], "image/png");
    let attributes: Vec<(String, Value)> = page.body["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["code"].as_str().unwrap().to_owned(), a["value"].clone()))
        .collect();
    assert_eq!(
        attributes,
        vec![
            ("colour".into(), json!("green")),
            ("organic".into(), json!(true))
        ]
    );

    // A second product to filter and sort against.
    let cheap = create(
        &app,
        &shop,
        &seller,
        &product(&vendor, "Rooibos", &[("ROO-1", 300)]),
    )
    .await;
    assert_eq!(cheap.status, 201, "{}", cheap.text);
    let cheap_id = cheap.str("id");
    move_product(&app, &shop, &seller, &cheap_id, "publish", None).await;
    let both = ["rooibos", "sencha-green-tea"];
    let sencha = ["sencha-green-tea"];
    let none: [&str; 0] = [];
    app.settle().await;
    for (query, expected) in [
        ("", &both[..]),
        ("sort=price_asc", &["rooibos", "sencha-green-tea"][..]),
        ("sort=price_desc", &["sencha-green-tea", "rooibos"][..]),
        ("sort=title", &["rooibos", "sencha-green-tea"][..]),
        ("category=drinks", &sencha[..]),
        (&format!("category={}", tea.str("id")), &sencha[..]),
        ("min_price=500", &sencha[..]),
        ("max_price=400", &["rooibos"][..]),
        ("min_price=700&max_price=1100", &none[..]),
        ("attr.colour=green", &sencha[..]),
        ("attr.colour=black", &none[..]),
        ("attr.colour=black&attr.colour=green", &sencha[..]),
        ("attr.organic=true", &sencha[..]),
        (&format!("vendor_id={vendor}"), &both[..]),
        ("in_stock=true", &none[..]),
    ] {
        let got = listed(&app, host, query).await;
        assert_eq!(
            got.len(),
            expected.len(),
            "the filtered list {query}: {got:?}"
        );
        if query.is_empty() {
            assert_eq!(got.len(), 2);
        } else {
            assert_eq!(got, expected, "{query}");
        }
    }
    // Pages of one, by cursor.
    let first = app
        .client
        .get(host, "/api/v1/products?sort=price_asc&limit=1", None)
        .await
        .unwrap();
    assert_eq!(slugs(&first.body), ["rooibos"]);
    let cursor = first.str("next_cursor");
    assert!(!cursor.is_empty(), "{}", first.text);
    let second = app
        .client
        .get(
            host,
            &format!("/api/v1/products?sort=price_asc&limit=1&cursor={cursor}"),
            None,
        )
        .await
        .unwrap();
    assert_eq!(slugs(&second.body), ["sencha-green-tea"]);
    assert!(second.body["next_cursor"].is_null());
    for bad in [
        "sort=cheapest",
        "min_price=-1",
        "attr.flavour=x",
        "category=nope",
        "color=red",
    ] {
        let reply = app
            .client
            .get(host, &format!("/api/v1/products?{bad}"), None)
            .await
            .unwrap();
        assert_eq!(reply.status, 422, "{bad}: {}", reply.text);
    }

    // Not on another shop.
    assert!(listed(&app, &other.host, "").await.is_empty());
    let elsewhere = app
        .client
        .get(&other.host, "/api/v1/products/sencha-green-tea", None)
        .await
        .unwrap();
    assert_eq!(elsewhere.status, 404);

    // A suspended vendor's products vanish from listings and pages; reinstated, they return.
    let vendor_path = format!("/api/v1/vendors/{vendor}/transitions");
    let suspended = app
        .client
        .post(
            host,
            &vendor_path,
            Some(owner),
            &json!({ "action": "suspend", "reason": "counterfeit complaints" }),
        )
        .await
        .unwrap();
    assert_eq!(suspended.status, 200, "{}", suspended.text);
    app.settle().await;
    let left = listed(&app, host, "").await;
    assert!(left.is_empty(), "the products to vanish: {left:?}");
    let gone = app
        .client
        .get(host, "/api/v1/products/sencha-green-tea", None)
        .await
        .unwrap();
    assert_eq!(gone.status, 404);
    // A suspended vendor cannot change its listings meanwhile.
    let frozen = app
        .client
        .patch(
            host,
            &format!("/api/v1/catalog/products/{id}"),
            Some(&seller),
            &json!({ "title": "Sneaky" }),
        )
        .await
        .unwrap();
    assert_eq!(frozen.status, 409, "{}", frozen.text);
    let reinstated = app
        .client
        .post(
            host,
            &vendor_path,
            Some(owner),
            &json!({ "action": "reinstate" }),
        )
        .await
        .unwrap();
    assert_eq!(reinstated.status, 200, "{}", reinstated.text);
    app.settle().await;
    let returned = listed(&app, host, "").await;
    assert_eq!(returned.len(), 2, "the products to return: {returned:?}");

    // Archiving takes one off sale; deleting removes it for good.
    let archived = move_product(&app, &shop, &seller, &cheap_id, "archive", None).await;
    assert_eq!(archived.str("status"), "archived");
    assert_eq!(listed(&app, host, "").await, ["sencha-green-tea"]);
    let deleted = app
        .client
        .delete(
            host,
            &format!("/api/v1/catalog/products/{cheap_id}"),
            Some(&seller),
        )
        .await
        .unwrap();
    assert_eq!(deleted.status, 204, "{}", deleted.text);
    let after = app
        .client
        .get(
            host,
            &format!("/api/v1/catalog/products/{cheap_id}"),
            Some(&seller),
        )
        .await
        .unwrap();
    assert_eq!(after.status, 404);
}
on_embedded_and_real!(a_vendor_lists_a_product_and_shoppers_find_it);

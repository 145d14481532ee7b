//! Product search end to end on a shop's domain: the index follows the catalog (published,
//! suspended, archived, stocked) within seconds; one shop never finds another's products;
//! typos, filters, facets, sorting, pages, suggestions; bad parameters are 422s.

use crate::catalog::{catalog_knows, create, eur, fields, move_product, product, spawn};
use crate::on_embedded_and_real;
use crate::support::{Backend, Shop, TestApp, eventually};
use mercato_testkit::Reply;
use serde_json::{Value, json};

/// A search that must succeed.
async fn search(app: &TestApp, host: &str, query: &str) -> Reply {
    let reply = search_any(app, host, query).await;
    assert_eq!(reply.status, 200, "{query}: {}", reply.text);
    reply
}

/// A search whose status the caller checks (bad parameters).
async fn search_any(app: &TestApp, host: &str, query: &str) -> Reply {
    app.client
        .get(host, &format!("/api/v1/search?{query}"), None)
        .await
        .unwrap()
}

fn slugs(reply: &Reply) -> Vec<String> {
    crate::catalog::slugs(&reply.body)
}

/// Waits until the search for `query` on `host` finds exactly `expected` (in order).
async fn found(app: &TestApp, host: &str, query: &str, expected: &[&str]) -> Reply {
    eventually(
        "the search index",
        || async { search(app, host, query).await },
        // The index's own count too: hits are checked against the catalog on the way out.
        |reply| {
            reply.status == 200 && slugs(reply) == expected && reply.body["total"] == expected.len()
        },
    )
    .await
}

/// Creates and publishes a product; returns its id.
async fn listed_product(app: &TestApp, shop: &Shop, seller: &str, body: &Value) -> String {
    let created = create(app, shop, seller, body).await;
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.str("id");
    let published = move_product(app, shop, seller, &id, "publish", None).await;
    assert_eq!(published.status, 200, "{}", published.text);
    id
}

fn count_of(list: &Value, key: &str, value: &str) -> Value {
    list.as_array()
        .and_then(|a| a.iter().find(|f| f[key] == value))
        .map(|f| f["count"].clone())
        .unwrap_or(Value::Null)
}

async fn shoppers_search_their_shop_only(backend: Backend, test: &str) {
    let Some(app) = spawn(backend, test).await else {
        return;
    };
    let admin = app.admin_token().await;
    let shop = app.shop(&admin, "growth").await;
    let other = app.shop(&admin, "growth").await;
    let host = shop.host.as_str();
    let owner = shop.owner.as_str();

    // The merchant's category tree (drinks › tea) and a colour attribute.
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
    let colour = app
        .client
        .post(
            host,
            "/api/v1/attributes",
            Some(owner),
            &json!({ "code": "colour", "name": "Colour", "kind": "enum", "options": ["green", "red"] }),
        )
        .await
        .unwrap();
    assert_eq!(colour.status, 201, "{}", colour.text);

    // Two vendors list three products.
    let (nordic, nordic_seller) = app.approved_vendor(&shop, "Nordic Tea").await;
    let (kyoto, kyoto_seller) = app.approved_vendor(&shop, "Kyoto Leaf").await;
    catalog_knows(&app, &shop, &nordic_seller, &nordic).await;
    catalog_knows(&app, &shop, &kyoto_seller, &kyoto).await;
    let mut sencha = product(&nordic, "Sencha Green Tea", &[]);
    sencha["option_types"] = json!(["size"]);
    sencha["variants"] = json!([
        { "sku": "SEN-50", "options": { "size": "50 g" }, "price": eur(650) },
        { "sku": "SEN-100", "options": { "size": "100 g" }, "price": eur(1150) },
    ]);
    sencha["category_id"] = json!(tea.str("id"));
    sencha["attributes"] = json!({ "colour": "green" });
    sencha["description"] = json!("Steamed leaves from Shizuoka.");
    let sencha_id = listed_product(&app, &shop, &nordic_seller, &sencha).await;
    let mut rooibos = product(&nordic, "Rooibos Red Tea", &[("ROO-1", 300)]);
    rooibos["attributes"] = json!({ "colour": "red" });
    listed_product(&app, &shop, &nordic_seller, &rooibos).await;
    let mut matcha = product(&kyoto, "Matcha Green Tea Powder", &[("MAT-1", 2400)]);
    matcha["attributes"] = json!({ "colour": "green" });
    let matcha_id = listed_product(&app, &shop, &kyoto_seller, &matcha).await;

    // The other shop sells a product with the same words.
    let (elsewhere, elsewhere_seller) = app.approved_vendor(&other, "Nordic Tea").await;
    catalog_knows(&app, &other, &elsewhere_seller, &elsewhere).await;
    let theirs = listed_product(
        &app,
        &other,
        &elsewhere_seller,
        &product(&elsewhere, "Sencha Green Tea", &[("SEN-50", 650)]),
    )
    .await;

    // Words, best match first; every word must match.
    let green = found(
        &app,
        host,
        "q=green+tea&sort=price_asc",
        &["sencha-green-tea", "matcha-green-tea-powder"],
    )
    .await;
    let hit = &green.body["data"][0];
    assert_eq!(hit["id"], sencha_id.as_str());
    assert_eq!(hit["title"], "Sencha Green Tea");
    assert_eq!(hit["vendor_id"], nordic.as_str());
    assert_eq!(hit["vendor_name"], "Nordic Tea");
    assert_eq!(hit["price_from"], eur(650));
    assert_eq!(hit["in_stock"], false);
    // Each shop finds only its own products.
    let mine = found(&app, host, "q=sencha", &["sencha-green-tea"]).await;
    assert_eq!(mine.body["data"][0]["id"], sencha_id.as_str());
    let there = found(&app, &other.host, "q=sencha", &["sencha-green-tea"]).await;
    assert_eq!(there.body["data"][0]["id"], theirs.as_str());
    let there = search(&app, &other.host, "q=matcha").await;
    assert_eq!(there.body["total"], 0, "{}", there.text);
    assert_eq!(
        there.body["facets"]["vendors"].as_array().map(Vec::len),
        Some(0)
    );
    // Typos are forgiven; the word being typed matches as a prefix; description words count.
    found(&app, host, "q=sencga", &["sencha-green-tea"]).await;
    found(&app, host, "q=matc", &["matcha-green-tea-powder"]).await;
    found(&app, host, "q=shizuoka", &["sencha-green-tea"]).await;
    found(&app, host, "q=kyoto", &["matcha-green-tea-powder"]).await;

    // Facets count every match, with names from the catalog.
    let all = found(
        &app,
        host,
        "sort=price_asc",
        &[
            "rooibos-red-tea",
            "sencha-green-tea",
            "matcha-green-tea-powder",
        ],
    )
    .await;
    let facets = &all.body["facets"];
    assert_eq!(
        count_of(&facets["vendors"], "name", "Nordic Tea"),
        2,
        "{facets}"
    );
    assert_eq!(
        count_of(&facets["vendors"], "name", "Kyoto Leaf"),
        1,
        "{facets}"
    );
    assert_eq!(
        count_of(&facets["categories"], "slug", "drinks"),
        1,
        "{facets}"
    );
    assert_eq!(
        count_of(&facets["categories"], "name", "Tea"),
        1,
        "{facets}"
    );
    assert_eq!(
        count_of(&facets["attributes"]["colour"], "value", "green"),
        2,
        "{facets}"
    );
    assert_eq!(
        count_of(&facets["attributes"]["colour"], "value", "red"),
        1,
        "{facets}"
    );
    assert_eq!(
        facets["in_stock"],
        json!({ "in_stock": 0, "out_of_stock": 3 })
    );
    let buckets = facets["price"].as_array().unwrap();
    let below_ten = buckets.iter().find(|b| b["to"] == 1000).unwrap();
    assert_eq!(below_ten["count"], 2, "{facets}");
    let ten_to_25 = buckets.iter().find(|b| b["from"] == 1000).unwrap();
    assert_eq!(ten_to_25["count"], 1, "{facets}");

    // Filters narrow; sorting orders.
    let drinks_id = drinks.str("id");
    for (query, expected) in [
        ("category=drinks".to_owned(), &["sencha-green-tea"][..]),
        (
            format!("category={drinks_id}&q=tea"),
            &["sencha-green-tea"][..],
        ),
        (
            format!("vendor_id={kyoto}"),
            &["matcha-green-tea-powder"][..],
        ),
        ("max_price=400".to_owned(), &["rooibos-red-tea"][..]),
        (
            "min_price=1000&sort=price_desc".to_owned(),
            &["matcha-green-tea-powder", "sencha-green-tea"][..],
        ),
        ("attr.colour=red".to_owned(), &["rooibos-red-tea"][..]),
        (
            "attr.colour=green&sort=price_asc".to_owned(),
            &["sencha-green-tea", "matcha-green-tea-powder"][..],
        ),
        ("in_stock=true".to_owned(), &[][..]),
        (
            "q=tea&sort=price_desc".to_owned(),
            &[
                "matcha-green-tea-powder",
                "sencha-green-tea",
                "rooibos-red-tea",
            ][..],
        ),
    ] {
        let reply = search(&app, host, &query).await;
        assert_eq!(slugs(&reply), expected, "{query}: {}", reply.text);
    }
    let narrowed = search(&app, host, &format!("vendor_id={nordic}")).await;
    assert_eq!(narrowed.body["total"], 2);
    assert_eq!(
        count_of(&narrowed.body["facets"]["vendors"], "name", "Kyoto Leaf"),
        Value::Null
    );

    // Pages by cursor (or offset).
    let first = search(&app, host, "q=tea&sort=price_asc&limit=2").await;
    assert_eq!(slugs(&first), ["rooibos-red-tea", "sencha-green-tea"]);
    assert_eq!(first.body["total"], 3);
    let cursor = first.str("next_cursor");
    let second = search(
        &app,
        host,
        &format!("q=tea&sort=price_asc&limit=2&cursor={cursor}"),
    )
    .await;
    assert_eq!(slugs(&second), ["matcha-green-tea-powder"]);
    assert!(second.body["next_cursor"].is_null(), "{}", second.text);
    let offset = search(&app, host, "q=tea&sort=price_asc&limit=2&offset=2").await;
    assert_eq!(slugs(&offset), ["matcha-green-tea-powder"]);

    // Autocomplete.
    let suggested = app
        .client
        .get(host, "/api/v1/search/suggest?q=sen", None)
        .await
        .unwrap();
    assert_eq!(suggested.status, 200, "{}", suggested.text);
    assert_eq!(suggested.body["data"], json!(["Sencha Green Tea"]));
    let nothing = app
        .client
        .get(&other.host, "/api/v1/search/suggest?q=matc", None)
        .await
        .unwrap();
    assert_eq!(nothing.body["data"], json!([]), "{}", nothing.text);

    // Bad parameters name themselves.
    for (query, field) in [
        ("sort=cheapest", "/sort"),
        ("min_price=-1", "/min_price"),
        ("min_price=500&max_price=100", "/min_price"),
        ("limit=0", "/limit"),
        ("limit=101", "/limit"),
        ("offset=9999", "/offset"),
        ("in_stock=maybe", "/in_stock"),
        ("vendor_id=acme", "/vendor_id"),
        ("category=nope", "/category"),
        ("attr.flavour=x", "/attr.flavour"),
        ("attr.colour=blue", "/attr.colour"),
        ("cursor=zzz", "/cursor"),
        ("colour=red", "/colour"),
    ] {
        let reply = search_any(&app, host, query).await;
        assert_eq!(reply.status, 422, "{query}: {}", reply.text);
        assert_eq!(fields(&reply), [field], "{query}: {}", reply.text);
    }
    let long = format!("/api/v1/search/suggest?q={}", "x".repeat(101));
    let reply = app.client.get(host, &long, None).await.unwrap();
    assert_eq!(
        (reply.status, fields(&reply)),
        (422, vec!["/q".to_owned()]),
        "{}",
        reply.text
    );

    // A full rebuild, by the merchant only, changes nothing a shopper sees.
    let reindex = "/api/v1/catalog/search/reindex";
    let refused = app
        .client
        .post(host, reindex, Some(&nordic_seller), &json!({}))
        .await
        .unwrap();
    assert_eq!(refused.status, 403, "{}", refused.text);
    let anonymous = app
        .client
        .post(host, reindex, None, &json!({}))
        .await
        .unwrap();
    assert_eq!(anonymous.status, 401, "{}", anonymous.text);
    let queued = app
        .client
        .post(host, reindex, Some(owner), &json!({}))
        .await
        .unwrap();
    assert_eq!(queued.status, 202, "{}", queued.text);
    eventually(
        "the rebuild",
        || async { app.client.get(host, reindex, Some(owner)).await.unwrap() },
        |reply| reply.body["status"] == "succeeded",
    )
    .await;
    found(
        &app,
        host,
        "q=green+tea&sort=price_asc",
        &["sencha-green-tea", "matcha-green-tea-powder"],
    )
    .await;
    found(&app, &other.host, "q=sencha", &["sencha-green-tea"]).await;

    // A suspended vendor's products vanish from search and its facets.
    let suspended = app
        .client
        .post(
            host,
            &format!("/api/v1/vendors/{nordic}/transitions"),
            Some(owner),
            &json!({ "action": "suspend", "reason": "counterfeit complaints" }),
        )
        .await
        .unwrap();
    assert_eq!(suspended.status, 200, "{}", suspended.text);
    let left = found(&app, host, "q=tea", &["matcha-green-tea-powder"]).await;
    assert_eq!(
        count_of(&left.body["facets"]["vendors"], "name", "Nordic Tea"),
        Value::Null
    );
    // The other shop's vendor of the same name is untouched.
    found(&app, &other.host, "q=sencha", &["sencha-green-tea"]).await;

    // An archived product vanishes too.
    let archived = move_product(&app, &shop, &kyoto_seller, &matcha_id, "archive", None).await;
    assert_eq!(archived.status, 200, "{}", archived.text);
    found(&app, host, "q=tea", &[]).await;
}
on_embedded_and_real!(shoppers_search_their_shop_only);

async fn stock_flips_the_in_stock_facet(backend: Backend, test: &str) {
    let Some(app) = spawn(backend, test).await else {
        return;
    };
    let admin = app.admin_token().await;
    let shop = app.shop(&admin, "growth").await;
    let host = shop.host.as_str();
    let (vendor, email, seller) = app.approved_vendor_account(&shop, "Stocked Tea").await;
    catalog_knows(&app, &shop, &seller, &vendor).await;
    // Inventory goes by the vendor membership in the token: sign in again once it is there.
    let stocker = app.member_token(host, &email, &vendor).await;
    let created = create(
        &app,
        &shop,
        &seller,
        &product(&vendor, "Stocked Sencha", &[("STK-S", 500)]),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let variant = created.body["variants"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    move_product(&app, &shop, &seller, &created.str("id"), "publish", None).await;
    let sold_out = found(&app, host, "q=sencha", &["stocked-sencha"]).await;
    assert_eq!(
        sold_out.body["facets"]["in_stock"],
        json!({ "in_stock": 0, "out_of_stock": 1 })
    );
    assert!(slugs(&search(&app, host, "in_stock=true").await).is_empty());

    // Inventory knows the vendor and the variant from their events.
    app.settle().await;
    let warehouse = app
        .client
        .post(host, "/api/v1/warehouses", Some(&stocker), &json!({
            "vendor_id": vendor, "name": "Hamburg",
            "address": { "line1": "Speicherstadt 1", "postal_code": "20457", "city": "Hamburg", "country": "DE" }
        }))
        .await
        .unwrap();
    assert_eq!(warehouse.status, 201, "a warehouse: {}", warehouse.text);
    let warehouse = warehouse.str("id");
    let adjust = |delta: i64| {
        let (path, stocker, variant) = (
            format!("/api/v1/warehouses/{warehouse}/adjustments"),
            stocker.clone(),
            variant.clone(),
        );
        let app = &app;
        async move {
            app.settle().await;
            let adjusted = app
                .client
                .post(
                    host,
                    &path,
                    Some(&stocker),
                    &json!({ "variant_id": variant, "delta": delta, "reason": "correction" }),
                )
                .await
                .unwrap();
            assert_eq!(
                adjusted.status, 201,
                "the stock adjustment: {}",
                adjusted.text
            );
        }
    };
    adjust(5).await;
    let stocked = found(&app, host, "q=sencha&in_stock=true", &["stocked-sencha"]).await;
    assert_eq!(
        stocked.body["facets"]["in_stock"],
        json!({ "in_stock": 1, "out_of_stock": 0 })
    );
    assert_eq!(stocked.body["data"][0]["in_stock"], true);
    // Sold out again: back to the other side of the facet.
    adjust(-5).await;
    found(&app, host, "q=sencha&in_stock=false", &["stocked-sencha"]).await;
}
on_embedded_and_real!(stock_flips_the_in_stock_facet);

//! Review after an edit: in a shop that moderates listings, the vendor's staff changing what
//! shoppers see of an approved product send it back to review, off sale (list, page, search,
//! and `product.changed` no longer `visible`, which is how carts learn) until merchant staff
//! approve it again. Merchant staff's edits, edits shoppers do not see, and shops that do not
//! moderate leave it on sale. Other vendors and other shops reach none of it.

use crate::on_every_backend;
use crate::support::{Caller, Reply, Service};
use mercato_tenant_context::{TenantId, VendorId};
use serde_json::{Value, json};

/// A 1×1 PNG.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82";

/// A shop with one approved vendor: its merchant (the moderator) and the vendor's staff.
struct Shop {
    tenant: TenantId,
    merchant: Caller,
    vendor: VendorId,
    staff: Caller,
}

async fn shop(service: &Service, moderated: bool) -> Shop {
    let tenant = TenantId::new();
    let merchant = Caller::merchant(tenant);
    let saved = service
        .json(
            &merchant,
            "PUT",
            "/api/v1/catalog/settings",
            json!({ "require_listing_approval": moderated }),
        )
        .await;
    assert_eq!(saved.status, 200, "{:?}", saved.body);
    let vendor = service.approved_vendor(tenant).await;
    Shop {
        tenant,
        merchant,
        vendor,
        staff: Caller::vendor_staff(tenant, vendor),
    }
}

fn eur(amount: i64) -> Value {
    json!({ "amount": amount, "currency": "EUR" })
}

fn product_path(id: &str) -> String {
    format!("/api/v1/catalog/products/{id}")
}

async fn transition(service: &Service, caller: &Caller, id: &str, body: Value) -> Reply {
    let path = format!("{}/transitions", product_path(id));
    service.json(caller, "POST", &path, body).await
}

async fn approve(service: &Service, shop: &Shop, id: &str) {
    let approved = transition(service, &shop.merchant, id, json!({ "action": "approve" })).await;
    assert_eq!(approved.status, 200, "{:?}", approved.body);
    assert_eq!(approved.str("status"), "active");
}

/// A product of the shop's vendor, published by its staff and (when the shop moderates)
/// approved by the merchant: on sale. Returns the product as its managers see it.
async fn product_on_sale(service: &Service, shop: &Shop, slug: &str, title: &str) -> Reply {
    let created = service
        .json(
            &shop.staff,
            "POST",
            "/api/v1/catalog/products",
            json!({
                "vendor_id": shop.vendor, "slug": slug, "title": title,
                "description": "Hand-thrown stoneware.", "option_types": ["size"],
                "variants": [{
                    "sku": format!("{slug}-1"), "options": { "size": "M" }, "price": eur(4500),
                }],
            }),
        )
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let id = created.str("id");
    let published = transition(service, &shop.staff, &id, json!({ "action": "publish" })).await;
    assert_eq!(published.status, 200, "{:?}", published.body);
    if published.str("status") == "pending_review" {
        approve(service, shop, &id).await;
    }
    let shown = service.get(&shop.merchant, &product_path(&id)).await;
    assert_eq!(shown.str("status"), "active", "{:?}", shown.body);
    shown
}

/// What shoppers find of `slug` in the shop: (in the list, its page's status, found by
/// searching for `words`), once the search index caught up.
async fn shoppers_see(
    service: &Service,
    tenant: TenantId,
    slug: &str,
    words: &str,
) -> (bool, u16, bool) {
    service.settle().await;
    let shopper = Caller::anonymous(tenant);
    let list = service.get(&shopper, "/api/v1/products").await;
    assert_eq!(list.status, 200, "{:?}", list.body);
    let page = service
        .get(&shopper, &format!("/api/v1/products/{slug}"))
        .await;
    let found = service
        .get(&shopper, &format!("/api/v1/search?q={words}"))
        .await;
    assert_eq!(found.status, 200, "{:?}", found.body);
    (
        list.slugs().contains(&slug.to_owned()),
        page.status.as_u16(),
        found.slugs().contains(&slug.to_owned()),
    )
}

const ON_SALE: (bool, u16, bool) = (true, 200, true);
const OFF_SALE: (bool, u16, bool) = (false, 404, false);

/// The last `product.changed` of product `id`: what search, inventory and orders learn.
async fn last_change(service: &Service, tenant: TenantId, id: &str) -> Value {
    service
        .product_changes(tenant)
        .await
        .into_iter()
        .rev()
        .find(|p| p["product_id"] == id)
        .expect("a product.changed of the product")
}

async fn a_vendors_new_title_waits_for_the_merchant(service: Service) {
    let shop = shop(&service, true).await;
    let bowl = product_on_sale(&service, &shop, "tea-bowl", "Tea Bowl").await;
    let id = bowl.str("id");
    assert_eq!(
        shoppers_see(&service, shop.tenant, "tea-bowl", "bowl").await,
        ON_SALE
    );

    // Another vendor of the shop, and another shop's merchant, reach none of it.
    let other_vendor = service.approved_vendor(shop.tenant).await;
    let rival = Caller::vendor_staff(shop.tenant, other_vendor);
    let variant = bowl.body["variants"][0]["id"]
        .as_str()
        .expect("variant id")
        .to_owned();
    let stranger = Caller::merchant(TenantId::new());
    for (who, method, path, body) in [
        (
            &rival,
            "PATCH",
            product_path(&id),
            json!({ "title": "Casino" }),
        ),
        (
            &rival,
            "PATCH",
            format!("{}/variants/{variant}", product_path(&id)),
            json!({ "price": eur(1) }),
        ),
        (
            &stranger,
            "PATCH",
            product_path(&id),
            json!({ "title": "Casino" }),
        ),
        (
            &stranger,
            "POST",
            format!("{}/transitions", product_path(&id)),
            json!({ "action": "reject", "reason": "no" }),
        ),
    ] {
        let refused = service.json(who, method, &path, body).await;
        assert_eq!(refused.status, 404, "{method} {path}: {:?}", refused.body);
    }
    let untouched = service.get(&shop.merchant, &product_path(&id)).await;
    assert_eq!(
        (untouched.str("title"), untouched.str("status")),
        ("Tea Bowl".to_owned(), "active".to_owned())
    );
    assert_eq!(untouched.body["variants"][0]["price"], eur(4500));

    // The vendor swaps the approved listing for another: it waits for the merchant again.
    let swapped = service
        .json(
            &shop.staff,
            "PATCH",
            &product_path(&id),
            json!({ "title": "Casino Bonus" }),
        )
        .await;
    assert_eq!(swapped.status, 200, "{:?}", swapped.body);
    assert_eq!(swapped.str("title"), "Casino Bonus");
    assert_eq!(swapped.str("status"), "pending_review");
    assert_eq!(swapped.body["visible"], false);
    assert_eq!(
        shoppers_see(&service, shop.tenant, "tea-bowl", "bowl").await,
        OFF_SALE
    );
    assert_eq!(
        shoppers_see(&service, shop.tenant, "tea-bowl", "casino").await,
        OFF_SALE
    );
    let told = last_change(&service, shop.tenant, &id).await;
    assert_eq!(
        (&told["status"], &told["visible"], &told["title"]),
        (
            &json!("pending_review"),
            &json!(false),
            &json!("Casino Bonus")
        ),
        "carts and search learn it is off sale"
    );
    let queue = service
        .get(
            &shop.merchant,
            "/api/v1/catalog/products?status=pending_review",
        )
        .await;
    assert_eq!(queue.slugs(), ["tea-bowl"], "{:?}", queue.body);

    // Only this shop's merchant decides.
    let by_vendor = transition(&service, &shop.staff, &id, json!({ "action": "approve" })).await;
    assert_eq!(by_vendor.status, 403, "{:?}", by_vendor.body);
    let elsewhere = transition(&service, &stranger, &id, json!({ "action": "approve" })).await;
    assert_eq!(elsewhere.status, 404, "{:?}", elsewhere.body);
    let not_there = service
        .get(
            &Caller::anonymous(stranger.tenant),
            "/api/v1/products/tea-bowl",
        )
        .await;
    assert_eq!(not_there.status, 404);
    assert_eq!(service.get(&stranger, &product_path(&id)).await.status, 404);

    approve(&service, &shop, &id).await;
    assert_eq!(
        shoppers_see(&service, shop.tenant, "tea-bowl", "casino").await,
        ON_SALE
    );
    let page = service
        .get(&Caller::anonymous(shop.tenant), "/api/v1/products/tea-bowl")
        .await;
    assert_eq!(page.str("title"), "Casino Bonus");
    assert_eq!(
        last_change(&service, shop.tenant, &id).await["visible"],
        true
    );
}

async fn a_vendors_new_price_waits_for_the_merchant(service: Service) {
    let shop = shop(&service, true).await;
    let bowl = product_on_sale(&service, &shop, "tea-bowl", "Tea Bowl").await;
    let id = bowl.str("id");
    let variant = bowl.body["variants"][0]["id"]
        .as_str()
        .expect("variant id")
        .to_owned();
    assert_eq!(
        shoppers_see(&service, shop.tenant, "tea-bowl", "bowl").await,
        ON_SALE
    );

    let repriced = service
        .json(
            &shop.staff,
            "PATCH",
            &format!("{}/variants/{variant}", product_path(&id)),
            json!({ "price": eur(45_000) }),
        )
        .await;
    assert_eq!(repriced.status, 200, "{:?}", repriced.body);
    assert_eq!(repriced.str("status"), "pending_review");
    assert_eq!(repriced.body["variants"][0]["price"], eur(45_000));
    assert_eq!(
        shoppers_see(&service, shop.tenant, "tea-bowl", "bowl").await,
        OFF_SALE
    );
    let told = last_change(&service, shop.tenant, &id).await;
    assert_eq!(told["visible"], false);
    assert_eq!(told["variants"][0]["price"], eur(45_000));

    approve(&service, &shop, &id).await;
    assert_eq!(
        shoppers_see(&service, shop.tenant, "tea-bowl", "bowl").await,
        ON_SALE
    );
    let page = service
        .get(&Caller::anonymous(shop.tenant), "/api/v1/products/tea-bowl")
        .await;
    assert_eq!(page.body["variants"][0]["price"], eur(45_000));
}

/// The status of product `id` after `caller` sends `body` (JSON, or an image) to `path`.
async fn status_after(
    service: &Service,
    shop: &Shop,
    caller: &Caller,
    id: &str,
    (method, path, body): (&str, String, Option<Value>),
) -> String {
    let reply = match body {
        Some(body) => service.json(caller, method, &path, body).await,
        None if method == "POST" => {
            let image = Some(("application/octet-stream", PNG.to_vec()));
            service.send(caller, method, &path, image).await
        }
        None => service.send(caller, method, &path, None).await,
    };
    assert!(
        reply.status.is_success(),
        "{method} {path}: {:?}",
        reply.body
    );
    let shown = service.get(&shop.merchant, &product_path(id)).await;
    assert_eq!(
        reply.str("status"),
        shown.str("status"),
        "{method} {path}: the response says so"
    );
    shown.str("status")
}

async fn edits_shoppers_see_go_back_to_review_others_do_not(service: Service) {
    let shop = shop(&service, true).await;
    let bowl = product_on_sale(&service, &shop, "tea-bowl", "Tea Bowl").await;
    let id = bowl.str("id");
    let first = bowl.body["variants"][0]["id"]
        .as_str()
        .expect("variant id")
        .to_owned();
    let product = product_path(&id);
    let variant = format!("{product}/variants/{first}");
    let media = format!("{product}/media");

    // Each of these shows shoppers something the merchant has not approved.
    let shown: Vec<(&str, String, Option<Value>)> = vec![
        (
            "PATCH",
            product.clone(),
            Some(json!({ "description": "Buy it elsewhere." })),
        ),
        (
            "PATCH",
            product.clone(),
            Some(json!({ "slug": "cheap-bowl" })),
        ),
        (
            "PATCH",
            product.clone(),
            Some(json!({ "tags": ["outlet"] })),
        ),
        (
            "PATCH",
            product.clone(),
            Some(json!({ "seo": { "title": "Cheap" } })),
        ),
        (
            "PATCH",
            variant.clone(),
            Some(json!({ "compare_at_price": eur(90_000) })),
        ),
        ("PATCH", variant.clone(), Some(json!({ "sku": "BOWL-X" }))),
        (
            "POST",
            format!("{product}/variants"),
            Some(json!({ "sku": "BOWL-2", "options": { "size": "L" }, "price": eur(100) })),
        ),
        ("POST", media.clone(), None),
    ];
    for edit in shown {
        let what = format!("{} {}", edit.0, edit.1);
        assert_eq!(
            status_after(&service, &shop, &shop.staff, &id, edit).await,
            "pending_review",
            "{what}"
        );
        approve(&service, &shop, &id).await;
    }

    // These show nothing new: the barcode is not on the page, the second variant and the
    // image were approved, and an edit that changes nothing changes nothing.
    let now = service.get(&shop.merchant, &product).await;
    let second = now.body["variants"][1]["id"]
        .as_str()
        .expect("second variant")
        .to_owned();
    let image = now.body["media"][0]["id"]
        .as_str()
        .expect("an image")
        .to_owned();
    let unseen: Vec<(&str, String, Option<Value>)> = vec![
        (
            "PATCH",
            variant.clone(),
            Some(json!({ "barcode": "4006381333931" })),
        ),
        (
            "PATCH",
            product.clone(),
            Some(json!({ "title": "Tea Bowl" })),
        ),
        ("DELETE", format!("{product}/variants/{second}"), None),
        (
            "PUT",
            format!("{media}/order"),
            Some(json!({ "media_ids": [image] })),
        ),
        ("DELETE", format!("{media}/{image}"), None),
    ];
    for edit in unseen {
        let what = format!("{} {}", edit.0, edit.1);
        assert_eq!(
            status_after(&service, &shop, &shop.staff, &id, edit).await,
            "active",
            "{what}"
        );
    }

    // The merchant is the moderator: their own edits stand.
    for edit in [
        (
            "PATCH",
            product.clone(),
            Some(json!({ "title": "Raku Tea Bowl" })),
        ),
        (
            "PATCH",
            variant.clone(),
            Some(json!({ "price": eur(3900) })),
        ),
    ] {
        assert_eq!(
            status_after(&service, &shop, &shop.merchant, &id, edit).await,
            "active"
        );
    }
    assert_eq!(
        shoppers_see(&service, shop.tenant, "cheap-bowl", "raku").await,
        ON_SALE
    );
}

async fn a_vendors_import_waits_for_the_merchant_too(service: Service) {
    let shop = shop(&service, true).await;
    let bowl = product_on_sale(&service, &shop, "tea-bowl", "Tea Bowl").await;
    let id = bowl.str("id");
    let import = |file: String| {
        let service = service.clone();
        let staff = shop.staff.clone();
        let path = format!("/api/v1/catalog/imports?vendor_id={}", shop.vendor);
        async move {
            let started = service
                .send(
                    &staff,
                    "POST",
                    &path,
                    Some(("text/csv", file.as_bytes().to_vec())),
                )
                .await;
            assert_eq!(started.status, 202, "{:?}", started.body);
            let import = started.str("id").parse().expect("an import id");
            let done =
                mercato_catalog::import::run(&service.state.db, staff.tenant, import, &|_| {})
                    .await
                    .expect("import run")
                    .expect("the import");
            assert_eq!(done.failed_rows, 0, "{:?}", done.errors);
        }
    };

    // The same file as what is on sale changes nothing.
    let header = "product_slug,title,option1_name,option1_value,sku,price,currency";
    import(format!(
        "{header}\ntea-bowl,Tea Bowl,size,M,tea-bowl-1,45.00,EUR\n"
    ))
    .await;
    let same = service.get(&shop.merchant, &product_path(&id)).await;
    assert_eq!(same.str("status"), "active", "{:?}", same.body);

    import(format!(
        "{header}\ntea-bowl,Tea Bowl,size,M,tea-bowl-1,450.00,EUR\n"
    ))
    .await;
    let repriced = service.get(&shop.merchant, &product_path(&id)).await;
    assert_eq!(
        repriced.str("status"),
        "pending_review",
        "{:?}",
        repriced.body
    );
    assert_eq!(repriced.body["variants"][0]["price"], eur(45_000));
    assert_eq!(
        shoppers_see(&service, shop.tenant, "tea-bowl", "bowl").await,
        OFF_SALE
    );
    approve(&service, &shop, &id).await;
    assert_eq!(
        shoppers_see(&service, shop.tenant, "tea-bowl", "bowl").await,
        ON_SALE
    );
}

async fn a_shop_that_does_not_moderate_keeps_edits_on_sale(service: Service) {
    let shop = shop(&service, false).await;
    let bowl = product_on_sale(&service, &shop, "tea-bowl", "Tea Bowl").await;
    let id = bowl.str("id");
    let variant = bowl.body["variants"][0]["id"]
        .as_str()
        .expect("variant id")
        .to_owned();
    let retitled = service
        .json(
            &shop.staff,
            "PATCH",
            &product_path(&id),
            json!({ "title": "Raku Bowl" }),
        )
        .await;
    assert_eq!(retitled.str("status"), "active", "{:?}", retitled.body);
    let repriced = service
        .json(
            &shop.staff,
            "PATCH",
            &format!("{}/variants/{variant}", product_path(&id)),
            json!({ "price": eur(3900) }),
        )
        .await;
    assert_eq!(repriced.str("status"), "active", "{:?}", repriced.body);
    assert_eq!(
        shoppers_see(&service, shop.tenant, "tea-bowl", "raku").await,
        ON_SALE
    );
}

async fn a_reviewer_approves_what_they_saw(service: Service) {
    let shop = shop(&service, true).await;
    let bowl = product_on_sale(&service, &shop, "tea-bowl", "Tea Bowl").await;
    let id = bowl.str("id");
    let edit = |title: &'static str| {
        let (service, staff, path) = (service.clone(), shop.staff.clone(), product_path(&id));
        async move {
            let edited = service
                .json(&staff, "PATCH", &path, json!({ "title": title }))
                .await;
            assert_eq!(edited.str("status"), "pending_review", "{:?}", edited.body);
        }
    };
    edit("Tea Bowl, large").await;
    let seen = service.get(&shop.merchant, &product_path(&id)).await;
    // While the merchant looks, the vendor swaps the listing again.
    edit("Casino Bonus").await;
    let stale = transition(
        &service,
        &shop.merchant,
        &id,
        json!({ "action": "approve", "seen_updated_at": seen.body["updated_at"] }),
    )
    .await;
    assert_eq!(stale.status, 409, "{:?}", stale.body);
    assert_eq!(stale.str("code"), "product_changed");
    let still = service.get(&shop.merchant, &product_path(&id)).await;
    assert_eq!(still.str("status"), "pending_review");
    assert_eq!(
        shoppers_see(&service, shop.tenant, "tea-bowl", "casino").await,
        OFF_SALE
    );

    let approved = transition(
        &service,
        &shop.merchant,
        &id,
        json!({ "action": "approve", "seen_updated_at": still.body["updated_at"] }),
    )
    .await;
    assert_eq!(approved.status, 200, "{:?}", approved.body);
    assert_eq!(approved.str("status"), "active");
}

on_every_backend!(
    a_vendors_new_title_waits_for_the_merchant,
    a_vendors_new_price_waits_for_the_merchant,
    edits_shoppers_see_go_back_to_review_others_do_not,
    a_vendors_import_waits_for_the_merchant_too,
    a_shop_that_does_not_moderate_keeps_edits_on_sale,
    a_reviewer_approves_what_they_saw,
);

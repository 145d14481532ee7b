//! Review after an edit, end to end on the shop's domain: in a shop that moderates listings,
//! a vendor whose listing was approved changes its title, then its price; each time it leaves
//! the shop (list, page, search, carts) until the merchant approves it again. Another vendor
//! and another shop reach none of it.

use super::{catalog_knows, create, eur, listed, move_product, product, slugs};
use crate::inventory::warehouse;
use crate::on_embedded_and_real;
use crate::support::{Backend, PASSWORD, TestApp, eventually};
use serde_json::json;

/// The slugs a search for `q` finds on `host`.
async fn found(app: &TestApp, host: &str, q: &str) -> Vec<String> {
    let reply = app
        .client
        .get(host, &format!("/api/v1/search?q={q}"), None)
        .await
        .unwrap();
    assert_eq!(reply.status, 200, "{}", reply.text);
    slugs(&reply.body)
}

/// The status of a guest cart holding one of `variant` on `host`: 201, or 422 (not for sale).
async fn cart_status(app: &TestApp, host: &str, variant: &str) -> u16 {
    app.client
        .post(
            host,
            "/api/v1/carts",
            None,
            &json!({ "lines": [{ "variant_id": variant, "quantity": 1 }] }),
        )
        .await
        .unwrap()
        .status
}

async fn page_status(app: &TestApp, host: &str, slug: &str) -> u16 {
    app.client
        .get(host, &format!("/api/v1/products/{slug}"), None)
        .await
        .unwrap()
        .status
}

async fn a_vendors_edit_waits_for_the_merchant_again(backend: Backend, test: &str) {
    let Some(app) = super::spawn(backend, test).await else {
        return;
    };
    let admin = app.admin_token().await;
    let shop = app.shop(&admin, "growth").await;
    let elsewhere = app.shop(&admin, "growth").await;
    let host = shop.host.as_str();
    let owner = shop.owner.as_str();
    let moderated = app
        .client
        .send(
            "PUT",
            host,
            "/api/v1/catalog/settings",
            Some(owner),
            Some(&json!({ "require_listing_approval": true })),
        )
        .await
        .unwrap();
    assert_eq!(moderated.status, 200, "{}", moderated.text);
    let (vendor, email, _) = app.approved_vendor_account(&shop, "Kyoto Ceramics").await;
    // Signed in again: this token carries the vendor membership.
    let seller = app.login(host, &email, PASSWORD).await;
    let (rival, rival_token) = app.approved_vendor(&shop, "Baltic Amber").await;
    catalog_knows(&app, &shop, &seller, &vendor).await;
    catalog_knows(&app, &shop, &rival_token, &rival).await;

    // A harmless listing, approved by the merchant, in stock and in carts.
    let created = create(
        &app,
        &shop,
        &seller,
        &product(&vendor, "Tea Bowl", &[("BOWL-1", 4500)]),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.str("id");
    let variant = created.body["variants"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let published = move_product(&app, &shop, &seller, &id, "publish", None).await;
    assert_eq!(
        published.str("status"),
        "pending_review",
        "{}",
        published.text
    );
    let approved = move_product(&app, &shop, owner, &id, "approve", None).await;
    assert_eq!(approved.str("status"), "active", "{}", approved.text);
    app.settle().await;
    let wh = app
        .client
        .post(
            host,
            "/api/v1/warehouses",
            Some(owner),
            &warehouse(&vendor, "Main"),
        )
        .await
        .unwrap();
    assert_eq!(wh.status, 201, "{}", wh.text);
    let wh = wh.str("id");
    let received = app
        .client
        .post(
            host,
            &format!("/api/v1/warehouses/{wh}/adjustments"),
            Some(owner),
            &json!({ "variant_id": variant, "delta": 5, "reason": "received" }),
        )
        .await
        .unwrap();
    assert_eq!(received.status, 201, "{}", received.text);
    app.settle().await;
    assert_eq!(cart_status(&app, host, &variant).await, 201);
    eventually(
        "the bowl found",
        || found(&app, host, "bowl"),
        |s| s == &["tea-bowl"],
    )
    .await;
    assert_eq!(listed(&app, host, "").await, ["tea-bowl"]);

    // Another vendor and another shop cannot touch it.
    let product_path = format!("/api/v1/catalog/products/{id}");
    let hijack = app
        .client
        .patch(
            host,
            &product_path,
            Some(&rival_token),
            &json!({ "title": "Hijacked" }),
        )
        .await
        .unwrap();
    assert_eq!(hijack.status, 404, "{}", hijack.text);

    // The vendor swaps the title: off sale until the merchant approves it again.
    let swapped = app
        .client
        .patch(
            host,
            &product_path,
            Some(&seller),
            &json!({ "title": "Casino Bonus" }),
        )
        .await
        .unwrap();
    assert_eq!(swapped.status, 200, "{}", swapped.text);
    assert_eq!(swapped.str("status"), "pending_review", "{}", swapped.text);
    assert_eq!(swapped.body["visible"], false);
    assert!(listed(&app, host, "").await.is_empty());
    assert_eq!(page_status(&app, host, "tea-bowl").await, 404);
    eventually(
        "the bowl gone from search",
        || found(&app, host, "casino"),
        Vec::is_empty,
    )
    .await;
    assert!(found(&app, host, "bowl").await.is_empty());
    app.settle().await;
    let s = cart_status(&app, host, &variant).await;
    assert_eq!(s, 422, "carts refusing the bowl");

    // Only this shop's merchant approves: the other shop's owner finds nothing, there or here.
    let there = app
        .client
        .post(
            &elsewhere.host,
            &format!("{product_path}/transitions"),
            Some(&elsewhere.owner),
            &json!({ "action": "approve" }),
        )
        .await
        .unwrap();
    assert_eq!(there.status, 404, "{}", there.text);
    let seen_there = app
        .client
        .get(&elsewhere.host, &product_path, Some(&elsewhere.owner))
        .await
        .unwrap();
    assert_eq!(seen_there.status, 404, "{}", seen_there.text);
    let replayed = app
        .client
        .post(
            host,
            &format!("{product_path}/transitions"),
            Some(&elsewhere.owner),
            &json!({ "action": "approve" }),
        )
        .await
        .unwrap();
    assert_eq!(replayed.status, 401, "{}", replayed.text);
    assert_eq!(page_status(&app, &elsewhere.host, "tea-bowl").await, 404);
    let self_approved = move_product(&app, &shop, &seller, &id, "approve", None).await;
    assert_eq!(self_approved.status, 403, "{}", self_approved.text);

    let approved = move_product(&app, &shop, owner, &id, "approve", None).await;
    assert_eq!(approved.str("status"), "active", "{}", approved.text);
    eventually(
        "the new title found",
        || found(&app, host, "casino"),
        |s| s == &["tea-bowl"],
    )
    .await;
    app.settle().await;
    let s = cart_status(&app, host, &variant).await;
    assert_eq!(s, 201, "the bowl in carts again");
    assert_eq!(listed(&app, host, "").await, ["tea-bowl"]);

    // A new price is a new listing too.
    let repriced = app
        .client
        .patch(
            host,
            &format!("{product_path}/variants/{variant}"),
            Some(&seller),
            &json!({ "price": eur(45_000) }),
        )
        .await
        .unwrap();
    assert_eq!(repriced.status, 200, "{}", repriced.text);
    assert_eq!(
        repriced.str("status"),
        "pending_review",
        "{}",
        repriced.text
    );
    assert_eq!(page_status(&app, host, "tea-bowl").await, 404);
    assert!(listed(&app, host, "").await.is_empty());
    eventually(
        "the bowl gone from search",
        || found(&app, host, "casino"),
        Vec::is_empty,
    )
    .await;
    app.settle().await;
    let s = cart_status(&app, host, &variant).await;
    assert_eq!(s, 422, "carts refusing the bowl");
    let approved = move_product(&app, &shop, owner, &id, "approve", None).await;
    assert_eq!(approved.str("status"), "active", "{}", approved.text);
    let page = app
        .client
        .get(host, "/api/v1/products/tea-bowl", None)
        .await
        .unwrap();
    assert_eq!(page.status, 200, "{}", page.text);
    assert_eq!(page.body["variants"][0]["price"], eur(45_000));
    app.settle().await;
    let s = cart_status(&app, host, &variant).await;
    assert_eq!(s, 201, "the bowl in carts again");
}
on_embedded_and_real!(a_vendors_edit_waits_for_the_merchant_again);

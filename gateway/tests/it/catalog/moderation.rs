//! Moderation: with approval required, a vendor's "publish" waits for the merchant, who
//! approves it or rejects it with a reason the vendor sees.

use super::{catalog_knows, create, listed, move_product, product, slugs};
use crate::on_embedded_and_real;
use crate::support::Backend;
use serde_json::json;

async fn the_merchant_reviews_vendor_listings(backend: Backend, test: &str) {
    let Some(app) = super::spawn(backend, test).await else {
        return;
    };
    let admin = app.admin_token().await;
    let shop = app.shop(&admin, "growth").await;
    let host = shop.host.as_str();
    let owner = shop.owner.as_str();
    let (vendor, seller) = app.approved_vendor(&shop, "Kyoto Ceramics").await;
    catalog_knows(&app, &shop, &seller, &vendor).await;

    // Off by default; only the merchant turns it on.
    let settings = app
        .client
        .get(host, "/api/v1/catalog/settings", None)
        .await
        .unwrap();
    assert_eq!(
        settings.body["require_listing_approval"], false,
        "{}",
        settings.text
    );
    let on = json!({ "require_listing_approval": true });
    let by_vendor = app
        .client
        .send(
            "PUT",
            host,
            "/api/v1/catalog/settings",
            Some(&seller),
            Some(&on),
        )
        .await
        .unwrap();
    assert_eq!(by_vendor.status, 403, "{}", by_vendor.text);
    let by_owner = app
        .client
        .send(
            "PUT",
            host,
            "/api/v1/catalog/settings",
            Some(owner),
            Some(&on),
        )
        .await
        .unwrap();
    assert_eq!(by_owner.status, 200, "{}", by_owner.text);

    let created = create(
        &app,
        &shop,
        &seller,
        &product(&vendor, "Tea Bowl", &[("BOWL-1", 4500)]),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.str("id");
    let published = move_product(&app, &shop, &seller, &id, "publish", None).await;
    assert_eq!(
        published.str("status"),
        "pending_review",
        "{}",
        published.text
    );
    assert!(listed(&app, host, "").await.is_empty());

    // The vendor cannot approve itself; the queue is the merchant's.
    let self_approve = move_product(&app, &shop, &seller, &id, "approve", None).await;
    assert_eq!(self_approve.status, 403, "{}", self_approve.text);
    let queue = app
        .client
        .get(
            host,
            "/api/v1/catalog/products?status=pending_review",
            Some(owner),
        )
        .await
        .unwrap();
    assert_eq!(slugs(&queue.body), ["tea-bowl"], "{}", queue.text);

    // Rejecting needs a reason, which the vendor then sees.
    let unexplained = move_product(&app, &shop, owner, &id, "reject", None).await;
    assert_eq!(unexplained.status, 422, "{}", unexplained.text);
    let rejected = move_product(
        &app,
        &shop,
        owner,
        &id,
        "reject",
        Some("photos are missing"),
    )
    .await;
    assert_eq!(rejected.status, 200, "{}", rejected.text);
    assert_eq!(rejected.str("status"), "rejected");
    let seen = app
        .client
        .get(
            host,
            &format!("/api/v1/catalog/products/{id}"),
            Some(&seller),
        )
        .await
        .unwrap();
    assert_eq!(seen.str("status"), "rejected");
    assert_eq!(seen.str("status_reason"), "photos are missing");

    // Fixed and sent again, then approved: on sale.
    let again = move_product(&app, &shop, &seller, &id, "publish", None).await;
    assert_eq!(again.str("status"), "pending_review", "{}", again.text);
    assert!(again.body["status_reason"].is_null());
    let approved = move_product(&app, &shop, owner, &id, "approve", None).await;
    assert_eq!(approved.str("status"), "active", "{}", approved.text);
    app.settle().await;
    let s = listed(&app, host, "").await;
    assert_eq!(s, ["tea-bowl"], "the approved product on sale");
    let twice = move_product(&app, &shop, owner, &id, "approve", None).await;
    assert_eq!(
        (twice.status, twice.str("code").as_str()),
        (409, "invalid_transition")
    );

    // The merchant may take an active listing down, with a reason; the merchant's own
    // publish needs no review.
    let taken_down = move_product(&app, &shop, owner, &id, "reject", Some("recalled")).await;
    assert_eq!(taken_down.str("status"), "rejected", "{}", taken_down.text);
    app.settle().await;
    let left = listed(&app, host, "").await;
    assert!(left.is_empty(), "the listing gone: {left:?}");
    let by_merchant = move_product(&app, &shop, owner, &id, "publish", None).await;
    assert_eq!(by_merchant.str("status"), "active", "{}", by_merchant.text);
}
on_embedded_and_real!(the_merchant_reviews_vendor_listings);

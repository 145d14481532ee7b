//! Story: a platform admin opens a shop for a merchant by email. Identity hears
//! `shop.created` and mails the owner an invitation; the merchant accepts and runs the shop.

use crate::on_all_backends;
use crate::staff::{accept, mails_to, me, nth_mail};
use crate::support::{Backend, PASSWORD, PLATFORM, TestApp};
use mercato_testkit::unique;
use serde_json::json;

async fn a_new_shops_owner_is_invited_by_mail(backend: Backend, test: &str) {
    let Some(app) = TestApp::spawn(backend, test).await else {
        return;
    };
    let admin = app.admin_token().await;
    let slug = unique("shop-");
    let owner_email = format!("merchant@{slug}.example.test");
    let created = app
        .client
        .post(
            PLATFORM,
            "/api/v1/admin/shops",
            Some(&admin),
            &json!({
                "name": "Merchant's shop", "slug": slug, "default_currency": "EUR", "plan": "free",
                "timezone": "Europe/Berlin", "locale": "de-DE", "owner_email": owner_email
            }),
        )
        .await
        .unwrap();
    assert_eq!(created.status, 201, "{}", created.text);
    let shop_id = created.str("id");
    let host = format!("{slug}.localhost");

    let mail = nth_mail(&app, &shop_id, &owner_email, 1).await;
    assert!(mail.subject.contains(&slug), "{}", mail.text);
    assert!(mail.body.contains("as owner"), "{}", mail.text);
    let joined = accept(&app, &host, &mail.code("mit_"), PASSWORD).await;
    assert_eq!(joined.status, 201, "{}", joined.text);
    let owner = joined.str("access_token");
    assert_eq!(me(&app, &host, &owner).await.str("role"), "owner");

    let settings = app
        .client
        .patch(
            &host,
            "/api/v1/shop/settings",
            Some(&owner),
            &json!({ "name": "Renamed by its owner" }),
        )
        .await
        .unwrap();
    assert_eq!(settings.status, 200, "{}", settings.text);
    let invitations = app
        .client
        .get(&host, "/api/v1/staff/invitations", Some(&owner))
        .await
        .unwrap();
    assert_eq!(invitations.status, 200, "{}", invitations.text);
    assert_eq!(invitations.body["data"][0]["status"], "accepted");
    assert_eq!(invitations.body["data"][0]["invited_by"], json!(null));
    assert_eq!(invitations.body["data"][0]["role"], "owner");
    assert_eq!(
        mails_to(&app, &shop_id, &owner_email).len(),
        1,
        "one event, one invitation"
    );

    // A shop created without an owner email gets no invitation.
    let plain = app.shop(&admin, "free").await;
    let invitations = app
        .client
        .get(&plain.host, "/api/v1/staff/invitations", Some(&plain.owner))
        .await
        .unwrap();
    assert_eq!(invitations.body["data"], json!([]), "{}", invitations.text);
}
on_all_backends!(a_new_shops_owner_is_invited_by_mail);

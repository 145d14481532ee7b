//! A vendor builds its team: the owner invites a manager and staff by mail; each sees and
//! changes only what its vendor role allows, and only for its own vendor.

use crate::staff::nth_mail;
use crate::support::{Backend, PASSWORD, Shop, TestApp, eventually};
use crate::{on_all_backends, on_embedded_and_real};
use mercato_testkit::unique;
use serde_json::json;

async fn invite(
    app: &TestApp,
    shop: &Shop,
    by: &str,
    vendor: &str,
    email: &str,
    role: &str,
) -> u16 {
    app.client
        .post(
            &shop.host,
            "/api/v1/vendor-staff/invitations",
            Some(by),
            &json!({ "vendor_id": vendor, "email": email, "role": role }),
        )
        .await
        .unwrap()
        .status
}

/// Accepts the newest vendor invitation mailed to `email` with a new account; the token.
async fn accept(app: &TestApp, shop: &Shop, email: &str, nth: usize) -> String {
    let code = nth_mail(app, &shop.id.to_string(), email, nth)
        .await
        .code("mvi_");
    let reply = app
        .client
        .post(
            &shop.host,
            "/api/v1/auth/vendor-invitations/accept",
            None,
            &json!({ "token": code, "password": PASSWORD }),
        )
        .await
        .unwrap();
    assert_eq!(reply.status, 201, "{}", reply.text);
    reply.str("access_token")
}

async fn a_vendor_builds_its_team(backend: Backend, test: &str) {
    let Some(app) = TestApp::spawn(backend, test).await else {
        return;
    };
    let admin = app.admin_token().await;
    let shop = app.shop(&admin, "growth").await;
    let (vendor, owner) = app.vendor_with_owner(&shop, "Fjord Knits").await;
    let (other_vendor, _) = app.vendor_with_owner(&shop, "Other Wool").await;
    let manager_email = format!("{}@example.test", unique("manager-"));
    let staff_email = format!("{}@example.test", unique("staff-"));

    assert_eq!(
        invite(&app, &shop, &owner, &vendor, &manager_email, "manager").await,
        201
    );
    let manager = accept(&app, &shop, &manager_email, 1).await;
    // A manager may invite staff, not owners.
    assert_eq!(
        invite(&app, &shop, &manager, &vendor, &staff_email, "owner").await,
        403
    );
    assert_eq!(
        invite(&app, &shop, &manager, &vendor, &staff_email, "staff").await,
        201
    );
    assert_eq!(
        invite(&app, &shop, &manager, &vendor, &staff_email, "staff").await,
        409
    );
    let staff = accept(&app, &shop, &staff_email, 1).await;
    // A code works once.
    let code = nth_mail(&app, &shop.id.to_string(), &staff_email, 1)
        .await
        .code("mvi_");
    let again = app
        .client
        .post(
            &shop.host,
            "/api/v1/auth/vendor-invitations/accept",
            None,
            &json!({ "token": code, "password": PASSWORD }),
        )
        .await
        .unwrap();
    assert_eq!(again.status, 400, "{}", again.text);

    // Staff cannot invite; nobody can invite for a vendor they do not work for.
    let outsider = format!("{}@example.test", unique("x-"));
    assert_eq!(
        invite(&app, &shop, &staff, &vendor, &outsider, "staff").await,
        403
    );
    assert_eq!(
        invite(&app, &shop, &owner, &other_vendor, &outsider, "staff").await,
        404
    );

    let team = app
        .client
        .get(
            &shop.host,
            &format!("/api/v1/vendor-staff?vendor_id={vendor}"),
            Some(&staff),
        )
        .await
        .unwrap();
    assert_eq!(team.status, 200, "{}", team.text);
    let roles: Vec<&str> = team.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["role"].as_str())
        .collect();
    assert_eq!(roles, vec!["owner", "manager", "staff"], "{}", team.text);

    // What each may do at the vendor: the manager edits the profile, staff may not.
    let path = format!("/api/v1/vendors/{vendor}");
    let patch = json!({ "description": "Hand-knitted in Bergen" });
    let by_manager = app
        .client
        .patch(&shop.host, &path, Some(&manager), &patch)
        .await
        .unwrap();
    assert_eq!(by_manager.status, 200, "{}", by_manager.text);
    let by_staff = app
        .client
        .patch(&shop.host, &path, Some(&staff), &patch)
        .await
        .unwrap();
    assert_eq!(by_staff.status, 403, "{}", by_staff.text);
    let history = app
        .client
        .get(&shop.host, &format!("{path}/history"), Some(&staff))
        .await
        .unwrap();
    assert_eq!(history.status, 200, "{}", history.text);
    // Another vendor of the same shop does not exist for them.
    let elsewhere = app
        .client
        .patch(
            &shop.host,
            &format!("/api/v1/vendors/{other_vendor}"),
            Some(&manager),
            &patch,
        )
        .await
        .unwrap();
    assert_eq!(elsewhere.status, 404, "{}", elsewhere.text);

    // Removal: staff cannot remove the manager; the manager removes staff; the last owner stays.
    let members = team.body["data"].as_array().unwrap().clone();
    let id_of = |role: &str| {
        members
            .iter()
            .find(|m| m["role"] == role)
            .and_then(|m| m["user_id"].as_str())
            .unwrap()
            .to_owned()
    };
    let delete = |by: String, user: String| {
        let client = app.client.clone();
        let host = shop.host.clone();
        let path = format!("/api/v1/vendor-staff/{vendor}/{user}");
        async move { client.delete(&host, &path, Some(&by)).await.unwrap().status }
    };
    assert_eq!(delete(staff.clone(), id_of("manager")).await, 403);
    assert_eq!(delete(manager.clone(), id_of("owner")).await, 403);
    assert_eq!(delete(owner.clone(), id_of("owner")).await, 409);
    assert_eq!(delete(manager.clone(), id_of("staff")).await, 204);
    let after = app
        .client
        .get(
            &shop.host,
            &format!("/api/v1/vendor-staff?vendor_id={vendor}"),
            Some(&owner),
        )
        .await
        .unwrap();
    assert_eq!(
        after.body["data"].as_array().unwrap().len(),
        2,
        "{}",
        after.text
    );
}
on_embedded_and_real!(a_vendor_builds_its_team);

async fn a_removed_applicant_loses_the_vendor(backend: Backend, test: &str) {
    let Some(app) = TestApp::spawn(backend, test).await else {
        return;
    };
    let admin = app.admin_token().await;
    let shop = app.shop(&admin, "growth").await;
    let (vendor, applicant) = app.vendor_with_owner(&shop, "Handover Ltd").await;
    let successor_email = format!("{}@example.test", unique("successor-"));
    assert_eq!(
        invite(&app, &shop, &applicant, &vendor, &successor_email, "owner").await,
        201
    );
    let successor = accept(&app, &shop, &successor_email, 1).await;
    let team = app
        .client
        .get(
            &shop.host,
            &format!("/api/v1/vendor-staff?vendor_id={vendor}"),
            Some(&successor),
        )
        .await
        .unwrap();
    let applicant_id = team.body["data"][0]["user_id"].as_str().unwrap().to_owned();
    let removed = app
        .client
        .delete(
            &shop.host,
            &format!("/api/v1/vendor-staff/{vendor}/{applicant_id}"),
            Some(&successor),
        )
        .await
        .unwrap();
    assert_eq!(removed.status, 204, "{}", removed.text);

    // Being the applicant no longer counts: a fresh sign-in sees the vendor as a stranger.
    let path = format!("/api/v1/vendors/{vendor}");
    let patch = json!({ "description": "still mine?" });
    let email = team.body["data"][0]["email"].as_str().unwrap().to_owned();
    let fresh = app.login(&shop.host, &email, PASSWORD).await;
    let refused = eventually(
        "the applicant's standing to end",
        || async {
            app.client
                .patch(&shop.host, &path, Some(&fresh), &patch)
                .await
                .unwrap()
                .status
        },
        |status| *status == 404,
    )
    .await;
    assert_eq!(refused, 404);
    // (A probe sent before the removal reached the vendors service may have landed; from
    // now on nothing the applicant sends does.)
    let after = json!({ "description": "after removal" });
    let late = app
        .client
        .patch(&shop.host, &path, Some(&fresh), &after)
        .await
        .unwrap();
    assert_eq!(late.status, 404, "{}", late.text);
    let shown = app
        .client
        .get(&shop.host, &path, Some(&successor))
        .await
        .unwrap();
    assert!(shown.body["owner_user_id"].is_null(), "{}", shown.text);
    assert_ne!(
        shown.body["profile"]["description"], "after removal",
        "{}",
        shown.text
    );
}
on_embedded_and_real!(a_removed_applicant_loses_the_vendor);

async fn vendor_staff_stay_in_their_shop(backend: Backend, test: &str) {
    let Some(app) = TestApp::spawn(backend, test).await else {
        return;
    };
    let admin = app.admin_token().await;
    let shop_a = app.shop(&admin, "growth").await;
    let shop_b = app.shop(&admin, "growth").await;
    let (vendor_a, owner_a) = app.vendor_with_owner(&shop_a, "Alpha Goods").await;
    let (vendor_b, owner_b) = app.vendor_with_owner(&shop_b, "Beta Goods").await;
    let email = format!("{}@example.test", unique("x-"));
    // Shop B's vendor, or shop B's owner token, used on shop A: nothing there.
    assert_eq!(
        invite(&app, &shop_a, &owner_a, &vendor_b, &email, "staff").await,
        404
    );
    assert_eq!(
        invite(&app, &shop_a, &owner_b, &vendor_a, &email, "staff").await,
        401
    );
    let listing = app
        .client
        .get(
            &shop_a.host,
            &format!("/api/v1/vendor-staff?vendor_id={vendor_b}"),
            Some(&shop_a.owner),
        )
        .await
        .unwrap();
    assert_eq!(listing.status, 404, "{}", listing.text);
    // A code mailed for shop B means nothing on shop A.
    assert_eq!(
        invite(&app, &shop_b, &owner_b, &vendor_b, &email, "staff").await,
        201
    );
    let code = nth_mail(&app, &shop_b.id.to_string(), &email, 1)
        .await
        .code("mvi_");
    let foreign = app
        .client
        .post(
            &shop_a.host,
            "/api/v1/auth/vendor-invitations/accept",
            None,
            &json!({ "token": code, "password": PASSWORD }),
        )
        .await
        .unwrap();
    assert_eq!(foreign.status, 400, "{}", foreign.text);
    // Bad input is named.
    let bad = app
        .client
        .post(
            &shop_a.host,
            "/api/v1/vendor-staff/invitations",
            Some(&owner_a),
            &json!({ "vendor_id": "nope", "email": "nope", "role": "boss" }),
        )
        .await
        .unwrap();
    assert_eq!(bad.status, 422, "{}", bad.text);
    assert_eq!(
        bad.body["errors"].as_array().unwrap().len(),
        3,
        "{}",
        bad.text
    );
}
on_all_backends!(vendor_staff_stay_in_their_shop);

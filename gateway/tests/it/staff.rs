//! Story: a merchant builds a team. Invitations by mail, accepted into a new account or an
//! existing customer account; roles limit what each member may do and may grant; the plan's
//! seats cap the team; the shop always keeps an owner. Its submodules read the mailbox and
//! take the steps the other identity stories share.

mod mailbox;
mod steps;

pub use mailbox::{mails_to, nth_mail};
pub use steps::{accept, invite, join, me};

use crate::support::{Backend, PASSWORD, TestApp};
use crate::{on_all_backends, on_embedded_and_real};
use mercato_testkit::Reply;
use serde_json::{Value, json};

fn emails(list: &Reply) -> Vec<String> {
    list.body["data"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter_map(|m| m["email"].as_str().map(str::to_owned))
        .collect()
}

async fn invited_staff_can_do_what_their_role_allows(backend: Backend, test: &str) {
    let Some(app) = TestApp::spawn(backend, test).await else {
        return;
    };
    let admin = app.admin_token().await;
    let shop = app.shop(&admin, "growth").await;
    let folder = shop.id.to_string();

    // Nobody anonymous manages staff.
    let anonymous = app
        .client
        .post(
            &shop.host,
            "/api/v1/staff/invitations",
            None,
            &json!({ "email": "ada@example.test", "role": "admin" }),
        )
        .await
        .unwrap();
    assert_eq!(anonymous.status, 401, "{}", anonymous.text);

    let invited = invite(&app, &shop.host, &shop.owner, "Ada@Example.test", "admin").await;
    assert_eq!(invited.status, 201, "{}", invited.text);
    assert_eq!(invited.str("email"), "ada@example.test");
    assert_eq!(invited.str("status"), "pending");
    assert!(invited.str("id").starts_with("inv_"));
    assert!(!invited.text.contains("mit_"), "the code goes by mail only");

    let mail = nth_mail(&app, &folder, "ada@example.test", 1).await;
    assert!(mail.text.contains("MIME-Version: 1.0\r\n"), "{}", mail.text);
    assert!(mail.text.contains("Message-ID: <mail_"), "{}", mail.text);
    assert!(mail.file.starts_with("mail_") && mail.file.ends_with(".eml"));
    let code = mail.code("mit_");
    assert!(!mail.subject.contains(&code));

    // Bad input changes nothing.
    for (body, field) in [
        (
            json!({ "email": "ben@example.test", "role": "customer" }),
            "/role",
        ),
        (
            json!({ "email": "not an email", "role": "staff" }),
            "/email",
        ),
    ] {
        let bad = app
            .client
            .post(
                &shop.host,
                "/api/v1/staff/invitations",
                Some(&shop.owner),
                &body,
            )
            .await
            .unwrap();
        assert_eq!(bad.status, 422, "{}", bad.text);
        assert_eq!(bad.body["errors"][0]["field"], field, "{}", bad.text);
    }
    let twice = invite(&app, &shop.host, &shop.owner, "ada@example.test", "staff").await;
    assert_eq!(twice.status, 409, "{}", twice.text);
    assert_eq!(twice.str("code"), "already_invited");

    let weak = accept(&app, &shop.host, &code, "short").await;
    assert_eq!(weak.status, 422, "{}", weak.text);
    let ada = accept(&app, &shop.host, &code, PASSWORD).await;
    assert_eq!(ada.status, 201, "{}", ada.text);
    let ada = ada.str("access_token");
    assert_eq!(me(&app, &shop.host, &ada).await.str("role"), "admin");
    let again = accept(&app, &shop.host, &code, PASSWORD).await;
    assert_eq!(again.status, 400, "{}", again.text);
    assert_eq!(again.str("code"), "invalid_token");
    let already = invite(&app, &shop.host, &shop.owner, "ada@example.test", "staff").await;
    assert_eq!(already.status, 409, "{}", already.text);
    assert_eq!(already.str("code"), "already_staff");

    // An admin invites up to admin, not owners; and may change the shop's settings.
    let owner_by_admin = invite(&app, &shop.host, &ada, "olga@example.test", "owner").await;
    assert_eq!(owner_by_admin.status, 403, "{}", owner_by_admin.text);
    let settings = app
        .client
        .patch(
            &shop.host,
            "/api/v1/shop/settings",
            Some(&ada),
            &json!({ "name": "Ada's shop" }),
        )
        .await
        .unwrap();
    assert_eq!(settings.status, 200, "{}", settings.text);
    let bob = join(&app, &shop, &ada, "bob@example.test", "staff").await;
    assert_eq!(me(&app, &shop.host, &bob).await.str("role"), "staff");

    // Staff see the team, and nothing more.
    let team = app
        .client
        .get(&shop.host, "/api/v1/staff", Some(&bob))
        .await
        .unwrap();
    assert_eq!(team.status, 200, "{}", team.text);
    let mut seen = emails(&team);
    seen.sort();
    assert_eq!(
        seen,
        [
            "ada@example.test".to_owned(),
            "bob@example.test".to_owned(),
            format!("owner@{}", shop.host)
        ]
    );
    let by_staff = invite(&app, &shop.host, &bob, "carl@example.test", "staff").await;
    assert_eq!(by_staff.status, 403, "{}", by_staff.text);
    let settings = app
        .client
        .patch(
            &shop.host,
            "/api/v1/shop/settings",
            Some(&bob),
            &json!({ "name": "Bob's shop" }),
        )
        .await
        .unwrap();
    assert_eq!(settings.status, 403, "{}", settings.text);
    let bob_id = me(&app, &shop.host, &bob).await.str("id");
    let promote_self = app
        .client
        .patch(
            &shop.host,
            &format!("/api/v1/staff/{bob_id}"),
            Some(&bob),
            &json!({ "role": "admin" }),
        )
        .await
        .unwrap();
    assert_eq!(promote_self.status, 403, "{}", promote_self.text);
    let list = app
        .client
        .get(&shop.host, "/api/v1/staff/invitations", Some(&bob))
        .await
        .unwrap();
    assert_eq!(list.status, 403, "{}", list.text);

    // A revoked invitation's code no longer works.
    let carl = invite(&app, &shop.host, &shop.owner, "carl@example.test", "staff").await;
    assert_eq!(carl.status, 201, "{}", carl.text);
    let carl_code = nth_mail(&app, &folder, "carl@example.test", 1)
        .await
        .code("mit_");
    let revoke_path = format!("/api/v1/staff/invitations/{}", carl.str("id"));
    let revoked = app
        .client
        .delete(&shop.host, &revoke_path, Some(&ada))
        .await
        .unwrap();
    assert_eq!(revoked.status, 204, "{}", revoked.text);
    let late = accept(&app, &shop.host, &carl_code, PASSWORD).await;
    assert_eq!(late.status, 400, "{}", late.text);
    let list = app
        .client
        .get(&shop.host, "/api/v1/staff/invitations", Some(&shop.owner))
        .await
        .unwrap();
    assert_eq!(list.status, 200, "{}", list.text);
    let statuses: Vec<(String, String)> = list.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["email"].as_str().unwrap().to_owned(),
                i["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [
            ("carl@example.test".to_owned(), "revoked".to_owned()),
            ("bob@example.test".to_owned(), "accepted".to_owned()),
            ("ada@example.test".to_owned(), "accepted".to_owned()),
        ]
    );

    // Another shop's invitation code and id mean nothing here, and still work at home.
    let other = app.shop(&admin, "growth").await;
    let dora = invite(
        &app,
        &other.host,
        &other.owner,
        "dora@example.test",
        "staff",
    )
    .await;
    assert_eq!(dora.status, 201, "{}", dora.text);
    let dora_code = nth_mail(&app, &other.id.to_string(), "dora@example.test", 1)
        .await
        .code("mit_");
    let foreign = accept(&app, &shop.host, &dora_code, PASSWORD).await;
    assert_eq!(foreign.status, 400, "{}", foreign.text);
    let foreign_revoke = app
        .client
        .delete(
            &shop.host,
            &format!("/api/v1/staff/invitations/{}", dora.str("id")),
            Some(&shop.owner),
        )
        .await
        .unwrap();
    assert_eq!(foreign_revoke.status, 404, "{}", foreign_revoke.text);
    let team = app
        .client
        .get(&shop.host, "/api/v1/staff", Some(&shop.owner))
        .await
        .unwrap();
    assert!(!emails(&team).contains(&"dora@example.test".to_owned()));
    let home = accept(&app, &other.host, &dora_code, PASSWORD).await;
    assert_eq!(home.status, 201, "{}", home.text);
}
on_all_backends!(invited_staff_can_do_what_their_role_allows);

async fn the_plan_caps_the_team(backend: Backend, test: &str) {
    let Some(app) = TestApp::spawn(backend, test).await else {
        return;
    };
    let admin = app.admin_token().await;
    // Free: two seats, the owner holds one.
    let shop = app.shop(&admin, "free").await;
    let folder = shop.id.to_string();
    let first = invite(&app, &shop.host, &shop.owner, "first@example.test", "staff").await;
    assert_eq!(first.status, 201, "{}", first.text);
    let second = invite(
        &app,
        &shop.host,
        &shop.owner,
        "second@example.test",
        "staff",
    )
    .await;
    assert_eq!(second.status, 402, "{}", second.text);
    assert_eq!(second.str("code"), "plan_limit_exceeded");

    // Nothing was stored or sent for the refused one.
    nth_mail(&app, &folder, "first@example.test", 1).await;
    let list = app
        .client
        .get(&shop.host, "/api/v1/staff/invitations", Some(&shop.owner))
        .await
        .unwrap();
    assert_eq!(emails(&list), ["first@example.test"]);
    assert!(mails_to(&app, &folder, "second@example.test").is_empty());

    // Revoking frees the seat; an accepted invitation keeps holding it.
    let path = format!("/api/v1/staff/invitations/{}", first.str("id"));
    let revoked = app
        .client
        .delete(&shop.host, &path, Some(&shop.owner))
        .await
        .unwrap();
    assert_eq!(revoked.status, 204, "{}", revoked.text);
    join(&app, &shop, &shop.owner, "second@example.test", "staff").await;
    let third = invite(&app, &shop.host, &shop.owner, "third@example.test", "staff").await;
    assert_eq!(third.status, 402, "{}", third.text);
}
on_embedded_and_real!(the_plan_caps_the_team);

fn staff_path(id: &str) -> String {
    format!("/api/v1/staff/{id}")
}

async fn patch_role(app: &TestApp, host: &str, token: &str, id: &str, role: &str) -> Reply {
    app.client
        .patch(host, &staff_path(id), Some(token), &json!({ "role": role }))
        .await
        .unwrap()
}

async fn a_shop_always_keeps_an_owner(backend: Backend, test: &str) {
    let Some(app) = TestApp::spawn(backend, test).await else {
        return;
    };
    let admin = app.admin_token().await;
    let shop = app.shop(&admin, "growth").await;
    let owner_id = me(&app, &shop.host, &shop.owner).await.str("id");

    let demote_self = patch_role(&app, &shop.host, &shop.owner, &owner_id, "admin").await;
    assert_eq!(demote_self.status, 409, "{}", demote_self.text);
    assert_eq!(demote_self.str("code"), "last_owner");
    let remove_self = app
        .client
        .delete(&shop.host, &staff_path(&owner_id), Some(&shop.owner))
        .await
        .unwrap();
    assert_eq!(remove_self.status, 409, "{}", remove_self.text);

    // Admins cannot touch owners.
    let ada = join(&app, &shop, &shop.owner, "ada@example.test", "admin").await;
    let by_admin = patch_role(&app, &shop.host, &ada, &owner_id, "staff").await;
    assert_eq!(by_admin.status, 403, "{}", by_admin.text);
    let removed_by_admin = app
        .client
        .delete(&shop.host, &staff_path(&owner_id), Some(&ada))
        .await
        .unwrap();
    assert_eq!(removed_by_admin.status, 403, "{}", removed_by_admin.text);

    // With a second owner, the first may step down; the second is then the last.
    let olga = join(&app, &shop, &shop.owner, "olga@example.test", "owner").await;
    let olga_id = me(&app, &shop.host, &olga).await.str("id");
    let stepped_down = patch_role(&app, &shop.host, &shop.owner, &owner_id, "admin").await;
    assert_eq!(stepped_down.status, 200, "{}", stepped_down.text);
    assert_eq!(stepped_down.str("role"), "admin");
    let last = patch_role(&app, &shop.host, &olga, &olga_id, "staff").await;
    assert_eq!(last.status, 409, "{}", last.text);
    assert_eq!(
        me(&app, &shop.host, &olga).await.str("role"),
        "owner",
        "the refused change changed nothing"
    );

    // Removal disables the account and ends its sessions.
    let ada_login = app
        .client
        .post(
            &shop.host,
            "/api/v1/auth/login",
            None,
            &json!({ "email": "ada@example.test", "password": PASSWORD }),
        )
        .await
        .unwrap();
    assert_eq!(ada_login.status, 200, "{}", ada_login.text);
    let ada_id = me(&app, &shop.host, &ada).await.str("id");
    let removed = app
        .client
        .delete(&shop.host, &staff_path(&ada_id), Some(&olga))
        .await
        .unwrap();
    assert_eq!(removed.status, 204, "{}", removed.text);
    let refresh = app
        .client
        .post(
            &shop.host,
            "/api/v1/auth/refresh",
            None,
            &json!({ "refresh_token": ada_login.str("refresh_token") }),
        )
        .await
        .unwrap();
    assert_eq!(refresh.status, 401, "{}", refresh.text);
    let relogin = app
        .client
        .post(
            &shop.host,
            "/api/v1/auth/login",
            None,
            &json!({ "email": "ada@example.test", "password": PASSWORD }),
        )
        .await
        .unwrap();
    assert_eq!(relogin.status, 401, "{}", relogin.text);
    // Her still-unexpired access token no longer manages staff either.
    let late = invite(&app, &shop.host, &ada, "eve@example.test", "staff").await;
    assert_eq!(late.status, 401, "{}", late.text);

    // The team, page by page.
    let mut listed = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..10 {
        let path = match &cursor {
            Some(c) => format!("/api/v1/staff?limit=1&cursor={c}"),
            None => "/api/v1/staff?limit=1".to_owned(),
        };
        let page = app
            .client
            .get(&shop.host, &path, Some(&olga))
            .await
            .unwrap();
        assert_eq!(page.status, 200, "{}", page.text);
        let data = page.body["data"].as_array().cloned().unwrap_or_default();
        assert!(data.len() <= 1);
        listed.extend(data.iter().map(|m| {
            (
                m["email"].as_str().unwrap_or_default().to_owned(),
                m["role"].as_str().unwrap_or_default().to_owned(),
                m["status"].as_str().unwrap_or_default().to_owned(),
            )
        }));
        cursor = page.body["next_cursor"].as_str().map(str::to_owned);
        if cursor.is_none() {
            break;
        }
    }
    let expect = |e: &str, r: &str, s: &str| (e.to_owned(), r.to_owned(), s.to_owned());
    assert_eq!(
        listed,
        [
            expect(&format!("owner@{}", shop.host), "admin", "active"),
            expect("ada@example.test", "admin", "disabled"),
            expect("olga@example.test", "owner", "active"),
        ]
    );
    let bad_cursor = app
        .client
        .get(&shop.host, "/api/v1/staff?cursor=nonsense", Some(&olga))
        .await
        .unwrap();
    assert_eq!(bad_cursor.status, 422, "{}", bad_cursor.text);
}
on_embedded_and_real!(a_shop_always_keeps_an_owner);

async fn a_customer_is_upgraded_by_an_invitation(backend: Backend, test: &str) {
    let Some(app) = TestApp::spawn(backend, test).await else {
        return;
    };
    let admin = app.admin_token().await;
    let shop = app.shop(&admin, "growth").await;
    let registered = app
        .client
        .post(
            &shop.host,
            "/api/v1/auth/register",
            None,
            &json!({ "email": "cora@example.test", "password": PASSWORD }),
        )
        .await
        .unwrap();
    assert_eq!(registered.status, 201, "{}", registered.text);
    let customer = me(&app, &shop.host, &registered.str("access_token")).await;
    assert_eq!(customer.str("role"), "customer");

    let invited = invite(&app, &shop.host, &shop.owner, "cora@example.test", "staff").await;
    assert_eq!(invited.status, 201, "{}", invited.text);
    let code = nth_mail(&app, &shop.id.to_string(), "cora@example.test", 1)
        .await
        .code("mit_");
    // Her account exists: only its own password joins it to the staff.
    let wrong = accept(&app, &shop.host, &code, "a brand new password").await;
    assert_eq!(wrong.status, 401, "{}", wrong.text);
    let joined = accept(&app, &shop.host, &code, PASSWORD).await;
    assert_eq!(joined.status, 201, "{}", joined.text);
    let staff = me(&app, &shop.host, &joined.str("access_token")).await;
    assert_eq!(staff.str("role"), "staff");
    assert_eq!(staff.str("id"), customer.str("id"), "the same account");
    let login = app
        .client
        .post(
            &shop.host,
            "/api/v1/auth/login",
            None,
            &json!({ "email": "cora@example.test", "password": PASSWORD }),
        )
        .await
        .unwrap();
    assert_eq!(login.status, 200, "{}", login.text);
    let team: Value = app
        .client
        .get(
            &shop.host,
            "/api/v1/staff",
            Some(&login.str("access_token")),
        )
        .await
        .unwrap()
        .body;
    assert!(
        team["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["email"] == "cora@example.test" && m["role"] == "staff")
    );
}
on_embedded_and_real!(a_customer_is_upgraded_by_an_invitation);

//! HTTP steps several identity stories take.

use super::mailbox::nth_mail;
use crate::support::{PASSWORD, Shop, TestApp};
use mercato_testkit::Reply;
use serde_json::json;

pub async fn invite(app: &TestApp, host: &str, token: &str, email: &str, role: &str) -> Reply {
    app.client
        .post(
            host,
            "/api/v1/staff/invitations",
            Some(token),
            &json!({ "email": email, "role": role }),
        )
        .await
        .unwrap()
}

pub async fn accept(app: &TestApp, host: &str, code: &str, password: &str) -> Reply {
    app.client
        .post(
            host,
            "/api/v1/auth/invitations/accept",
            None,
            &json!({ "token": code, "password": password }),
        )
        .await
        .unwrap()
}

/// Invites `email` as `role`, reads the mail and accepts; returns the new member's token.
pub async fn join(app: &TestApp, shop: &Shop, by: &str, email: &str, role: &str) -> String {
    let invited = invite(app, &shop.host, by, email, role).await;
    assert_eq!(invited.status, 201, "{}", invited.text);
    let mail = nth_mail(app, &shop.id.to_string(), email, 1).await;
    let joined = accept(app, &shop.host, &mail.code("mit_"), PASSWORD).await;
    assert_eq!(joined.status, 201, "{}", joined.text);
    joined.str("access_token")
}

pub async fn me(app: &TestApp, host: &str, token: &str) -> Reply {
    app.client
        .get(host, "/api/v1/auth/me", Some(token))
        .await
        .unwrap()
}

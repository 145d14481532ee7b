//! Vendors: a shopper applies to sell, completes the checklist, is reviewed and approved,
//! appears among the shop's vendors, and vanishes when suspended. Every move is recorded.

use crate::support::{Backend, TestApp, application, ids};
use crate::{on_all_backends, on_embedded_and_real};
use serde_json::json;

/// The link with one hex digit of its signature changed (S3 `X-Amz-Signature` or local `sig`).
fn tamper_signature(url: &str) -> String {
    let start = ["X-Amz-Signature=", "sig="]
        .iter()
        .find_map(|param| url.find(param).map(|at| at + param.len()))
        .expect("a signed link");
    let digit = &url[start..=start];
    let other = if digit == "0" { "1" } else { "0" };
    format!("{}{other}{}", &url[..start], &url[start + 1..])
}

async fn a_vendor_applies_onboards_and_sells(backend: Backend, test: &str) {
    let Some(app) = TestApp::spawn(backend, test).await else {
        return;
    };
    let admin = app.admin_token().await;
    let shop = app.shop(&admin, "growth").await;
    let (_, seller) = app.customer(&shop).await;
    let host = shop.host.as_str();

    // Anonymous callers cannot apply; a signed-in shopper can.
    let anonymous = app
        .client
        .post(host, "/api/v1/vendors", None, &application("Nordic Tea"))
        .await
        .unwrap();
    assert_eq!(anonymous.status, 401, "{}", anonymous.text);
    let applied = app
        .client
        .post(
            host,
            "/api/v1/vendors",
            Some(&seller),
            &application("Nordic Tea"),
        )
        .await
        .unwrap();
    assert_eq!(applied.status, 201, "{}", applied.text);
    assert_eq!(applied.str("status"), "applied");
    assert_eq!(applied.str("slug"), "nordic-tea");
    let vendor = applied.str("id");
    let path = format!("/api/v1/vendors/{vendor}");
    assert!(vendor.starts_with("ven_"), "{vendor}");

    // The applicant becomes the vendor's owner: their next token carries the membership.
    // Identity learns it from `vendor.applied`.
    app.settle().await;
    let me = app
        .client
        .get(host, "/api/v1/auth/me", Some(&seller))
        .await
        .unwrap();
    assert_eq!(
        me.body["vendors"][0]["vendor"],
        vendor.as_str(),
        "the owner membership: {}",
        me.text
    );
    let me = me.body;
    assert_eq!(me["vendors"][0]["role"], "owner");
    let mine = app
        .client
        .get(host, "/api/v1/vendors/mine", Some(&seller))
        .await
        .unwrap();
    assert_eq!(ids(&mine.body), vec![vendor.clone()], "{}", mine.text);

    // Not public yet.
    let public = app.client.get(host, "/api/v1/vendors", None).await.unwrap();
    assert_eq!(public.status, 200, "{}", public.text);
    assert!(!ids(&public.body).contains(&vendor));
    let hidden = app.client.get(host, &path, None).await.unwrap();
    assert_eq!(hidden.status, 404);

    // The vendor cannot accept itself; the merchant can.
    let transition = |action: &str, reason: Option<&str>| {
        let mut body = json!({ "action": action });
        if let Some(reason) = reason {
            body["reason"] = json!(reason);
        }
        body
    };
    let self_accept = app
        .client
        .post(
            host,
            &format!("{path}/transitions"),
            Some(&seller),
            &transition("accept", None),
        )
        .await
        .unwrap();
    assert_eq!(self_accept.status, 403, "{}", self_accept.text);
    let accepted = app
        .client
        .post(
            host,
            &format!("{path}/transitions"),
            Some(&shop.owner),
            &transition("accept", None),
        )
        .await
        .unwrap();
    assert_eq!(accepted.status, 200, "{}", accepted.text);
    assert_eq!(accepted.str("status"), "onboarding");

    // Submitting with required items missing is refused, naming them.
    let early = app
        .client
        .post(
            host,
            &format!("{path}/transitions"),
            Some(&seller),
            &transition("submit", None),
        )
        .await
        .unwrap();
    assert_eq!(early.status, 409, "{}", early.text);
    assert_eq!(early.str("code"), "checklist_incomplete");
    assert!(early.text.contains("/checklist/tax_id"), "{}", early.text);

    // The vendor completes what it can type; the merchant overrides the rest, with a reason.
    for (code, body) in [
        (
            "business_details",
            json!({ "value": "HRB 12345, Amtsgericht Hamburg" }),
        ),
        ("tax_id", json!({ "value": "DE123456789" })),
        ("terms_accepted", json!({ "accepted": true })),
    ] {
        let done = app
            .client
            .send(
                "PUT",
                host,
                &format!("{path}/checklist/{code}"),
                Some(&seller),
                Some(&body),
            )
            .await
            .unwrap();
        assert_eq!(done.status, 200, "{code}: {}", done.text);
    }
    let refused = app
        .client
        .send(
            "PUT",
            host,
            &format!("{path}/checklist/terms_accepted"),
            Some(&seller),
            Some(&json!({ "accepted": false })),
        )
        .await
        .unwrap();
    assert_eq!(refused.status, 422, "{}", refused.text);
    let vendor_override = app
        .client
        .post(
            host,
            &format!("{path}/checklist/registration_document/override"),
            Some(&seller),
            &json!({ "reason": "trust me" }),
        )
        .await
        .unwrap();
    assert_eq!(vendor_override.status, 403, "{}", vendor_override.text);
    // Documents are recognised by their bytes, not their names or declared types.
    let upload = |bytes: Vec<u8>, content_type: &'static str| {
        let auth = format!("Bearer {seller}");
        let path = format!("{path}/checklist/registration_document/document");
        let client = app.client.clone();
        async move {
            client
                .send_raw(
                    "POST",
                    host,
                    &path,
                    &[
                        ("authorization", auth.as_str()),
                        ("content-type", content_type),
                    ],
                    bytes,
                )
                .await
                .unwrap()
        }
    };
    let not_pdf = upload(
        b"MZ\x90\x00 definitely an executable".to_vec(),
        "application/pdf",
    )
    .await;
    assert_eq!(not_pdf.status, 415, "{}", not_pdf.text);
    let empty = upload(Vec::new(), "application/pdf").await;
    assert_eq!(empty.status, 422, "{}", empty.text);
    let pdf = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n".to_vec();
    let uploaded = upload(pdf.clone(), "application/octet-stream").await;
    assert_eq!(uploaded.status, 200, "{}", uploaded.text);
    let link = app
        .client
        .get(
            host,
            &format!("{path}/checklist/registration_document/document"),
            Some(&shop.owner),
        )
        .await
        .unwrap();
    assert_eq!(link.status, 200, "{}", link.text);
    let url = link.str("url");
    // Local storage links go through the gateway; S3 links are presigned URLs to the bucket.
    let fetch = |url: String| {
        let client = app.client.clone();
        async move {
            if url.starts_with("http") {
                let response = reqwest::get(&url).await.unwrap();
                let status = response.status().as_u16();
                let kind = response
                    .headers()
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                (status, response.bytes().await.unwrap().to_vec(), kind)
            } else {
                let reply = client
                    .send_raw("GET", host, &url, &[], Vec::new())
                    .await
                    .unwrap();
                let kind = reply.content_type();
                (reply.status, reply.text.into_bytes(), kind)
            }
        }
    };
    let (status, bytes, kind) = fetch(url.clone()).await;
    assert_eq!(status, 200, "{url}");
    assert_eq!(bytes, pdf);
    assert_eq!(kind, "application/pdf");
    let forged = tamper_signature(&url);
    assert_ne!(forged, url);
    let (status, _, _) = fetch(forged).await;
    assert_eq!(status, 403);
    // Another shop's owner cannot get a link to it.
    let (_, stranger) = app.customer(&shop).await;
    let snoop = app
        .client
        .get(
            host,
            &format!("{path}/checklist/registration_document/document"),
            Some(&stranger),
        )
        .await
        .unwrap();
    assert_eq!(snoop.status, 404, "{}", snoop.text);

    for code in ["payout_account"] {
        let overridden = app
            .client
            .post(
                host,
                &format!("{path}/checklist/{code}/override"),
                Some(&shop.owner),
                &json!({ "reason": "checked by phone" }),
            )
            .await
            .unwrap();
        assert_eq!(overridden.status, 200, "{code}: {}", overridden.text);
    }
    let checklist = app
        .client
        .get(host, &format!("{path}/checklist"), Some(&seller))
        .await
        .unwrap();
    assert_eq!(checklist.body["complete"], true, "{}", checklist.text);
    let document = checklist.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["code"] == "registration_document")
        .unwrap()
        .clone();
    assert_eq!(document["state"], "completed");
    assert_eq!(document["has_document"], true);

    // Submit, review, approve: now public.
    for (who, action) in [(&seller, "submit"), (&shop.owner, "approve")] {
        let moved = app
            .client
            .post(
                host,
                &format!("{path}/transitions"),
                Some(who),
                &transition(action, None),
            )
            .await
            .unwrap();
        assert_eq!(moved.status, 200, "{action}: {}", moved.text);
    }
    let public = app.client.get(host, "/api/v1/vendors", None).await.unwrap();
    assert!(ids(&public.body).contains(&vendor), "{}", public.text);
    let page = app.client.get(host, &path, None).await.unwrap();
    assert_eq!(page.status, 200);
    assert_eq!(page.str("store_name"), "Nordic Tea");
    assert!(page.body.get("legal_entity").is_none(), "{}", page.text);

    // Approving twice is not a move the state machine has.
    let twice = app
        .client
        .post(
            host,
            &format!("{path}/transitions"),
            Some(&shop.owner),
            &transition("approve", None),
        )
        .await
        .unwrap();
    assert_eq!(twice.status, 409, "{}", twice.text);

    // Suspension needs a reason, hides the vendor, and is undone by reinstating.
    let unexplained = app
        .client
        .post(
            host,
            &format!("{path}/transitions"),
            Some(&shop.owner),
            &transition("suspend", None),
        )
        .await
        .unwrap();
    assert_eq!(unexplained.status, 422, "{}", unexplained.text);
    let suspended = app
        .client
        .post(
            host,
            &format!("{path}/transitions"),
            Some(&shop.owner),
            &transition("suspend", Some("counterfeit complaints")),
        )
        .await
        .unwrap();
    assert_eq!(suspended.status, 200, "{}", suspended.text);
    assert_eq!(suspended.str("status_reason"), "counterfeit complaints");
    let public = app.client.get(host, "/api/v1/vendors", None).await.unwrap();
    assert!(!ids(&public.body).contains(&vendor));
    let gone = app.client.get(host, &path, None).await.unwrap();
    assert_eq!(gone.status, 404);
    let in_review = app
        .client
        .get(host, "/api/v1/vendors?status=suspended", Some(&shop.owner))
        .await
        .unwrap();
    assert!(ids(&in_review.body).contains(&vendor), "{}", in_review.text);
    let snooping = app
        .client
        .get(host, "/api/v1/vendors?status=suspended", Some(&seller))
        .await
        .unwrap();
    assert_eq!(snooping.status, 403, "{}", snooping.text);

    // The history tells the whole story, with who and why.
    let history = app
        .client
        .get(host, &format!("{path}/history"), Some(&seller))
        .await
        .unwrap();
    let actions: Vec<&str> = history.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|h| h["action"].as_str())
        .collect();
    assert_eq!(
        actions,
        vec![
            "apply",
            "accept",
            "checklist_override:payout_account",
            "submit",
            "approve",
            "suspend"
        ],
        "{}",
        history.text
    );
    assert_eq!(history.body["data"][5]["reason"], "counterfeit complaints");
}
on_all_backends!(a_vendor_applies_onboards_and_sells);

async fn vendors_stay_in_their_shop_and_to_their_staff(backend: Backend, test: &str) {
    let Some(app) = TestApp::spawn(backend, test).await else {
        return;
    };
    let admin = app.admin_token().await;
    let shop_a = app.shop(&admin, "growth").await;
    let shop_b = app.shop(&admin, "growth").await;
    let (_, seller_a) = app.customer(&shop_a).await;
    let (_, rival_a) = app.customer(&shop_a).await;
    let (_, seller_b) = app.customer(&shop_b).await;
    let vendor_a = app
        .client
        .post(
            &shop_a.host,
            "/api/v1/vendors",
            Some(&seller_a),
            &application("Alpha"),
        )
        .await
        .unwrap()
        .str("id");
    let vendor_b = app
        .client
        .post(
            &shop_b.host,
            "/api/v1/vendors",
            Some(&seller_b),
            &application("Beta"),
        )
        .await
        .unwrap()
        .str("id");

    // Shop B's vendor does not exist on shop A, not even for shop A's owner.
    let patch = json!({ "description": "hijacked" });
    for (method, path, body) in [
        ("GET", format!("/api/v1/vendors/{vendor_b}"), None),
        ("PATCH", format!("/api/v1/vendors/{vendor_b}"), Some(&patch)),
        ("GET", format!("/api/v1/vendors/{vendor_b}/history"), None),
        ("GET", format!("/api/v1/vendors/{vendor_b}/checklist"), None),
        (
            "POST",
            format!("/api/v1/vendors/{vendor_b}/transitions"),
            Some(&json!({ "action": "accept" })),
        ),
        (
            "POST",
            format!("/api/v1/vendors/{vendor_b}/checklist/tax_id/override"),
            Some(&json!({ "reason": "x" })),
        ),
    ] {
        let reply = app
            .client
            .send(method, &shop_a.host, &path, Some(&shop_a.owner), body)
            .await
            .unwrap();
        assert_eq!(reply.status, 404, "{method} {path}: {}", reply.text);
    }
    // Shop B's seller's token is not good on shop A.
    let foreign = app
        .client
        .send(
            "PATCH",
            &shop_a.host,
            &format!("/api/v1/vendors/{vendor_a}"),
            Some(&seller_b),
            Some(&patch),
        )
        .await
        .unwrap();
    assert_eq!(foreign.status, 401, "{}", foreign.text);
    // Another user of the same shop cannot see or change someone else's application.
    for (method, path, body) in [
        ("GET", format!("/api/v1/vendors/{vendor_a}"), None),
        ("PATCH", format!("/api/v1/vendors/{vendor_a}"), Some(&patch)),
        (
            "PUT",
            format!("/api/v1/vendors/{vendor_a}/checklist/tax_id"),
            Some(&json!({ "value": "DE1" })),
        ),
    ] {
        let reply = app
            .client
            .send(method, &shop_a.host, &path, Some(&rival_a), body)
            .await
            .unwrap();
        assert_eq!(reply.status, 404, "{method} {path}: {}", reply.text);
    }
    // Nothing changed.
    for (shop, vendor, seller) in [
        (&shop_a, &vendor_a, &seller_a),
        (&shop_b, &vendor_b, &seller_b),
    ] {
        let reply = app
            .client
            .get(
                &shop.host,
                &format!("/api/v1/vendors/{vendor}"),
                Some(seller),
            )
            .await
            .unwrap();
        assert_eq!(reply.status, 200, "{}", reply.text);
        assert_eq!(reply.str("status"), "applied");
        assert!(
            reply.body["profile"]["description"].is_null(),
            "{}",
            reply.text
        );
    }
}
on_embedded_and_real!(vendors_stay_in_their_shop_and_to_their_staff);

async fn bad_vendor_input_is_refused(backend: Backend, test: &str) {
    let Some(app) = TestApp::spawn(backend, test).await else {
        return;
    };
    let admin = app.admin_token().await;
    let shop = app.shop(&admin, "free").await;
    let (_, seller) = app.customer(&shop).await;
    let bad = json!({
        "store_name": "",
        "slug": "Not A Slug",
        "legal_entity": "X",
        "country": "Germany",
        "contact_email": "nobody",
    });
    let reply = app
        .client
        .post(&shop.host, "/api/v1/vendors", Some(&seller), &bad)
        .await
        .unwrap();
    assert_eq!(reply.status, 422, "{}", reply.text);
    let fields: Vec<&str> = reply.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(
        fields,
        vec!["/store_name", "/slug", "/country", "/contact_email"]
    );

    // The free plan allows a limited number of vendors; beyond it, 402 and nothing stored.
    let limit = shop.body["limits"]["vendors"].as_u64().unwrap();
    for i in 0..limit {
        let ok = app
            .client
            .post(
                &shop.host,
                "/api/v1/vendors",
                Some(&seller),
                &application(&format!("Store {i}")),
            )
            .await
            .unwrap();
        assert_eq!(ok.status, 201, "{}", ok.text);
    }
    let over = app
        .client
        .post(
            &shop.host,
            "/api/v1/vendors",
            Some(&seller),
            &application("One Too Many"),
        )
        .await
        .unwrap();
    assert_eq!(over.status, 402, "{}", over.text);
    let pending = app
        .client
        .get(
            &shop.host,
            "/api/v1/vendors?status=applied&limit=200",
            Some(&shop.owner),
        )
        .await
        .unwrap();
    assert_eq!(ids(&pending.body).len() as u64, limit, "{}", pending.text);

    // A taken slug is a conflict; an unknown action or status a 422.
    let first = ids(&pending.body)[0].clone();
    let dup = app
        .client
        .post(
            &shop.host,
            "/api/v1/vendors",
            Some(&seller),
            &application("Store 0"),
        )
        .await
        .unwrap();
    assert!(matches!(dup.status, 402 | 409), "{}", dup.text);
    let action = app
        .client
        .post(
            &shop.host,
            &format!("/api/v1/vendors/{first}/transitions"),
            Some(&shop.owner),
            &json!({ "action": "promote" }),
        )
        .await
        .unwrap();
    assert_eq!(action.status, 422, "{}", action.text);
    let status = app
        .client
        .get(
            &shop.host,
            "/api/v1/vendors?status=famous",
            Some(&shop.owner),
        )
        .await
        .unwrap();
    assert_eq!(status.status, 422, "{}", status.text);
    let bad_id = app
        .client
        .get(&shop.host, "/api/v1/vendors/not-an-id", None)
        .await
        .unwrap();
    assert!(matches!(bad_id.status, 400 | 404), "{}", bad_id.text);
}
on_embedded_and_real!(bad_vendor_input_is_refused);

/// A 1×1 PNG.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82";

async fn store_images_are_checked_and_linked(backend: Backend, test: &str) {
    let Some(app) = TestApp::spawn(backend, test).await else {
        return;
    };
    let admin = app.admin_token().await;
    let shop = app.shop(&admin, "growth").await;
    let (_, seller) = app.customer(&shop).await;
    let (_, stranger) = app.customer(&shop).await;
    let host = shop.host.as_str();
    let vendor = app
        .client
        .post(
            host,
            "/api/v1/vendors",
            Some(&seller),
            &application("Pixel Prints"),
        )
        .await
        .unwrap()
        .str("id");
    let put = |token: String, bytes: &'static [u8]| {
        let client = app.client.clone();
        let path = format!("/api/v1/vendors/{vendor}/images/logo");
        async move {
            let auth = format!("Bearer {token}");
            client
                .send_raw(
                    "PUT",
                    host,
                    &path,
                    &[
                        ("authorization", auth.as_str()),
                        ("content-type", "image/png"),
                    ],
                    bytes.to_vec(),
                )
                .await
                .unwrap()
        }
    };
    let text = put(seller.clone(), b"not an image, whatever the header says").await;
    assert_eq!(text.status, 415, "{}", text.text);
    let foreign = put(stranger.clone(), PNG).await;
    assert_eq!(foreign.status, 404, "{}", foreign.text);
    let uploaded = put(seller.clone(), PNG).await;
    assert_eq!(uploaded.status, 200, "{}", uploaded.text);
    let url = uploaded.str("logo_url");
    assert!(!url.is_empty(), "{}", uploaded.text);
    // S3 links are absolute; local ones are served by the gateway on the shop's own host.
    let request = if url.starts_with("http") {
        reqwest::Client::new().get(&url)
    } else {
        reqwest::Client::new()
            .get(app.client.url(&url))
            .header("host", host)
    };
    let response = request.send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200, "{url}");
    assert_eq!(response.headers()["content-type"], "image/png");
    let fetched = response.bytes().await.unwrap().to_vec();
    assert_eq!(fetched, PNG);
    let unknown_slot = app
        .client
        .delete(
            host,
            &format!("/api/v1/vendors/{vendor}/images/avatar"),
            Some(&seller),
        )
        .await
        .unwrap();
    assert_eq!(unknown_slot.status, 404);
    let removed = app
        .client
        .delete(
            host,
            &format!("/api/v1/vendors/{vendor}/images/logo"),
            Some(&seller),
        )
        .await
        .unwrap();
    assert_eq!(removed.status, 200, "{}", removed.text);
    assert!(removed.body["logo_url"].is_null(), "{}", removed.text);
}
on_all_backends!(store_images_are_checked_and_linked);

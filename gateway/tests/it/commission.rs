//! Commission rules and payout accounts: the merchant sets rules per shop, category, vendor
//! and vendor+category; the quote endpoint names the rule that decides a line's commission;
//! vendors store where they are paid, which completes their checklist item.

use crate::on_embedded_and_real;
use crate::support::{Backend, Shop, TestApp, error_fields, ids};
use mercato_tenant_context::{CategoryId, VendorId};
use mercato_testkit::Reply;
use serde_json::{Value, json};

/// A vendor applied for by a new shopper of `shop`: (vendor id, the shopper's token).
async fn vendor(app: &TestApp, shop: &Shop, name: &str) -> (String, String) {
    let (vendor, _, seller) = app.applied_vendor(shop, name).await;
    (vendor, seller)
}

async fn add_rule(app: &TestApp, shop: &Shop, body: Value) -> String {
    let created = app
        .client
        .post(
            &shop.host,
            "/api/v1/commission-rules",
            Some(&shop.owner),
            &body,
        )
        .await
        .unwrap();
    assert_eq!(created.status, 201, "{body}: {}", created.text);
    created.str("id")
}

async fn quote(app: &TestApp, shop: &Shop, token: Option<&str>, query: &str) -> Reply {
    app.client
        .get(
            &shop.host,
            &format!("/api/v1/commission/quote?{query}"),
            token,
        )
        .await
        .unwrap()
}

/// The commission, the matched rule's id and the level of a quote the owner asks for.
async fn quoted(app: &TestApp, shop: &Shop, query: &str) -> (i64, Value, Value) {
    let reply = quote(app, shop, Some(&shop.owner), query).await;
    assert_eq!(reply.status, 200, "{query}: {}", reply.text);
    let commission = reply.body["commission"]["amount"].as_i64().unwrap_or(-1);
    (
        commission,
        reply.body["rule"]["id"].clone(),
        reply.body["level"].clone(),
    )
}

async fn the_most_specific_rule_decides(backend: Backend, test: &str) {
    let Some(app) = TestApp::spawn(backend, test).await else {
        return;
    };
    let admin = app.admin_token().await;
    let shop = app.shop(&admin, "growth").await;
    let (a, seller_a) = vendor(&app, &shop, "Alpine Honey").await;
    let (b, _) = vendor(&app, &shop, "Baltic Amber").await;
    let (c1, c2) = (CategoryId::new().to_string(), CategoryId::new().to_string());

    // No rules yet: no commission, and the quote says so.
    let none = quote(
        &app,
        &shop,
        Some(&shop.owner),
        &format!("vendor_id={a}&amount=1000&currency=EUR"),
    )
    .await;
    assert_eq!(none.status, 200, "{}", none.text);
    assert_eq!(
        none.body["commission"],
        json!({ "amount": 0, "currency": "EUR" })
    );
    assert!(
        none.body["rule"].is_null() && none.body["level"].is_null(),
        "{}",
        none.text
    );

    let shop_rule = add_rule(&app, &shop, json!({ "percent": "12.5" })).await;
    let category_rule = add_rule(&app, &shop, json!({ "category_id": c1, "percent": 8 })).await;
    let vendor_rule = add_rule(&app, &shop, json!({ "vendor_id": a, "percent": "6" })).await;
    let created = app
        .client
        .post(
            &shop.host,
            "/api/v1/commission-rules",
            Some(&shop.owner),
            &json!({
                "vendor_id": a, "category_id": c1, "percent": "4.0",
                "fixed_fee": { "amount": 30, "currency": "EUR" }
            }),
        )
        .await
        .unwrap();
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.str("level"), "vendor_category");
    assert_eq!(created.str("percent"), "4");
    assert_eq!(
        created.body["fixed_fee"],
        json!({ "amount": 30, "currency": "EUR" })
    );
    assert!(created.body["valid_until"].is_null());
    let both_rule = created.str("id");
    assert!(both_rule.starts_with("com_"), "{both_rule}");

    // Each line gets the most specific rule that matches it.
    let cases = [
        (
            format!("vendor_id={a}&category_id={c1}&amount=1000&currency=EUR"),
            70,
            &both_rule,
            "vendor_category",
        ),
        (
            format!("vendor_id={a}&category_id={c2}&amount=1000&currency=EUR"),
            60,
            &vendor_rule,
            "vendor",
        ),
        (
            format!("vendor_id={a}&amount=1000&currency=EUR"),
            60,
            &vendor_rule,
            "vendor",
        ),
        (
            format!("vendor_id={b}&category_id={c1}&amount=1000&currency=EUR"),
            80,
            &category_rule,
            "category",
        ),
        (
            format!("vendor_id={b}&category_id={c2}&amount=1000&currency=EUR"),
            125,
            &shop_rule,
            "shop",
        ),
        // 12.5 % of 10.01 is 125.125 cents: 125; of 10.04, 125.5: rounded half up to 126.
        (
            format!("vendor_id={b}&amount=1001&currency=EUR"),
            125,
            &shop_rule,
            "shop",
        ),
        (
            format!("vendor_id={b}&amount=1004&currency=EUR"),
            126,
            &shop_rule,
            "shop",
        ),
        // The fixed fee is in EUR: it does not apply to a USD line.
        (
            format!("vendor_id={a}&category_id={c1}&amount=1000&currency=USD"),
            40,
            &both_rule,
            "vendor_category",
        ),
    ];
    for (query, commission, rule, level) in &cases {
        let got = quoted(&app, &shop, query).await;
        assert_eq!(got, (*commission, json!(rule), json!(level)), "{query}");
    }
    // The quote shows the whole rule.
    let full = quote(
        &app,
        &shop,
        Some(&shop.owner),
        &format!("vendor_id={a}&amount=1000&currency=EUR"),
    )
    .await;
    assert_eq!(full.body["rule"]["vendor_id"], a.as_str());
    assert_eq!(full.body["rule"]["percent"], "6");
    assert_eq!(full.body["rule"]["level"], "vendor");

    // The vendor's own staff may ask about their vendor, not about another.
    let own = quote(
        &app,
        &shop,
        Some(&seller_a),
        &format!("vendor_id={a}&amount=1000&currency=EUR"),
    )
    .await;
    assert_eq!(own.status, 200, "{}", own.text);
    assert_eq!(own.body["commission"]["amount"], 60);
    let other = quote(
        &app,
        &shop,
        Some(&seller_a),
        &format!("vendor_id={b}&amount=1000&currency=EUR"),
    )
    .await;
    assert_eq!(other.status, 404, "{}", other.text);
    let (_, shopper) = app.customer(&shop).await;
    let stranger = quote(
        &app,
        &shop,
        Some(&shopper),
        &format!("vendor_id={a}&amount=1000&currency=EUR"),
    )
    .await;
    assert_eq!(stranger.status, 404, "{}", stranger.text);
    let anonymous = quote(
        &app,
        &shop,
        None,
        &format!("vendor_id={a}&amount=1000&currency=EUR"),
    )
    .await;
    assert_eq!(anonymous.status, 404, "{}", anonymous.text);

    // Vendors neither set nor list the shop's rules.
    let refused = app
        .client
        .post(
            &shop.host,
            "/api/v1/commission-rules",
            Some(&seller_a),
            &json!({ "percent": "1" }),
        )
        .await
        .unwrap();
    assert_eq!(refused.status, 403, "{}", refused.text);
    let refused = app
        .client
        .get(&shop.host, "/api/v1/commission-rules", Some(&seller_a))
        .await
        .unwrap();
    assert_eq!(refused.status, 403, "{}", refused.text);

    // The merchant lists them, a page at a time, and by vendor.
    let first = app
        .client
        .get(
            &shop.host,
            "/api/v1/commission-rules?limit=3",
            Some(&shop.owner),
        )
        .await
        .unwrap();
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(
        ids(&first.body),
        vec![
            shop_rule.clone(),
            category_rule.clone(),
            vendor_rule.clone()
        ]
    );
    let cursor = first.str("next_cursor");
    let second = app
        .client
        .get(
            &shop.host,
            &format!("/api/v1/commission-rules?limit=3&cursor={cursor}"),
            Some(&shop.owner),
        )
        .await
        .unwrap();
    assert_eq!(
        ids(&second.body),
        vec![both_rule.clone()],
        "{}",
        second.text
    );
    assert!(second.body["next_cursor"].is_null());
    let of_a = app
        .client
        .get(
            &shop.host,
            &format!("/api/v1/commission-rules?vendor_id={a}"),
            Some(&shop.owner),
        )
        .await
        .unwrap();
    assert_eq!(
        ids(&of_a.body),
        vec![vendor_rule.clone(), both_rule.clone()],
        "{}",
        of_a.text
    );

    // Deleting the vendor+category rule hands its lines to the vendor rule.
    let rule_path = format!("/api/v1/commission-rules/{both_rule}");
    let shown = app
        .client
        .get(&shop.host, &rule_path, Some(&shop.owner))
        .await
        .unwrap();
    assert_eq!(shown.status, 200, "{}", shown.text);
    let denied = app
        .client
        .delete(&shop.host, &rule_path, Some(&seller_a))
        .await
        .unwrap();
    assert_eq!(denied.status, 403, "{}", denied.text);
    let deleted = app
        .client
        .delete(&shop.host, &rule_path, Some(&shop.owner))
        .await
        .unwrap();
    assert_eq!(deleted.status, 204, "{}", deleted.text);
    let again = app
        .client
        .delete(&shop.host, &rule_path, Some(&shop.owner))
        .await
        .unwrap();
    assert_eq!(again.status, 404, "{}", again.text);
    let gone = app
        .client
        .get(&shop.host, &rule_path, Some(&shop.owner))
        .await
        .unwrap();
    assert_eq!(gone.status, 404, "{}", gone.text);
    let after = quoted(
        &app,
        &shop,
        &format!("vendor_id={a}&category_id={c1}&amount=1000&currency=EUR"),
    )
    .await;
    assert_eq!(after, (60, json!(vendor_rule), json!("vendor")));
}
on_embedded_and_real!(the_most_specific_rule_decides);

async fn validity_windows_and_currency_limits(backend: Backend, test: &str) {
    let Some(app) = TestApp::spawn(backend, test).await else {
        return;
    };
    let admin = app.admin_token().await;
    let shop = app.shop(&admin, "growth").await;
    let (a, _) = vendor(&app, &shop, "Cedar Crafts").await;

    // The shop's default since 2000: 10 % plus 0.25 EUR, at least 0.50 and at most 2.00 EUR,
    // at least 1.00 USD; no limits in JPY.
    let shop_rule = add_rule(
        &app,
        &shop,
        json!({
            "percent": "10",
            "fixed_fee": { "amount": 25, "currency": "EUR" },
            "limits": [
                { "currency": "USD", "min": 100 },
                { "currency": "EUR", "min": 50, "max": 200 },
            ],
            "valid_from": "2000-01-01T00:00:00Z",
        }),
    )
    .await;
    // A vendor promotion for January 2090 only.
    let promotion = add_rule(
        &app,
        &shop,
        json!({
            "vendor_id": a, "percent": "1",
            "valid_from": "2090-01-01T00:00:00Z", "valid_until": "2090-02-01T00:00:00Z",
        }),
    )
    .await;

    let line = |amount: i64, currency: &str, at: &str| {
        let at = if at.is_empty() {
            String::new()
        } else {
            format!("&at={at}")
        };
        format!("vendor_id={a}&amount={amount}&currency={currency}{at}")
    };
    let cases = [
        // Before any rule.
        (
            line(1000, "EUR", "1999-12-31T23:59:59Z"),
            0,
            Value::Null,
            Value::Null,
        ),
        // Valid from is inclusive, valid until exclusive.
        (
            line(1000, "EUR", "2089-12-31T23:59:59Z"),
            125,
            json!(shop_rule),
            json!("shop"),
        ),
        (
            line(1000, "EUR", "2090-01-01T00:00:00Z"),
            10,
            json!(promotion),
            json!("vendor"),
        ),
        (
            line(1000, "EUR", "2090-01-31T23:59:59Z"),
            10,
            json!(promotion),
            json!("vendor"),
        ),
        (
            line(1000, "EUR", "2090-02-01T00:00:00Z"),
            125,
            json!(shop_rule),
            json!("shop"),
        ),
        // 100 + 25 fee, within the limits; 10.05 EUR: 100.5 rounds half up to 101, + 25.
        (line(1000, "EUR", ""), 125, json!(shop_rule), json!("shop")),
        (line(1005, "EUR", ""), 126, json!(shop_rule), json!("shop")),
        // 10 + 25 = 35, raised to the EUR minimum 50; 500 + 25 lowered to the maximum 200.
        (line(100, "EUR", ""), 50, json!(shop_rule), json!("shop")),
        (line(5000, "EUR", ""), 200, json!(shop_rule), json!("shop")),
        // Never more than the line itself.
        (line(30, "EUR", ""), 30, json!(shop_rule), json!("shop")),
        (line(0, "EUR", ""), 0, json!(shop_rule), json!("shop")),
        // In USD the EUR fee does not apply, the USD minimum does.
        (line(2000, "USD", ""), 200, json!(shop_rule), json!("shop")),
        (line(500, "USD", ""), 100, json!(shop_rule), json!("shop")),
        // No limits in JPY.
        (line(5, "JPY", ""), 1, json!(shop_rule), json!("shop")),
        (
            line(100_000, "JPY", ""),
            10_000,
            json!(shop_rule),
            json!("shop"),
        ),
    ];
    for (query, commission, rule, level) in &cases {
        let got = quoted(&app, &shop, query).await;
        assert_eq!(got, (*commission, rule.clone(), level.clone()), "{query}");
    }
    let reply = quote(&app, &shop, Some(&shop.owner), &line(1000, "USD", "")).await;
    assert_eq!(
        reply.body["commission"],
        json!({ "amount": 100, "currency": "USD" })
    );
    assert_eq!(
        reply.body["rule"]["limits"],
        json!([
            { "currency": "EUR", "min": 50, "max": 200 },
            { "currency": "USD", "min": 100, "max": null },
        ])
    );

    // On one level, the rule that starts last wins; starting together, the newer one.
    let c = CategoryId::new().to_string();
    add_rule(
        &app,
        &shop,
        json!({ "category_id": c, "percent": "20", "valid_from": "2001-01-01T00:00:00Z" }),
    )
    .await;
    let later = add_rule(
        &app,
        &shop,
        json!({ "category_id": c, "percent": "30", "valid_from": "2002-01-01T00:00:00Z" }),
    )
    .await;
    let in_category = format!("vendor_id={a}&category_id={c}&amount=1000&currency=JPY");
    assert_eq!(
        quoted(&app, &shop, &in_category).await,
        (300, json!(later), json!("category"))
    );
    let newer = add_rule(
        &app,
        &shop,
        json!({ "category_id": c, "percent": "40", "valid_from": "2002-01-01T00:00:00Z" }),
    )
    .await;
    assert_eq!(
        quoted(&app, &shop, &in_category).await,
        (400, json!(newer), json!("category"))
    );
    let before = format!("{in_category}&at=2001-06-01T00:00:00Z");
    assert_eq!(quoted(&app, &shop, &before).await.0, 200);
}
on_embedded_and_real!(validity_windows_and_currency_limits);

async fn bad_input_is_refused_and_changes_nothing(backend: Backend, test: &str) {
    let Some(app) = TestApp::spawn(backend, test).await else {
        return;
    };
    let admin = app.admin_token().await;
    let shop = app.shop(&admin, "growth").await;
    let (a, seller) = vendor(&app, &shop, "Dune Dyes").await;
    let unknown_vendor = VendorId::new().to_string();

    let cases = [
        (json!({ "percent": "150" }), vec!["/percent"]),
        (json!({ "percent": "12.34567" }), vec!["/percent"]),
        (json!({ "percent": 12.5 }), vec!["/percent"]),
        (json!({ "percent": "-1" }), vec!["/percent"]),
        (json!({}), vec!["/percent"]),
        (
            json!({ "fixed_fee": { "amount": -5, "currency": "EUR" } }),
            vec!["/fixed_fee/amount"],
        ),
        (
            json!({ "fixed_fee": { "amount": 5, "currency": "XYZ" } }),
            vec!["/fixed_fee/currency"],
        ),
        (
            json!({ "percent": "5", "limits": [{ "currency": "ABC", "min": 1 }] }),
            vec!["/limits/0/currency"],
        ),
        (
            json!({ "percent": "5", "limits": [{ "currency": "EUR", "min": 10, "max": 5 }] }),
            vec!["/limits/0"],
        ),
        (
            json!({ "percent": "5", "limits": [{ "currency": "EUR", "min": 1 }, { "currency": "EUR", "max": 9 }] }),
            vec!["/limits/1/currency"],
        ),
        (
            json!({ "percent": "5", "valid_from": "2030-01-02T00:00:00Z", "valid_until": "2030-01-02T00:00:00Z" }),
            vec!["/valid_until"],
        ),
        (
            json!({ "percent": "5", "valid_from": "2030-01-02T00:00:00Z", "valid_until": "2030-01-01T00:00:00Z" }),
            vec!["/valid_until"],
        ),
        (
            json!({ "percent": "5", "valid_from": "tomorrow" }),
            vec!["/valid_from"],
        ),
        (
            json!({ "percent": "5", "vendor_id": "not-a-vendor" }),
            vec!["/vendor_id"],
        ),
        (
            json!({ "percent": "5", "vendor_id": unknown_vendor }),
            vec!["/vendor_id"],
        ),
        (
            json!({ "percent": "5", "category_id": a }),
            vec!["/category_id"],
        ),
        (
            json!({ "percent": "500", "fixed_fee": { "amount": -1, "currency": "eur" } }),
            vec!["/percent", "/fixed_fee/amount", "/fixed_fee/currency"],
        ),
    ];
    for (body, fields) in &cases {
        let reply = app
            .client
            .post(
                &shop.host,
                "/api/v1/commission-rules",
                Some(&shop.owner),
                body,
            )
            .await
            .unwrap();
        assert_eq!(reply.status, 422, "{body}: {}", reply.text);
        assert_eq!(reply.str("code"), "validation_failed");
        assert_eq!(&error_fields(&reply), fields, "{body}: {}", reply.text);
    }
    let unknown_field = app
        .client
        .post(
            &shop.host,
            "/api/v1/commission-rules",
            Some(&shop.owner),
            &json!({ "percent": "5", "rate": "5" }),
        )
        .await
        .unwrap();
    assert_eq!(unknown_field.status, 422, "{}", unknown_field.text);
    let list = app
        .client
        .get(&shop.host, "/api/v1/commission-rules", Some(&shop.owner))
        .await
        .unwrap();
    assert_eq!(list.status, 200, "{}", list.text);
    assert!(ids(&list.body).is_empty(), "{}", list.text);

    // Quotes: every bad parameter named.
    for (query, fields) in [
        (format!("vendor_id={a}&currency=EUR"), vec!["/amount"]),
        (
            format!("vendor_id={a}&amount=-1&currency=EUR"),
            vec!["/amount"],
        ),
        (
            format!("vendor_id={a}&amount=1.5&currency=EUR"),
            vec!["/amount"],
        ),
        (
            format!("vendor_id={a}&amount=100&currency=eur"),
            vec!["/currency"],
        ),
        (
            format!("vendor_id={a}&amount=100&currency=EUR&at=yesterday"),
            vec!["/at"],
        ),
        (
            format!("vendor_id={a}&amount=100&currency=EUR&category_id=x"),
            vec!["/category_id"],
        ),
        ("amount=100&currency=EUR".to_owned(), vec!["/vendor_id"]),
        (
            "vendor_id=ven_x&amount=x".to_owned(),
            vec!["/vendor_id", "/amount", "/currency"],
        ),
    ] {
        let reply = quote(&app, &shop, Some(&shop.owner), &query).await;
        assert_eq!(reply.status, 422, "{query}: {}", reply.text);
        assert_eq!(error_fields(&reply), fields, "{query}: {}", reply.text);
    }

    // Payout accounts: bad details are refused and nothing is stored or completed.
    let path = format!("/api/v1/vendors/{a}/payout-account");
    let good = json!({
        "method": "bank_transfer", "account_holder": "Dune Dyes GmbH",
        "iban": "DE89 3704 0044 0532 0130 00", "schedule": "weekly",
        "minimum_payout": { "amount": 5000, "currency": "EUR" }, "currency": "EUR",
    });
    let with = |changes: Value| {
        let mut body = good.clone();
        for (k, v) in changes.as_object().into_iter().flatten() {
            if v.is_null() {
                body.as_object_mut().map(|o| o.remove(k));
            } else {
                body[k] = v.clone();
            }
        }
        body
    };
    for (body, fields) in [
        (
            with(json!({ "iban": "DE89 3704 0044 0532 0130 01" })),
            vec!["/iban"],
        ),
        (with(json!({ "iban": null })), vec!["/iban"]),
        (
            with(json!({ "account_holder": " " })),
            vec!["/account_holder"],
        ),
        (
            with(json!({ "stripe_account_id": "acct_123" })),
            vec!["/stripe_account_id"],
        ),
        (
            with(json!({ "method": "stripe_connect", "stripe_account_id": "acct_123" })),
            vec!["/account_holder", "/iban"],
        ),
        (
            with(
                json!({ "method": "stripe_connect", "account_holder": null, "iban": null, "stripe_account_id": "123" }),
            ),
            vec!["/stripe_account_id"],
        ),
        (with(json!({ "method": "cheque" })), vec!["/method"]),
        (with(json!({ "schedule": "hourly" })), vec!["/schedule"]),
        (
            with(json!({ "currency": "USD" })),
            vec!["/minimum_payout/currency"],
        ),
        (with(json!({ "currency": "XXX" })), vec!["/currency"]),
        (
            with(json!({ "minimum_payout": { "amount": -1, "currency": "EUR" } })),
            vec!["/minimum_payout/amount"],
        ),
    ] {
        let reply = app
            .client
            .send("PUT", &shop.host, &path, Some(&seller), Some(&body))
            .await
            .unwrap();
        assert_eq!(reply.status, 422, "{body}: {}", reply.text);
        assert_eq!(error_fields(&reply), fields, "{body}: {}", reply.text);
    }
    let none = app
        .client
        .get(&shop.host, &path, Some(&seller))
        .await
        .unwrap();
    assert_eq!(none.status, 404, "{}", none.text);
    let checklist = app
        .client
        .get(
            &shop.host,
            &format!("/api/v1/vendors/{a}/checklist"),
            Some(&seller),
        )
        .await
        .unwrap();
    let item = checklist.body["items"]
        .as_array()
        .and_then(|items| items.iter().find(|i| i["code"] == "payout_account"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(item["state"], "missing", "{}", checklist.text);
}
on_embedded_and_real!(bad_input_is_refused_and_changes_nothing);

async fn a_payout_account_round_trip(backend: Backend, test: &str) {
    let Some(app) = TestApp::spawn(backend, test).await else {
        return;
    };
    let admin = app.admin_token().await;
    let shop = app.shop(&admin, "growth").await;
    let (a, seller) = vendor(&app, &shop, "Ember Pottery").await;
    let path = format!("/api/v1/vendors/{a}/payout-account");

    let missing = app
        .client
        .get(&shop.host, &path, Some(&seller))
        .await
        .unwrap();
    assert_eq!(missing.status, 404, "{}", missing.text);

    let bank = json!({
        "method": "bank_transfer", "account_holder": "Ember Pottery GmbH",
        "iban": "de89 3704 0044 0532 0130 00", "schedule": "weekly",
        "minimum_payout": { "amount": 5000, "currency": "EUR" }, "currency": "EUR",
    });
    let saved = app
        .client
        .send("PUT", &shop.host, &path, Some(&seller), Some(&bank))
        .await
        .unwrap();
    assert_eq!(saved.status, 200, "{}", saved.text);
    assert_eq!(saved.str("method"), "bank_transfer");
    assert_eq!(saved.str("iban_masked"), "******************3000");
    assert_eq!(saved.str("account_holder"), "Ember Pottery GmbH");
    assert_eq!(saved.str("schedule"), "weekly");
    assert_eq!(
        saved.body["minimum_payout"],
        json!({ "amount": 5000, "currency": "EUR" })
    );
    assert_eq!(saved.str("vendor_id"), a);
    assert!(!saved.text.contains("37040044"), "{}", saved.text);
    let account_id = saved.str("id");

    // The vendor and the merchant see the same, masked.
    for token in [&seller, &shop.owner] {
        let shown = app
            .client
            .get(&shop.host, &path, Some(token))
            .await
            .unwrap();
        assert_eq!(shown.status, 200, "{}", shown.text);
        assert_eq!(shown.body, saved.body);
    }

    // The checklist item is done.
    let checklist = app
        .client
        .get(
            &shop.host,
            &format!("/api/v1/vendors/{a}/checklist"),
            Some(&seller),
        )
        .await
        .unwrap();
    assert_eq!(checklist.status, 200, "{}", checklist.text);
    let item = checklist.body["items"]
        .as_array()
        .and_then(|items| items.iter().find(|i| i["code"] == "payout_account"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(item["state"], "completed", "{}", checklist.text);

    // Switching to Stripe Connect replaces the account (same id); the merchant may do it too.
    let switched = app
        .client
        .send(
            "PUT",
            &shop.host,
            &path,
            Some(&shop.owner),
            Some(&json!({
                "method": "stripe_connect", "stripe_account_id": "acct_1Nv0FGQ9RKHgCVdK",
                "schedule": "monthly", "minimum_payout": { "amount": 0, "currency": "USD" },
                "currency": "USD",
            })),
        )
        .await
        .unwrap();
    assert_eq!(switched.status, 200, "{}", switched.text);
    assert_eq!(switched.str("id"), account_id);
    assert_eq!(switched.str("method"), "stripe_connect");
    assert_eq!(switched.str("stripe_account_id"), "acct_1Nv0FGQ9RKHgCVdK");
    assert!(switched.body["iban_masked"].is_null() && switched.body["account_holder"].is_null());
    assert_eq!(switched.str("currency"), "USD");
    let shown = app
        .client
        .get(&shop.host, &path, Some(&seller))
        .await
        .unwrap();
    assert_eq!(shown.body, switched.body);

    // Strangers, signed in or not, do not find it.
    let (_, shopper) = app.customer(&shop).await;
    for token in [Some(shopper.as_str()), None] {
        let hidden = app.client.get(&shop.host, &path, token).await.unwrap();
        assert_eq!(hidden.status, 404, "{}", hidden.text);
        let refused = app
            .client
            .send("PUT", &shop.host, &path, token, Some(&bank))
            .await
            .unwrap();
        assert_eq!(refused.status, 404, "{}", refused.text);
    }
}
on_embedded_and_real!(a_payout_account_round_trip);

async fn another_shops_ids_are_not_found(backend: Backend, test: &str) {
    let Some(app) = TestApp::spawn(backend, test).await else {
        return;
    };
    let admin = app.admin_token().await;
    let shop_a = app.shop(&admin, "growth").await;
    let shop_b = app.shop(&admin, "growth").await;
    let (vendor_a, _) = vendor(&app, &shop_a, "Fjord Fibres").await;
    let (vendor_b, seller_b) = vendor(&app, &shop_b, "Grove Glass").await;
    let rule_b = add_rule(
        &app,
        &shop_b,
        json!({ "vendor_id": vendor_b, "percent": "7" }),
    )
    .await;
    add_rule(&app, &shop_a, json!({ "percent": "10" })).await;

    // B's rule does not exist on A.
    let rule_path = format!("/api/v1/commission-rules/{rule_b}");
    let shown = app
        .client
        .get(&shop_a.host, &rule_path, Some(&shop_a.owner))
        .await
        .unwrap();
    assert_eq!(shown.status, 404, "{}", shown.text);
    let deleted = app
        .client
        .delete(&shop_a.host, &rule_path, Some(&shop_a.owner))
        .await
        .unwrap();
    assert_eq!(deleted.status, 404, "{}", deleted.text);
    let listed = app
        .client
        .get(
            &shop_a.host,
            "/api/v1/commission-rules",
            Some(&shop_a.owner),
        )
        .await
        .unwrap();
    assert!(!ids(&listed.body).contains(&rule_b), "{}", listed.text);
    let still = app
        .client
        .get(&shop_b.host, &rule_path, Some(&shop_b.owner))
        .await
        .unwrap();
    assert_eq!(still.status, 200, "{}", still.text);

    // B's vendor is unknown on A: in a rule exactly like a vendor that never existed.
    let with_b = app
        .client
        .post(
            &shop_a.host,
            "/api/v1/commission-rules",
            Some(&shop_a.owner),
            &json!({ "vendor_id": vendor_b, "percent": "1" }),
        )
        .await
        .unwrap();
    let with_unknown = app
        .client
        .post(
            &shop_a.host,
            "/api/v1/commission-rules",
            Some(&shop_a.owner),
            &json!({ "vendor_id": VendorId::new().to_string(), "percent": "1" }),
        )
        .await
        .unwrap();
    assert_eq!(with_b.status, 422, "{}", with_b.text);
    assert_eq!(with_b.body["errors"], with_unknown.body["errors"]);

    // A quote for B's vendor on A finds nothing; B's vendor staff are not signed in on A.
    let query = format!("vendor_id={vendor_b}&amount=1000&currency=EUR");
    let reply = quote(&app, &shop_a, Some(&shop_a.owner), &query).await;
    assert_eq!(reply.status, 404, "{}", reply.text);
    let reply = quote(&app, &shop_b, Some(&seller_b), &query).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    for vendor in [&vendor_a, &vendor_b] {
        let query = format!("vendor_id={vendor}&amount=1000&currency=EUR");
        let reply = quote(&app, &shop_a, Some(&seller_b), &query).await;
        assert_eq!(reply.status, 401, "{}", reply.text);
    }

    // Nor its payout account.
    let path = format!("/api/v1/vendors/{vendor_b}/payout-account");
    let body = json!({
        "method": "stripe_connect", "stripe_account_id": "acct_123456",
        "schedule": "daily", "minimum_payout": { "amount": 100, "currency": "EUR" }, "currency": "EUR",
    });
    let read = app
        .client
        .get(&shop_a.host, &path, Some(&shop_a.owner))
        .await
        .unwrap();
    assert_eq!(read.status, 404, "{}", read.text);
    let write = app
        .client
        .send("PUT", &shop_a.host, &path, Some(&shop_a.owner), Some(&body))
        .await
        .unwrap();
    assert_eq!(write.status, 404, "{}", write.text);
    let own = app
        .client
        .send("PUT", &shop_b.host, &path, Some(&seller_b), Some(&body))
        .await
        .unwrap();
    assert_eq!(own.status, 200, "{}", own.text);
}
on_embedded_and_real!(another_shops_ids_are_not_found);

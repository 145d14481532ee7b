//! A guest buys from two vendors with a coupon in one payment; the order splits into two
//! vendor orders whose shares add up to the order; each vendor sees and ships only theirs;
//! delivery completes the order; nobody else sees any of it.

use super::*;
use crate::support::Backend;
use crate::{on_all_backends, on_embedded_and_real};

async fn a_guest_buys_from_two_vendors_with_a_coupon(backend: Backend, test: &str) {
    let Some(app) = crate::catalog::spawn(backend, test).await else {
        return;
    };
    let m = market(&app).await;
    let host = m.host();
    let (tea, pot) = (m.tea.variants[0].as_str(), m.pots.variants[0].as_str());
    let coupon = app
        .client
        .post(
            host,
            "/api/v1/coupons",
            Some(&m.shop.owner),
            &json!({ "code": "spring10", "percent": "10" }),
        )
        .await
        .unwrap();
    assert_eq!(coupon.status, 201, "{}", coupon.text);
    assert_eq!(coupon.str("code"), "SPRING10");

    // The cart shows each vendor's shipping, the coupon and the taxes for Germany.
    let created = cart(&app, host, &[(tea, 2), (pot, 1)]).await;
    let cart_id = created.str("id");
    assert!(cart_id.starts_with("crt_"), "{cart_id}");
    let path = format!("/api/v1/carts/{cart_id}");
    let priced = app
        .client
        .patch(
            host,
            &path,
            None,
            &json!({ "coupon_code": "spring10", "country": "de" }),
        )
        .await
        .unwrap();
    assert_eq!(priced.status, 200, "{}", priced.text);
    assert_eq!(priced.body["coupon"]["applied"], true, "{}", priced.text);
    assert_eq!(priced.body["coupon"]["discount"]["amount"], 640);
    assert_eq!(priced.body["vendors"].as_array().unwrap().len(), 2);
    assert_eq!(priced.body["totals"]["subtotal"]["amount"], 6400);
    assert_eq!(priced.body["totals"]["shipping"]["amount"], 990);
    assert_eq!(
        priced.body["totals"]["total"]["amount"], 8033,
        "{}",
        priced.text
    );
    assert_eq!(priced.body["ready_for_checkout"], true);
    // Shoppers do not see the commission; the merchant does.
    assert!(priced.body["lines"][0].get("commission").is_none());
    let merchant_view = app
        .client
        .get(host, &path, Some(&m.shop.owner))
        .await
        .unwrap();
    assert_eq!(
        merchant_view.body["lines"][0]["commission"]["amount"], 250,
        "{}",
        merchant_view.text
    );

    // One checkout, one payment.
    let placed = checkout(&app, host, "checkout-1", &checkout_body(&cart_id, PAYS)).await;
    assert_eq!(placed.status, 201, "{}", placed.text);
    let order = placed.str("id");
    let token = placed.str("order_token");
    assert!(order.starts_with("ord_"), "{order}");
    assert_eq!(placed.str("status"), "paid", "{}", placed.text);
    assert_eq!(placed.body["total"]["amount"], 8033);
    let parts = placed.body["vendor_orders"].as_array().unwrap().clone();
    assert_eq!(parts.len(), 2);
    for field in ["subtotal", "discount", "shipping", "tax", "total"] {
        let sum: i64 = parts
            .iter()
            .map(|p| p[field]["amount"].as_i64().unwrap())
            .sum();
        assert_eq!(
            sum,
            placed.body[field]["amount"].as_i64().unwrap(),
            "{field} shares add up"
        );
    }
    for part in &parts {
        assert_eq!(part["status"], "to_fulfil");
    }
    let tea_part = parts
        .iter()
        .find(|p| p["vendor_id"] == m.tea.vendor.as_str())
        .unwrap();
    assert_eq!(tea_part["discount"]["amount"], 250);
    assert_eq!(tea_part["shipping"]["amount"], 490);
    assert_eq!(tea_part["tax"]["amount"], 428 + 93);
    let tea_vo = tea_part["id"].as_str().unwrap().to_owned();
    let pot_vo = parts
        .iter()
        .find(|p| p["vendor_id"] == m.pots.vendor.as_str())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // The guest reads the order with its token; without it, or on another shop, it is not there.
    let read = guest_order(&app, host, &order, &token).await;
    assert_eq!(read.status, 200, "{}", read.text);
    assert!(read.body["history"].as_array().unwrap().len() >= 2);
    // The checkout's answer (rendered from the order as checkout wrote it) is the order as
    // stored: lines, vendor orders, payments and history alike.
    let mut answered = placed.body.clone();
    answered.as_object_mut().unwrap().remove("order_token");
    assert_eq!(answered, read.body, "{}\n{}", placed.text, read.text);
    let anonymous = app
        .client
        .get(host, &format!("/api/v1/orders/{order}"), None)
        .await
        .unwrap();
    assert_eq!(anonymous.status, 404, "{}", anonymous.text);
    let admin = app.admin_token().await;
    let other = app.shop(&admin, "growth").await;
    let elsewhere = guest_order(&app, &other.host, &order, &token).await;
    assert_eq!(elsewhere.status, 404, "{}", elsewhere.text);
    let other_cart = app.client.get(&other.host, &path, None).await.unwrap();
    assert_eq!(other_cart.status, 404, "{}", other_cart.text);
    let other_merchant = app
        .client
        .get(
            &other.host,
            &format!("/api/v1/vendor-orders/{tea_vo}"),
            Some(&other.owner),
        )
        .await
        .unwrap();
    assert_eq!(other_merchant.status, 404, "{}", other_merchant.text);
    // Another shop's merchant lists none of this shop's orders or vendor orders.
    for list in ["/api/v1/orders", "/api/v1/vendor-orders"] {
        let theirs = app
            .client
            .get(&other.host, list, Some(&other.owner))
            .await
            .unwrap();
        assert_eq!(theirs.status, 200, "{}", theirs.text);
        assert_eq!(theirs.body["data"], json!([]), "{list}: {}", theirs.text);
    }

    // Each vendor sees only their part, with where to ship it and no payment details.
    let mine = app
        .client
        .get(host, "/api/v1/vendor-orders", Some(&m.tea.token))
        .await
        .unwrap();
    assert_eq!(mine.status, 200, "{}", mine.text);
    let listed = mine.body["data"].as_array().unwrap();
    assert_eq!(listed.len(), 1, "{}", mine.text);
    assert_eq!(listed[0]["id"], tea_vo.as_str());
    assert_eq!(listed[0]["shipping_address"]["city"], "Berlin");
    assert!(listed[0].get("payments").is_none());
    // The merchant sees both, each as its own page shows it (the orders behind a page of
    // vendor orders are read together).
    let every = listed_as_shown(
        &app,
        host,
        "/api/v1/vendor-orders",
        "/api/v1/vendor-orders",
        &m.shop.owner,
    )
    .await;
    assert_eq!(every.len(), 2, "{every:?}");
    let foreign = app
        .client
        .get(
            host,
            &format!("/api/v1/vendor-orders/{pot_vo}"),
            Some(&m.tea.token),
        )
        .await
        .unwrap();
    assert_eq!(foreign.status, 404, "{}", foreign.text);
    let foreign_ship = app
        .client
        .post(
            host,
            &format!("/api/v1/vendor-orders/{pot_vo}/ship"),
            Some(&m.tea.token),
            &json!({ "carrier": "DHL", "tracking_number": "X" }),
        )
        .await
        .unwrap();
    assert_eq!(foreign_ship.status, 404, "{}", foreign_ship.text);
    let not_an_order = app
        .client
        .get(host, &format!("/api/v1/orders/{order}"), Some(&m.tea.token))
        .await
        .unwrap();
    assert_eq!(not_an_order.status, 404, "{}", not_an_order.text);

    // The stock was committed: sold units left the shelf, nothing stays reserved.
    app.settle().await;
    let sold = stock(&app, &m.shop, tea).await;
    assert!(
        sold["reserved"] == 0 && sold["on_hand"] == 8,
        "the tea's reservation committed: {sold:?}"
    );
    assert_eq!(sold["available"], 8);

    // Ship and deliver both parts: the order completes.
    let bad_ship = app
        .client
        .post(
            host,
            &format!("/api/v1/vendor-orders/{tea_vo}/ship"),
            Some(&m.tea.token),
            &json!({ "carrier": "", "tracking_number": "1Z" }),
        )
        .await
        .unwrap();
    assert_eq!(bad_ship.status, 422, "{}", bad_ship.text);
    for (vo, seller) in [(&tea_vo, &m.tea.token), (&pot_vo, &m.pots.token)] {
        let early = app
            .client
            .post(
                host,
                &format!("/api/v1/vendor-orders/{vo}/deliver"),
                Some(seller),
                &json!({}),
            )
            .await
            .unwrap();
        assert_eq!(
            early.status, 409,
            "delivered before shipping: {}",
            early.text
        );
        let shipped = app
            .client
            .post(
                host,
                &format!("/api/v1/vendor-orders/{vo}/ship"),
                Some(seller),
                &json!({ "carrier": "DHL", "tracking_number": "00340434161094000000" }),
            )
            .await
            .unwrap();
        assert_eq!(shipped.status, 200, "{}", shipped.text);
        assert_eq!(shipped.str("status"), "shipped");
        assert_eq!(shipped.str("carrier"), "DHL");
        let delivered = app
            .client
            .post(
                host,
                &format!("/api/v1/vendor-orders/{vo}/deliver"),
                Some(seller),
                &json!({}),
            )
            .await
            .unwrap();
        assert_eq!(delivered.status, 200, "{}", delivered.text);
    }
    let done = guest_order(&app, host, &order, &token).await;
    assert_eq!(done.str("status"), "completed", "{}", done.text);
    // Cancelling a delivered order is refused and changes nothing.
    let late = post_with(
        &app,
        host,
        &format!("/api/v1/orders/{order}/cancel"),
        None,
        &[("x-order-token", &token)],
        &json!({}),
    )
    .await;
    assert_eq!(late.status, 409, "{}", late.text);

    // The merchant sees every order, commissions included.
    let all = app
        .client
        .get(host, "/api/v1/orders", Some(&m.shop.owner))
        .await
        .unwrap();
    assert_eq!(all.status, 200, "{}", all.text);
    assert_eq!(all.body["data"][0]["id"], order.as_str());
    assert!(all.body["data"][0]["vendor_orders"][0]["commission"].is_object());
    // The coupon counts its use.
    let used = app
        .client
        .get(
            host,
            &format!("/api/v1/coupons/{}", coupon.str("id")),
            Some(&m.shop.owner),
        )
        .await
        .unwrap();
    assert_eq!(used.body["used_count"], 1, "{}", used.text);
}
on_all_backends!(a_guest_buys_from_two_vendors_with_a_coupon);

async fn a_customer_cart_is_theirs_and_a_guest_cart_merges_into_it(backend: Backend, test: &str) {
    let Some(app) = crate::catalog::spawn(backend, test).await else {
        return;
    };
    let m = market(&app).await;
    let host = m.host();
    let (tea, pot) = (m.tea.variants[0].as_str(), m.pots.variants[0].as_str());
    let guest = cart(&app, host, &[(tea, 3), (pot, 1)]).await;
    let (_, customer) = app.customer(&m.shop).await;
    let theirs = app
        .client
        .post(
            host,
            "/api/v1/carts",
            Some(&customer),
            &json!({ "lines": [{ "variant_id": tea, "quantity": 9 }] }),
        )
        .await
        .unwrap();
    assert_eq!(theirs.status, 201, "{}", theirs.text);
    let their_id = theirs.str("id");
    // Another shopper cannot read it; the customer gets it back from POST /carts.
    let (_, stranger) = app.customer(&m.shop).await;
    let peek = app
        .client
        .get(host, &format!("/api/v1/carts/{their_id}"), Some(&stranger))
        .await
        .unwrap();
    assert_eq!(peek.status, 404, "{}", peek.text);
    let again = app
        .client
        .post(host, "/api/v1/carts", Some(&customer), &json!({}))
        .await
        .unwrap();
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(again.str("id"), their_id);

    // Signing in merges the guest cart: quantities summed, capped at the 10 available.
    let merged = app
        .client
        .post(
            host,
            &format!("/api/v1/carts/{}/merge", guest.str("id")),
            Some(&customer),
            &json!({}),
        )
        .await
        .unwrap();
    assert_eq!(merged.status, 200, "{}", merged.text);
    assert_eq!(merged.str("id"), their_id);
    let quantities: Vec<(String, i64)> = merged.body["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["variant_id"].as_str().unwrap().to_owned(),
                l["quantity"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(quantities, vec![(tea.to_owned(), 10), (pot.to_owned(), 1)]);
    let closed = app
        .client
        .get(host, &format!("/api/v1/carts/{}", guest.str("id")), None)
        .await
        .unwrap();
    assert_eq!(closed.str("status"), "merged");
    let reuse = app
        .client
        .post(
            host,
            &format!("/api/v1/carts/{}/lines", guest.str("id")),
            None,
            &json!({ "variant_id": tea, "quantity": 1 }),
        )
        .await
        .unwrap();
    assert_eq!(reuse.status, 409, "{}", reuse.text);

    // Bad lines are refused and change nothing.
    let line_path = format!("/api/v1/carts/{their_id}/lines");
    for (body, field) in [
        (json!({ "variant_id": tea, "quantity": 0 }), "/quantity"),
        (
            json!({ "variant_id": "prd_nope", "quantity": 1 }),
            "/variant_id",
        ),
    ] {
        let refused = app
            .client
            .post(host, &line_path, Some(&customer), &body)
            .await
            .unwrap();
        assert_eq!(refused.status, 422, "{}", refused.text);
        assert_eq!(crate::support::error_fields(&refused), [field]);
    }
    let too_many = app
        .client
        .post(
            host,
            &line_path,
            Some(&customer),
            &json!({ "variant_id": pot, "quantity": 10 }),
        )
        .await
        .unwrap();
    assert_eq!(too_many.status, 409, "{}", too_many.text);
    assert_eq!(too_many.str("code"), "insufficient_stock");
    let unchanged = app
        .client
        .get(host, &format!("/api/v1/carts/{their_id}"), Some(&customer))
        .await
        .unwrap();
    assert_eq!(unchanged.body["lines"][1]["quantity"], 1);

    // Update and remove a line.
    let line = unchanged.body["lines"][1]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let updated = app
        .client
        .patch(
            host,
            &format!("{line_path}/{line}"),
            Some(&customer),
            &json!({ "quantity": 2 }),
        )
        .await
        .unwrap();
    assert_eq!(updated.status, 200, "{}", updated.text);
    assert_eq!(updated.body["lines"][1]["quantity"], 2);
    let removed = app
        .client
        .delete(host, &format!("{line_path}/{line}"), Some(&customer))
        .await
        .unwrap();
    assert_eq!(removed.status, 200, "{}", removed.text);
    assert_eq!(removed.body["lines"].as_array().unwrap().len(), 1);

    // A coupon that does not apply says why.
    let _ = app
        .client
        .post(
            host,
            "/api/v1/coupons",
            Some(&m.shop.owner),
            &json!({ "code": "BIG", "amount": eur(1000), "min_subtotal": eur(50000) }),
        )
        .await
        .unwrap();
    let preview = app
        .client
        .patch(
            host,
            &format!("/api/v1/carts/{their_id}"),
            Some(&customer),
            &json!({ "coupon_code": "big" }),
        )
        .await
        .unwrap();
    assert_eq!(preview.body["coupon"]["applied"], false, "{}", preview.text);
    assert_eq!(
        preview.body["coupon"]["reason"]["code"],
        "coupon_below_minimum"
    );
    let unknown = app
        .client
        .patch(
            host,
            &format!("/api/v1/carts/{their_id}"),
            Some(&customer),
            &json!({ "coupon_code": "NOPE" }),
        )
        .await
        .unwrap();
    assert_eq!(unknown.body["coupon"]["reason"]["code"], "coupon_unknown");
}
on_embedded_and_real!(a_customer_cart_is_theirs_and_a_guest_cart_merges_into_it);

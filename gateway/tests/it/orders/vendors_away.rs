//! A vendor that is away sells nothing: on holiday (the shopper is told the day it is back)
//! or suspended, its lines are refused when added to a cart and at checkout, and no stock is
//! held for them, whoever asks inventory. Only its own staff set its holiday. While it is on
//! holiday its products stay on show with a notice of the day it is back.

use super::*;
use crate::on_embedded_and_real;
use crate::support::Backend;

async fn holiday(app: &TestApp, host: &str, token: &str, vendor: &str, until: Value) -> Reply {
    app.client
        .send(
            "PUT",
            host,
            &format!("/api/v1/vendors/{vendor}/holiday"),
            Some(token),
            Some(&json!({ "until": until })),
        )
        .await
        .unwrap()
}

async fn add(app: &TestApp, host: &str, cart: &str, variant: &str) -> Reply {
    app.client
        .post(
            host,
            &format!("/api/v1/carts/{cart}/lines"),
            None,
            &json!({ "variant_id": variant, "quantity": 1 }),
        )
        .await
        .unwrap()
}

async fn a_vendor_away_takes_no_orders(backend: Backend, test: &str) {
    let Some(app) = crate::catalog::spawn(backend, test).await else {
        return;
    };
    let m = market(&app).await;
    let host = m.host();
    let tea = m.tea.variants[0].as_str();
    let pot = m.pots.variants[0].as_str();
    // A cart with tea, made before the vendor leaves, and one with a teapot only.
    let before = cart(&app, host, &[(tea, 2)]).await.str("id");
    let pots_only = cart(&app, host, &[(pot, 1)]).await.str("id");

    // Another vendor's staff cannot send this one on holiday.
    let until = (chrono::Utc::now().date_naive() + chrono::Duration::days(3)).to_string();
    let back = (chrono::Utc::now().date_naive() + chrono::Duration::days(4)).to_string();
    let meddling = holiday(&app, host, &m.pots.token, &m.tea.vendor, json!(until)).await;
    assert!([403, 404].contains(&meddling.status), "{}", meddling.text);
    let away = holiday(&app, host, &m.tea.token, &m.tea.vendor, json!(until)).await;
    assert_eq!(away.status, 200, "{}", away.text);

    // The cart shows why, with the day it is back; adding more is refused.
    app.settle().await;
    let seen = app
        .client
        .get(host, &format!("/api/v1/carts/{before}"), None)
        .await
        .unwrap();
    assert_eq!(
        seen.body["lines"][0]["problem"]["code"], "vendor_on_holiday",
        "{}",
        seen.text
    );
    assert!(
        seen.body["lines"][0]["problem"]["message"]
            .as_str()
            .unwrap()
            .contains(&back),
        "{}",
        seen.text
    );
    let added = add(&app, host, &pots_only, tea).await;
    assert_eq!(added.status, 409, "{}", added.text);
    assert_eq!(added.str("code"), "vendor_on_holiday");
    assert!(added.text.contains(&back), "{}", added.text);

    // Checkout is refused with the same reason; nothing is held or ordered.
    let refused = checkout(&app, host, "k-away", &checkout_body(&before, PAYS)).await;
    assert_eq!(refused.status, 409, "{}", refused.text);
    assert_eq!(refused.str("code"), "vendor_on_holiday");
    assert_eq!(stock(&app, &m.shop, tea).await["reserved"], 0);
    // The product stays on show while its vendor is away.
    let listed = app
        .client
        .get(host, "/api/v1/products", None)
        .await
        .unwrap();
    assert_eq!(
        listed.body["data"].as_array().unwrap().len(),
        2,
        "{}",
        listed.text
    );
    // The other vendor sells as usual.
    let other = checkout(&app, host, "k-pots", &checkout_body(&pots_only, PAYS)).await;
    assert_eq!(other.status, 201, "{}", other.text);

    // Back from holiday: the first cart checks out.
    let home = holiday(&app, host, &m.tea.token, &m.tea.vendor, Value::Null).await;
    assert_eq!(home.status, 200, "{}", home.text);
    app.settle().await;
    let seen = app
        .client
        .get(host, &format!("/api/v1/carts/{before}"), None)
        .await
        .unwrap();
    assert!(seen.body["lines"][0]["problem"].is_null(), "{}", seen.text);
    let placed = checkout(&app, host, "k-back", &checkout_body(&before, PAYS)).await;
    assert_eq!(placed.status, 201, "{}", placed.text);

    // Suspended: refused the same way, with its own reason.
    let later = cart(&app, host, &[(tea, 1)]).await.str("id");
    let suspended = app
        .client
        .post(
            host,
            &format!("/api/v1/vendors/{}/transitions", m.tea.vendor),
            Some(&m.shop.owner),
            &json!({ "action": "suspend", "reason": "counterfeit complaints" }),
        )
        .await
        .unwrap();
    assert_eq!(suspended.status, 200, "{}", suspended.text);
    app.settle().await;
    let seen = app
        .client
        .get(host, &format!("/api/v1/carts/{later}"), None)
        .await
        .unwrap();
    assert_eq!(
        seen.body["lines"][0]["problem"]["code"], "vendor_not_selling",
        "{}",
        seen.text
    );
    let refused = checkout(&app, host, "k-suspended", &checkout_body(&later, PAYS)).await;
    assert_eq!(refused.status, 409, "{}", refused.text);
    assert_eq!(refused.str("code"), "vendor_not_selling");
    let fresh = cart(&app, host, &[(pot, 1)]).await.str("id");
    let added = add(&app, host, &fresh, tea).await;
    assert_eq!(added.status, 409, "{}", added.text);
    assert_eq!(added.str("code"), "vendor_not_selling");
}
on_embedded_and_real!(a_vendor_away_takes_no_orders);

/// The shop's public page of the one product `vendor` lists.
async fn product_page(app: &TestApp, host: &str, vendor: &str) -> Reply {
    let listed = app
        .client
        .get(host, &format!("/api/v1/products?vendor_id={vendor}"), None)
        .await
        .unwrap();
    assert_eq!(listed.status, 200, "{}", listed.text);
    let slug = listed.body["data"][0]["slug"].as_str().unwrap().to_owned();
    app.client
        .get(host, &format!("/api/v1/products/{slug}"), None)
        .await
        .unwrap()
}

/// Merchant staff holding `quantity` of `variant` directly in inventory.
async fn reserve(app: &TestApp, shop: &Shop, variant: &str, quantity: i64) -> Reply {
    app.client
        .post(
            &shop.host,
            "/api/v1/reservations",
            Some(&shop.owner),
            &json!({ "lines": [{ "variant_id": variant, "quantity": quantity }] }),
        )
        .await
        .unwrap()
}

/// Checks that inventory judges `variant`'s vendor as `code` says (`vendor_on_holiday`, or
/// `insufficient_stock`: selling). It asks for more than is in stock, so no answer holds
/// anything: the vendor is judged before the stock.
async fn inventory_says(app: &TestApp, shop: &Shop, variant: &str, code: &str) {
    let reply = reserve(app, shop, variant, 100_000).await;
    assert_eq!(reply.status, 409, "{}", reply.text);
    assert_eq!(reply.str("code"), code, "{}", reply.text);
}

async fn a_vendor_on_holiday_shows_a_notice_and_holds_no_stock(backend: Backend, test: &str) {
    let Some(app) = crate::catalog::spawn(backend, test).await else {
        return;
    };
    let m = market(&app).await;
    let host = m.host();
    let tea = m.tea.variants[0].as_str();
    let pot = m.pots.variants[0].as_str();
    // Another shop, whose tea vendor stays at home.
    let admin = app.admin_token().await;
    let elsewhere = app.shop(&admin, "growth").await;
    let far = seller(
        &app,
        &elsewhere,
        "Far Tea",
        "Gyokuro",
        &[("GYO-1", 2000)],
        10,
        json!({ "shipping_flat_rate": crate::catalog::eur(490) }),
    )
    .await;

    let until = chrono::Utc::now().date_naive() + chrono::Duration::days(3);
    let back = (until + chrono::Duration::days(1)).to_string();
    let away = holiday(&app, host, &m.tea.token, &m.tea.vendor, json!(until)).await;
    assert_eq!(away.status, 200, "{}", away.text);

    // The product page says so, with the day the vendor is back; the product stays listed,
    // with the same notice.
    app.settle().await;
    let shown = product_page(&app, host, &m.tea.vendor).await;
    assert_eq!(shown.status, 200, "{}", shown.text);
    assert_eq!(
        shown.body["vendor_away"],
        json!({
            "code": "vendor_on_holiday",
            "message": format!("this vendor is on holiday and takes orders again on {back}"),
            "back_on": back,
        })
    );
    let listed = app
        .client
        .get(
            host,
            &format!("/api/v1/products?vendor_id={}", m.tea.vendor),
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        listed.body["data"][0]["vendor_away"],
        shown.body["vendor_away"]
    );

    // Merchant staff cannot hold its stock in inventory either: refused, naming the line
    // and the day, and nothing is held.
    inventory_says(&app, &m.shop, tea, "vendor_on_holiday").await;
    let refused = reserve(&app, &m.shop, tea, 1).await;
    assert_eq!(refused.status, 409, "{}", refused.text);
    assert_eq!(refused.str("code"), "vendor_on_holiday");
    assert_eq!(refused.body["errors"][0]["field"], "/lines/0/variant_id");
    assert!(refused.text.contains(&back), "{}", refused.text);
    let tea_stock = stock(&app, &m.shop, tea).await;
    assert_eq!(
        (&tea_stock["on_hand"], &tea_stock["reserved"]),
        (&json!(10), &json!(0))
    );

    // The shop's other vendor: no notice, its stock held as usual.
    assert_eq!(
        product_page(&app, host, &m.pots.vendor).await.body["vendor_away"],
        Value::Null
    );
    let held = reserve(&app, &m.shop, pot, 1).await;
    assert_eq!(held.status, 201, "{}", held.text);
    assert_eq!(stock(&app, &m.shop, pot).await["reserved"], 1);
    // The other shop: no notice, its stock held as usual.
    let far_page = product_page(&app, &elsewhere.host, &far.vendor).await;
    assert_eq!(far_page.status, 200, "{}", far_page.text);
    assert_eq!(far_page.body["vendor_away"], Value::Null);
    let held = reserve(&app, &elsewhere, &far.variants[0], 1).await;
    assert_eq!(held.status, 201, "{}", held.text);

    // Back from holiday: the notice goes and its stock is held again.
    let home = holiday(&app, host, &m.tea.token, &m.tea.vendor, Value::Null).await;
    assert_eq!(home.status, 200, "{}", home.text);
    app.settle().await;
    let shown = product_page(&app, host, &m.tea.vendor).await;
    assert_eq!(shown.status, 200, "{}", shown.text);
    assert_eq!(shown.body["vendor_away"], Value::Null);
    inventory_says(&app, &m.shop, tea, "insufficient_stock").await;
    let held = reserve(&app, &m.shop, tea, 1).await;
    assert_eq!(held.status, 201, "{}", held.text);
    assert_eq!(stock(&app, &m.shop, tea).await["reserved"], 1);
}
on_embedded_and_real!(a_vendor_on_holiday_shows_a_notice_and_holds_no_stock);

//! A vendor that is away sells nothing: on holiday (the shopper is told the day it is back)
//! or suspended, its lines are refused when added to a cart and at checkout, and no stock is
//! held for them. Only its own staff set its holiday.

use super::*;
use crate::on_all_backends;
use crate::support::{Backend, eventually};

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
    let seen = eventually(
        "orders know the vendor is away",
        || async {
            app.client
                .get(host, &format!("/api/v1/carts/{before}"), None)
                .await
                .unwrap()
        },
        |reply| reply.body["lines"][0]["problem"]["code"] == "vendor_on_holiday",
    )
    .await;
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
    eventually(
        "orders know the vendor is back",
        || async {
            app.client
                .get(host, &format!("/api/v1/carts/{before}"), None)
                .await
                .unwrap()
        },
        |reply| reply.body["lines"][0]["problem"].is_null(),
    )
    .await;
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
    eventually(
        "orders know the vendor is suspended",
        || async {
            app.client
                .get(host, &format!("/api/v1/carts/{later}"), None)
                .await
                .unwrap()
        },
        |reply| reply.body["lines"][0]["problem"]["code"] == "vendor_not_selling",
    )
    .await;
    let refused = checkout(&app, host, "k-suspended", &checkout_body(&later, PAYS)).await;
    assert_eq!(refused.status, 409, "{}", refused.text);
    assert_eq!(refused.str("code"), "vendor_not_selling");
    let fresh = cart(&app, host, &[(pot, 1)]).await.str("id");
    let added = add(&app, host, &fresh, tea).await;
    assert_eq!(added.status, 409, "{}", added.text);
    assert_eq!(added.str("code"), "vendor_not_selling");
}
on_all_backends!(a_vendor_away_takes_no_orders);

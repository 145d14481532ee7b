//! Retention end to end: the orders service's sweep forgets a checkout key once it is older
//! than its window. Within the window a retry with the key replays the order; after it the
//! retry finds the cart already ordered and gets 409 `cart_closed`, never a second order.
//! (The purges themselves, row by row on SQLite and PostgreSQL, are tested in
//! `platform/events` and `platform/jobs`, and inventory's in `services/inventory`.)

use super::*;
use crate::on_embedded_and_real;
use crate::support::{Backend, TestApp, eventually};

async fn a_checkout_key_replays_until_the_sweep_forgets_it(backend: Backend, test: &str) {
    let Some(app) = TestApp::spawn_with(backend, test, |config| {
        config.gateway.enforce_rate_limits = false;
        // Keys kept for 3 seconds, swept every second: long enough for the replay below,
        // short enough to watch the key go.
        config.orders.retention.checkout_keys_secs = 3;
        config.orders.retention.sweep_interval_secs = 1;
    })
    .await
    else {
        return;
    };
    let m = market(&app).await;
    let host = m.host();
    let tea = m.tea.variants[0].as_str();
    let c = cart(&app, host, &[(tea, 2)]).await.str("id");
    let body = checkout_body(&c, PAYS);

    let placed = checkout(&app, host, "k-kept", &body).await;
    assert_eq!(placed.status, 201, "{}", placed.text);
    let order = placed.str("id");
    let replay = checkout(&app, host, "k-kept", &body).await;
    assert_eq!(replay.status, 200, "{}", replay.text);
    assert_eq!(replay.str("id"), order);
    assert_eq!(replay.headers.get("idempotent-replayed").unwrap(), "true");

    // Replays until the sweep forgets the key; then the same retry finds the cart closed.
    let forgotten = eventually(
        "the checkout key purged",
        || checkout(&app, host, "k-kept", &body),
        |reply| reply.status != 200,
    )
    .await;
    assert_eq!(forgotten.status, 409, "{}", forgotten.text);
    assert_eq!(forgotten.str("code"), "cart_closed");
    // Still the one order: the forgotten key made nothing new.
    let orders = app
        .client
        .get(host, "/api/v1/orders", Some(&m.shop.owner))
        .await
        .unwrap();
    assert_eq!(orders.status, 200, "{}", orders.text);
    assert_eq!(
        crate::support::ids(&orders.body),
        [order],
        "{}",
        orders.text
    );
}

on_embedded_and_real!(a_checkout_key_replays_until_the_sweep_forgets_it);

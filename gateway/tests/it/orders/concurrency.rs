//! A hundred shoppers check out at once for the last ten units: exactly ten orders are
//! placed and paid, the others are refused with nothing held, and no unit is sold twice.

use super::*;
use crate::support::Backend;
use crate::{on_all_backends, on_embedded_and_real};

async fn concurrent_checkouts_for_the_last_units_never_oversell(backend: Backend, test: &str) {
    let Some(app) = crate::catalog::spawn(backend, test).await else {
        return;
    };
    let m = market(&app).await;
    let host = m.host().to_owned();
    let tea = m.tea.variants[0].clone();
    // Every shopper has a cart with one unit before anyone checks out.
    let mut carts = Vec::new();
    for _ in 0..100 {
        carts.push(cart(&app, &host, &[(&tea, 1)]).await.str("id"));
    }
    let checkouts = carts
        .iter()
        .enumerate()
        .map(|(i, c)| (format!("buyer-{i}"), checkout_body(c, PAYS)))
        .collect();
    let replies = at_once(&app, &host, checkouts).await;
    let mut paid = Vec::new();
    for reply in replies {
        match reply.status {
            201 => {
                assert_eq!(reply.str("status"), "paid", "{}", reply.text);
                paid.push(reply.str("id"));
            }
            // Refused for want of stock: by inventory's hold, or, once the sold-out level
            // has reached orders' stock mirror, already by the checkout's price.
            409 => assert!(
                reply.str("code") == "insufficient_stock"
                    || (reply.str("code") == "cart_not_ready"
                        && reply.text.contains("insufficient_stock")),
                "{}",
                reply.text
            ),
            _ => panic!("unexpected reply: {} {}", reply.status, reply.text),
        }
    }
    assert_eq!(paid.len(), 10, "exactly the ten units were sold");
    app.settle().await;
    let sold = stock(&app, &m.shop, &tea).await;
    assert!(
        sold["reserved"] == 0 && sold["on_hand"] == 0,
        "every sale committed: {sold:?}"
    );
    assert_eq!(sold["available"], 0);
    let orders = app
        .client
        .get(&host, "/api/v1/orders?limit=200", Some(&m.shop.owner))
        .await
        .unwrap();
    assert_eq!(
        orders.body["data"].as_array().unwrap().len(),
        10,
        "{}",
        orders.text
    );
}
on_all_backends!(concurrent_checkouts_for_the_last_units_never_oversell);

/// Sends every `(Idempotency-Key, body)` to `POST /api/v1/checkout` at once; the replies in
/// the same order.
async fn at_once(app: &TestApp, host: &str, checkouts: Vec<(String, Value)>) -> Vec<Reply> {
    let tasks: Vec<_> = checkouts
        .into_iter()
        .map(|(key, body)| {
            let (client, host) = (app.client.clone(), host.to_owned());
            tokio::spawn(async move {
                let body = serde_json::to_vec(&body).unwrap();
                let headers = [
                    ("content-type", "application/json"),
                    ("idempotency-key", key.as_str()),
                ];
                client
                    .send_raw("POST", &host, "/api/v1/checkout", &headers, body)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut replies = Vec::new();
    for task in tasks {
        replies.push(task.await.unwrap());
    }
    replies
}

async fn one_key_sent_at_once_places_one_order(backend: Backend, test: &str) {
    let Some(app) = crate::catalog::spawn(backend, test).await else {
        return;
    };
    let m = market(&app).await;
    let host = m.host().to_owned();
    let tea = m.tea.variants[0].clone();

    // The same checkout four times at once: one order, and every reply is it.
    let c = cart(&app, &host, &[(&tea, 1)]).await.str("id");
    let same = ("twice".to_owned(), checkout_body(&c, PAYS));
    let replies = at_once(&app, &host, vec![same; 4]).await;
    let placed: Vec<&Reply> = replies.iter().filter(|r| r.status == 201).collect();
    assert_eq!(
        placed.len(),
        1,
        "{:?}",
        replies.iter().map(|r| &r.text).collect::<Vec<_>>()
    );
    let order = placed[0].str("id");
    for reply in &replies {
        assert!(matches!(reply.status, 200 | 201), "{}", reply.text);
        assert_eq!(reply.str("id"), order, "{}", reply.text);
    }

    // One key sent by two guests (two carts) at once: a key is its caller's own, so each
    // gets their own order.
    let a = cart(&app, &host, &[(&tea, 1)]).await.str("id");
    let b = cart(&app, &host, &[(&tea, 2)]).await.str("id");
    let key = "shared".to_owned();
    let replies = at_once(
        &app,
        &host,
        vec![
            (key.clone(), checkout_body(&a, PAYS)),
            (key, checkout_body(&b, PAYS)),
        ],
    )
    .await;
    let statuses: Vec<u16> = replies.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        [201, 201],
        "{:?}",
        replies.iter().map(|r| &r.text).collect::<Vec<_>>()
    );
    assert_ne!(replies[0].str("id"), replies[1].str("id"));

    // Only the three orders' units are gone; nothing is still held.
    app.settle().await;
    let s = stock(&app, &m.shop, &tea).await;
    assert!(
        s["reserved"] == 0 && s["on_hand"] == 10 - 4,
        "every sale committed: {s:?}"
    );
    let orders = app
        .client
        .get(&host, "/api/v1/orders", Some(&m.shop.owner))
        .await
        .unwrap();
    assert_eq!(
        orders.body["data"].as_array().unwrap().len(),
        3,
        "{}",
        orders.text
    );
}
on_embedded_and_real!(one_key_sent_at_once_places_one_order);

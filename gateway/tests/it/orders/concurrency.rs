//! A hundred shoppers check out at once for the last ten units: exactly ten orders are
//! placed and paid, the others are refused with nothing held, and no unit is sold twice.

use super::*;
use crate::on_all_backends;
use crate::support::{Backend, eventually};

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
    let mut tasks = Vec::new();
    for (i, c) in carts.into_iter().enumerate() {
        let (client, host) = (app.client.clone(), host.clone());
        tasks.push(tokio::spawn(async move {
            let body = serde_json::to_vec(&checkout_body(&c, PAYS)).unwrap();
            client
                .send_raw(
                    "POST",
                    &host,
                    "/api/v1/checkout",
                    &[
                        ("content-type", "application/json"),
                        ("idempotency-key", &format!("buyer-{i}")),
                    ],
                    body,
                )
                .await
                .unwrap()
        }));
    }
    let mut paid = Vec::new();
    for task in tasks {
        let reply = task.await.unwrap();
        match reply.status {
            201 => {
                assert_eq!(reply.str("status"), "paid", "{}", reply.text);
                paid.push(reply.str("id"));
            }
            409 => assert_eq!(reply.str("code"), "insufficient_stock", "{}", reply.text),
            _ => panic!("unexpected reply: {} {}", reply.status, reply.text),
        }
    }
    assert_eq!(paid.len(), 10, "exactly the ten units were sold");
    let sold = eventually(
        "every sale committed",
        || stock(&app, &m.shop, &tea),
        |s| s["reserved"] == 0 && s["on_hand"] == 0,
    )
    .await;
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

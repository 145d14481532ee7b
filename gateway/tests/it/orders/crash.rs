//! A crash in the middle of a checkout load loses nothing. Forty guests check out at once,
//! each with their own cart (tea and a teapot, two vendors) and `Idempotency-Key`; once a few
//! orders are placed, the services process of the split shape is killed with SIGKILL and
//! started again with the same configuration. Every checkout that got no answer is retried
//! with its key and gets its order, placed once. Once the orders the crash left unpaid have
//! expired: every order is paid (its vendor orders to fulfil) or expired, paid once and never
//! keeping money it should not; inventory committed exactly the paid units and released the
//! rest (each `order.paid` and `order.expired` reached it). A hold the kill left without an
//! order (between an attempt's hold and its order) keeps its units until it expires, as ADR
//! 0016 has it; then nothing is held, no unit was sold twice, and catalog and orders show
//! the final stock. Only the split shape has a process to kill, so only it runs this.

use super::*;
use crate::support::Backend;
use mercato_testkit::Client;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const SHOPPERS: usize = 40;
/// Units of each variant: more than the load buys, so every checkout can be placed.
const STOCK: i64 = 100;
const TEA_EACH: i64 = 2;
const POTS_EACH: i64 = 1;
/// Checkouts answered before the kill.
const PLACED_BEFORE_KILL: usize = 6;
/// How long an unpaid order lives: the ones the crash cut off before payment expire soon.
const ORDER_TTL_SECS: i64 = 3;
/// Orders holds stock this much longer than the order lives: a fifth more, at least 5 s
/// (ADR 0016).
const HOLD_MARGIN_SECS: i64 = 5;
/// Bounds every wait after the restart: jobs the killed process had claimed are taken over
/// only when their lease runs out (orders' expiry: 60 s).
const SETTLE: Duration = Duration::from_secs(180);

/// Polls `probe` every half second until `check` holds, for up to `within`; then fails with
/// the last value and the processes' logs.
async fn settled<T, F, Fut>(
    app: &TestApp,
    what: &str,
    within: Duration,
    mut probe: F,
    check: impl Fn(&T) -> bool,
) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = T>,
    T: std::fmt::Debug,
{
    let deadline = Instant::now() + within;
    loop {
        let value = probe().await;
        if check(&value) {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}: last {value:#?}\n{}",
            app.process_logs()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn send_checkout(client: &Client, host: &str, key: &str, body: &Value) -> Reply {
    client
        .send_raw(
            "POST",
            host,
            "/api/v1/checkout",
            &[
                ("content-type", "application/json"),
                ("idempotency-key", key),
            ],
            serde_json::to_vec(body).unwrap(),
        )
        .await
        .unwrap()
}

/// An answer that says nothing about the checkout: the services were down or busy.
fn no_answer(reply: &Reply) -> bool {
    reply.status >= 500 || (reply.status == 409 && reply.str("code") == "checkout_in_progress")
}

/// Every order as the merchant sees it.
async fn all_orders(app: &TestApp, shop: &Shop) -> Vec<Value> {
    let reply = app
        .client
        .get(&shop.host, "/api/v1/orders?limit=200", Some(&shop.owner))
        .await
        .unwrap();
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.body["data"].as_array().unwrap().clone()
}

/// `order[key]` for each of the order's vendor orders.
fn vendor_order_field<'a>(order: &'a Value, key: &str) -> Vec<&'a str> {
    order["vendor_orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v[key].as_str().unwrap_or_default())
        .collect()
}

/// The sum of `items[*].amount.amount` over the items whose `status` is `status`.
fn total(items: &Value, status: &str) -> i64 {
    items
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["status"] == status)
        .map(|i| i["amount"]["amount"].as_i64().unwrap())
        .sum()
}

/// Units of `variant` over the orders' lines.
fn units(orders: &[&Value], variant: &str) -> i64 {
    orders
        .iter()
        .flat_map(|o| o["vendor_orders"].as_array().unwrap())
        .flat_map(|v| v["lines"].as_array().unwrap())
        .filter(|l| l["variant_id"] == variant)
        .map(|l| l["quantity"].as_i64().unwrap())
        .sum()
}

/// Inventory's holds seen against the orders placed.
#[derive(Debug)]
struct Holds {
    /// `(on_hand, reserved)` of the tea and of the teapot.
    tea: (Option<i64>, Option<i64>),
    pot: (Option<i64>, Option<i64>),
    /// Orders whose hold is not where their status puts it (paid: committed; expired:
    /// released), with the holds they have.
    wrong: Vec<String>,
    /// Holds no order owns: checkout attempts cut off between the hold and the order.
    orphans: Vec<Value>,
}

async fn holds(app: &TestApp, shop: &Shop, orders: &[Value], tea: &str, pot: &str) -> Holds {
    let list = app
        .client
        .get(
            &shop.host,
            "/api/v1/reservations?limit=200",
            Some(&shop.owner),
        )
        .await
        .unwrap();
    assert_eq!(list.status, 200, "{}", list.text);
    let all = list.body["data"].as_array().unwrap();
    let mut wrong = Vec::new();
    for order in orders {
        let (id, status) = (&order["id"], &order["status"]);
        let want = if status == "paid" {
            "committed"
        } else {
            "released"
        };
        let have: Vec<&str> = all
            .iter()
            .filter(|r| r["reference"] == *id)
            .map(|r| r["status"].as_str().unwrap())
            .collect();
        if have != [want] {
            wrong.push(format!("{id} ({status}): holds {have:?}"));
        }
    }
    let orphans = all
        .iter()
        .filter(|r| !orders.iter().any(|o| o["id"] == r["reference"]))
        .cloned()
        .collect();
    let of = |s: Value| (s["on_hand"].as_i64(), s["reserved"].as_i64());
    Holds {
        tea: of(stock(app, shop, tea).await),
        pot: of(stock(app, shop, pot).await),
        wrong,
        orphans,
    }
}

/// Units of `variant` the active holds among `holds` keep.
fn held(holds: &[Value], variant: &str) -> i64 {
    holds
        .iter()
        .filter(|r| r["status"] == "active")
        .flat_map(|r| r["lines"].as_array().unwrap())
        .filter(|l| l["variant_id"] == variant)
        .map(|l| l["quantity"].as_i64().unwrap())
        .sum()
}

/// Catalog's public `available` for a SKU.
async fn catalog_available(app: &TestApp, host: &str, sku: &str) -> Option<i64> {
    let list = app
        .client
        .get(host, "/api/v1/products?limit=200", None)
        .await
        .unwrap();
    list.body["data"].as_array()?.iter().find_map(|p| {
        p["variants"]
            .as_array()?
            .iter()
            .find(|v| v["sku"] == sku)
            .and_then(|v| v["available"].as_i64())
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_mid_checkout_loses_no_order_no_event_and_no_unit() {
    let test = "orders::crash::a_crash_mid_checkout_loses_no_order_no_event_and_no_unit";
    let Some(mut app) = TestApp::spawn_with(Backend::Split, test, |config| {
        config.gateway.enforce_rate_limits = false;
    })
    .await
    else {
        return;
    };
    let admin = app.admin_token().await;
    let shop = app.shop(&admin, "growth").await;
    let host = shop.host.clone();
    let tea_seller = seller(
        &app,
        &shop,
        "Nordic Tea",
        "Sencha",
        &[("SEN-50", 1250)],
        STOCK,
        json!({ "shipping_flat_rate": eur(490) }),
    )
    .await;
    let pot_seller = seller(
        &app,
        &shop,
        "Clay Works",
        "Kyusu",
        &[("KYU-1", 3900)],
        STOCK,
        json!({ "shipping_flat_rate": eur(500) }),
    )
    .await;
    let (tea, pot) = (
        tea_seller.variants[0].clone(),
        pot_seller.variants[0].clone(),
    );
    let settings = app
        .client
        .send(
            "PUT",
            &host,
            "/api/v1/order-settings",
            Some(&shop.owner),
            Some(&json!({
                "prices_include_tax": false, "order_ttl_secs": ORDER_TTL_SECS,
                "cart_idle_secs": 86400, "cancel_window_secs": 3600, "vendor_refunds": false
            })),
        )
        .await
        .unwrap();
    assert_eq!(settings.status, 200, "{}", settings.text);
    let mut checkouts = Vec::new();
    for i in 0..SHOPPERS {
        let c = cart(&app, &host, &[(&tea, TEA_EACH), (&pot, POTS_EACH)]).await;
        checkouts.push((format!("crash-{i}"), checkout_body(&c.str("id"), PAYS)));
    }

    // The load, spread over a second so the kill finds checkouts at every step.
    let load_started = Instant::now();
    let placed = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for (delay, (key, body)) in (0u64..).zip(&checkouts) {
        let (client, host, placed) = (app.client.clone(), host.clone(), placed.clone());
        let (key, body) = (key.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(25 * delay)).await;
            let reply = send_checkout(&client, &host, &key, &body).await;
            if reply.status == 201 {
                placed.fetch_add(1, Ordering::SeqCst);
            }
            reply
        }));
    }
    while placed.load(Ordering::SeqCst) < PLACED_BEFORE_KILL {
        assert!(
            load_started.elapsed() < Duration::from_secs(60),
            "too few checkouts placed before the kill: {placed:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let placed_before_kill = placed.load(Ordering::SeqCst);
    app.restart_services().await;
    let restarted_after = load_started.elapsed();
    let mut first = Vec::new();
    for task in tasks {
        first.push(task.await.unwrap());
    }

    // Every checkout without an answer, again with its key, until it has one.
    let mut answers = Vec::new();
    // What each retried key was answered, in turn: how the crash met the checkouts.
    let mut trails = Vec::new();
    for ((key, body), reply) in checkouts.iter().zip(first) {
        let mut reply = reply;
        let mut trail = vec![reply.status.to_string()];
        let deadline = Instant::now() + Duration::from_secs(60);
        while no_answer(&reply) && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(200)).await;
            reply = send_checkout(&app.client, &host, key, body).await;
            trail.push(format!("{} {}", reply.status, reply.str("status")));
        }
        if trail.len() > 1 {
            trails.push(format!("{key}: {}", trail.join(" → ")));
        }
        answers.push(reply);
    }
    eprintln!("checkouts retried after the crash:\n{}", trails.join("\n"));
    let refused: Vec<String> = checkouts
        .iter()
        .zip(&answers)
        .filter(|(_, r)| !matches!(r.status, 200 | 201))
        .map(|((key, _), r)| format!("{key}: {} {}", r.status, r.text))
        .collect();
    assert!(
        refused.is_empty(),
        "with stock for everyone, every checkout retried with its key must give its order; \
         these did not:\n{}\n{}",
        refused.join("\n"),
        app.process_logs()
    );
    // One order per key, and the key keeps giving that order.
    let mut by_key = BTreeMap::new();
    for ((key, body), answer) in checkouts.iter().zip(&answers) {
        let order = answer.str("id");
        let replay = send_checkout(&app.client, &host, key, body).await;
        assert_eq!(replay.status, 200, "{key}: {}", replay.text);
        assert_eq!(replay.str("id"), order, "{key} gave two orders");
        by_key.insert(key.clone(), order);
    }
    let ordered: BTreeSet<&String> = by_key.values().collect();
    assert_eq!(
        ordered.len(),
        SHOPPERS,
        "two keys gave one order: {by_key:?}"
    );

    // Unpaid orders expire; nothing stays pending.
    let orders = settled(
        &app,
        "every order paid or expired",
        SETTLE,
        || all_orders(&app, &shop),
        |orders| {
            orders
                .iter()
                .all(|o| o["status"] == "paid" || o["status"] == "expired")
        },
    )
    .await;
    let listed: BTreeSet<&str> = orders.iter().map(|o| o["id"].as_str().unwrap()).collect();
    let keyed: BTreeSet<&str> = by_key.values().map(String::as_str).collect();
    assert_eq!(
        listed, keyed,
        "the shop lists exactly the orders of the keys"
    );
    let paid: Vec<&Value> = orders.iter().filter(|o| o["status"] == "paid").collect();
    let expired: Vec<&Value> = orders.iter().filter(|o| o["status"] == "expired").collect();
    for order in &paid {
        let id = &order["id"];
        assert_eq!(
            vendor_order_field(order, "status"),
            ["to_fulfil", "to_fulfil"],
            "{id}"
        );
        let succeeded = order["payments"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["status"] == "succeeded")
            .count();
        assert_eq!(succeeded, 1, "{id} paid once: {:#}", order["payments"]);
        assert_eq!(
            total(&order["payments"], "succeeded"),
            order["total"]["amount"]
        );
    }
    for order in &expired {
        let id = &order["id"];
        assert_eq!(
            vendor_order_field(order, "status"),
            ["cancelled", "cancelled"],
            "{id}"
        );
    }
    let (paid_tea, paid_pots) = (units(&paid, &tea), units(&paid, &pot));
    assert_eq!(paid_tea, TEA_EACH * i64::try_from(paid.len()).unwrap());
    assert_eq!(paid_pots, POTS_EACH * i64::try_from(paid.len()).unwrap());

    // order.paid committed each paid order's units, once; order.expired gave the rest back.
    // A checkout attempt the kill cut off between its hold and its order leaves a hold that
    // no order owns: it only ends when it expires (ADR 0016).
    let holds_now = || holds(&app, &shop, &orders, &tea, &pot);
    let settled_holds = settled(
        &app,
        "the stock committed and released",
        SETTLE,
        holds_now,
        |h| {
            h.wrong.is_empty()
                && h.tea == (Some(STOCK - paid_tea), Some(held(&h.orphans, &tea)))
                && h.pot == (Some(STOCK - paid_pots), Some(held(&h.orphans, &pot)))
        },
    )
    .await;
    let mut last_expiry = chrono::Utc::now();
    for orphan in &settled_holds.orphans {
        let at = |field: &str| -> chrono::DateTime<chrono::Utc> {
            orphan[field].as_str().unwrap().parse().unwrap()
        };
        assert_eq!(orphan["created_by"], "svc_orders", "{orphan:#}");
        assert!(
            at("expires_at") - at("created_at")
                <= chrono::TimeDelta::seconds(ORDER_TTL_SECS + HOLD_MARGIN_SECS),
            "a hold no order owns lasts no longer than an order's: {orphan:#}"
        );
        last_expiry = last_expiry.max(at("expires_at"));
    }
    // Then nothing is held any more, and nothing was sold twice.
    let until_expired = (last_expiry - chrono::Utc::now())
        .to_std()
        .unwrap_or_default();
    settled(
        &app,
        "every hold ended",
        until_expired + Duration::from_secs(60),
        holds_now,
        |h| {
            h.wrong.is_empty()
                && h.orphans.iter().all(|r| r["status"] != "active")
                && h.tea == (Some(STOCK - paid_tea), Some(0))
                && h.pot == (Some(STOCK - paid_pots), Some(0))
        },
    )
    .await;

    // Money: an expired order keeps none (a payment that succeeded anyway is refunded).
    let kept = settled(
        &app,
        "payments of expired orders refunded",
        SETTLE,
        || async {
            let orders = all_orders(&app, &shop).await;
            orders
                .iter()
                .filter(|o| o["status"] == "expired")
                .map(|o| {
                    let taken = total(&o["payments"], "succeeded");
                    let given_back = total(&o["refunds"], "succeeded");
                    (o["id"].as_str().unwrap().to_owned(), taken - given_back)
                })
                .filter(|(_, kept)| *kept != 0)
                .collect::<Vec<_>>()
        },
        Vec::is_empty,
    )
    .await;
    assert!(kept.is_empty());

    // stock.changed reached catalog's and orders' mirrors: both show what is left.
    for (variant, sku, left) in [
        (&tea, "SEN-50", STOCK - paid_tea),
        (&pot, "KYU-1", STOCK - paid_pots),
    ] {
        settled(
            &app,
            "catalog's stock",
            SETTLE,
            || catalog_available(&app, &host, sku),
            |available| *available == Some(left),
        )
        .await;
        settled(
            &app,
            "orders' stock",
            SETTLE,
            || async {
                let reply = app
                    .client
                    .post(
                        &host,
                        "/api/v1/carts",
                        None,
                        &json!({ "lines": [{ "variant_id": variant, "quantity": 1 }] }),
                    )
                    .await
                    .unwrap();
                reply.body["lines"][0]["available"].as_i64()
            },
            |available| *available == Some(left),
        )
        .await;
    }
    eprintln!(
        "crash test: {placed_before_kill} placed before the kill, services back after \
         {restarted_after:?}, {} checkouts retried; {} paid, {} expired, {} holds of cut-off \
         attempts; settled after {:?}",
        trails.len(),
        paid.len(),
        expired.len(),
        settled_holds.orphans.len(),
        load_started.elapsed()
    );
}

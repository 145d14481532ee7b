//! `mercato events republish`: a consumer that lost its copies (a new deployment, a table
//! rebuilt) gets them back from their owners, row for row, and nothing of another shop moves.

use crate::on_all_backends;
use crate::orders::market;
use crate::support::{Backend, TestApp};
use mercato_tenant_context::TenantId;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

on_all_backends!(a_wiped_mirror_comes_back_from_its_owners);

/// The mirror tables a consumer could lose and rebuild: all but catalog's vendors and
/// inventory's variants, which the service's own rows (products, stock levels) refer to.
const MIRRORS: &[(&str, &[&str])] = &[
    (
        "orders",
        &["catalog_variants", "vendors", "commission_rules", "stock"],
    ),
    ("catalog", &["stock"]),
    ("inventory", &["vendors"]),
];

/// The number of rows of each mirror table of `shop`, and of its commission tombstones.
async fn counts(app: &TestApp, shop: TenantId) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    for (service, tables) in MIRRORS {
        let db = app.service_db(service).await;
        let tx = db.tenant_tx(shop).await.unwrap();
        let mut queries: Vec<(String, String)> = tables
            .iter()
            .map(|t| {
                (
                    format!("{service}.{t}"),
                    format!("SELECT COUNT(*) FROM {t} WHERE tenant_id = $1"),
                )
            })
            .collect();
        if *service == "orders" {
            queries.push((
                "orders.commission_rules deleted".into(),
                "SELECT COUNT(*) FROM commission_rules WHERE tenant_id = $1 AND deleted".into(),
            ));
        }
        for (name, sql) in queries {
            let row = tx
                .query_one_raw(Statement::from_sql_and_values(
                    tx.get_database_backend(),
                    sql,
                    [shop.as_uuid().into()],
                ))
                .await
                .unwrap()
                .unwrap();
            out.push((name, row.try_get_by_index::<i64>(0).unwrap()));
        }
        drop(tx);
        db.close().await.unwrap();
    }
    out
}

/// Empties every mirror table of `shop`, as a consumer deployed today would find them.
async fn wipe(app: &TestApp, shop: TenantId) {
    for (service, tables) in MIRRORS {
        let db = app.service_db(service).await;
        let tx = db.tenant_tx(shop).await.unwrap();
        for table in *tables {
            tx.execute_raw(Statement::from_sql_and_values(
                tx.get_database_backend(),
                format!("DELETE FROM {table} WHERE tenant_id = $1"),
                [shop.as_uuid().into()],
            ))
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
        db.close().await.unwrap();
    }
}

/// `value` without what differs between two equal carts (ids, times).
fn stable(value: &Value) -> Value {
    match value {
        Value::Object(fields) => fields
            .iter()
            .filter(|(k, _)| !(k.as_str() == "id" || k.ends_with("_at")))
            .map(|(k, v)| (k.clone(), stable(v)))
            .collect::<serde_json::Map<_, _>>()
            .into(),
        Value::Array(items) => items.iter().map(stable).collect(),
        other => other.clone(),
    }
}

/// A guest's cart of one of each of the market's products to Germany, as its merchant sees
/// it: prices, stock, shipping, tax and commission, all from orders' mirrors.
async fn priced(app: &TestApp, host: &str, owner: &str, variants: &[&str]) -> (u16, Value) {
    let lines: Vec<Value> = variants
        .iter()
        .map(|v| json!({ "variant_id": v, "quantity": 1 }))
        .collect();
    let made = app
        .client
        .post(
            host,
            "/api/v1/carts",
            None,
            &json!({ "lines": lines, "country": "DE" }),
        )
        .await
        .unwrap();
    if made.status != 201 {
        return (made.status, made.body);
    }
    let seen = app
        .client
        .get(
            host,
            &format!("/api/v1/carts/{}", made.str("id")),
            Some(owner),
        )
        .await
        .unwrap();
    (seen.status, stable(&seen.body))
}

async fn a_wiped_mirror_comes_back_from_its_owners(backend: Backend, test: &str) {
    let Some(app) = TestApp::spawn(backend, test).await else {
        return;
    };
    let market = market(&app).await;
    let (host, owner) = (market.host().to_owned(), market.shop.owner.clone());
    let variants = [
        market.tea.variants[0].as_str(),
        market.pots.variants[0].as_str(),
    ];
    // A later rule at 50 %, deleted: were it mirrored back alive, it would win.
    let rule = app
        .client
        .post(
            &host,
            "/api/v1/commission-rules",
            Some(&owner),
            &json!({ "percent": "50" }),
        )
        .await
        .unwrap();
    assert_eq!(rule.status, 201, "{}", rule.text);
    let gone = app
        .client
        .delete(
            &host,
            &format!("/api/v1/commission-rules/{}", rule.str("id")),
            Some(&owner),
        )
        .await
        .unwrap();
    assert_eq!(gone.status, 204, "{}", gone.text);
    // Another shop, with a rule of its own.
    let admin = app.admin_token().await;
    let other = app.shop(&admin, "growth").await;
    let theirs = app
        .client
        .post(
            &other.host,
            "/api/v1/commission-rules",
            Some(&other.owner),
            &json!({ "percent": "20" }),
        )
        .await
        .unwrap();
    assert_eq!(theirs.status, 201, "{}", theirs.text);
    app.settle().await;

    let before = counts(&app, market.shop.id).await;
    assert!(before.iter().all(|(_, n)| *n > 0), "{before:?}");
    let others_before = counts(&app, other.id).await;
    let (status, view) = priced(&app, &host, &owner, &variants).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["lines"][0]["commission"]["amount"], 125, "{view}");

    // The copies are gone: orders cannot sell what it does not know.
    wipe(&app, market.shop.id).await;
    let (status, _) = priced(&app, &host, &owner, &variants).await;
    assert!((400..500).contains(&status), "{status}");

    for service in ["vendors", "catalog", "inventory"] {
        let said = app
            .run_cli(&["events", "republish", service, "--shop", &market.shop.slug])
            .await;
        assert!(said.contains(&market.shop.id.to_string()), "{said}");
        assert!(!said.contains(&other.id.to_string()), "{said}");
    }
    app.settle().await;
    assert_eq!(counts(&app, market.shop.id).await, before);
    assert_eq!(counts(&app, other.id).await, others_before);
    assert_eq!(
        priced(&app, &host, &owner, &variants).await,
        (200, view.clone())
    );

    // Every shop, once more: nothing changes, the other shop's copies included.
    app.run_cli(&["events", "republish", "vendors"]).await;
    app.settle().await;
    assert_eq!(counts(&app, market.shop.id).await, before);
    assert_eq!(counts(&app, other.id).await, others_before);
    assert_eq!(priced(&app, &host, &owner, &variants).await, (200, view));

    // A service that owns nothing mirrored is refused by name.
    let refused = tokio::process::Command::new(env!("CARGO_BIN_EXE_mercato"))
        .args(["events", "republish", "orders"])
        .env("MERCATO_DATA_DIR", &app.config.data_dir)
        .output()
        .await
        .unwrap();
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("vendors, catalog, inventory"), "{said}");
}

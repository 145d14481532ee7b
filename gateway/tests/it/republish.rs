//! `mercato events republish`: a consumer that lost its copies (a new deployment, a table
//! rebuilt) gets them back from their owners, row for row, and nothing of another shop moves.

use crate::on_all_backends;
use crate::orders::market;
use crate::support::{Backend, TestApp};
use mercato_events::MirrorTable;
use mercato_tenant_context::TenantId;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::{Value, json};

on_all_backends!(a_wiped_mirror_comes_back_from_its_owners);

/// The mirror tables a consumer could lose and rebuild: all but catalog's vendors and
/// inventory's variants, which the service's own rows (products, stock levels) refer to.
const MIRRORS: &[(&str, &[MirrorTable])] = &[
    (
        "orders",
        &[
            mercato_orders::repo::mirror::CATALOG_VARIANTS,
            mercato_orders::repo::mirror::VENDORS,
            mercato_orders::repo::mirror::COMMISSION_RULES,
            mercato_orders::repo::mirror::STOCK,
        ],
    ),
    ("catalog", &[mercato_catalog::repo::stock::TABLE]),
    ("inventory", &[mercato_inventory::repo::mirror::VENDORS]),
];

/// Every row of each mirror table of `shop`, by key: the key and each column an event sets
/// (as text), not the version, which a republish moves on.
async fn rows(app: &TestApp, shop: TenantId) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    for (service, tables) in MIRRORS {
        let db = app.service_db(service).await;
        let tx = db.tenant_tx(shop).await.unwrap();
        for table in *tables {
            // SQLite keeps UUIDs as blobs, which `quote` writes as hex.
            let text = |c: &str| match tx.get_database_backend() {
                DbBackend::Sqlite => format!("quote({c})"),
                _ => format!("COALESCE(CAST({c} AS TEXT), 'NULL')"),
            };
            let columns: Vec<String> = std::iter::once(table.key)
                .chain(table.columns.iter().copied())
                .map(text)
                .collect();
            let sql = format!(
                "SELECT {} FROM {} WHERE tenant_id = $1 ORDER BY {}",
                columns.join(", "),
                table.name,
                table.key
            );
            let found = tx
                .query_all_raw(Statement::from_sql_and_values(
                    tx.get_database_backend(),
                    sql,
                    [shop.as_uuid().into()],
                ))
                .await
                .unwrap();
            for row in found {
                let values = (0..columns.len())
                    .map(|i| row.try_get_by_index::<String>(i).unwrap())
                    .collect();
                out.push((format!("{service}.{}", table.name), values));
            }
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
                format!("DELETE FROM {} WHERE tenant_id = $1", table.name),
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

    let before = rows(&app, market.shop.id).await;
    for (service, tables) in MIRRORS {
        for table in *tables {
            let name = format!("{service}.{}", table.name);
            assert!(before.iter().any(|(t, _)| *t == name), "{name}: {before:?}");
        }
    }
    // The deleted rule is kept as a tombstone (`rule`, `deleted`), and comes back as one.
    assert!(
        before
            .iter()
            .any(|(t, values)| t == "orders.commission_rules"
                && ["true", "1"].contains(&values[2].as_str())),
        "{before:?}"
    );
    let others_before = rows(&app, other.id).await;
    assert!(!others_before.is_empty());
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
    assert_eq!(rows(&app, market.shop.id).await, before);
    assert_eq!(rows(&app, other.id).await, others_before);
    assert_eq!(
        priced(&app, &host, &owner, &variants).await,
        (200, view.clone())
    );

    // Every shop, once more: nothing changes, the other shop's copies included.
    app.run_cli(&["events", "republish", "vendors"]).await;
    app.settle().await;
    assert_eq!(rows(&app, market.shop.id).await, before);
    assert_eq!(rows(&app, other.id).await, others_before);
    assert_eq!(priced(&app, &host, &owner, &variants).await, (200, view));

    // A service that owns nothing mirrored is refused by name.
    let refused = tokio::process::Command::new(env!("CARGO_BIN_EXE_mercato"))
        .args(["events", "republish", "payouts"])
        .env("MERCATO_DATA_DIR", &app.config.data_dir)
        .output()
        .await
        .unwrap();
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains("vendors, catalog, inventory, orders"),
        "{said}"
    );
}

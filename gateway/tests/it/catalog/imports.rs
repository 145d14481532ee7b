//! CSV import and export: the file's shape is checked at once; rows are applied by a job
//! whose progress and per-row errors can be polled; a re-run changes nothing; an export
//! imports back unchanged; the plan's product limit holds.

use super::{catalog_knows, fields, listed, send_bytes};
use crate::support::{Backend, Shop, TestApp, eventually};
use crate::{on_all_backends, on_embedded_and_real};
use mercato_testkit::Reply;
use serde_json::{Value, json};

async fn upload(app: &TestApp, shop: &Shop, token: &str, query: &str, csv: &str) -> Reply {
    send_bytes(
        app,
        &shop.host,
        "POST",
        &format!("/api/v1/catalog/imports{query}"),
        token,
        "text/csv",
        csv.as_bytes().to_vec(),
    )
    .await
}

/// Waits for the import to finish and returns it.
async fn finished(app: &TestApp, shop: &Shop, token: &str, id: &str) -> Value {
    eventually(
        "the import to finish",
        || async {
            app.client
                .get(
                    &shop.host,
                    &format!("/api/v1/catalog/imports/{id}"),
                    Some(token),
                )
                .await
                .unwrap()
                .body
        },
        |body| body["status"] == "completed" || body["status"] == "failed",
    )
    .await
}

fn errors(import: &Value) -> Vec<(u64, String)> {
    import["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["row"].as_u64().unwrap(),
                e["column"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

const HEADER: &str = "product_slug,title,status,category,tags,attributes,option1_name,option1_value,sku,price,currency,compare_at_price,weight_grams";

async fn imports_report_progress_and_row_errors_and_rerun_idempotently(
    backend: Backend,
    test: &str,
) {
    let Some(app) = super::spawn(backend, test).await else {
        return;
    };
    let admin = app.admin_token().await;
    let shop = app.shop(&admin, "growth").await;
    let host = shop.host.as_str();
    let owner = shop.owner.as_str();
    let (vendor, seller) = app.approved_vendor(&shop, "Nordic Tea").await;
    catalog_knows(&app, &shop, &seller, &vendor).await;
    app.client
        .post(
            host,
            "/api/v1/categories",
            Some(owner),
            &json!({ "name": "Tea" }),
        )
        .await
        .unwrap();
    app.client
        .post(host, "/api/v1/attributes", Some(owner),
            &json!({ "code": "colour", "name": "Colour", "kind": "enum", "options": ["green", "black"] }))
        .await
        .unwrap();

    // A file of the wrong shape is refused at once, naming the columns.
    let wrong = upload(
        &app,
        &shop,
        &seller,
        &format!("?vendor_id={vendor}"),
        "slug,name,sku,sku\nx,y,z,z\n",
    )
    .await;
    assert_eq!(wrong.status, 422, "{}", wrong.text);
    assert_eq!(
        fields(&wrong),
        [
            "/columns/slug",
            "/columns/name",
            "/columns/sku",
            "/columns/product_slug",
            "/columns/title",
            "/columns/price",
            "/columns/currency"
        ],
        "{}",
        wrong.text
    );
    let empty = upload(
        &app,
        &shop,
        &seller,
        &format!("?vendor_id={vendor}"),
        &format!("{HEADER}\n"),
    )
    .await;
    assert_eq!(empty.status, 422, "{}", empty.text);
    let not_text = send_bytes(
        &app,
        host,
        "POST",
        &format!("/api/v1/catalog/imports?vendor_id={vendor}"),
        &seller,
        "text/csv",
        vec![0xff, 0xfe, 0x00],
    )
    .await;
    assert_eq!(not_text.status, 422, "{}", not_text.text);
    // A merchant's import over all vendors needs the vendor_id column.
    let no_vendor = upload(
        &app,
        &shop,
        owner,
        "",
        &format!("{HEADER}\na,A,,,,,,,A-1,1.00,EUR,,\n"),
    )
    .await;
    assert_eq!(
        (no_vendor.status, fields(&no_vendor)),
        (422, vec!["/columns/vendor_id".to_owned()]),
        "{}",
        no_vendor.text
    );

    // Good rows and bad ones: the good are applied, the bad listed by row and column.
    let csv = [
        HEADER,
        "sencha,Sencha,active,tea,green|japan,colour=green,size,50 g,SEN-50,6.50,EUR,,60",
        "sencha,,,,,,,100 g,SEN-100,11.50,EUR,13.00,110",
        "sencha,,,,,,,250 g,SEN-250,-1.00,EUR,,",
        "assam,Assam,draft,,,colour=black,,,ASM-1,4.999,EUR,,",
        "darjeeling,Darjeeling,active,coffee,,,,,DAR-1,8.00,EUR,,",
        "oolong,Oolong,active,,,,,,OOL-1,9.00,XYZ,,",
        "rooibos,Rooibos,active,,,colour=red,,,ROO-1,3.00,EUR,,",
        "matcha,Matcha,active,tea,,,,,MAT-1,15.00,EUR,12.00,",
        "genmaicha,Genmaicha,draft,tea,,,,,GEN-1,5.00,EUR,,",
        "hojicha,Hojicha,active,,,,,,SEN-50,5.00,EUR,,",
    ]
    .join("\n")
        + "\n";
    let started = upload(&app, &shop, &seller, &format!("?vendor_id={vendor}"), &csv).await;
    assert_eq!(started.status, 202, "{}", started.text);
    assert_eq!(started.str("status"), "queued");
    assert_eq!(started.body["total_rows"], 10);
    assert!(started.headers.get("location").is_some());
    let id = started.str("id");
    let done = finished(&app, &shop, &seller, &id).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["processed_rows"], 10, "{done}");
    assert_eq!(done["created_rows"], 3, "{done}");
    assert_eq!(done["failed_rows"], 7, "{done}");
    assert_eq!(
        errors(&done),
        vec![
            (4, "price".to_owned()),
            (5, "price".to_owned()),
            (6, "category".to_owned()),
            (7, "currency".to_owned()),
            (8, "attributes".to_owned()),
            (9, "compare_at_price".to_owned()),
            (11, "sku".to_owned()),
        ],
        "{done}"
    );
    let messages: Vec<&str> = done["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["message"].as_str())
        .collect();
    assert_eq!(messages[0], "must not be negative");
    assert_eq!(messages[1], "too many decimals for this currency");
    assert_eq!(messages[2], "no such category in this shop");

    // The applied rows are there: sencha on sale with two variants, genmaicha a draft.
    app.settle().await;
    let s = listed(&app, host, "").await;
    assert_eq!(s, ["sencha"], "the imported product on sale");
    let page = app
        .client
        .get(host, "/api/v1/products/sencha", None)
        .await
        .unwrap();
    assert_eq!(
        page.body["variants"].as_array().unwrap().len(),
        2,
        "{}",
        page.text
    );
    assert_eq!(
        page.body["variants"][1]["price"],
        json!({ "amount": 1150, "currency": "EUR" })
    );
    assert_eq!(page.body["variants"][1]["compare_at_price"]["amount"], 1300);
    assert_eq!(page.body["variants"][0]["options"]["size"], "50 g");
    assert_eq!(page.body["tags"], json!(["green", "japan"]));
    assert_eq!(page.body["category_path"][0]["slug"], "tea");

    // The same file again: nothing changes, and the report says so.
    let again = upload(&app, &shop, &seller, &format!("?vendor_id={vendor}"), &csv).await;
    let rerun = finished(&app, &shop, &seller, &again.str("id")).await;
    assert_eq!(rerun["status"], "completed", "{rerun}");
    assert_eq!(
        (rerun["created_rows"].clone(), rerun["updated_rows"].clone()),
        (json!(0), json!(0)),
        "{rerun}"
    );
    assert_eq!(rerun["unchanged_rows"], 3, "{rerun}");
    assert_eq!(rerun["failed_rows"], 7, "{rerun}");

    // A changed price is an update by SKU, not a new variant.
    let cheaper = csv.replace("SEN-100,11.50", "SEN-100,10.50");
    let third = upload(
        &app,
        &shop,
        &seller,
        &format!("?vendor_id={vendor}"),
        &cheaper,
    )
    .await;
    let changed = finished(&app, &shop, &seller, &third.str("id")).await;
    assert_eq!(
        (
            changed["created_rows"].clone(),
            changed["updated_rows"].clone(),
            changed["unchanged_rows"].clone()
        ),
        (json!(0), json!(1), json!(2)),
        "{changed}"
    );

    // The export is the same format and imports back unchanged.
    let export = app
        .client
        .get(
            host,
            &format!("/api/v1/catalog/export?vendor_id={vendor}"),
            Some(&seller),
        )
        .await
        .unwrap();
    assert_eq!(export.status, 200, "{}", export.text);
    assert!(
        export.content_type().starts_with("text/csv"),
        "{}",
        export.content_type()
    );
    assert_eq!(export.text.lines().count(), 4, "{}", export.text);
    assert!(
        export.text.contains("SEN-100") && export.text.contains("10.50"),
        "{}",
        export.text
    );
    let back = upload(
        &app,
        &shop,
        &seller,
        &format!("?vendor_id={vendor}"),
        &export.text,
    )
    .await;
    assert_eq!(back.status, 202, "{}", back.text);
    let reimported = finished(&app, &shop, &seller, &back.str("id")).await;
    assert_eq!(
        (
            reimported["unchanged_rows"].clone(),
            reimported["failed_rows"].clone()
        ),
        (json!(3), json!(0)),
        "{reimported}"
    );
    // The merchant's export covers every vendor.
    let everything = app
        .client
        .get(host, "/api/v1/catalog/export", Some(owner))
        .await
        .unwrap();
    assert_eq!(everything.status, 200, "{}", everything.text);
    assert!(everything.text.contains(&vendor), "{}", everything.text);
}
on_all_backends!(imports_report_progress_and_row_errors_and_rerun_idempotently);

async fn the_plan_limits_products(backend: Backend, test: &str) {
    let Some(app) = super::spawn(backend, test).await else {
        return;
    };
    let admin = app.admin_token().await;
    let shop = app.shop(&admin, "free").await;
    let limit = shop.body["limits"]["products"].as_u64().unwrap();
    let (vendor, seller) = app.approved_vendor(&shop, "Tiny Shop").await;
    catalog_knows(&app, &shop, &seller, &vendor).await;
    // A merchant's import over all vendors, one row per product, one more than the plan allows.
    let mut csv = "vendor_id,product_slug,title,sku,price,currency\n".to_owned();
    for i in 0..=limit {
        csv.push_str(&format!("{vendor},item-{i},Item {i},ITEM-{i},1.00,EUR\n"));
    }
    let started = upload(&app, &shop, &shop.owner, "", &csv).await;
    assert_eq!(started.status, 202, "{}", started.text);
    let done = finished(&app, &shop, &shop.owner, &started.str("id")).await;
    assert_eq!(done["created_rows"].as_u64(), Some(limit), "{done}");
    assert_eq!(done["failed_rows"], 1, "{done}");
    assert_eq!(
        errors(&done),
        vec![(limit + 2, "product_slug".to_owned())],
        "{done}"
    );
    let over = super::create(
        &app,
        &shop,
        &seller,
        &super::product(&vendor, "One More", &[("MORE-1", 100)]),
    )
    .await;
    assert_eq!(
        (over.status, over.str("code").as_str()),
        (402, "plan_limit_exceeded"),
        "{}",
        over.text
    );
}
on_embedded_and_real!(the_plan_limits_products);

async fn the_cli_imports_a_file_into_a_running_shop(backend: Backend, test: &str) {
    let mut config = None;
    let Some(app) = TestApp::spawn_with(backend, test, |c| {
        c.gateway.enforce_rate_limits = false;
        config = Some(c.clone());
    })
    .await
    else {
        return;
    };
    let config = config.unwrap();
    let admin = app.admin_token().await;
    let shop = app.shop(&admin, "growth").await;
    let (vendor, seller) = app.approved_vendor(&shop, "Command Line Tea").await;
    catalog_knows(&app, &shop, &seller, &vendor).await;
    let dir = tempfile::tempdir().unwrap();
    let config_file = dir.path().join("mercato.toml");
    std::fs::write(&config_file, toml::to_string(&config).unwrap()).unwrap();
    let csv_file = dir.path().join("products.csv");
    std::fs::write(
        &csv_file,
        "product_slug,title,status,option1_name,option1_value,sku,price,currency\n\
         cli-green,CLI Green,active,size,50 g,CLI-1,3.50,EUR\n\
         cli-green,,,,100 g,CLI-2,6.00,EUR\n\
         cli-black,CLI Black,active,,,CLI-3,-1,EUR\n",
    )
    .unwrap();
    let run = |shop_ref: String| {
        let (config_file, csv_file, vendor) =
            (config_file.clone(), csv_file.clone(), vendor.clone());
        async move {
            tokio::process::Command::new(env!("CARGO_BIN_EXE_mercato"))
                .arg("--config")
                .arg(&config_file)
                .args(["import", "products"])
                .arg(&csv_file)
                .args(["--shop", &shop_ref, "--vendor", &vendor])
                .env("MERCATO_LOG__FILTER", "warn")
                .output()
                .await
                .unwrap()
        }
    };
    let first = run(shop.slug.clone()).await;
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert!(first.status.success(), "{stderr}");
    assert!(
        stderr.contains("2 created") && stderr.contains("1 failed"),
        "{stderr}"
    );
    assert!(
        stderr.contains("row 4, price: must not be negative"),
        "{stderr}"
    );
    // Straight on sale (an operator's import needs no review), with both variants.
    let page = app
        .client
        .get(&shop.host, "/api/v1/products/cli-green", None)
        .await
        .unwrap();
    assert_eq!(page.status, 200, "{}", page.text);
    assert_eq!(page.body["variants"].as_array().unwrap().len(), 2);
    // Again, by the shop's id: nothing changes.
    let again = run(shop.id.to_string()).await;
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(again.status.success(), "{stderr}");
    assert!(
        stderr.contains("0 created, 0 updated, 2 unchanged"),
        "{stderr}"
    );
    // An unknown shop or vendor is a clear error.
    let unknown = run("no-such-shop".to_owned()).await;
    assert!(!unknown.status.success());
    assert!(
        String::from_utf8_lossy(&unknown.stderr).contains("no shop"),
        "{}",
        String::from_utf8_lossy(&unknown.stderr)
    );
}
on_all_backends!(the_cli_imports_a_file_into_a_running_shop);
